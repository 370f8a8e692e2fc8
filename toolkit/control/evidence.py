"""Notebook 04's claims as functions of the comparison rows, over PPO seeds.

:func:`controller_claim` returns the keyword arguments of :func:`toolkit.claims.record` (the
claim's text included), so the notebook records ``claims.record(**controller_claim(rows, ...))``
and a test can feed it the rows of a collapsed controller and check that no claim holds.

Rows come from :func:`toolkit.control.comparison.compare`: one per (agent, scenario, seed), the
evaluation seed also being the PPO training seed of each learned policy, so every comparison is
paired by seed (the same vehicles, winds and start points). Per seed, the RMSE reduction
``1 − RMSE(agent) / RMSE(baseline)`` is taken over the hard scenarios (mean RMSE over them) and
in each hard scenario; the claim holds when the 95% interval over seeds of the overall
reduction lies above 0, and the record shows each scenario's interval too.

Sanity gate: a policy that cannot fly the task it was trained for (the circle, nominal vehicles,
still air) says nothing about disturbances; if the agent's or a learned baseline's RMSE there is
above ``max_sanity_rmse``, the claim is *not testable here*.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence

from toolkit._checks import check_nonempty, check_number, check_str, describe
from toolkit.claims import TRAINED, Precondition, interval

PAPER = "arXiv:2411.13079"
SANITY = ("circle", "nominal", "none")  # the training task, undisturbed
MAX_SANITY_RMSE = 0.2  # m; PID flies it at about 0.14 m, the geometric controller at 0.03 m
FIELDS = ("agent", "trajectory", "params", "disturbance", "seed", "rmse_m", "crash_fraction")


def disturbed_or_ood(row: Mapping) -> bool:
    """The scenarios the paper's claim is about: any disturbance, or out-of-distribution
    vehicles."""
    return row["disturbance"] != "none" or row["params"] == "ood"


def scenario_key(row: Mapping) -> str:
    """``circle_ood_wind``: a scenario as an identifier (a measured key)."""
    return f"{row['trajectory']}_{row['params']}_{row['disturbance']}"


def _checked(rows: object) -> list[dict]:
    if isinstance(rows, str | Mapping) or not isinstance(rows, Sequence):
        raise TypeError(f"rows must be a list of dicts from compare(), got {describe(rows)}")
    check_nonempty("rows", rows)
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"rows[{i}] must be a dict from compare(), got {describe(row)}")
        missing = [f for f in FIELDS if f not in row]
        if missing:
            raise ValueError(f"rows[{i}] lacks {missing}; rows come from compare()")
    return list(rows)


def _rmse(rows: list[dict], agent: str, seed: int, where: Callable[[Mapping], bool]) -> float:
    values = [r["rmse_m"] for r in rows if r["agent"] == agent and r["seed"] == seed and where(r)]
    if not values:
        raise ValueError(f"rows hold no results for {agent!r} at seed {seed} in these scenarios")
    return statistics.fmean(values)


def _reduction(agent_rmse: float, baseline_rmse: float) -> float:
    ratio = agent_rmse / baseline_rmse if baseline_rmse > 0 else math.nan
    return 1 - ratio if math.isfinite(ratio) else math.nan


def _slug(name: str) -> str:
    """``"IMC PPO"`` → ``imc``, ``"plain PPO"`` → ``plain``, ``"geometric"`` → ``geometric``."""
    slug = name.lower().removesuffix(" ppo").replace(" ", "_").replace("-", "_")
    return slug if slug.isidentifier() else "agent"


def sanity_rmse(rows: Sequence[Mapping], agent: str) -> float:
    """``agent``'s RMSE on the training task, undisturbed (:data:`SANITY`), mean over seeds."""
    picked = [
        r["rmse_m"] for r in _checked(rows)
        if r["agent"] == agent and (r["trajectory"], r["params"], r["disturbance"]) == SANITY
    ]  # fmt: skip
    if not picked:
        raise ValueError(
            f"rows hold no {'/'.join(SANITY)} result for {agent!r}; include that scenario"
        )
    return statistics.fmean(picked)


