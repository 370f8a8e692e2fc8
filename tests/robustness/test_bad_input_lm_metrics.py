"""Bad inputs to the language-model measurements: a bare str where texts are expected, empty or
non-str texts, texts longer than the model's context, a bad batch size, model or tokenizer;
each error names the argument and the text's index."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.lm_metrics import UnigramLM, perplexity, token_surprisal, unigram_perplexity
from toolkit.zoo.tiny import tiny_gpt2, tiny_tokenizer

FAST = settings(max_examples=25, deadline=None)
CONTEXT = 16


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def model(tokenizer):
    return tiny_gpt2(tokenizer, n_embd=8, n_layer=1, n_head=1, n_positions=CONTEXT).eval()


@pytest.fixture(scope="module")
def unigram(tokenizer):
    return UnigramLM.fit(tokenizer, ["The film was good.", "A bad film."])


BAD_TEXTS = [
    ("The film.", TypeError, "texts must be a sequence of str, got one str; wrap it in a list"),
    (b"The film.", TypeError, "texts must be a sequence of str"),
    (None, TypeError, "texts must be a sequence of str"),
    (3, TypeError, "texts must be a sequence of str"),
    ({"text": "The film."}, TypeError, "texts must be a sequence of str"),
    ([], ValueError, "texts must not be empty"),
    (["ok", ""], ValueError, r"texts\[1\] must not be empty"),
    (["ok", " \n"], ValueError, r"texts\[1\] must not be empty or blank"),
    (["ok", None], TypeError, r"texts\[1\] must be a str"),
    ([["nested"]], TypeError, r"texts\[0\] must be a str"),
    ([float("nan")], TypeError, r"texts\[0\] must be a str"),
]


@pytest.mark.parametrize(("texts", "error", "match"), BAD_TEXTS)
def test_perplexity_names_the_bad_texts(model, tokenizer, texts, error, match):
    with pytest.raises(error, match=match):
        perplexity(model, tokenizer, texts)


@pytest.mark.parametrize(("texts", "error", "match"), BAD_TEXTS)
def test_unigram_names_the_bad_texts(tokenizer, unigram, texts, error, match):
    with pytest.raises(error, match=match):
        UnigramLM.fit(tokenizer, texts)
    with pytest.raises(error, match=match):
        unigram.perplexity(tokenizer, texts)


def test_unigram_perplexity_names_which_texts(tokenizer):
    with pytest.raises(TypeError, match="train_texts must be a sequence of str, got one str"):
        unigram_perplexity(tokenizer, "a b", ["a"])
    with pytest.raises(ValueError, match="test_texts must not be empty"):
        unigram_perplexity(tokenizer, ["a b"], [])


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        (None, TypeError, "text must be a str"),
        (["The film."], TypeError, "text must be a str"),
        ("", ValueError, "text must not be empty"),
        ("   ", ValueError, "text must not be empty or blank"),
    ],
)
def test_one_text_must_be_a_str(model, tokenizer, unigram, text, error, match):
    with pytest.raises(error, match=match):
        token_surprisal(model, tokenizer, text)
    with pytest.raises(error, match=match):
        unigram.surprisal(tokenizer, text)


@pytest.mark.parametrize(
    ("batch_size", "error"),
    [(0, ValueError), (-1, ValueError), (1.5, TypeError), (None, TypeError)],
)
def test_perplexity_checks_batch_size(model, tokenizer, batch_size, error):
    with pytest.raises(error, match="batch_size"):
        perplexity(model, tokenizer, ["The film."], batch_size=batch_size)


def test_model_and_tokenizer_are_checked(model, tokenizer):
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        perplexity(None, tokenizer, ["The film."])
    with pytest.raises(TypeError, match="tokenizer must be a Hugging Face tokenizer"):
        token_surprisal(model, "gpt2", "The film.")
    with pytest.raises(TypeError, match="tokenizer must be a Hugging Face tokenizer"):
        UnigramLM.fit(None, ["The film."])


@FAST
@given(repeats=st.integers(3, 30), at=st.integers(0, 3), batch_size=st.integers(1, 4))
def test_a_text_longer_than_the_context_is_named(model, tokenizer, repeats, at, batch_size):
    texts = ["A film."] * 4
    texts[at] = "The acting was wonderful." * repeats
    with pytest.raises(ValueError, match=rf"texts\[{at}\] has \d+ tokens .* context of {CONTEXT}"):
        perplexity(model, tokenizer, texts, batch_size=batch_size)
    with pytest.raises(ValueError, match=rf"text has \d+ tokens .* context of {CONTEXT}"):
        token_surprisal(model, tokenizer, texts[at])


@FAST
@given(text=st.text(min_size=1, max_size=3).filter(str.strip))
def test_odd_unicode_gives_a_finite_perplexity_or_names_the_long_text(model, tokenizer, text):
    n_tokens = len(tokenizer(text, add_special_tokens=False)["input_ids"]) + 1
    if n_tokens > CONTEXT:
        with pytest.raises(ValueError, match=r"texts\[0\]"):
            perplexity(model, tokenizer, [text])
    else:
        assert 1.0 < perplexity(model, tokenizer, [text]) < float("inf")


def test_a_tuple_or_generator_of_texts_is_one_text_each(model, tokenizer):
    texts = ["The film was good.", "A bad film."]
    expected = perplexity(model, tokenizer, texts)
    assert perplexity(model, tokenizer, tuple(texts)) == pytest.approx(expected)
    assert perplexity(model, tokenizer, (t for t in texts)) == pytest.approx(expected)
