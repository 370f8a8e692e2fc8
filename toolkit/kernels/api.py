"""Public entry points: check inputs, keep the valid token rows, dispatch, scatter back.

Every function takes hidden states ``(..., H)`` (usually ``(B, T, H)``) and LM-head weights
``(V, H)`` instead of logits, so an implementation can form the logits a chunk of rows at a
time. Positions that are ignored (``labels == ignore_index``) or masked out are dropped before
any logit is computed and come back as 0. Results are float32 (float64 for float64 inputs).

Arguments are checked before any work: ``TypeError`` for a wrong type or dtype, ``ValueError``
for a wrong shape, value or an inconsistent pair, naming the argument. NaN or inf in the
inputs, or logits that overflow, are caught on the outputs (one ``isfinite`` over the (N,)
results, nothing over the (N, H) or (V, H) inputs on the hot path); only then are the inputs
searched, and the error names the one at fault and the position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch

from toolkit._checks import check_bool, check_int, check_number, describe
from toolkit.kernels import dispatch
from toolkit.kernels.logits import RowTerm, accumulation_dtype, upcast


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
    ignore_index = check_int("ignore_index", ignore_index)
    _check_labels(labels, hidden, vocab, ignore_index)
    if lm_head_bias is not None:
        _check_tensor("lm_head_bias", lm_head_bias, "lm_head_weight", lm_head_weight)
        if tuple(lm_head_bias.shape) != (vocab,):
            raise ValueError(
                f"lm_head_bias has shape {tuple(lm_head_bias.shape)}; expected ({vocab},), one "
                "value per row of lm_head_weight"
            )
    temperature = check_number("temperature", temperature, minimum=0.0, strict_min=True)
    check_bool("return_entropy", return_entropy)
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
    _check_finite(
        [log_probs] if entropy is None else [log_probs, entropy],
        rows,
        per_row=[("hidden", hidden)],
        shared=[("lm_head_weight", lm_head_weight), ("lm_head_bias", lm_head_bias)],
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
    if isinstance(teacher, TeacherTerm) or not isinstance(teacher, Sequence):
        raise TypeError(f"teacher must be a list of TeacherTerm, got {describe(teacher)}")
    if not teacher:
        raise ValueError("teacher must be a non-empty list of TeacherTerm(hidden, weight, coef)")
    temperature = check_number("temperature", temperature, minimum=0.0, strict_min=True)
    terms, names = [], []
    for k, term in enumerate(teacher):
        if not isinstance(term, tuple) or len(term) != 3:
            raise TypeError(
                f"teacher[{k}] must be TeacherTerm(hidden, lm_head_weight, coef), "
                f"got {describe(term)}"
            )
        hidden, weight, coef = term
        if isinstance(coef, torch.Tensor) and coef.ndim == 0:
            coef = coef.item()
        if not isinstance(coef, torch.Tensor):
            coef = check_number(f"teacher[{k}].coef", coef)
        terms.append(TeacherTerm(hidden, weight, coef / temperature))
        names.append((f"teacher[{k}].hidden", f"teacher[{k}].lm_head_weight", f"teacher[{k}].coef"))
    pick = _direction(direction, ("teacher||policy", "policy||teacher"))
    return _kl(policy_hidden, policy_lm_head_weight, terms, names, mask, pick, impl, chunk_size)


def _kl(hidden, weight, terms, names, mask, pick, impl, chunk_size):
    _check_head("policy_hidden", hidden, "policy_lm_head_weight", weight)
    lead = tuple(hidden.shape[:-1])
    for (h, w, c), (h_name, w_name, c_name) in zip(terms, names, strict=True):
        _check_head(h_name, h, w_name, w, vocab=weight.shape[0], lead=lead, device=hidden.device)
        if accumulation_dtype(h.dtype) != accumulation_dtype(hidden.dtype):
            raise ValueError(
                f"{h_name} is {h.dtype} but policy_hidden is {hidden.dtype}: they must both be "
                "float64 or both not (float32, bfloat16, float16 mix): cast one"
            )
        if isinstance(c, torch.Tensor) and c.ndim > 0:
            if tuple(c.shape) != lead or c.device != hidden.device:
                raise ValueError(
                    f"{c_name} is a {tuple(c.shape)} tensor on {c.device}; expected a number or "
                    f"one value per position: shape {lead} on {hidden.device}"
                )
    if mask is not None:
        if not isinstance(mask, torch.Tensor) or mask.is_floating_point() or mask.is_complex():
            raise TypeError(
                f"mask must be a bool (or integer) tensor, True where KL is computed; got "
                f"{_describe(mask)} (for a 0/1 float mask pass mask.bool())"
            )
        if tuple(mask.shape) != lead:
            raise ValueError(
                f"mask has shape {tuple(mask.shape)}; expected {lead} (hidden minus H)"
            )
    backend = _backend(impl, hidden, chunk_size)
    rows = _Rows(None if mask is None else mask != 0, lead)
    row_terms = [RowTerm(rows.take(h).detach(), w.detach(), _coef(c, rows)) for h, w, c in terms]
    kl_forward, kl_reverse = backend.kl(rows.take(hidden), weight, row_terms, chunk_size)
    per_row, shared = [("policy_hidden", hidden)], [("policy_lm_head_weight", weight)]
    for (h, w, c), (h_name, w_name, c_name) in zip(terms, names, strict=True):
        per_row += [(h_name, h), (c_name, c if isinstance(c, torch.Tensor) else None)]
        shared.append((w_name, w))
    _check_finite([kl_forward, kl_reverse], rows, per_row, shared)
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

    def position(self, row: int) -> list[int]:
        """The index in ``shape`` of computed row ``row``."""
        flat = row if self.index is None else int(self.index[row])
        return [int(i) for i in torch.unravel_index(torch.tensor(flat), self.shape)]


def _check_finite(outputs, rows: _Rows, per_row, shared) -> None:
    """``outputs`` (each (N_valid,)) are finite, or a ValueError names the input at fault:
    a ``per_row`` tensor (leading shape of the positions) at the first bad position, a
    ``shared`` one (weights, bias) anywhere, or else logits that overflow."""
    finite = torch.stack([torch.isfinite(o) for o in outputs]).all(0)
    if bool(finite.all()):
        return
    row = int((~finite).nonzero()[0])
    position = rows.position(row)
    for name, x in per_row:
        if isinstance(x, torch.Tensor) and x.ndim > 0:
            if not bool(torch.isfinite(rows.take(x)[row]).all()):
                raise ValueError(f"{name}{position} holds NaN or inf")
    for name, x in shared:
        if x is not None and not bool(torch.isfinite(x).all()):
            raise ValueError(f"{name} holds NaN or inf, at {_first_bad(x)}")
    raise ValueError(
        f"the logits at position {position} are not finite although every input is: they "
        "overflow the float range (a temperature too small, or hidden states or weights too "
        "large for their dtype); compute in float32 or scale the inputs down"
    )


def _first_bad(x: torch.Tensor) -> list[int]:
    return [int(i) for i in (~torch.isfinite(x)).nonzero()[0]]


def _coef(coef: float | torch.Tensor, rows: _Rows) -> float | torch.Tensor:
    """A scalar coefficient as a float, a per-position one as its (N_valid,) rows."""
    if not isinstance(coef, torch.Tensor) or coef.ndim == 0:
        return float(coef)
    return upcast(rows.take(coef.detach()))


def _direction(direction: str, names: tuple[str, str]) -> int | None:
    choices = (*names, "both")
    if direction not in choices:
        raise ValueError(f"direction must be one of {choices}, got {direction!r}")
    return None if direction == "both" else names.index(direction)


def _backend(impl: str | None, hidden: torch.Tensor, chunk_size: int | None) -> dispatch.Backend:
    if chunk_size is not None:
        check_int("chunk_size", chunk_size, minimum=1)
    return dispatch.backend(dispatch.resolve(impl, hidden.device))


def _check_tensor(name: str, x, like_name: str, like: torch.Tensor) -> None:
    """``x`` is a floating-point tensor of ``like``'s dtype and device."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {_describe(x)}")
    if x.dtype != like.dtype or x.device != like.device:
        raise ValueError(
            f"{name} is {x.dtype} on {x.device} but {like_name} is {like.dtype} on "
            f"{like.device}: they must match"
        )


