"""Physics, disturbances, randomization and the vector API of the batched quadrotor."""

import dataclasses
import math

import pytest
import torch

from toolkit.control.quadrotor import (
    GRAVITY,
    OOD_RANGES,
    PARAM_NAMES,
    TRAIN_RANGES,
    MassStep,
    QuadrotorEnv,
    RopePayload,
    nominal_params,
    sample_params,
)


def _random_actions(steps, n, seed=0, scale=1.0):
    gen = torch.Generator().manual_seed(seed)
    return scale * (2 * torch.rand(steps, n, 4, generator=gen) - 1)


@pytest.mark.parametrize("params", [None, "train"])
def test_hover_holds_with_thrust_equal_to_weight(params):
    env = QuadrotorEnv(8, params=params)
    for _ in range(100):  # 2 s
        state, info = env.step(env.hover_action())
    assert state["p"].abs().max() < 1e-3
    assert (state["q"] - torch.tensor([1.0, 0, 0, 0])).abs().max() < 1e-6
    torch.testing.assert_close(state["time"], torch.full((8,), 2.0))
    assert not info["diverged"].any() and not info["clipped_actions"].any()


def test_hover_action_commands_weight():
    env = QuadrotorEnv(16, params="ood")
    thrust = (env.hover_action()[:, 0] + 1) / 2 * env.params.max_thrust()
    torch.testing.assert_close(thrust, env.params.mass * GRAVITY)


