"""Bad input at every public entry point of ``toolkit.control``: a clear ``TypeError`` or
``ValueError`` naming the argument, field or env index, never a silent wrong result."""

import dataclasses
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.control.baselines import CascadedPID, GeometricController
from toolkit.control.internal_model import InternalModel, dyn_err, predict_next
from toolkit.control.quadrotor import (
    TRAIN_RANGES,
    MassStep,
    QuadParams,
    QuadrotorEnv,
    RopePayload,
    nominal_params,
    sample_params,
)
from toolkit.control.trajectories import Circle, Hover, Polynomial, Zigzag, make_trajectory

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


# ---------------------------------------------------------------------- trajectories


@FAST
@given(
    make=st.sampled_from(
        [
            lambda v: Circle(radius=v),
            lambda v: Circle(period=v),
            lambda v: Zigzag(period=v),
            lambda v: Zigzag(amplitude=v),
            lambda v: Polynomial(2, segment_time=v),
            lambda v: Polynomial(2, duration=v),
        ]
    ),
    value=NON_POSITIVE,
)
def test_trajectory_sizes_and_periods_must_be_positive(make, value):
    with pytest.raises(ValueError, match="radius|period|amplitude|segment_time|duration"):
        make(value)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Circle(radius="0.5"), TypeError, "radius"),
        (lambda: Hover(height=math.nan), ValueError, "height"),
        (lambda: Circle(yaw=math.inf), ValueError, "yaw"),
        (lambda: Circle(heading=torch.tensor([0.0, math.nan])), ValueError, r"heading\[1\]"),
        (lambda: Zigzag(speed=-1.0), ValueError, "speed"),
        (lambda: Zigzag(harmonics=0), ValueError, "harmonics"),
        (lambda: Zigzag(harmonics=2.5), TypeError, "harmonics"),
        (lambda: Polynomial(0), ValueError, "num_envs"),
        (lambda: Polynomial(2, extent=(1.0, 1.0)), ValueError, "extent"),
        (lambda: Polynomial(2, extent=(1.0, -1.0, 1.0)), ValueError, r"extent\[1\]"),
        (lambda: Polynomial(2, max_speed=math.nan), ValueError, "max_speed"),
        (lambda: Polynomial(2, max_accel=-2.0), ValueError, "max_accel"),
        (lambda: make_trajectory("star", 2), ValueError, "trajectory"),
        (lambda: make_trajectory(None, 2), TypeError, "trajectory"),
        (lambda: make_trajectory("circle", 2.0), TypeError, "num_envs"),
        (lambda: make_trajectory("circle", 2, device="cuda:99"), ValueError, "device"),
        (lambda: make_trajectory("circle", 2, radius=-1.0), ValueError, "radius"),
    ],
)
def test_trajectory_constructors_reject(make, error, match):
    with pytest.raises(error, match=match):
        make()


@FAST
@given(bad=NON_FINITE, index=st.integers(0, 2), name=st.sampled_from(["hover", "circle", "zigzag"]))
def test_trajectory_times_must_be_finite(bad, index, name):
    t = torch.zeros(3)
    t[index] = bad
    with pytest.raises(ValueError, match=rf"t\[{index}\] must be finite"):
        make_trajectory(name, 3)(t)


def test_polynomial_wants_one_time_per_env():
    traj = Polynomial(3, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match=r"t must hold one time per env, \(3,\)"):
        traj(torch.zeros(2))
    with pytest.raises(TypeError, match="t must be"):
        traj("soon")


# ---------------------------------------------------------------------- internal model


