"""Reference trajectories: analytic derivatives, shapes, geometry and seeded randomness."""

import math

import pytest
import torch

from toolkit.control.trajectories import (
    TRAJECTORIES,
    Circle,
    Polynomial,
    Zigzag,
    make_trajectory,
)

N = 16


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _seeded(name, seed=0, **kwargs):
    return make_trajectory(name, N, generator=torch.Generator().manual_seed(seed), **kwargs)


@pytest.mark.parametrize("name", TRAJECTORIES)
def test_shapes_and_start_point(name):
    ref = _seeded(name)(torch.zeros(N))
    assert set(ref) == {"p", "v", "a", "j", "yaw"}
    for key in "pvaj":
        assert ref[key].shape == (N, 3) and ref[key].dtype == torch.float32
    assert ref["yaw"].shape == (N,)
    torch.testing.assert_close(ref["p"], torch.tensor([0.0, 0.0, 1.0]).expand(N, 3))


@pytest.mark.parametrize("name", TRAJECTORIES)
def test_analytic_derivatives_match_finite_differences(name):
    traj = _seeded(name)
    t = torch.rand(N, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 12
    t = t + 0.01 * (t % 2 < 0.01)  # keep clear of the polynomial's knots (jerk jumps there)
    h = 1e-5
    ahead, now, behind = traj(t + h), traj(t), traj(t - h)
    for value, derivative in (("p", "v"), ("v", "a"), ("a", "j")):
        numeric = (ahead[value] - behind[value]) / (2 * h)
        scale = 1 + now[derivative].abs().max()
        torch.testing.assert_close(numeric, now[derivative], rtol=0, atol=1e-4 * scale)


def test_circle_radius_period_and_speed():
    circle = Circle(radius=0.5, period=2.0, height=1.0)
    t = torch.linspace(0, 2, 101)
    ref = circle(t)
    centre = torch.tensor([0.0, 0.5, 1.0])
    torch.testing.assert_close((ref["p"] - centre).norm(dim=1), torch.full((101,), 0.5))
    torch.testing.assert_close(ref["p"][-1], ref["p"][0], atol=1e-6, rtol=0)
    torch.testing.assert_close(ref["v"].norm(dim=1), torch.full((101,), 0.5 * math.pi))
    torch.testing.assert_close(ref["a"].norm(dim=1), torch.full((101,), 0.5 * math.pi**2))
    assert (ref["p"][:, 2] == 1.0).all()


def test_random_heading_rotates_the_circle_about_the_start_point():
    heading = torch.tensor([0.0, math.pi / 2])
    ref = Circle(heading=heading)(torch.full((2,), 0.5))  # a quarter turn
    torch.testing.assert_close(ref["p"][:, :2], torch.tensor([[0.5, 0.5], [-0.5, 0.5]]))


def test_zigzag_corners_reach_the_amplitude_with_bounded_velocity():
    zigzag = Zigzag(amplitude=0.5, period=3.0, speed=0.5)
    corners = zigzag(torch.tensor([0.75, 2.25]))
    torch.testing.assert_close(corners["p"][:, 1], torch.tensor([0.5, -0.5]))
    torch.testing.assert_close(corners["p"][:, 0], torch.tensor([0.375, 1.125]))
    ref = zigzag(torch.linspace(0, 6, 601))
    bound = (0.5 / (1 + 1 / 9 + 1 / 25)) * (2 * math.pi / 3) * (1 + 1 / 3 + 1 / 5)
    assert ref["v"][:, 1].abs().max() <= bound + 1e-6
    assert ref["p"][:, 1].abs().max() <= 0.5 + 1e-6
    assert (ref["v"][:, 0] == 0.5).all()


def test_polynomial_is_seeded_smooth_bounded_and_holds_at_the_end():
    a, b, c = _seeded("polynomial", 3), _seeded("polynomial", 3), _seeded("polynomial", 4)
    t = torch.linspace(0, 9.9, N)
    for key in "pvaj":
        assert torch.equal(a(t)[key], b(t)[key])
    assert not torch.equal(a(t)["p"], c(t)["p"])
    knots = torch.arange(0, a.duration + 1e-6, a.segment_time)
    start = torch.tensor([0.0, 0.0, 1.0])
    for knot in knots.tolist():
        before, after = a(torch.full((N,), knot - 1e-4)), a(torch.full((N,), knot + 1e-4))
        for key, tol in (("p", 1e-3), ("v", 1e-2), ("a", 0.1)):
            torch.testing.assert_close(before[key], after[key], atol=tol, rtol=0)
        offset = (a(torch.full((N,), knot))["p"] - start).abs()
        assert (offset <= torch.tensor([1.0, 1.0, 0.5]) + 1e-5).all()
    rest = a(torch.full((N,), 0.0))
    held, later = a(torch.full((N,), a.duration)), a(torch.full((N,), a.duration + 5))
    assert rest["v"].abs().max() == 0 and rest["a"].abs().max() == 0
    for key in "vaj":
        assert later[key].abs().max() == 0
    torch.testing.assert_close(held["p"], later["p"])


def test_polynomial_duration_rounds_up_to_whole_segments():
    assert Polynomial(2, segment_time=2.0, duration=7.0).duration == 8.0


def test_make_trajectory_is_deterministic_and_rejects_unknown_names():
    t = torch.full((N,), 1.3)
    torch.testing.assert_close(_seeded("zigzag", 5)(t)["p"], _seeded("zigzag", 5)(t)["p"])
    headings = _seeded("circle").heading
    assert headings.shape == (N,) and headings.std() > 0.5
    assert make_trajectory("circle", N).heading == 0.0
    with pytest.raises(ValueError, match="trajectory must be one of"):
        make_trajectory("star", N)
