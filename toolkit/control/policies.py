"""Built-in tracking policies, trained once by PPO and cached through the zoo.

``load_policy("imc-ppo-circle")`` trains the policy on first use (about 2–3 minutes on one CPU
thread) and caches it under the zoo cache (``$TOOLKIT_CACHE/zoo/<name>-<recipe hash>/``) with
``toolkit.zoo.cache.ensure_entry``: the recipe — task settings, PPO config, seed — is hashed
into the entry, so changing any of it trains a new one. Each entry holds ``policy.pt``
(``toolkit.control.ppo.save``), ``training_log.json`` (the per-iteration log of ``ppo.train``)
and, in its manifest and in ``policy.meta["metrics"]``, an evaluation on fresh envs.

The three built-ins differ only in what the actor observes (``TrackingTask`` ``obs_mode``),
the comparison of Gao et al. (arXiv 2411.13079): ``imc`` (state + last action + predictive
error feedback ``dyn_err``, 3 frames), ``plain`` (state + last action) and ``privileged``
(state + last action + true wind, the upper bound). All track the circle (r = 0.5 m, period
2 s) under training-range parameter randomization and random wind.

Budget: 256 envs × 64 steps per iteration, 2.5 M transitions (153 iterations), the paper's
other PPO settings. That is a small fraction of a GPU-scale run: at ~15 k transitions/s on
one thread it is what fits in a notebook's coffee break.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from toolkit._checks import check_bool, check_choice, check_int, check_number, check_str, describe
from toolkit._torch import check_device, intra_op_threads
from toolkit.control.evaluate import tracking_rmse
from toolkit.control.ppo import Policy, PPOConfig, load, save, train
from toolkit.control.task import TrackingTask
from toolkit.zoo.cache import ensure_entry
from toolkit.zoo.registry import TRAINING_LOG

POLICY_FILE = "policy.pt"
BUDGET = PPOConfig(num_envs=256, rollout_steps=64, total_steps=2_500_000)
EVAL_ENVS = 256
EVAL_SEED = 12345


def _recipe(obs_mode: str, trajectory: str) -> dict:
    task = {
        "trajectory": [trajectory],
        "obs_mode": obs_mode,
        "params": "train",
        "wind": True,
        "history": 3,
        "episode_seconds": 10.0,
    }
    return {"kind": "control-ppo", "version": 1, "task": task, "ppo": BUDGET.to_dict(), "seed": 0}


RECIPES = {f"{mode}-ppo-circle": _recipe(mode, "circle") for mode in ("imc", "plain", "privileged")}


def policy_names() -> list[str]:
    """Names ``load_policy`` accepts."""
    return sorted(RECIPES)


def make_task(policy: Policy, num_envs: int, **overrides) -> TrackingTask:
    """A ``TrackingTask`` with the settings ``policy`` was trained on (``policy.meta["task"]``,
    else just its ``obs_mode``), changed by ``overrides`` (e.g. ``params="ood"``, ``seed``)."""
    settings = dict(policy.meta.get("task") or {"obs_mode": policy.meta["obs_mode"]})
    settings.update(overrides)
    return TrackingTask(num_envs, **settings)


def as_actor(agent):
    """``act(obs, task) -> action`` for a ``Policy`` (acts on the observation) or a classical
    controller with ``act(state, ref)`` (acts on the true state and the reference)."""
    if isinstance(agent, Policy):
        return lambda obs, task: agent.act(obs)
    if not callable(getattr(agent, "act", None)):
        raise TypeError(
            f"agent must be a Policy or a controller with act(state, ref), got {describe(agent)}"
        )
    if hasattr(agent, "reset"):
        agent.reset()
    return lambda obs, task: agent.act(task.state, task.reference())


@torch.no_grad()
def evaluate(
    agent, task: TrackingTask, steps: int | None = None, *, settle: float = 0.0
) -> dict[str, float]:
    """Run ``agent`` — a ``Policy`` (deterministic actions) or a classical controller such as
    ``GeometricController`` — from ``task.reset()`` for ``steps`` (default one episode) and
    score each env's first episode: ``rmse_m``, the root-mean-square position error [m] pooled
    over the env-steps before termination at ``t > settle`` [s] after the reset (default all:
    tasks start on the reference; see ``evaluate.tracking_rmse``); ``crash_fraction``, envs
    terminated; ``mean_reward`` per step before termination."""
    steps = _check_steps(task, steps)
    settle = check_number("settle", settle, minimum=0.0)
    obs, _ = task.reset()
    act = as_actor(agent)
    alive = torch.ones(task.num_envs, dtype=torch.bool, device=task.device)
    squared, counted, rewards = [], [], 0.0
    for _ in range(steps):
        obs, _, reward, terminated, _, info = task.step(act(obs, task))
        squared.append(info["p_err"].square().sum(-1))
        counted.append(alive.clone())
        rewards += float(reward[alive].sum())
        alive &= ~terminated
    time = task.env.dt_control * torch.arange(1, steps + 1, dtype=torch.float64)
    rmse = tracking_rmse(torch.stack(squared), time, settle, counted=torch.stack(counted))
    return {
        "rmse_m": float(rmse),
        "crash_fraction": 1 - float(alive.float().mean()),
        "mean_reward": rewards / max(int(torch.stack(counted).sum()), 1),
    }


def _check_steps(task: TrackingTask, steps: int | None) -> int:
    """``steps`` ≥ 1 of ``task`` (a ``TrackingTask``), by default one episode."""
    if not isinstance(task, TrackingTask):
        raise TypeError(f"task must be a TrackingTask, got {describe(task)}")
    return task.episode_steps if steps is None else check_int("steps", steps, minimum=1)


def _build(name: str, recipe: dict, directory: Path) -> dict:
    config = PPOConfig.from_dict(recipe["ppo"])
    settings = recipe["task"]

    def factory(num_envs: int, seed: int) -> TrackingTask:
        return TrackingTask(num_envs, seed=seed, **settings)

    with intra_op_threads(1):  # small MLPs: one thread beats contended intra-op threads
        policy, log = train(factory, config, seed=recipe["seed"], progress=True)
    policy.meta.update(name=name, recipe=recipe, task=settings)
    metrics = {
        split: evaluate(policy, make_task(policy, EVAL_ENVS, params=split, seed=EVAL_SEED))
        for split in ("train", "ood")
    }
    metrics["train_seconds"] = log["seconds"][-1]
    policy.meta["metrics"] = metrics
    save(policy, directory / POLICY_FILE)
    (directory / TRAINING_LOG).write_text(json.dumps(log), encoding="utf-8")
    return metrics


def policy_recipe(name: str, *, seed: int = 0, total_steps: int | None = None) -> dict:
    """The recipe ``load_policy`` trains ``name`` with: the built-in one, with another PPO
    ``seed`` or a different budget of ``total_steps`` transitions (e.g. a quick smoke run)."""
    check_choice("name", check_str("name", name), policy_names())
    recipe = json.loads(json.dumps(RECIPES[name]))
    recipe["seed"] = check_int("seed", seed, minimum=0)
    if total_steps is not None:
        total_steps = check_int("total_steps", total_steps, minimum=1)
        if total_steps < recipe["ppo"]["num_envs"] * recipe["ppo"]["rollout_steps"]:
            raise ValueError(f"total_steps={total_steps} is less than one PPO iteration")
        recipe["ppo"]["total_steps"] = total_steps
    return recipe


def load_policy(
    name: str,
    *,
    seed: int = 0,
    total_steps: int | None = None,
    rebuild: bool = False,
    device: str = "cpu",
) -> Policy:
    """The built-in policy ``name`` (see ``policy_names()``) trained with PPO ``seed`` and
    ``total_steps`` transitions (default the built-in budget), on first use or again with
    ``rebuild=True``; each recipe is its own cache entry. ``policy.meta`` holds the recipe and
    evaluation metrics. Arguments are checked before the cache is touched: an unknown ``name``
    raises ``ValueError`` listing the available ones."""
    recipe = policy_recipe(name, seed=seed, total_steps=total_steps)
    check_bool("rebuild", rebuild)
    device = check_device("device", device)
    entry = _entry(name, recipe, rebuild)
    return load(entry / POLICY_FILE, device=device)


def policy_training_log(name: str, *, seed: int = 0, total_steps: int | None = None) -> dict:
    """The per-iteration PPO log (``env_steps``, ``seconds``, ``reward``, …) of the policy
    ``load_policy`` returns for the same arguments, training it first if needed."""
    entry = _entry(name, policy_recipe(name, seed=seed, total_steps=total_steps), False)
    return json.loads((entry / TRAINING_LOG).read_text(encoding="utf-8"))


def _entry(name: str, recipe: dict, rebuild: bool) -> Path:
    return ensure_entry(
        name, recipe, lambda d: _build(name, recipe, d), rebuild=rebuild, code=[__name__]
    )
