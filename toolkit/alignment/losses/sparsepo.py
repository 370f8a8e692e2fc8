"""SparsePO: sparse token masks on reward and KL (Christopoulou et al., arXiv 2410.05102)."""

from __future__ import annotations

import torch

from toolkit.alignment.losses.core import (
    LossOutput,
    Tensor,
    TokenBatch,
    check_nonnegative,
    check_positive,
    masked_mean,
    masked_sum,
    pair_metrics,
    preference_loss,
)


def _mask_pair(
    batch: TokenBatch, kind: str, chosen: Tensor | None, rejected: Tensor | None
) -> tuple[Tensor, Tensor] | None:
    """Validate one kind of mask (reward or KL) given for both sides, or for neither."""
    if chosen is None and rejected is None:
        return None
    if chosen is None or rejected is None:
        raise ValueError(
            f"give both {kind}_mask_chosen and {kind}_mask_rejected, or neither "
            "(pass the same tensors to reward and KL for SparsePO's 'common' mask)"
        )
    return (
        batch.token_input(f"{kind}_mask_chosen", chosen, "chosen"),
        batch.token_input(f"{kind}_mask_rejected", rejected, "rejected"),
    )


def sparsepo_loss(
    batch: TokenBatch,
    *,
    reward_mask_chosen: Tensor | None = None,
    reward_mask_rejected: Tensor | None = None,
    kl_mask_chosen: Tensor | None = None,
    kl_mask_rejected: Tensor | None = None,
    beta: float = 0.1,
    l1_reward: float = 0.0,
    l1_kl: float = 0.0,
) -> LossOutput:
    """SparsePO (arXiv 2410.05102):

        U = Σ_t m^u_t lr_t(w) − Σ_t m^u_t lr_t(l)
        D = Σ_t m^d_t KL_t(l) − Σ_t m^d_t KL_t(w)        (KL_t ≥ 0, forward, as in TDPO)
        L = −log σ(β (U − D)) + λ_u (‖m^u_w‖₁ + ‖m^u_l‖₁) + λ_d (‖m^d_w‖₁ + ‖m^d_l‖₁)

    Sign convention: the paper and its code (huawei-noah/HEBO, ``SparsePO/src/trainers/
    sparse_trainer.py``) write D = Σ m^d KL'_t(w) − Σ m^d KL'_t(l) with the per-position
    term KL'_t = Σ_v πref (log πθ − log πref) = −KL_t. Written with this package's KL_t
    (the same input TDPO takes) that is the D above, so with all masks ≡ 1 and λ = 0,
    U − D = u − (SeqKL(l) − SeqKL(w)) and SparsePO equals TDPO1 exactly.

    Masks come in as tensors (reference-derived or learned ones are built in
    ``toolkit.alignment.masks``); they may be soft and may carry gradients. A mask left as
    None is off, as with the authors' ``mask_on_reward``/``mask_on_kl`` flags: it counts
    as ≡ 1 and adds no L1 term. The L1 norms run over the real completion tokens.

    One mask serving both reward and KL (the "common" mode) is penalized twice when the same
    λ is passed to ``l1_reward`` and ``l1_kl``; the authors halve λ in that mode, and
    ``TokenPOTrainer`` does too (``TokenPOConfig.sparsepo_common_l1="halved"``, the default:
    λ/2 each, λ‖m‖₁ in all; ``"both"`` keeps 2λ‖m‖₁).

    Args:
        batch: per-token inputs with ``chosen_kl`` and ``rejected_kl``.
        reward_mask_chosen, reward_mask_rejected: m^u on each side, (B, Tw) / (B, Tl).
        kl_mask_chosen, kl_mask_rejected: m^d on each side.
        beta: β (the authors' config default 0.1; 0.8 in their IMDB runs).
        l1_reward: λ_u ≥ 0 (config default 0; 1e-3 in their HH runs).
        l1_kl: λ_d ≥ 0.
    """
    check_positive("beta", beta)
    check_nonnegative("l1_reward", l1_reward)
    check_nonnegative("l1_kl", l1_kl)
    reward_masks = _mask_pair(batch, "reward", reward_mask_chosen, reward_mask_rejected)
    kl_masks = _mask_pair(batch, "kl", kl_mask_chosen, kl_mask_rejected)
    chosen, rejected = batch.logratio_sums(*(reward_masks or (None, None)))
    kl_w, kl_l = batch.kl_sums("sparsepo_loss", *(kl_masks or (None, None)))
    losses = preference_loss(beta * (chosen - rejected - (kl_l - kl_w)))

    metrics = pair_metrics(batch, beta, chosen, rejected)
    metrics["kl/chosen"] = kl_w.detach()
    metrics["kl/rejected"] = kl_l.detach()
    penalty = torch.zeros_like(losses)
    for kind, masks, lam in (("reward", reward_masks, l1_reward), ("kl", kl_masks, l1_kl)):
        if masks is None:
            continue
        norm = masked_sum(masks[0].abs(), batch.chosen_mask) + masked_sum(
            masks[1].abs(), batch.rejected_mask
        )
        penalty = penalty + lam * norm
        for side, mask in zip(("chosen", "rejected"), masks, strict=True):
            real = getattr(batch, f"{side}_mask")
            metrics[f"mask/{kind}_{side}_mean"] = masked_mean(mask.detach(), real)
            metrics[f"mask/{kind}_{side}_sparsity"] = masked_mean(
                (mask.detach() == 0).to(losses.dtype), real
            )
    metrics["loss/l1"] = penalty.detach()
    return LossOutput(losses + penalty, metrics)
