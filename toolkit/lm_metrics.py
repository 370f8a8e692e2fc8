"""Language-model measurements: perplexity, a unigram baseline, per-token surprisal.

All three score the same targets: for each text, its tokens followed by EOS,
each predicted from ``EOS`` + the tokens before it. That makes the LM's
perplexity and the unigram baseline's directly comparable.

Arguments are checked before any scoring: ``texts`` must be a non-empty sequence of
non-blank ``str`` — one bare ``str`` is refused (``TypeError``), not read as one text per
character — and a text longer than the model's positions is refused, naming its index.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from toolkit._checks import check_int, check_nonempty, check_str, describe
from toolkit._torch import check_module
from toolkit.alignment.checks import model_positions


def check_texts(name: str, texts: object, *, allow_empty: bool = False) -> list[str]:
    """``texts`` as a list: a non-empty sequence (or other iterable) of ``str``, not one bare
    ``str``, which would otherwise be read as one text per character. Each text must be
    non-blank unless ``allow_empty``; the message names ``name[i]``."""
    if isinstance(texts, str | bytes):
        raise TypeError(f"{name} must be a sequence of str, got one str; wrap it in a list")
    if not isinstance(texts, Iterable) or isinstance(texts, Mapping):
        raise TypeError(f"{name} must be a sequence of str, got {describe(texts)}")
    texts = check_nonempty(name, list(texts))
    for i, text in enumerate(texts):
        check_str(f"{name}[{i}]", text, allow_empty=allow_empty)
    return list(texts)


def check_tokenizer(tokenizer: object) -> PreTrainedTokenizerBase:
    """A Hugging Face tokenizer with an EOS token (every text is scored up to EOS)."""
    if not isinstance(tokenizer, PreTrainedTokenizerBase):
        raise TypeError(f"tokenizer must be a Hugging Face tokenizer, got {describe(tokenizer)}")
    if tokenizer.eos_token_id is None:
        raise ValueError("tokenizer has no eos_token (EOS token); set tokenizer.eos_token first")
    return tokenizer


def check_model(model: object) -> torch.nn.Module:
    """A torch module (a Hugging Face model) to score texts with."""
    return check_module("model", model)


def _targets(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]


def check_fits_model(model: torch.nn.Module, n_tokens: int, label: str) -> None:
    """Refuse a text of ``n_tokens`` (EOS included) longer than the model's positions instead
    of failing deep inside it; ``label`` names the text ("texts[3]")."""
    context = model_positions(model)
    if context is not None and n_tokens > context:
        raise ValueError(
            f"{label} has {n_tokens} tokens (with EOS), more than the model's context of "
            f"{context}; split or shorten it"
        )


@torch.no_grad()
def token_surprisal(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, text: str
) -> tuple[list[str], list[float]]:
    """Tokens of ``text`` (and the closing EOS) with their surprisal ``−log₂ p(token | prefix)``."""
    check_model(model)
    check_tokenizer(tokenizer)
    check_str("text", text)
    targets = _targets(tokenizer, text)
    check_fits_model(model, len(targets), "text")
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
    """Per-token perplexity of ``model`` on ``texts`` (each text scored on its own), in
    batches of ``batch_size`` texts (the result does not depend on it)."""
    check_model(model)
    check_tokenizer(tokenizer)
    texts = check_texts("texts", texts)
    check_int("batch_size", batch_size, minimum=1)
    targets = [_targets(tokenizer, t) for t in texts]
    for i, row in enumerate(targets):
        check_fits_model(model, len(row), f"texts[{i}]")
    model.eval()
    total_nll, total_tokens = 0.0, 0
    for start in range(0, len(targets), batch_size):
        rows = targets[start : start + batch_size]
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
        check_tokenizer(tokenizer)
        texts = check_texts("texts", texts)
        return cls(Counter(t for text in texts for t in _targets(tokenizer, text)), len(tokenizer))

    def _log2_prob(self, token: int) -> float:
        return math.log2((self.counts[token] + 1) / (self.counts.total() + self.vocab_size))

    def surprisal(self, tokenizer: PreTrainedTokenizerBase, text: str) -> list[float]:
        """``−log₂ p(token)`` for the same targets as :func:`token_surprisal`."""
        check_tokenizer(tokenizer)
        check_str("text", text)
        return [-self._log2_prob(t) for t in _targets(tokenizer, text)]

    def perplexity(self, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> float:
        check_tokenizer(tokenizer)
        texts = check_texts("texts", texts)
        bits = [b for text in texts for b in self.surprisal(tokenizer, text)]
        return 2 ** (sum(bits) / len(bits))


def unigram_perplexity(
    tokenizer: PreTrainedTokenizerBase, train_texts: Sequence[str], test_texts: Sequence[str]
) -> float:
    """Perplexity on ``test_texts`` of a :class:`UnigramLM` fitted on ``train_texts``."""
    train_texts = check_texts("train_texts", train_texts)
    test_texts = check_texts("test_texts", test_texts)
    return UnigramLM.fit(tokenizer, train_texts).perplexity(tokenizer, test_texts)
