"""The composer: seeded, in key, cadential, and faithful to its parameters."""

import numpy as np
import pretty_midi
import pytest

from toolkit.music.composer import PROGRAMS, VOICES, Key, compose
from toolkit.music.params import MusicParams

BASE = MusicParams()


def out_of_key_share(piece):
    return np.mean([not piece.key.contains(n.pitch) for n in piece.notes])


def test_same_seed_same_piece_other_seed_other_piece():
    assert compose(BASE, seed=3, bars=4) == compose(BASE, seed=3, bars=4)
    pieces = {
        tuple((n.pitch, n.start) for n in compose(BASE, seed=s, bars=4).notes) for s in range(5)
    }
    assert len(pieces) == 5


def test_piece_structure():
    piece = compose(BASE, seed=1, bars=8, beats_per_bar=4)
    assert piece.duration == pytest.approx(8 * 4 * 60 / BASE.tempo_bpm)
    assert {n.voice for n in piece.notes} == set(VOICES)
    assert all(0 <= n.start < n.end <= piece.duration + 1e-9 for n in piece.notes)
    assert all(1 <= n.velocity <= 127 and 0 <= n.pitch <= 127 for n in piece.notes)
    assert [n.start for n in piece.notes] == sorted(n.start for n in piece.notes)
    assert piece.key.mode == BASE.mode and 0 <= piece.key.tonic < 12


def test_minor_key_uses_harmonic_minor():
    assert Key(9, "minor").scale == (9, 11, 0, 2, 4, 5, 8)  # A minor with G#
    assert Key(0, "major").chord(4) == (7, 11, 2)
    assert compose(BASE.with_overrides(mode="minor"), seed=0, bars=4).key.mode == "minor"


@pytest.mark.parametrize("mode", ["major", "minor"])
def test_full_consonance_keeps_every_note_in_key(mode):
    for seed in range(4):
        piece = compose(BASE.with_overrides(consonance=1.0, mode=mode), seed=seed, bars=8)
        assert {n.pitch % 12 for n in piece.notes} <= set(piece.key.scale)


def test_low_consonance_adds_out_of_key_notes():
    def share(consonance):
        params = BASE.with_overrides(consonance=consonance)
        return np.mean([out_of_key_share(compose(params, seed=s, bars=8)) for s in range(4)])

    assert share(1.0) == 0 < share(0.7) < share(0.2) < share(0.0)


def test_the_piece_ends_on_the_tonic_and_inner_phrases_on_the_dominant():
    for seed in range(6):
        piece = compose(BASE, seed=seed, bars=8)
        melody, bass = piece.voice("melody"), piece.voice("bass")
        assert melody[-1].pitch % 12 == piece.key.tonic
        assert bass[-1].pitch % 12 == piece.key.tonic
        bar = piece.beats_per_bar * 60 / BASE.tempo_bpm
        dominant = set(piece.key.chord(4))
        fourth_bar = {n.pitch % 12 for n in piece.voice("harmony") if 3 * bar <= n.start < 4 * bar}
        assert dominant <= fourth_bar
        assert [n for n in melody if n.start < 4 * bar][-1].pitch % 12 in dominant
    short = compose(BASE, seed=2, bars=2)
    assert short.voice("melody")[-1].pitch % 12 == short.key.tonic


def test_melody_stays_near_pitch_center_and_moves_mostly_by_step():
    for center in (48, 72):
        piece = compose(BASE.with_overrides(pitch_center=center, consonance=1.0), seed=0)
        pitches = np.array([n.pitch for n in piece.voice("melody")])
        assert np.all(np.abs(pitches - center) <= 12)
        assert abs(pitches.mean() - center) < 5
        assert np.mean(np.abs(np.diff(pitches)) <= 2) > 0.5


def test_articulation_shortens_notes_and_keeps_the_rest():
    legato = compose(BASE.with_overrides(articulation=1.0), seed=5, bars=4)
    staccato = compose(BASE.with_overrides(articulation=0.3), seed=5, bars=4)
    assert [(n.pitch, n.start) for n in legato.notes] == [
        (n.pitch, n.start) for n in staccato.notes
    ]
    for a, b in zip(legato.notes, staccato.notes, strict=True):
        assert b.end - b.start == pytest.approx(0.3 * (a.end - a.start))


def test_tempo_scales_all_times():
    slow = compose(BASE.with_overrides(tempo_bpm=60.0), seed=4, bars=4)
    fast = compose(BASE.with_overrides(tempo_bpm=120.0), seed=4, bars=4)
    assert slow.duration == pytest.approx(2 * fast.duration)
    assert [n.pitch for n in slow.notes] == [n.pitch for n in fast.notes]
    assert np.allclose([n.start for n in slow.notes], [2 * n.start for n in fast.notes])
    assert np.allclose([n.end for n in slow.notes], [2 * n.end for n in fast.notes])


def test_loudness_sets_velocity():
    soft = compose(BASE.with_overrides(loudness=0.2), seed=0, bars=4)
    loud = compose(BASE.with_overrides(loudness=0.9), seed=0, bars=4)
    assert np.mean([n.velocity for n in soft.notes]) + 50 < np.mean(
        [n.velocity for n in loud.notes]
    )


def test_midi_round_trip(tmp_path):
    piece = compose(BASE.with_overrides(instrument="brass", articulation=0.45), seed=7, bars=4)
    path = piece.to_midi(tmp_path / "piece.mid")
    midi = pretty_midi.PrettyMIDI(str(path))
    assert [i.name for i in midi.instruments] == list(VOICES)
    assert midi.instruments[0].program == PROGRAMS["brass"]
    for instrument in midi.instruments:
        got = sorted((n.pitch, n.start, n.end, n.velocity) for n in instrument.notes)
        want = sorted((n.pitch, n.start, n.end, n.velocity) for n in piece.voice(instrument.name))
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert g[0] == w[0] and g[3] == w[3]
            assert g[1] == pytest.approx(w[1], abs=2e-3) and g[2] == pytest.approx(w[2], abs=2e-3)


def test_piano_roll_shape_and_content():
    piece = compose(BASE, seed=0, bars=4)
    roll = piece.piano_roll(fs=20)
    assert roll.shape == (128, int(np.ceil(piece.duration * 20)))
    assert roll.max() == max(n.velocity for n in piece.notes)
    first = piece.notes[0]
    assert roll[first.pitch, int(round(first.start * 20))] > 0


def test_invalid_length_is_rejected():
    with pytest.raises(ValueError):
        compose(BASE, bars=0)
