"""Target-DPO / Target-RPO: preference on the error tokens only (Wu et al., arXiv 2503.02783)."""

from __future__ import annotations

import torch

from toolkit.alignment.losses.core import (
    LossOutput,
    Tensor,
    TokenBatch,
    as_bool_mask,
    check_nonnegative,
    check_positive,
    masked_mean,
    pair_metrics,
    preference_loss,
)


def _selection(batch: TokenBatch, name: str, mask: Tensor, side: str) -> Tensor:
    """A {0, 1} token selection on one side as 0./1. weights; padding may hold anything."""
    batch.token_input(name, mask, side)
    real = getattr(batch, f"{side}_mask")
    selected = as_bool_mask(name, torch.where(real, mask, 0))
    return selected.to(batch.policy_chosen_logps.dtype)


def target_dpo_loss(
    batch: TokenBatch,
    *,
    rejected_diff_mask: Tensor,
    chosen_diff_mask: Tensor | None = None,
    beta: float = 0.1,
    alpha: float = 0.0,
) -> LossOutput:
    """Target-DPO (α = 0) and Target-RPO (α = 1), arXiv 2503.02783 (IterPref):

        K⁺ = Σ_{t ∈ y⁺} lr_t(y⁺)               all chosen tokens
        K⁻ = Σ_{t ∈ diff(y⁻)} lr_t(y⁻)         only the error tokens of the rejected code
        L  = −log σ(β (K⁺ − K⁻)) + α · NLL(y⁺)

    NLL(y⁺) = −(1/|y⁺|) Σ_t log πθ(y⁺_t): the chosen completion's negative log-likelihood
    averaged over its own tokens, so that ``losses`` stays one value per pair. The authors'
    code (JieWu02/Target-DPO, ``scripts/customer_trainer.py``) takes one cross-entropy mean
    over all chosen tokens of the batch; the two agree when completions have equal length.

    ``rejected_diff_mask`` marks the tokens of y⁻ on lines that differ from y⁺ (difflib,
    built in ``toolkit.data``); an empty row is allowed (K⁻ = 0, e.g. when the fix only
    inserts lines). ``chosen_diff_mask`` restricts K⁺ too — the paper's ablation, which it
    reports hurts; leave it None for the method. Padding is always excluded. With the full
    rejected mask and α = 0 this is DPO.

    Args:
        batch: per-token inputs of (fixed code y⁺, failing code y⁻) pairs.
        rejected_diff_mask: {0, 1} (B, Tl), 1 on error tokens of y⁻.
        chosen_diff_mask: optional {0, 1} (B, Tw) restriction of K⁺ (ablation).
        beta: β (paper default 0.1).
        alpha: α, weight of the NLL term: 0 Target-DPO, 1 Target-RPO.
    """
    check_positive("beta", beta)
    check_nonnegative("alpha", alpha)
    rejected_sel = _selection(batch, "rejected_diff_mask", rejected_diff_mask, "rejected")
    chosen_sel = None
    if chosen_diff_mask is not None:
        chosen_sel = _selection(batch, "chosen_diff_mask", chosen_diff_mask, "chosen")
    k_plus, k_minus = batch.logratio_sums(chosen_sel, rejected_sel)
    nll = -masked_mean(batch.policy_chosen_logps, batch.chosen_mask)  # (B,)
    losses = preference_loss(beta * (k_plus - k_minus)) + alpha * nll
    metrics = pair_metrics(batch, beta, k_plus, k_minus)
    metrics["nll/chosen"] = nll.detach()
    metrics["mask/rejected_diff_fraction"] = masked_mean(rejected_sel, batch.rejected_mask)
    return LossOutput(losses, metrics)
