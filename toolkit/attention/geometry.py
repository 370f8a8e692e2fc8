"""Query/key geometry per attention head (Godey et al., arXiv 2503.02812, §3).

For layer ``l`` and head ``h`` stack the real-token states into ``X ∈ ℝ^{N×D}`` (``N = B·T``
minus padding) and take its float32 SVD ``X = U Σ V^⊤`` — uncentered, as in the paper: the
mean direction is the point. The paper observes *joint anisotropy*: queries and keys of a head
share one dominant direction ``v = V_{:,1}``, and with its sign fixed so that most queries
project positively on it (``svd_sign``: most entries of ``U_{:,1}`` positive), the attention
logit ``⟨q, k⟩ ≈ ⟨q, v⟩⟨k, v⟩`` grows with ``⟨k, v⟩``. A key's projection on ``v`` therefore
estimates its mean attention without computing any attention.

* :func:`singular_spectra` — how dominant the first direction is (the spectrum ``σ_i / Σσ``).
* :func:`dominant_directions` — the sign-fixed ``v`` per query head, and how one-sided the
  query and key projections on it are.
* :func:`key_scores` — any scorer's scores of the captured keys, as a compressor at prefill
  would compute them; :func:`rank_fractions` — where chosen entries rank among them.
* :func:`projection_attention_correlation` — Spearman ``ρ`` between the Q-Filters score
  ``−⟨f, k⟩`` and the exact mean attention ``ā`` of each key, next to the K-norm baseline
  ``−‖k‖``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from scipy.stats import spearmanr

from toolkit._checks import check_bool, check_choice, check_int, check_nonempty, describe
from toolkit.attention.capture import QKCapture
from toolkit.attention.scorers import KNormScorer, QFiltersScorer, Scorer

__all__ = [
    "Correlations",
    "DominantDirections",
    "Spectra",
    "dominant_direction",
    "dominant_directions",
    "key_scores",
    "projection_attention_correlation",
    "rank_fractions",
    "singular_spectra",
]


def dominant_direction(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sign-fixed first right-singular vectors and the singular values of ``rows``
    ``(heads, N, D)``: ``(svd_sign · V_{:,1}, Σ)`` shaped ``(heads, D)`` and
    ``(heads, min(N, D))``, float32. ``svd_sign = +1`` when at least half of ``U_{:,1}`` is
    positive, else ``−1``, so most rows project positively on the returned direction."""
    if not isinstance(rows, torch.Tensor) or not rows.is_floating_point():
        raise TypeError(f"`rows` must be a floating-point tensor, got {describe(rows)}")
    if rows.dim() != 3 or 0 in rows.shape:
        raise ValueError(
            f"`rows` must be (heads, N, D) with no empty axis, got {tuple(rows.shape)}"
        )
    broken = ~torch.isfinite(rows).all(dim=-1)  # (heads, N)
    if broken.any():
        head, row = broken.nonzero()[0].tolist()
        raise ValueError(f"`rows` of head {head} hold NaN or inf (row {row})")
    u, sigma, vh = torch.linalg.svd(rows.float(), full_matrices=False)
    positive = (u[:, :, 0] > 0).sum(dim=-1)
    svd_sign = torch.where(2 * positive >= rows.shape[1], 1.0, -1.0)  # (heads,)
    return svd_sign[:, None] * vh[:, 0], sigma


def _check_capture(capture: object) -> QKCapture:
    if not isinstance(capture, QKCapture):
        raise TypeError(f"`capture` must be a QKCapture (from capture_qk), got {describe(capture)}")
    return capture


@dataclass
class Spectra:
    """Per-head singular spectra of ``which`` states: ``values`` ``(n_layers, heads, D)`` are
    ``σ_i / Σ_j σ_j`` (each row sums to 1), ``first_share`` ``(n_layers, heads)`` is
    ``σ_1² / Σ_j σ_j²``, the share of the uncentered second moment ``‖X‖_F²`` along the first
    direction."""

    values: torch.Tensor
    first_share: torch.Tensor
    layers: tuple[int, ...]
    which: str
    post_rope: bool


