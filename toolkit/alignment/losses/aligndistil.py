"""AlignDistil: alignment as token-level policy distillation (Zhang et al., arXiv 2503.02832).

Unlike the pairwise losses, these take full per-position logits (B, T, V) of one
response: the policy is distilled towards a teacher distribution built from a DPO model
and a reference (Theorem 1) or a reverse-DPO model (contrastive, token-adaptive).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from toolkit._checks import describe
from toolkit.alignment.losses.core import (
    LossOutput,
    Tensor,
    TokenBatch,
    check_finite,
    check_mask,
    check_positive,
    check_shape,
    masked_mean,
    masked_sum,
    token_kl_from_logits,
)

TVD_CONVENTIONS = ("authors", "standard")
"""How the contrastive teacher measures disagreement: ``"authors"``, Σ_v |p − q| ∈ [0, 2] as
in the authors' code (the default, so β₂ means what it means in the paper), or
``"standard"``, the textbook total variation ½ Σ_v |p − q| ∈ [0, 1] (β₂ here = β₂/2 there)."""


class Teacher(NamedTuple):
    """Teacher logits z* (B, T, V) and the extrapolation weight w (B, T) of each position."""

    logits: Tensor
    weights: Tensor


def token_tvd(p_logits: Tensor, q_logits: Tensor) -> Tensor:
    """Total variation distance per position, ½ Σ_v |p(v) − q(v)| ∈ [0, 1]; (B,T,V) -> (B,T)."""
    if p_logits.shape != q_logits.shape:
        raise ValueError(
            f"logits of shapes {tuple(p_logits.shape)} and {tuple(q_logits.shape)} differ"
        )
    return 0.5 * (p_logits.softmax(-1) - q_logits.softmax(-1)).abs().sum(-1)


def aligndistil_teacher_logits(
    ref_logits: Tensor, dpo_logits: Tensor, beta: float = 0.1, beta2: float = 10.0
) -> Teacher:
    """Theorem 1 (arXiv 2503.02832): RLHF with the DPO model's implicit token reward
    r_t = β log(π_dpo/π_ref) (β the DPO β) and KL coefficient β₂ is, up to constants,
    β₂ · KL(πθ ‖ π*) per token, with the teacher π* = softmax(z*),

        z* = w · z_dpo + (1 − w) · z_ref,     w = β / β₂

    (the authors' ``reward_boost_type="theorem1"``; w > 1 extrapolates past the DPO model).
    Returns z* and w broadcast to (B, T); :func:`aligndistil_loss` then scales by β/w = β₂.
    """
    check_positive("beta", beta)
    check_positive("beta2", beta2)
    check_shape("dpo_logits", dpo_logits, ref_logits.shape, "ref_logits")
    weight = beta / beta2
    logits = weight * dpo_logits + (1 - weight) * ref_logits
    return Teacher(logits, ref_logits.new_full(ref_logits.shape[:-1], weight))


def contrastive_teacher_logits(
    dpo_logits: Tensor,
    rev_logits: Tensor,
    beta2: float = 10.0,
    min_weight: float = 1e-3,
    tvd: str = "authors",
) -> Teacher:
    """Contrastive teacher with token-adaptive logit extrapolation (arXiv 2503.02832):

        z*_t = z_dpo,t + w_t · (z_dpo,t − z_rev,t),   w_t = β₂ · D(p_dpo,t, p_rev,t) + 1e-3

    with p_rev from a reverse-DPO model (chosen and rejected swapped). By default
    (``tvd="authors"``) D = Σ_v |p − q| ∈ [0, 2], as the authors' code computes it
    (songmzhang/AlignDistil, ``aligndistil_offpolicy_trainer.py``: no ½), so w_t ∈ [1e-3,
    2β₂ + 1e-3] and β₂ = 10 is the paper's β₂ = 10. ``tvd="standard"`` uses the textbook
    ½ Σ|p − q| (:func:`token_tvd`), this package's earlier choice: there β₂ = 10 equals the
    authors' β₂ = 5.
    """
    check_positive("beta2", beta2)
    check_positive("min_weight", min_weight)
    if tvd not in TVD_CONVENTIONS:
        raise ValueError(f"tvd must be one of {TVD_CONVENTIONS}, got {tvd!r}")
    check_shape("rev_logits", rev_logits, dpo_logits.shape, "dpo_logits")
    scale = 2.0 if tvd == "authors" else 1.0
    weights = beta2 * scale * token_tvd(dpo_logits, rev_logits) + min_weight  # (B, T)
    return Teacher(dpo_logits + weights.unsqueeze(-1) * (dpo_logits - rev_logits), weights)


def aligndistil_loss(
    policy_logits: Tensor,
    teacher_logits: Tensor,
    mask: Tensor,
    beta: float = 0.1,
    weights: Tensor | None = None,
    temperature: float = 1.0,
    length_normalize: bool = True,
) -> LossOutput:
    """Per-sequence distillation loss (arXiv 2503.02832):

        ℓ_t = (β / w_t) · KL(πθ(·|x,y<t) ‖ softmax(z*_t / T))          (reverse KL)
        L   = Σ_t ℓ_t   (÷ |y| when ``length_normalize``, the authors' ``--reward_len_norm``)

    The teacher is a fixed target: ``teacher_logits`` and ``weights`` are detached, only
    the policy gets gradients. ``weights`` are the w_t of a :class:`Teacher` (None means
    w ≡ 1, a plain β-scaled reverse KL); with Theorem 1's constant w = β/β₂ the
    coefficient is β₂.

    Args:
        policy_logits: (B, T, V) logits of the policy over the response positions.
        teacher_logits: (B, T, V) teacher logits z*.
        mask: {0, 1} (B, T), 1 on real response tokens.
        beta: β (paper default 0.1).
        weights: w_t > 0, (B, T), or None.
        temperature: T, applied to the teacher logits as in the authors' code.
        length_normalize: divide each sequence's sum by its number of tokens.
    """
    check_positive("beta", beta)
    check_positive("temperature", temperature)
    if not isinstance(policy_logits, Tensor):
        raise TypeError(f"policy_logits must be a torch.Tensor, got {describe(policy_logits)}")
    if policy_logits.dim() != 3 or policy_logits.shape[0] == 0:
        raise ValueError(
            f"policy_logits must be (B, T, V) with B >= 1, got {tuple(policy_logits.shape)}; "
            "a loss over an empty batch is undefined"
        )
    check_shape("teacher_logits", teacher_logits, policy_logits.shape, "policy_logits")
    mask = check_mask("mask", mask, policy_logits.shape[:-1], "policy_logits[..., 0]")
    check_finite("policy_logits", policy_logits, mask.unsqueeze(-1))
    check_finite("teacher_logits", teacher_logits, mask.unsqueeze(-1))
    if weights is None:
        weights = torch.ones_like(mask, dtype=policy_logits.dtype)
    check_shape("weights", weights, mask.shape, "mask")
    check_finite("weights", weights, mask)
    if not (weights > 0)[mask].all():
        raise ValueError("weights must be > 0 at every response token (the loss divides by w_t)")
    kl = token_kl_from_logits(
        policy_logits, teacher_logits / temperature, "reverse", mask
    )  # (B, T)
    coef = beta / torch.where(mask, weights, 1.0).detach()
    losses = masked_sum(kl * coef, mask)
    kl_seq = masked_sum(kl, mask)
    if length_normalize:
        n_tokens = mask.sum(-1)
        losses, kl_seq = losses / n_tokens, kl_seq / n_tokens
    metrics = {"kl/teacher": kl_seq.detach(), "weights/mean": masked_mean(weights.detach(), mask)}
    return LossOutput(losses, metrics)


def aligndistil_pair_loss(
    batch: TokenBatch,
    *,
    policy_logits: Tensor,
    ref_logits: Tensor,
    dpo_logits: Tensor,
    reverse_logits: Tensor | None = None,
    beta: float = 0.1,
    beta2: float = 10.0,
    temperature: float = 1.0,
    length_normalize: bool = True,
    tvd: str = "authors",
) -> LossOutput:
    """AlignDistil over both responses of B pairs, off-policy (chosen and rejected alike), in
    the trainer's layout: logits (2B, T, V), chosen rows first, on the positions of ``batch``.

    The teacher is the contrastive one (:func:`contrastive_teacher_logits`) with
    ``reverse_logits``, Theorem 1's (:func:`aligndistil_teacher_logits`) from ``ref_logits``
    without; each pair's loss is the mean of its two sequences' :func:`aligndistil_loss`, so
    the batch loss is the mean over the 2B sequences. ``tvd`` is the contrastive teacher's
    disagreement convention (:data:`TVD_CONVENTIONS`; default the authors').
    """
    if batch.chosen_mask.shape != batch.rejected_mask.shape:
        raise ValueError(
            f"chosen_mask {tuple(batch.chosen_mask.shape)} and rejected_mask "
            f"{tuple(batch.rejected_mask.shape)} must share one (B, T) layout: the logits "
            "stack both sides, chosen rows first"
        )
    if reverse_logits is not None:
        teacher = contrastive_teacher_logits(dpo_logits, reverse_logits, beta2, tvd=tvd)
    else:
        teacher = aligndistil_teacher_logits(ref_logits, dpo_logits, beta, beta2)
    mask = torch.cat([batch.chosen_mask, batch.rejected_mask])
    out = aligndistil_loss(
        policy_logits, teacher.logits, mask, beta, teacher.weights, temperature, length_normalize
    )
    pairs = batch.chosen_mask.shape[0]
    return LossOutput(
        out.losses.view(2, pairs).mean(0),
        {key: value.view(2, pairs).mean(0) for key, value in out.metrics.items()},
    )
