"""One protocol for every tracking controller: scenarios × controllers × seeds.

A ``Scenario`` fixes what the vehicles face — the reference (``trajectory``), the dynamics
(``params``: ``"nominal"``, the training ranges ``"train"`` or the wider out-of-distribution
ranges ``"ood"`` of Gao et al., arXiv 2411.13079) and one ``disturbance``:

* ``"none"``;
* ``"wind"``: a world-frame acceleration drawn uniformly in ±3.3 m/s² per axis, random-walking;
* ``"payload"``: a 0.2·m point mass on a 0.5 m rope, swinging under the vehicle
  (``RopePayload``);
* ``"mass"``: the mass steps to 1.5·m at t = 5 s (``MassStep``), unknown to every controller.

``compare`` flies each controller in a fresh ``TrackingTask`` per scenario and seed and scores
the first episode with ``policies.evaluate`` (RMSE of ‖p − p_d‖ over the env-steps before
termination, and the crash fraction). A seed fixes the parameter draws, winds, start times and
references, and none of these depend on the controller, so every controller meets the same
vehicles: the comparison is paired. Learned policies get the observation they were trained
with; classical controllers (``CascadedPID``, ``GeometricController``) act on the true state
and the reference and believe the nominal mass and thrust.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import product

import torch
from tqdm.auto import tqdm

from toolkit._checks import check_choice, check_int, check_nonempty, check_number, describe
from toolkit.control.policies import _check_steps, as_actor, evaluate, make_task
from toolkit.control.ppo import Policy
from toolkit.control.quadrotor import DT_CONTROL, MassStep, RopePayload
from toolkit.control.task import TrackingTask
from toolkit.control.trajectories import TRAJECTORIES

PARAMS = ("nominal", "train", "ood")
DISTURBANCES = ("none", "wind", "payload", "mass")


@dataclass(frozen=True)
class Scenario:
    """What the vehicles face; ``name`` reads e.g. ``"circle / ood / wind"``."""

    trajectory: str = "circle"
    params: str = "nominal"
    disturbance: str = "none"

    def __post_init__(self) -> None:
        check_choice("trajectory", self.trajectory, TRAJECTORIES)
        check_choice("params", self.params, PARAMS)
        check_choice("disturbance", self.disturbance, DISTURBANCES)

    @property
    def name(self) -> str:
        return f"{self.trajectory} / {self.params} / {self.disturbance}"

    def task_settings(self) -> dict:
        """``TrackingTask`` keyword arguments for this scenario."""
        payload = {"payload": RopePayload(), "mass": MassStep()}.get(self.disturbance)
        return {
            "trajectory": self.trajectory,
            "params": None if self.params == "nominal" else self.params,
            "wind": self.disturbance == "wind",
            "payload": payload,
        }


def scenario_grid(
    trajectories: Iterable[str] = ("circle", "zigzag"),
    params: Iterable[str] = ("nominal", "ood"),
    disturbances: Iterable[str] = ("none", "wind", "payload"),
) -> list[Scenario]:
    """Every combination, trajectory-major."""
    return [Scenario(*combo) for combo in product(trajectories, params, disturbances)]


def scenario_task(agent, scenario: Scenario, num_envs: int, seed: int, seconds: float):
    """The ``TrackingTask`` ``agent`` is scored in: a policy's own observation settings (its
    ``obs_mode``, history, lookahead) with the scenario's dynamics; ``"plain"`` observations for
    a classical controller, which reads the state directly."""
    settings = {**scenario.task_settings(), "episode_seconds": seconds, "seed": seed}
    if isinstance(agent, Policy):
        return make_task(agent, num_envs, **settings)
    return TrackingTask(num_envs, obs_mode="plain", **settings)


def compare(
    agents: Mapping[str, object | Callable[[int], object]],
    scenarios: Iterable[Scenario],
    *,
    seeds: Iterable[int] = (0,),
    num_envs: int = 128,
    seconds: float = 10.0,
    progress: bool = True,
) -> list[dict]:
    """Score every agent in every scenario for every evaluation seed.

    ``agents`` maps a name to a ``Policy``, a classical controller, or a function of the
    evaluation seed returning one (e.g. a different trained policy per seed). One row per
    (agent, scenario, seed): ``agent``, ``trajectory``, ``params``, ``disturbance``, ``seed``,
    ``rmse_m``, ``crash_fraction``, ``mean_reward``.

    ``agents``, ``scenarios`` (``Scenario`` objects, e.g. from ``scenario_grid``) and ``seeds``
    (ints ≥ 0) must not be empty; ``seconds`` is at least one control step (0.02 s)."""
    if not isinstance(agents, Mapping):
        raise TypeError(f"agents must be a dict of name → agent, got {describe(agents)}")
    check_nonempty("agents", agents)
    scenarios, seeds = _check_protocol(scenarios, seeds, num_envs, seconds)
    jobs = list(product(scenarios, seeds, agents.items()))
    rows = []
    for scenario, seed, (name, agent) in tqdm(jobs, desc="evaluating", disable=not progress):
        if callable(agent) and not hasattr(agent, "act"):
            agent = agent(seed)
        task = scenario_task(agent, scenario, num_envs, seed, seconds)
        metrics = evaluate(agent, task)
        rows.append(
            {
                "agent": name,
                "trajectory": scenario.trajectory,
                "params": scenario.params,
                "disturbance": scenario.disturbance,
                "seed": seed,
                **metrics,
            }
        )
    return rows


def _check_protocol(scenarios, seeds, num_envs, seconds) -> tuple[list, list[int]]:
    """The evaluation protocol's arguments, checked: non-empty lists of ``Scenario`` objects
    and seeds ≥ 0, ``num_envs`` ≥ 1, ``seconds`` ≥ one control step."""
    scenarios = list(check_nonempty("scenarios", _as_list("scenarios", scenarios)))
    for i, scenario in enumerate(scenarios):
        if not isinstance(scenario, Scenario):
            raise TypeError(
                f"scenarios[{i}] must be a Scenario (e.g. Scenario('circle', 'ood', 'wind')), "
                f"got {describe(scenario)}"
            )
    seeds = list(check_nonempty("seeds", _as_list("seeds", seeds)))
    seeds = [check_int(f"seeds[{i}]", seed, minimum=0) for i, seed in enumerate(seeds)]
    check_int("num_envs", num_envs, minimum=1)
    check_number("seconds", seconds, minimum=DT_CONTROL)
    return scenarios, seeds


def _as_list(name: str, values: object) -> list:
    if isinstance(values, str | Scenario) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list, got {describe(values)}")
    return list(values)


def summarize(rows: Iterable[dict], by: tuple[str, ...] = ("agent",)) -> dict[tuple, dict]:
    """Mean and spread over the rows sharing the ``by`` fields: ``rmse_m`` (mean),
    ``rmse_sd`` (standard deviation across rows, 0 for one row), ``crash_fraction`` (mean),
    ``n`` rows. Keys are tuples of the ``by`` values in first-seen order."""
    groups: dict[tuple, list[dict]] = {}
    for i, row in enumerate(rows):
        missing = [field for field in (*by, "rmse_m", "crash_fraction") if field not in row]
        if missing:
            raise ValueError(f"rows[{i}] lacks {missing}; rows come from compare()")
        groups.setdefault(tuple(row[field] for field in by), []).append(row)
    if not groups:
        raise ValueError("rows is empty; run compare() first")
    out = {}
    for key, members in groups.items():
        rmse = [row["rmse_m"] for row in members]
        out[key] = {
            "rmse_m": statistics.fmean(rmse),
            "rmse_sd": statistics.pstdev(rmse) if len(rmse) > 1 else 0.0,
            "crash_fraction": statistics.fmean(row["crash_fraction"] for row in members),
            "n": len(members),
        }
    return out


def relative_gain(rows: Iterable[dict], agent: str, baseline: str, where=None) -> float:
    """``1 − RMSE(agent)/RMSE(baseline)`` over the rows where ``where(row)`` holds (all by
    default), with RMSE averaged over those rows: > 0 means ``agent`` tracks better."""
    rows = [row for row in rows if where is None or where(row)]
    mean = summarize(rows)
    if (agent,) not in mean or (baseline,) not in mean:
        raise ValueError(f"rows hold no results for {agent!r} and {baseline!r} under `where`")
    ratio = mean[(agent,)]["rmse_m"] / mean[(baseline,)]["rmse_m"]
    return 1 - ratio if math.isfinite(ratio) else math.nan


def noise_ablation(
    policy: Policy,
    scenario: Scenario,
    sigmas: Iterable[float],
    *,
    seeds: Iterable[int] = (0,),
    num_envs: int = 128,
    seconds: float = 10.0,
) -> list[dict]:
    """Score ``policy`` with Gaussian noise of std σ_a [m/s²] injected into its internal model's
    prediction (``TrackingTask(dyn_err_noise=σ_a)``): how much the policy leans on the
    predictive error feedback. One row per (σ_a, seed) with ``sigma`` and the metrics."""
    sigmas = check_nonempty("sigmas", _as_list("sigmas", sigmas))
    _, seeds = _check_protocol([scenario], seeds, num_envs, seconds)
    rows = []
    for sigma, seed in product(sigmas, seeds):
        settings = {**scenario.task_settings(), "episode_seconds": seconds, "seed": seed}
        task = make_task(policy, num_envs, dyn_err_noise=sigma, **settings)
        rows.append({"sigma": sigma, "seed": seed, **evaluate(policy, task)})
    return rows


@torch.no_grad()
def record_flight(agent, task: TrackingTask, steps: int | None = None) -> dict[str, torch.Tensor]:
    """Fly ``agent`` from ``task.reset()`` for ``steps`` (default one episode) and keep the
    histories: ``time`` (T,) [s]; ``position`` and ``reference`` (T, N, 3) [m], NaN from the
    step an env terminates on; ``error_norm`` (T, N) [m]; ``dyn_err`` (T, N, 7) (position,
    velocity, attitude distance — the internal model's surprise, whatever the agent observes);
    ``wind`` (T, N, 3) [m/s²]; ``mass`` (T, N) [kg]."""
    steps = _check_steps(task, steps)
    obs, _ = task.reset()
    act = as_actor(agent)
    alive = torch.ones(task.num_envs, dtype=torch.bool, device=task.device)
    keys = ("position", "reference", "error_norm", "dyn_err", "wind", "mass")
    history: dict[str, list] = {key: [] for key in keys}
    for _ in range(steps):
        obs, _, _, terminated, _, info = task.step(act(obs, task))
        alive &= ~terminated
        gone = ~alive[:, None]
        history["position"].append(task.state["p"].masked_fill(gone, math.nan))
        history["reference"].append(task.reference()["p"].masked_fill(gone, math.nan))
        history["error_norm"].append(info["p_err"].norm(dim=-1))
        history["dyn_err"].append(info["dyn_err"])
        history["wind"].append(task.state["wind"])
        history["mass"].append(task.state["mass"])
    out = {key: torch.stack(values) for key, values in history.items()}
    out["time"] = torch.arange(1, steps + 1, dtype=out["position"].dtype) * task.env.dt_control
    return out
