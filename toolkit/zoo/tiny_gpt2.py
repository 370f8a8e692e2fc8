"""The zoo's tiny GPT-2s, each trained from scratch on one of the toolkit's corpora.

* ``tiny-gpt2-reviews``: ~1.4M parameters on the synthetic review corpus; small enough to
  train in about a minute on two CPU cores, big enough to write fluent reviews.
* ``tiny-gpt2-code``: 0.45M parameters on the two-line arithmetic functions of
  :mod:`toolkit.data.code` (the Target-DPO task); its tokenizer starts every text with EOS.
* ``tiny-gpt2-dialects``: ~0.6M parameters on reviews in three dialects, one third each
  (:func:`toolkit.representation.dialects.dialect_texts`); its tokenizer is fitted on the
  same mix, so no dialect is favoured before alignment (notebook 08).

Both are real ``GPT2LMHeadModel``s, so every method that runs on them runs on any Hugging
Face causal LM.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from toolkit._checks import check_choice
from toolkit.data import review_corpus
from toolkit.data.code import code_corpus
from toolkit.lm_metrics import perplexity, unigram_perplexity
from toolkit.representation.dialects import dialect_texts
from toolkit.seeding import seed_everything
from toolkit.zoo.lm_training import LMTrainConfig, pack_texts, train_causal_lm
from toolkit.zoo.registry import TRAINING_LOG, ZooSpec, check_recipe_keys
from toolkit.zoo.tokenizer import train_bpe_tokenizer

NAME = "tiny-gpt2-reviews"
CODE_NAME = "tiny-gpt2-code"
DIALECTS_NAME = "tiny-gpt2-dialects"
CORPORA = {
    "toolkit.data.review_corpus": review_corpus,
    "toolkit.data.code_corpus": code_corpus,
    "toolkit.representation.dialect_texts": dialect_texts,
}


def corpus_fingerprint(seed: int, n: int = 200, corpus: str = "toolkit.data.review_corpus") -> str:
    """Digest of the corpus generator's first texts: a grammar change rebuilds the model."""
    check_choice("corpus", corpus, CORPORA)
    return hashlib.sha256("\n".join(CORPORA[corpus](n, seed)).encode()).hexdigest()[:12]


def code_recipe() -> dict:
    return {
        "architecture": "gpt2",
        "n_layer": 2,  # 0.45M parameters: two layers are enough to copy operands from the comment
        "n_head": 4,
        "n_embd": 128,
        "n_positions": 96,  # a function is ~35 tokens; room for prompt + a long completion
        "vocab_size": 384,  # digits, operators and ~20 words; BPE merges the keywords
        "tokenizer_bos": True,  # prompts start after EOS, as every function does in training
        "corpus": "toolkit.data.code_corpus",
        "corpus_seed": 0,
        "corpus_fingerprint": corpus_fingerprint(0, corpus="toolkit.data.code_corpus"),
        "n_train_texts": 20_000,
        "n_heldout_texts": 500,
        # ~40 s on 2 cores; greedy completions then pass the tests of held-out tasks
        "train": asdict(LMTrainConfig(block_size=64, batch_size=32, steps=200, lr=3e-3)),
    }


def dialects_recipe() -> dict:
    return {
        "architecture": "gpt2",
        "n_layer": 2,  # small enough that the notebook's many SFT/DPO runs take seconds each
        "n_head": 4,
        "n_embd": 128,
        "n_positions": 128,  # a prompt and a two-sentence response are under 60 tokens
        "vocab_size": 1024,  # fitted on all three dialects, one third each
        "corpus": "toolkit.representation.dialect_texts",
        "corpus_seed": 0,
        "corpus_fingerprint": corpus_fingerprint(0, corpus="toolkit.representation.dialect_texts"),
        "n_train_texts": 20_000,
        "n_heldout_texts": 500,
        "train": asdict(LMTrainConfig(steps=300)),
    }


def default_recipe() -> dict:
    return {
        "architecture": "gpt2",
        "n_layer": 4,  # depth and width give ~1.4M parameters: trains in ~1 min on 2 cores
        "n_head": 4,
        "n_embd": 160,
        "n_positions": 256,  # longest reviews are ~120 tokens; room for prompt + completion
        "vocab_size": 1024,  # the grammar's few hundred words mostly become single tokens
        "corpus": "toolkit.data.review_corpus",
        "corpus_seed": 0,
        "corpus_fingerprint": corpus_fingerprint(0),
        "n_train_texts": 20_000,
        "n_heldout_texts": 500,
        "train": asdict(LMTrainConfig()),
    }


RECIPE_KEYS = frozenset(default_recipe())


def check_recipe(recipe: dict) -> None:
    """``recipe`` has the default recipe's keys (``tokenizer_bos`` optional), a known corpus
    and a valid ``train`` config."""
    check_recipe_keys(recipe, RECIPE_KEYS, {"tokenizer_bos"})
    check_choice("recipe['corpus']", recipe["corpus"], CORPORA)
    LMTrainConfig(**recipe["train"])


def build(directory: Path, recipe: dict) -> dict:
    """Train tokenizer and model from ``recipe``; save both to ``directory``; return metrics."""
    seed_everything(recipe["train"]["seed"])
    corpus = CORPORA[recipe["corpus"]]
    train_texts = corpus(recipe["n_train_texts"], recipe["corpus_seed"])
    heldout = corpus(recipe["n_heldout_texts"], recipe["corpus_seed"] + 1)
    tokenizer = train_bpe_tokenizer(
        train_texts, recipe["vocab_size"], add_bos=recipe.get("tokenizer_bos", False)
    )
    tokenizer.model_max_length = recipe["n_positions"]
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=recipe["n_positions"],
        n_embd=recipe["n_embd"],
        n_layer=recipe["n_layer"],
        n_head=recipe["n_head"],
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = GPT2LMHeadModel(config)
    cfg = LMTrainConfig(**recipe["train"])
    rows = pack_texts(train_texts, tokenizer, cfg.block_size)
    losses = train_causal_lm(model, rows, cfg, f"training {recipe['corpus']}")
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    (directory / TRAINING_LOG).write_text(json.dumps({"loss": [round(x, 4) for x in losses]}))
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "final_train_loss": round(sum(losses[-20:]) / 20, 4),
        "heldout_perplexity": round(perplexity(model, tokenizer, heldout), 3),
        "unigram_perplexity": round(unigram_perplexity(tokenizer, train_texts, heldout), 3),
        "torch_threads": torch.get_num_threads(),
    }


SPEC = ZooSpec(
    name=NAME,
    kind="causal-lm",
    description="GPT-2 (4 layers, d=160, 1.4M params) trained on the synthetic review corpus",
    recipe=default_recipe(),
    build=build,
    check_recipe=check_recipe,
)

CODE_SPEC = ZooSpec(
    name=CODE_NAME,
    kind="causal-lm",
    description="GPT-2 (2 layers, d=128, 0.45M params) trained on two-line arithmetic functions",
    recipe=code_recipe(),
    build=build,
    check_recipe=check_recipe,
)

DIALECTS_SPEC = ZooSpec(
    name=DIALECTS_NAME,
    kind="causal-lm",
    description="GPT-2 (2 layers, d=128) trained on reviews in three dialects, one third each",
    recipe=dialects_recipe(),
    build=build,
    check_recipe=check_recipe,
)
