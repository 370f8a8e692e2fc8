"""Notebook 01's claims as functions of what was measured, over training seeds.

Each ``*_claim`` function returns the keyword arguments of :func:`toolkit.claims.record`
(the claim's text included), so the notebook records ``claims.record(**frontier_claim(...))``
and a test can feed the same function what a collapsed model measures and check that no claim
holds. Comparisons are paired by seed (the same preference pairs, the same evaluation prompts)
and decided by the 95% interval over seeds, not by the mean.

* :func:`frontier_claim` — SparsePO's reward–KL frontier against DPO's **and** TDPO2's: TDPO2
  is SparsePO without masks (the paper's own ablation), so only a gap over TDPO2 credits the
  masks. Gated on the judge (the sentiment reward sorts held-out labelled reviews) and on
  training doing something (DPO's best run gains reward over the reference).
* :func:`target_claim` — Target-DPO against DPO on the chosen answers' log-probability. Gated
  on the code model being able to code (the reference's pass rate) and on DPO having learned
  the preference (its implicit reward ranks held-out pairs).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

import torch

from toolkit._checks import check_int, check_nonempty, check_number, describe
from toolkit.alignment.sentiment_control import FrontierPoint, SentimentReward, frontier_gap
from toolkit.claims import TRAINED, Precondition
from toolkit.data import generate_reviews

SPARSEPO = {"activation": "SparsePO (activation mask)", "learned": "SparsePO (learned mask)"}
BASELINES = {"dpo": "DPO", "tdpo2": "TDPO2"}
MIN_REWARD_ACCURACY = 0.8  # the judge must sort held-out labelled reviews at least this well
MIN_DPO_GAIN = 0.1  # DPO's best run must raise the mean reward by this much (reward logits)
MIN_PASS_RATE = 0.8  # the reference code model must solve this share of held-out tasks
MIN_PREFERENCE_ACCURACY = 0.6  # DPO's implicit reward must rank this share of held-out pairs


def reward_accuracy(reward: SentimentReward, n: int = 200, seed: int = 54_321) -> float:
    """Share of ``n`` labelled reviews (drawn with ``seed``, none of the probe's training
    reviews) that ``reward`` puts on the right side of 0: r > 0 exactly for positive ones."""
    check_int("n", n, minimum=2)
    reviews = generate_reviews(n, seed)
    scores = reward([r.text for r in reviews])
    positive = torch.tensor([r.sentiment > 0 for r in reviews])
    return ((scores > 0) == positive).float().mean().item()


@torch.no_grad()
def implicit_preference_accuracy(policy, reference, tokenizer, rows: Sequence[dict]) -> float:
    """Share of ``rows`` whose chosen answer gains more log-probability over the reference than
    the rejected one: the trained policy's implicit reward ranks the pair (0 for an unmoved
    policy, whose margins are all exactly 0)."""
    from toolkit.alignment.recipes import check_rows, completion_logps

    rows = check_rows(rows)
    right = 0
    for row in rows:
        margin = 0.0
        for side, sign in (("chosen", 1.0), ("rejected", -1.0)):
            gain = completion_logps(policy, tokenizer, row["prompt"], row[side]).sum()
            gain -= completion_logps(reference, tokenizer, row["prompt"], row[side]).sum()
            margin += sign * float(gain)
        right += margin > 0
    return right / len(rows)


def _mean(values) -> float:
    values = list(values)
    return math.nan if any(not math.isfinite(v) for v in values) else statistics.fmean(values)


def _seeds(points: object, origins: object) -> list[int]:
    if not isinstance(points, Mapping) or not isinstance(origins, Mapping):
        raise TypeError(
            "points must be a dict {(seed, method, beta): FrontierPoint} and origins a dict "
            f"{{seed: FrontierPoint}}, got {describe(points)} and {describe(origins)}"
        )
    check_nonempty("points", points)
    for key, point in [*points.items(), *origins.items()]:
        if not isinstance(point, FrontierPoint):
            raise TypeError(f"points[{key!r}] must be a FrontierPoint, got {describe(point)}")
    seeds = sorted(origins)
    for key in points:
        if not isinstance(key, tuple) or len(key) != 3 or key[0] not in origins:
            raise ValueError(
                f"points key {key!r} must be (seed, method, beta) with a seed in origins"
            )
    return seeds


def _runs(points, seed: int, method: str) -> list[FrontierPoint]:
    runs = [p for (s, m, _), p in points.items() if s == seed and m == method]
    if not runs:
        raise ValueError(f"points hold no run of {method!r} at seed {seed}")
    return runs


def frontier_claim(
    points: Mapping[tuple[int, str, float], FrontierPoint],
    origins: Mapping[int, FrontierPoint],
    *,
    reward_accuracy: float,
    steps: int,
    min_reward_accuracy: float = MIN_REWARD_ACCURACY,
    min_dpo_gain: float = MIN_DPO_GAIN,
    interval: str = "t",
) -> dict:
    """Claim: SparsePO's frontier lies above DPO's, and above TDPO2's. Per seed, the frontier gap
    (:func:`~toolkit.alignment.sentiment_control.frontier_gap`) of each SparsePO mask against
    each baseline; holds when every gap's interval lies above 0.

    ``points`` maps ``(seed, method, β)`` to where that run landed (methods named as in
    :data:`SPARSEPO` and :data:`BASELINES`), ``origins`` each seed's reference policy."""
    seeds = _seeds(points, origins)
    check_number("reward_accuracy", reward_accuracy, minimum=0.0, maximum=1.0)
    check_int("steps", steps, minimum=1)
    samples: dict[str, list[float]] = {}
    beyond, total, gains = 0, 0, []
    for s in seeds:
        baselines = {key: _runs(points, s, name) for key, name in BASELINES.items()}
        for mask, name in SPARSEPO.items():
            mine = _runs(points, s, name)
            for key, runs in baselines.items():
                gap = frontier_gap(mine, runs, origins[s])
                samples.setdefault(f"gap_{mask}_vs_{key}", []).append(gap)
            largest = max(p.kl for p in baselines["dpo"])
            beyond += sum(p.kl > largest for p in mine)
            total += len(mine)
        gap = frontier_gap(baselines["tdpo2"], baselines["dpo"], origins[s])
        samples.setdefault("gap_tdpo2_vs_dpo", []).append(gap)
        gains.append(max(p.reward for p in baselines["dpo"]) - origins[s].reward)
    n_runs = len(_runs(points, seeds[0], BASELINES["dpo"]))
    checks = " and ".join(f"lo(gap_{m}_vs_{b}) > 0" for m in SPARSEPO for b in BASELINES)
    return {
        "claim": "SparsePO's reward–KL frontier lies above DPO's (more reward for the same KL to "
        "the reference), and its masks are why: it lies above TDPO2's too (TDPO without masks, "
        "the paper's ablation).",
        "paper": "arXiv:2410.05102 (SparsePO), §4.1, Figure 2",
        "samples": samples,
        "measured": {
            "share_beyond_dpo_kl": beyond / total,
            "seeds": len(seeds),
            "n_runs_per_method": n_runs,
            "steps": steps,
        },
        "holds_if": checks,
        "interval": interval,
        "preconditions": [
            Precondition(
                "the sentiment reward sorts held-out labelled reviews (accuracy)",
                reward_accuracy,
                f">= {min_reward_accuracy:g}",
            ),
            Precondition(
                "training moves the policy: DPO's best reward gain over the reference (mean "
                "over seeds)",
                _mean(gains),
                f">= {min_dpo_gain:g}",
            ),
        ],
        "note": "Gap = mean reward of one method's runs minus the baseline's frontier reward at "
        "the "
        "same KL (paired by seed); beyond the baseline's largest KL its frontier is held flat, so "
        "share_beyond_dpo_kl says how many SparsePO runs are compared with a flat line. Tiny "
        f"GPT-2 on synthetic reviews, a MiniLM-probe reward, {len(seeds)} seed(s), 95% interval "
        "over seeds.",
        **TRAINED,
    }


