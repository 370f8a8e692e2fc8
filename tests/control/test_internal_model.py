"""The Newton–Euler internal model and its residual ``dyn_err`` against the simulator."""

import math

import pytest
import torch

from toolkit.control.internal_model import (
    InternalModel,
    dyn_err,
    predict_next,
    quat_distance,
    quat_mul,
)
from toolkit.control.quadrotor import GRAVITY, MassStep, QuadrotorEnv


def _rollout_errors(env, model, actions):
    """dyn_err (steps, N, 7) of ``model`` along ``env`` driven by ``actions[k]`` from now on."""
    state = env.state
    errors = []
    for k in range(len(actions)):
        predicted = model.predict(state, actions[k])
        state, _ = env.step(actions[k])
        errors.append(dyn_err(state, predicted))
    return torch.stack(errors)


def _smooth_actions(env, steps):
    """Hover plus 0.5 Hz sinusoids in thrust and all three rates, starting from zero."""
    actions = []
    for k in range(steps):
        s = math.sin(2 * math.pi * 0.5 * k * env.dt_control)
        action = env.hover_action()
        action[:, 0] += 0.05 * s
        action[:, 1:] = torch.tensor([0.1, 0.05, 0.1]) * s
        actions.append(action)
    return actions


def test_hover_residual_is_zero_with_exact_parameters():
    env = QuadrotorEnv(4)
    model = InternalModel.from_env(env)  # nominal belief == the env's nominal params
    errors = _rollout_errors(env, model, [env.hover_action()] * 50)
    assert errors.shape == (50, 4, 7)
    assert errors.abs().max() < 1e-6


def test_smooth_maneuver_residual_is_small():
    """Tolerances 5e-5 m, 5e-3 m/s, 5e-6 in attitude: ~3× what motor and rate-loop lag leave."""
    env = QuadrotorEnv(4)
    model = InternalModel.from_env(env, env.params)
    errors = _rollout_errors(env, model, _smooth_actions(env, 100)).abs()
    assert env.state.p.abs().max() > 0.5  # it did move
    assert errors[..., :3].max() < 5e-5
    assert errors[..., 3:6].max() < 5e-3
    assert errors[..., 6].max() < 5e-6


def test_velocity_residual_jumps_by_wind_times_dt():
    env = QuadrotorEnv(3)
    model = InternalModel.from_env(env)
    state, _ = env.reset()
    hover = env.hover_action()
    for _ in range(10):
        predicted = model.predict(state, hover)
        state, _ = env.step(hover)
    assert dyn_err(state, predicted).abs().max() < 1e-6
    wind = torch.tensor([[1.0, -2.0, 0.5], [-3.3, 0.0, 3.3], [0.2, 0.3, -0.4]])
    env.wind = wind.clone()
    predicted = model.predict(state, hover)
    state, _ = env.step(hover)
    err = dyn_err(state, predicted)
    torch.testing.assert_close(err[:, 3:6], wind * env.dt_control, rtol=1e-3, atol=1e-6)
    torch.testing.assert_close(err[:, :3], 0.5 * wind * env.dt_control**2, rtol=1e-2, atol=1e-7)
    assert err[:, 6].abs().max() < 1e-6


def test_payload_mass_step_shows_in_vertical_residual():
    factor = 1.5
    env = QuadrotorEnv(2, payload=MassStep(time=0.2, factor=factor))
    model = InternalModel.from_env(env)
    errors = _rollout_errors(env, model, [env.hover_action()] * 15)
    assert errors[:10].abs().max() < 1e-6  # steps starting before t = 0.2 s
    expected_dv = (GRAVITY / factor - GRAVITY) * env.dt_control
    torch.testing.assert_close(errors[10, :, 5], torch.full((2,), expected_dv), rtol=1e-3, atol=0)
    assert (errors[10:, :, 2] < 0).all() and (errors[10:, :, 5] < 0.9 * expected_dv).all()
    assert errors[10:, :, [3, 4]].abs().max() < 1e-6


def test_parameter_mismatch_is_visible():
    env = QuadrotorEnv(64, params="ood", seed=1)
    model = InternalModel.from_env(env)  # believes nominal parameters
    errors = _rollout_errors(env, model, [env.hover_action()] * 5)
    # hover_action holds each env's true m·g; the model maps it through the nominal T_max/m.
    expected = (2 / env.params.thrust_to_weight) * 2.75 / 2 * GRAVITY - GRAVITY
    torch.testing.assert_close(errors[1, :, 5], -expected * env.dt_control, rtol=1e-3, atol=1e-6)


def test_quaternion_propagation_is_exact_for_constant_rates():
    gen = torch.Generator().manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(8, 4, generator=gen), dim=-1)
    rates = 3 * torch.randn(8, 3, generator=gen)
    zeros = torch.zeros(8, 3)
    thrust = torch.full((8,), 5.0)
    once = predict_next(zeros, zeros, q, thrust, rates, 0.5, dt=0.02)
    half = predict_next(zeros, zeros, q, thrust, rates, 0.5, dt=0.01)
    twice = predict_next(half["p"], half["v"], half["q"], thrust, rates, 0.5, dt=0.01)
    assert quat_distance(once["q"], twice["q"]).max() < 1e-6
    no_spin = predict_next(zeros, zeros, q, thrust, zeros, 0.5)
    assert quat_distance(no_spin["q"], q).max() < 1e-7


def test_quaternion_distance_is_sign_blind_and_matches_the_angle():
    q = torch.nn.functional.normalize(torch.tensor([[0.3, -0.2, 0.9, 0.1]]), dim=-1)
    assert quat_distance(q, -q).abs().max() < 1e-7
    theta = 0.3
    turn = torch.tensor([[math.cos(theta / 2), 0.0, 0.0, math.sin(theta / 2)]])
    d = quat_distance(q, quat_mul(q, turn))
    torch.testing.assert_close(d, torch.tensor([[1 - math.cos(theta / 2)]]), rtol=1e-4, atol=0)


def test_predict_accepts_state_objects_and_sanitizes_like_the_env():
    env = QuadrotorEnv(2)
    model = InternalModel.from_env(env)
    bad = torch.tensor([[float("nan"), 4.0, -9.0, 0.0], [0.2, float("nan"), 0.5, -2.0]])
    clean = torch.tensor([[0.0, 1.0, -1.0, 0.0], [0.2, 0.0, 0.5, -1.0]])
    from_obj = model.predict(env.state, bad)
    from_dict = model.predict(env.reset()[0], clean)
    for key in ("p", "v", "q"):
        torch.testing.assert_close(from_obj[key], from_dict[key])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dyn_err_shape_and_dtype(dtype):
    env = QuadrotorEnv(5, dtype=dtype)
    model = InternalModel.from_env(env)
    state, _ = env.reset()
    err = dyn_err(state, model.predict(state, env.hover_action()))
    assert err.shape == (5, 7) and err.dtype == dtype
