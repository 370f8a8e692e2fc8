"""Causal reward models (Wang et al., arXiv 2501.09620): reward models regularized towards
counterfactual invariance to a spurious variable Z.

* :mod:`~toolkit.rewards.mmd` — the unbiased and biased (non-negative) MMD² estimators and
  the penalty over Z's bins.
* :mod:`~toolkit.rewards.binning` — equal-width / quantile bins of a continuous Z, categories.
* :class:`CausalRewardConfig` / :class:`CausalRewardTrainer` — TRL's ``RewardConfig`` /
  ``RewardTrainer`` with the MMD penalty.
* :mod:`~toolkit.rewards.metrics` — accuracy, reward–Z correlation, counterfactual gap.
* :mod:`~toolkit.rewards.lab` — the bias lab of the notebook: data, training, evaluation.
* :mod:`~toolkit.rewards.evidence` — the notebook's claims over seeds, gated on accuracy.

Everything in ``__all__`` loads on first use, so ``import toolkit.rewards`` does not import
TRL. Equations and defaults: ``docs/methods/causal_rewards.md``.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.rewards.binning import categorical_bins, continuous_bins
    from toolkit.rewards.causal_reward_config import CausalRewardConfig
    from toolkit.rewards.causal_reward_trainer import CausalRewardTrainer, ZBinCollator
    from toolkit.rewards.evidence import (
        accuracy_claim,
        invariance_claim,
    )
    from toolkit.rewards.lab import (
        RewardModelReport,
        best_of_n,
        evaluate_reward_model,
        lab_rows,
        sample_reviews,
        sentence_count,
        sweep_view_data,
        train_reward_model,
    )
    from toolkit.rewards.metrics import (
        counterfactual_gap,
        preference_accuracy,
        reward_scores,
        z_correlation,
    )
    from toolkit.rewards.mmd import (
        binned_mmd_penalty,
        median_bandwidth,
        mmd2_biased,
        mmd2_unbiased,
    )

__all__ = [
    "CausalRewardConfig",
    "CausalRewardTrainer",
    "RewardModelReport",
    "ZBinCollator",
    "accuracy_claim",
    "best_of_n",
    "binned_mmd_penalty",
    "categorical_bins",
    "continuous_bins",
    "counterfactual_gap",
    "evaluate_reward_model",
    "invariance_claim",
    "lab_rows",
    "median_bandwidth",
    "mmd2_biased",
    "mmd2_unbiased",
    "preference_accuracy",
    "reward_scores",
    "sample_reviews",
    "sentence_count",
    "sweep_view_data",
    "train_reward_model",
    "z_correlation",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