def _check_head(h_name, hidden, w_name, weight, *, vocab=None, lead=None, device=None) -> None:
    """``hidden (..., H)`` and ``weight (V, H)`` fit each other (and the policy's V, shape)."""
    for name, x in ((h_name, hidden), (w_name, weight)):
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got {_describe(x)}")
    if hidden.ndim < 2 or hidden.shape[-1] == 0:
        raise ValueError(
            f"{h_name} must be (..., H), e.g. (B, T, H); got shape {tuple(hidden.shape)}"
        )
    if weight.ndim != 2 or weight.shape[1] != hidden.shape[-1]:
        raise ValueError(
            f"{w_name} has shape {tuple(weight.shape)} but {h_name} has hidden size "
            f"{hidden.shape[-1]}: the weight must be (V, {hidden.shape[-1]}), like lm_head.weight"
        )
    if weight.shape[0] == 0:
        raise ValueError(f"{w_name} has no rows: the vocabulary V must be at least 1")
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
    if (
        not isinstance(labels, torch.Tensor)
        or labels.is_floating_point()
        or labels.is_complex()
        or labels.dtype == torch.bool
    ):
        raise TypeError(f"labels must be an integer tensor, got {_describe(labels)}")
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
    return f"a {x.dtype} tensor" if isinstance(x, torch.Tensor) else describe(x)
