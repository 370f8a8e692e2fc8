import math

import pytest
import torch

from toolkit.control import policies
from toolkit.control.baselines import CascadedPID, GeometricController
from toolkit.control.comparison import (
    Scenario,
    compare,
    noise_ablation,
    record_flight,
    relative_gain,
    scenario_grid,
    scenario_task,
    summarize,
)
from toolkit.control.policies import evaluate
from toolkit.control.ppo import Policy
from toolkit.control.quadrotor import MassStep, RopePayload
from toolkit.control.task import TrackingTask


def _policy(obs_mode: str = "imc") -> Policy:
    task = TrackingTask(2, obs_mode=obs_mode)
    torch.manual_seed(0)
    policy = Policy(task.obs_dim, task.critic_dim, task.act_dim)
    policy.meta.update(obs_mode=obs_mode, task={"obs_mode": obs_mode, "history": 3})
    return policy


def test_scenario_settings_and_validation():
    assert Scenario("zigzag", "nominal", "none").task_settings() == {
        "trajectory": "zigzag",
        "params": None,
        "wind": False,
        "payload": None,
    }
    assert Scenario(params="ood", disturbance="wind").task_settings()["params"] == "ood"
    assert Scenario(disturbance="wind").task_settings()["wind"] is True
    assert isinstance(Scenario(disturbance="payload").task_settings()["payload"], RopePayload)
    assert isinstance(Scenario(disturbance="mass").task_settings()["payload"], MassStep)
    assert Scenario("circle", "ood", "wind").name == "circle / ood / wind"
    with pytest.raises(ValueError, match="params"):
        Scenario(params="lunar")
    with pytest.raises(ValueError, match="disturbance"):
        Scenario(disturbance="earthquake")
    grid = scenario_grid(("circle", "zigzag"), ("nominal", "ood"), ("none", "wind", "payload"))
    assert len(grid) == 12 and len(set(grid)) == 12 and grid[0] == Scenario()


def test_policies_get_their_observation_and_controllers_plain():
    scenario = Scenario(params="ood", disturbance="wind")
    task = scenario_task(_policy("imc"), scenario, 3, seed=1, seconds=0.2)
    assert task.obs_mode == "imc" and task.episode_steps == 10 and task.num_envs == 3
    assert scenario_task(GeometricController(), scenario, 3, 1, 0.2).obs_mode == "plain"


def test_evaluate_scores_a_classical_controller_in_the_task():
    task = TrackingTask(8, trajectory="circle", params=None, wind=False, episode_seconds=3.0)
    geometric = evaluate(GeometricController(), task)
    assert geometric["crash_fraction"] == 0.0
    assert geometric["rmse_m"] < 0.06  # the standalone rollout measures ~0.03 m on this circle
    task = TrackingTask(8, trajectory="circle", params=None, wind=False, episode_seconds=3.0)
    assert evaluate(CascadedPID(), task)["rmse_m"] > geometric["rmse_m"]


def test_compare_is_paired_and_deterministic():
    scenarios = [Scenario(disturbance="wind"), Scenario("zigzag", "ood", "none")]
    seen = []

    def per_seed(seed):
        seen.append(seed)
        return GeometricController()

    agents = {"a": GeometricController(), "b": per_seed}
    rows = compare(agents, scenarios, seeds=(0, 1), num_envs=8, seconds=0.6, progress=False)
    assert len(rows) == 2 * 2 * 2 and sorted(set(seen)) == [0, 1]
    for a, b in zip(rows[0::2], rows[1::2], strict=True):
        assert (a["agent"], b["agent"]) == ("a", "b")
        assert a["rmse_m"] == b["rmse_m"]  # same controller, same vehicles and winds
    by_seed = {(row["seed"], row["trajectory"]): row["rmse_m"] for row in rows}
    assert by_seed[(0, "circle")] != by_seed[(1, "circle")]
    again = compare(agents, scenarios, seeds=(0, 1), num_envs=8, seconds=0.6, progress=False)
    assert again == rows


