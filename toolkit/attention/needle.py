"""Needle-in-a-haystack accuracy: does greedy decoding retrieve a fact stated far back?

Q-Filters (Godey et al., arXiv 2503.02812, §4.2) judges KV-cache compression by this test: a
compressed cache must still hold the keys of the needle for the model to copy its value.
:func:`needle_accuracy` runs ``model.generate`` (greedy, with an attention mask) once per
:class:`~toolkit.data.retrieval.NeedleExample` and counts an answer correct when the
continuation, leading whitespace stripped, starts with the expected answer and does not go
on with another letter or digit (``"481."`` answers ``481``; ``"4810"`` does not).
``context(example)`` wraps every example's forward passes, which is how a cache press installs its
hooks; it receives the example, so a press can depend on it — :func:`answer_positions` with a
compressor's ``keep`` gives the oracle that never evicts the answer.

Two protocols. By default the whole prompt is one ``generate`` call, so a prefill compressor
compresses haystack and question together. With ``compress_context=True`` (kvpress' benchmark
protocol) the haystack is prefilled alone into a fresh ``DynamicCache`` — the compressor
compresses it — and ``generate`` then reads the question with that cache and decodes: the
question is never evicted and cannot guide what is kept (query-agnostic compression).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm
from transformers import DynamicCache, PreTrainedModel, PreTrainedTokenizerBase

from toolkit.data.retrieval import NeedleExample


@dataclass(frozen=True)
class NeedleRecord:
    """One example's outcome: its depth, the expected answer, the decoded continuation."""

    depth: float
    expected: str
    generated: str
    correct: bool


@dataclass(frozen=True)
class NeedleResult:
    """Fraction of examples answered correctly, and every example's record."""

    accuracy: float
    records: tuple[NeedleRecord, ...]


def answers(generated: str, expected: str) -> bool:
    """Whether ``generated`` starts (after whitespace) with ``expected`` as a whole word."""
    text = generated.lstrip()
    return text.startswith(expected) and not text[len(expected) : len(expected) + 1].isalnum()


def _check_examples(examples: Sequence[NeedleExample]) -> None:
    if isinstance(examples, NeedleExample) or not examples:
        raise ValueError("examples must be a non-empty list of NeedleExample")
    for i, example in enumerate(examples):
        if not isinstance(example, NeedleExample):
            raise TypeError(f"examples[{i}] must be a NeedleExample, got {type(example).__name__}")


def _max_new_tokens(tokenizer: PreTrainedTokenizerBase, example: NeedleExample) -> int:
    """The answer's tokens after a space, plus one for whatever follows it."""
    return len(tokenizer(" " + example.answer, add_special_tokens=False)["input_ids"]) + 1


@torch.no_grad()
def needle_accuracy(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    examples: Sequence[NeedleExample],
    *,
    context: Callable[[NeedleExample], AbstractContextManager] | None = None,
    max_new_tokens: int | None = None,
    compress_context: bool = False,
) -> NeedleResult:
    """Greedy-decode each example's prompt and score the continuation against its answer.

    ``context`` is called with each example and returns a context manager, entered around
    that example's forward passes; ``compress_context`` picks the protocol (module
    docstring). ``max_new_tokens`` defaults to the answer's token
    count (after a space) plus one.
    """
    _check_examples(examples)
    if max_new_tokens is not None and (
        isinstance(max_new_tokens, bool)
        or not isinstance(max_new_tokens, int)
        or max_new_tokens < 1
    ):
        raise ValueError(
            f"max_new_tokens must be None or a positive integer, got {max_new_tokens!r}"
        )
    enter = context or (lambda _example: contextlib.nullcontext())
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    records = []
    for example in tqdm(examples, desc="needle", leave=False):
        encoded = tokenizer(example.prompt, return_tensors="pt", return_offsets_mapping=True)
        ids = encoded["input_ids"].to(model.device)
        kwargs = {}
        with enter(example):
            if compress_context:
                kwargs["cache"] = _prefill(model, ids, encoded["offset_mapping"], example)
            output = model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=max_new_tokens or _max_new_tokens(tokenizer, example),
                do_sample=False,
                pad_token_id=pad,
                **kwargs,
            )
        new = output[0, ids.shape[1] :]
        generated = tokenizer.decode(new, skip_special_tokens=True)
        records.append(
            NeedleRecord(
                example.depth, example.answer, generated, answers(generated, example.answer)
            )
        )
    return NeedleResult(sum(r.correct for r in records) / len(records), tuple(records))


def answer_positions(tokenizer: PreTrainedTokenizerBase, example: NeedleExample) -> list[int]:
    """Token positions, in ``example.prompt`` as ``tokenizer`` encodes it, of the needle's
    answer where the haystack states it: every token overlapping ``example.answer_span``."""
    start, end = example.answer_span
    offsets = tokenizer(example.prompt, return_offsets_mapping=True)["offset_mapping"]
    return [i for i, (a, b) in enumerate(offsets) if a < end and b > start]


def _prefill(model, ids, offsets, example: NeedleExample) -> DynamicCache:
    """A cache holding the haystack: the tokens of ``ids`` that start before the question."""
    n_context = int((offsets[0, :, 0] < len(example.context)).sum())
    if not 0 < n_context < ids.shape[1]:
        raise ValueError(f"example at depth {example.depth} has no haystack before its question")
    cache = DynamicCache()
    model(input_ids=ids[:, :n_context], cache=cache, use_cache=True)
    return cache


def accuracy_by_depth(result: NeedleResult, bins: int | None = None) -> dict[float, float]:
    """Accuracy per needle depth: per distinct depth (``bins=None``), or per equal-width bin
    of [0, 1] keyed by the bin's centre (empty bins left out). Keys are sorted."""
    if not isinstance(result, NeedleResult):
        raise TypeError(f"result must be a NeedleResult, got {type(result).__name__}")
    if bins is not None and (isinstance(bins, bool) or not isinstance(bins, int) or bins < 1):
        raise ValueError(f"bins must be None or a positive integer, got {bins!r}")
    groups: dict[float, list[bool]] = {}
    for record in result.records:
        if bins is None:
            key = record.depth
        else:
            index = min(int(record.depth * bins), bins - 1)
            key = round((index + 0.5) / bins, 6)
        groups.setdefault(key, []).append(record.correct)
    return {key: sum(hits) / len(hits) for key, hits in sorted(groups.items())}
