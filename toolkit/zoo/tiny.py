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

from toolkit.data import review_corpus
from toolkit.zoo.tokenizer import train_bpe_tokenizer


def tiny_tokenizer(vocab_size: int = 300, n_texts: int = 300, seed: int = 0):
    """A byte-level BPE tokenizer fitted on ``n_texts`` synthetic reviews."""
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
