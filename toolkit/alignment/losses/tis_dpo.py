"""TIS-DPO: token-level importance sampling for DPO (Liu et al., arXiv 2410.04350)."""

from __future__ import annotations

from toolkit.alignment.losses.core import (
    LossOutput,
    Tensor,
    TokenBatch,
    check_nonnegative,
    check_positive,
    check_token_weights,
    masked_mean,
    pair_metrics,
    preference_loss,
)


def tis_dpo_loss(
    batch: TokenBatch,
    *,
    chosen_weights: Tensor,
    rejected_weights: Tensor,
    beta: float = 0.1,
    alpha: float = 0.5,
    token_level: bool = False,
) -> LossOutput:
    """TIS-DPO (arXiv 2410.04350): every token's log-ratio is scaled by its importance weight.

        u = Σ_t w^w_t lr_t(w) − Σ_t w^l_t lr_t(l)
        L = −log σ(β u)                                              (token_level=False)
        L = −log σ(β [u − α (Σ_t w^l_t KL_t(l) − Σ_t w^w_t KL_t(w))])   (token_level=True)

    Weights ≡ 1 give DPO, and with ``token_level=True`` and α = 1, TDPO1. The token-level
    variant follows the TDPO form it is built on, with KL_t as given in
    ``batch.chosen_kl``/``rejected_kl`` (forward by default). Note: the public TIS-DPO code
    (exlaw/TIS-DPO, ``tisdpo_loss`` with ``token_level=True``) computes the reverse
    per-position KL(πθ ‖ πref) and subtracts α (Σ w KL(w) − Σ w KL(l)), the opposite sign;
    passing the negated reverse KLs, −KL(πθ ‖ πref), as ``chosen_kl``/``rejected_kl``
    reproduces it.

    The weights come from a contrastive pair of models (docs/methods/token_po.md#tis-dpo: w_t from
    log π_rev(y_t) − log π_dpo(y_t), sign flipped for the chosen side, then transformed
    to e.g. [0.7, 1.3]); they are inputs here and are used as given (no gradient expected).
    They must lie in [0, ``MAX_TOKEN_WEIGHT``] = [0, 10] at completion tokens: a negative
    weight flips a token's preference and an unnormalized one drives the loss to inf.

    Args:
        batch: per-token inputs (with ``chosen_kl``/``rejected_kl`` when ``token_level``).
        chosen_weights, rejected_weights: w_t on each side, (B, Tw) / (B, Tl).
        beta: β (paper default 0.1).
        alpha: α, the weight of the KL term of the token-level variant (default 0.5).
        token_level: add the weighted sequential-KL term.
    """
    check_positive("beta", beta)
    check_nonnegative("alpha", alpha)
    chosen_weights = batch.token_input("chosen_weights", chosen_weights, "chosen")
    rejected_weights = batch.token_input("rejected_weights", rejected_weights, "rejected")
    check_token_weights("chosen_weights", chosen_weights, batch.chosen_mask)
    check_token_weights("rejected_weights", rejected_weights, batch.rejected_mask)
    chosen, rejected = batch.logratio_sums(chosen_weights, rejected_weights)
    margin = chosen - rejected
    metrics = pair_metrics(batch, beta, chosen, rejected)
    if token_level:
        kl_w, kl_l = batch.kl_sums("tis_dpo_loss", chosen_weights, rejected_weights)
        margin = margin - alpha * (kl_l - kl_w)
        metrics["kl/chosen"] = kl_w.detach()
        metrics["kl/rejected"] = kl_l.detach()
    metrics["weights/chosen_mean"] = masked_mean(chosen_weights.detach(), batch.chosen_mask)
    metrics["weights/rejected_mean"] = masked_mean(rejected_weights.detach(), batch.rejected_mask)
    return LossOutput(preference_loss(beta * margin), metrics)
