"""The experiments of notebook 10: strategies × graphs × seeds, scored per agent.

:func:`run_grid` trains every strategy on every network for every seed and scores each agent's
final model on the shared test set, clean and under a PGD attack at each evaluation budget;
:func:`robustness_over_training` scores the recorded steps of one run (for the graph view and
the convergence curves); :func:`mean_interval` summarizes seeds with a t interval.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from scipy import stats

from toolkit._checks import check_nonempty, check_number
from toolkit.decentralized.attacks import Attack
from toolkit.decentralized.data import AgentData
from toolkit.decentralized.graphs import Network
from toolkit.decentralized.models import StackedModel
from toolkit.decentralized.training import (
    TrainConfig,
    Trajectory,
    accuracy,
    robust_accuracy,
    train,
)


def score(
    model: StackedModel,
    W: torch.Tensor,
    data: AgentData,
    eval_eps: Sequence[float],
    attack: Attack,
    *,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """``{"clean": (K,), "robust": (E, K)}`` accuracies of the agents' models ``W`` on the test
    set, ``robust[e]`` under ``attack`` at budget ``eval_eps[e]``."""
    check_nonempty("eval_eps", eval_eps)
    robust = [
        robust_accuracy(model, W, data.x_test, data.y_test, eps, attack, seed=seed).numpy()
        for eps in eval_eps
    ]
    return {
        "clean": accuracy(model, W, data.x_test, data.y_test).numpy(),
        "robust": np.stack(robust),
    }


def run_grid(
    model: StackedModel,
    data: AgentData,
    networks: Mapping[str, Network],
    strategies: Sequence[str],
    config: TrainConfig,
    seeds: Sequence[int],
    eval_eps: Sequence[float],
    attack: Attack,
    *,
    progress: bool = True,
) -> list[dict]:
    """Train and score every (network, strategy, seed); one row per run.

    Each row: ``network``, ``strategy``, ``seed``, ``gap`` (the network's spectral gap),
    ``clean`` (``K``), ``robust`` (``E × K``) and the ``trajectory``. Non-cooperative and
    centralized training do not depend on the graph: pass them with a single network.
    """
    check_nonempty("networks", networks)
    check_nonempty("strategies", strategies)
    check_nonempty("seeds", seeds)
    runs = [(n, s, seed) for n in networks for s in strategies for seed in seeds]
    if progress:
        from tqdm.auto import tqdm

        runs = tqdm(runs, desc="training runs")
    rows = []
    for name, strategy, seed in runs:
        run_config = dataclasses.replace(config, strategy=strategy, seed=seed)
        trajectory = train(model, data, networks[name], run_config)
        scores = score(model, trajectory.final, data, eval_eps, attack, seed=seed)
        rows.append(
            {
                "network": name,
                "strategy": strategy,
                "seed": seed,
                "gap": networks[name].gap,
                **scores,
                "trajectory": trajectory,
            }
        )
    return rows


def robustness_over_training(
    model: StackedModel,
    trajectory: Trajectory,
    data: AgentData,
    eps: float,
    attack: Attack,
    *,
    seed: int = 0,
) -> np.ndarray:
    """``S × K`` robust accuracy of every agent at every recorded step of ``trajectory``."""
    return np.stack(
        [
            robust_accuracy(model, W, data.x_test, data.y_test, eps, attack, seed=seed).numpy()
            for W in trajectory.params
        ]
    )


def disagreement(trajectory: Trajectory) -> np.ndarray:
    """``(1/K) Σ_k ‖w_{k,i} − w̄_i‖²`` at every recorded step (``S``): how far the agents are
    from agreeing."""
    params = trajectory.params.to(torch.float64)
    return ((params - params.mean(1, keepdim=True)) ** 2).sum(-1).mean(-1).numpy()


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the Student-t interval over ``values`` (``nan`` for one value)."""
    values = np.asarray(check_nonempty("values", values), dtype=np.float64)
    confidence = check_number("confidence", confidence, minimum=0.0, maximum=1.0, strict_min=True)
    if len(values) < 2:
        return float(values.mean()), math.nan
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * stats.sem(values)
    return float(values.mean()), float(half)
