"""Token-level preference-optimization losses as pure functions of per-token quantities.

Pairwise losses take a :class:`TokenBatch` (per-token log-probs, masks and optionally
per-position KL of B pairs) plus their own per-token masks or weights; AlignDistil takes
full logits. All return a :class:`LossOutput` of per-pair losses and detached metrics.
``LOSSES`` maps each method name to its loss function and :func:`compute_loss` calls one by
name; what the trainer runs for each method (inputs, config fields) is declared in
:mod:`toolkit.alignment.methods`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from types import MappingProxyType

from toolkit.alignment.losses.aligndistil import (
    Teacher,
    aligndistil_loss,
    aligndistil_pair_loss,
    aligndistil_teacher_logits,
    contrastive_teacher_logits,
    token_tvd,
)
from toolkit.alignment.losses.core import LossOutput, TokenBatch, token_kl_from_logits
from toolkit.alignment.losses.dpo import dpo_loss
from toolkit.alignment.losses.sparsepo import sparsepo_loss
from toolkit.alignment.losses.target_dpo import target_dpo_loss
from toolkit.alignment.losses.tdpo import tdpo_loss
from toolkit.alignment.losses.tis_dpo import tis_dpo_loss

LOSSES: MappingProxyType[str, Callable[..., LossOutput]] = MappingProxyType(
    {
        "dpo": dpo_loss,
        "tdpo1": partial(tdpo_loss, variant=1),
        "tdpo2": partial(tdpo_loss, variant=2),
        "sparsepo": sparsepo_loss,
        "tis_dpo": tis_dpo_loss,
        "target_dpo": partial(target_dpo_loss, alpha=0.0),
        "target_rpo": partial(target_dpo_loss, alpha=1.0),
        "aligndistil": aligndistil_loss,
    }
)


def compute_loss(method: str, *args, **kwargs) -> LossOutput:
    """Call the loss registered as ``method`` in :data:`LOSSES` with the given arguments.

    ``compute_loss("tdpo2", batch, alpha=0.5)`` is ``tdpo_loss(batch, variant=2, alpha=0.5)``;
    ``"aligndistil"`` takes ``(policy_logits, teacher_logits, mask, ...)`` instead of a batch.
    """
    if method not in LOSSES:
        raise ValueError(f"unknown method {method!r}; choose one of: {', '.join(LOSSES)}")
    return LOSSES[method](*args, **kwargs)


__all__ = [
    "LOSSES",
    "LossOutput",
    "Teacher",
    "TokenBatch",
    "aligndistil_loss",
    "aligndistil_pair_loss",
    "aligndistil_teacher_logits",
    "compute_loss",
    "contrastive_teacher_logits",
    "dpo_loss",
    "sparsepo_loss",
    "target_dpo_loss",
    "tdpo_loss",
    "tis_dpo_loss",
    "token_kl_from_logits",
    "token_tvd",
]
