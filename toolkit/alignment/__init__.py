"""Token-level preference optimization: losses (here), token masks and trainers.

``toolkit.alignment.losses`` holds the pure loss functions; everything it exports is
re-exported here so ``from toolkit.alignment import TokenBatch, compute_loss`` works.
"""

from toolkit.alignment.losses import (
    LOSSES,
    LossOutput,
    Teacher,
    TokenBatch,
    aligndistil_loss,
    aligndistil_teacher_logits,
    compute_loss,
    contrastive_teacher_logits,
    dpo_loss,
    sparsepo_loss,
    target_dpo_loss,
    tdpo_loss,
    tis_dpo_loss,
    token_kl_from_logits,
    token_tvd,
)

__all__ = [
    "LOSSES",
    "LossOutput",
    "Teacher",
    "TokenBatch",
    "aligndistil_loss",
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
