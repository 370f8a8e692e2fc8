"""TastePlayground: five taste sliders and a text box, and the music they make, live.

Notebook 03 (taste → music, Spanio et al., arXiv 2503.02823) maps a taste profile, or a
description read as one, to a piece. The playground puts that pipeline under the user's
hands: sliders for sweet, sour, bitter, salty and umami, a seed, and a text box on the left;
on the right the caption, a piano roll of the notes (coloured by voice), an audio player and
a bar per audio feature. Every change in the browser re-runs the pipeline in the kernel.

The pipeline is injected, so the widget knows nothing of how music is made: any callable
``pipeline(profile, text, seed)`` returning a mapping with the keys of ``RESULT_KEYS`` works
(see ``TastePlayground``).
"""

from __future__ import annotations

import io
import math
import numbers
import wave
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import traitlets

from toolkit.music.taste import TASTES, TasteProfile
from widgets.base import (
    InvalidType,
    InvalidValue,
    WidgetBase,
    as_numeric_array,
    check_finite,
    check_shape,
    float32_bytes,
    from_float32_bytes,
    validated_float_array,
)

RESULT_KEYS = ("profile", "notes", "audio", "sample_rate", "features", "caption")
NOTE_FIELDS = ("pitch", "start_s", "end_s", "velocity", "voice")

Pipeline = Callable[[TasteProfile, str, int], Mapping[str, Any]]


def _check_profile(value: object) -> dict[str, float]:
    """``{taste: intensity}`` for all five tastes (unnamed ones 0) from a mapping or a
    ``TasteProfile``; the message names the bad taste."""
    if isinstance(value, TasteProfile):
        return value.as_dict()
    if not isinstance(value, Mapping):
        raise InvalidType(
            f"profile must map tastes to intensities in [0, 1] (or be a TasteProfile), "
            f"got {type(value).__name__}"
        )
    unknown = [taste for taste in value if taste not in TASTES]
    if unknown:
        raise InvalidValue(f"profile has an unknown taste {unknown[0]!r}; choose from {TASTES}")
    real = {
        taste: float(v) if isinstance(v, numbers.Real) and not isinstance(v, bool) else v
        for taste, v in value.items()
    }
    try:
        return TasteProfile(**real).as_dict()
    except TypeError as err:
        raise InvalidType(f"profile: {err}") from err
    except ValueError as err:
        raise InvalidValue(f"profile: {err}") from err


def _check_seed(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidType(f"seed must be an int >= 0, got {type(value).__name__} {value!r}")
    if value < 0:
        raise InvalidValue(f"seed must be an int >= 0, got {value!r}")
    return int(value)


def _check_notes(notes: object) -> tuple[np.ndarray, list[str]]:
    """``(N, 4)`` float32 pitch/start/end/velocity and the voice of each note."""
    if isinstance(notes, str | bytes) or not hasattr(notes, "__len__"):
        raise TypeError(
            f"notes must be a sequence of {NOTE_FIELDS} tuples, got {type(notes).__name__}"
        )
    rows, voices = [], []
    for i, note in enumerate(notes):
        if isinstance(note, str) or not hasattr(note, "__len__"):
            raise TypeError(f"notes[{i}] is {note!r}; expected a tuple {NOTE_FIELDS}")
        if len(note) != 5:
            raise ValueError(f"notes[{i}] is {note!r}; expected a tuple {NOTE_FIELDS}")
        *values, voice = note
        if not isinstance(voice, str):
            raise TypeError(f"notes[{i}] voice is {voice!r}; expected a str")
        rows.append(values)
        voices.append(voice)
    label = "notes (pitch, start_s, end_s, velocity)"
    array = as_numeric_array(rows, label).reshape(len(rows), 4)
    array = validated_float_array(array, label, (None, 4), ("notes", "fields"))
    bad = np.flatnonzero((array[:, 1] < 0) | (array[:, 2] < array[:, 1]))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"notes[{i}] spans {array[i, 1]:g} s to {array[i, 2]:g} s; expected 0 <= start <= end"
        )
    return array, voices