def singular_spectra(capture: QKCapture, which: str = "q", post_rope: bool = True) -> Spectra:
    """Normalized singular values of each head's ``(B·T, D)`` query (``"q"``) or key (``"k"``)
    matrix, padding excluded (see :class:`Spectra` for the normalization)."""
    _check_capture(capture)
    check_choice("which", which, ("q", "k"))
    check_bool("post_rope", post_rope)
    values, shares = [], []
    for layer in capture.layers:
        sigma = torch.linalg.svdvals(capture.rows(layer, which, post_rope))  # (heads, min(N, D))
        sigma = torch.nn.functional.pad(sigma, (0, capture.head_dim - sigma.shape[-1]))
        values.append(sigma / sigma.sum(dim=-1, keepdim=True))
        energy = sigma.square()
        shares.append(energy[:, 0] / energy.sum(dim=-1))
    return Spectra(torch.stack(values), torch.stack(shares), capture.layers, which, post_rope)


@dataclass
class DominantDirections:
    """The paper's joint-anisotropy observation, measured per layer and query head.

    ``directions`` ``(n_layers, H, D)``: sign-fixed first right-singular vector ``v`` of the
    queries. ``query_majority`` ``(n_layers, H)``: fraction of queries with ``⟨q, v⟩ > 0``
    (≥ ½ up to exact zeros, by the sign fix). ``key_opposite`` ``(n_layers, H)``: fraction of
    the keys of the head's KV group on the other side, ``⟨k, v⟩ < 0``. ``alignment``
    ``(n_layers, H)``: ``|cos|`` between ``v`` and the first singular direction of those keys
    (1 = queries and keys share the direction).
    """

    directions: torch.Tensor
    query_majority: torch.Tensor
    key_opposite: torch.Tensor
    alignment: torch.Tensor
    layers: tuple[int, ...]
    post_rope: bool


def dominant_directions(capture: QKCapture, post_rope: bool = True) -> DominantDirections:
    """Sign-fixed dominant query directions per head and the one-sidedness of queries and keys
    along them (see :class:`DominantDirections`)."""
    _check_capture(capture)
    check_bool("post_rope", post_rope)
    directions, majority, opposite, alignment = [], [], [], []
    for layer in capture.layers:
        queries = capture.rows(layer, "q", post_rope)  # (H, N, D)
        keys = capture.rows(layer, "k", post_rope)  # (H_kv, N, D)
        v_q, _ = dominant_direction(queries)  # (H, D)
        v_k = dominant_direction(keys)[0].repeat_interleave(capture.group_size, dim=0)
        keys = keys.repeat_interleave(capture.group_size, dim=0)  # (H, N, D): each head's group
        directions.append(v_q)
        majority.append((torch.einsum("hnd,hd->hn", queries, v_q) > 0).float().mean(dim=-1))
        opposite.append((torch.einsum("hnd,hd->hn", keys, v_q) < 0).float().mean(dim=-1))
        alignment.append((v_q * v_k).sum(dim=-1).abs())
    return DominantDirections(
        torch.stack(directions),
        torch.stack(majority),
        torch.stack(opposite),
        torch.stack(alignment),
        capture.layers,
        post_rope,
    )


@dataclass
class Correlations:
    """Spearman ``ρ`` per captured layer and KV head, ``(n_layers, H_kv)``, between a key score
    and the key's exact mean attention (averaged over the group's query heads): ``qfilter`` for
    ``−⟨f, k⟩``, ``knorm`` for the K-norm baseline ``−‖k‖``. NaN where a score is constant."""

    qfilter: torch.Tensor
    knorm: torch.Tensor
    layers: tuple[int, ...]


