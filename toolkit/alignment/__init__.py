"""Token-level preference optimization: losses, token masks, trainers and recipes.

* :mod:`~toolkit.alignment.losses` — the loss family as pure functions (DPO, TDPO, SparsePO,
  TIS-DPO, Target-DPO, AlignDistil), ``LOSSES`` (method name → loss) and :func:`compute_loss`,
  which picks one by name.
* :mod:`~toolkit.alignment.masks` — per-token masks and weights (its own package).
* :mod:`~toolkit.alignment.methods` — the method registry: ``METHODS`` (method name →
  :class:`TokenMethod`: loss, per-token inputs, config fields) and :func:`register_method`.
* :class:`TokenPOConfig` / :class:`TokenPOTrainer` — TRL's ``DPOConfig`` / ``DPOTrainer`` with
  per-token losses, weights and masks.
* :mod:`~toolkit.alignment.recipes` — short training runs the notebook composes.
* :mod:`~toolkit.alignment.evidence` — the notebook's claims over seeds, with their sanity gates.
* :mod:`~toolkit.alignment.sentiment_control`, :mod:`~toolkit.alignment.code_eval` — the
  sentiment-control frontier and the pass rate of generated code.

Everything in ``__all__`` loads on first use, so ``import toolkit.alignment`` does not import
TRL. ``toolkit.alignment.checks`` holds internal input checks. Equations and defaults:
``docs/methods/token_po.md``.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.alignment.code_eval import generate_solutions, pass_rate, passes_tests
    from toolkit.alignment.evidence import (
        frontier_claim,
        implicit_preference_accuracy,
        reward_accuracy,
        target_claim,
    )
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
    from toolkit.alignment.methods import METHODS, Param, TokenMethod, register_method
    from toolkit.alignment.recipes import (
        PreferenceRun,
        completion_logps,
        completion_tokens,
        pair_token_tracks,
        swap_preferences,
        tis_weight_columns,
        train_aligndistil,
        train_preference,
    )
    from toolkit.alignment.sentiment_control import (
        FrontierPoint,
        SentimentReward,
        best_worst_pairs,
        evaluate_policy,
        frontier,
        frontier_gap,
        sample_continuations,
    )
    from toolkit.alignment.token_po_config import TokenPOConfig
    from toolkit.alignment.token_po_trainer import TokenPOTrainer, TokenWeightCollator

__all__ = [
    "LOSSES",
    "FrontierPoint",
    "LossOutput",
    "METHODS",
    "Param",
    "PreferenceRun",
    "SentimentReward",
    "Teacher",
    "TokenBatch",
    "TokenMethod",
    "TokenPOConfig",
    "TokenPOTrainer",
    "TokenWeightCollator",
    "aligndistil_loss",
    "aligndistil_teacher_logits",
    "best_worst_pairs",
    "completion_logps",
    "completion_tokens",
    "compute_loss",
    "contrastive_teacher_logits",
    "dpo_loss",
    "evaluate_policy",
    "frontier",
    "frontier_claim",
    "frontier_gap",
    "generate_solutions",
    "implicit_preference_accuracy",
    "pair_token_tracks",
    "pass_rate",
    "passes_tests",
    "register_method",
    "reward_accuracy",
    "sample_continuations",
    "sparsepo_loss",
    "swap_preferences",
    "target_claim",
    "target_dpo_loss",
    "tdpo_loss",
    "tis_dpo_loss",
    "tis_weight_columns",
    "token_kl_from_logits",
    "token_tvd",
    "train_aligndistil",
    "train_preference",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
