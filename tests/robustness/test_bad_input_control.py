"""Bad input at every public entry point of ``toolkit.control``: a clear ``TypeError`` or
``ValueError`` naming the argument, field or env index, never a silent wrong result."""

import dataclasses
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.control import policies
from toolkit.control.baselines import CascadedPID, GeometricController
from toolkit.control.comparison import (
    Scenario,
    compare,
    noise_ablation,
    record_flight,
    scenario_grid,
    summarize,
)
from toolkit.control.evaluate import rollout
from toolkit.control.internal_model import InternalModel, dyn_err, predict_next
from toolkit.control.ppo import Policy, PPOConfig, load, save, train
from toolkit.control.quadrotor import (
    TRAIN_RANGES,
    MassStep,
    QuadParams,
    QuadrotorEnv,
    RopePayload,
    nominal_params,
    sample_params,
)
from toolkit.control.task import TrackingTask
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


# ---------------------------------------------------------------------- task


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_envs": 0}, ValueError, "num_envs"),
        ({"trajectory": "spiral"}, ValueError, "trajectory"),
        ({"trajectory": []}, ValueError, "trajectory"),
        ({"trajectory": ["circle", 3]}, TypeError, "trajectory"),
        ({"obs_mode": "full"}, ValueError, "obs_mode"),
        ({"history": 0}, ValueError, "history"),
        ({"history": 2.0}, TypeError, "history"),
        ({"episode_seconds": 0.0}, ValueError, "episode_seconds"),
        ({"episode_seconds": math.nan}, ValueError, "episode_seconds"),
        ({"lookahead": 0.1}, TypeError, "lookahead"),
        ({"lookahead": (0.1, -0.2)}, ValueError, r"lookahead\[1\]"),
        ({"action_rate_coef": -0.01}, ValueError, "action_rate_coef"),
        ({"dyn_err_noise": math.inf}, ValueError, "dyn_err_noise"),
        ({"start_time_max": -1.0}, ValueError, "start_time_max"),
        ({"params": "oood"}, ValueError, "params"),
        ({"device": "cuda:99"}, ValueError, "device"),
        ({"seed": "0"}, TypeError, "seed"),
    ],
)
def test_task_constructor_rejects(kwargs, error, match):
    with pytest.raises(error, match=match):
        TrackingTask(**{"num_envs": 2, **kwargs})


def test_task_step_checks_the_action_shape_and_counts_nan_entries():
    task = TrackingTask(2, seed=1)
    before = task.generator.get_state()
    with pytest.raises(ValueError, match=r"action must be \(2, 4\)"):
        task.step(torch.zeros(4))
    assert torch.equal(task.generator.get_state(), before)  # nothing was drawn
    action = torch.zeros(2, 4)
    action[0, 1] = math.nan
    *_, info = task.step(action)
    assert info["clipped_actions"].tolist() == [1, 0]
    assert "diverged_reason" in info


# ---------------------------------------------------------------------- PPO


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("num_envs", 0, ValueError),
        ("rollout_steps", 1.5, TypeError),
        ("epochs", -1, ValueError),
        ("minibatches", 3, ValueError),
        ("total_steps", 10, ValueError),
        ("clip", 0.0, ValueError),
        ("clip", 1.5, ValueError),
        ("gamma", 1.01, ValueError),
        ("gamma", math.nan, ValueError),
        ("gae_lambda", -0.1, ValueError),
        ("lr", 0.0, ValueError),
        ("lr", "5e-4", TypeError),
        ("entropy_coef", -1e-3, ValueError),
        ("value_coef", math.inf, ValueError),
        ("max_grad_norm", 0.0, ValueError),
        ("init_std", -0.3, ValueError),
        ("obs_clip", 0.0, ValueError),
        ("hidden", 128, TypeError),
        ("hidden", (128, 0), ValueError),
    ],
)
def test_ppo_config_checks_every_field(field, value, error):
    base = {"num_envs": 4, "rollout_steps": 4, "minibatches": 2, "total_steps": 16}
    with pytest.raises(error, match=f"PPOConfig.{field}"):
        PPOConfig(**{**base, field: value})


