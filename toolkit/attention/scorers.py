"""Key scorers for KV-cache compression: which cached entries are worth keeping.

A scorer maps the cached keys ``K`` and values ``V`` of one layer, shaped ``(B, H_kv, L, D)`` and
post-RoPE exactly as the cache stores them, to scores ``(B, H_kv, L)``; higher means keep. The
compressors in :mod:`toolkit.attention.compression` keep the top ``n_keep`` entries per KV head
(kvpress's ``ScorerPress`` convention). ``queries`` are the post-RoPE queries ``Q`` of the same
forward, ``(B, H, L_q, D)`` for the last ``L_q`` cached positions; only scorers that set
``needs_queries`` receive them (the compressor skips recomputing them otherwise).

Scorers (Godey et al., arXiv 2503.02812, §3 and the baselines of §4):

* Q-Filters: ``s(k) = −⟨f_{l,h}, k⟩`` with ``f_{l,h}`` the filter of layer ``l`` and KV head ``h``
  (docs/methods/qfilters.md#sign-convention: the filter is minus the sign-fixed dominant
  right-singular vector of the queries, so ``−⟨f, k⟩`` is large for keys aligned with the
  queries' dominant direction, i.e. keys that would receive large mean attention).
* K-norm: ``s(k) = −‖k‖₂`` (low-norm keys draw more attention; kvpress ``KnormPress``), or
  ``+‖k‖₂`` with ``keep="high"`` (the reversed ranking, a diagnostic).
* StreamingLLM: keep ``n_sinks`` attention sinks and the most recent positions.
* SnapKV: mean attention of the last ``w`` queries, pooled over positions (kvpress'
  ``SnapKVPress`` defaults: ``w = 64``, average pooling over 5 positions).
* Mean attention (oracle): the exact mean attention each key receives from all the queries
  of the forward that can see it — what a question-agnostic, mean-attention scorer such as
  Q-Filters estimates, computed exactly (it needs every attention weight, so it is a ceiling,
  not a press one would deploy).
* Random: seeded uniform scores, the floor every other scorer should beat.

A new scorer is a subclass with a ``score`` method, usually a few lines.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from toolkit._checks import check_choice, check_int, check_str, describe
from toolkit.attention.capture import _text_config

__all__ = [
    "KNormScorer",
    "MeanAttentionScorer",
    "QFiltersScorer",
    "RandomScorer",
    "SCORERS",
    "Scorer",
    "SnapKVScorer",
    "StreamingLLMScorer",
    "check_filters",
    "make_scorer",
]


class Scorer:
    """Scores cached entries of one layer; higher = keep.

    Subclasses implement :meth:`score`; ``needs_queries = True`` asks the compressor for the
    post-RoPE queries of the current forward, and :meth:`check` may reject a model up front.
    """

    needs_queries: bool = False

    def score(
        self,
        keys: torch.Tensor,
        values: torch.Tensor,
        queries: torch.Tensor | None,
        layer_idx: int,
    ) -> torch.Tensor:
        """Scores ``(B, H_kv, L)`` of ``keys``/``values`` ``(B, H_kv, L, D)`` given ``queries``
        ``(B, H, L_q, D)`` (or ``None`` when ``needs_queries`` is false)."""
        raise NotImplementedError

    def check(self, model: torch.nn.Module) -> None:
        """Raise if this scorer cannot score ``model``'s cache (default: any model is fine)."""

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{k}=<tensor {tuple(v.shape)}>" if isinstance(v, torch.Tensor) else f"{k}={v!r}"
            for k, v in vars(self).items()
            if not k.startswith("_")
        )
        return f"{type(self).__name__}({fields})"


def check_filters(filters: object) -> torch.Tensor:
    """Q-Filters as a finite floating ``(n_layers, H_kv, D)`` tensor with no empty axis; a
    NaN or infinite entry is refused naming the layer and KV head of its filter."""
    if not isinstance(filters, torch.Tensor):
        raise TypeError(
            "`filters` must be an (n_layers, H_kv, D) tensor or have a `.filters` tensor, "
            f"got {describe(filters)}"
        )
    if not filters.is_floating_point():
        raise TypeError(f"`filters` must be a floating-point tensor, got dtype {filters.dtype}")
    if filters.ndim != 3 or 0 in filters.shape:
        raise ValueError(
            f"`filters` must have shape (n_layers, H_kv, D) with no empty axis, got "
            f"{tuple(filters.shape)}"
        )
    broken = ~torch.isfinite(filters).all(dim=-1)  # (n_layers, H_kv)
    if broken.any():
        layer, head = broken.nonzero()[0].tolist()
        raise ValueError(
            f"`filters`[{layer}, {head}] (layer {layer}, KV head {head}) holds NaN or inf; "
            "recalibrate the Q-Filters"
        )
    return filters