def test_free_fall_matches_gravity():
    env = QuadrotorEnv(3, params="train")
    env.state = dataclasses.replace(env.state, thrust=torch.zeros(3, 4))
    cut = torch.tensor([-1.0, 0.0, 0.0, 0.0]).expand(3, 4)
    for _ in range(50):
        state, _ = env.step(cut)
    t = 50 * env.dt_control
    close = dict(rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(state["p"][:, 2], torch.full((3,), -0.5 * GRAVITY * t**2), **close)
    torch.testing.assert_close(state["v"][:, 2], torch.full((3,), -GRAVITY * t), **close)
    assert state["p"][:, :2].abs().max() < 1e-6


def test_quaternions_stay_normalized_under_random_actions():
    env = QuadrotorEnv(64, params="ood", wind=True)
    worst = 0.0
    for action in _random_actions(400, 64):
        state, _ = env.step(action)
        worst = max(worst, (state["q"].norm(dim=1) - 1).abs().max().item())
        assert torch.isfinite(state["p"]).all()
    assert worst < 1e-5


def test_body_rates_track_commands():
    env = QuadrotorEnv(3)
    action = env.hover_action()
    action[:, 1:] = torch.eye(3) * 0.2
    for _ in range(25):
        state, _ = env.step(action)
    torch.testing.assert_close(state["omega"], torch.eye(3) * 0.2 * env.max_rate, atol=5e-3, rtol=0)


def test_nan_and_out_of_range_actions_are_clipped_and_counted():
    env = QuadrotorEnv(4)
    reference = QuadrotorEnv(4)
    nan, inf = float("nan"), float("inf")
    bad = torch.tensor(
        [[nan, nan, 0.1, 0.0], [3.0, 0.0, 0.0, 0.0], [0.0, -inf, 0.0, 0.0], [0.1, 0.2, -0.3, 1.0]]
    )
    clean = torch.tensor(
        [[0.0, 0.0, 0.1, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.1, 0.2, -0.3, 1.0]]
    )
    for _ in range(5):
        state, info = env.step(bad)
        expected, _ = reference.step(clean)
        assert info["clipped_actions"].tolist() == [2, 1, 1, 0]
        assert not info["diverged"].any()
    for key, value in state.items():
        assert torch.isfinite(value).all()
        torch.testing.assert_close(value, expected[key], rtol=0, atol=0)


def test_diverged_envs_are_reset_and_flagged():
    env = QuadrotorEnv(4, params="train", seed=2)
    for _ in range(3):
        env.step(env.hover_action())
    state = env.state
    p, v, w = state.p.clone(), state.v.clone(), state.omega.clone()
    v[1, 0] = 3e38  # finite in float32, overflows within the step
    w[2, 0] = 1e4
    p[3, 0] = 1e3
    env.state = dataclasses.replace(state, p=p, v=v, omega=w)
    params_before = env.params.mass.clone()
    state, info = env.step(env.hover_action())
    assert info["diverged"].tolist() == [False, True, True, True]
    reasons = info["diverged_reason"]
    assert sorted(reasons) == [1, 2, 3]
    assert reasons[1] == "non-finite position p"
    assert "‖ω‖ = 9999 rad/s > 100 rad/s" in reasons[2]
    assert reasons[3] == "‖p‖ = 1000 m > 100 m"
    torch.testing.assert_close(state["time"], torch.tensor([0.08, 0.0, 0.0, 0.0]))
    assert torch.isfinite(torch.cat([v.flatten() for v in state.values()])).all()
    assert state["p"][1:].abs().max() == 0 and state["omega"][1:].abs().max() == 0
    assert env.params.mass[0] == params_before[0]  # the healthy env keeps its parameters
    assert (env.params.mass[1:] != params_before[1:]).all()  # reset envs are re-randomized
    _, info = env.step(env.hover_action())
    assert not info["diverged"].any()


def test_same_seed_same_tensors_different_seed_different_params():
    def run(seed):
        env = QuadrotorEnv(16, params="train", wind=True, seed=seed)
        for action in _random_actions(30, 16, scale=0.3):
            state, _ = env.step(action)
        return env, state

    (env_a, state_a), (env_b, state_b) = run(7), run(7)
    for key in state_a:
        assert torch.equal(state_a[key], state_b[key]), key
    for name in PARAM_NAMES:
        assert torch.equal(getattr(env_a.params, name), getattr(env_b.params, name))
    env_c, _ = run(8)
    assert not torch.equal(env_a.params.mass, env_c.params.mass)
    env_a.reset(seed=7)
    assert torch.equal(env_a.params.mass, QuadrotorEnv(16, params="train", seed=7).params.mass)


@pytest.mark.parametrize("ranges", [TRAIN_RANGES, OOD_RANGES], ids=["train", "ood"])
def test_sample_params_respects_ranges(ranges):
    params = sample_params(4000, ranges, torch.Generator().manual_seed(0))
    for name in PARAM_NAMES:
        lo, hi = ranges[name]
        value = getattr(params, name)
        assert value.shape == (4000,)
        assert lo <= value.min() and value.max() <= hi, name
        assert value.min() < lo + 0.02 * (hi - lo) and value.max() > hi - 0.02 * (hi - lo), name


def test_ood_ranges_contain_train_ranges_and_env_uses_them():
    for name in PARAM_NAMES:
        assert OOD_RANGES[name][0] < TRAIN_RANGES[name][0] < TRAIN_RANGES[name][1]
        assert TRAIN_RANGES[name][1] < OOD_RANGES[name][1]
    env = QuadrotorEnv(256, params="ood")
    assert env.params.mass.max() > TRAIN_RANGES["mass"][1] or env.params.mass.min() < 0.142
    with pytest.raises(ValueError):
        QuadrotorEnv(2, params="nope")


def test_nominal_params_and_derived_quantities():
    params = nominal_params(2)
    torch.testing.assert_close(params.mass, torch.full((2,), 0.546))
    inertia = params.inertia()
    assert inertia.shape == (2, 3) and (inertia[:, 2] > inertia[:, 0]).all()
    alpha = params.motor_alpha
    decay = torch.exp(-0.02 / params.motor_time_constant())
    torch.testing.assert_close(1 - decay, alpha)  # one control step of the filter is α


def test_motor_filter_moves_alpha_of_the_way_per_control_step():
    env = QuadrotorEnv(2, params="train")
    before = env.state.thrust.clone()
    action = env.hover_action()
    action[:, 0] = 1.0  # full thrust, zero rates
    state, _ = env.step(action)
    target = (env.params.max_thrust() / 4)[:, None]
    fraction = (state["thrust"] - before) / (target - before)
    torch.testing.assert_close(
        fraction, env.params.motor_alpha[:, None].expand(2, 4), rtol=1e-4, atol=0
    )


def test_wind_is_bounded_and_walks():
    env = QuadrotorEnv(512, wind=True, seed=3)
    start = env.wind.clone()
    assert start.abs().max() <= 3.3 and start.abs().max() > 3.0
    for _ in range(50):
        state, _ = env.step(env.hover_action())
    change = state["wind"] - start
    assert state["wind"].abs().max() <= 3.3
    assert 0.5 < change.std() / (env.wind_walk_std * math.sqrt(50)) < 1.5
    assert QuadrotorEnv(4).wind.abs().max() == 0


def test_mass_step_changes_true_mass_at_its_time():
    env = QuadrotorEnv(2, payload=MassStep(time=0.1, factor=2.0))
    masses = [env.step(env.hover_action())[0]["mass"][0].item() for _ in range(8)]
    assert masses[:4] == [pytest.approx(0.546)] * 4 and masses[4:] == [pytest.approx(1.092)] * 4
    assert env.state.v[:, 2].max() < -0.1  # hover thrust no longer holds the heavier vehicle


def test_rope_pendulum_swings_conserves_energy_and_keeps_its_length():
    length, ratio = 0.5, 0.2
    env = QuadrotorEnv(2, payload=RopePayload(length=length, mass_ratio=ratio))
    m = env.params.mass
    m_p, total = ratio * m, (1 + ratio) * m
    angle = math.radians(30)
    rope = torch.tensor([[math.sin(angle), 0.0, -math.cos(angle)]]).expand(2, 3) * length
    env.state = dataclasses.replace(
        env.state, rope_r=rope, thrust=(total * GRAVITY / 4)[:, None].expand(2, 4)
    )
    action = env.hover_action(total)  # constant vertical force F = (m + m_p)·g on the vehicle

    def energy(s):
        v_p = s["v"] + s["rope_rdot"]
        kinetic = 0.5 * m * (s["v"] ** 2).sum(1) + 0.5 * m_p * (v_p**2).sum(1)
        height = s["p"][:, 2]
        return (
            kinetic
            + GRAVITY * (m * height + m_p * (height + s["rope_r"][:, 2]))
            - (total * GRAVITY * height)
        )

    state = vars(env.state)
    e0, xs, drift, stretch, momentum = energy(state), [], 0.0, 0.0, 0.0
    for _ in range(100):  # 2 s, more than one period (≈ 1.4 s)
        state, _ = env.step(action)
        xs.append(state["rope_r"][0, 0].item())
        drift = max(drift, (energy(state) - e0).abs().max().item())
        stretch = max(stretch, (state["rope_r"].norm(dim=1) - length).abs().max().item())
        px = m * state["v"][:, 0] + m_p * (state["v"][:, 0] + state["rope_rdot"][:, 0])
        momentum = max(momentum, px.abs().max().item())
    swing_energy = (m_p * GRAVITY * length * (1 - math.cos(angle))).min().item()
    assert min(xs) < -0.2 < 0.2 < max(xs)  # it swings through to the other side
    assert drift < 0.01 * swing_energy
    assert stretch < 1e-4 * length
    assert momentum < 1e-5
    assert env.state.omega.abs().max() < 1e-6  # attached at the centre of mass: no torque


def test_rope_payload_hangs_at_rest_under_total_weight():
    env = QuadrotorEnv(2, payload=RopePayload(length=0.3, mass_ratio=0.5))
    total = 1.5 * env.params.mass
    env.state = dataclasses.replace(env.state, thrust=(total * GRAVITY / 4)[:, None].expand(2, 4))
    for _ in range(50):
        state, _ = env.step(env.hover_action(total))
    assert state["p"].abs().max() < 1e-4
    torch.testing.assert_close(state["rope_r"], torch.tensor([[0.0, 0.0, -0.3]] * 2))


def test_reset_done_resets_only_masked_envs():
    env = QuadrotorEnv(4, params="train", wind=True)
    for action in _random_actions(10, 4, scale=0.3):
        env.step(action)
    before, mass, wind = env.state, env.params.mass.clone(), env.wind.clone()
    mask = torch.tensor([True, False, True, False])
    env.reset_done(mask)
    after = env.state
    assert after.p[mask].abs().max() == 0 and torch.equal(after.p[~mask], before.p[~mask])
    assert torch.equal(env.params.mass[~mask], mass[~mask])
    assert (env.params.mass[mask] != mass[mask]).all() and (env.wind[mask] != wind[mask]).all()
    assert env.time.tolist() == pytest.approx([0.0, 0.2, 0.0, 0.2])


def test_state_dict_reference_and_motor_speeds():
    env = QuadrotorEnv(3, reference=lambda t: torch.stack([t, 0 * t, 0 * t], dim=1))
    state, info = env.reset()
    assert set(state) == {"p", "v", "q", "omega", "thrust", "wind", "mass", "time", "reference"}
    assert set(info) == {"clipped_actions", "diverged", "diverged_reason"}
    state, _ = env.step(env.hover_action())
    torch.testing.assert_close(state["reference"][:, 0], torch.full((3,), 0.02))
    speeds = env.motor_speeds()
    torch.testing.assert_close(speeds**2 * env.params.kf()[:, None], state["thrust"])
    with pytest.raises(ValueError):
        env.step(torch.zeros(2, 4))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu():
    params = sample_params(32, "train", torch.Generator().manual_seed(5))
    envs = [QuadrotorEnv(32, params=params, device=d) for d in ("cpu", "cuda")]
    for action in _random_actions(50, 32, scale=0.3):
        cpu, _ = envs[0].step(action)
        gpu, _ = envs[1].step(action.cuda())
    for key in ("p", "v", "q", "omega"):
        torch.testing.assert_close(gpu[key].cpu(), cpu[key], atol=1e-4, rtol=1e-4)
