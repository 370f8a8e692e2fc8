"""TrajectoryView on the Python side: binary state, default errors, crashes, live traits,
validation, and building from recorded rollouts."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
import traitlets
from ipywidgets.widgets.widget import _remove_buffers

from toolkit.control.baselines import GeometricController
from toolkit.control.evaluate import CRASH_DISTANCE, rollout
from toolkit.control.quadrotor import QuadrotorEnv
from toolkit.control.trajectories import Circle
from widgets.base import from_float32_bytes
from widgets.trajectory_view import SPEEDS, TrajectoryView

T = 6
DT = 0.02
LABELS = ["geometric", "PID", "IMC-PPO"]


def reference() -> np.ndarray:
    """(T, 3): along x at 1 m/s, 1 m up."""
    k = np.arange(T)
    return np.stack([k * DT, np.zeros(T), np.ones(T)], axis=-1)


def offsets() -> np.ndarray:
    """(C, T, 3): track c is off the reference by (0, 0.1 c, 0) plus (0, 0, 0.01 k), so
    ‖e_c(t_k)‖ = sqrt((0.1 c)² + (0.01 k)²)."""
    c, k = np.meshgrid(np.arange(len(LABELS)), np.arange(T), indexing="ij")
    return np.stack([np.zeros_like(c), 0.1 * c, 0.01 * k], axis=-1).astype(float)


def expected_error() -> np.ndarray:
    c, k = np.meshgrid(np.arange(len(LABELS)), np.arange(T), indexing="ij")
    return np.hypot(0.1 * c, 0.01 * k)


def make_view(**kwargs) -> TrajectoryView:
    args = {"reference": reference(), "actual": reference() + offsets(), "dt": DT}
    args |= {"labels": LABELS} | kwargs
    return TrajectoryView(**args)


def sent_buffers(view: TrajectoryView) -> dict[str, np.ndarray]:
    state, paths, buffers = _remove_buffers(view.get_state())
    assert all(name not in state for name in ("_reference", "_actual", "_error"))
    return {path[0]: from_float32_bytes(b) for path, b in zip(paths, buffers, strict=True)}


def test_traits_and_float32_buffers():
    view = make_view(title="Circle")
    assert (view.title, view.labels, view.steps, view.dt, view.t0) == ("Circle", LABELS, T, DT, 0)
    assert view.ends == [T, T, T]
    assert view.speeds == list(SPEEDS)
    assert (view.time_index, view.playing, view.speed, view.visible) == (0, False, 1.0, [True] * 3)
    sent = sent_buffers(view)
    assert set(sent) == {"_reference", "_actual", "_error"}
    assert all(a.dtype == np.float32 for a in sent.values())
    np.testing.assert_array_equal(sent["_reference"], np.float32(reference()).ravel())
    np.testing.assert_array_equal(sent["_actual"], np.float32(reference() + offsets()).ravel())
    np.testing.assert_allclose(sent["_error"], expected_error().ravel(), rtol=1e-6)


def test_one_track_and_a_given_error():
    error = np.linspace(0, 1, T)
    view = TrajectoryView(reference(), reference() + offsets()[1], dt=DT, error=error)
    assert view.labels == ["actual"]
    assert view.ends == [T]
    np.testing.assert_array_equal(sent_buffers(view)["_error"], np.float32(error))
    assert make_view(labels=None).labels == ["track 0", "track 1", "track 2"]


def test_trailing_nan_rows_end_a_track():
    actual = reference() + offsets()
    actual[1, 4:] = np.nan  # PID crashed: steps 4 and 5 are gone
    error = expected_error()
    error[1, 4:] = 99.0  # ignored after the crash
    for view in (make_view(actual=actual), make_view(actual=actual, error=error)):
        assert view.ends == [T, 4, T]
        shown = sent_buffers(view)["_error"].reshape(3, T)
        assert np.isnan(shown[1, 4:]).all()
        np.testing.assert_allclose(shown[1, :4], expected_error()[1, :4], rtol=1e-6)
        np.testing.assert_allclose(shown[[0, 2]], expected_error()[[0, 2]], rtol=1e-6)
        assert np.isnan(sent_buffers(view)["_actual"].reshape(3, T, 3)[1, 4:]).all()
        view.time_index = 4
        current = view.current_error
        assert math.isnan(current["PID"])
        assert current["IMC-PPO"] == pytest.approx(math.hypot(0.2, 0.04), rel=1e-6)


def test_time_index_playing_speed_and_visible_from_python():
    view = make_view(t0=0.02)
    view.time_index = T - 1
    assert view.time == pytest.approx(0.02 + (T - 1) * DT)
    assert view.current_error["PID"] == pytest.approx(math.hypot(0.1, 0.05), rel=1e-6)
    view.playing, view.speed, view.visible = True, 4, [True, False, True]
    state = view.get_state()
    assert (state["time_index"], state["playing"], state["speed"]) == (T - 1, True, 4.0)
    assert state["visible"] == [True, False, True]
    with pytest.raises(traitlets.TraitError, match=r"time_index must be a step in \[0, 5\], got 6"):
        view.time_index = T
    with pytest.raises(traitlets.TraitError, match=r"got -1"):
        view.time_index = -1
    assert view.time_index == T - 1
    with pytest.raises(traitlets.TraitError, match=r"speed must be one of \(0.25, 1.0, 4.0\)"):
        view.speed = 2
    with pytest.raises(traitlets.TraitError, match=r"visible must hold one bool per track \(3\)"):
        view.visible = [True]


def test_data_traits_are_read_only():
    view = make_view()
    for name in ("labels", "steps", "dt", "t0", "ends", "speeds", "_reference", "_actual"):
        with pytest.raises(traitlets.TraitError, match="read-only"):
            setattr(view, name, 1)


def test_two_thousand_steps_of_four_tracks():
    steps = 2000
    k = np.arange(steps)[:, None]
    ref = np.hstack([np.sin(k * DT), np.cos(k * DT), np.ones((steps, 1))])
    view = TrajectoryView(ref, np.stack([ref + 0.01 * c for c in range(4)]), dt=DT)
    assert len(sent_buffers(view)["_actual"]) == 4 * steps * 3
    np.testing.assert_allclose(
        sent_buffers(view)["_error"].reshape(4, steps)[:, -1],
        [0.01 * c * math.sqrt(3) for c in range(4)],
        atol=1e-6,
    )


def with_nan(track: int, step: int, axes=slice(None)) -> np.ndarray:
    actual = reference() + offsets()
    actual[track, step, axes] = np.nan
    return actual


def with_value(track: int, step: int, value: float) -> np.ndarray:
    actual = reference() + offsets()
    actual[track, step, 0] = value
    return actual


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reference": reference()[:1], "actual": reference()[:1]}, r"reference has 1 step\(s\)"),
        ({"reference": reference()[:, :2]}, r"reference has 2 values along axis 1 for 3 xyz"),
        ({"reference": np.ones(T)}, r"reference must be 2-D with axes \(steps, xyz\)"),
        (
            {"reference": np.where(np.eye(T, 3) > 0, np.nan, reference())},
            r"reference has a non-finite value \(nan\) at index \(0, 0\)",
        ),
        ({"actual": reference()[:-1]}, r"actual must be \(T, 3\) or \(C, T, 3\) with T = 6 .*"
         r"got shape \(5, 3\)"),
        ({"actual": np.ones((0, T, 3))}, r"C >= 1 tracks, got shape \(0, 6, 3\)"),
        ({"actual": np.ones((1, 1, T, 3))}, r"got shape \(1, 1, 6, 3\)"),
        (
            {"actual": with_nan(1, 2)},
            r"actual\[1\] \('PID'\) is NaN at step 2 but finite again at step 3; NaN is allowed"
            r" only in the rows at the end",
        ),
        (
            {"actual": with_nan(2, 5, 1)},
            r"actual\[2\] \('IMC-PPO'\) is NaN in some coordinates of step 5 but not all",
        ),
        ({"actual": with_nan(0, slice(None))}, r"actual\[0\] \('geometric'\) is NaN from step 0"),
        (
            {"actual": with_value(1, 3, np.inf)},
            r"actual\[1\] \('PID'\) has an infinite value at step 3 \(axis 0\)",
        ),
        ({"actual": with_value(0, 1, 1e39)}, r"actual value 1e\+39 at index \(0, 1, 0\) does not"),
        ({"labels": ["a", "b"]}, r"labels has 2 names for 3 tracks in actual"),
        ({"labels": ["a", "b", "a"]}, r"labels must be distinct, got \['a', 'b', 'a'\]"),
        ({"dt": 0}, r"dt is 0.0; expected a finite number > 0"),
        ({"dt": -0.02}, r"dt is -0.02; expected a finite number > 0"),
        ({"dt": np.nan}, r"dt is nan; expected a finite number > 0"),
        ({"dt": [0.02]}, r"dt must be one number, got shape \(1,\)"),
        ({"t0": np.inf}, r"t0 is inf; expected a finite number"),
        ({"error": np.ones((3, T - 1))}, r"error must be \(C, T\) = \(3, 6\), .* got shape"),
        ({"error": np.ones(T)}, r"error must be \(C, T\) = \(3, 6\)"),
        (
            {"error": np.where(np.eye(3, T, 2) > 0, np.nan, 1.0)},
            r"error\[0\] is nan at step 2; expected a finite distance >= 0 \[m\]",
        ),
        ({"error": -np.ones((3, T))}, r"error\[0\] is -1.0 at step 0; expected a finite distance"),
    ],
)  # fmt: skip
def test_bad_input_is_named_in_the_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_view(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"actual": [["a", "b", "c"]] * T}, r"actual must hold real numbers"),
        ({"labels": "abc"}, r"labels must be a sequence of names, got one str"),
        ({"labels": ["a", 2, "c"]}, r"labels\[1\] is int 2; expected str"),
    ],
)  # fmt: skip
def test_wrong_types_raise_type_error(kwargs, message):
    with pytest.raises(TypeError, match=message):
        make_view(**kwargs)


@pytest.fixture(scope="module")
def rollouts() -> dict:
    """1.4 s (70 steps) of two envs on the circle: the geometric controller, and a
    "controller" that cuts the thrust, falls and crosses the crash distance around 1 s."""
    env = QuadrotorEnv(2)
    circle = Circle()
    cut = lambda state, ref: torch.full((2, 4), -1.0)  # noqa: E731 (a one-line controller)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # far faster on a shared CPU for 2 envs (see QuadrotorEnv)
    try:
        return {
            "geometric": rollout(env, GeometricController(env.params), circle, 1.4),
            "no thrust": rollout(env, cut, circle, 1.4),
        }
    finally:
        torch.set_num_threads(threads)


def test_from_rollouts_takes_positions_errors_and_crashes(rollouts):
    geometric, falling = rollouts["geometric"], rollouts["no thrust"]
    view = TrajectoryView.from_rollouts(None, rollouts, env_index=1, title="circle")
    assert view.labels == ["geometric", "no thrust"]
    assert (view.steps, view.title) == (70, "circle")
    assert view.dt == pytest.approx(0.02) and view.t0 == pytest.approx(0.02)
    crash = int(np.argmax(falling.error_norm[:, 1].numpy() > CRASH_DISTANCE))
    assert bool(falling.crashed[1]) and 0 < crash < 70
    assert view.ends == [70, crash]
    sent = sent_buffers(view)
    np.testing.assert_array_equal(sent["_reference"], geometric.reference[:, 1].numpy().ravel())
    track = sent["_actual"].reshape(2, 70, 3)
    np.testing.assert_array_equal(track[0], geometric.position[:, 1].numpy())
    np.testing.assert_array_equal(track[1, :crash], falling.position[:crash, 1].numpy())
    assert np.isnan(track[1, crash:]).all()
    error = sent["_error"].reshape(2, 70)
    np.testing.assert_array_equal(error[0], geometric.error_norm[:, 1].numpy())
    view.time_index = 10
    assert view.time == pytest.approx(0.22)


def test_from_rollouts_errors(rollouts):
    with pytest.raises(ValueError, match=r"rollouts is empty"):
        TrajectoryView.from_rollouts(None, {})
    with pytest.raises(ValueError, match=r"env_index is 2; rollouts\['geometric'\] has 2 envs"):
        TrajectoryView.from_rollouts(None, rollouts, env_index=2)
    unrecorded = {"pid": dataclasses.replace(rollouts["geometric"], position=None)}
    with pytest.raises(ValueError, match=r"rollouts\['pid'\] has no recorded position; run"):
        TrajectoryView.from_rollouts(None, unrecorded)
    with pytest.raises(ValueError, match=r"with T = 3 steps \(the reference's\) .* \(2, 70, 3\)"):
        TrajectoryView.from_rollouts(np.zeros((3, 3)), rollouts)