def test_summarize_and_relative_gain():
    rows = [
        {"agent": "x", "disturbance": "wind", "rmse_m": 1.0, "crash_fraction": 0.0},
        {"agent": "x", "disturbance": "none", "rmse_m": 3.0, "crash_fraction": 0.5},
        {"agent": "y", "disturbance": "wind", "rmse_m": 4.0, "crash_fraction": 0.0},
        {"agent": "y", "disturbance": "none", "rmse_m": 4.0, "crash_fraction": 0.0},
    ]
    mean = summarize(rows)
    assert mean[("x",)] == {"rmse_m": 2.0, "rmse_sd": 1.0, "crash_fraction": 0.25, "n": 2}
    assert list(summarize(rows, by=("agent", "disturbance"))) == [
        ("x", "wind"),
        ("x", "none"),
        ("y", "wind"),
        ("y", "none"),
    ]
    assert relative_gain(rows, "x", "y") == pytest.approx(0.5)
    wind_only = relative_gain(rows, "x", "y", where=lambda row: row["disturbance"] == "wind")
    assert wind_only == pytest.approx(0.75)
    with pytest.raises(ValueError, match="empty"):
        summarize([])
    with pytest.raises(ValueError, match="'z'"):
        relative_gain(rows, "z", "y")


def test_noise_ablation_zero_noise_is_the_plain_evaluation():
    policy = _policy("imc")
    scenario = Scenario(disturbance="wind")
    rows = noise_ablation(policy, scenario, (0.0, 5.0), seeds=(3,), num_envs=4, seconds=0.4)
    assert [row["sigma"] for row in rows] == [0.0, 5.0]
    task = scenario_task(policy, scenario, 4, seed=3, seconds=0.4)
    assert rows[0]["rmse_m"] == evaluate(policy, task)["rmse_m"]
    assert rows[1]["rmse_m"] != rows[0]["rmse_m"]


def test_record_flight_histories_and_crash_padding():
    task = TrackingTask(
        3, trajectory="hover", params=None, wind=False, episode_seconds=0.5, obs_mode="plain"
    )
    flight = record_flight(GeometricController(), task)
    assert flight["position"].shape == flight["reference"].shape == (25, 3, 3)
    assert flight["dyn_err"].shape == (25, 3, 7) and flight["time"][-1] == pytest.approx(0.5)
    assert float(flight["dyn_err"].abs().max()) < 1e-3  # nominal, no wind: no surprise
    assert not torch.isnan(flight["position"]).any()

    class FallFlat:
        def act(self, state, ref):
            action = torch.zeros(len(state["p"]), 4)
            action[:, 0] = -1.0  # no thrust: free fall until the 5 m termination
            return action

    task = TrackingTask(2, params=None, wind=False, episode_seconds=2.0, obs_mode="plain")
    fall = record_flight(FallFlat(), task)
    ended = torch.isnan(fall["position"][..., 0])
    assert ended[-1].all() and not ended[0].any()
    first = int(ended[:, 0].float().argmax())
    assert ended[first:, 0].all()  # NaN only trails the crash
    assert math.isfinite(float(fall["error_norm"][first - 1, 0]))


def test_policy_recipe_overrides_make_separate_entries():
    base = policies.policy_recipe("imc-ppo-circle")
    assert base == policies.RECIPES["imc-ppo-circle"]
    other = policies.policy_recipe("imc-ppo-circle", seed=2, total_steps=32_768)
    assert other["seed"] == 2 and other["ppo"]["total_steps"] == 32_768
    assert policies.RECIPES["imc-ppo-circle"]["seed"] == 0  # the built-in is not mutated
    with pytest.raises(ValueError, match="total_steps"):
        policies.policy_recipe("imc-ppo-circle", total_steps=10)
    with pytest.raises(ValueError, match="name must be one of"):
        policies.policy_recipe("no-such-policy")
