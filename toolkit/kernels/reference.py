"""Plain torch on the full logits: what a user writes without this package, and the oracle.

Holds ``(N, V)`` float32 logits (float64 for float64 inputs), and autograd's copies of them,
for all N rows at once; the backward is autograd's. Works on flat rows (``toolkit.kernels.api``
does shapes and masking).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from toolkit.kernels.logits import RowTerm, teacher_logits, upcast


def token_logprobs_rows(
    hidden: torch.Tensor,  # (N, H)
    weight: torch.Tensor,  # (V, H)
    bias: torch.Tensor | None,  # (V,)
    labels: torch.Tensor,  # (N,) all in [0, V)
    inv_temp: float,
    with_entropy: bool,
    chunk_size: int | None = None,  # unused: the reference never chunks
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``log p(y_t)`` and (optionally) the entropy ``−Σ_v p log p`` of ``p = softmax(z/τ)``."""
    logits = upcast(F.linear(hidden, weight, bias))  # (N, V)
    logp = (logits * inv_temp if inv_temp != 1.0 else logits).log_softmax(-1)  # (N, V)
    logprobs = logp.gather(-1, labels[:, None])[:, 0]  # (N,)
    entropy = -(logp.exp() * logp).sum(-1) if with_entropy else None
    return logprobs, entropy


def kl_rows(
    hidden: torch.Tensor,  # (N, H) policy
    weight: torch.Tensor,  # (V, H) policy
    terms: list[RowTerm],  # teacher / reference, no gradient
    chunk_size: int | None = None,  # unused
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(KL(q‖π), KL(π‖q))`` per row, with ``π = softmax(z_θ)`` and ``q = softmax(z*)``."""
    log_pi = upcast(F.linear(hidden, weight)).log_softmax(-1)  # (N, V)
    with torch.no_grad():
        log_q = teacher_logits(terms).log_softmax(-1)  # (N, V)
    forward = (log_q.exp() * (log_q - log_pi)).sum(-1)
    reverse = (log_pi.exp() * (log_pi - log_q)).sum(-1)
    return forward, reverse