def _check_audio(audio: object, sample_rate: object) -> tuple[np.ndarray, int]:
    """Mono samples in [-1, 1] and a positive int sample rate."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Integral):
        raise TypeError(f"sample_rate must be an int > 0, got {sample_rate!r}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be an int > 0, got {sample_rate!r}")
    array = as_numeric_array(audio, "audio")
    check_shape(array, (None,), "audio", ("samples",))
    array = array.astype(np.float64)
    check_finite(array, "audio")
    bad = np.flatnonzero(np.abs(array) > 1)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"audio sample {i} is {array[i]:g}; expected values in [-1, 1] "
            "(normalize or clip the audio)"
        )
    return array, int(sample_rate)


def _check_features(features: object) -> dict[str, float]:
    if not isinstance(features, Mapping):
        raise TypeError(f"features must map names to numbers, got {type(features).__name__}")
    out = {}
    for name, value in features.items():
        if not isinstance(name, str):
            raise TypeError(f"feature name {name!r} is not a str")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"feature {name!r} is {value!r}; expected a real number")
        if not math.isfinite(value):
            raise ValueError(f"feature {name!r} is {value}; expected a finite number")
        out[name] = float(value)
    return out


def _check_result(result: object) -> dict[str, Any]:
    """The pipeline's result, checked and converted to what the traits hold."""
    if not isinstance(result, Mapping):
        raise TypeError(
            f"the pipeline returned {type(result).__name__}; expected a mapping with keys "
            f"{', '.join(RESULT_KEYS)}"
        )
    missing = [key for key in RESULT_KEYS if key not in result]
    if missing:
        raise ValueError(f"the pipeline's result has no {', '.join(map(repr, missing))}")
    try:
        profile = _check_profile(result["profile"])
    except traitlets.TraitError as err:  # a bad result, not a bad assignment: a plain error
        raise (TypeError if isinstance(err, TypeError) else ValueError)(
            f"the pipeline's {err}"
        ) from None
    if not isinstance(result["caption"], str):
        raise TypeError(f"caption is {type(result['caption']).__name__}; expected a str")
    notes, voices = _check_notes(result["notes"])
    audio, sample_rate = _check_audio(result["audio"], result["sample_rate"])
    return {
        "profile": profile,
        "_notes": float32_bytes(notes),
        "voices": voices,
        "_audio": wav_bytes(audio, sample_rate),
        "duration": len(audio) / sample_rate,
        "features": _check_features(result["features"]),
        "caption": result["caption"],
    }


def wav_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    """A 16-bit PCM mono WAV file of ``audio`` in memory (samples beyond [-1, 1] are clipped)."""
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sample_rate)
        f.writeframes(pcm.tobytes())
    return out.getvalue()


def _check_ranges(ranges: Mapping[str, object], features: Mapping[str, float]) -> dict:
    """``{name: [lo, hi]}`` with finite lo < hi, covering every feature of ``features``."""
    out = {}
    for name, pair in ranges.items():
        label = f"feature_ranges[{name!r}]"
        array = as_numeric_array(pair, label)
        check_shape(array, (2,), label, ("bounds (lo, hi)",))
        check_finite(array.astype(np.float64), label)
        lo, hi = (float(v) for v in array)
        if not lo < hi:
            raise ValueError(f"{label} is [{lo:g}, {hi:g}]; expected lo < hi")
        out[name] = [lo, hi]
    missing = [name for name in features if name not in out]
    if missing:
        raise ValueError(
            f"feature_ranges has no range for {', '.join(map(repr, missing))}; give one "
            "[lo, hi] per feature the pipeline returns, or leave feature_ranges out to infer them"
        )
    return out


def _inferred_ranges(runs: list[Mapping[str, float]]) -> dict[str, list[float]]:
    """Per feature, [min, max] over ``runs``; a feature constant over them is centred in a
    range of width |value| (1 for 0)."""
    ranges = {}
    for name in dict.fromkeys(name for run in runs for name in run):
        values = [run[name] for run in runs if name in run]
        lo, hi = min(values), max(values)
        if lo == hi:
            pad = abs(lo) / 2 or 0.5
            lo, hi = lo - pad, hi + pad
        ranges[name] = [lo, hi]
    return ranges


