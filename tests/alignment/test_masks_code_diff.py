"""Target-DPO error-token masks: line diff -> tokens, across whitespace handling and prompts."""

import itertools

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from toolkit.alignment.masks import (
    changed_lines,
    chosen_diff_mask,
    completion_token_spans,
    error_token_mask,
    error_token_masks,
)
from toolkit.data import review_corpus
from toolkit.zoo.tokenizer import train_bpe_tokenizer

CHOSEN = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
BUGGY = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
TWO_BUGS = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a ** b\n"
EXTRA_LINE = (
    "def add(a, b):\n    print(a)\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
)
MISSING_LINE = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n"
CODE_TEXTS = [CHOSEN, TWO_BUGS, EXTRA_LINE, "Complete: " + CHOSEN] * 20  # " def" is a token


def _train(pre_tokenizer):
    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizer
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=["[UNK]"], show_progress=False)
    tokenizer.train_from_iterator(review_corpus(100, 0) + CODE_TEXTS, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]")


@pytest.fixture(scope="module")
def tokenizers():
    """Three whitespace handlings: byte-level BPE (newline merged with the next indent),
    Whitespace (drops all whitespace), Metaspace (newline merged with the line before)."""
    return {
        "byte_level": train_bpe_tokenizer(review_corpus(100, 0) + CODE_TEXTS, 400),
        "whitespace": _train(pre_tokenizers.Whitespace()),
        "metaspace": _train(pre_tokenizers.Metaspace()),
    }


class SlowTokenizer:
    """A tokenizer without offset mappings, to exercise the prefix re-tokenization path."""

    is_fast = False

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.all_special_ids = tokenizer.all_special_ids

    def __call__(self, text, **kwargs):
        assert "return_offsets_mapping" not in kwargs
        return self.tokenizer(text, **kwargs)


def line_chars(code, lines):
    """Character positions of the given lines, terminators included."""
    spans, start = [], 0
    for line in code.splitlines(keepends=True):
        spans.append(range(start, start + len(line)))
        start += len(line)
    return {c for i in lines for c in spans[i]}


def covered(tokenizer, code, mask):
    """Characters of ``code`` inside the marked tokens (by the tokenizer's own offsets)."""
    offsets = tokenizer(code, return_offsets_mapping=True)["offset_mapping"]
    assert len(offsets) == len(mask)
    return {c for (a, b), m in zip(offsets, mask, strict=True) if m for c in range(a, b)}


def test_buggy_line_marked_and_nothing_else(tokenizers):
    tokenizer = tokenizers["byte_level"]
    mask = error_token_mask(tokenizer, BUGGY, CHOSEN)
    ids = tokenizer(BUGGY)["input_ids"]
    assert len(mask) == len(ids) and set(mask) == {0, 1}
    # byte-level tokens "\n   " (line 0's newline + line 1's indent) and "\n\n" (line 1's
    # newline + blank line 2) touch line 1, so they are marked; blank line 3's "\n" is not
    assert tokenizer.decode([i for i, m in zip(ids, mask, strict=True) if m]) == (
        "\n    return a - b\n\n"
    )
    assert changed_lines(BUGGY, CHOSEN) == ({1}, {1})


def test_identical_code_gives_all_zeros(tokenizers):
    for tokenizer in tokenizers.values():
        mask = error_token_mask(tokenizer, CHOSEN, CHOSEN)
        assert mask == [0] * len(tokenizer(CHOSEN)["input_ids"])


@pytest.mark.parametrize(
    "rejected, chosen, rejected_lines, chosen_lines",
    [
        (TWO_BUGS, CHOSEN, {1, 5}, {1, 5}),  # two replaced lines
        (EXTRA_LINE, CHOSEN, {1}, set()),  # y⁺ deleted a line of y⁻
        (MISSING_LINE, CHOSEN, set(), {5}),  # y⁺ inserted a line: nothing to mark in y⁻
    ],
)
def test_changed_lines_map_to_exactly_their_tokens(
    tokenizers, rejected, chosen, rejected_lines, chosen_lines
):
    assert changed_lines(rejected, chosen) == (rejected_lines, chosen_lines)
    for name, tokenizer in tokenizers.items():
        for code, lines, mask in (
            (rejected, rejected_lines, error_token_mask(tokenizer, rejected, chosen)),
            (chosen, chosen_lines, chosen_diff_mask(tokenizer, rejected, chosen)),
        ):
            marked_chars = line_chars(code, lines)
            offsets = tokenizer(code, return_offsets_mapping=True)["offset_mapping"]
            expected = [int(any(c in marked_chars for c in range(a, b))) for a, b in offsets]
            assert mask == expected, name


