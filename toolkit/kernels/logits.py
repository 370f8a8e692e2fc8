"""Teacher logits for a block of token rows (a linear combination of LM heads), and upcasting.

Shared by every implementation, so all of them define the teacher the same way:

    z*_t = Σ_k c_k,t · (h_k,t · W_kᵀ)

with ``c_k,t`` a scalar or one value per token, already divided by the teacher temperature.
AlignDistil (arXiv 2503.02832) uses two terms: ``w·z_dpo + (1−w)·z_ref`` (Theorem 1) or
``(1+w_t)·z_dpo − w_t·z_rev`` (contrastive, token-adaptive ``w_t``). ``token_kl`` is the
one-term case ``c = 1``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F


class RowTerm(NamedTuple):
    """One teacher term on flat rows: hidden ``(N, H_k)``, weight ``(V, H_k)``, coefficient
    ``float`` or ``(N,)`` tensor (no gradient flows to any of them)."""

    hidden: torch.Tensor
    weight: torch.Tensor
    coef: float | torch.Tensor


def accumulation_dtype(dtype: torch.dtype) -> torch.dtype:
    """float32 for float32/bf16/fp16 inputs; float64 stays float64 (for gradcheck)."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def upcast(x: torch.Tensor) -> torch.Tensor:
    """``x`` in its accumulation dtype (``x`` itself if already there)."""
    return x.to(accumulation_dtype(x.dtype))


def teacher_logits(
    terms: list[RowTerm], rows: slice = slice(None), cols: slice = slice(None)
) -> torch.Tensor:
    """``Σ_k c_k · z_k`` for ``rows`` and vocabulary ``cols`` → ``(C, V_c)``, upcast per term."""
    total = None
    for hidden, weight, coef in terms:
        z = upcast(F.linear(hidden[rows], weight[cols]))  # (C, V_c)
        if isinstance(coef, torch.Tensor):
            z.mul_(coef[rows, None])
        elif coef != 1.0:
            z.mul_(coef)
        total = z if total is None else total.add_(z)
    return total
