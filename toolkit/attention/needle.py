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

from toolkit._checks import (
    check_bool,
    check_int,
    check_nonempty,
    check_probability,
    check_str,
    describe,
)
from toolkit._torch import check_module
from toolkit.attention.capture import _check_input_ids
from toolkit.data.retrieval import NeedleExample


@dataclass(frozen=True)
class NeedleRecord:
    """One example's outcome: its depth, the expected answer, the decoded continuation."""

    depth: float
    expected: str
    generated: str
    correct: bool

    def __post_init__(self):
        check_probability("depth", self.depth)
        check_str("expected", self.expected)
        check_str("generated", self.generated, allow_empty=True)
        check_bool("correct", self.correct)


@dataclass(frozen=True)
class NeedleResult:
    """Fraction of examples answered correctly, and every example's record."""

    accuracy: float
    records: tuple[NeedleRecord, ...]

    def __post_init__(self):
        check_probability("accuracy", self.accuracy)
        if not isinstance(self.records, tuple):
            raise TypeError(f"`records` must be a tuple, got {describe(self.records)}")
        for i, record in enumerate(self.records):
            if not isinstance(record, NeedleRecord):
                raise TypeError(f"`records[{i}]` must be a NeedleRecord, got {describe(record)}")


def answers(generated: str, expected: str) -> bool:
    """Whether ``generated`` starts (after whitespace) with ``expected`` as a whole word;
    ``expected`` must not be blank (every continuation would start with it)."""
    check_str("expected", expected)
    text = check_str("generated", generated, allow_empty=True).lstrip()
    return text.startswith(expected) and not text[len(expected) : len(expected) + 1].isalnum()


def _check_examples(examples: Sequence[NeedleExample]) -> None:
    if isinstance(examples, NeedleExample | str) or not isinstance(examples, Sequence):
        raise TypeError(f"examples must be a list of NeedleExample, got {describe(examples)}")
    check_nonempty("examples", examples)
    for i, example in enumerate(examples):
        if not isinstance(example, NeedleExample):
            raise TypeError(f"examples[{i}] must be a NeedleExample, got {describe(example)}")


def _check_tokenizer(tokenizer: object) -> None:
    if not callable(tokenizer) or not hasattr(tokenizer, "decode"):
        raise TypeError(f"`tokenizer` must be a Hugging Face tokenizer, got {describe(tokenizer)}")


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

    Every prompt is encoded and checked before any decoding: one that encodes to no token, or
    whose tokens plus ``max_new_tokens`` exceed the model's ``max_position_embeddings``, is
    refused naming its index in ``examples``.
    """
    check_module("model", model)
    _check_tokenizer(tokenizer)
    _check_examples(examples)
    if max_new_tokens is not None:
        check_int("max_new_tokens", max_new_tokens, minimum=1)
    if context is not None and not callable(context):
        raise TypeError(f"`context` must be None or a callable, got {describe(context)}")
    check_bool("compress_context", compress_context)
    enter = context or (lambda _example: contextlib.nullcontext())
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    encodings = []
    for i, example in enumerate(examples):
        encoded = tokenizer(example.prompt, return_tensors="pt", return_offsets_mapping=True)
        n_new = max_new_tokens or _max_new_tokens(tokenizer, example)
        _check_input_ids(f"examples[{i}].prompt", encoded["input_ids"], model, n_new)
        encodings.append((encoded, n_new))
    records = []
    for example, (encoded, n_new) in zip(
        tqdm(examples, desc="needle", leave=False), encodings, strict=True
    ):
        ids = encoded["input_ids"].to(model.device)
        kwargs = {}
        with enter(example):
            if compress_context:
                kwargs["cache"] = _prefill(model, ids, encoded["offset_mapping"], example)
            output = model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=n_new,
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
    _check_tokenizer(tokenizer)
    if not isinstance(example, NeedleExample):
        raise TypeError(f"`example` must be a NeedleExample, got {describe(example)}")
    start, end = example.answer_span
    offsets = tokenizer(example.prompt, return_offsets_mapping=True)["offset_mapping"]
    positions = [i for i, (a, b) in enumerate(offsets) if a < end and b > start]
    if not positions:
        raise ValueError(
            f"no token of `example.prompt` covers its answer span {example.answer_span}"
        )
    return positions


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
        raise TypeError(f"result must be a NeedleResult, got {describe(result)}")
    if bins is not None:
        check_int("bins", bins, minimum=1)
    groups: dict[float, list[bool]] = {}
    for record in result.records:
        if bins is None:
            key = record.depth
        else:
            index = min(int(record.depth * bins), bins - 1)
            key = round((index + 0.5) / bins, 6)
        groups.setdefault(key, []).append(record.correct)
    return {key: sum(hits) / len(hits) for key, hits in sorted(groups.items())}
