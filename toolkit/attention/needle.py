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

Protocols. By default the whole prompt is one ``generate`` call, so a prefill compressor
compresses haystack and question together — but the prompt's own forward still attends to
everything, so the first answer token is predicted before anything is evicted. With
``compress_context=True`` (kvpress' benchmark protocol) the haystack is prefilled alone into a
fresh ``DynamicCache`` — the compressor compresses it — and ``generate`` then reads the
question with that cache and decodes: the question is never evicted and cannot guide what is
kept (question-agnostic compression). Adding ``question_aware=True`` prefills the haystack and
the question proper (:attr:`~toolkit.data.retrieval.NeedleExample.asked`, through its ``?``)
before compressing, and reads only the answer prefix (``"The secret number of … is"``) with
the compressed cache: a scorer that looks at the last queries (SnapKV's observation window)
then sees the question, as in the question-aware setting of kvpress' benchmarks.

:func:`needle_sweep` measures many prefill compressors at once under these protocols: the
prefill's own forward does not depend on the compression (each layer is compressed after its
attention ran), so one prefill per example serves every compressor, and only the short
question and answer are decoded per compressor — the same records as
:func:`needle_accuracy`, many times faster.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Hashable, Mapping, Sequence
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
    question_aware: bool = False,
) -> NeedleResult:
    """Greedy-decode each example's prompt and score the continuation against its answer.

    ``context`` is called with each example and returns a context manager, entered around
    that example's forward passes; ``compress_context`` picks the protocol (module
    docstring), and ``question_aware`` (with ``compress_context`` only) moves the question
    proper into the compressed prefill. ``max_new_tokens`` defaults to the answer's token
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
    _check_question_aware(question_aware, compress_context)
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
                n_prefill = _prefill_length(ids, encoded["offset_mapping"], example, question_aware)
                kwargs["cache"] = _prefill(model, ids, n_prefill)
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


def _check_question_aware(question_aware: object, compress_context: bool) -> bool:
    check_bool("question_aware", question_aware)
    if question_aware and not compress_context:
        raise ValueError(
            "`question_aware=True` needs `compress_context=True` (without it the whole prompt, "
            "question included, is one uncompressed forward)"
        )
    return question_aware


def _prefill_length(ids, offsets, example: NeedleExample, question_aware: bool) -> int:
    """Tokens of ``ids`` the compressed prefill reads: those starting before the question, or
    before the answer prefix (after the question proper) when ``question_aware``."""
    boundary = len(example.context)
    if question_aware:
        boundary += 1 + len(example.asked)
    n_prefill = int((offsets[0, :, 0] < boundary).sum())
    if not 0 < n_prefill < ids.shape[1]:
        raise ValueError(
            f"example at depth {example.depth} has no "
            + (
                "answer prefix after its question"
                if question_aware
                else "haystack before its question"
            )
        )
    return n_prefill


def _prefill(model, ids, n_prefill: int) -> DynamicCache:
    """A cache holding the first ``n_prefill`` tokens of ``ids``."""
    cache = DynamicCache(config=model.config)
    model(input_ids=ids[:, :n_prefill], cache=cache, use_cache=True)
    return cache


@contextlib.contextmanager
def _recording_attention_inputs(model) -> dict:
    """Record, per attention module of ``model``, the hidden states and position embeddings
    its forward received (what a compressor's hook would see)."""
    from toolkit.attention.compression import _cache_attention_modules

    seen: dict[int, tuple] = {}

    def hook(module, args, kwargs, _output):
        hidden = kwargs["hidden_states"] if "hidden_states" in kwargs else args[0]
        seen[module.layer_idx] = (module, hidden, kwargs.get("position_embeddings"))

    handles = [
        m.register_forward_hook(hook, with_kwargs=True) for m in _cache_attention_modules(model)
    ]
    try:
        yield seen
    finally:
        for handle in handles:
            handle.remove()


def _compressed_cache(
    cache: DynamicCache, seen: dict, compressor, n_prefill: int, memo: dict
) -> DynamicCache:
    """A new cache holding ``compressor``'s selection of every layer of ``cache`` (left
    untouched), as its hooks would have made it during the prefill; ``None``: a copy.
    ``memo`` keeps each scorer's scores per layer (the same at every ratio)."""
    from toolkit.attention.compression import _check_layer_type

    layers = []
    for layer_idx, layer in enumerate(cache.layers):
        layer = copy.copy(layer)  # update() replaces tensors, never writes into them
        if compressor is not None and layer_idx in seen:
            _check_layer_type(layer, layer_idx)
            n_keep = compressor._target(layer, n_prefill)
            if n_keep is not None:
                module, hidden, position_embeddings = seen[layer_idx]
                key = (id(compressor.scorer), layer_idx)
                if key not in memo:
                    memo[key] = compressor.layer_scores(module, layer, hidden, position_embeddings)
                layer = compressor.compress_layer(
                    module, layer, n_keep, hidden, position_embeddings, scores=memo[key]
                )
        layers.append(layer)
    fresh = copy.copy(cache)
    fresh.layers = layers
    return fresh


def _check_compressors(compressors: object) -> dict:
    from toolkit.attention.compression import KVCompressor

    if not isinstance(compressors, Mapping):
        raise TypeError(
            "`compressors` must be a mapping of names to KVCompressors (or functions of an "
            f"example returning one, or None for the full cache), got {describe(compressors)}"
        )
    check_nonempty("compressors", list(compressors))
    for key, value in compressors.items():
        if not isinstance(key, Hashable):
            raise TypeError(f"`compressors` key {key!r} is not hashable")
        if value is not None and not isinstance(value, KVCompressor) and not callable(value):
            raise TypeError(
                f"`compressors`[{key!r}] must be a KVCompressor, a function of an example "
                f"returning one, or None, got {describe(value)}"
            )
    return dict(compressors)


@torch.no_grad()
def needle_sweep(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    examples: Sequence[NeedleExample],
    compressors: Mapping[Hashable, object],
    *,
    question_aware: bool = False,
    max_new_tokens: int | None = None,
    progress: bool = True,
) -> dict[Hashable, NeedleResult]:
    """Needle accuracy of every prefill compressor in ``compressors`` under the
    ``compress_context`` protocol (``question_aware`` as in :func:`needle_accuracy`).

    ``compressors`` maps a name to a :class:`~toolkit.attention.compression.KVCompressor`, to a
    function of the example returning one (e.g. with ``keep=answer_positions(...)``), or to
    ``None`` (the full cache). Each example is prefilled once; each compressor selects from
    that prefill's cache exactly what its hooks would have kept, and the rest of the prompt is
    read and the answer decoded greedily from the selection. Returns one
    :class:`NeedleResult` per name, identical to ``needle_accuracy(..., compress_context=True,
    context=lambda e: compressor.apply(model))``.
    """
    from toolkit.attention.compression import KVCompressor, window_eviction

    check_module("model", model)
    _check_tokenizer(tokenizer)
    _check_examples(examples)
    compressors = _check_compressors(compressors)
    _check_question_aware(question_aware, True)
    if max_new_tokens is not None:
        check_int("max_new_tokens", max_new_tokens, minimum=1)
    check_bool("progress", progress)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    records: dict[Hashable, list[NeedleRecord]] = {key: [] for key in compressors}
    for i, example in enumerate(
        tqdm(examples, desc="needle sweep", leave=False, disable=not progress)
    ):
        encoded = tokenizer(example.prompt, return_tensors="pt", return_offsets_mapping=True)
        n_new = max_new_tokens or _max_new_tokens(tokenizer, example)
        _check_input_ids(f"examples[{i}].prompt", encoded["input_ids"], model, n_new)
        ids = encoded["input_ids"].to(model.device)
        n_prefill = _prefill_length(ids, encoded["offset_mapping"], example, question_aware)
        chosen = {}
        for key, entry in compressors.items():
            compressor = (
                entry if entry is None or isinstance(entry, KVCompressor) else entry(example)
            )
            if compressor is not None:
                if not isinstance(compressor, KVCompressor):
                    raise TypeError(
                        f"`compressors`[{key!r}] returned {describe(compressor)}, not a "
                        "KVCompressor"
                    )
                compressor.scorer.check(model)
                compressor.n_keep(n_prefill)  # refuse before any work, naming the problem
            chosen[key] = compressor
        with _recording_attention_inputs(model) as seen:
            cache = _prefill(model, ids, n_prefill)
        memo: dict = {}
        for key, compressor in chosen.items():
            with window_eviction(model):  # what the compressor's hooks do for sliding layers
                output = model.generate(
                    input_ids=ids,
                    attention_mask=torch.ones_like(ids),
                    max_new_tokens=n_new,
                    do_sample=False,
                    pad_token_id=pad,
                    cache=_compressed_cache(cache, seen, compressor, n_prefill, memo),
                )
            generated = tokenizer.decode(output[0, ids.shape[1] :], skip_special_tokens=True)
            records[key].append(
                NeedleRecord(
                    example.depth, example.answer, generated, answers(generated, example.answer)
                )
            )
    return {
        key: NeedleResult(sum(r.correct for r in rows) / len(rows), tuple(rows))
        for key, rows in records.items()
    }


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