def _spearman_per_head(score: torch.Tensor, target: torch.Tensor, real: torch.Tensor) -> list:
    """``ρ`` per head between ``score`` and ``target`` ``(B, H_kv, T)`` over the ``real`` keys."""
    return [
        float(spearmanr(score[:, h][real].double().cpu(), target[:, h][real].double().cpu())[0])
        for h in range(score.shape[1])
    ]


def projection_attention_correlation(
    capture: QKCapture, filters, chunk_size: int = 256
) -> Correlations:
    """How well Q-Filters ``filters`` (a :class:`~toolkit.attention.qfilters.QFilters` or an
    ``(n_layers, H_kv, D)`` tensor, indexed by model layer) rank the keys of ``capture`` by the
    attention they really receive; the real keys of the whole batch are ranked together."""
    _check_capture(capture)
    check_int("chunk_size", chunk_size, minimum=1)
    qfilter, knorm = QFiltersScorer(filters), KNormScorer()
    qfilter_rho, knorm_rho = [], []
    for layer in capture.layers:
        keys = capture.keys[layer]  # (B, H_kv, T, D)
        batch, n_kv, length, _ = keys.shape
        attention = capture.mean_attention(layer, chunk_size)  # (B, H, T)
        target = attention.view(batch, n_kv, capture.group_size, length).mean(dim=2)
        real = capture.attention_mask.to(keys.device)
        qfilter_rho.append(_spearman_per_head(qfilter.score(keys, None, None, layer), target, real))
        knorm_rho.append(_spearman_per_head(knorm.score(keys, None, None, layer), target, real))
    return Correlations(torch.tensor(qfilter_rho), torch.tensor(knorm_rho), capture.layers)


def key_scores(capture: QKCapture, scorer: Scorer) -> torch.Tensor:
    """``scorer``'s scores of every captured layer's keys, ``(n_layers, B, H_kv, T)`` in the order
    of ``capture.layers``: what a prefill compressor ranks (the prompt's post-RoPE keys and
    values, and its queries for scorers that need them)."""
    _check_capture(capture)
    if not isinstance(scorer, Scorer):
        raise TypeError(f"`scorer` must be a Scorer, got {describe(scorer)}")
    return torch.stack(
        [
            scorer.score(
                capture.keys[layer],
                capture.values[layer],
                capture.queries[layer] if scorer.needs_queries else None,
                layer,
            )
            for layer in capture.layers
        ]
    )


def rank_fractions(scores: torch.Tensor, positions: Sequence[int]) -> torch.Tensor:
    """Rank of the entries at ``positions`` among ``scores`` ``(..., T)``, as a fraction of ``T``.

    0 is the top-scored entry, ``(T − 1)/T`` the lowest; ties count in the entry's favour. A
    prefill compressor at factor ``c`` (``ratio = 1 − 1/c``) keeps an entry outside its recent
    window only if its fraction is below ``1/c``. Returns ``(..., len(positions))``.
    """
    if not isinstance(scores, torch.Tensor) or scores.dim() == 0:
        raise TypeError(f"`scores` must be a (..., T) tensor, got {describe(scores)}")
    if scores.shape[-1] == 0:
        raise ValueError(f"`scores` have no entry (shape {tuple(scores.shape)})")
    if scores.isnan().any():
        raise ValueError("`scores` hold NaN: a rank among them is undefined")
    if isinstance(positions, str | bytes) or not isinstance(positions, Sequence):
        raise TypeError(f"`positions` must be a sequence of indices, got {describe(positions)}")
    length = scores.shape[-1]
    positions = [
        check_int(f"positions[{i}]", p, minimum=0, maximum=length - 1)
        for i, p in enumerate(check_nonempty("positions", positions))
    ]
    chosen = scores[..., positions]
    higher = (scores.unsqueeze(-2) > chosen.unsqueeze(-1)).sum(-1)
    return higher.float() / length
