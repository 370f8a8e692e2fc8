"""KV-cache compression through the transformers 5 Cache API, usable under ``model.generate``.

Two compressors evict cache entries chosen by a :class:`~toolkit.attention.scorers.Scorer`
(Godey et al., arXiv 2503.02812; presses of NVIDIA kvpress):

* :class:`KVCompressor` (prefill): once a prompt of ``L`` tokens has been written to an empty
  cache, every layer keeps, per KV head, the ``n_keep = ⌊L·(1 − ratio)⌋`` top-scored entries,
  always including the last ``window`` positions, in their original order. The prompt itself
  attends to the full prompt (compression happens after each attention layer's forward).
* :class:`StreamingKVCompressor` (decoding): whenever a layer holds more than ``budget``
  entries it is compressed back to ``budget``, again keeping the last ``window``.

Both take ``keep``, token positions that are never evicted (attention sinks, a system prompt,
or — as an oracle in the needle test — the answer): they count towards ``n_keep`` / ``budget``
like the window. Both are forward hooks on the attention modules, installed by
``with compressor.apply(model):``
and removed on exit, also after an exception::

    with KVCompressor(QFiltersScorer(filters), ratio=0.875).apply(model):
        model.generate(input_ids, attention_mask=mask, max_new_tokens=64)

Cache bookkeeping. A compressed layer becomes a :class:`CompressedLayer`. Its keys are post-RoPE,
so kept entries carry their original positions; what must stay right is the position of every
new token and the mask over the shorter key axis. Let ``N`` be the number of tokens the layer
has seen and ``C ≤ N`` the entries it holds:

* ``get_seq_length()`` returns ``N`` (the true count), so new tokens get RoPE positions
  ``N, N+1, …`` whether positions come from the model's default ``arange + get_seq_length()``
  (manual loops), from ``generate``'s ``attention_mask.cumsum`` or from its input slicing.
* ``get_mask_sizes(q)`` returns ``kv_length = C + q`` (the keys attention will see) and
  ``kv_offset = N − C``: the mask indexes keys ``N − C … N + q − 1`` and queries ``N … N + q − 1``,
  so every kept entry is visible, new keys are causal, and a 2-D attention mask of width
  ``N + q`` (what ``generate`` carries) is read only where it is all ones.

Limits. The mask above assumes no padding, so a 2-D ``attention_mask`` with any zero (left or
right padding) raises ``ValueError``; batches must hold equal-length prompts. Every layer and
head keeps the same number of entries (one rectangular tensor per layer, one mask for all
layers of a kind). ``DynamicCache`` layers are compressed, full-attention and sliding-window
ones alike (Mistral, Qwen2 with ``use_sliding_window``, mixed ``layer_types``: see
:class:`CompressedSlidingLayer`);
static and quantized layers raise ``TypeError``; assisted decoding's ``crop`` is refused. The
attention modules are those :func:`toolkit.attention.capture.attention_modules` finds
(Llama-style ``q_proj``/``k_proj``, GPT-2's ``c_attn``, …); scorers that need queries (SnapKV,
the mean-attention oracle) recompute them from the module's input: ``q_proj`` (with ``q_norm``
and RoPE where the model has them) or the first third of GPT-2's fused ``c_attn``.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from fractions import Fraction

import torch
import torch.nn.functional as F
from transformers import DynamicCache
from transformers.cache_utils import Cache, DynamicLayer, DynamicSlidingWindowLayer
from transformers.models.llama.modeling_llama import rotate_half

from toolkit._checks import check_bool, check_int, check_number, describe
from toolkit._torch import check_module
from toolkit.attention.capture import (
    _check_input_ids,
    attention_modules,
)
from toolkit.attention.scorers import Scorer, make_scorer

__all__ = [
    "CacheStats",
    "CompressedLayer",
    "CompressedSlidingLayer",
    "KVCompressor",
    "StreamingKVCompressor",
    "compression_stats",
    "continuation_perplexity",
    "evict_out_of_window",
    "select_entries",
    "window_eviction",
]


class CompressedLayer(DynamicLayer):
    """A full-attention cache layer that holds ``C`` of the ``N`` tokens it has seen.

    ``keys``/``values`` are ``(B, H_kv, C, D)``; ``positions`` ``(B, H_kv, C)`` are the true
    positions of the kept entries; ``cumulative_length`` is ``N`` (the name transformers' sliding
    layers use for the same count, so :meth:`reset` zeroes it).
    """

    is_croppable = False

    def __init__(self):
        super().__init__()
        self.cumulative_length = 0
        self.positions: torch.Tensor | None = None

    @classmethod
    def from_entries(
        cls, keys: torch.Tensor, values: torch.Tensor, positions: torch.Tensor, seen: int
    ) -> CompressedLayer:
        """A layer holding ``keys``/``values`` at ``positions`` after ``seen`` tokens."""
        layer = cls()
        layer.lazy_initialization(keys, values)
        layer.keys, layer.values, layer.positions = keys, values, positions
        layer.cumulative_length = seen
        return layer

    def update(self, key_states, value_states, *args, **kwargs):
        batch, n_kv, n_new, _ = key_states.shape
        new = torch.arange(n_new, device=key_states.device) + self.cumulative_length
        new = new.expand(batch, n_kv, n_new)
        self.positions = new if self.positions is None else torch.cat([self.positions, new], -1)
        self.cumulative_length += n_new
        return super().update(key_states, value_states, *args, **kwargs)

    def get_seq_length(self) -> int:
        """``N``, the tokens seen (not the ``C`` entries held): positions continue from here."""
        return self.cumulative_length

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        """``(C + q, N − C)``: the mask spans the held keys, offset to their true positions."""
        held = self.keys.shape[-2] if self.is_initialized else 0
        return held + query_length, self.cumulative_length - held

    def reset(self) -> None:
        self.positions = None
        super().reset()

    def crop(self, tokens_to_remove: int) -> None:
        raise NotImplementedError("a compressed cache cannot be cropped (assisted decoding)")

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        super().reorder_cache(beam_idx)
        if self.positions is not None:
            self.positions = self.positions.index_select(0, beam_idx.to(self.positions.device))

    def batch_repeat_interleave(self, repeats: int) -> None:
        super().batch_repeat_interleave(repeats)
        if self.positions is not None:
            self.positions = self.positions.repeat_interleave(repeats, dim=0)

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        super().batch_select_indices(indices)
        if self.positions is not None:
            self.positions = self.positions[indices, ...]


class CompressedSlidingLayer(CompressedLayer):
    """A sliding-window cache layer (window ``w``: the query at position ``t`` sees keys
    ``t − w < j ≤ t``) holding ``C`` of the entries its window can still reach.

    The mask transformers builds from :meth:`get_mask_sizes` places the held keys at the
    contiguous positions ``N − C … N − 1``, never earlier than their true ones, and one mask
    serves every sliding layer, so all of them must hold the same number of entries and none
    that has left the window. Before each forward, the compressor's model hook therefore
    drops, in every compressed sliding layer, the entries no query of the forward can see
    (``j ≤ N − w``) and, where another layer had to drop more, its own oldest entries too
    (:func:`evict_out_of_window`). A one-token forward (decoding) is then exact; a longer
    forward is exact while every held entry stays in the window of all its queries, and one
    that would need a held entry to leave the window mid-forward is refused (``ValueError``:
    feed those tokens in shorter pieces). Outside the compressor's ``apply`` (or
    :func:`window_eviction`) a forward that would show a stale entry is refused too.
    """

    is_sliding = True

    def __init__(self, sliding_window: int):
        super().__init__()
        self.sliding_window = check_int("sliding_window", sliding_window, minimum=1)

    @classmethod
    def from_entries(  # type: ignore[override]
        cls,
        keys: torch.Tensor,
        values: torch.Tensor,
        positions: torch.Tensor,
        seen: int,
        *,
        sliding_window: int,
    ) -> CompressedSlidingLayer:
        """A layer holding ``keys``/``values`` at ``positions`` after ``seen`` tokens."""
        layer = cls(sliding_window)
        layer.lazy_initialization(keys, values)
        layer.keys, layer.values, layer.positions = keys, values, positions
        layer.cumulative_length = seen
        return layer

    def n_stale(self) -> int:
        """Held entries no query of the next forward can see (``j ≤ N − w``), counted in the
        head that holds most of them (each head's positions ascend: they are a prefix)."""
        if self.positions is None or not self.is_initialized or not self.positions.numel():
            return 0
        first_visible = self.cumulative_length - self.sliding_window + 1
        return int((self.positions < first_visible).sum(dim=-1).max())

    def drop_oldest(self, n: int) -> None:
        """Drop the ``n`` oldest held entries of every head."""
        if n > 0:
            self.keys = self.keys[:, :, n:]
            self.values = self.values[:, :, n:]
            self.positions = self.positions[..., n:]

    def update(self, key_states, value_states, *args, **kwargs):
        seen, n_new = self.cumulative_length, key_states.shape[-2]
        if self.n_stale():
            raise ValueError(
                "a compressed sliding-window layer still holds entries that have left its "
                "window; run the model inside the compressor's `apply(model)` (or "
                "`window_eviction(model)`), which drops them before each forward"
            )
        if n_new > 1 and self.positions is not None and self.positions.numel():
            held = self.positions.shape[-1]
            shown = torch.arange(seen - held, seen, device=self.positions.device)  # mask's view
            leaving = self.positions <= seen + n_new - 1 - self.sliding_window
            if bool((leaving & (self.positions != shown)).any()):
                raise ValueError(
                    f"a {n_new}-token forward on a compressed sliding-window layer (window "
                    f"{self.sliding_window}, {seen} tokens seen) would keep showing entries "
                    "that leave the window during it; feed the tokens in shorter pieces "
                    "(one at a time is always exact)"
                )
        return super().update(key_states, value_states, *args, **kwargs)


def evict_out_of_window(cache: Cache) -> None:
    """Before a forward: drop from every :class:`CompressedSlidingLayer` of ``cache`` the
    entries that have left its window, and as many of its oldest ones as the layer that had
    to drop most, so that the sliding layers keep one common size (one mask serves them)."""
    layers = [
        layer for layer in getattr(cache, "layers", ()) if isinstance(layer, CompressedSlidingLayer)
    ]
    stale = [layer.n_stale() for layer in layers]
    if not layers or not max(stale):
        return
    held = {layer.keys.shape[-2] for layer in layers}
    if len(held) != 1:
        raise ValueError(
            f"the compressed sliding-window layers of `cache` hold different numbers of "
            f"entries {sorted(held)}; they must share one size"
        )
    for layer in layers:
        layer.drop_oldest(max(stale))


@contextmanager
def window_eviction(model: torch.nn.Module) -> Iterator[None]:
    """Run :func:`evict_out_of_window` on the cache of every forward of ``model`` inside the
    ``with`` block (what a compressor's ``apply`` does): for decoding from a compressed
    sliding-window cache without the compressor's hooks."""
    signature = inspect.signature(check_module("model", model).forward)

    def hook(_model, args, kwargs):
        inputs = signature.bind_partial(*args, **kwargs).arguments
        cache = inputs.get("cache", inputs.get("past_key_values"))
        if isinstance(cache, Cache):
            evict_out_of_window(cache)

    handle = model.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield
    finally:
        handle.remove()


def select_entries(
    scores: torch.Tensor, n_keep: int, window: int, pinned: torch.Tensor | None = None
) -> torch.Tensor:
    """Indices ``(B, H_kv, n_keep)``, ascending, of the top ``n_keep`` of ``scores`` per head,
    the last ``window`` entries and those where ``pinned`` (bool, like ``scores``) always
    among them. ``scores`` must not hold NaN, and the forced entries must fit in ``n_keep``."""
    if not isinstance(scores, torch.Tensor) or scores.dim() == 0:
        raise TypeError(f"`scores` must be a (..., L) tensor, got {describe(scores)}")
    n_keep = check_int("n_keep", n_keep, minimum=1, maximum=scores.shape[-1])
    window = check_int("window", window, minimum=0, maximum=n_keep)
    if scores.isnan().any():
        index = tuple(scores.isnan().nonzero()[0].tolist())
        raise ValueError(f"`scores` hold NaN (first at index {index}): every entry needs a score")
    forced = torch.zeros_like(scores, dtype=torch.bool)
    if pinned is not None:
        if not isinstance(pinned, torch.Tensor) or pinned.dtype != torch.bool:
            raise TypeError(f"`pinned` must be a bool tensor, got {describe(pinned)}")
        if pinned.shape != scores.shape:
            raise ValueError(
                f"`pinned` has shape {tuple(pinned.shape)}, `scores` {tuple(scores.shape)}"
            )
        forced |= pinned
    if window:
        forced[..., -window:] = True
    if int(forced.sum(dim=-1).max()) > n_keep:
        raise ValueError(
            f"`window`={window} and `pinned` force {int(forced.sum(dim=-1).max())} entries into "
            f"the {n_keep} kept"
        )
    scores = scores.float().masked_fill(forced, float("inf"))
    return scores.topk(n_keep, dim=-1).indices.sort(dim=-1).values


def _post_rope_queries(
    module: torch.nn.Module,
    hidden_states: torch.Tensor,
    position_embeddings: tuple[torch.Tensor, torch.Tensor] | None,
) -> torch.Tensor:
    """The queries ``(B, H, L_q, D)`` as the attention module computes them: ``RoPE(q_norm?(W_q
    h))`` for Llama-style modules (``q_proj``; RoPE when the model passes position embeddings),
    the first third of the fused ``c_attn`` output for GPT-2 (absolute positions: no RoPE)."""
    batch, length, _ = hidden_states.shape
    if hasattr(module, "q_proj"):
        queries = module.q_proj(hidden_states).view(batch, length, -1, module.head_dim)
        if (q_norm := getattr(module, "q_norm", None)) is not None:
            queries = q_norm(queries)
        queries = queries.transpose(1, 2)
        if position_embeddings is None:
            return queries
        cos, sin = (t.unsqueeze(1) for t in position_embeddings)
        return queries * cos + rotate_half(queries) * sin
    if hasattr(module, "c_attn") and hasattr(module, "split_size"):  # GPT-2: [q | k | v]
        queries = module.c_attn(hidden_states).split(module.split_size, dim=2)[0]
        return queries.view(batch, length, -1, module.head_dim).transpose(1, 2)
    raise TypeError(
        "scorers that need queries support attention modules with a `q_proj` (Llama-style) or "
        f"a fused `c_attn` (GPT-2), not {type(module).__name__}"
    )


def _cache_attention_modules(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The self-attention modules of ``model`` that write a cache layer (have a ``layer_idx``)."""
    modules = [m for m in attention_modules(model) if hasattr(m, "layer_idx")]
    if not modules:
        raise TypeError(
            f"`model` ({type(model).__name__}) has no transformers self-attention modules with "
            "a `layer_idx` (Hugging Face decoder-only causal LMs)"
        )
    return modules


def _check_keep(keep: object) -> tuple[int, ...]:
    """``keep`` as ascending token positions: ints ≥ 0, each listed once."""
    if isinstance(keep, str | bytes) or not isinstance(keep, Iterable):
        raise TypeError(f"`keep` must be an iterable of token positions, got {describe(keep)}")
    keep = tuple(check_int(f"keep[{i}]", p, minimum=0) for i, p in enumerate(keep))
    repeated = sorted(p for p, n in Counter(keep).items() if n > 1)
    if repeated:
        raise ValueError(f"`keep` lists positions {repeated} more than once")
    return tuple(sorted(keep))


class _CacheCompressor:
    """Hook machinery shared by the compressors: score, select, gather one layer at a time."""

    def __init__(self, scorer: Scorer | str, window: int, keep: Iterable[int]):
        scorer = make_scorer(scorer) if isinstance(scorer, str) else scorer
        if not isinstance(scorer, Scorer):
            raise TypeError(f"`scorer` must be a Scorer or a scorer name, got {describe(scorer)}")
        self.scorer = scorer
        self.window = check_int("window", window, minimum=0)
        self.keep = _check_keep(keep)

    def _check_room(self, n_keep: int, what: str) -> None:
        """``window`` plus ``keep`` must fit in the ``n_keep`` entries kept of ``what``."""
        if self.window + len(self.keep) > n_keep:
            raise ValueError(
                f"`window`={self.window} and {len(self.keep)} `keep` positions do not fit in "
                f"the {n_keep} entries kept of {what}; lower `window` or `ratio`, or keep fewer"
            )

    def _target(self, layer: DynamicLayer, query_length: int) -> int | None:
        """Entries ``layer`` should keep after a forward over ``query_length`` tokens, or
        ``None`` to leave it as it is."""
        raise NotImplementedError

    def _check_prompt(self, length: int) -> None:
        """Raise if a prompt of ``length`` tokens into an empty cache cannot be compressed."""

    def _check_forward(self, signature: inspect.Signature, _model, args, kwargs) -> None:
        """Refuse, before the model writes to its cache, an empty input, padding, and a prompt
        this compressor cannot compress; ``signature`` is the model's ``forward``'s."""
        inputs = signature.bind_partial(*args, **kwargs).arguments
        tokens = inputs.get("input_ids")
        tokens = inputs.get("inputs_embeds") if tokens is None else tokens
        if isinstance(tokens, torch.Tensor) and tokens.ndim >= 2 and tokens.shape[1] == 0:
            raise ValueError("`input_ids` is empty: the prompt needs at least one token")
        mask = inputs.get("attention_mask")
        if isinstance(mask, torch.Tensor) and mask.ndim == 2 and not bool(mask.all()):
            raise ValueError(
                "`attention_mask` contains padding (zeros): KV compression supports batches of "
                "equal-length sequences only; generate them one by one or without padding"
            )
        cache = inputs.get("cache", inputs.get("past_key_values"))
        if isinstance(cache, Cache):
            evict_out_of_window(cache)
        prefill = cache is None or cache.get_seq_length() == 0
        if isinstance(tokens, torch.Tensor) and prefill and inputs.get("use_cache") is not False:
            self._check_prompt(tokens.shape[1])

    @contextmanager
    def apply(self, model: torch.nn.Module) -> Iterator[_CacheCompressor]:
        """Compress ``model``'s cache inside the ``with`` block; hooks removed on exit."""
        modules = _cache_attention_modules(model)
        self.scorer.check(model)
        signature = inspect.signature(model.forward)
        check = functools.partial(self._check_forward, signature)
        handles = [model.register_forward_pre_hook(check, with_kwargs=True)]
        try:
            for module in modules:
                handles.append(module.register_forward_hook(self._hook, with_kwargs=True))
            yield self
        finally:
            for handle in handles:
                handle.remove()

    def _hook(self, module, args, kwargs, output) -> None:
        cache = kwargs.get("cache", kwargs.get("past_key_values"))
        if cache is None:
            return
        layer_idx = module.layer_idx
        layer = cache.layers[layer_idx]
        _check_layer_type(layer, layer_idx)
        hidden_states = kwargs["hidden_states"] if "hidden_states" in kwargs else args[0]
        n_keep = self._target(layer, hidden_states.shape[1])
        if n_keep is None:
            return
        cache.layers[layer_idx] = self.compress_layer(
            module, layer, n_keep, hidden_states, kwargs.get("position_embeddings")
        )

    def layer_scores(
        self,
        module: torch.nn.Module,
        layer: DynamicLayer,
        hidden_states: torch.Tensor,
        position_embeddings: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """The scorer's scores ``(B, H_kv, L)`` of ``layer``'s entries, written by ``module``'s
        forward over ``hidden_states`` (queries recomputed from them when the scorer needs
        them)."""
        keys, values = layer.keys, layer.values  # (B, H_kv, L, D)
        queries = None
        if self.scorer.needs_queries:
            queries = _post_rope_queries(module, hidden_states, position_embeddings)
        scores = self.scorer.score(keys, values, queries, module.layer_idx)
        if scores.shape != keys.shape[:-1]:
            raise ValueError(
                f"`scorer` {self.scorer!r} returned scores of shape {tuple(scores.shape)}, "
                f"expected (B, H_kv, L) = {tuple(keys.shape[:-1])}"
            )
        return scores

    def compress_layer(
        self,
        module: torch.nn.Module,
        layer: DynamicLayer,
        n_keep: int,
        hidden_states: torch.Tensor,
        position_embeddings: tuple[torch.Tensor, torch.Tensor] | None = None,
        *,
        scores: torch.Tensor | None = None,
    ) -> CompressedLayer:
        """``layer`` (written by ``module``'s forward over ``hidden_states``) with its
        ``n_keep`` best entries per KV head: a :class:`CompressedLayer`, or a
        :class:`CompressedSlidingLayer` for a sliding-window layer. ``scores``: the
        :meth:`layer_scores` already computed (they do not depend on ``n_keep``)."""
        keys, values = layer.keys, layer.values  # (B, H_kv, L, D)
        if scores is None:
            scores = self.layer_scores(module, layer, hidden_states, position_embeddings)
        if isinstance(layer, CompressedLayer):
            positions = layer.positions
        else:  # a sliding layer past its window holds the last entries only
            first = layer.get_seq_length() - keys.shape[-2]
            positions = torch.arange(first, first + keys.shape[-2], device=keys.device).expand(
                scores.shape[:2] + (-1,)
            )
        pinned = None
        if self.keep:
            pinned = torch.isin(positions, torch.tensor(self.keep, device=positions.device))
        keep = select_entries(scores, n_keep, self.window, pinned)
        gather = keep.unsqueeze(-1).expand(-1, -1, -1, keys.shape[-1])
        window = _sliding_window(layer)
        entries = (keys.gather(2, gather), values.gather(2, gather), positions.gather(2, keep))
        if window is not None:
            return CompressedSlidingLayer.from_entries(
                *entries, seen=layer.get_seq_length(), sliding_window=window
            )
        return CompressedLayer.from_entries(*entries, seen=layer.get_seq_length())


def _sliding_window(layer: DynamicLayer) -> int | None:
    """The window of a sliding-window cache layer, None for a full-attention one."""
    return layer.sliding_window if getattr(layer, "is_sliding", False) else None


_COMPRESSIBLE = (DynamicLayer, DynamicSlidingWindowLayer, CompressedLayer, CompressedSlidingLayer)


def _check_layer_type(layer: object, layer_idx: int) -> None:
    if type(layer) not in _COMPRESSIBLE:
        raise TypeError(
            "KV compression needs DynamicCache layers (full attention or sliding window), but "
            f"layer {layer_idx} of the `cache` is a {type(layer).__name__}"
        )


class KVCompressor(_CacheCompressor):
    """Prefill compression (kvpress ``ScorerPress``): after a prompt of ``L > 1`` tokens is
    written to an empty cache, keep ``n_keep = ⌊L·(1 − ratio)⌋`` entries per KV head, the last
    ``window`` among them. Later forwards (decoding, continuations) are left alone.

    ``ratio`` is the fraction removed, in ``[0, 1)``: 0.5 is ×2 compression, 0.875 is ×8, and 0
    keeps everything (generations identical to no compression). ``n_keep`` is computed exactly,
    with ``ratio`` read as the decimal it prints as (0.9 is 9/10, not the nearest binary
    fraction). Positions in ``keep`` are kept too, within the same ``n_keep``; they must lie in
    the prompt. A prompt that cannot be compressed is refused before the forward writes to the
    cache (see :meth:`n_keep`).
    """

    def __init__(
        self, scorer: Scorer | str, ratio: float, *, window: int = 8, keep: Iterable[int] = ()
    ):
        super().__init__(scorer, window, keep)
        self.ratio = check_number("ratio", ratio)
        if not 0 <= self.ratio < 1:
            raise ValueError(f"`ratio` must be in [0, 1) (the fraction removed), got {ratio!r}")
        self._kept = 1 - Fraction(repr(self.ratio))

    def n_keep(self, length: int) -> int:
        """``n_keep = ⌊L·(1 − ratio)⌋`` entries kept per KV head of an ``L = length``-token
        prompt. Raises ``ValueError`` when that keeps nothing, when ``keep`` names a position
        past the prompt, or when ``window`` and ``keep`` do not fit in ``n_keep``."""
        length = check_int("length", length, minimum=1)
        n_keep = math.floor(length * self._kept)
        if n_keep < 1:
            raise ValueError(
                f"`ratio`={self.ratio} keeps no entry of a {length}-token prompt; lower it"
            )
        beyond = [p for p in self.keep if p >= length]
        if beyond:
            raise ValueError(
                f"`keep` positions {beyond} lie past the {length}-token prompt (positions 0 to "
                f"{length - 1})"
            )
        self._check_room(n_keep, f"a {length}-token prompt at ratio {self.ratio}")
        return n_keep

    def _check_prompt(self, length):
        if length > 1:
            self.n_keep(length)

    def _target(self, layer, query_length):
        if isinstance(layer, CompressedLayer) or query_length < 2:
            return None
        if layer.get_seq_length() != query_length:  # the cache held entries before this forward
            return None
        n_keep = self.n_keep(query_length)
        held = layer.keys.shape[-2]  # fewer than the prompt in a sliding layer past its window
        return n_keep if n_keep <= held else None

    def __repr__(self) -> str:
        keep = f", keep={self.keep}" if self.keep else ""
        return f"KVCompressor({self.scorer!r}, ratio={self.ratio}, window={self.window}{keep})"


class StreamingKVCompressor(_CacheCompressor):
    """Streaming compression: whenever a layer holds more than ``budget`` entries (after any
    forward, prefill included), compress it back to ``budget``, the last ``window`` kept.
    Positions in ``keep`` are pinned from the step they are seen on (the final length is not
    known in advance, so later positions are not refused).

    Each forward attends to at most ``budget + L_q`` entries; scorers needing queries see the
    queries of the current forward only (one per decoding step).
    """

    def __init__(
        self, scorer: Scorer | str, budget: int, *, window: int = 8, keep: Iterable[int] = ()
    ):
        super().__init__(scorer, window, keep)
        self.budget = check_int("budget", budget, minimum=1)
        if self.budget <= self.window:
            raise ValueError(f"`budget`={budget} must exceed `window`={window}")
        self._check_room(budget, f"the `budget` of {budget}")

    def _target(self, layer, query_length):
        return self.budget if layer.keys.shape[-2] > self.budget else None

    def __repr__(self) -> str:
        keep = f", keep={self.keep}" if self.keep else ""
        return (
            f"StreamingKVCompressor({self.scorer!r}, budget={self.budget}, "
            f"window={self.window}{keep})"
        )


@dataclass
class CacheStats:
    """What a cache holds: ``kept[l, h]`` entries of KV head ``h`` in layer ``l`` (the same for
    every batch row), ``seen[l]`` tokens that layer has processed, ``bytes`` of keys + values."""

    kept: torch.Tensor  # (n_layers, H_kv), long
    seen: list[int]
    bytes: int

    @property
    def kept_fraction(self) -> float:
        """Entries held / entries an uncompressed cache would hold (1 − the realized ratio)."""
        full = sum(s * self.kept.shape[1] for s in self.seen)
        return float(self.kept.sum()) / full if full else 1.0


def compression_stats(cache: Cache) -> CacheStats:
    """Entries kept per layer and KV head, tokens seen per layer, and key + value bytes."""
    if not isinstance(cache, Cache):
        raise TypeError(f"`cache` must be a transformers Cache, got {type(cache).__name__}")
    kept, seen, n_bytes = [], [], 0
    for layer in cache.layers:
        if not layer.is_initialized:
            continue
        kept.append(torch.full((layer.keys.shape[1],), layer.keys.shape[-2], dtype=torch.long))
        seen.append(layer.get_seq_length())
        n_bytes += sum(t.numel() * t.element_size() for t in (layer.keys, layer.values))
    if not kept:
        raise ValueError("`cache` is empty: run a forward with it first")
    return CacheStats(kept=torch.stack(kept), seen=seen, bytes=n_bytes)


@torch.no_grad()
def continuation_perplexity(
    model: torch.nn.Module,
    input_ids: torch.Tensor,
    prefix_len: int,
    compressor: _CacheCompressor | None = None,
    *,
    token_by_token: bool | None = None,
    chunk_size: int = 1,
) -> float:
    """``exp(−mean_t log p(x_t | x_<t))`` over ``t ≥ prefix_len``, the prefix read through its
    (possibly compressed) cache: the metric behind the paper's perplexity-drop comparison.

    The prefix ``input_ids[:, :prefix_len]`` is one forward (compressed by ``compressor``);
    the continuation is teacher-forced in one forward, or piece by piece when
    ``token_by_token`` (default: only for a :class:`StreamingKVCompressor`, whose budget must
    be enforced as the cache grows): ``chunk_size`` tokens a forward, 1 by default (every
    step sees at most ``budget + 1`` entries); a larger ``chunk_size`` compresses every
    ``chunk_size`` tokens, as presses that compress during decoding at an interval do, and
    lets each forward see up to ``budget + chunk_size`` entries.
    """
    _check_input_ids("input_ids", input_ids, check_module("model", model))
    total = input_ids.shape[1]
    prefix_len = check_int("prefix_len", prefix_len)
    if not 1 <= prefix_len < total:
        raise ValueError(f"`prefix_len` must be in [1, {total}), got {prefix_len}")
    if compressor is not None and not isinstance(compressor, _CacheCompressor):
        raise TypeError(
            "`compressor` must be None, a KVCompressor or a StreamingKVCompressor, got "
            f"{describe(compressor)}"
        )
    if token_by_token is None:
        token_by_token = isinstance(compressor, StreamingKVCompressor)
    check_bool("token_by_token", token_by_token)
    chunk_size = check_int("chunk_size", chunk_size, minimum=1)
    input_ids = input_ids.to(model.device)
    cache = DynamicCache(config=model.config)
    with compressor.apply(model) if compressor is not None else nullcontext():
        logits = [model(input_ids[:, :prefix_len], cache=cache, use_cache=True).logits[:, -1:]]
        if token_by_token:
            for t in range(prefix_len, total - 1, chunk_size):
                piece = input_ids[:, t : min(t + chunk_size, total - 1)]
                logits.append(model(piece, cache=cache, use_cache=True).logits)
        elif total - 1 > prefix_len:
            logits.append(model(input_ids[:, prefix_len:-1], cache=cache, use_cache=True).logits)
    logits = torch.cat(logits, dim=1).float()  # (B, T − prefix_len, V)
    nll = F.cross_entropy(logits.flatten(0, 1), input_ids[:, prefix_len:].flatten())
    return math.exp(nll.item())