class TastePlayground(WidgetBase):
    """Taste sliders and a text box driving a taste → music pipeline, with its outputs live.

    Args:
        pipeline: ``pipeline(profile: TasteProfile, text: str, seed: int) -> Mapping`` with
            keys ``profile`` (the ``TasteProfile`` actually used: the text's when ``text`` is
            not empty), ``notes`` (a sequence of ``(pitch, start_s, end_s, velocity, voice)``
            tuples, ``voice`` a str), ``audio`` (1-D samples in [-1, 1]), ``sample_rate``
            (int Hz), ``features`` (name -> float) and ``caption`` (str).
        profile: the starting profile, a ``TasteProfile`` or ``{taste: intensity}`` (tastes
            not named are 0). Default: neutral.
        text: a starting description; when given, the first run uses it and the sliders
            start at the profile it yields.
        seed: the starting seed, an int >= 0.
        feature_ranges: feature name -> ``(lo, hi)``, the ends of its bar. Default: inferred
            at construction from seven runs of the pipeline (the starting state, each pure
            taste at full intensity and the neutral profile, all with the starting seed):
            each feature's min and max over them. Values outside the range fill the bar or
            leave it empty.
        title: heading shown above the widget.

    Synced state, both ways: ``profile`` (taste -> intensity, all five), ``seed`` and
    ``text`` (the text in effect, "" when the sliders rule). What re-runs the pipeline:

    - a change of ``profile`` (a slider released, or assigned in Python): runs
      ``pipeline(profile, "", seed)`` and clears ``text``, since it no longer describes the
      profile;
    - a change of ``seed``: runs ``pipeline(profile, text, seed)``, keeping the text;
    - a text submission (the "Use text" button or Enter, or ``submit_text`` in Python):
      the browser sets ``text`` and increments the counter ``text_submitted``, whose change
      runs ``pipeline(profile, text, seed)``; the profile it returns is put in ``profile``
      (the sliders move to it) without another run. Assigning ``text`` alone runs nothing.

    Each run replaces the outputs (read-only): ``_notes`` (float32 bytes of an ``(N, 4)``
    pitch/start/end/velocity array; ``notes`` decodes it), ``voices`` (the voice of each
    note), ``_audio`` (a 16-bit PCM mono WAV file), ``duration`` (s), ``features`` and
    ``caption``; ``feature_ranges`` is fixed at construction. A run that raises, or whose
    result is malformed (e.g. audio outside [-1, 1] or NaN), keeps the previous outputs and
    puts its message in ``error`` (shown in the widget); the next good run clears it.

    In a static HTML export the sliders still move, but nothing recomputes; the widget says
    so under its controls.

    Raises:
        TypeError: a ``pipeline`` that is not callable, a ``text`` that is not a str, a
            ``profile`` that is not a mapping or has a non-number intensity, a non-int
            ``seed`` (at construction or on assignment); a result of the wrong type.
        ValueError: a ``profile`` intensity outside [0, 1] or NaN, or an unknown taste (the
            message names it), at construction or on assignment; a negative ``seed``; bad
            ``feature_ranges`` (not finite, lo >= hi, or missing a feature the pipeline
            returns). At construction, an error of the pipeline or a malformed result is
            raised as is, since there is no earlier output to keep.
    """

    _asset = "taste_playground"

    tastes = traitlets.List(
        traitlets.Unicode(), default_value=list(TASTES), read_only=True, help="Slider order."
    ).tag(sync=True)
    # Inputs, synced both ways. profile is Any so that a TasteProfile can be assigned; the
    # validator always stores a dict of all five tastes.
    profile = traitlets.Any(help="Taste -> intensity in [0, 1], all five.").tag(sync=True)
    seed = traitlets.Int(0, help="Seed of the pipeline, >= 0.").tag(sync=True)
    text = traitlets.Unicode("", help="The text in effect; '' when the sliders rule.").tag(
        sync=True
    )
    text_submitted = traitlets.Int(0, help="Counts text submissions; each runs the pipeline.").tag(
        sync=True
    )
    # Outputs of the last good run.
    _notes = traitlets.Bytes(read_only=True).tag(sync=True)
    voices = traitlets.List(traitlets.Unicode(), read_only=True, help="Voice of each note.").tag(
        sync=True
    )
    _audio = traitlets.Bytes(read_only=True).tag(sync=True)
    duration = traitlets.Float(0.0, read_only=True, help="Audio length in seconds.").tag(sync=True)
    features = traitlets.Dict(
        value_trait=traitlets.Float(), read_only=True, help="Feature name -> value."
    ).tag(sync=True)
    feature_ranges = traitlets.Dict(
        value_trait=traitlets.List(traitlets.Float(), minlen=2, maxlen=2),
        read_only=True,
        help="Feature name -> [lo, hi] of its bar.",
    ).tag(sync=True)
    caption = traitlets.Unicode("", read_only=True).tag(sync=True)
    error = traitlets.Unicode("", read_only=True, help="Message of the last failed run.").tag(
        sync=True
    )

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        profile: TasteProfile | Mapping[str, float] | None = None,
        text: str = "",
        seed: int = 0,
        feature_ranges: Mapping[str, tuple[float, float]] | None = None,
        title: str = "",
    ) -> None:
        if not callable(pipeline):
            raise TypeError(
                f"pipeline must be callable as pipeline(profile, text, seed), "
                f"got {type(pipeline).__name__}"
            )
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        self._pipeline = pipeline
        self._applying_result = False  # True while a run writes profile: no second run
        start = TasteProfile(**_check_profile(TasteProfile() if profile is None else profile))
        seed = _check_seed(seed)
        outputs = _check_result(pipeline(start, text, seed))
        if feature_ranges is None:
            probes = [TasteProfile.pure(taste) for taste in TASTES] + [TasteProfile()]
            runs = [outputs["features"]]
            runs += [_check_result(pipeline(p, "", seed))["features"] for p in probes]
            ranges = _inferred_ranges(runs)
        else:
            ranges = _check_ranges(feature_ranges, outputs["features"])
        # Outputs are set before ipywidgets opens the comm, so the first message to the
        # browser already carries them.
        self.set_trait("feature_ranges", ranges)
        start_profile = outputs.pop("profile")
        for name, value in outputs.items():
            self.set_trait(name, value)
        super().__init__(profile=start_profile, text=text, seed=seed, title=title)
        self.observe(self._on_profile, "profile")
        self.observe(self._on_seed, "seed")
        self.observe(self._on_text_submitted, "text_submitted")

    @property
    def notes(self) -> np.ndarray:
        """The notes shown, ``(N, 4)`` float32 pitch/start/end/velocity, as the browser has
        them (``voices`` holds each note's voice)."""
        return from_float32_bytes(self._notes).reshape(-1, 4)

    def submit_text(self, text: str) -> None:
        """Run the pipeline on ``text``, as the "Use text" button does; the sliders move to
        the profile the pipeline returns."""
        self.text = text
        self.text_submitted += 1

    @traitlets.validate("profile")
    def _validate_profile(self, proposal: traitlets.Bunch) -> dict[str, float]:
        return _check_profile(proposal["value"])

    @traitlets.validate("seed")
    def _validate_seed(self, proposal: traitlets.Bunch) -> int:
        return _check_seed(proposal["value"])

    def _on_profile(self, change: traitlets.Bunch) -> None:
        if self._applying_result:
            return
        self.text = ""
        self._run()

    def _on_seed(self, change: traitlets.Bunch) -> None:
        self._run()

    def _on_text_submitted(self, change: traitlets.Bunch) -> None:
        self._run()

    def _run(self) -> None:
        """Run the pipeline on the current state and show its outputs, or its error."""
        try:
            outputs = _check_result(
                self._pipeline(TasteProfile(**self.profile), self.text, self.seed)
            )
        except Exception as err:  # whatever the pipeline raises is shown, not raised
            self.set_trait("error", f"{type(err).__name__}: {err}")
            return
        with self.hold_sync():
            self._applying_result = True
            try:
                self.profile = outputs.pop("profile")
            finally:
                self._applying_result = False
            for name, value in outputs.items():
                self.set_trait(name, value)
            self.set_trait("error", "")
