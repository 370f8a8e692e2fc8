"""Public entry points: check inputs, keep the valid token rows, dispatch, scatter back.

Every function takes hidden states ``(..., H)`` (usually ``(B, T, H)``) and LM-head weights
``(V, H)`` instead of logits, so an implementation can form the logits a chunk of rows at a
time. Positions that are ignored (``labels == ignore_index``) or masked out are dropped before
any logit is computed and come back as 0. Results are float32 (float64 for float64 inputs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch

from toolkit.kernels import dispatch
from toolkit.kernels.logits import RowTerm, upcast


class TeacherTerm(NamedTuple):
    """One term ``coef · (hidden · lm_head_weightᵀ)`` of a teacher's logits.

    ``hidden`` is ``(..., H_k)`` with the policy's leading shape, ``lm_head_weight`` is
    ``(V, H_k)`` with the policy's vocabulary, ``coef`` a number or a per-token tensor of the
    leading shape (e.g. AlignDistil's token-adaptive ``w_t``). No gradient reaches any of them.
    """

    hidden: torch.Tensor
    lm_head_weight: torch.Tensor
    coef: float | torch.Tensor = 1.0


def token_logprobs(
    hidden: torch.Tensor,
    lm_head_weight: torch.Tensor,
    labels: torch.Tensor,
    *,
    lm_head_bias: torch.Tensor | None = None,
    ignore_index: int = -100,
    temperature: float = 1.0,
    return_entropy: bool = False,
    impl: str | None = None,
    chunk_size: int | None = None,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Per-token ``log p(y_t)`` (and entropy) under ``p = softmax((h_t · Wᵀ + b) / τ)``.

    Args:
        hidden: ``(..., H)`` final hidden states, e.g. ``(B, T, H)`` already shifted so that
            position t predicts ``labels[..., t]``.
        lm_head_weight: ``(V, H)``, e.g. ``model.lm_head.weight`` (same dtype and device).
        labels: ``(...)`` integer targets in ``[0, V)``, or ``ignore_index``.
        lm_head_bias: optional ``(V,)``.
        temperature: τ > 0 dividing the logits.
        return_entropy: also return ``H_t = −Σ_v p log p`` per position.
        impl: ``"reference" | "chunked" | "triton"``; default from ``$TOOLKIT_KERNELS_IMPL``,
            else Triton on CUDA, chunked torch on the CPU (see ``toolkit.kernels.dispatch``).
        chunk_size: token rows per chunk (default: 32 MiB of float32 logits per chunk on the
            CPU, 256 MiB on CUDA; see ``toolkit.kernels.chunking``).

    Returns:
        ``log_probs (...)`` or ``(log_probs, entropy)``, 0 at ignored positions; gradients
        flow to ``hidden``, ``lm_head_weight`` and ``lm_head_bias``.
    """
    _check_head("hidden", hidden, "lm_head_weight", lm_head_weight)
    vocab = lm_head_weight.shape[0]
    _check_labels(labels, hidden, vocab, ignore_index)
    if lm_head_bias is not None and tuple(lm_head_bias.shape) != (vocab,):
        raise ValueError(
            f"lm_head_bias has shape {tuple(lm_head_bias.shape)}; expected ({vocab},), one "
            "value per row of lm_head_weight"
        )
    _check_positive("temperature", temperature)
    backend = _backend(impl, hidden, chunk_size)
    rows = _Rows(labels != ignore_index, labels.shape)
    log_probs, entropy = backend.logprobs(
        rows.take(hidden),
        lm_head_weight,
        lm_head_bias,
        rows.take(labels).long(),
        1.0 / temperature,
        return_entropy,
        chunk_size,
    )
    return (rows.put(log_probs), rows.put(entropy)) if return_entropy else rows.put(log_probs)


def token_kl(
    policy_hidden: torch.Tensor,
    ref_hidden: torch.Tensor,
    policy_lm_head_weight: torch.Tensor,
    ref_lm_head_weight: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    direction: str = "ref||policy",
    impl: str | None = None,
    chunk_size: int | None = None,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Per-position KL between the reference's and the policy's next-token distributions.

    ``"ref||policy"``: ``KL_t = Σ_v π_ref(v)·(log π_ref(v) − log π_θ(v))``, TDPO's sequential
    KL term (arXiv 2404.11999) and SparsePO's (with the opposite sign in its code).
    ``"policy||ref"``: ``Σ_v π_θ·(log π_θ − log π_ref)``. ``"both"``: the tuple of the two.

    Hidden states are ``(..., H)`` / ``(..., H_ref)`` with the same leading shape, weights
    ``(V, H)`` / ``(V, H_ref)``; ``mask (...)`` marks the positions to compute (others are 0).
    The reference side gets no gradient; the policy hidden states and weight do.
    """
    terms = [TeacherTerm(ref_hidden, ref_lm_head_weight)]
    names = [("ref_hidden", "ref_lm_head_weight", "")]
    pick = _direction(direction, ("ref||policy", "policy||ref"))
    return _kl(policy_hidden, policy_lm_head_weight, terms, names, mask, pick, impl, chunk_size)


def teacher_kl(
    policy_hidden: torch.Tensor,
    policy_lm_head_weight: torch.Tensor,
    teacher: Sequence[TeacherTerm | tuple],
    mask: torch.Tensor | None = None,
    *,
    temperature: float = 1.0,
    direction: str = "policy||teacher",
    impl: str | None = None,
    chunk_size: int | None = None,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Per-position ``KL(π_θ ‖ softmax(z*/T))`` against a teacher built from several LM heads.

    ``z*_t = Σ_k c_k,t · (h_k,t · W_kᵀ)`` is formed chunk by chunk from ``teacher``, a list of
    ``TeacherTerm(hidden, lm_head_weight, coef)``. AlignDistil (arXiv 2503.02832):

    * ``z* = w·z_dpo + (1−w)·z_ref`` with ``w = β/β₂`` (Theorem 1):
      ``[TeacherTerm(h_dpo, W_dpo, w), TeacherTerm(h_ref, W_ref, 1 - w)]``;
    * contrastive ``z* = z_dpo + w_t·(z_dpo − z_rev)`` with per-token ``w_t (B, T)``:
      ``[TeacherTerm(h_dpo, W_dpo, 1 + w_t), TeacherTerm(h_rev, W_rev, -w_t)]``.

    ``direction``: ``"policy||teacher"`` (AlignDistil's reverse KL, the default),
    ``"teacher||policy"``, or ``"both"`` (that tuple order). Only the policy gets gradients.
    """
    if isinstance(teacher, TeacherTerm) or not isinstance(teacher, Sequence) or not teacher:
        raise ValueError("teacher must be a non-empty list of TeacherTerm(hidden, weight, coef)")
    _check_positive("temperature", temperature)
    terms, names = [], []
    for k, term in enumerate(teacher):
        if not isinstance(term, tuple) or len(term) != 3:
            raise ValueError(f"teacher[{k}] must be TeacherTerm(hidden, lm_head_weight, coef)")
        hidden, weight, coef = term
        terms.append(TeacherTerm(hidden, weight, coef / temperature))
        names.append((f"teacher[{k}].hidden", f"teacher[{k}].lm_head_weight", f"teacher[{k}].coef"))
    pick = _direction(direction, ("teacher||policy", "policy||teacher"))
    return _kl(policy_hidden, policy_lm_head_weight, terms, names, mask, pick, impl, chunk_size)


def _kl(hidden, weight, terms, names, mask, pick, impl, chunk_size):
    _check_head("policy_hidden", hidden, "policy_lm_head_weight", weight)
    lead = tuple(hidden.shape[:-1])
    for (h, w, c), (h_name, w_name, c_name) in zip(terms, names, strict=True):
        _check_head(h_name, h, w_name, w, vocab=weight.shape[0], lead=lead, device=hidden.device)
        if isinstance(c, torch.Tensor) and c.ndim > 0:
            if tuple(c.shape) != lead or c.device != hidden.device:
                raise ValueError(
                    f"{c_name} is a {tuple(c.shape)} tensor on {c.device}; expected a number or "
                    f"one value per position: shape {lead} on {hidden.device}"
                )
    if mask is not None and tuple(mask.shape) != lead:
        raise ValueError(f"mask has shape {tuple(mask.shape)}; expected {lead} (hidden minus H)")
    backend = _backend(impl, hidden, chunk_size)
    rows = _Rows(None if mask is None else mask != 0, lead)
    row_terms = [RowTerm(rows.take(h).detach(), w.detach(), _coef(c, rows)) for h, w, c in terms]
    kl_forward, kl_reverse = backend.kl(rows.take(hidden), weight, row_terms, chunk_size)
    out = (rows.put(kl_forward), rows.put(kl_reverse))
    return out if pick is None else out[pick]


class _Rows:
    """The positions computed (``valid``, all if ``None``) of a ``shape``, as flat row indices."""

    def __init__(self, valid: torch.Tensor | None, shape: tuple[int, ...]):
        self.shape = torch.Size(shape)
        self.index = None  # all positions
        if valid is not None and not bool(valid.all()):
            self.index = valid.reshape(-1).nonzero()[:, 0]  # (N_valid,)

    def take(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., *rest)`` → ``(N_valid, *rest)``."""
        x = x.reshape(-1, *x.shape[len(self.shape) :])
        return x if self.index is None else x.index_select(0, self.index)

    def put(self, values: torch.Tensor) -> torch.Tensor:
        """``(N_valid,)`` → ``(...)`` with zeros at the positions not computed."""
        if self.index is not None:
            values = values.new_zeros(self.shape.numel()).index_copy(0, self.index, values)
        return values.reshape(self.shape)


def _coef(coef: float | torch.Tensor, rows: _Rows) -> float | torch.Tensor:
    if not isinstance(coef, torch.Tensor) or coef.ndim == 0:
        return float(coef)
    return upcast(rows.take(coef.detach()))


def _direction(direction: str, names: tuple[str, str]) -> int | None:
    choices = (*names, "both")
    if direction not in choices:
        raise ValueError(f"direction must be one of {choices}, got {direction!r}")
    return None if direction == "both" else names.index(direction)


def _backend(impl: str | None, hidden: torch.Tensor, chunk_size: int | None) -> dispatch.Backend:
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive int or None, got {chunk_size!r}")
    return dispatch.backend(dispatch.resolve(impl, hidden.device))


def _check_positive(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def _check_head(h_name, hidden, w_name, weight, *, vocab=None, lead=None, device=None) -> None:
    """``hidden (..., H)`` and ``weight (V, H)`` fit each other (and the policy's V, shape)."""
    for name, x in ((h_name, hidden), (w_name, weight)):
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor, got {_describe(x)}")
    if hidden.ndim < 2:
        raise ValueError(
            f"{h_name} must be (..., H), e.g. (B, T, H); got shape {tuple(hidden.shape)}"
        )
    if weight.ndim != 2 or weight.shape[1] != hidden.shape[-1]:
        raise ValueError(
            f"{w_name} has shape {tuple(weight.shape)} but {h_name} has hidden size "
            f"{hidden.shape[-1]}: the weight must be (V, {hidden.shape[-1]}), like lm_head.weight"
        )
    if vocab is not None and weight.shape[0] != vocab:
        raise ValueError(f"{w_name} has vocabulary {weight.shape[0]}, the policy's has {vocab}")
    if lead is not None and tuple(hidden.shape[:-1]) != lead:
        raise ValueError(
            f"{h_name} has leading shape {tuple(hidden.shape[:-1])}; the policy's is {lead}"
        )
    if hidden.dtype != weight.dtype:
        raise ValueError(f"{h_name} is {hidden.dtype} but {w_name} is {weight.dtype}: cast one")
    for name, x in ((h_name, hidden), (w_name, weight)):
        if x.device != (device or hidden.device):
            raise ValueError(f"{name} is on {x.device}, expected {device or hidden.device}")


def _check_labels(labels, hidden, vocab: int, ignore_index: int) -> None:
    if not isinstance(labels, torch.Tensor) or labels.is_floating_point() or labels.is_complex():
        raise ValueError(f"labels must be an integer tensor, got {_describe(labels)}")
    if tuple(labels.shape) != tuple(hidden.shape[:-1]):
        raise ValueError(
            f"labels has shape {tuple(labels.shape)}; expected {tuple(hidden.shape[:-1])}, "
            "hidden's shape without its last (H) dimension"
        )
    if labels.device != hidden.device:
        raise ValueError(f"labels is on {labels.device}, hidden on {hidden.device}")
    bad = (labels != ignore_index) & ((labels < 0) | (labels >= vocab))
    if bool(bad.any()):
        where = tuple(int(i) for i in bad.nonzero()[0])
        raise ValueError(
            f"labels{list(where)} = {int(labels[where])} is outside [0, {vocab}) (the rows of "
            f"lm_head_weight) and is not ignore_index={ignore_index}"
        )


def _describe(x) -> str:
    return f"{x.dtype} tensor" if isinstance(x, torch.Tensor) else type(x).__name__
