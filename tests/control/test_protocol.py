"""One evaluation protocol: tracking_rmse with the settling window as a parameter, used by
Rollout.rmse (per env, 1 s by default) and policies.evaluate (pooled, no window by default);
one crash distance, the task's termination threshold."""

import math

import pytest
import torch

from toolkit.control import CascadedPID, Hover, QuadrotorEnv, TrackingTask, rollout
from toolkit.control import evaluate as evaluate_module
from toolkit.control import task as task_module
from toolkit.control.evaluate import SETTLE_TIME, tracking_rmse
from toolkit.control.policies import evaluate

TIME = torch.tensor([0.5, 1.0, 1.5, 2.0])
SQUARED = torch.tensor([[100.0, 1.0], [4.0, 9.0], [4.0, 1.0], [16.0, 1.0]])


class Falling:
    """Motors off: every vehicle drops until it is more than the crash distance away."""

    def act(self, state, ref):
        return torch.full((state["p"].shape[0], 4), -1.0)


def test_per_env_rmse_over_the_settling_window():
    expected = torch.tensor([math.sqrt(10.0), 1.0])  # t = 1.5, 2.0 only
    assert torch.allclose(tracking_rmse(SQUARED, TIME, 1.0), expected)
    assert torch.allclose(tracking_rmse(SQUARED, TIME, 0.0)[1], torch.tensor(math.sqrt(3.0)))


def test_pooled_rmse_over_the_counted_env_steps_in_the_window():
    counted = torch.tensor([[True, True], [True, True], [True, False], [False, False]])
    assert float(tracking_rmse(SQUARED, TIME, 0.0, counted=counted)) == math.sqrt(118.0 / 5)
    assert float(tracking_rmse(SQUARED, TIME, 0.5, counted=counted)) == math.sqrt(17.0 / 3)
    assert float(tracking_rmse(SQUARED, TIME, 1.5, counted=counted)) == 0.0  # none counted


@pytest.mark.parametrize(("settle", "error"), [(2.0, ValueError), (-1.0, ValueError)])
def test_a_window_without_steps_is_refused(settle, error):
    with pytest.raises(error, match="settle"):
        tracking_rmse(SQUARED, TIME, settle)


def test_rollout_rmse_is_the_protocol_with_a_one_second_window():
    result = rollout(QuadrotorEnv(2), CascadedPID(), Hover(), 2.0)
    squared = result.error_norm.square()
    assert SETTLE_TIME == 1.0
    assert torch.equal(result.rmse(), tracking_rmse(squared, result.time))
    assert torch.equal(result.rmse(0.5), tracking_rmse(squared, result.time, 0.5))


def test_evaluate_takes_a_settling_window_and_counts_steps_before_the_crash():
    def task():
        return TrackingTask(4, obs_mode="plain", episode_seconds=3.0, seed=0)

    whole, settled = evaluate(Falling(), task()), evaluate(Falling(), task(), settle=0.5)
    assert whole["crash_fraction"] == settled["crash_fraction"] == 1.0
    assert settled["rmse_m"] > whole["rmse_m"] > 0  # the error grows as the vehicles fall
    assert settled["mean_reward"] == whole["mean_reward"]
    assert evaluate(CascadedPID(), task(), settle=0.0) == evaluate(CascadedPID(), task())
    with pytest.raises(ValueError, match="settle"):
        evaluate(CascadedPID(), task(), settle=3.0)
    with pytest.raises(TypeError, match="settle"):
        evaluate(CascadedPID(), task(), settle="1 s")


def test_one_crash_distance_ends_episodes_and_marks_rollouts_crashed():
    assert evaluate_module.CRASH_DISTANCE is task_module.CRASH_DISTANCE == 5.0
    result = rollout(QuadrotorEnv(2), Falling(), Hover(), 3.0)
    first = int((result.error_norm[:, 0] > task_module.CRASH_DISTANCE).nonzero()[0])
    assert bool(result.crashed.all()) and first > 0