def controller_claim(
    rows: Sequence[Mapping],
    *,
    agent: str = "IMC PPO",
    baseline: str = "plain PPO",
    learned_baseline: bool = True,
    claim: str | None = None,
    budget: str = "",
    max_sanity_rmse: float = MAX_SANITY_RMSE,
    interval_method: str = "t",
) -> dict:
    """Claim: ``agent`` tracks better than ``baseline`` under disturbance and out of distribution.

    ``learned_baseline`` says whether ``baseline`` is a learned policy that must pass the same
    sanity gate as ``agent`` (a classical controller needs none)."""
    rows = _checked(rows)
    check_str("agent", agent)
    check_str("baseline", baseline)
    check_number("max_sanity_rmse", max_sanity_rmse, minimum=0.0, strict_min=True)
    hard = [r for r in rows if disturbed_or_ood(r)]
    seeds = sorted({r["seed"] for r in rows if r["agent"] == agent})
    scenarios = list(dict.fromkeys(scenario_key(r) for r in hard))
    if not seeds or not scenarios:
        raise ValueError(f"rows hold no disturbed or OOD results for {agent!r}")
    overall = [
        _reduction(_rmse(hard, agent, s, bool), _rmse(hard, baseline, s, bool)) for s in seeds
    ]
    per_scenario = {
        key: [
            _reduction(
                _rmse(hard, agent, s, lambda r, key=key: scenario_key(r) == key),
                _rmse(hard, baseline, s, lambda r, key=key: scenario_key(r) == key),
            )
            for s in seeds
        ]
        for key in scenarios
    }
    bounds = {key: interval(v, interval_method) for key, v in per_scenario.items()}

    def crash(name: str) -> float:
        return statistics.fmean(r["crash_fraction"] for r in hard if r["agent"] == name)

    def mean_rmse(name: str) -> float:
        return statistics.fmean(_rmse(hard, name, s, bool) for s in seeds)

    gates = [
        Precondition(
            f"{agent} flies its training task ({' / '.join(SANITY)}): RMSE [m]",
            sanity_rmse(rows, agent),
            f"<= {max_sanity_rmse:g}",
        )
    ]
    if learned_baseline:
        gates.append(
            Precondition(
                f"{baseline} flies its training task ({' / '.join(SANITY)}): RMSE [m]",
                sanity_rmse(rows, baseline),
                f"<= {max_sanity_rmse:g}",
            )
        )
    mine, short = _slug(agent), _slug(baseline)
    text = claim or (
        f"{agent} tracks better than {baseline} under disturbance and out of distribution."
    )
    return {
        "claim": text,
        "paper": PAPER,
        "samples": {
            "rmse_reduction": overall,
            **{f"reduction_{key}": v for key, v in per_scenario.items()},
        },
        "measured": {
            f"{mine}_rmse": mean_rmse(agent),
            f"{short}_rmse": mean_rmse(baseline),
            f"{mine}_crash": crash(agent),
            f"{short}_crash": crash(baseline),
            "scenarios_better": sum(b.lo > 0 for b in bounds.values()),
            "scenarios_worse": sum(b.hi < 0 for b in bounds.values()),
            "seeds": len(seeds),
        },
        "holds_if": "lo(rmse_reduction) > 0",
        "interval": interval_method,
        "preconditions": gates,
        "note": f"RMSE reduction = 1 − RMSE({agent}) / RMSE({baseline}), paired by seed, over "
        f"{len(scenarios)} disturbed or OOD scenarios (circle and zigzag; wind, rope payload, OOD "
        f"parameters) and per scenario; scenarios_better / scenarios_worse count the scenarios "
        f"whose 95% interval lies above / below 0; {len(seeds)} seed(s). {budget}".strip(),
        **TRAINED,
    }
