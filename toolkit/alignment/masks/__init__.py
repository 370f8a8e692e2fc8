"""Per-token masks and weights for the token-level preference losses, as separate components.

* :mod:`~toolkit.alignment.masks.sparsepo` — SparsePO's reference-activation mask and learned
  masks (arXiv 2410.05102).
* :mod:`~toolkit.alignment.masks.tis` — TIS-DPO's contrastive token weights and their
  transforms (arXiv 2410.04350).
* :mod:`~toolkit.alignment.masks.code_diff` — Target-DPO / IterPref error-token masks from a
  line diff of failing and fixed code (arXiv 2503.02783).

Tensor masks are (B, T), 0 at padding; the code-diff masks are per-example lists ready to be
dataset columns. Everything in ``__all__`` loads on first use.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.alignment.masks.code_diff import (
        changed_lines,
        chosen_diff_mask,
        completion_token_spans,
        error_token_mask,
        error_token_masks,
    )
    from toolkit.alignment.masks.sparsepo import (
        SITES,
        LearnedTokenMask,
        SparsePOMasks,
        decoder_layers,
        l1_penalty,
        mask_parameter_groups,
        masked_minmax,
        masked_zscore,
        normalize_activation,
        reference_activation_mask,
        reference_hidden_states,
    )
    from toolkit.alignment.masks.tis import (
        TRANSFORMS,
        binary,
        contrastive_token_weights,
        rank_based,
        threshold_and_scale,
        transform_token_weights,
    )

__all__ = [
    "SITES",
    "TRANSFORMS",
    "LearnedTokenMask",
    "SparsePOMasks",
    "binary",
    "changed_lines",
    "chosen_diff_mask",
    "completion_token_spans",
    "contrastive_token_weights",
    "decoder_layers",
    "error_token_mask",
    "error_token_masks",
    "l1_penalty",
    "mask_parameter_groups",
    "masked_minmax",
    "masked_zscore",
    "normalize_activation",
    "rank_based",
    "reference_activation_mask",
    "reference_hidden_states",
    "threshold_and_scale",
    "transform_token_weights",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
