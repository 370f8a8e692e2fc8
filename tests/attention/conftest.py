"""Tiny random models shared by the attention tests (seeded, built once per module)."""

import pytest

from toolkit.zoo.tiny import tiny_llama, tiny_tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def llama(tokenizer):
    """Llama with RoPE and grouped-query attention: 4 query heads share 2 KV heads."""
    return tiny_llama(tokenizer, seed=0).eval()


@pytest.fixture(scope="module")
def eager_llama(tokenizer):
    """The same weights with eager attention, whose attention weights can be returned."""
    model = tiny_llama(tokenizer, seed=0).eval()
    model.set_attn_implementation("eager")
    return model
