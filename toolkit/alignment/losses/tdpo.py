"""TDPO: Token-level Direct Preference Optimization (Zeng et al. 2024, arXiv 2404.11999)."""

from __future__ import annotations

from typing import Literal

from toolkit.alignment.losses.core import (
    LossOutput,
    TokenBatch,
    check_nonnegative,
    check_positive,
    pair_metrics,
    preference_loss,
)


def tdpo_loss(
    batch: TokenBatch,
    *,
    variant: Literal[1, 2] = 2,
    alpha: float = 0.5,
    beta: float = 0.1,
) -> LossOutput:
    """TDPO1 / TDPO2 (arXiv 2404.11999, §4):

        u      = Σ_t lr_t(w) − Σ_t lr_t(l)
        δ      = SeqKL(l) − SeqKL(w),     SeqKL(y) = Σ_t KL(πref(·|x,y<t) ‖ πθ(·|x,y<t))
        TDPO1: L = −log σ(β [u − δ])
        TDPO2: L = −log σ(β [u − α (SeqKL(l) − sg(SeqKL(w)))]),  sg = stop-gradient

    KL_t comes from ``batch.chosen_kl``/``rejected_kl`` in the forward direction, as in the
    authors' code (Vance0124/Token-level-Direct-Preference-Optimization, ``trainers.py``:
    ``per_position_kl = Σ πref (log πref − log πθ)`` and ``logits = u + α (sg(KL_w) − KL_l)``).
    Their logged rewards add SeqKL to the log-ratio sum; ``rewards/*`` here are β Σ lr_t,
    the same as DPO's, and the sequence KLs are reported separately as ``kl/*``.

    Args:
        batch: per-token inputs with ``chosen_kl`` and ``rejected_kl``.
        variant: 1 for TDPO1, 2 for TDPO2 (the paper's main method, the default).
        alpha: α, the weight of the KL term in TDPO2 (paper default 0.5); unused by TDPO1.
        beta: β (paper default 0.1).
    """
    check_positive("beta", beta)
    check_nonnegative("alpha", alpha)
    if variant not in (1, 2):
        raise ValueError(f"variant must be 1 or 2, got {variant!r}")
    chosen, rejected = batch.logratio_sums()  # (B,), (B,)
    seq_kl_w, seq_kl_l = batch.kl_sums("tdpo_loss")
    if variant == 1:
        delta = seq_kl_l - seq_kl_w
    else:
        delta = alpha * (seq_kl_l - seq_kl_w.detach())
    losses = preference_loss(beta * (chosen - rejected - delta))
    metrics = pair_metrics(batch, beta, chosen, rejected)
    metrics["kl/chosen"] = seq_kl_w.detach()
    metrics["kl/rejected"] = seq_kl_l.detach()
    return LossOutput(losses, metrics)