class QFiltersScorer(Scorer):
    """Q-Filters (Godey et al. 2025, §3.2): ``s_{l,h}(k) = −⟨f_{l,h}, k⟩``.

    ``filters`` is an ``(n_layers, H_kv, D)`` float tensor, or any object whose ``.filters``
    attribute holds one (the calibration result of :mod:`toolkit.attention.qfilters`).
    """

    def __init__(self, filters):
        self.filters = check_filters(getattr(filters, "filters", filters)).detach()

    def check(self, model: torch.nn.Module) -> None:
        """``filters`` must match the model's (layers, KV heads, head dim)."""
        config = _text_config(model)
        head_dim = getattr(config, "head_dim", None) or (
            config.hidden_size // config.num_attention_heads
        )
        n_kv = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
        expected = (config.num_hidden_layers, n_kv, head_dim)
        if tuple(self.filters.shape) != expected:
            raise ValueError(
                f"`filters` has shape {tuple(self.filters.shape)} but the model needs "
                f"(n_layers, H_kv, D) = {expected}: calibrate filters for this model"
            )

    def score(self, keys, values, queries, layer_idx):
        n_layers, n_kv, dim = self.filters.shape
        check_int("layer_idx", layer_idx)
        if not isinstance(keys, torch.Tensor) or keys.dim() != 4:
            raise TypeError(f"`keys` must be a (B, H_kv, L, D) tensor, got {describe(keys)}")
        if not 0 <= layer_idx < n_layers or keys.shape[1] != n_kv or keys.shape[-1] != dim:
            raise ValueError(
                f"`filters` of shape {tuple(self.filters.shape)} do not fit `layer_idx`="
                f"{layer_idx} keys of shape {tuple(keys.shape)} (B, H_kv, L, D)"
            )
        f = self.filters[layer_idx].to(device=keys.device, dtype=torch.float32)  # (H_kv, D)
        return -torch.einsum("bhld,hd->bhl", keys.float(), f)


class KNormScorer(Scorer):
    """K-norm: ``s(k) = −‖k‖₂``, keep the low-norm keys (kvpress ``KnormPress``); with
    ``keep="high"``, ``s(k) = +‖k‖₂``: keep the high-norm keys instead."""

    def __init__(self, keep: str = "low"):
        self.keep = check_choice("keep", check_str("keep", keep), ("low", "high"))

    def score(self, keys, values, queries, layer_idx):
        norms = keys.float().norm(dim=-1)
        return norms if self.keep == "high" else -norms


class StreamingLLMScorer(Scorer):
    """StreamingLLM (Xiao et al. 2023): the first ``n_sinks`` positions, then recency.

    Score of position ``i`` among ``L``: ``L + i`` for sinks (``i < n_sinks``), else ``i``, so
    the top ``n`` are the sinks followed by the ``n − n_sinks`` most recent entries.
    """

    def __init__(self, n_sinks: int = 4):
        self.n_sinks = check_int("n_sinks", n_sinks, minimum=0)

    def score(self, keys, values, queries, layer_idx):
        batch, n_kv, length, _ = keys.shape
        position = torch.arange(length, device=keys.device, dtype=torch.float32)
        position[: self.n_sinks] += length
        return position.expand(batch, n_kv, length)


class SnapKVScorer(Scorer):
    """SnapKV (Li et al. 2024): attention from an observation window of the last queries.

    With ``w = min(window, L_q)`` last queries ``q_t`` at positions ``t ∈ [L − w, L)``, per query
    head ``a = softmax(q_t Kᵀ / √D)`` over its full causal row (keys ``≤ t``); the score of
    position ``i < L − w`` for KV head ``h`` is the mean over the window and over the
    ``H / H_kv`` query heads of group ``h``, then pooled over positions with ``kernel_size``
    (stride 1, same length): ``pooling="avg"`` (kvpress ``SnapKVPress``, the default) or
    ``"max"`` (the reference SnapKV code). Window positions score ``+∞`` (always kept).
    Defaults are kvpress': ``window=64``, ``kernel_size=5``, average pooling.
    """

    needs_queries = True

    def __init__(self, window: int = 64, kernel_size: int = 5, pooling: str = "avg"):
        self.window = check_int("window", window, minimum=1)
        self.kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"`kernel_size` must be odd to keep the length, got {kernel_size}")
        self.pooling = check_choice("pooling", check_str("pooling", pooling), ("avg", "max"))

    def score(self, keys, values, queries, layer_idx):
        if queries is None:
            raise ValueError("`queries` are required by SnapKVScorer")
        batch, n_kv, length, dim = keys.shape
        n_heads, n_queries = queries.shape[1], queries.shape[2]
        if n_heads % n_kv:
            raise ValueError(f"`queries` have {n_heads} heads, not a multiple of H_kv = {n_kv}")
        w = min(self.window, n_queries, length)
        group = n_heads // n_kv
        q = queries[:, :, -w:].float().view(batch, n_kv, group, w, dim)  # (B, H_kv, G, w, D)
        logits = torch.einsum("bhgwd,bhld->bhgwl", q, keys.float()) / dim**0.5
        query_pos = torch.arange(length - w, length, device=keys.device)
        future = torch.arange(length, device=keys.device)[None, :] > query_pos[:, None]  # (w, L)
        attn = logits.masked_fill(future, float("-inf")).softmax(dim=-1)
        scores = attn[..., : length - w].mean(dim=(2, 3))  # (B, H_kv, L − w)
        if length > w and self.kernel_size > 1:
            pad = self.kernel_size // 2
            pool = F.max_pool1d if self.pooling == "max" else F.avg_pool1d
            scores = pool(scores, self.kernel_size, stride=1, padding=pad)
        window_scores = scores.new_full((batch, n_kv, w), float("inf"))
        return torch.cat([scores, window_scores], dim=-1)


