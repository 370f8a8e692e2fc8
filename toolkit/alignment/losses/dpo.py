"""DPO: Direct Preference Optimization (Rafailov et al. 2023, arXiv 2305.18290)."""

from __future__ import annotations

from toolkit.alignment.losses.core import (
    LossOutput,
    TokenBatch,
    check_nonnegative,
    check_positive,
    pair_metrics,
    preference_loss,
)


def dpo_loss(batch: TokenBatch, *, beta: float = 0.1, label_smoothing: float = 0.0) -> LossOutput:
    """L_DPO = −log σ(β [Σ_t lr_t(w) − Σ_t lr_t(l)])   (arXiv 2305.18290, Eq. 7).

    With ε = ``label_smoothing`` = 0 this is TRL's ``loss_type="sigmoid"`` exactly. With ε > 0
    it is the conservative cDPO loss −(1−ε) log σ(βz) − ε log σ(−βz), z the margin above.
    TRL 1.x differs there: its ``"sigmoid"`` loss ignores ``label_smoothing``, and its
    ``"robust"`` loss is (−(1−ε) log σ(βz) + ε log σ(−βz)) / (1 − 2ε), a different
    (unbiased) estimator. ``TokenPOConfig`` passes ε to this loss with ``method="dpo"``.

    Args:
        batch: per-token log-probs and masks of the pairs.
        beta: β, the strength of the implicit KL constraint (paper default 0.1).
        label_smoothing: ε ∈ [0, 0.5), the assumed rate of flipped preference labels.
    """
    check_positive("beta", beta)
    if not 0 <= check_nonnegative("label_smoothing", label_smoothing) < 0.5:
        raise ValueError(f"label_smoothing must be in [0, 0.5), got {label_smoothing}")
    chosen, rejected = batch.logratio_sums()  # (B,), (B,)
    losses = preference_loss(beta * (chosen - rejected), label_smoothing)
    return LossOutput(losses, pair_metrics(batch, beta, chosen, rejected))
