"""TrajectoryView: quadrotor tracks in 3D against their reference, with playback.

Notebook 04 (Neural Internal Model Control, Gao et al., arXiv 2411.13079) flies several
controllers (geometric, PID, IMC-PPO, plain PPO) along one reference ``p_d(t)`` and compares
how closely each follows it. The view draws, on a canvas with no third-party JS:

- the reference ``p_d(t_k)`` as a dashed grey line, and each controller's positions
  ``p_c(t_k)`` as a line whose segments are colored by the tracking error
  ``e_c(t_k) = ‖p_c(t_k) − p_d(t_k)‖`` [m] on one sequential scale shared by every track
  (color bar in meters), over a ground grid with meter ticks at z = 0 (or at the lowest
  point, if lower). Drag to orbit, wheel to zoom, double-click to reset the view; the
  legend toggles tracks.
- a playhead at step k (time ``t_k = t0 + k·dt``): a marker with a short trail for the
  reference and for each shown vehicle, and each track's error ``e_c(t_k)`` in the legend.
  Play/pause, a time slider and a speed menu (0.25×, 1×, 4× real time) move it.

A rollout that ends early (the vehicle crashed) has NaN positions from the crash on: the
track ends there with a × and its legend entry reads "crashed at t".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import traitlets

from toolkit.control.evaluate import CRASH_DISTANCE
from widgets.base import (
    WidgetBase,
    as_numeric_array,
    check_float32_range,
    check_number,
    check_str_list,
    float32_bytes,
    from_float32_bytes,
    validated_float_array,
)

SPEEDS = (0.25, 1.0, 4.0)  # playback speeds, × real time


def _check_actual(actual: object, steps: int) -> np.ndarray:
    """``actual`` as a float64 (C, T, 3) array: a (T, 3) track becomes C = 1."""
    array = as_numeric_array(actual, "actual").astype(np.float64)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[1:] != (steps, 3) or not len(array):
        raise ValueError(
            f"actual must be (T, 3) or (C, T, 3) with T = {steps} steps (the reference's) "
            f"and C >= 1 tracks, got shape {np.shape(actual)}"
        )
    check_float32_range(np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0), "actual")
    return array


def _live_steps(track: np.ndarray, label: str) -> int:
    """How many steps ``track`` (T, 3) flew: rows before its trailing NaN rows (a crash).

    Raises ValueError for an infinite value, a row NaN in some coordinates only, NaN before
    a finite row, or a track NaN from its first step.
    """
    inf = np.argwhere(np.isinf(track))
    if len(inf):
        k, axis = inf[0]
        raise ValueError(
            f"{label} has an infinite value at step {k} (axis {axis}); only trailing NaN rows "
            "(a crash) are allowed"
        )
    nan = np.isnan(track)
    partial = np.flatnonzero(nan.any(1) & ~nan.all(1))
    if len(partial):
        raise ValueError(
            f"{label} is NaN in some coordinates of step {partial[0]} but not all; a crashed "
            "step is NaN in x, y and z"
        )
    dead = nan.all(1)
    end = int(np.argmax(dead)) if dead.any() else len(track)
    if end == 0:
        raise ValueError(f"{label} is NaN from step 0; a track needs at least one position")
    alive_after = np.flatnonzero(~dead[end:])
    if len(alive_after):
        raise ValueError(
            f"{label} is NaN at step {end} but finite again at step {end + alive_after[0]}; "
            "NaN is allowed only in the rows at the end of a track (after a crash)"
        )
    return end


def _check_error(error: object, shape: tuple[int, int], ends: Sequence[int]) -> np.ndarray:
    """``error`` as float64 (C, T): finite and >= 0 on each track's live steps, NaN after."""
    array = as_numeric_array(error, "error").astype(np.float64)
    if array.ndim == 1 and shape[0] == 1:
        array = array[None]
    if array.shape != shape:
        raise ValueError(
            f"error must be (C, T) = {shape}, one value per track and step (or (T,) for one "
            f"track), got shape {np.shape(error)}"
        )
    for c, end in enumerate(ends):
        bad = np.flatnonzero(~np.isfinite(array[c, :end]) | (array[c, :end] < 0))
        if len(bad):
            k = bad[0]
            raise ValueError(
                f"error[{c}] is {array[c, k]} at step {k}; expected a finite distance >= 0 "
                f"[m] on every step before the track ends (step {end})"
            )
        array[c, end:] = np.nan  # not shown: the vehicle is gone
    check_float32_range(np.nan_to_num(array), "error")
    return array


