"""Synthesis: bounded audio, distinct timbres, and the FluidSynth fallback."""

import sys
import warnings

import numpy as np
import pytest

from toolkit.music import synth
from toolkit.music.composer import Note, Piece, compose
from toolkit.music.params import MusicParams

SR = 8000


def single_note(instrument, pitch=60, seconds=1.5, velocity=100):
    params = MusicParams(instrument=instrument, tempo_bpm=60.0)
    note = Note(pitch, 0.0, seconds, velocity, "melody")
    return Piece((note,), params, 0, seconds, compose(params, bars=1).key, 1, 1)


def centroid(audio, sr=SR):
    spectrum = np.abs(np.fft.rfft(audio))
    return float((spectrum * np.fft.rfftfreq(len(audio), 1 / sr)).sum() / spectrum.sum())


@pytest.fixture
def no_fluidsynth(monkeypatch):
    monkeypatch.setattr(synth.shutil, "which", lambda name: None)
    monkeypatch.setattr(synth, "_notified", False)


def test_render_is_finite_bounded_and_as_long_as_the_piece():
    piece = compose(MusicParams(tempo_bpm=160.0, loudness=1.0), seed=0, bars=2)
    audio = synth.render(piece, sample_rate=SR, backend="builtin")
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert np.isfinite(audio).all() and np.abs(audio).max() <= 1.0
    assert len(audio) == pytest.approx((piece.duration + synth.TAIL_SECONDS) * SR, abs=1)
    assert np.abs(audio).max() > 0.05


def test_every_instrument_renders_and_sounds_different():
    audio = {i: synth.render(single_note(i), SR, backend="builtin") for i in synth.ENVELOPES}
    for name, a in audio.items():
        assert np.isfinite(a).all() and 0 < np.abs(a).max() <= 1.0, name
    names = list(audio)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not np.allclose(audio[a], audio[b], atol=1e-3), (a, b)


def test_brass_is_brighter_than_flute_and_brighter_when_louder():
    brass = synth.render(single_note("brass"), SR, backend="builtin")
    flute = synth.render(single_note("flute"), SR, backend="builtin")
    assert centroid(brass) > 1.5 * centroid(flute)
    soft = synth.render(single_note("brass", velocity=40), SR, backend="builtin")
    assert centroid(brass) > centroid(soft)


def test_marimba_decays_faster_than_strings():
    def late_over_early(instrument):
        audio = synth.render(single_note(instrument), SR, backend="builtin")
        early, late = audio[int(0.1 * SR) : int(0.5 * SR)], audio[int(1.0 * SR) : int(1.4 * SR)]
        return np.sqrt(np.mean(late**2) / np.mean(early**2))

    assert late_over_early("marimba") < 0.1 < 0.7 < late_over_early("strings")


def test_velocity_sets_amplitude():
    loud = synth.render(single_note("piano", velocity=120), SR, backend="builtin")
    soft = synth.render(single_note("piano", velocity=40), SR, backend="builtin")
    assert np.sqrt(np.mean(loud**2)) == pytest.approx(3 * np.sqrt(np.mean(soft**2)), rel=0.05)


def test_missing_fluidsynth_falls_back_with_one_notice(no_fluidsynth):
    piece = compose(MusicParams(), seed=0, bars=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = synth.render(piece, SR)
        second = synth.render(piece, SR)
        synth.render(piece, SR, backend="builtin")
    assert len(caught) == 1 and "fluidsynth" in str(caught[0].message).lower()
    assert np.array_equal(first, second)
    assert np.array_equal(first, synth.render(piece, SR, backend="builtin"))


def test_builtin_backend_never_notifies(no_fluidsynth):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        synth.render(compose(MusicParams(), seed=0, bars=1), SR, backend="builtin")


def test_explicit_fluidsynth_without_it_says_what_to_install(no_fluidsynth):
    with pytest.raises(RuntimeError, match="apt-get install fluidsynth fluid-soundfont-gm"):
        synth.render(compose(MusicParams(), seed=0, bars=1), SR, backend="fluidsynth")


def test_unknown_backend_is_rejected():
    with pytest.raises(ValueError, match="backend"):
        synth.render(compose(MusicParams(), seed=0, bars=1), SR, backend="sox")


FAKE_FLUIDSYNTH = """#!{python}
import sys, wave
import numpy as np
args = sys.argv[1:]
out, rate = args[args.index("-F") + 1], int(args[args.index("-r") + 1])
assert args[-2].endswith(".sf2") and args[-1].endswith(".mid")
tone = (0.25 * 32767 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype("<i2")
with wave.open(out, "wb") as f:
    f.setnchannels(2)
    f.setsampwidth(2)
    f.setframerate(rate)
    f.writeframes(np.repeat(tone, 2).tobytes())
"""


def test_auto_uses_fluidsynth_when_installed(tmp_path, monkeypatch):
    program = tmp_path / "fluidsynth"
    program.write_text(FAKE_FLUIDSYNTH.format(python=sys.executable))
    program.chmod(0o755)
    soundfont = tmp_path / "gm.sf2"
    soundfont.write_bytes(b"")
    monkeypatch.setattr(synth.shutil, "which", lambda name: str(program))
    monkeypatch.setenv(synth.SOUNDFONT_ENV, str(soundfont))
    piece = compose(MusicParams(tempo_bpm=200.0), seed=0, bars=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        audio = synth.render(piece, SR)
    assert len(audio) == round((piece.duration + synth.TAIL_SECONDS) * SR)
    assert np.abs(audio[: SR // 2]).max() == pytest.approx(0.25, abs=1e-3)
    assert np.all(audio[SR:] == 0)  # padded past what FluidSynth returned


def test_write_wav_round_trip(tmp_path):
    audio = (0.5 * np.sin(np.linspace(0, 200, 4000))).astype(np.float32)
    path = synth.write_wav(np.append(audio, [1.5, -1.5]), tmp_path / "a.wav", SR)
    back, rate = synth.read_wav(path)
    assert rate == SR and len(back) == len(audio) + 2
    assert np.allclose(back[:-2], audio, atol=1 / 32767)
    assert back[-2] == pytest.approx(1.0, abs=1e-4) and back[-1] == pytest.approx(-1.0, abs=1e-4)


def test_audio_player_does_not_normalize(tmp_path):
    player = synth.audio_player(np.full(800, 0.1, dtype=np.float32), SR)
    path = tmp_path / "player.wav"
    path.write_bytes(player.data)
    played, rate = synth.read_wav(path)
    assert rate == SR and np.allclose(played, 0.1, atol=1e-3)