@FAST
@given(lr=st.one_of(st.floats(max_value=0.0), NON_FINITE), gamma=st.floats(1.0001, 1e6))
def test_ppo_config_learning_rate_and_discount(lr, gamma):
    with pytest.raises(ValueError, match="PPOConfig.lr"):
        PPOConfig(lr=lr)
    with pytest.raises(ValueError, match="PPOConfig.gamma"):
        PPOConfig(gamma=gamma)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Policy(0, 4), ValueError, "obs_dim"),
        (lambda: Policy(4, 4.0), TypeError, "critic_dim"),
        (lambda: Policy(4, 4, hidden=(8, -1)), ValueError, r"hidden\[1\]"),
        (lambda: Policy(4, 4, init_std=0.0), ValueError, "init_std"),
        (lambda: Policy(4, 4, meta=["a"]), TypeError, "meta"),
        (lambda: Policy(4, 6).act(torch.zeros(2, 5)), ValueError, r"obs must be \(N, 4\)"),
        (lambda: Policy(4, 6).act([0.0] * 4), TypeError, "obs"),
        (lambda: train(TrackingTask(2), "fast"), TypeError, "config"),
        (lambda: train(42), TypeError, "task"),
        (lambda: train(TrackingTask(2), seed=-1), ValueError, "seed"),
        (lambda: save("policy", "x.pt"), TypeError, "policy"),
    ],
)
def test_ppo_entry_points_reject(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_train_names_minibatches_that_do_not_split_the_task():
    config = PPOConfig(num_envs=4, rollout_steps=3, minibatches=4, total_steps=12)
    with pytest.raises(ValueError, match="minibatches=4"):
        train(TrackingTask(3), config, progress=False)


def test_save_refuses_a_diverged_policy_and_keeps_the_good_file(tmp_path):
    path = save(Policy(4, 6), tmp_path / "policy.pt")
    good = path.read_bytes()
    broken = Policy(4, 6)
    with torch.no_grad():
        broken.actor[0].weight[0, 0] = math.nan
    with pytest.raises(ValueError, match="actor.0.weight"):
        save(broken, path)
    assert path.read_bytes() == good and sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert load(path).obs_dim == 4


# ---------------------------------------------------------------------- built-in policies


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: policies.load_policy("imc-ppo-square"), ValueError, "name must be one of"),
        (lambda: policies.load_policy(None), TypeError, "name"),
        (lambda: policies.load_policy("imc-ppo-circle", seed=-1), ValueError, "seed"),
        (lambda: policies.load_policy("imc-ppo-circle", total_steps=1.5), TypeError, "total_steps"),
        (lambda: policies.load_policy("imc-ppo-circle", total_steps=0), ValueError, "total_steps"),
        (lambda: policies.load_policy("imc-ppo-circle", rebuild="yes"), TypeError, "rebuild"),
        (lambda: policies.load_policy("imc-ppo-circle", device="cuda:99"), ValueError, "device"),
        (lambda: policies.policy_training_log("nope"), ValueError, "name"),
        (lambda: policies.evaluate(CascadedPID(), "task"), TypeError, "task"),
        (lambda: policies.evaluate(CascadedPID(), TrackingTask(2), steps=0), ValueError, "steps"),
        (lambda: policies.evaluate(object(), TrackingTask(2)), TypeError, "agent"),
    ],
)
def test_policy_entry_points_reject_before_touching_the_cache(call, error, match, monkeypatch):
    def no_cache(*args, **kwargs):
        raise AssertionError("the cache must not be touched")

    monkeypatch.setattr(policies, "ensure_entry", no_cache)
    with pytest.raises(error, match=match):
        call()


@FAST
@given(name=st.text(max_size=20).filter(lambda name: name not in policies.policy_names()))
def test_policy_recipe_rejects_any_unknown_name(name):
    with pytest.raises(ValueError, match="name"):
        policies.policy_recipe(name)


# ---------------------------------------------------------------------- comparison


