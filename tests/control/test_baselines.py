"""Classical baselines (cascaded PID, Lee et al.'s geometric controller) and the evaluation loop."""

import dataclasses
import math

import pytest
import torch

from toolkit.control.baselines import CascadedPID, GeometricController
from toolkit.control.evaluate import CRASH_DISTANCE, rollout, tracking_table
from toolkit.control.internal_model import rotation_matrix
from toolkit.control.quadrotor import QuadrotorEnv
from toolkit.control.trajectories import Circle, Hover, make_trajectory

CONTROLLERS = {"pid": CascadedPID, "geometric": GeometricController}
WIND = torch.tensor([2.0, -1.5, 1.0])  # m/s², constant


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _circle_rmse(controller, trajectory=None):
    result = rollout(QuadrotorEnv(1), controller, trajectory or Circle(), 5.0, record=False)
    assert not result.crashed.any()
    return result.rmse().item()


def test_geometric_tracks_the_paper_circle():
    assert _circle_rmse(GeometricController()) < 0.05  # measured 0.022 m


def test_geometric_rate_feedforward_from_the_jerk_helps():
    def without_jerk(t):
        return {key: value for key, value in Circle()(t).items() if key != "j"}

    assert _circle_rmse(GeometricController()) < 0.5 * _circle_rmse(
        GeometricController(), without_jerk
    )  # measured 0.022 vs 0.12 m


def test_pid_tracks_the_paper_circle():
    assert _circle_rmse(CascadedPID()) < 0.2  # measured 0.14 m


@pytest.mark.parametrize("name", CONTROLLERS)
def test_hover_in_place_from_equilibrium(name):
    result = rollout(QuadrotorEnv(4), CONTROLLERS[name](), Hover(), 2.0)
    assert result.error_norm.max() < 1e-3
    assert result.action.abs().max() <= 1


@pytest.mark.parametrize("name", CONTROLLERS)
def test_recovers_hover_from_an_offset(name):
    env = QuadrotorEnv(2)
    controller, hover = CONTROLLERS[name](), Hover()
    start = torch.tensor([[0.3, -0.2, 0.8], [-0.3, 0.1, 1.2]])
    env.state = dataclasses.replace(env.state, p=start)
    state = {"p": start, "v": torch.zeros(2, 3), "q": env.state.q, "time": env.time}
    for _ in range(300):  # 6 s: the PID's integral, charged by the offset, decays at ≈ 0.6/s
        state, _ = env.step(controller.act(state, hover(state["time"])))
    assert (state["p"] - hover(state["time"])["p"]).norm(dim=1).max() < 0.01


@pytest.mark.parametrize("name", CONTROLLERS)
def test_turns_to_the_reference_yaw(name):
    env = QuadrotorEnv(1)
    result = rollout(env, CONTROLLERS[name](), Hover(yaw=0.7), 4.0)
    w, x, y, z = env.state.q[0].tolist()
    assert math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)) == pytest.approx(0.7, abs=1e-3)
    assert result.error_norm.max() < 0.01


@pytest.mark.parametrize("name", CONTROLLERS)
def test_actions_stay_in_bounds_for_huge_errors(name):
    n = 64
    gen = torch.Generator().manual_seed(0)
    q = torch.randn(n, 4, generator=gen)
    state = {
        "p": 50 * torch.randn(n, 3, generator=gen),
        "v": 20 * torch.randn(n, 3, generator=gen),
        "q": q / q.norm(dim=1, keepdim=True),
    }
    action = CONTROLLERS[name]().act(state, Circle()(torch.rand(n, generator=gen)))
    assert action.shape == (n, 4) and torch.isfinite(action).all()
    assert action.abs().max() <= 1


def test_pid_integral_removes_a_constant_wind_offset():
    errors = {}
    for ki in (8.0, 0.0):
        result = rollout(QuadrotorEnv(1), CascadedPID(ki=ki), Hover(), 8.0, wind=WIND)
        errors[ki] = result.error_norm[-1].item()
    assert errors[8.0] < 0.01  # measured 0.002 m
    assert errors[0.0] > 0.1  # ≈ ‖wind‖/k_p = 0.17 m


def test_pid_reset_clears_the_integral_where_masked():
    controller = CascadedPID()
    rollout(QuadrotorEnv(3), controller, Hover(), 1.0, wind=WIND)
    before = controller.integral.clone()
    assert before.abs().min() > 0
    controller.reset(torch.tensor([True, False, True]))
    assert controller.integral[[0, 2]].abs().max() == 0
    torch.testing.assert_close(controller.integral[1], before[1])
    controller.reset()
    assert controller.integral is None


def test_believing_the_true_parameters_helps_out_of_distribution():
    env = QuadrotorEnv(8, params="ood", seed=3)
    params = env.params
    env = QuadrotorEnv(8, params=params)
    traj = make_trajectory("circle", 8)
    told = rollout(env, GeometricController(params), traj, 4.0, record=False)
    nominal = rollout(env, GeometricController(), traj, 4.0, record=False)
    assert told.rmse().mean() < 0.5 * nominal.rmse().mean()


def test_rotation_matrix_columns_are_the_body_axes():
    angle = 0.3
    q = torch.tensor([[math.cos(angle / 2), math.sin(angle / 2), 0.0, 0.0]])  # roll
    expected = torch.tensor(
        [
            [1.0, 0.0, 0.0],
            [0.0, math.cos(angle), -math.sin(angle)],
            [0.0, math.sin(angle), math.cos(angle)],
        ]
    )
    torch.testing.assert_close(rotation_matrix(q)[0], expected)


def test_crashes_are_detected_and_left_out_of_the_table():
    def drop_the_second(state, ref):
        action = torch.zeros(2, 4)
        action[:, 0] = torch.tensor([2 * 9.81 / (2.75 * 9.81) - 1, -1.0])
        return action

    crashed = rollout(QuadrotorEnv(2), drop_the_second, Hover(), 1.5, record=False)
    assert crashed.crashed.tolist() == [False, True]
    assert crashed.error_norm[:, 1].max() > CRASH_DISTANCE
    assert crashed.position is None and crashed.error_norm.shape == (75, 2)
    fine = rollout(QuadrotorEnv(2), GeometricController(), Hover(), 1.5)
    rows = tracking_table({"fine": fine, "crashed": crashed})
    assert [row["name"] for row in rows] == ["fine", "crashed"]
    assert rows[0]["crash_rate"] == 0 and rows[1]["crash_rate"] == 0.5
    torch.testing.assert_close(torch.tensor(rows[1]["rmse_mean"]), crashed.rmse()[0])
    assert rows[1]["rmse_std"] == 0 and rows[1]["envs"] == 2


def test_rollout_records_histories_and_measures_after_settling():
    result = rollout(QuadrotorEnv(3), CascadedPID(), make_trajectory("zigzag", 3), 2.0)
    assert result.position.shape == result.reference.shape == result.error.shape == (100, 3, 3)
    assert result.action.shape == (100, 3, 4)
    torch.testing.assert_close(result.error.norm(dim=-1), result.error_norm)
    torch.testing.assert_close(result.time[[0, -1]], torch.tensor([0.02, 2.0]))
    late = result.error_norm[50:]
    torch.testing.assert_close(result.rmse(settle=1.0), late.square().mean(0).sqrt())
