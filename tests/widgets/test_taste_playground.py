"""TastePlayground on the Python side: what re-runs the pipeline, the outputs, the errors."""

from __future__ import annotations

import io
import math
import re
import wave

import numpy as np
import pytest
from ipywidgets.widgets.widget import _remove_buffers

from toolkit.music.taste import TASTES, TasteProfile
from widgets import TastePlayground

SR = 8000


class FakePipeline:
    """A stand-in for the taste → music pipeline with outputs that are easy to predict.

    Text names a taste ("sour" -> pure sour) and anything else raises ValueError. Each taste
    above 0 plays one note (pitch 60 + 2·index, velocity from the intensity), alternating
    melody and bass. The audio is a 0.5 s sine (plus 0.1 s per seed) at 220·(1 + sweet) Hz.
    ``calls`` records every (profile, text, seed); ``audio_scale`` breaks the audio.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[TasteProfile, str, int]] = []
        self.audio_scale = 0.5

    def __call__(self, profile: TasteProfile, text: str, seed: int) -> dict:
        self.calls.append((profile, text, seed))
        if text:
            profile = TasteProfile.pure(text.strip(), 0.8)  # ValueError for unknown tastes
        values = profile.as_dict()
        notes = [
            (60 + 2 * i, 0.1 * i, 0.1 * i + 0.2, round(127 * values[t]), ("melody", "bass")[i % 2])
            for i, t in enumerate(TASTES)
            if values[t] > 0
        ]
        t = np.arange(SR // 2 + SR // 10 * seed) / SR
        audio = self.audio_scale * np.sin(2 * np.pi * 220 * (1 + profile.sweet) * t)
        features = {"pitch_hz": 220 * (1 + profile.sweet), "tartness": 10 * profile.sour}
        caption = f"{profile.dominant or 'neutral'} piece, seed {seed}"
        return {
            "profile": profile,
            "notes": notes,
            "audio": audio,
            "sample_rate": SR,
            "features": features,
            "caption": caption,
        }


@pytest.fixture
def pipeline() -> FakePipeline:
    return FakePipeline()


def make(pipeline: FakePipeline, **kwargs) -> TastePlayground:
    kwargs.setdefault("feature_ranges", {"pitch_hz": (200, 500), "tartness": (0, 10)})
    return TastePlayground(pipeline, **kwargs)


def read_wav(data: bytes) -> tuple[int, int, int, np.ndarray]:
    with wave.open(io.BytesIO(data), "rb") as f:
        frames = f.readframes(f.getnframes())
        return f.getnchannels(), f.getsampwidth(), f.getframerate(), np.frombuffer(frames, "<i2")


def profile(**values: float) -> dict[str, float]:
    return {taste: float(values.get(taste, 0.0)) for taste in TASTES}


def test_construction_runs_the_pipeline_once_with_the_initial_state(pipeline):
    w = make(pipeline, profile={"sweet": 0.5, "sour": 0.25}, seed=2, title="Taste → music")
    assert pipeline.calls == [(TasteProfile(sweet=0.5, sour=0.25), "", 2)]
    assert w.title == "Taste → music"
    assert w.tastes == list(TASTES)
    assert w.profile == profile(sweet=0.5, sour=0.25)  # all five tastes, in order
    assert list(w.profile) == list(TASTES)
    assert (w.seed, w.text, w.error) == (2, "", "")
    assert w.caption == "sweet piece, seed 2"
    np.testing.assert_array_equal(w.notes, np.float32([[60, 0, 0.2, 64], [62, 0.1, 0.3, 32]]))
    assert w.notes.dtype == np.float32
    assert w.voices == ["melody", "bass"]
    assert w.features == {"pitch_hz": 330.0, "tartness": 2.5}
    assert w.feature_ranges == {"pitch_hz": [200.0, 500.0], "tartness": [0.0, 10.0]}
    assert w.duration == pytest.approx(0.7)


def test_audio_is_a_16_bit_mono_wav_of_the_samples(pipeline):
    w = make(pipeline, profile={"sweet": 1.0}, seed=1)
    channels, width, rate, pcm = read_wav(w._audio)
    assert (channels, width, rate) == (1, 2, SR)
    assert len(pcm) == SR // 2 + SR // 10  # one frame per sample
    t = np.arange(len(pcm)) / SR
    expected = np.round(0.5 * np.sin(2 * np.pi * 440 * t) * 32767)
    np.testing.assert_array_equal(pcm, expected)


def test_state_sends_notes_and_audio_as_binary_buffers(pipeline):
    w = make(pipeline, profile={"umami": 1.0})
    state, paths, buffers = _remove_buffers(w.get_state())
    assert sorted(map(tuple, paths)) == [("_audio",), ("_notes",)]
    sent = dict(zip((p[0] for p in paths), buffers, strict=True))
    notes = np.frombuffer(sent["_notes"], "<f4").reshape(-1, 4)
    np.testing.assert_array_equal(notes, np.float32([[68, 0.4, 0.6, 127]]))
    assert bytes(sent["_audio"]).startswith(b"RIFF")
    assert state["profile"] == profile(umami=1.0)


def test_profile_and_seed_changes_rerun_and_update_the_outputs(pipeline):
    w = make(pipeline)
    assert w.caption == "neutral piece, seed 0" and len(w.notes) == 0
    audio_before = w._audio

    w.profile = {"sweet": 1.0, "bitter": 0.5}
    assert pipeline.calls[-1] == (TasteProfile(sweet=1.0, bitter=0.5), "", 0)
    assert w.caption == "sweet piece, seed 0"
    np.testing.assert_array_equal(w.notes[:, 0], [60, 64])
    assert w.features == {"pitch_hz": 440.0, "tartness": 0.0}
    assert w._audio != audio_before
    assert read_wav(w._audio)[2:3] == (SR,)

    w.seed = 3
    assert pipeline.calls[-1] == (TasteProfile(sweet=1.0, bitter=0.5), "", 3)
    assert w.caption == "sweet piece, seed 3"
    assert len(read_wav(w._audio)[3]) == SR // 2 + 3 * SR // 10
    assert w.duration == pytest.approx(0.8)

    w.profile = TasteProfile.pure("salty")  # a TasteProfile works too
    assert w.profile == profile(salty=1.0)
    assert w.caption == "salty piece, seed 3"
    assert len(pipeline.calls) == 4


def test_text_runs_only_when_submitted_and_moves_the_sliders(pipeline):
    w = make(pipeline, profile={"sweet": 0.5})
    w.text = "sour"  # typing (or assigning) alone runs nothing
    assert len(pipeline.calls) == 1

    w.submit_text("sour")
    assert pipeline.calls[-1] == (TasteProfile(sweet=0.5), "sour", 0)
    assert w.text_submitted == 1
    assert w.profile == profile(sour=0.8)  # the pipeline's profile, without another run
    assert len(pipeline.calls) == 2
    assert w.caption == "sour piece, seed 0"
    assert w.features["tartness"] == 8.0

    w.seed = 1  # a seed change keeps the text in effect
    assert pipeline.calls[-1] == (TasteProfile(sour=0.8), "sour", 1)
    assert w.text == "sour"

    w.submit_text("sour")  # submitting the same text again still runs
    assert len(pipeline.calls) == 4

    w.profile = {"bitter": 1.0}  # a slider move: the sliders rule again
    assert pipeline.calls[-1] == (TasteProfile(bitter=1.0), "", 1)
    assert w.text == ""
    assert w.caption == "bitter piece, seed 1"


def test_browser_messages_run_the_pipeline(pipeline):
    """What the view sends: a released slider, a seed, and a text submission."""
    w = make(pipeline)
    w.set_state({"profile": profile(sweet=0.35)})
    assert pipeline.calls[-1] == (TasteProfile(sweet=0.35), "", 0)
    w.set_state({"seed": 5})
    assert pipeline.calls[-1] == (TasteProfile(sweet=0.35), "", 5)
    w.set_state({"text": "bitter", "text_submitted": 1})
    assert pipeline.calls[-1] == (TasteProfile(sweet=0.35), "bitter", 5)
    assert w.profile == profile(bitter=0.8)
    assert len(pipeline.calls) == 4
    with pytest.raises(ValueError, match=r"sweet must be >= 0.0 and <= 1.0, got 2"):
        w.set_state({"profile": profile(sweet=2), "seed": 6})  # rolled back as a whole
    assert (w.profile, w.seed, len(pipeline.calls)) == (profile(bitter=0.8), 5, 4)


def test_initial_text_sets_the_starting_profile(pipeline):
    w = make(pipeline, text="umami", seed=4)
    assert pipeline.calls == [(TasteProfile(), "umami", 4)]
    assert w.profile == profile(umami=0.8)
    assert (w.text, w.caption) == ("umami", "umami piece, seed 4")


def test_a_pipeline_error_is_shown_and_keeps_the_last_outputs(pipeline):
    w = make(pipeline, profile={"sweet": 1.0})
    before = {name: getattr(w, name) for name in ("_notes", "_audio", "features", "caption")}
    w.submit_text("spicy")
    assert w.error.startswith("ValueError: taste must be one of") and "'spicy'" in w.error
    assert {name: getattr(w, name) for name in before} == before
    assert w.profile == profile(sweet=1.0)

    w.seed = 1  # still text "spicy": fails again
    assert "got 'spicy'" in w.error
    w.profile = {"sour": 0.5}  # back to the sliders: a good run clears the error
    assert w.error == ""
    assert w.caption == "sour piece, seed 1"


@pytest.mark.parametrize(
    ("scale", "message"),
    [
        (1.5, r"audio sample 3 is 1.29111; expected values in \[-1, 1\]"),  # sin(2π·440·3/8000)
        (math.nan, r"audio has a non-finite value \(nan\) at index 0"),
    ],
)
def test_bad_audio_from_the_pipeline_is_shown_not_raised(pipeline, scale, message):
    w = make(pipeline, profile={"sweet": 1.0})
    caption, audio = w.caption, w._audio
    pipeline.audio_scale = scale
    w.seed = 1
    assert re.match(f"ValueError: {message}", w.error), w.error
    assert (w.caption, w._audio) == (caption, audio)


def test_malformed_results_are_shown(pipeline):
    w = make(pipeline)
    w._pipeline = lambda profile, text, seed: {"profile": profile, "notes": []}
    w.seed = 1
    assert w.error.startswith("ValueError: the pipeline's result has no 'audio', 'sample_rate'")
    w._pipeline = lambda profile, text, seed: (
        pipeline(profile, text, seed) | {"notes": [(60, 0.5, 0.25, 90, "melody")]}
    )
    w.seed = 2
    assert "notes[0] spans 0.5 s to 0.25 s" in w.error


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        ({"sweet": -0.1}, ValueError, r"profile: sweet must be >= 0.0 and <= 1.0, got -0.1"),
        ({"sour": math.nan}, ValueError, r"profile: sour must be a finite number, got nan"),
        ({"bitter": 1.5}, ValueError, r"profile: bitter must be >= 0.0 and <= 1.0, got 1.5"),
        ({"spicy": 0.5}, ValueError, r"profile has an unknown taste 'spicy'"),
        ({"salty": "a lot"}, TypeError, r"profile: salty must be a number, got 'a lot'"),
        ([0.1] * 5, TypeError, r"profile must map tastes to intensities"),
    ],
)
def test_bad_profiles_raise_naming_the_taste(pipeline, bad, error, message):
    w = make(pipeline, profile={"umami": 0.5})
    with pytest.raises(error, match=message):
        w.profile = bad
    assert w.profile == profile(umami=0.5)  # unchanged, and nothing ran
    assert len(pipeline.calls) == 1
    with pytest.raises(error, match=message):
        make(FakePipeline(), profile=bad)


def test_bad_seeds_raise(pipeline):
    w = make(pipeline)
    with pytest.raises(ValueError, match=r"seed must be an int >= 0, got -1"):
        w.seed = -1
    assert w.seed == 0
    with pytest.raises(TypeError, match=r"seed must be an int >= 0, got float 1.5"):
        make(pipeline, seed=1.5)


def test_numpy_intensities_are_accepted(pipeline):
    w = make(pipeline, profile={"sweet": np.float32(0.5), "sour": np.int64(1)})
    assert w.profile == profile(sweet=0.5, sour=1.0)


def test_feature_ranges_are_inferred_from_the_pure_tastes_and_neutral(pipeline):
    w = TastePlayground(pipeline, profile={"sour": 0.5}, seed=7)
    probes = [p for p, _, _ in pipeline.calls[1:]]
    assert probes == [TasteProfile.pure(t) for t in TASTES] + [TasteProfile()]
    assert all(seed == 7 and text == "" for _, text, seed in pipeline.calls)
    assert w.feature_ranges == {"pitch_hz": [220.0, 440.0], "tartness": [0.0, 10.0]}


def test_constant_inferred_features_get_a_range_around_them():
    def pipeline(profile, text, seed):
        return FakePipeline()(profile, text, seed) | {"features": {"loudness": -20.0, "zero": 0}}

    w = TastePlayground(pipeline)
    assert w.feature_ranges == {"loudness": [-30.0, -10.0], "zero": [-0.5, 0.5]}


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ({"pitch_hz": (200, 500)}, r"feature_ranges has no range for 'tartness'"),
        ({"pitch_hz": (5, 5), "tartness": (0, 1)}, r"feature_ranges\['pitch_hz'\] is \[5, 5\]"),
        ({"pitch_hz": (0, math.inf), "tartness": (0, 1)}, r"non-finite value \(inf\)"),
        ({"pitch_hz": (0, 1, 2), "tartness": (0, 1)}, r"has 3 values for 2 bounds"),
    ],
)
def test_bad_feature_ranges_raise(pipeline, ranges, message):
    with pytest.raises(ValueError, match=message):
        TastePlayground(pipeline, feature_ranges=ranges)


def test_construction_raises_pipeline_errors(pipeline):
    with pytest.raises(ValueError, match=r"taste must be one of .* got 'spicy'"):
        make(pipeline, text="spicy")
    with pytest.raises(TypeError, match=r"pipeline must be callable"):
        TastePlayground("not a pipeline")
