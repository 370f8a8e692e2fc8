import math

import pytest
from transformers import GPT2Config, GPT2LMHeadModel

from toolkit.data import review_corpus
from toolkit.lm_metrics import UnigramLM, perplexity, token_surprisal, unigram_perplexity
from toolkit.zoo.tiny import tiny_gpt2, tiny_tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def model(tokenizer):
    return tiny_gpt2(tokenizer, n_embd=16, n_layer=1, n_positions=512).eval()


def test_perplexity_is_exp_of_mean_surprisal(model, tokenizer):
    texts = review_corpus(5, seed=1)
    bits = [b for t in texts for b in token_surprisal(model, tokenizer, t)[1]]
    expected = 2 ** (sum(bits) / len(bits))
    assert perplexity(model, tokenizer, texts, batch_size=2) == pytest.approx(expected, rel=1e-4)


def test_batching_does_not_change_perplexity(model, tokenizer):
    texts = review_corpus(7, seed=2)
    assert perplexity(model, tokenizer, texts, batch_size=1) == pytest.approx(
        perplexity(model, tokenizer, texts, batch_size=7), rel=1e-5
    )


def test_token_surprisal_covers_text_and_eos(model, tokenizer):
    tokens, bits = token_surprisal(model, tokenizer, "The film was good.")
    assert "".join(tokens[:-1]) == "The film was good." and tokens[-1] == tokenizer.eos_token
    assert len(bits) == len(tokens) and all(b > 0 for b in bits)


def test_untrained_model_is_near_uniform(model, tokenizer):
    ppl = perplexity(model, tokenizer, review_corpus(10, seed=3))
    assert 0.5 * len(tokenizer) < ppl < 2 * len(tokenizer)


def test_unigram_matches_hand_computation(tokenizer):
    train, test = ["a a b"], ["a b"]
    lm = UnigramLM.fit(tokenizer, train)
    targets = tokenizer("a b", add_special_tokens=False).input_ids + [tokenizer.eos_token_id]
    total = lm.counts.total() + len(tokenizer)
    nll = -sum(math.log((lm.counts[t] + 1) / total) for t in targets)
    assert unigram_perplexity(tokenizer, train, test) == pytest.approx(math.exp(nll / len(targets)))


def test_text_longer_than_context_names_it(tokenizer):
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=8, n_embd=8, n_layer=1, n_head=1)
    short_model = GPT2LMHeadModel(config).eval()
    texts = ["A film.", "The acting in this film was wonderful, and the music was great."]
    with pytest.raises(ValueError, match=r"texts\[1\] has .* tokens .* context of 8"):
        perplexity(short_model, tokenizer, texts, batch_size=1)


def test_bad_texts_raise(model, tokenizer):
    with pytest.raises(ValueError, match="texts must not be empty"):
        perplexity(model, tokenizer, [])
    with pytest.raises(ValueError, match=r"texts\[1\] must not be empty"):
        UnigramLM.fit(tokenizer, ["ok", ""])
