"""Seconds-to-build random models for tests, benchmarks and quick experiments.

Not zoo entries (nothing is trained or cached): a BPE tokenizer fitted on a few hundred
synthetic reviews and a randomly initialized GPT-2 or Llama (RoPE, grouped-query attention)
sized to it. Everything the toolkit does
to a Hugging Face causal LM can be tried on these in well under a second.
"""

from __future__ import annotations

import torch
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)

from toolkit._checks import check_int, check_probability, describe
from toolkit.data import review_corpus
from toolkit.zoo.tokenizer import train_bpe_tokenizer


def _check_tokenizer(tokenizer: object) -> None:
    if not isinstance(tokenizer, PreTrainedTokenizerFast):
        raise TypeError(f"tokenizer must be a PreTrainedTokenizerFast, got {describe(tokenizer)}")


def _check_heads(width_name: str, width: int, heads_name: str, heads: int) -> None:
    """``width`` and ``heads`` are positive ints and ``heads`` divides ``width``."""
    check_int(width_name, width, minimum=1)
    check_int(heads_name, heads, minimum=1)
    if width % heads:
        raise ValueError(f"{heads_name}={heads} must divide {width_name}={width}")


def tiny_tokenizer(vocab_size: int = 300, n_texts: int = 300, seed: int = 0):
    """A byte-level BPE tokenizer fitted on ``n_texts`` synthetic reviews."""
    check_int("n_texts", n_texts, minimum=1)
    check_int("seed", seed, minimum=0)
    return train_bpe_tokenizer(review_corpus(n_texts, seed), vocab_size)


def tiny_gpt2(
    tokenizer: PreTrainedTokenizerFast,
    *,
    n_embd: int = 32,
    n_layer: int = 2,
    n_head: int = 2,
    n_positions: int = 256,
    dropout: float = 0.1,
    seed: int = 0,
) -> GPT2LMHeadModel:
    """A randomly initialized GPT-2 (seeded) whose vocabulary and special tokens match."""
    _check_tokenizer(tokenizer)
    _check_heads("n_embd", n_embd, "n_head", n_head)
    check_int("n_layer", n_layer, minimum=1)
    check_int("n_positions", n_positions, minimum=1)
    check_probability("dropout", dropout)
    check_int("seed", seed, minimum=0)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=n_positions,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        resid_pdrop=dropout,
        embd_pdrop=dropout,
        attn_pdrop=dropout,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return GPT2LMHeadModel(config)


def tiny_llama(
    tokenizer: PreTrainedTokenizerFast,
    *,
    hidden_size: int = 32,
    num_hidden_layers: int = 2,
    num_attention_heads: int = 4,
    num_key_value_heads: int = 2,
    max_position_embeddings: int = 2048,
    seed: int = 0,
) -> LlamaForCausalLM:
    """A randomly initialized Llama (seeded): RoPE, and grouped-query attention with
    ``num_attention_heads / num_key_value_heads`` query heads sharing each key-value head."""
    _check_tokenizer(tokenizer)
    _check_heads("hidden_size", hidden_size, "num_attention_heads", num_attention_heads)
    _check_heads(
        "num_attention_heads", num_attention_heads, "num_key_value_heads", num_key_value_heads
    )
    check_int("num_hidden_layers", num_hidden_layers, minimum=1)
    check_int("max_position_embeddings", max_position_embeddings, minimum=1)
    check_int("seed", seed, minimum=0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=4 * hidden_size,
        num_hidden_layers=num_hidden_layers,
        num_attention_heads=num_attention_heads,
        num_key_value_heads=num_key_value_heads,
        max_position_embeddings=max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return LlamaForCausalLM(config)
