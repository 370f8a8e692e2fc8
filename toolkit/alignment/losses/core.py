"""Shared pieces of the token-level preference losses: inputs, outputs, checks, masked sums.

Every loss in this package is a pure function of per-token quantities over the completion
tokens of B preference pairs (chosen ``w``, rejected ``l``), padded to T positions:

    lr_t = log πθ(y_t | x, y<t) − log πref(y_t | x, y<t)          # per-token log-ratio
    KL_t = Σ_v πref(v) · (log πref(v) − log πθ(v))                  # forward, TDPO's sign (≥ 0)

Padding is excluded with ``torch.where`` (not by multiplying with the mask), so padded
positions may hold anything, even NaN or inf, without changing a loss value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

from toolkit._checks import check_number, describe
from toolkit.alignment.checks import Tensor, as_bool_mask, check_finite, rows_text


@dataclass(frozen=True)
class LossOutput:
    """What every loss returns.

    ``losses`` is (B,), one differentiable loss per pair (or per sequence for AlignDistil);
    ``metrics`` maps names such as ``"rewards/chosen"`` to detached (B,) tensors.
    """

    losses: Tensor
    metrics: dict[str, Tensor]

    @property
    def loss(self) -> Tensor:
        """The batch loss, the mean of ``losses``."""
        return self.losses.mean()


MAX_TOKEN_WEIGHT = 10.0
"""Largest per-token weight accepted (TIS-DPO's transforms give [0.7, 1.3], masks {0, 1}): a
weight multiplies a token's log-ratio inside β·margin, so an unnormalized one (a raw log-prob
difference, a probability count) would dominate the pair; rescale with a transform first."""

LOGP_TOLERANCE = 1e-4
"""Log-probabilities above this are not log-probabilities (logits or probabilities passed by
mistake); the slack absorbs float rounding of ``log_softmax``."""


def check_positive(name: str, value: object) -> float:
    """A finite number > 0 (β, temperatures)."""
    return check_number(name, value, minimum=0.0, strict_min=True)


def check_nonnegative(name: str, value: object) -> float:
    """A finite number >= 0 (α, λ)."""
    return check_number(name, value, minimum=0.0)


def check_shape(name: str, tensor: object, shape: torch.Size, like: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {describe(tensor)}")
    if tensor.shape != shape:
        raise ValueError(
            f"{name} has shape {tuple(tensor.shape)} but {like} has shape {tuple(shape)}; "
            "per-token inputs of one side must share one (B, T) layout"
        )


def check_token_weights(name: str, weights: Tensor, mask: Tensor) -> None:
    """Per-token weights in [0, :data:`MAX_TOKEN_WEIGHT`] at the real tokens of ``mask``."""
    bad = ((weights < 0) | (weights > MAX_TOKEN_WEIGHT)) & mask
    if bad.any():
        raise ValueError(
            f"{rows_text(bad.any(-1))}: {name} must lie in [0, {MAX_TOKEN_WEIGHT}] at completion "
            f"tokens, got {weights[bad][0].item():g}; rescale raw weights with a transform "
            "(toolkit.alignment.masks.TRANSFORMS) first"
        )


def check_nonempty(name: str, mask: Tensor) -> Tensor:
    """Raise if a row of the bool (B, T) ``mask`` selects no token; return the mask."""
    empty = ~mask.any(-1)
    if empty.any():
        raise ValueError(
            f"{rows_text(empty)}: {name} has no completion tokens; "
            "drop empty completions before computing the loss"
        )
    return mask


def check_mask(name: str, mask: Tensor, shape: torch.Size, like: str) -> Tensor:
    """Validate a padding mask of ``shape`` with a token in every row; return it as bool."""
    check_shape(name, mask, shape, like)
    return check_nonempty(name, as_bool_mask(name, mask))


def masked_sum(values: Tensor, mask: Tensor, weights: Tensor | None = None) -> Tensor:
    """Σ_t mask_t · weights_t · values_t over the last dim; (B, T) -> (B,).

    Positions outside ``mask`` contribute exactly 0 to the value and to every gradient,
    whatever they hold.
    """
    kept = torch.where(mask, values, 0.0)
    if weights is not None:
        kept = kept * torch.where(mask, weights, 0.0)
    return kept.sum(-1)


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``values`` over the positions in ``mask``; (B, T) -> (B,)."""
    return masked_sum(values, mask) / mask.sum(-1)