def test_newline_between_unchanged_lines_is_not_marked(tokenizers):
    tokenizer = tokenizers["byte_level"]
    mask = error_token_mask(tokenizer, BUGGY, CHOSEN)
    offsets = tokenizer(BUGGY, return_offsets_mapping=True)["offset_mapping"]
    blank_newlines = [i for i, (a, b) in enumerate(offsets) if BUGGY[a:b] == "\n" and a > 32]
    assert blank_newlines and all(mask[i] == 0 for i in blank_newlines)


def test_whitespace_handling_does_not_change_the_covered_characters(tokenizers):
    """Every tokenizer's marked tokens cover all non-whitespace characters of the changed
    lines, and every marked token touches a changed line."""
    changed = line_chars(TWO_BUGS, {1, 5})
    visible = {c for c in changed if not TWO_BUGS[c].isspace()}
    results = {}
    for name, tokenizer in tokenizers.items():
        mask = error_token_mask(tokenizer, TWO_BUGS, CHOSEN)
        chars = covered(tokenizer, TWO_BUGS, mask)
        results[name] = chars & visible
        offsets = tokenizer(TWO_BUGS, return_offsets_mapping=True)["offset_mapping"]
        marked = [range(a, b) for (a, b), m in zip(offsets, mask, strict=True) if m]
        assert all(set(span) & changed for span in marked), name
        if name != "whitespace":  # the others keep whitespace in tokens: full coverage
            assert changed <= chars, name
    assert all(chars == visible for chars in results.values())


@pytest.mark.parametrize("name", ["byte_level", "metaspace"])
def test_prefix_retokenization_matches_offsets(tokenizers, name):
    tokenizer, slow_tokenizer = tokenizers[name], SlowTokenizer(tokenizers[name])
    for rejected, prompt, context in itertools.product(
        (BUGGY, TWO_BUGS, EXTRA_LINE), ("Fix it:\n", "Complete: "), (0, 1)
    ):
        fast = error_token_mask(tokenizer, rejected, CHOSEN, context, prompt=prompt)
        assert error_token_mask(slow_tokenizer, rejected, CHOSEN, context, prompt=prompt) == fast


def test_context_lines_add_neighbours(tokenizers):
    tokenizer = tokenizers["byte_level"]
    mask = error_token_mask(tokenizer, BUGGY, CHOSEN, context_lines=1)
    assert covered(tokenizer, BUGGY, mask) >= line_chars(BUGGY, {0, 1, 2})
    assert not covered(tokenizer, BUGGY, mask) & line_chars(BUGGY, {4, 5})
    everything = error_token_mask(tokenizer, BUGGY, CHOSEN, context_lines=50)
    assert all(everything)


def test_prompt_gives_trls_completion_tokens(tokenizers):
    tokenizer = tokenizers["byte_level"]
    for prompt, merges in (("Write add:\n", False), ("Complete: ", True)):
        mask = error_token_mask(tokenizer, BUGGY, CHOSEN, prompt=prompt)
        full = tokenizer(prompt + BUGGY)["input_ids"]
        prompt_ids = tokenizer(prompt)["input_ids"]
        pairs = enumerate(zip(prompt_ids, full, strict=False))
        start = next((i for i, (a, b) in pairs if a != b), len(prompt_ids))
        assert (start < len(prompt_ids)) == merges  # " def" takes the prompt's last space
        assert len(mask) == len(full) - start
        assert len(completion_token_spans(tokenizer, BUGGY, prompt)) == len(mask)
    plain = error_token_mask(tokenizer, BUGGY, CHOSEN)
    assert error_token_mask(tokenizer, BUGGY, CHOSEN, prompt="Write add:\n") == plain


def test_bad_input_names_argument_and_example(tokenizers):
    tokenizer = tokenizers["byte_level"]
    with pytest.raises(ValueError, match="rejected_code must be a non-empty string"):
        error_token_mask(tokenizer, "", CHOSEN)
    with pytest.raises(ValueError, match="chosen_code must be a non-empty string"):
        chosen_diff_mask(tokenizer, BUGGY, " \n ")
    with pytest.raises(ValueError, match="context_lines"):
        error_token_mask(tokenizer, BUGGY, CHOSEN, context_lines=-1)
    with pytest.raises(ValueError, match="example 1: rejected_code"):
        error_token_masks(tokenizer, [BUGGY, ""], [CHOSEN, CHOSEN])
    with pytest.raises(ValueError, match="must match"):
        error_token_masks(tokenizer, [BUGGY], [CHOSEN, CHOSEN])
    masks = error_token_masks(tokenizer, [BUGGY, CHOSEN], [CHOSEN, CHOSEN], prompts=["a\n"] * 2)
    assert masks[0] == error_token_mask(tokenizer, BUGGY, CHOSEN, prompt="a\n")
    assert not any(masks[1])
