"""Bad input at every public entry point of ``toolkit.control``: a clear ``TypeError`` or
``ValueError`` naming the argument, field or env index, never a silent wrong result."""

import dataclasses
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.control.quadrotor import (
    TRAIN_RANGES,
    MassStep,
    QuadParams,
    QuadrotorEnv,
    RopePayload,
    nominal_params,
    sample_params,
)

FAST = settings(max_examples=20, deadline=None)
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
NON_POSITIVE = st.one_of(st.floats(max_value=0.0, allow_infinity=False, width=32), NON_FINITE)


# ---------------------------------------------------------------------- quadrotor


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_envs": 2.5}, TypeError, "num_envs"),
        ({"num_envs": True}, TypeError, "num_envs"),
        ({"num_envs": 0}, ValueError, "num_envs"),
        ({"num_envs": -3}, ValueError, "num_envs"),
        ({"dtype": torch.int32}, ValueError, "dtype"),
        ({"dtype": "float32"}, TypeError, "dtype"),
        ({"device": "nonsense"}, ValueError, "device"),
        ({"device": None}, TypeError, "device"),
        ({"device": "cuda:99"}, ValueError, "CUDA devices"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"wind": "yes"}, TypeError, "wind"),
        ({"wind_walk_std": math.nan}, ValueError, "wind_walk_std"),
        ({"wind_walk_std": -0.1}, ValueError, "wind_walk_std"),
        ({"wind_max": math.inf}, ValueError, "wind_max"),
        ({"max_rate": (6.0, 6.0)}, ValueError, "max_rate"),
        ({"max_rate": (6.0, 0.0, 3.0)}, ValueError, r"max_rate\[1\]"),
        ({"kp_rate": 20.0}, TypeError, "kp_rate"),
        ({"kp_rate": (20.0, math.nan, 10.0)}, ValueError, r"kp_rate\[1\]"),
        ({"params": "nope"}, ValueError, "params"),
        ({"params": 3}, TypeError, "ranges"),
        ({"params": {"mass": (0.1, 0.2)}}, ValueError, "arm_length"),
        ({"params": {**TRAIN_RANGES, "typo": (1, 2)}}, ValueError, "typo"),
        ({"params": {**TRAIN_RANGES, "mass": (0.9, 0.1)}}, ValueError, r"ranges\['mass'\]"),
        ({"params": {**TRAIN_RANGES, "mass": (-1.0, 1.0)}}, ValueError, r"ranges\['mass'\]"),
        ({"params": {**TRAIN_RANGES, "mass": (0.0, 1.0)}}, ValueError, r"ranges\['mass'\]"),
        ({"params": {**TRAIN_RANGES, "mass": 0.5}}, TypeError, r"ranges\['mass'\]"),
        ({"params": {**TRAIN_RANGES, "motor_alpha": (0.3, 1.0)}}, ValueError, "motor_alpha"),
        ({"params": nominal_params(3)}, ValueError, "num_envs"),
        ({"payload": "rope"}, TypeError, "payload"),
        ({"reference": 1.0}, TypeError, "reference"),
    ],
)
def test_env_constructor_rejects(kwargs, error, match):
    with pytest.raises(error, match=match):
        QuadrotorEnv(**{"num_envs": 2, **kwargs})


@FAST
@given(
    field=st.sampled_from(["mass", "arm_length", "thrust_to_weight", "motor_alpha", "kp_scale"]),
    bad=NON_POSITIVE,
    env=st.integers(0, 3),
)
def test_quad_params_name_the_field_and_env_of_a_bad_value(field, bad, env):
    values = {name: tensor.clone() for name, tensor in vars(nominal_params(4)).items()}
    values[field][env] = bad
    with pytest.raises(ValueError, match=rf"QuadParams\.{field}\[{env}\]"):
        QuadParams(**values)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"motor_alpha": torch.full((2,), 1.0)}, ValueError, "motor_alpha"),
        ({"mass": torch.ones(3)}, ValueError, "like mass"),
        ({"kp_scale": torch.ones(2, 1)}, ValueError, "kp_scale"),
        ({"arm_length": 0.1}, TypeError, "arm_length"),
        ({"thrust_to_weight": torch.ones(2, dtype=torch.long)}, TypeError, "thrust_to_weight"),
    ],
)
def test_quad_params_shapes_and_types(change, error, match):
    with pytest.raises(error, match=match):
        QuadParams(**{**vars(nominal_params(2)), **change})