@pytest.mark.parametrize(
    ("fields", "error", "match"),
    [
        (("square", "nominal", "none"), ValueError, "trajectory"),
        (("circle", "ODD", "none"), ValueError, "params"),
        (("circle", "nominal", "gust"), ValueError, "disturbance"),
        (("circle", None, "none"), ValueError, "params"),
        ((["circle"], "nominal", "none"), ValueError, "trajectory"),
    ],
)
def test_scenario_rejects_unknown_names(fields, error, match):
    with pytest.raises(error, match=match):
        Scenario(*fields)


SCENARIO = [Scenario("circle")]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"agents": []}, TypeError, "agents"),
        ({"agents": {}}, ValueError, "agents"),
        ({"scenarios": []}, ValueError, "scenarios"),
        ({"scenarios": Scenario()}, TypeError, "scenarios"),
        ({"scenarios": ["circle / nominal / none"]}, TypeError, r"scenarios\[0\]"),
        ({"seeds": []}, ValueError, "seeds"),
        ({"seeds": 0}, TypeError, "seeds"),
        ({"seeds": (0, -1)}, ValueError, r"seeds\[1\]"),
        ({"seeds": (0.5,)}, TypeError, r"seeds\[0\]"),
        ({"num_envs": 0}, ValueError, "num_envs"),
        ({"seconds": 0.0}, ValueError, "seconds"),
        ({"seconds": math.nan}, ValueError, "seconds"),
    ],
)
def test_compare_checks_the_protocol(kwargs, error, match):
    arguments = {"agents": {"pid": CascadedPID()}, "scenarios": SCENARIO, **kwargs}
    with pytest.raises(error, match=match):
        compare(progress=False, **arguments)


def test_scenario_grid_summarize_and_ablation_reject():
    with pytest.raises(ValueError, match="disturbance"):
        scenario_grid(disturbances=("none", "storm"))
    with pytest.raises(ValueError, match=r"rows\[0\] lacks \['agent'\]"):
        summarize([{"rmse_m": 1.0, "crash_fraction": 0.0}])
    with pytest.raises(ValueError, match="sigmas"):
        noise_ablation(Policy(4, 6), Scenario(), [])
    with pytest.raises(ValueError, match="dyn_err_noise"):
        noise_ablation(Policy(4, 6, meta={"obs_mode": "plain"}), Scenario(), [-1.0], num_envs=1)
    with pytest.raises(ValueError, match="steps"):
        record_flight(CascadedPID(), TrackingTask(1), steps=-2)


# ---------------------------------------------------------------------- rollout


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"env": "env"}, TypeError, "env"),
        ({"controller": 3}, TypeError, "controller"),
        ({"trajectory": "circle"}, TypeError, "trajectory"),
        ({"seconds": 0.0}, ValueError, "seconds"),
        ({"seconds": -1.0}, ValueError, "seconds"),
        ({"wind": (1.0, 2.0)}, ValueError, "wind"),
        ({"wind": (0.0, math.nan, 0.0)}, ValueError, "wind"),
        ({"wind": "east"}, TypeError, "wind"),
    ],
)
def test_rollout_rejects(kwargs, error, match):
    arguments = {"env": QuadrotorEnv(2), "controller": CascadedPID(), "trajectory": Hover()}
    arguments.update(kwargs)
    seconds = arguments.pop("seconds", 0.1)
    with pytest.raises(error, match=match):
        rollout(
            arguments.pop("env"),
            arguments.pop("controller"),
            arguments.pop("trajectory"),
            seconds,
            **arguments,
        )


def test_rollout_rmse_settle_and_divergence_reason():
    result = rollout(QuadrotorEnv(2), lambda state, ref: torch.ones(2, 4), Hover(), 0.5)
    with pytest.raises(ValueError, match="settle"):
        result.rmse(settle=1.0)
    with pytest.raises(ValueError, match="settle"):
        result.rmse(settle=math.nan)
    gale = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 1000.0]])  # env 1 is blown 100 m up
    result = rollout(QuadrotorEnv(2), CascadedPID(), Hover(), 1.0, wind=gale, record=False)
    assert result.crashed.tolist() == [False, True]
    assert list(result.diverged_reason) == [1]
    assert result.diverged_reason[1].startswith("‖p‖ = ")
