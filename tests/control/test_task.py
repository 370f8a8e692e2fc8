"""TrackingTask: observation layouts, predictive error feedback, reward, episode bookkeeping."""

import dataclasses
import math

import pytest
import torch

from toolkit.control.task import DYN_ERR_DIM, TrackingTask, tracking_reward, yaw_of

torch.set_num_threads(1)

BASE = 24 + 3 * 3  # state + last action, with the default three look-ahead points


@pytest.mark.parametrize(
    ("mode", "extra"), [("imc", DYN_ERR_DIM * 3), ("plain", 0), ("privileged", 3)]
)
def test_shapes_of_the_three_obs_modes(mode, extra):
    task = TrackingTask(5, trajectory="circle", obs_mode=mode)
    obs, critic_obs = task.reset()
    assert task.obs_dim == BASE + extra and task.critic_dim == task.obs_dim + 4
    assert obs.shape == (5, task.obs_dim) and critic_obs.shape == (5, task.critic_dim)
    obs, critic_obs, reward, terminated, truncated, info = task.step(torch.zeros(5, 4))
    assert obs.shape == (5, task.obs_dim) and critic_obs.shape == (5, task.critic_dim)
    assert reward.shape == terminated.shape == truncated.shape == (5,)
    assert terminated.dtype == truncated.dtype == torch.bool
    assert info["dyn_err"].shape == (5, DYN_ERR_DIM) and info["p_err"].shape == (5, 3)
    torch.testing.assert_close(critic_obs[:, : task.obs_dim], obs)
    state = task.env.observe()
    torch.testing.assert_close(critic_obs[:, -4:-1], state["wind"])
    torch.testing.assert_close(critic_obs[:, -1], state["mass"])
    if mode == "privileged":
        torch.testing.assert_close(obs[:, -3:], state["wind"])


def test_every_env_starts_on_its_reference():
    task = TrackingTask(32, trajectory=["hover", "circle", "zigzag", "polynomial"], seed=3)
    obs, _ = task.reset()
    assert set(task.trajectory.which.tolist()) == {0, 1, 2, 3}
    assert obs[:, :6].abs().max() < 1e-5  # p_err, v_err
    sin_yaw, cos_yaw = obs[:, BASE - 18], obs[:, BASE - 17]
    assert sin_yaw.abs().max() < 1e-5 and (cos_yaw - 1).abs().max() < 1e-5
    state, ref = task.env.state, task.trajectory(task.reference_time)
    torch.testing.assert_close(state.p, ref["p"])
    torch.testing.assert_close(yaw_of(state.q), ref["yaw"], atol=1e-6, rtol=0)


def test_mixture_follows_each_envs_own_trajectory():
    task = TrackingTask(8, trajectory=["hover", "circle"], seed=1)
    ref = task.trajectory(task.reference_time)
    for k, part in enumerate(task.trajectory.parts):
        mine = task.trajectory.which == k
        torch.testing.assert_close(ref["p"][mine], part(task.reference_time)["p"][mine])


def _hover_errors(wind, steps=5):
    task = TrackingTask(6, trajectory="circle", params=None, wind=wind, obs_mode="imc")
    obs = task.reset()[0]
    for _ in range(steps):
        obs, _, _, _, _, info = task.step(task.env.hover_action())
    return task, obs, info


def test_dyn_err_vanishes_at_nominal_params_without_wind():
    _, obs, info = _hover_errors(wind=False)
    assert obs[:, -DYN_ERR_DIM * 3 :].abs().max() < 1e-5
    assert info["dyn_err"].abs().max() < 1e-5


def test_dyn_err_exposes_wind_newest_frame_first():
    task, obs, info = _hover_errors(wind=True)
    block = obs[:, -DYN_ERR_DIM * 3 :]
    torch.testing.assert_close(block[:, :DYN_ERR_DIM], info["dyn_err"])
    velocity_error = info["dyn_err"][:, 3:6]
    # a wind acceleration w shows up as Δv ≈ w·Δt (the walk moves w by ~0.02 m/s² a step)
    expected = task.env.wind * task.env.dt_control
    torch.testing.assert_close(velocity_error, expected, atol=2e-3, rtol=0)
    assert velocity_error.abs().max() > 1e-2
    assert not torch.equal(block[:, :DYN_ERR_DIM], block[:, DYN_ERR_DIM : 2 * DYN_ERR_DIM])


