"""``TokenPOConfig``: TRL's ``DPOConfig`` plus the token-level method switch."""

from __future__ import annotations

from dataclasses import dataclass, field

from trl import DPOConfig

from toolkit._checks import check_choice, check_int, check_number, check_str, describe
from toolkit.alignment.methods import FULL_LOGITS, METHODS, check_bool, get_method

SPARSEPO_MASKS = ("reference", "learned", "ones")


@dataclass
class TokenPOConfig(DPOConfig):
    """Everything ``DPOConfig`` takes (β is ``beta``), plus:

    ``method`` selects a registered method (``toolkit.alignment.methods.METHODS``), which
    declares the fields below that it reads; ``method_kwargs`` holds the parameters of a
    method registered without a field of its own. Per-token weights and masks come from the
    dataset columns ``chosen_weights`` / ``rejected_weights`` (one float per completion
    token, as the trainer tokenizes it) or, for SparsePO, from the reference model.

    Every field is checked here, naming it: ``beta > 0``; the α's, λ, β₂ and the mask weight
    decay finite and ``>= 0`` (β₂ ``> 0``); the option strings among their choices; the
    method's ``method_kwargs`` by the checks its registry entry declares. ``label_smoothing``
    ε ∈ [0, 0.5) is cDPO's and applies to ``method="dpo"`` only (TRL 1.x's sigmoid loss
    ignores it; see :func:`~toolkit.alignment.dpo_loss`). The options of ``DPOConfig`` that
    change TRL's own loss (``loss_type`` other than ``"sigmoid"``, ``loss_weights``,
    ``use_weighting``, ``ld_alpha``, ``f_divergence_type``) and ``precompute_ref_log_probs``
    are refused rather than ignored.
    """

    method: str = field(
        default="dpo", metadata={"help": f"a registered method: {', '.join(METHODS)}, ..."}
    )
    method_kwargs: dict | None = field(
        default=None,
        metadata={"help": "parameters of a method registered without config fields of its own"},
    )
    tdpo_alpha: float = field(default=0.5, metadata={"help": "α of TDPO2 (paper 0.5)"})
    tis_alpha: float = field(
        default=0.5, metadata={"help": "α of TIS-DPO's token-level KL terms (paper 0.5)"}
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
    sparsepo_common_l1: str = field(
        default="halved",
        metadata={
            "help": "one mask serving reward and KL (common mode, activation mask): 'halved' "
            "puts λ/2 on each of its two L1 terms, λ‖m‖₁ in all, as the authors do; 'both' "
            "puts λ on each (2λ‖m‖₁, this package's earlier choice)"
        },
    )
    target_rpo_alpha: float = field(
        default=1.0, metadata={"help": "α of the NLL term when method='target_rpo'"}
    )
    aligndistil_beta2: float = field(
        default=10.0, metadata={"help": "β₂ of AlignDistil's teacher (paper 10)"}
    )
    aligndistil_tvd: str = field(
        default="authors",
        metadata={
            "help": "contrastive teacher's disagreement: 'authors' (Σ|p − q|, as in their code, "
            "so β₂ matches the paper's) or 'standard' (½Σ|p − q|: β₂ = 10 is their 5)"
        },
    )
    use_fused_kernels: bool = field(
        default=False,
        metadata={"help": "per-token log-probs and KL from hidden states, chunked (no B×T×V)"},
    )

    @property
    def sparsepo_l1_per_mask(self) -> float:
        """λ of each of SparsePO's two L1 terms (reward mask, KL mask).

        With one mask serving both (``sparsepo_mask`` ``"reference"``/``"ones"``, or learned
        in ``"common"`` mode) and ``sparsepo_common_l1="halved"`` (the default, the authors'
        convention) each term gets λ/2, so the penalty is λ‖m‖₁; otherwise each gets λ.
        """
        shared = self.sparsepo_mask != "learned" or self.sparsepo_mask_mode == "common"
        if shared and self.sparsepo_common_l1 == "halved":
            return self.sparsepo_l1 / 2
        return self.sparsepo_l1

    def __post_init__(self):
        super().__post_init__()
        check_str("method", self.method)
        method = get_method(self.method)
        check_number("beta", self.beta, minimum=0.0, strict_min=True)
        check_number("sparsepo_l1", self.sparsepo_l1, minimum=0.0)
        check_choice("sparsepo_common_l1", self.sparsepo_common_l1, ("halved", "both"))
        for entry in METHODS.values():
            for param in entry.params.values():
                if param.field is not None:
                    param.check(param.field, getattr(self, param.field))
        check_number("sparsepo_mask_weight_decay", self.sparsepo_mask_weight_decay, minimum=0.0)
        check_bool("use_fused_kernels", self.use_fused_kernels)
        if self.method_kwargs is not None and not isinstance(self.method_kwargs, dict):
            raise TypeError(f"method_kwargs must be a dict, got {describe(self.method_kwargs)}")
        method.check_config(self.method, self)
        if self.use_fused_kernels and method.needs(self) & FULL_LOGITS:
            raise ValueError(
                f"use_fused_kernels=True computes no B×T×V logits, which method "
                f"{self.method!r} needs; set use_fused_kernels=False"
            )
        for name, options in (
            ("sparsepo_mask", SPARSEPO_MASKS),
            ("sparsepo_mask_mode", ("common", "independent")),
            ("sparsepo_mask_init", ("ones", "normal")),
            ("sparsepo_common_l1", ("halved", "both")),
            ("aligndistil_tvd", ("authors", "standard")),
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
        if self.label_smoothing and "label_smoothing" not in METHODS[self.method].params:
            raise ValueError(
                f"label_smoothing={self.label_smoothing} applies to method='dpo' (cDPO) only; "
                f"method={self.method!r} has no label-smoothed form"
            )
        if self.precompute_ref_log_probs:
            raise ValueError(
                "precompute_ref_log_probs=True stores only sequence sums; token-level methods need "
                "the reference's per-token log-probs. Set it to False."
            )
