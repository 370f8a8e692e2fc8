"""The experiments of notebook 11: success against the number of demos, for both agents.

:func:`run_curve` draws, for each seed, one pool of training episodes and the expert's demos of
them; for each demo count ``N`` the end-to-end agent clones the first ``N`` demos and the
neuro-symbolic agent calibrates its parser on the same ``N`` instructions; both are rolled out on
fresh episodes of every evaluation split. :func:`summarize` gives the mean success per agent,
split and count with a 95% interval (a t interval over seeds, or Wilson's over episodes with one
seed); :func:`data_to_reach` the demos at which a curve first reaches a success rate
(interpolated on a log scale); :func:`failure_category` names what went wrong in an episode.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from toolkit._checks import check_int, check_nonempty, check_number, check_probability, describe
from toolkit.embodied.agents import (
    BCConfig,
    EndToEndAgent,
    EpisodeResult,
    NeuroSymbolicAgent,
    rollout,
)
from toolkit.embodied.grounding import GroundingParser, Parse
from toolkit.embodied.planner import expert_demos
from toolkit.embodied.tasks import Episode, Split, make_episodes

__all__ = [
    "AGENTS",
    "FAILURES",
    "Curve",
    "data_to_reach",
    "failure_category",
    "mean_interval",
    "run_curve",
    "summarize",
    "wilson_interval",
]

AGENTS = ("end-to-end", "neuro-symbolic")
"""The agents :func:`run_curve` compares, by name."""
FAILURES = (
    "success",
    "cannot ground",
    "wrong goal",
    "refused-action loop",
    "never picked up",
    "wrong object",
    "target misplaced",
    "navigation",
)
"""Episode outcomes, in the order :func:`failure_category` tests them."""


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson's score interval for a success rate (``(0, 1)`` when ``n == 0``)."""
    check_int("successes", successes, minimum=0)
    check_int("n", n, minimum=0)
    if successes > n:
        raise ValueError(f"successes ({successes}) must be <= n ({n})")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """``(mean, half-width)`` of a t interval; the half-width is ``nan`` for one value."""
    check_nonempty("values", values)
    if not 0 < check_number("level", level) < 1:
        raise ValueError(f"level must be > 0 and < 1, got {level}")
    for i, v in enumerate(values):
        check_number(f"values[{i}]", v)
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return float(x.mean()), float("nan")
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean()), float(half)


def data_to_reach(counts: Sequence[int], rates: Sequence[float], level: float = 0.5) -> float:
    """The demo count at which ``rates`` (one per count, counts increasing) first reach
    ``level``, interpolated linearly in log(count); ``inf`` when they never do."""
    check_nonempty("counts", counts)
    check_probability("level", level)
    if len(counts) != len(rates):
        raise ValueError(f"counts and rates differ in length: {len(counts)} and {len(rates)}")
    for i, (n, r) in enumerate(zip(counts, rates, strict=True)):
        check_int(f"counts[{i}]", n)
        check_probability(f"rates[{i}]", r)
    if any(b <= a for a, b in zip(counts, counts[1:], strict=False)) or counts[0] <= 0:
        raise ValueError(f"counts must be positive and increasing, got {list(counts)}")
    for i, (n, r) in enumerate(zip(counts, rates, strict=True)):
        if r >= level:
            if i == 0:
                return float(n)
            n0, r0 = counts[i - 1], rates[i - 1]
            frac = (level - r0) / (r - r0)
            return float(math.exp(math.log(n0) + frac * (math.log(n) - math.log(n0))))
    return float("inf")


def failure_category(episode: Episode, result: EpisodeResult, parse: Parse | None = None) -> str:
    """What became of an episode: one of :data:`FAILURES`.

    ``cannot ground`` and ``wrong goal`` need the neuro-symbolic agent's ``parse``; the rest
    read the trace: more than half the actions refused, nothing ever picked up, only objects
    other than the task's picked up, a task object picked up but not where it belongs, and
    (a room to reach) navigation.
    """
    if result.success:
        return "success"
    if parse is not None:
        if not parse.ok:
            return "cannot ground"
        if parse.goal != episode.task.goal:
            return "wrong goal"
    if result.steps and result.invalid > result.steps / 2:
        return "refused-action loop"
    goal = episode.task.goal
    if goal.room is not None:
        return "navigation"
    held = {h for h in result.held if h >= 0}
    targets = {o for o, _ in goal.placements}
    if not held:
        return "never picked up"
    if not held & targets:
        return "wrong object"
    return "target misplaced"


@dataclass
class Curve:
    """What :func:`run_curve` measured: one row per (agent, split, demo count, seed) and, for
    the largest count and first seed, the episodes with each agent's results (``examples``)."""

    rows: list[dict] = field(default_factory=list)
    examples: dict = field(default_factory=dict)
    parser_stats: list[dict] = field(default_factory=list)