def preference_loss(logits: Tensor, label_smoothing: float = 0.0) -> Tensor:
    """−(1−ε) log σ(z) − ε log σ(−z): the Bradley–Terry loss, conservative when ε > 0 (cDPO)."""
    losses = -F.logsigmoid(logits)
    if label_smoothing:
        losses = (1 - label_smoothing) * losses - label_smoothing * F.logsigmoid(-logits)
    return losses


@dataclass(frozen=True)
class TokenBatch:
    """Per-token inputs of B preference pairs, validated once on construction.

    Chosen tensors are (B, Tw), rejected tensors (B, Tl); Tw and Tl may differ.
    Masks are {0, 1} (float or bool) with 1 on real completion tokens, at least one per
    row and at least one row (an empty batch is a ``ValueError``, not a NaN loss); they are
    stored as bool. Log-probs must be ``<= 0`` at real tokens. ``chosen_kl``/``rejected_kl``
    are the per-position KL_t (forward, TDPO's sign, see :func:`token_kl_from_logits`),
    needed only by the KL-based losses.
    """

    policy_chosen_logps: Tensor  # (B, Tw) log πθ(y_t) of the realized chosen tokens
    policy_rejected_logps: Tensor  # (B, Tl)
    ref_chosen_logps: Tensor  # (B, Tw) log πref(y_t), no gradient expected
    ref_rejected_logps: Tensor  # (B, Tl)
    chosen_mask: Tensor  # (B, Tw) 1 = completion token, 0 = padding
    rejected_mask: Tensor  # (B, Tl)
    chosen_kl: Tensor | None = None  # (B, Tw) KL_t along the chosen completion
    rejected_kl: Tensor | None = None  # (B, Tl)

    def __post_init__(self) -> None:
        for side in ("chosen", "rejected"):
            mask_name = f"{side}_mask"
            raw = getattr(self, mask_name)
            if not isinstance(raw, Tensor):
                raise TypeError(f"{mask_name} must be a (B, T) torch.Tensor, got {describe(raw)}")
            if raw.dim() != 2 or raw.shape[0] == 0:
                raise ValueError(
                    f"{mask_name} must be a (B, T) tensor with B >= 1 pairs, got shape "
                    f"{tuple(raw.shape)}; a loss over an empty batch is undefined"
                )
            mask = check_nonempty(mask_name, as_bool_mask(mask_name, raw))
            object.__setattr__(self, mask_name, mask)  # stored as bool
            names = [f"policy_{side}_logps", f"ref_{side}_logps"]
            if getattr(self, f"{side}_kl") is not None:
                names.append(f"{side}_kl")
            for name in names:
                check_shape(name, getattr(self, name), mask.shape, mask_name)
                check_finite(name, getattr(self, name), mask)
            for name in names[:2]:
                above = (getattr(self, name) > LOGP_TOLERANCE) & mask
                if above.any():
                    raise ValueError(
                        f"{rows_text(above.any(-1))}: {name} holds values > 0 at completion "
                        "tokens; pass log-probabilities (log_softmax), not logits or probabilities"
                    )
        if self.chosen_mask.shape[0] != self.rejected_mask.shape[0]:
            raise ValueError(
                f"chosen tensors hold {self.chosen_mask.shape[0]} pairs but rejected tensors "
                f"hold {self.rejected_mask.shape[0]}"
            )

    @property
    def chosen_logratios(self) -> Tensor:
        """lr_t(w), (B, Tw)."""
        return self.policy_chosen_logps - self.ref_chosen_logps

    @property
    def rejected_logratios(self) -> Tensor:
        """lr_t(l), (B, Tl)."""
        return self.policy_rejected_logps - self.ref_rejected_logps

    def logratio_sums(
        self, chosen_weights: Tensor | None = None, rejected_weights: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """(Σ_t c_t lr_t(w), Σ_t c_t lr_t(l)) over real tokens, c_t = weights or 1; each (B,)."""
        return (
            masked_sum(self.chosen_logratios, self.chosen_mask, chosen_weights),
            masked_sum(self.rejected_logratios, self.rejected_mask, rejected_weights),
        )

    def kl_sums(
        self,
        method: str,
        chosen_weights: Tensor | None = None,
        rejected_weights: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """(Σ_t c_t KL_t(w), Σ_t c_t KL_t(l)) over real tokens; each (B,)."""
        if self.chosen_kl is None or self.rejected_kl is None:
            raise ValueError(
                f"{method} needs TokenBatch.chosen_kl and rejected_kl, the per-position KL "
                "(compute them with token_kl_from_logits or the kernels package)"
            )
        return (
            masked_sum(self.chosen_kl, self.chosen_mask, chosen_weights),
            masked_sum(self.rejected_kl, self.rejected_mask, rejected_weights),
        )

    def token_input(self, name: str, values: Tensor, side: str) -> Tensor:
        """Check a per-token method input (mask, weight) against one side's layout."""
        mask = getattr(self, f"{side}_mask")
        check_shape(name, values, mask.shape, f"{side}_mask")
        check_finite(name, values, mask)
        return values


def pair_metrics(
    batch: TokenBatch, beta: float, chosen_reward: Tensor, rejected_reward: Tensor
) -> dict[str, Tensor]:
    """Metrics every pairwise loss reports, detached and per pair (B,).

    ``rewards/*`` are β times the (masked / weighted) log-ratio sums that enter the
    method's margin; ``logps/*`` are the policy's plain sequence log-likelihoods.
    """
    chosen = (beta * chosen_reward).detach()
    rejected = (beta * rejected_reward).detach()
    return {
        "rewards/chosen": chosen,
        "rewards/rejected": rejected,
        "rewards/margins": chosen - rejected,
        "rewards/accuracies": (chosen > rejected).to(chosen.dtype),
        "logps/chosen": masked_sum(batch.policy_chosen_logps, batch.chosen_mask).detach(),
        "logps/rejected": masked_sum(batch.policy_rejected_logps, batch.rejected_mask).detach(),
    }


def _first_nonfinite(name: str, logits: Tensor, where: Tensor) -> None:
    """Raise naming the first (row, position) of ``where`` at which ``logits`` (B, T, V) holds
    NaN or inf."""
    bad = ~torch.isfinite(logits).all(-1) & where
    if bad.any():
        row, position = bad.nonzero()[0].tolist()
        raise ValueError(
            f"{name} has NaN or inf values at row {row}, position {position} "
            f"({int(bad.sum())} positions in all); the model's forward pass diverged"
        )


def token_kl_from_logits(
    policy_logits: Tensor,
    ref_logits: Tensor,
    direction: Literal["forward", "reverse"] = "forward",
    mask: Tensor | None = None,
) -> Tensor:
    """Per-position KL between the reference and the policy, (B, T, V) -> (B, T).

    forward, KL(πref ‖ πθ), as in TDPO (arXiv 2404.11999 §4):
        KL_t = Σ_v πref(v) (log πref(v) − log πθ(v))
    reverse, KL(πθ ‖ πref):
        KL_t = Σ_v πθ(v) (log πθ(v) − log πref(v))

    The reference side is detached: gradients flow to ``policy_logits`` only. This is
    the plain full-vocabulary reference; the kernels package computes the same thing in
    chunks from hidden states.

    NaN or inf logits at the positions of the bool (B, T) ``mask`` (all positions when None)
    are a ``ValueError`` naming the input, row and position; elsewhere (padding) they are
    let through. The check reads the (B, T) result, not the (B, T, V) logits, unless it fails.
    """
    if policy_logits.shape != ref_logits.shape:
        raise ValueError(
            f"policy_logits {tuple(policy_logits.shape)} and ref_logits "
            f"{tuple(ref_logits.shape)} must have the same shape"
        )
    if direction not in ("forward", "reverse"):
        raise ValueError(f"direction must be 'forward' or 'reverse', got {direction!r}")
    log_p = F.log_softmax(policy_logits, dim=-1)
    log_q = F.log_softmax(ref_logits.detach(), dim=-1)
    if direction == "forward":
        kl = (log_q.exp() * (log_q - log_p)).sum(-1)
    else:
        kl = (log_p.exp() * (log_p - log_q)).sum(-1)
    where = torch.ones_like(kl, dtype=torch.bool) if mask is None else mask
    if not torch.isfinite(torch.where(where, kl.detach(), 0.0)).all():
        _first_nonfinite("policy_logits", policy_logits.detach(), where)
        _first_nonfinite("ref_logits", ref_logits.detach(), where)
    return kl
