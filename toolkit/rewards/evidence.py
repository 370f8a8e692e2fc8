"""Notebook 02's claims as functions of the reward models' reports, over training seeds.

Each function returns the keyword arguments of :func:`toolkit.claims.record` (the claim's
text included), so the notebook records ``claims.record(**invariance_claim(...))`` and a test
can feed the same function the reports of a collapsed reward model and check that no claim
holds. Both claims compare the vanilla RM with the causal RM trained on the same data and seed,
one value per seed, and ask the 95% interval over seeds (not the mean) to clear the bar.

Why the gates: a reward model whose head collapses (every reward the same, or noise) is
perfectly "invariant" to Z and keeps its accuracy drop at zero while learning nothing. So

* the counterfactual gap is measured in units of the reward's own spread
  (:attr:`~toolkit.rewards.lab.RewardModelReport.normalized_gap`), not in raw reward units;
* the invariance claim needs the causal RM to still rank by the real signal where the shortcut
  no longer helps (de-confounded accuracy ≥ ``min_accuracy`` for every bias) and to be compared
  with the vanilla RM at nearly matched de-confounded accuracy (at most ``max_accuracy_loss``
  lower on average);
* both claims need the vanilla RM to have learned its training distribution (i.i.d. accuracy
  ≥ ``min_accuracy`` for every bias).

A failed gate makes the claim *not testable here*, never held.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping

from toolkit._checks import check_nonempty, check_number, describe
from toolkit.claims import TRAINED, Precondition
from toolkit.rewards.lab import RewardModelReport

PAPER = "arXiv:2501.09620 (Causal Rewards), §4"
MIN_ACCURACY = 0.7  # a reward model below this on its sanity split has not learned the signal
MAX_ACCURACY_LOSS = 0.1  # "matched accuracy": the causal RM may be this much less accurate

Reports = Mapping[tuple[int, str], RewardModelReport]


def _checked(vanilla: object, causal: object) -> tuple[list[int], list[str]]:
    """Seeds and biases of two ``{(seed, bias): RewardModelReport}`` dicts with one key set."""
    for name, reports in (("vanilla", vanilla), ("causal", causal)):
        if not isinstance(reports, Mapping):
            raise TypeError(
                f"{name} must be a dict {{(seed, bias): RewardModelReport}}, "
                f"got {describe(reports)}"
            )
        check_nonempty(name, reports)
        for key, report in reports.items():
            if not isinstance(key, tuple) or len(key) != 2:
                raise TypeError(f"{name} keys must be (seed, bias) tuples, got {describe(key)}")
            if not isinstance(report, RewardModelReport):
                raise TypeError(
                    f"{name}[{key!r}] must be a RewardModelReport, got {describe(report)}"
                )
    if set(vanilla) != set(causal):
        missing = sorted(set(vanilla) ^ set(causal), key=str)
        raise ValueError(
            f"vanilla and causal must hold the same (seed, bias) keys; differ in {missing}"
        )
    seeds = sorted({seed for seed, _ in vanilla})
    biases = list(dict.fromkeys(bias for _, bias in vanilla))
    if len(vanilla) != len(seeds) * len(biases):
        raise ValueError("every seed needs a report for every bias")
    return seeds, biases


def _ratio(numerator: float, denominator: float) -> float:
    if not (math.isfinite(numerator) and math.isfinite(denominator)) or denominator <= 0:
        return math.nan
    return numerator / denominator


def _mean(values) -> float:
    values = list(values)
    return math.nan if any(not math.isfinite(v) for v in values) else statistics.fmean(values)


def _per_bias(reports: Reports, seeds, biases, field: str) -> dict[str, float]:
    """``{bias: mean over seeds of report.<field>}``."""
    return {b: _mean(getattr(reports[s, b], field) for s in seeds) for b in biases}


def _vanilla_gate(vanilla: Reports, seeds, biases, min_accuracy: float) -> Precondition:
    iid = _per_bias(vanilla, seeds, biases, "accuracy_iid")
    worst = min(iid, key=lambda b: iid[b] if math.isfinite(iid[b]) else -1)
    return Precondition(
        f"vanilla RM learned its training data: i.i.d. accuracy, lowest bias ({worst})",
        iid[worst],
        f">= {min_accuracy:g}",
    )


def invariance_claim(
    vanilla: Reports,
    causal: Reports,
    *,
    lam: float,
    variant: str = "conditional",
    min_reduction: float = 0.5,
    min_accuracy: float = MIN_ACCURACY,
    max_accuracy_loss: float = MAX_ACCURACY_LOSS,
    interval: str = "t",
) -> dict:
    """Claim: the causal RM cuts its reliance on Z by at least ``min_reduction``. Per seed, the mean
    over biases of ``1 − normalized_gap(causal) / normalized_gap(vanilla)``; holds when the
    interval's lower bound is at least ``min_reduction``. Gated as the module says."""
    seeds, biases = _checked(vanilla, causal)
    check_number("lam", lam, minimum=0.0)
    check_number("min_reduction", min_reduction)
    check_number("min_accuracy", min_accuracy, minimum=0.0, maximum=1.0)
    check_number("max_accuracy_loss", max_accuracy_loss, minimum=0.0, maximum=1.0)
    per_seed, per_bias = [], {b: [] for b in biases}
    for s in seeds:
        reductions = {
            b: 1 - _ratio(causal[s, b].normalized_gap, vanilla[s, b].normalized_gap) for b in biases
        }
        for b in biases:
            per_bias[b].append(reductions[b])
        per_seed.append(_mean(reductions.values()))
    deconfounded = _per_bias(causal, seeds, biases, "accuracy_deconfounded")
    worst = min(
        deconfounded, key=lambda b: deconfounded[b] if math.isfinite(deconfounded[b]) else -1
    )
    vanilla_deconfounded = _mean(
        _per_bias(vanilla, seeds, biases, "accuracy_deconfounded").values()
    )
    causal_deconfounded = _mean(deconfounded.values())
    return {
        "claim": "A causal (MMD-regularized) reward model cuts its reliance on the spurious "
        "variable sharply: the counterfactual reward gap, in units of the reward's spread, "
        f"falls by at least {min_reduction:.0%}, while the model still ranks by the real signal.",
        "paper": PAPER,
        "samples": {
            "mean_gap_reduction": per_seed,
            **{f"gap_reduction_{b}": v for b, v in per_bias.items()},
        },
        "measured": {
            "lambda": lam,
            "seeds": len(seeds),
            "accuracy_deconfounded_vanilla": vanilla_deconfounded,
            "accuracy_deconfounded_causal": causal_deconfounded,
        },
        "holds_if": f"lo(mean_gap_reduction) >= {min_reduction:g}",
        "interval": interval,
        "preconditions": [
            _vanilla_gate(vanilla, seeds, biases, min_accuracy),
            Precondition(
                "causal RM still ranks by the signal: de-confounded accuracy, lowest bias "
                f"({worst})",
                deconfounded[worst],
                f">= {min_accuracy:g}",
            ),
            Precondition(
                "matched accuracy: de-confounded accuracy the causal RM loses vs the vanilla RM "
                "(mean over biases)",
                vanilla_deconfounded - causal_deconfounded,
                f"<= {max_accuracy_loss:g}",
            ),
        ],
        "note": f"{variant.capitalize()} CRM at λ = {lam:g} vs the vanilla RM, same data and seed; "
        "gap = mean |r(y′) − r(y)| over counterfactual pairs divided by the standard deviation of "
        f"the model's rewards on the de-confounded responses; {len(seeds)} training seed(s), "
        "95% interval over seeds; tiny backbone, synthetic reviews.",
        **TRAINED,
    }


