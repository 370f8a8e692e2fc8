"""Language-model measurements: perplexity, a unigram baseline, per-token surprisal.

All three score the same targets: for each text, its tokens followed by EOS,
each predicted from ``EOS`` + the tokens before it. That makes the LM's
perplexity and the unigram baseline's directly comparable.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase


def _targets(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]


def _fit_context(model: PreTrainedModel, rows: list[list[int]], first_index: int = 0) -> None:
    """Refuse texts longer than the model's context instead of failing deep inside it."""
    context = getattr(model.config, "max_position_embeddings", None)
    for i, row in enumerate(rows):
        if context is not None and len(row) > context:
            raise ValueError(
                f"text {first_index + i} has {len(row)} tokens (with EOS), more than the "
                f"model's context of {context}; split or shorten it"
            )


def _require_texts(texts: Sequence[str]) -> None:
    if not texts or not all(isinstance(t, str) and t for t in texts):
        raise ValueError("texts must be a non-empty list of non-empty strings")


@torch.no_grad()
def token_surprisal(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, text: str
) -> tuple[list[str], list[float]]:
    """Tokens of ``text`` (and the closing EOS) with their surprisal ``−log₂ p(token | prefix)``."""
    _require_texts([text])
    targets = _targets(tokenizer, text)
    _fit_context(model, [targets])
    inputs = torch.tensor([[tokenizer.eos_token_id] + targets[:-1]], device=model.device)
    logprobs = torch.log_softmax(model(input_ids=inputs).logits[0].float(), dim=-1)
    picked = logprobs.gather(-1, torch.tensor(targets, device=model.device)[:, None])[:, 0]
    tokens = [tokenizer.decode([t]) for t in targets]
    return tokens, (-picked / math.log(2)).tolist()


@torch.no_grad()
def perplexity(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    batch_size: int = 32,
) -> float:
    """Per-token perplexity of ``model`` on ``texts`` (each text scored on its own)."""
    _require_texts(texts)
    model.eval()
    total_nll, total_tokens = 0.0, 0
    for start in range(0, len(texts), batch_size):
        rows = [_targets(tokenizer, t) for t in texts[start : start + batch_size]]
        _fit_context(model, rows, start)
        width = max(len(r) for r in rows)
        inputs = torch.full((len(rows), width), tokenizer.eos_token_id)
        labels = torch.full((len(rows), width), -100)
        for i, row in enumerate(rows):
            inputs[i, 1 : len(row)] = torch.tensor(row[:-1])
            labels[i, : len(row)] = torch.tensor(row)
        logits = model(input_ids=inputs.to(model.device)).logits.float()
        nll = torch.nn.functional.cross_entropy(
            logits.flatten(0, 1), labels.to(model.device).flatten(), reduction="sum"
        )
        total_nll += nll.item()
        total_tokens += int((labels != -100).sum())
    return math.exp(total_nll / total_tokens)


@dataclass(frozen=True)
class UnigramLM:
    """Add-one-smoothed token frequencies: the baseline a language model must beat.

    A model that ignores context can do no better than this, so an LM's
    perplexity below the unigram's measures how much it uses the prefix.
    """

    counts: Counter
    vocab_size: int

    @classmethod
    def fit(cls, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> UnigramLM:
        _require_texts(texts)
        return cls(Counter(t for text in texts for t in _targets(tokenizer, text)), len(tokenizer))

    def _log2_prob(self, token: int) -> float:
        return math.log2((self.counts[token] + 1) / (self.counts.total() + self.vocab_size))

    def surprisal(self, tokenizer: PreTrainedTokenizerBase, text: str) -> list[float]:
        """``−log₂ p(token)`` for the same targets as :func:`token_surprisal`."""
        return [-self._log2_prob(t) for t in _targets(tokenizer, text)]

    def perplexity(self, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> float:
        _require_texts(texts)
        bits = [b for text in texts for b in self.surprisal(tokenizer, text)]
        return 2 ** (sum(bits) / len(bits))


def unigram_perplexity(
    tokenizer: PreTrainedTokenizerBase, train_texts: Sequence[str], test_texts: Sequence[str]
) -> float:
    """Perplexity on ``test_texts`` of a :class:`UnigramLM` fitted on ``train_texts``."""
    return UnigramLM.fit(tokenizer, train_texts).perplexity(tokenizer, test_texts)
