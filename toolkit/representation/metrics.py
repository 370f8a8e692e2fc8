"""Per-group measurements: who a model serves, in numbers.

* :func:`jensen_shannon_distance` and :func:`opinion_similarity` — ``1 − JS distance``
  (base 2, so in [0, 1]) between a model's answer distribution and a group's, the measure of
  Durmus et al. (arXiv:2306.16388); :func:`most_similar_group` picks the closest group.
* :func:`best_worst_gap` — the spread of a per-group metric: best group minus worst group.
* :func:`continuation_logprobs` — ``log p(completion | prompt)`` of many pairs, batched; the
  base of :func:`preference_accuracy` and of the survey's option scores.
* :func:`word_perplexity` / :func:`group_perplexity` — perplexity **per word**: dialect
  variants of one text have the same words (:mod:`toolkit.representation.dialects`) but not
  the same tokens, so per-token perplexity would reward a dialect for being cut into more,
  easier pieces. ``exp(total NLL / total words)`` compares parallel texts fairly.
* :func:`preference_accuracy` — share of a group's pairs whose chosen response the model
  scores higher (log-probability, or the DPO implicit reward against a reference).

Distributions follow the normalize-with-warning policy of
:mod:`toolkit.representation.distributions`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from toolkit._checks import check_bool, check_int, check_str, describe
from toolkit.lm_metrics import check_model, check_texts, check_tokenizer
from toolkit.representation.dialects import word_count
from toolkit.representation.distributions import check_distribution


def jensen_shannon_distance(p: object, q: object) -> float:
    """The Jensen–Shannon *distance* (square root of the divergence, base 2) of two
    distributions over the same options: 0 for identical ones, 1 for disjoint supports,
    symmetric."""
    p = check_distribution("p", p)
    q = check_distribution("q", q, size=len(p))
    m = [(a + b) / 2 for a, b in zip(p, q, strict=True)]

    def kl(x: Sequence[float]) -> float:
        return sum(a * math.log2(a / c) for a, c in zip(x, m, strict=True) if a > 0)

    divergence = max(0.0, (kl(p) + kl(q)) / 2)
    return min(1.0, math.sqrt(divergence))


def opinion_similarity(p: object, q: object) -> float:
    """``1 − jensen_shannon_distance(p, q)``: 1 for the same answers, 0 for disjoint ones."""
    return 1.0 - jensen_shannon_distance(p, q)


def _check_scores(name: str, values: object) -> dict[str, float]:
    if not isinstance(values, Mapping):
        raise TypeError(f"{name} must be a mapping group -> number, got {describe(values)}")
    if not values:
        raise ValueError(f"{name} is empty; give one number per group")
    out = {}
    for key, value in values.items():
        check_str(f"{name} key", key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{name}[{key!r}] must be a number, got {describe(value)}")
        if not math.isfinite(value):
            raise ValueError(f"{name}[{key!r}] must be a finite number, got {value}")
        out[key] = float(value)
    return out


def most_similar_group(similarities: Mapping[str, float]) -> str:
    """The group with the highest similarity (the first such in order on ties)."""
    sims = _check_scores("similarities", similarities)
    return max(sims, key=lambda g: sims[g])


@dataclass(frozen=True)
class Gap:
    """Best and worst group of a metric and the gap between them (always >= 0)."""

    best: str
    worst: str
    gap: float


def best_worst_gap(values: Mapping[str, float], higher_is_better: bool = True) -> Gap:
    """The best and worst group under ``values`` and ``|best − worst|``.

    With ``higher_is_better=False`` (perplexity) the lowest value is the best.
    """
    scores = _check_scores("values", values)
    check_bool("higher_is_better", higher_is_better)
    ordered = sorted(scores, key=lambda g: scores[g], reverse=higher_is_better)
    best, worst = ordered[0], ordered[-1]
    return Gap(best, worst, abs(scores[best] - scores[worst]))


def _check_pairs(pairs: object) -> list[tuple[str, str]]:
    if isinstance(pairs, str | bytes) or not isinstance(pairs, Sequence) or not pairs:
        raise TypeError(
            f"pairs must be a non-empty list of (prompt, completion), got {describe(pairs)}"
        )
    out = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise TypeError(f"pairs[{i}] must be a (prompt, completion) pair, got {describe(pair)}")
        out.append((check_str(f"pairs[{i}][0]", pair[0], allow_empty=True),
                    check_str(f"pairs[{i}][1]", pair[1])))  # fmt: skip
    return out


@torch.no_grad()
def continuation_logprobs(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    pairs: Sequence[tuple[str, str]],
    *,
    add_eos: bool = False,
    batch_size: int = 64,
) -> torch.Tensor:
    """``log p(completion | EOS + prompt)`` summed over the completion's tokens, for each
    ``(prompt, completion)`` pair: a float tensor ``(N,)``.

    Prompt and completion are tokenized separately and joined, so the completion's tokens do
    not depend on the prompt; completions normally start with a space. With ``add_eos`` the
    closing EOS counts too (the probability that the text ends there).
    """
    check_model(model)
    check_tokenizer(tokenizer)
    pairs = _check_pairs(pairs)
    check_bool("add_eos", add_eos)
    check_int("batch_size", batch_size, minimum=1)
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    positions = getattr(model.config, "n_positions", None) or getattr(
        model.config, "max_position_embeddings", None
    )
    rows = []
    for i, (prompt, completion) in enumerate(pairs):
        head = [eos] + tokenizer(prompt, add_special_tokens=False)["input_ids"]
        tail = tokenizer(completion, add_special_tokens=False)["input_ids"] + (
            [eos] if add_eos else []
        )
        if positions is not None and len(head) + len(tail) > positions:
            raise ValueError(
                f"pairs[{i}] is {len(head) + len(tail)} tokens, more than the model's "
                f"{positions} positions; shorten it"
            )
        rows.append((head, tail))
    model.eval()
    device = model.device
    out = torch.empty(len(rows))
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        width = max(len(h) + len(t) for h, t in chunk)
        ids = torch.full((len(chunk), width), pad, dtype=torch.long)
        attention = torch.zeros_like(ids)
        mask = torch.zeros(len(chunk), width - 1, dtype=torch.bool)
        for j, (head, tail) in enumerate(chunk):
            seq = head + tail
            ids[j, : len(seq)] = torch.tensor(seq)
            attention[j, : len(seq)] = 1
            mask[j, len(head) - 1 : len(seq) - 1] = True
        logits = model(input_ids=ids.to(device), attention_mask=attention.to(device)).logits
        logps = logits[:, :-1].float().log_softmax(-1)
        picked = logps.gather(-1, ids[:, 1:, None].to(device))[..., 0].cpu()
        out[start : start + len(chunk)] = (picked * mask).sum(-1)
    return out


@torch.no_grad()
def word_perplexity(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    prompts: Sequence[str] | None = None,
) -> float:
    """``exp(total NLL / total words)`` of ``texts``, each scored up to its own EOS after EOS
    (or after EOS + its prompt, when ``prompts`` are given; only the text's words count):
    per-word perplexity, comparable across dialect variants of the same texts."""
    texts = check_texts("texts", texts)
    if prompts is None:
        prompts = [""] * len(texts)
    prompts = check_texts("prompts", prompts, allow_empty=True)
    if len(prompts) != len(texts):
        raise ValueError(f"prompts has {len(prompts)} texts for {len(texts)} texts")
    pairs = list(zip(prompts, texts, strict=True))
    nll = -continuation_logprobs(model, tokenizer, pairs, add_eos=True)
    words = sum(word_count(t) for t in texts)
    if words == 0:
        raise ValueError("texts hold no words; perplexity per word is undefined")
    return math.exp(float(nll.sum()) / words)


def group_perplexity(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts_by_group: Mapping[str, Sequence[str]],
    prompts_by_group: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, float]:
    """:func:`word_perplexity` of each group's texts (after its prompts, when given); use
    parallel texts to compare groups."""
    if not isinstance(texts_by_group, Mapping) or not texts_by_group:
        raise TypeError(
            "texts_by_group must be a non-empty mapping group -> texts, got "
            f"{describe(texts_by_group)}"
        )
    prompts_by_group = prompts_by_group or {}
    return {
        g: word_perplexity(model, tokenizer, texts, prompts_by_group.get(g))
        for g, texts in texts_by_group.items()
    }


def _check_rows(rows: object) -> list[dict]:
    if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Sequence) or not rows:
        raise TypeError(f"rows must be a non-empty list of preference rows, got {describe(rows)}")
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"rows[{i}] must be a dict, got {describe(row)}")
        for key in ("prompt", "chosen", "rejected"):
            if key not in row:
                raise ValueError(f"rows[{i}] has no {key!r} (keys: {list(row)})")
            check_str(f"rows[{i}][{key!r}]", row[key], allow_empty=key == "prompt")
    return list(rows)


def preference_margins(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    rows: Sequence[Mapping],
    reference: PreTrainedModel | None = None,
) -> torch.Tensor:
    """``s(chosen) − s(rejected)`` per row, ``s = log π(y | x)`` (minus ``log π_ref(y | x)``
    with a ``reference``: DPO's implicit reward up to β)."""
    rows = _check_rows(rows)
    pairs = [(r["prompt"], r[side]) for r in rows for side in ("chosen", "rejected")]
    scores = continuation_logprobs(model, tokenizer, pairs, add_eos=True)
    if reference is not None:
        scores = scores - continuation_logprobs(reference, tokenizer, pairs, add_eos=True)
    return scores[0::2] - scores[1::2]


def preference_accuracy(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    rows: Sequence[Mapping],
    reference: PreTrainedModel | None = None,
) -> float:
    """Share of ``rows`` whose chosen response scores higher than the rejected one (ties
    count half), by :func:`preference_margins`."""
    margins = preference_margins(model, tokenizer, rows, reference)
    return float(((margins > 0).float() + 0.5 * (margins == 0).float()).mean())


__all__ = [
    "Gap",
    "best_worst_gap",
    "continuation_logprobs",
    "group_perplexity",
    "jensen_shannon_distance",
    "most_similar_group",
    "opinion_similarity",
    "preference_accuracy",
    "preference_margins",
    "word_perplexity",
]
