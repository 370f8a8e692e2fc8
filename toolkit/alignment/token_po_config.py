"""``TokenPOConfig``: TRL's ``DPOConfig`` plus the token-level method switch."""

from __future__ import annotations

from dataclasses import dataclass, field

from trl import DPOConfig

from toolkit._checks import check_choice, check_int, check_number, check_str, describe
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

    Every field is checked here, naming it: ``beta > 0``; the α's, λ and the mask weight
    decay finite and ``>= 0``; the option strings among their choices. ``label_smoothing``
    ε ∈ [0, 0.5) is cDPO's and applies to ``method="dpo"`` only (TRL 1.x's sigmoid loss
    ignores it; see :func:`~toolkit.alignment.dpo_loss`). The options of ``DPOConfig`` that
    change TRL's own loss (``loss_type`` other than ``"sigmoid"``, ``loss_weights``,
    ``use_weighting``, ``ld_alpha``, ``f_divergence_type``) and ``precompute_ref_log_probs``
    are refused rather than ignored.
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
        check_str("method", self.method)
        check_choice("method", self.method, TOKEN_METHODS)
        check_number("beta", self.beta, minimum=0.0, strict_min=True)
        for name in ("tdpo_alpha", "sparsepo_mask_weight_decay", "sparsepo_l1", "target_rpo_alpha"):
            check_number(name, getattr(self, name), minimum=0.0)
        for name in ("tis_token_level", "use_fused_kernels"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {describe(getattr(self, name))}")
        for name, options in (
            ("sparsepo_mask", SPARSEPO_MASKS),
            ("sparsepo_mask_mode", ("common", "independent")),
            ("sparsepo_mask_init", ("ones", "normal")),
            ("truncation_mode", ("keep_start", "keep_end")),
        ):
            check_choice(name, getattr(self, name), options)
        if self.max_length is not None:
            check_int("max_length", self.max_length, minimum=2)
        self._refuse_unimplemented()

    def _refuse_unimplemented(self) -> None:
        """DPOConfig options that change TRL's loss, which this trainer replaces: refused, so
        that none of them is silently ignored."""
        if self.loss_type != ["sigmoid"]:
            raise ValueError(
                f"loss_type={self.loss_type!r} is not supported: TokenPOTrainer implements the "
                "sigmoid loss of each token-level method; choose the method with method=..."
            )
        unsupported = {
            "loss_weights": (self.loss_weights not in (None, [1.0]), "one loss, no weights"),
            "use_weighting": (self.use_weighting, "WPO weighting is not implemented"),
            "ld_alpha": (self.ld_alpha is not None, "LD-DPO weighting is not implemented"),
            "f_divergence_type": (
                self.f_divergence_type != "reverse_kl",
                "only the reverse-KL (standard DPO) regularizer is implemented",
            ),
        }
        for name, (given, why) in unsupported.items():
            if given:
                raise ValueError(f"{name}={getattr(self, name)!r} is not supported: {why}")
        check_number("label_smoothing", self.label_smoothing, minimum=0.0)
        if self.label_smoothing >= 0.5:
            raise ValueError(f"label_smoothing must be in [0, 0.5), got {self.label_smoothing}")
        if self.label_smoothing and self.method != "dpo":
            raise ValueError(
                f"label_smoothing={self.label_smoothing} applies to method='dpo' (cDPO) only; "
                f"method={self.method!r} has no label-smoothed form"
            )
        if self.precompute_ref_log_probs:
            raise ValueError(
                "precompute_ref_log_probs=True stores only sequence sums; token-level methods need "
                "the reference's per-token log-probs. Set it to False."
            )