def accuracy_claim(
    vanilla: Reports,
    causal: Reports,
    *,
    lam: float,
    max_drop: float = 0.05,
    min_accuracy: float = MIN_ACCURACY,
    interval: str = "t",
) -> dict:
    """Claim: preference accuracy drops only a little. Per seed, the mean over biases of the i.i.d.
    accuracy of the vanilla RM minus the causal RM's; holds when the interval's upper bound is
    at most ``max_drop``. Gated on the vanilla RM having learned its training data."""
    seeds, biases = _checked(vanilla, causal)
    check_number("lam", lam, minimum=0.0)
    check_number("max_drop", max_drop)
    check_number("min_accuracy", min_accuracy, minimum=0.0, maximum=1.0)
    per_seed, per_bias = [], {b: [] for b in biases}
    for s in seeds:
        drops = {b: vanilla[s, b].accuracy_iid - causal[s, b].accuracy_iid for b in biases}
        for b in biases:
            per_bias[b].append(drops[b])
        per_seed.append(_mean(drops.values()))
    return {
        "claim": "Preference accuracy drops only a little with the causal reward model "
        f"(at most {max_drop * 100:g} points on average).",
        "paper": PAPER,
        "samples": {
            "mean_accuracy_drop": per_seed,
            **{f"accuracy_drop_{b}": v for b, v in per_bias.items()},
        },
        "measured": {"lambda": lam, "seeds": len(seeds)},
        "holds_if": f"hi(mean_accuracy_drop) <= {max_drop:g}",
        "interval": interval,
        "preconditions": [_vanilla_gate(vanilla, seeds, biases, min_accuracy)],
        "note": "i.i.d. preference accuracy (Z tied to the label as in training), vanilla minus "
        f"causal RM, same data and seed; {len(seeds)} training seed(s), 95% interval over seeds.",
        **TRAINED,
    }