class TrajectoryView(WidgetBase):
    """Reference and actual quadrotor positions in 3D, colored by tracking error, with playback.

    Args:
        reference: ``(T, 3)`` reference positions ``p_d(t_k)`` [m], finite, T >= 2.
        actual: ``(T, 3)`` positions of one controller or ``(C, T, 3)`` of C controllers
            [m]. A track may end early (a crash): its rows from the crash on are NaN in x, y
            and z. Any other NaN, or an infinite value, is an error.
        dt: seconds between steps, > 0 (50 Hz control: 0.02).
        labels: the controllers' names, one per track, distinct (default ``"track c"``, or
            ``"actual"`` for one track).
        error: ``(C, T)`` (or ``(T,)``) per-step error [m] to color by, finite and >= 0 on
            the steps each track flew (values after a crash are ignored); default
            ``‖actual − reference‖``.
        t0: time [s] of step 0 (``rollout`` records its first step at ``t = dt``).
        title: heading shown above the view.

    Synced state: ``time_index`` (the playhead's step k; set it to move the playhead,
    scrubbing in the browser sets it), ``playing``, ``speed`` (one of ``SPEEDS``) and
    ``visible`` (one bool per track; the legend toggles it). The data traits are read-only:
    ``labels``, ``steps`` (T), ``dt``, ``t0``, ``ends`` (steps each track flew; T unless it
    crashed), ``speeds``, and the float32 buffers ``_reference`` (T·3), ``_actual``
    (C·T·3) and ``_error`` (C·T), C order.

    Raises:
        TypeError: non-numeric arrays; labels that are one str or hold a non-str.
        ValueError: naming the parameter (and track and step) for: shapes that do not match
            (T vs C·T, fewer than 2 steps), labels that are not distinct strings or not one
            per track, a non-finite or non-positive ``dt``, a non-finite ``reference``, NaN in
            ``actual`` other than trailing rows, infinite values, negative or non-finite
            errors on a live step, values beyond float32.
    """

    _asset = "trajectory_view"

    # Fixed at construction (make a new view for new data).
    labels = traitlets.List(traitlets.Unicode(), read_only=True, help="Track names.").tag(sync=True)
    steps = traitlets.Int(read_only=True, help="T, the number of steps.").tag(sync=True)
    dt = traitlets.Float(read_only=True, help="Seconds between steps.").tag(sync=True)
    t0 = traitlets.Float(read_only=True, help="Time [s] of step 0.").tag(sync=True)
    ends = traitlets.List(
        traitlets.Int(), read_only=True, help="Steps each track flew (T unless it crashed)."
    ).tag(sync=True)
    speeds = traitlets.List(
        traitlets.Float(), read_only=True, help="Playback speeds, × real time."
    ).tag(sync=True)
    # Little-endian float32 bytes, each sent as a binary buffer (C order).
    _reference = traitlets.Bytes(read_only=True).tag(sync=True)
    _actual = traitlets.Bytes(read_only=True).tag(sync=True)
    _error = traitlets.Bytes(read_only=True).tag(sync=True)
    # Live, synced both ways.
    time_index = traitlets.Int(0, help="The playhead's step k.").tag(sync=True)
    playing = traitlets.Bool(False, help="Whether playback runs.").tag(sync=True)
    speed = traitlets.Float(1.0, help="Playback speed, one of speeds.").tag(sync=True)
    visible = traitlets.List(traitlets.Bool(), help="Whether each track is drawn.").tag(sync=True)

    def __init__(
        self,
        reference: object,
        actual: object,
        *,
        dt: float,
        labels: Sequence[str] | None = None,
        error: object = None,
        t0: float = 0.0,
        title: str = "",
    ) -> None:
        reference = validated_float_array(reference, "reference", (None, 3), ("steps", "xyz"))
        steps = len(reference)
        if steps < 2:
            raise ValueError(f"reference has {steps} step(s); a trajectory needs at least 2")
        actual = _check_actual(actual, steps)
        tracks = len(actual)
        if labels is None:
            labels = ["actual"] if tracks == 1 else [f"track {c}" for c in range(tracks)]
        labels = check_str_list(
            labels, "labels", kind="a sequence of names", if_empty="name each track"
        )
        if len(labels) != tracks:
            raise ValueError(f"labels has {len(labels)} names for {tracks} tracks in actual")
        if len(set(labels)) != tracks:
            raise ValueError(f"labels must be distinct, got {labels}")
        ends = [
            _live_steps(track, f"actual[{c}] ({name!r})")
            for c, (track, name) in enumerate(zip(actual, labels, strict=True))
        ]
        if error is None:
            error = np.linalg.norm(actual - reference, axis=-1)
        error = _check_error(error, (tracks, steps), ends)
        # Read-only traits are set before ipywidgets opens the comm, so the first message
        # to the browser already carries the data.
        self.set_trait("labels", labels)
        self.set_trait("steps", steps)
        self.set_trait("dt", check_number(dt, "dt", lo=0, lo_open=True))
        self.set_trait("t0", check_number(t0, "t0"))
        self.set_trait("ends", ends)
        self.set_trait("speeds", list(SPEEDS))
        self.set_trait("_reference", float32_bytes(reference))
        self.set_trait("_actual", float32_bytes(actual))
        self.set_trait("_error", float32_bytes(error))
        super().__init__(visible=[True] * tracks, title=title)

    @classmethod
    def from_rollouts(
        cls,
        reference: object,
        rollouts: Mapping[str, object],
        *,
        env_index: int = 0,
        dt: float | None = None,
        title: str = "",
    ) -> TrajectoryView:
        """One track per recorded ``toolkit.control.evaluate.Rollout`` (``record=True``),
        for env ``env_index``; labels are the mapping's keys.

        ``reference`` (T, 3) [m], or ``None`` for the first rollout's recorded reference.
        Errors are the rollouts' ``error_norm``; a track ends at its first step with
        ``‖e‖ > CRASH_DISTANCE`` (the crash; a divergence the simulator reset without that
        error is not located). ``dt`` defaults to the rollouts' step, ``t0`` to their first
        time.
        """
        if not rollouts:
            raise ValueError("rollouts is empty; pass {label: rollout(..., record=True)}")
        positions, errors = [], []
        for name, run in rollouts.items():
            if getattr(run, "position", None) is None:
                raise ValueError(
                    f"rollouts[{name!r}] has no recorded position; run rollout(..., record=True)"
                )
            envs = np.shape(run.position)[1]
            if not 0 <= env_index < envs:
                raise ValueError(f"env_index is {env_index}; rollouts[{name!r}] has {envs} envs")
            norm = np.asarray(run.error_norm[:, env_index]).astype(np.float64)
            track = np.asarray(run.position[:, env_index]).astype(np.float64)
            crash = np.flatnonzero(norm > CRASH_DISTANCE)
            if len(crash):
                track[crash[0] :] = np.nan
            positions.append(track)
            errors.append(norm)
        steps = {name: len(track) for name, track in zip(rollouts, positions, strict=True)}
        if len(set(steps.values())) > 1:
            raise ValueError(f"rollouts must have the same number of steps, got {steps}")
        first = next(iter(rollouts.values()))
        if reference is None:
            reference = np.asarray(first.reference[:, env_index])
        time = np.asarray(first.time, dtype=np.float64)
        if dt is None and len(time) > 1:  # a shorter run fails on its reference length
            dt = float(time[1] - time[0])
        return cls(
            reference,
            np.stack(positions),
            dt=dt,
            labels=list(rollouts),
            error=np.stack(errors),
            t0=float(time[0]),
            title=title,
        )

    @property
    def time(self) -> float:
        """The playhead's time ``t_k = t0 + k·dt`` [s]."""
        return self.t0 + self.time_index * self.dt

    @property
    def current_error(self) -> dict[str, float]:
        """Each track's error [m] at the playhead, as the browser shows it (NaN: crashed)."""
        error = from_float32_bytes(self._error).reshape(len(self.labels), self.steps)
        return {
            name: float(e) for name, e in zip(self.labels, error[:, self.time_index], strict=True)
        }

    @traitlets.validate("time_index")
    def _validate_time_index(self, proposal: traitlets.Bunch) -> int:
        k = proposal["value"]
        if not 0 <= k < self.steps:
            raise traitlets.TraitError(
                f"time_index must be a step in [0, {self.steps - 1}], got {k}"
            )
        return k

    @traitlets.validate("speed")
    def _validate_speed(self, proposal: traitlets.Bunch) -> float:
        if proposal["value"] not in SPEEDS:
            raise traitlets.TraitError(f"speed must be one of {SPEEDS}, got {proposal['value']}")
        return proposal["value"]

    @traitlets.validate("visible")
    def _validate_visible(self, proposal: traitlets.Bunch) -> list[bool]:
        if len(proposal["value"]) != len(self.labels):
            raise traitlets.TraitError(
                f"visible must hold one bool per track ({len(self.labels)}), "
                f"got {len(proposal['value'])}"
            )
        return proposal["value"]