def run_curve(
    counts: Sequence[int],
    seeds: Sequence[int],
    splits: dict[str, Split],
    embed,
    *,
    eval_splits: Sequence[str] = ("seen", "held_out_layouts", "held_out_phrasings"),
    n_eval: int = 50,
    kinds: Sequence[str] = ("place",),
    noise: float = 0.1,
    bc: BCConfig | None = None,
    pretrain_demos: int = 0,
    max_steps: int = 60,
    agents: Sequence[str] = AGENTS,
) -> Curve:
    """Success of ``agents`` for each demo count, seed and evaluation split (module docstring).

    ``pretrain_demos`` > 0 pretrains the end-to-end agent on that many demos of navigation
    tasks ("go to the kitchen") in the training layouts before it clones the ``N`` demos.
    """
    check_nonempty("counts", counts)
    check_nonempty("seeds", seeds)
    for i, n in enumerate(counts):
        check_int(f"counts[{i}] (demos)", n, minimum=1)
    if sorted(set(counts)) != list(counts):
        raise ValueError(f"counts must be increasing, got {list(counts)}")
    for i, seed in enumerate(seeds):
        check_int(f"seeds[{i}]", seed, minimum=0)
    if not isinstance(splits, dict):
        raise TypeError(f"splits must be a dict of Split (make_splits), got {describe(splits)}")
    for name, arg in (("eval_splits", eval_splits), ("agents", agents)):
        if isinstance(arg, str) or not isinstance(arg, Sequence):
            raise TypeError(f"{name} must be a list of names, got {describe(arg)}")
    check_nonempty("eval_splits", eval_splits)
    check_nonempty("agents", agents)
    for name in ("train", *eval_splits):
        if name not in splits:
            raise ValueError(f"splits has no {name!r} split; it has {sorted(splits)}")
    for agent in agents:
        if agent not in AGENTS:
            raise ValueError(f"agents: {agent!r} is not one of {AGENTS}")
    if not callable(embed):
        raise TypeError(f"embed must be callable (an EmbeddingCache), got {describe(embed)}")
    check_int("n_eval", n_eval, minimum=1)
    check_probability("noise", noise)
    check_int("pretrain_demos", pretrain_demos, minimum=0)
    check_int("max_steps", max_steps, minimum=1)
    bc = BCConfig() if bc is None else bc
    if not isinstance(bc, BCConfig):
        raise TypeError(f"bc must be a BCConfig, got {describe(bc)}")
    curve = Curve()
    for seed in seeds:
        pool = make_episodes(splits["train"], max(counts), seed, kinds=kinds)
        demos = expert_demos(pool, noise=noise, seed=seed)
        pre = []
        if pretrain_demos:
            goto = make_episodes(splits["train"], pretrain_demos, seed + 7919, kinds=("goto",))
            pre = expert_demos(goto, noise=noise, seed=seed + 7919)
        evals = {
            s: make_episodes(splits[s], n_eval, seed + 104_729, kinds=kinds) for s in eval_splits
        }
        embed(
            [d.episode.task.instruction for d in demos + pre]
            + [e.task.instruction for v in evals.values() for e in v]
        )
        for n in counts:
            built = {}
            if "end-to-end" in agents:
                built["end-to-end"] = EndToEndAgent(embed, dataclasses.replace(bc, seed=seed)).fit(
                    demos[:n], pre
                )
            if "neuro-symbolic" in agents:
                built["neuro-symbolic"] = NeuroSymbolicAgent(GroundingParser(embed)).fit(demos[:n])
                cal = built["neuro-symbolic"].parser.calibration
                curve.parser_stats.append(
                    {
                        "seed": seed,
                        "demos": n,
                        "threshold": cal["threshold"],
                        "anchors": built["neuro-symbolic"].parser.n_anchors(),
                    }
                )
            for name, agent in built.items():
                for split, episodes in evals.items():
                    results = rollout(agent, episodes, max_steps=max_steps)
                    parses = agent.parses if name == "neuro-symbolic" else [None] * len(results)
                    outcome = Counter(
                        failure_category(e, r, p)
                        for e, r, p in zip(episodes, results, parses, strict=True)
                    )
                    curve.rows.append(
                        {
                            "agent": name,
                            "split": split,
                            "demos": n,
                            "seed": seed,
                            "successes": sum(r.success for r in results),
                            "episodes": len(results),
                            "success": float(np.mean([r.success for r in results])),
                            "invalid_rate": float(
                                sum(r.invalid for r in results)
                                / max(sum(r.steps for r in results), 1)
                            ),
                            "train_seconds": float(agent.log.get("seconds", 0.0)),
                            "outcomes": dict(outcome),
                        }
                    )
                    if n == counts[-1] and seed == seeds[0]:
                        curve.examples[(name, split)] = (episodes, results, parses)
    return curve


def summarize(rows: Sequence[dict]) -> list[dict]:
    """Mean success per (agent, split, demos) with a 95% interval ``lo``–``hi``: a t interval
    over seeds when there are several, else Wilson's over the episodes."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["agent"], row["split"], row["demos"]), []).append(row)
    out = []
    for (agent, split, n), group in sorted(groups.items()):
        rates = [g["success"] for g in group]
        if len(group) > 1:
            mean, half = mean_interval(rates)
            lo, hi = max(0.0, mean - half), min(1.0, mean + half)
        else:
            mean = rates[0]
            lo, hi = wilson_interval(group[0]["successes"], group[0]["episodes"])
        out.append(
            {
                "agent": agent,
                "split": split,
                "demos": n,
                "success": mean,
                "lo": lo,
                "hi": hi,
                "seeds": len(group),
            }
        )
    return out