def test_dyn_err_noise_has_the_documented_scale():
    sigma = 3.0
    task = TrackingTask(2000, trajectory="hover", params=None, wind=False, dyn_err_noise=sigma)
    task.reset()
    info = task.step(task.env.hover_action())[-1]
    dt = task.env.dt_control
    err = info["dyn_err"]
    assert err[:, :3].std().item() == pytest.approx(0.5 * sigma * dt**2, rel=0.1)
    assert err[:, 3:6].std().item() == pytest.approx(sigma * dt, rel=0.1)


def test_reward_is_largest_on_the_reference():
    zeros, action = torch.zeros(4, 3), torch.full((4, 4), 0.3)
    best = tracking_reward(zeros, zeros, torch.zeros(4), action, action)
    torch.testing.assert_close(best, torch.full((4,), 1.3))
    gen = torch.Generator().manual_seed(0)
    p_err, v_err = torch.randn(100, 3, generator=gen), torch.randn(100, 3, generator=gen)
    yaw_err = math.pi * (2 * torch.rand(100, generator=gen) - 1)
    a, b = 2 * torch.rand(2, 100, 4, generator=gen) - 1
    reward = tracking_reward(p_err, v_err, yaw_err, a, b)
    assert (reward < 1.3).all() and (reward > -16 * 0.01).all()
    expected = (
        torch.exp(-p_err.norm(dim=1))
        + 0.2 * torch.exp(-yaw_err.abs())
        + 0.1 * torch.exp(-v_err.norm(dim=1))
        - 0.01 * ((a - b) ** 2).sum(1)
    )
    torch.testing.assert_close(reward, expected)


def test_task_rewards_lie_in_range():
    task = TrackingTask(16, trajectory="circle", seed=2)
    task.reset()
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):
        reward = task.step(2 * torch.rand(16, 4, generator=gen) - 1)[2]
        assert (reward <= 1.3 + 1e-6).all() and (reward >= -0.16).all()


def test_termination_beyond_five_metres_then_auto_reset():
    task = TrackingTask(3, trajectory="hover", params=None, wind=False)
    task.reset()
    hover = task.env.hover_action()
    task.step(hover)
    state = task.env.state
    offset = torch.tensor([[5.5, 0, 0], [4.5, 0, 0], [0, 0, 0]])
    task.env.state = dataclasses.replace(state, p=state.p + offset)
    obs, _, _, terminated, truncated, info = task.step(hover)
    assert terminated.tolist() == [True, False, False] and not truncated.any()
    assert info["episode_length"][0] == 2 and info["final_obs"][0, 0] > 5
    assert obs[0, :3].abs().max() < 1e-5 and task.time[0] == 0  # back on its reference
    assert task.time[1] > 0


def test_truncation_at_episode_end_with_auto_reset():
    task = TrackingTask(4, trajectory="circle", episode_seconds=0.1, seed=5)
    task.reset()
    hover = task.env.hover_action()
    for k in range(1, 6):
        obs, _, _, terminated, truncated, info = task.step(hover)
        assert not terminated.any()
        assert truncated.all() == (k == 5) and truncated.any() == (k == 5)
    assert (info["episode_length"] == 5).all()
    assert (task.time == 0).all() and obs[:, :6].abs().max() < 1e-5
    assert not torch.equal(info["final_obs"], obs)
    assert (obs[:, -DYN_ERR_DIM * 3 :] == 0).all()  # the new episode has no feedback yet


def _trace(seed):
    task = TrackingTask(6, trajectory=["circle", "zigzag"], seed=seed, episode_seconds=0.2)
    obs, _ = task.reset()
    gen = torch.Generator().manual_seed(1)
    outputs = [obs]
    for _ in range(15):  # crosses an auto-reset
        obs, critic_obs, reward, *_ = task.step(0.3 * (2 * torch.rand(6, 4, generator=gen) - 1))
        outputs += [obs, critic_obs, reward]
    return outputs


def test_deterministic_under_a_seed():
    a, b, c = _trace(7), _trace(7), _trace(8)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(a, c, strict=True))


def test_rejects_unknown_obs_mode():
    with pytest.raises(ValueError, match="obs_mode"):
        TrackingTask(2, obs_mode="oracle")
