import contextlib
import dataclasses

import pytest
import torch

from toolkit.attention.compression import KVCompressor
from toolkit.attention.needle import (
    NeedleRecord,
    NeedleResult,
    accuracy_by_depth,
    answer_positions,
    answers,
    needle_accuracy,
)
from toolkit.data.retrieval import needle_examples


@pytest.fixture(scope="module")
def examples():
    return needle_examples(3, 0, context_tokens=120)


def _with_answers(examples, result):
    """The examples, each answered with what the model actually generated (stripped)."""
    return [
        dataclasses.replace(e, answer=(r.generated.split() or ["x"])[0])
        for e, r in zip(examples, result.records, strict=True)
    ]


def test_scores_exact_answers_and_enters_the_context_once_per_example(llama, tokenizer, examples):
    entered = []

    @contextlib.contextmanager
    def counting(example):
        entered.append(example)
        yield

    first = needle_accuracy(llama, tokenizer, examples, context=counting, max_new_tokens=3)
    assert entered == list(examples) and first.accuracy == 0.0  # a random model
    right = needle_accuracy(llama, tokenizer, _with_answers(examples, first), max_new_tokens=3)
    assert right.accuracy == 1.0
    assert [r.depth for r in right.records] == [e.depth for e in examples]


def test_compressing_the_context_alone_matches_one_generate_at_ratio_zero(
    llama, tokenizer, examples
):
    plain = needle_accuracy(llama, tokenizer, examples, max_new_tokens=4)
    compressor = KVCompressor("knorm", ratio=0.0)
    split = needle_accuracy(
        llama,
        tokenizer,
        examples,
        context=lambda _example: compressor.apply(llama),
        compress_context=True,
        max_new_tokens=4,
    )
    assert [r.generated for r in split.records] == [r.generated for r in plain.records]


def test_the_question_is_read_after_the_haystack_is_compressed(llama, tokenizer, examples):
    lengths = []
    real_forward = llama.forward

    def spy(*args, **kwargs):
        ids = kwargs.get("input_ids")
        cache = kwargs["cache"] if kwargs.get("cache") is not None else kwargs["past_key_values"]
        first = cache.layers[0] if cache.layers else None
        lengths.append(
            (ids.shape[1], first.keys.shape[-2] if first and first.is_initialized else 0)
        )
        return real_forward(*args, **kwargs)

    example = examples[1]
    n_context = len(tokenizer(example.context)["input_ids"])
    compressor = KVCompressor("knorm", ratio=0.5, window=4)
    llama.forward = spy
    try:
        needle_accuracy(
            llama,
            tokenizer,
            [example],
            context=lambda _example: compressor.apply(llama),
            compress_context=True,
            max_new_tokens=2,
        )
    finally:
        del llama.forward
    assert lengths[0] == (n_context, 0)  # the haystack alone, into an empty cache
    question_tokens, cached = lengths[1]
    assert cached == int(n_context * 0.5)  # compressed before the question arrives
    assert question_tokens == len(tokenizer(example.prompt)["input_ids"]) - n_context

    lengths.clear()  # question-aware: the question proper is compressed with the haystack
    n_asked = len(tokenizer(f"{example.context} {example.asked}")["input_ids"])
    llama.forward = spy
    try:
        needle_accuracy(
            llama,
            tokenizer,
            [example],
            context=lambda _example: compressor.apply(llama),
            compress_context=True,
            question_aware=True,
            max_new_tokens=2,
        )
    finally:
        del llama.forward
    assert lengths[0] == (n_asked, 0)
    assert lengths[1] == (len(tokenizer(example.prompt)["input_ids"]) - n_asked, n_asked // 2)


def test_answer_positions_are_the_needles_value_tokens(tokenizer, examples):
    for example in examples:
        ids = tokenizer(example.prompt)["input_ids"]
        positions = answer_positions(tokenizer, example)
        assert positions == list(range(positions[0], positions[-1] + 1))
        assert positions[-1] < len(tokenizer(example.context)["input_ids"])  # in the haystack
        assert tokenizer.decode(ids[positions[0] : positions[-1] + 1]).strip(" .") == example.answer
    with pytest.raises(ValueError, match="answer"):
        answer_positions(tokenizer, dataclasses.replace(examples[0], answer="12345"))


def test_answers_and_depth_bins():
    assert answers(" 4817.", "4817") and answers("4817", "4817")
    assert not answers(" 48170", "4817") and not answers(" 481", "4817")
    examples = needle_examples(4, 0, context_tokens=100)
    records = tuple(
        NeedleRecord(e.depth, e.answer, "", correct)
        for e, correct in zip(examples, (True, False, True, True), strict=True)
    )
    result = NeedleResult(0.75, records)
    assert accuracy_by_depth(result, bins=2) == {0.25: 0.5, 0.75: 1.0}
    assert list(accuracy_by_depth(result)) == [e.depth for e in examples]


def test_bad_input_is_refused(llama, tokenizer, examples):
    with pytest.raises(ValueError, match="examples"):
        needle_accuracy(llama, tokenizer, [])
    with pytest.raises(ValueError, match="max_new_tokens"):
        needle_accuracy(llama, tokenizer, examples, max_new_tokens=0)
    with pytest.raises(ValueError, match="bins"):
        accuracy_by_depth(needle_accuracy(llama, tokenizer, examples[:1], max_new_tokens=1), 0)
    assert torch.is_grad_enabled()
