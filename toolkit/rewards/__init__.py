"""Causal reward models (Wang et al., arXiv 2501.09620): reward models regularized towards
counterfactual invariance to a spurious variable Z.

* :mod:`~toolkit.rewards.mmd` — the unbiased MMD² estimator and the penalty over Z's bins.
* :mod:`~toolkit.rewards.binning` — equal-width / quantile bins of a continuous Z, categories.
* :mod:`~toolkit.rewards.causal_reward_config`, :mod:`~toolkit.rewards.causal_reward_trainer`
  — ``CausalRewardConfig`` / ``CausalRewardTrainer`` on TRL's ``RewardConfig`` / ``RewardTrainer``.
* :mod:`~toolkit.rewards.metrics` — accuracy, reward–Z correlation, counterfactual gap.
"""

from toolkit.rewards.binning import categorical_bins, continuous_bins
from toolkit.rewards.metrics import (
    counterfactual_gap,
    preference_accuracy,
    reward_scores,
    z_correlation,
)
from toolkit.rewards.mmd import binned_mmd_penalty, median_bandwidth, mmd2_unbiased

__all__ = [
    "binned_mmd_penalty",
    "categorical_bins",
    "continuous_bins",
    "counterfactual_gap",
    "median_bandwidth",
    "mmd2_unbiased",
    "preference_accuracy",
    "reward_scores",
    "z_correlation",
]