@FAST
@given(value=NON_POSITIVE)
def test_payloads_check_their_numbers(value):
    with pytest.raises(ValueError, match="RopePayload.length"):
        RopePayload(length=value)
    with pytest.raises(ValueError, match="RopePayload.mass_ratio"):
        RopePayload(mass_ratio=value)
    with pytest.raises(ValueError, match="MassStep.factor"):
        MassStep(factor=value)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: MassStep(time=-1.0), ValueError, "MassStep.time"),
        (lambda: MassStep(time=math.nan), ValueError, "MassStep.time"),
        (lambda: MassStep(factor="2"), TypeError, "MassStep.factor"),
        (lambda: sample_params(2.0), TypeError, "n"),
        (lambda: sample_params(0), ValueError, "n"),
        (lambda: sample_params(2, "weird"), ValueError, "params"),
        (lambda: sample_params(2, dtype=torch.int64), ValueError, "dtype"),
        (lambda: nominal_params(-1), ValueError, "n"),
        (lambda: nominal_params(2, device="cuda:99"), ValueError, "device"),
    ],
)
def test_parameter_helpers_reject(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_env_calls_reject_bad_input_and_change_nothing():
    env = QuadrotorEnv(2, params="train")
    before = env.state
    with pytest.raises(ValueError, match=r"action must be \(2, 4\)"):
        env.step(torch.zeros(3, 4))
    with pytest.raises(ValueError, match="mask"):
        env.reset_done(torch.ones(3, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask"):
        env.reset_done(torch.ones(2))
    with pytest.raises(TypeError, match="seed"):
        env.reset(seed="1")
    with pytest.raises(TypeError, match="state"):
        env.state = {"p": torch.zeros(2, 3)}
    with pytest.raises(ValueError, match=r"state.q must be \(2, 4\)"):
        env.state = dataclasses.replace(before, q=torch.zeros(2, 3))
    with pytest.raises(ValueError, match="state.v of env 1"):
        env.state = dataclasses.replace(before, v=torch.tensor([[0.0, 0, 0], [math.nan, 0, 0]]))
    for name, value in vars(env.state).items():
        if value is not None:
            torch.testing.assert_close(value, getattr(before, name))


def test_nan_actions_are_counted_and_replaced_by_zero():
    env = QuadrotorEnv(2)
    action = env.hover_action()
    action[1, 1] = math.nan
    action[0, 2] = math.inf
    state, info = env.step(action)
    assert info["clipped_actions"].tolist() == [1, 1]
    assert torch.isfinite(state["p"]).all() and not info["diverged"].any()


@pytest.mark.parametrize("payload", [None, RopePayload()])
def test_divergence_says_which_quantity_of_which_env(payload):
    env = QuadrotorEnv(3, payload=payload)
    state = env.state
    omega = state.omega.clone()
    omega[1] = 1e30  # the rates overflow the attitude and everything downstream
    p = state.p.clone()
    p[2, 0] = 150.0
    env.state = dataclasses.replace(state, omega=omega, p=p)
    _, info = env.step(env.hover_action())
    assert info["diverged"].tolist() == [False, True, True]
    reasons = info["diverged_reason"]
    assert set(reasons) == {1, 2}
    assert reasons[1].startswith("non-finite") and "attitude quaternion q" in reasons[1]
    assert reasons[2] == "‖p‖ = 150 m > 100 m"
    _, info = env.step(env.hover_action())
    assert info["diverged_reason"] == {} and not info["diverged"].any()
