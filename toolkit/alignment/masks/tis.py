"""TIS-DPO token weights from a contrastive pair of models (Liu et al., arXiv 2410.04350).

TIS-DPO estimates each token's importance from two models trained on the same pairs:
a DPO model π_dpo and a reverse-DPO model π_rev (chosen and rejected swapped). A token the
DPO model likes much more than the reverse model carries the preference. The authors' code
(exlaw/TIS-DPO; read here through its public forks, ``token_weight_estimation.py`` and the
``weight_transform_methods`` of ``preference_datasets.py``) computes for every completion
token

    r_t = log π_rev(y_t | x, y<t) − log π_dpo(y_t | x, y<t)

on chosen and rejected responses alike, then negates it for the chosen one
(``apply_weight_transform(..., negate=True)`` "for chosen weights"):

    chosen:   w_t = log π_dpo(y_t) − log π_rev(y_t)     high where y_t is a "good" token
    rejected: w_t = log π_rev(y_t) − log π_dpo(y_t)     high where y_t is a "bad" token

and maps w_t per sequence into a weight range with one of the transforms below; the loss
(``toolkit.alignment.tis_dpo_loss``) scales each token's log-ratio by it.

Every function takes (B, T) tensors and a (B, T) {0, 1} mask of completion tokens, works per
sequence over its masked tokens, leaves masked-out positions exactly 0 and is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import MappingProxyType

import torch

from toolkit.alignment.masks._checks import Tensor, bool_mask, check_finite, check_tokens


def _checked(name: str, weights: Tensor, mask: Tensor) -> Tensor:
    """Validate per-token values and their mask; return the mask as bool."""
    check_tokens(name, weights)
    keep = bool_mask("mask", mask, weights, name)
    check_finite(name, weights, keep)
    return keep


def _check_range(low_name: str, low: float, high_name: str, high: float) -> None:
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(
            f"{low_name} must be finite and < {high_name}, got {low_name}={low}, {high_name}={high}"
        )


def _rows(values: Tensor, keep: Tensor, per_row: Callable[[Tensor], Tensor]) -> Tensor:
    """Apply ``per_row`` to the masked values of each row; 0 elsewhere. float32 (B, T)."""
    out = torch.zeros(values.shape, dtype=torch.float32, device=values.device)
    for row in range(values.shape[0]):
        if keep[row].any():
            out[row, keep[row]] = per_row(values[row, keep[row]]).float()
    return out


def _tie_groups(values: Tensor) -> tuple[Tensor, Tensor]:
    """Per value of a 1-D tensor: (count of strictly smaller values, size of its tie group)."""
    _, inverse, counts = torch.unique(values, sorted=True, return_inverse=True, return_counts=True)
    smaller = torch.cumsum(counts, 0) - counts
    return smaller[inverse], counts[inverse]


def rank_based(
    weights: Tensor, mask: Tensor, min_scale: float = 0.7, max_scale: float = 1.3
) -> Tensor:
    """Rank the tokens of each sequence by w_t and spread the ranks linearly over
    [min_scale, max_scale]: the lowest gets min_scale, the highest max_scale (the authors'
    ``rank_based_transform``, defaults 0.7 and 1.3).

    Ties share their average rank (the authors' stable sort gives tied tokens different
    weights by position; average ranks make equal w_t give equal weights, so two identical
    models give every token the midpoint). A one-token sequence gets the midpoint, 1.0 by
    default, as in the authors' code.
    """
    keep = _checked("weights", weights, mask)
    _check_range("min_scale", min_scale, "max_scale", max_scale)

    def per_row(values: Tensor) -> Tensor:
        if values.numel() == 1:
            return values.new_full((1,), (min_scale + max_scale) / 2)
        smaller, ties = _tie_groups(values)
        rank = smaller + (ties - 1) / 2  # average 0-based rank
        return min_scale + rank / (values.numel() - 1) * (max_scale - min_scale)

    return _rows(weights, keep, per_row)


def threshold_and_scale(
    weights: Tensor,
    mask: Tensor,
    min_val: float = -1.5,
    max_val: float = 1.5,
    min_scale: float = 0.7,
    max_scale: float = 1.3,
) -> Tensor:
    """Clip w_t to [min_val, max_val], then map that interval linearly onto
    [min_scale, max_scale] (the authors' ``threshold_and_scale_transform``, defaults
    −1.5, 1.5, 0.7, 1.3): w_t = 0 gives 1.0.
    """
    keep = _checked("weights", weights, mask)
    _check_range("min_val", min_val, "max_val", max_val)
    _check_range("min_scale", min_scale, "max_scale", max_scale)
    clipped = weights.float().clamp(min_val, max_val)
    scaled = min_scale + (clipped - min_val) * (max_scale - min_scale) / (max_val - min_val)
    return torch.where(keep, scaled, 0.0)


def binary(weights: Tensor, mask: Tensor, top_percent: float = 50.0) -> Tensor:
    """1 on the top ``top_percent`` % of each sequence's tokens by w_t, 0 on the rest (the
    authors' ``binary_weight_transform``): with n tokens, k = int(n · top_percent / 100) and a
    token gets 1 iff at most k tokens have w ≥ its w, so a tie group straddling the cut gets 0
    (as the authors' value-keyed dict does). Default 50: their training-time default is 100,
    which makes every weight 1 (plain DPO); 50 is the top-half split of their weight
    estimation script (``transform_list``).
    """
    keep = _checked("weights", weights, mask)
    if not 0 <= top_percent <= 100:
        raise ValueError(f"top_percent must be in [0, 100], got {top_percent}")

    def per_row(values: Tensor) -> Tensor:
        n = values.numel()
        smaller, _ = _tie_groups(values)
        at_least = n - smaller  # tokens with w ≥ this token's w
        return (at_least <= int(n * top_percent / 100)).float()

    return _rows(weights, keep, per_row)


TRANSFORMS: MappingProxyType[str, Callable[..., Tensor]] = MappingProxyType(
    {"rank_based": rank_based, "threshold_and_scale": threshold_and_scale, "binary": binary}
)
"""The weight transforms by name, as the authors' ``transform.method`` names them."""


def transform_token_weights(weights: Tensor, mask: Tensor, method: str, **params) -> Tensor:
    """Apply the transform named ``method`` (a key of :data:`TRANSFORMS`) with ``params``."""
    if method not in TRANSFORMS:
        raise ValueError(f"unknown transform {method!r}; choose one of: {', '.join(TRANSFORMS)}")
    return TRANSFORMS[method](weights, mask, **params)


def contrastive_token_weights(
    logps_dpo: Tensor,
    logps_rev: Tensor,
    mask: Tensor,
    is_chosen: bool,
    transform: str | None = None,
    **transform_params,
) -> Tensor:
    """TIS-DPO token weights of one side from a contrastive pair (see the module docstring):

        w_t = log π_dpo(y_t) − log π_rev(y_t)   if is_chosen
        w_t = log π_rev(y_t) − log π_dpo(y_t)   otherwise

    Args:
        logps_dpo: (B, T) log π_dpo of the realized completion tokens.
        logps_rev: (B, T) log π_rev of the same tokens.
        mask: (B, T) {0, 1}, 1 on completion tokens; weights are 0 elsewhere.
        is_chosen: whether these are chosen responses (flips the sign).
        transform: None for the raw w_t, or a name in :data:`TRANSFORMS`.
        **transform_params: passed to the transform (e.g. ``min_scale=0.7``).

    Returns:
        (B, T) float32 weights, 0 outside ``mask``.
    """
    keep = _checked("logps_dpo", logps_dpo, mask)
    _checked("logps_rev", logps_rev, mask)
    check_tokens("logps_rev", logps_rev, logps_dpo, "logps_dpo")
    if not isinstance(is_chosen, bool):
        raise ValueError(f"is_chosen must be a bool, got {is_chosen!r}")
    if transform is not None and transform not in TRANSFORMS:
        raise ValueError(
            f"unknown transform {transform!r}; choose None or one of: {', '.join(TRANSFORMS)}"
        )
    sign = -1.0 if is_chosen else 1.0
    raw = torch.where(keep, sign * (logps_rev.float() - logps_dpo.float()), 0.0)
    if transform is None:
        return raw
    return transform_token_weights(raw, keep, transform, **transform_params)
