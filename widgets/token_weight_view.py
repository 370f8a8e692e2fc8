"""TokenWeightView: token-level preference-optimization quantities for one preference pair.

The chosen and rejected completions are drawn side by side as two token strips (the same
strip TokenStrip draws), colored by one of several per-token tracks — for example

- the log-ratio  lr_t = log πθ(y_t | x, y_<t) − log πref(y_t | x, y_<t)  (signed: diverging),
- the reward mask, KL mask and diff mask (0/1: sequential),
- the per-token KL and the TIS weight (≥ 0: sequential),

at one of several saved training checkpoints, picked with a slider. Each track has one
color scale for both sides and every checkpoint, so a color means the same value wherever it
appears: chosen against rejected, early against late.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import traitlets

from widgets.base import (
    WidgetBase,
    as_numeric_array,
    check_choice,
    check_token_index,
    float32_bytes,
    from_float32_bytes,
    validated_float_array,
)
from widgets.token_strip import _check_scales, _check_tokens, _check_track_names, infer_scale

SIDES = ("chosen", "rejected")


def _check_sides(name: str, sides: object, where: str = "") -> Mapping[str, object]:
    """Require ``sides`` to map exactly ``"chosen"`` and ``"rejected"`` to values."""
    if not isinstance(sides, Mapping):
        raise TypeError(
            f"track {name!r}{where} must map 'chosen' and 'rejected' to per-token values, "
            f"got {type(sides).__name__}; e.g. {{'chosen': values_w, 'rejected': values_l}}"
        )
    missing = [side for side in SIDES if side not in sides]
    extra = [key for key in sides if key not in SIDES]
    if missing or extra:
        problems = [f"no {side!r} values" for side in missing]
        problems += [f"an unknown side {key!r}" for key in extra]
        raise ValueError(
            f"track {name!r}{where} has {' and '.join(problems)}; "
            "its sides must be exactly 'chosen' and 'rejected'"
        )
    return sides


def _check_row_length(array: np.ndarray, label: str, n_tokens: int) -> None:
    """Require the last axis of a 1-D or 2-D array to hold one value per token."""
    if array.ndim not in (1, 2):
        raise ValueError(
            f"{label} must be 1-D (tokens) or 2-D (checkpoints, tokens), got shape {array.shape}"
        )
    if array.shape[-1] != n_tokens:
        per = " per checkpoint" if array.ndim == 2 else ""
        raise ValueError(f"{label} has {array.shape[-1]} values{per} for {n_tokens} tokens")


def _check_steps(steps: Sequence[int]) -> list[int]:
    if isinstance(steps, str | bytes):
        raise TypeError("steps must be a sequence of ints, got one str")
    steps = list(steps)
    if not steps:
        raise ValueError("steps is empty; pass one training step per checkpoint")
    for i, step in enumerate(steps):
        if isinstance(step, bool) or not isinstance(step, int | np.integer):
            raise TypeError(
                f"steps[{i}] is {type(step).__name__} {step!r}; expected an int training step"
            )
        if i and step <= steps[i - 1]:
            raise ValueError(
                f"steps must increase: steps[{i}] = {step} comes after steps[{i - 1}] = "
                f"{steps[i - 1]}; sort the checkpoints by step"
            )
    return [int(step) for step in steps]


def _domain(kind: str, arrays: Sequence[np.ndarray]) -> list[float]:
    """The range a track's color scale spans: over both sides and every checkpoint.

    Diverging scales are symmetric, [-m, m]; sequential scales of non-negative values
    start at 0, so a mask that is 1 everywhere is drawn at full strength, not blank.
    """
    lo = float(min(a.min() for a in arrays))
    hi = float(max(a.max() for a in arrays))
    if kind == "diverging":
        m = max(abs(lo), abs(hi))
        return [-m, m]
    return [min(lo, 0.0), hi]


class TokenWeightView(WidgetBase):
    """Chosen and rejected completions side by side, colored by per-token tracks over training.

    Args:
        chosen_tokens: tokens of the chosen completion y_w (whitespace drawn as in TokenStrip).
        rejected_tokens: tokens of the rejected completion y_l.
        tracks: track name -> ``{"chosen": values, "rejected": values}``. Each side's values
            are ``(K, T)`` — one row per checkpoint, one column per token of that side — or
            ``(T,)``: the same values at every checkpoint (e.g. a mask fixed by the data).
            Lists, NumPy arrays and CPU tensors of finite real numbers all work; the first
            track is shown first.
        steps: the K training steps of the checkpoints, strictly increasing. Default:
            ``0, 1, ..., K-1`` with K read from the 2-D tracks (1 when every track is 1-D).
        scales: track name -> ``"diverging"`` (centered at 0, for signed tracks such as the
            log-ratio) or ``"sequential"`` (for masks and weights in [0, 1] or ≥ 0). Tracks
            not named are inferred from all their values: diverging when they take both signs.
        title: heading shown above the view.
        prompt: the prompt x the completions answer, shown above the strips.

    Synced state: ``track`` (the track shown), ``checkpoint`` (index into ``steps`` of the
    checkpoint shown; ``step`` reads or sets it by step number), ``selected_chosen`` and
    ``selected_rejected`` (the clicked token of each side, -1 for none). The data traits
    (``chosen_tokens``, ``rejected_tokens``, ``track_names``, ``steps``, ``scales``,
    ``domains``) are read-only; ``values(track, side, checkpoint)`` returns a track's data.

    Raises:
        TypeError: tokens that are one str or hold a non-str; a track that is not a mapping
            of sides; non-numeric values; steps that are one str or hold a non-int.
        ValueError: empty tokens or tracks; a track without exactly the sides ``chosen`` and
            ``rejected``; a side whose length differs from its tokens ("track 'kl'
            (rejected) has 5 values for 7 tokens"); a checkpoint count that differs from
            ``steps``; a NaN/inf value (the message names the track, side, checkpoint and
            token); non-increasing steps; an unknown scale.
    """

    _asset = "token_weight_view"

    # Fixed at construction (make a new view for new data); the view builds its DOM once.
    chosen_tokens = traitlets.List(traitlets.Unicode(), read_only=True).tag(sync=True)
    rejected_tokens = traitlets.List(traitlets.Unicode(), read_only=True).tag(sync=True)
    track_names = traitlets.List(
        traitlets.Unicode(), read_only=True, help="Tracks, in picker order."
    ).tag(sync=True)
    steps = traitlets.List(
        traitlets.Int(), read_only=True, help="Training step of each checkpoint."
    ).tag(sync=True)
    scales = traitlets.Dict(
        value_trait=traitlets.Unicode(),
        read_only=True,
        help="Track name -> 'diverging' or 'sequential'.",
    ).tag(sync=True)
    domains = traitlets.Dict(
        value_trait=traitlets.List(traitlets.Float(), minlen=2, maxlen=2),
        read_only=True,
        help="Track name -> [lo, hi] of its color scale, shared by both sides and all steps.",
    ).tag(sync=True)
    # Track name -> {"chosen": bytes, "rejected": bytes}: little-endian float32, (K, T) in
    # C order (checkpoint-major); ipywidgets sends each as a binary buffer.
    _track_data = traitlets.Dict(read_only=True).tag(sync=True)
    # Live, synced both ways.
    prompt = traitlets.Unicode("", help="The prompt, shown above the strips.").tag(sync=True)
    track = traitlets.Unicode(help="The track shown.").tag(sync=True)
    checkpoint = traitlets.Int(0, help="Index into steps of the checkpoint shown.").tag(sync=True)
    selected_chosen = traitlets.Int(-1, help="Selected chosen token; -1 for none.").tag(sync=True)
    selected_rejected = traitlets.Int(-1, help="Selected rejected token; -1 for none.").tag(
        sync=True
    )

    def __init__(
        self,
        chosen_tokens: Sequence[str],
        rejected_tokens: Sequence[str],
        tracks: Mapping[str, Mapping[str, object]],
        *,
        steps: Sequence[int] | None = None,
        scales: Mapping[str, str] | None = None,
        title: str = "",
        prompt: str = "",
    ) -> None:
        tokens = {
            "chosen": _check_tokens(chosen_tokens, "chosen_tokens"),
            "rejected": _check_tokens(rejected_tokens, "rejected_tokens"),
        }
        # Read every side and check its token axis; the checkpoint axis is checked below,
        # once K is known.
        raw: dict[str, dict[str, np.ndarray]] = {}
        for name, sides in _check_track_names(tracks).items():
            raw[name] = {}
            for side, values in _check_sides(name, sides).items():
                label = f"track {name!r} ({side})"
                array = as_numeric_array(values, label)
                _check_row_length(array, label, len(tokens[side]))
                raw[name][side] = array
        steps = _check_steps(steps) if steps is not None else _default_steps(raw)

        arrays = {
            name: {
                side: _checkpoint_array(
                    raw[name][side], f"track {name!r} ({side})", steps, tokens[side]
                )
                for side in SIDES
            }
            for name in raw
        }
        scales = dict(scales or {})
        _check_scales(list(arrays), scales)
        kinds = {
            name: scales.get(name)
            or infer_scale(np.concatenate([a.ravel() for a in sides.values()]))
            for name, sides in arrays.items()
        }
        # Read-only traits are set before ipywidgets opens the comm, so the first message
        # to the browser already carries the data.
        self.set_trait("chosen_tokens", tokens["chosen"])
        self.set_trait("rejected_tokens", tokens["rejected"])
        self.set_trait("track_names", list(arrays))
        self.set_trait("steps", steps)
        self.set_trait("scales", kinds)
        self.set_trait(
            "domains", {name: _domain(kinds[name], list(s.values())) for name, s in arrays.items()}
        )
        self.set_trait(
            "_track_data",
            {
                name: {side: float32_bytes(a) for side, a in sides.items()}
                for name, sides in arrays.items()
            },
        )
        super().__init__(track=next(iter(arrays)), title=title, prompt=prompt)

    @classmethod
    def from_checkpoints(
        cls,
        chosen_tokens: Sequence[str],
        rejected_tokens: Sequence[str],
        snapshots: Sequence[Mapping[str, Mapping[str, object]]],
        steps: Sequence[int],
        **kwargs: object,
    ) -> TokenWeightView:
        """Build the view from one snapshot per checkpoint, as a training loop saves them.

        Each snapshot maps track name -> ``{"chosen": (Tw,), "rejected": (Tl,)}`` at that
        checkpoint; every snapshot must hold the same tracks. ``kwargs`` (``scales``,
        ``title``, ``prompt``) go to the constructor.
        """
        tokens = {
            "chosen": _check_tokens(chosen_tokens, "chosen_tokens"),
            "rejected": _check_tokens(rejected_tokens, "rejected_tokens"),
        }
        snapshots = list(snapshots)
        steps = _check_steps(steps)
        if len(snapshots) != len(steps):
            raise ValueError(
                f"snapshots has {len(snapshots)} checkpoints but steps has {len(steps)}; "
                "pass one step per snapshot"
            )
        names = list(_check_track_names(snapshots[0]))
        for k, snapshot in enumerate(snapshots):
            if set(snapshot) != set(names):
                raise ValueError(
                    f"snapshot {k} (step {steps[k]}) has tracks {sorted(snapshot)} but snapshot "
                    f"0 has {sorted(names)}; every checkpoint needs the same tracks"
                )
        tracks: dict[str, dict[str, np.ndarray]] = {name: {} for name in names}
        for name in names:
            for side in SIDES:
                rows = []
                for k, snapshot in enumerate(snapshots):
                    where = f" at checkpoint {k} (step {steps[k]})"
                    label = f"track {name!r} ({side}){where}"
                    row = as_numeric_array(_check_sides(name, snapshot[name], where)[side], label)
                    if row.ndim != 1:
                        raise ValueError(f"{label} must be 1-D (tokens), got shape {row.shape}")
                    _check_row_length(row, label, len(tokens[side]))
                    rows.append(row)
                tracks[name][side] = np.stack(rows)
        return cls(tokens["chosen"], tokens["rejected"], tracks, steps=steps, **kwargs)

    @property
    def step(self) -> int:
        """Training step of the checkpoint shown; set it to move the slider to that step."""
        return self.steps[self.checkpoint]

    @step.setter
    def step(self, step: int) -> None:
        if step not in self.steps:
            raise ValueError(f"no checkpoint at step {step}; the steps are {self.steps}")
        self.checkpoint = self.steps.index(step)

    def tokens(self, side: str) -> list[str]:
        """The tokens of ``side`` (``"chosen"`` or ``"rejected"``)."""
        side = check_choice(side, SIDES, "side")
        return self.chosen_tokens if side == "chosen" else self.rejected_tokens

    def values(
        self,
        track: str | None = None,
        side: str = "chosen",
        checkpoint: int | str | None = None,
    ) -> np.ndarray:
        """One side's float32 values of ``track`` (default: the track shown), as the browser
        has them: ``(T,)`` at ``checkpoint`` (default: the one shown), or ``(K, T)`` for
        ``checkpoint="all"``."""
        name = self.track if track is None else check_choice(track, self.track_names, "track")
        data = from_float32_bytes(self._track_data[name][check_choice(side, SIDES, "side")])
        data = data.reshape(len(self.steps), len(self.tokens(side)))
        if checkpoint == "all":
            return data
        k = self.checkpoint if checkpoint is None else checkpoint
        if not 0 <= k < len(self.steps):
            raise ValueError(f"checkpoint {k} is out of range [0, {len(self.steps) - 1}]")
        return data[k]

    @traitlets.validate("track")
    def _validate_track(self, proposal: traitlets.Bunch) -> str:
        return check_choice(proposal["value"], self.track_names, "track")

    @traitlets.validate("checkpoint")
    def _validate_checkpoint(self, proposal: traitlets.Bunch) -> int:
        k = proposal["value"]
        if not 0 <= k < len(self.steps):
            raise traitlets.TraitError(
                f"checkpoint must be an index into steps, in [0, {len(self.steps) - 1}], got {k}; "
                "set view.step to pick a checkpoint by its step number"
            )
        return k

    @traitlets.validate("selected_chosen", "selected_rejected")
    def _validate_selected(self, proposal: traitlets.Bunch) -> int:
        name = proposal["trait"].name
        n_tokens = len(self.tokens(name.removeprefix("selected_")))
        return check_token_index(proposal["value"], n_tokens, name)


def _default_steps(raw: Mapping[str, Mapping[str, np.ndarray]]) -> list[int]:
    """``0..K-1`` with K the row count of the 2-D sides, which must agree (1 if none)."""
    first = None
    for name, sides in raw.items():
        for side, array in sides.items():
            if array.ndim != 2:
                continue
            if first is None:
                first = (f"track {name!r} ({side})", array.shape[0])
            elif array.shape[0] != first[1]:
                raise ValueError(
                    f"track {name!r} ({side}) has {array.shape[0]} checkpoints (rows) but "
                    f"{first[0]} has {first[1]}; every 2-D track needs one row per checkpoint"
                )
    return list(range(first[1] if first else 1))


def _checkpoint_array(
    array: np.ndarray, label: str, steps: Sequence[int], tokens: Sequence[str]
) -> np.ndarray:
    """``array`` as a checked ``(K, T)`` float32 array: rows per step, finite, float32-sized.

    A 1-D array is the same at every checkpoint. A NaN/inf is reported by checkpoint (step)
    and token, which is where a user looks for it.
    """
    if array.ndim == 2 and array.shape[0] != len(steps):
        raise ValueError(
            f"{label} has {array.shape[0]} checkpoints (rows) but steps has {len(steps)}; "
            "pass one row per step, or 1-D values for a track that does not change"
        )
    bad = np.argwhere(~np.isfinite(array.astype(np.float64)))
    if bad.size:
        index = tuple(int(i) for i in bad[0])
        at = f"checkpoint {index[0]} (step {steps[index[0]]}), " if array.ndim == 2 else ""
        i = index[-1]
        raise ValueError(
            f"{label} has a non-finite value ({array[index]}) at {at}token {i} {tokens[i]!r}; "
            "replace NaN/inf first, e.g. with np.nan_to_num"
        )
    array = np.broadcast_to(array, (len(steps), len(tokens)))
    return validated_float_array(array, label, (len(steps), len(tokens)), ("checkpoints", "tokens"))