@FAST
@given(value=NON_POSITIVE, name=st.sampled_from(["mass", "max_thrust", "dt"]))
def test_internal_model_beliefs_must_be_positive(value, name):
    kwargs = {"mass": 0.5, "max_thrust": 15.0, name: value}
    with pytest.raises(ValueError, match=name):
        InternalModel(**kwargs)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: InternalModel(torch.tensor([0.5, -0.1]), 15.0), ValueError, r"mass\[1\]"),
        (lambda: InternalModel(0.5, torch.tensor([1, 2])), TypeError, "max_thrust"),
        (lambda: InternalModel(0.5, 15.0, (6.0, 6.0)), ValueError, "max_rate"),
        (lambda: InternalModel(0.5, 15.0, gravity=math.nan), ValueError, "gravity"),
        (lambda: InternalModel.from_params("nominal"), TypeError, "params"),
        (lambda: InternalModel.from_env(None), TypeError, "env"),
        (lambda: InternalModel(0.5, 15.0).command(torch.zeros(2, 3)), ValueError, "action"),
        (
            lambda: predict_next(*[torch.zeros(2, 3)] * 3, torch.ones(2), torch.zeros(2, 3), 1.0),
            ValueError,
            "q must be",
        ),
        (lambda: dyn_err({"p": torch.zeros(1, 3)}, {}), ValueError, "measured_next has no 'v'"),
    ],
)
def test_internal_model_rejects(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ---------------------------------------------------------------------- baselines


@FAST
@given(
    value=st.one_of(st.floats(max_value=-1e-9, allow_infinity=False), NON_FINITE),
    name=st.sampled_from(["kp", "ki", "kd", "k_att", "max_integral"]),
)
def test_pid_gains_must_be_finite_and_non_negative(value, name):
    with pytest.raises(ValueError, match=name):
        CascadedPID(**{name: value})


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: CascadedPID(k_att=(8.0, math.nan, 4.0)), ValueError, r"k_att\[1\]"),
        (lambda: CascadedPID(kp="16"), TypeError, "kp"),
        (lambda: CascadedPID(max_tilt=0.0), ValueError, "max_tilt"),
        (lambda: CascadedPID(max_tilt=2.0), ValueError, "max_tilt"),
        (lambda: CascadedPID(min_vertical_accel=0.0), ValueError, "min_vertical_accel"),
        (lambda: CascadedPID(dt=-0.02), ValueError, "dt"),
        (lambda: CascadedPID(mass=-0.5), ValueError, "mass"),
        (lambda: CascadedPID(max_thrust=math.inf), ValueError, "max_thrust"),
        (lambda: CascadedPID(params="train"), TypeError, "params"),
        (lambda: GeometricController(k_x=-1.0), ValueError, "k_x"),
        (lambda: GeometricController(k_v=math.nan), ValueError, "k_v"),
        (lambda: GeometricController(k_R=(1.0, 2.0)), ValueError, "k_R"),
        (lambda: GeometricController(max_rate=(6.0, 6.0, 0.0)), ValueError, r"max_rate\[2\]"),
        (lambda: GeometricController(gravity=-9.81), ValueError, "gravity"),
    ],
)
def test_controller_constructors_reject(make, error, match):
    with pytest.raises(error, match=match):
        make()


STATE = {"p": torch.zeros(2, 3), "v": torch.zeros(2, 3), "q": torch.tensor([[1.0, 0, 0, 0]] * 2)}
REF = Circle()(torch.zeros(2))


@pytest.mark.parametrize("controller", [CascadedPID, GeometricController])
@pytest.mark.parametrize(
    ("state", "ref", "error", "match"),
    [
        ({"p": torch.zeros(2, 3)}, REF, ValueError, "state has no 'v'"),
        ({**STATE, "q": torch.zeros(2, 3)}, REF, ValueError, r"state\['q'\]"),
        ({**STATE, "p": [0.0, 0.0, 0.0]}, REF, TypeError, r"state\['p'\]"),
        (STATE, {"p": torch.zeros(2, 3)}, ValueError, "ref has no 'v'"),
        (STATE, {**REF, "p": torch.zeros(3, 3)}, ValueError, r"ref\['p'\]"),
        (STATE, {**REF, "yaw": 0.0}, TypeError, r"ref\['yaw'\]"),
        (STATE, {**REF, "yaw": torch.zeros(3)}, ValueError, r"ref\['yaw'\]"),
    ],
)
def test_controllers_check_state_and_reference(controller, state, ref, error, match):
    with pytest.raises(error, match=match):
        controller().act(state, ref)
