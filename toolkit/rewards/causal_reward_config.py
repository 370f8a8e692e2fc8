"""``CausalRewardConfig``: TRL's ``RewardConfig`` plus the counterfactual-invariance penalty."""

from __future__ import annotations

from dataclasses import dataclass, field

from trl import RewardConfig

VARIANTS = ("unconditional", "conditional")
TARGETS = ("reward", "representation")


@dataclass
class CausalRewardConfig(RewardConfig):
    """Everything ``RewardConfig`` takes, plus the MMD regularizer of Wang et al.
    (arXiv 2501.09620, §3):

        L = −E log σ(r(x, y_w) − r(x, y_l)) + λ Σ_{m<m'} MMD²(f | Z=m, f | Z=m')

    Z comes as integer bin ids in the dataset columns ``z_bin_chosen`` / ``z_bin_rejected``
    (``toolkit.rewards.binning`` makes them from lengths, topics, groups, ...).
    """

    mmd_lambda: float = field(default=1.0, metadata={"help": "λ ≥ 0; 0 is a vanilla reward model"})
    mmd_variant: str = field(
        default="unconditional",
        metadata={
            "help": "'unconditional': one penalty over chosen and rejected responses together; "
            "'conditional': chosen and rejected penalized separately (Z ⊥ f given the label)"
        },
    )
    mmd_on: str = field(
        default="reward",
        metadata={
            "help": "'reward': f is the scalar reward (the paper's loss); 'representation': f is "
            "the mean of the last hidden states (the paper's text says 'latent representation')"
        },
    )
    mmd_bandwidth: float | None = field(
        default=None,
        metadata={
            "help": "Gaussian kernel σ in the units of f. None: 1 on rewards (logit units: a "
            "reward difference of 1 is a 73% preference) and the median heuristic over the "
            "batch on representations. The median heuristic on rewards follows their spread, "
            "which is tiny at initialization: the kernel is then so sharp that the penalty's "
            "gradient swamps the preference loss and the model never learns the preference."
        },
    )

    def __post_init__(self):
        super().__post_init__()
        if not self.mmd_lambda >= 0:
            raise ValueError(f"mmd_lambda must be >= 0, got {self.mmd_lambda}")
        if self.mmd_variant not in VARIANTS:
            raise ValueError(f"mmd_variant={self.mmd_variant!r}; choose one of {VARIANTS}")
        if self.mmd_on not in TARGETS:
            raise ValueError(f"mmd_on={self.mmd_on!r}; choose one of {TARGETS}")
        if self.mmd_bandwidth is not None and not self.mmd_bandwidth > 0:
            raise ValueError(f"mmd_bandwidth must be > 0 or None, got {self.mmd_bandwidth}")