def target_claim(
    results: Mapping[tuple[int, str], Mapping[str, float]],
    *,
    reference_pass_rate: float,
    min_pass_rate: float = MIN_PASS_RATE,
    min_preference_accuracy: float = MIN_PREFERENCE_ACCURACY,
    interval: str = "t",
) -> dict:
    """Claim: vanilla DPO lowers the chosen answer's log-probability, Target-DPO does not.

    ``results`` maps ``(seed, method)`` for methods ``"DPO"``, ``"Target-DPO"`` and
    ``"Target-RPO"`` to ``{"chosen_delta", "pass_rate", "preference_accuracy"}``; holds when
    DPO's interval lies below 0 and Target-DPO's at or above 0."""
    if not isinstance(results, Mapping):
        raise TypeError(
            f"results must be a dict {{(seed, method): {{...}}}}, got {describe(results)}"
        )
    check_nonempty("results", results)
    check_number("reference_pass_rate", reference_pass_rate, minimum=0.0, maximum=1.0)
    seeds = sorted({s for s, _ in results})
    names = {"dpo": "DPO", "target_dpo": "Target-DPO", "target_rpo": "Target-RPO"}
    for s in seeds:
        for name in names.values():
            row = results.get((s, name))
            if not isinstance(row, Mapping) or not {"chosen_delta", "pass_rate"} <= set(row):
                raise ValueError(
                    f"results[({s}, {name!r})] must be a dict with chosen_delta and pass_rate"
                )
        if "preference_accuracy" not in results[s, "DPO"]:
            raise ValueError(f"results[({s}, 'DPO')] needs preference_accuracy")
    samples = {
        f"{key}_chosen_delta": [results[s, name]["chosen_delta"] for s in seeds]
        for key, name in names.items()
    }
    measured = {
        f"pass_rate_{key}": _mean(results[s, name]["pass_rate"] for s in seeds)
        for key, name in names.items()
    }
    return {
        "claim": "Vanilla DPO lowers the chosen response's log-probability when chosen and "
        "rejected "
        "share most tokens; Target-DPO, which contrasts only the rejected error tokens, does not.",
        "paper": "arXiv:2503.02783 (Target-DPO / IterPref), §3 and its likelihood analysis",
        "samples": samples,
        "measured": {"pass_rate_reference": reference_pass_rate, **measured, "seeds": len(seeds)},
        "holds_if": "hi(dpo_chosen_delta) < 0 and lo(target_dpo_chosen_delta) >= 0",
        "interval": interval,
        "preconditions": [
            Precondition(
                "the reference code model solves held-out tasks (pass rate)",
                reference_pass_rate,
                f">= {min_pass_rate:g}",
            ),
            Precondition(
                "DPO learned the preference: its implicit reward ranks held-out pairs (mean over "
                "seeds)",
                _mean(results[s, "DPO"]["preference_accuracy"] for s in seeds),
                f">= {min_preference_accuracy:g}",
            ),
        ],
        "note": "Δ = mean Σ_t log π(chosen) − log πref(chosen) on held-out pairs (nats), after "
        f"training; pass rates are means over {len(seeds)} seed(s); 95% interval over seeds.",
        **TRAINED,
    }
