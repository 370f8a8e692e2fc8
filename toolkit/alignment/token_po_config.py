"""``TokenPOConfig``: TRL's ``DPOConfig`` plus the token-level method switch."""

from __future__ import annotations

from dataclasses import dataclass, field

from trl import DPOConfig

from toolkit.alignment.losses import LOSSES

TOKEN_METHODS = tuple(m for m in LOSSES if m != "aligndistil")
KL_METHODS = ("tdpo1", "tdpo2", "sparsepo")
SPARSEPO_MASKS = ("reference", "learned", "ones")


@dataclass
class TokenPOConfig(DPOConfig):
    """Everything ``DPOConfig`` takes (β is ``beta``), plus:

    ``method`` selects the loss (``toolkit.alignment.LOSSES``); per-token weights and
    masks come from the dataset columns ``chosen_weights`` / ``rejected_weights`` (one
    float per completion token, as the trainer tokenizes it) or, for SparsePO, from the
    reference model.
    """

    method: str = field(default="dpo", metadata={"help": f"one of {', '.join(TOKEN_METHODS)}"})
    tdpo_alpha: float = field(
        default=0.5, metadata={"help": "α of TDPO2 and of TIS-DPO's token-level KL (paper 0.5)"}
    )
    tis_token_level: bool = field(
        default=False, metadata={"help": "TIS-DPO with the weighted per-token KL terms"}
    )
    sparsepo_mask: str = field(
        default="reference",
        metadata={
            "help": "'reference': activation mask of the reference model; 'learned': masks "
            "trained with the policy over the reference's hidden states; 'ones': ≡ 1"
        },
    )
    sparsepo_mask_mode: str = field(
        default="common",
        metadata={"help": "learned masks: 'common' (m^u = m^d) or 'independent'"},
    )
    sparsepo_mask_init: str = field(
        default="ones",
        metadata={"help": "learned masks: 'ones' (start as TDPO1) or 'normal' (authors' init)"},
    )
    sparsepo_mask_weight_decay: float = field(
        default=0.01, metadata={"help": "weight decay of the learned masks (paper 0.01)"}
    )
    sparsepo_l1: float = field(default=0.0, metadata={"help": "λ of the masks' L1 terms"})
    target_rpo_alpha: float = field(
        default=1.0, metadata={"help": "α of the NLL term when method='target_rpo'"}
    )
    use_fused_kernels: bool = field(
        default=False,
        metadata={"help": "per-token log-probs and KL from hidden states, chunked (no B×T×V)"},
    )

    def __post_init__(self):
        super().__post_init__()
        if self.method not in TOKEN_METHODS:
            raise ValueError(
                f"method={self.method!r} is not a token-level method; choose one of "
                f"{', '.join(TOKEN_METHODS)}"
            )
        if self.sparsepo_mask not in SPARSEPO_MASKS:
            raise ValueError(
                f"sparsepo_mask={self.sparsepo_mask!r}; choose one of {', '.join(SPARSEPO_MASKS)}"
            )
        if self.sparsepo_mask_mode not in ("common", "independent"):
            raise ValueError(
                f"sparsepo_mask_mode={self.sparsepo_mask_mode!r}; choose 'common' or 'independent'"
            )
        if self.precompute_ref_log_probs:
            raise ValueError(
                "precompute_ref_log_probs=True stores only sequence sums; token-level methods need "
                "the reference's per-token log-probs. Set it to False."
            )