class MeanAttentionScorer(Scorer):
    """The exact mean attention each key receives: the oracle of question-agnostic,
    mean-attention scoring (Q-Filters estimates this quantity from one direction per head).

    The ``L_q`` queries of the forward sit at the last positions ``L − L_q … L − 1`` of the
    ``L`` keys (at prefill, ``L_q = L``: every position's query). For key ``j`` and KV head
    ``h``, ``s_j = (1/|I_j|) Σ_{t ∈ I_j} (1/G) Σ_{g ∈ h} softmax_j(q_{t,g} Kᵀ / √D)``, over the
    queries ``I_j = {t ≥ j}`` that can see it (causal; a sliding window is not modelled);
    keys no query sees (none at prefill) score their attention-free ``0``. Rows are computed
    ``chunk_size`` queries at a time.
    """

    needs_queries = True

    def __init__(self, chunk_size: int = 256):
        self.chunk_size = check_int("chunk_size", chunk_size, minimum=1)

    def score(self, keys, values, queries, layer_idx):
        if queries is None:
            raise ValueError("`queries` are required by MeanAttentionScorer")
        batch, n_kv, length, dim = keys.shape
        n_heads, n_queries = queries.shape[1], queries.shape[2]
        if n_heads % n_kv:
            raise ValueError(f"`queries` have {n_heads} heads, not a multiple of H_kv = {n_kv}")
        if n_queries > length:
            raise ValueError(f"{n_queries} `queries` for {length} keys: at most one per key")
        group = n_heads // n_kv
        q = queries.float().view(batch, n_kv, group, n_queries, dim)
        k = keys.float()
        received = keys.new_zeros((batch, n_kv, length), dtype=torch.float32)
        key_pos = torch.arange(length, device=keys.device)
        first = length - n_queries
        for start in range(0, n_queries, self.chunk_size):
            stop = min(start + self.chunk_size, n_queries)
            query_pos = torch.arange(first + start, first + stop, device=keys.device)
            logits = torch.einsum("bhgcd,bhld->bhgcl", q[:, :, :, start:stop], k) / dim**0.5
            future = key_pos[None, :] > query_pos[:, None]  # (c, L)
            attn = logits.masked_fill(future, float("-inf")).softmax(dim=-1)
            received += attn.sum(dim=3).mean(dim=2)
        seen_by = length - torch.maximum(key_pos, torch.tensor(first, device=keys.device))
        return received / seen_by.clamp(min=1).float()


class RandomScorer(Scorer):
    """Uniform random scores, seeded by ``(seed, layer_idx)``: reproducible across runs.
    ``seed`` is in ``[0, 2³² − 1]``."""

    def __init__(self, seed: int = 0):
        self.seed = check_int("seed", seed, minimum=0, maximum=2**32 - 1)

    def score(self, keys, values, queries, layer_idx):
        generator = torch.Generator().manual_seed(self.seed * 100_003 + layer_idx)
        scores = torch.rand(keys.shape[:-1], generator=generator)
        return scores.to(keys.device)


SCORERS: dict[str, type[Scorer]] = {
    "qfilters": QFiltersScorer,
    "knorm": KNormScorer,
    "streamingllm": StreamingLLMScorer,
    "snapkv": SnapKVScorer,
    "mean_attention": MeanAttentionScorer,
    "random": RandomScorer,
}


def make_scorer(name: str, **kwargs) -> Scorer:
    """The scorer called ``name`` (one of :data:`SCORERS`) built with ``kwargs``."""
    check_choice("name", check_str("name", name), sorted(SCORERS))
    return SCORERS[name](**kwargs)
