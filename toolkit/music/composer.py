"""A small seeded composer: musical parameters become a three-voice piece.

The piece is deliberately plain tonal music, so that the parameters chosen from a taste
(:mod:`toolkit.music.mapping`) are what a listener notices:

* **Key and form.** The seed picks the tonic; ``params.mode`` picks major or (harmonic)
  minor. Bars group into 4-bar phrases with one chord per bar, each phrase drawn from a
  small set of progressions (I–vi–IV–V style in major, i–VI–iv–V in minor). Inner phrases
  end on V (half cadence), the last on V–I with the melody on the tonic.
* **Melody.** Mostly stepwise in the scale around ``pitch_center``, chord tones on strong
  beats, pulled back toward the centre when it strays.
* **Rhythm.** Note slots are counted in beats, so ``tempo_bpm`` scales every time; the seed
  sets how often beats split into halves or merge into longer notes.
* **Articulation** is the share of each slot that sounds (1 legato, 0.3 staccato).
* **Loudness** sets the velocity, with small seeded accents and jitter.
* **Consonance** below 1 adds colour: out-of-key neighbour notes in the melody and added
  seconds or tritones in the harmony — the lower, the more and the harsher. At 1 every note
  is in the scale.

Every random choice comes from ``numpy.random.default_rng(seed)`` and is drawn whatever the
parameters, so changing tempo or articulation keeps the notes and changing consonance
changes only the colouring decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pretty_midi

from toolkit._checks import check_choice, check_int, check_number, describe
from toolkit.music.params import MusicParams

VOICES = ("melody", "harmony", "bass")
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 11)}  # harmonic minor

# Progressions as scale degrees (0 = I), one chord per bar of a 4-bar phrase.
OPENING = {
    "major": ((0, 5, 3, 4), (0, 3, 1, 4), (0, 4, 5, 4)),
    "minor": ((0, 5, 3, 4), (0, 3, 5, 4), (0, 3, 0, 4)),
}
CLOSING = {
    "major": ((0, 3, 4, 0), (5, 1, 4, 0), (0, 5, 4, 0)),
    "minor": ((0, 3, 4, 0), (5, 3, 4, 0), (0, 5, 4, 0)),
}
PHRASE_BARS = 4

# General-MIDI programs (0-based) per instrument: the upper voices, and the bass.
PROGRAMS = {"piano": 0, "strings": 48, "brass": 61, "marimba": 12, "flute": 73}
BASS_PROGRAMS = {"piano": 0, "strings": 42, "brass": 58, "marimba": 12, "flute": 70}

# Chance of a clash added above each chord tone (low to high), times (1 − consonance): a
# major second, or when harsher (again with odds 1 − consonance) a minor second or tritone.
ADDED_TONE_ODDS = (1.0, 0.7, 0.4)
MELODY_SPAN = 12  # semitones either side of pitch_center
VOICE_OFFSETS = {"harmony": -10, "bass": -20}  # register centres relative to pitch_center
LOWEST_BASS = 28
MAX_BARS = 256  # about ten minutes of common time at 100 BPM
MAX_BEATS_PER_BAR = 16


@dataclass(frozen=True)
class Note:
    """One note; times in seconds."""

    pitch: int
    start: float
    end: float
    velocity: int
    voice: str


@dataclass(frozen=True)
class Key:
    """Tonic pitch class (0 = C) and mode."""

    tonic: int
    mode: str

    @property
    def scale(self) -> tuple[int, ...]:
        """Pitch classes of the scale, tonic first."""
        return tuple((self.tonic + step) % 12 for step in SCALES[self.mode])

    @property
    def name(self) -> str:
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"

    def contains(self, pitch: int) -> bool:
        return pitch % 12 in self.scale

    def chord(self, degree: int) -> tuple[int, int, int]:
        """Pitch classes (root, third, fifth) of the diatonic triad on ``degree`` (0 = I)."""
        scale = self.scale
        return tuple(scale[(degree + i) % 7] for i in (0, 2, 4))


@dataclass(frozen=True)
class Piece:
    """A composed piece: notes of all voices sorted by start, and how it was made."""

    notes: tuple[Note, ...]
    params: MusicParams
    seed: int
    duration: float
    key: Key
    bars: int
    beats_per_bar: int

    def voice(self, name: str) -> tuple[Note, ...]:
        """The notes of one voice (``"melody"``, ``"harmony"`` or ``"bass"``)."""
        check_choice("voice", name, VOICES)
        return tuple(n for n in self.notes if n.voice == name)

    def to_pretty_midi(self) -> pretty_midi.PrettyMIDI:
        """One instrument per voice, General-MIDI programs matching ``params.instrument``."""
        midi = pretty_midi.PrettyMIDI(initial_tempo=self.params.tempo_bpm, resolution=480)
        for name in VOICES:
            table = BASS_PROGRAMS if name == "bass" else PROGRAMS
            track = pretty_midi.Instrument(program=table[self.params.instrument], name=name)
            for n in self.voice(name):
                track.notes.append(pretty_midi.Note(n.velocity, n.pitch, n.start, n.end))
            midi.instruments.append(track)
        return midi

    def to_midi(self, path: str | Path) -> Path:
        """Write a standard MIDI file; returns its path."""
        path = Path(path)
        self.to_pretty_midi().write(str(path))
        return path

    def piano_roll(self, fs: int = 20) -> np.ndarray:
        """Velocity piano roll, shape ``(128, ceil(duration × fs))``; loudest note wins.
        ``fs`` (frames per second) must be a positive finite number."""
        fs = check_number("fs", fs, minimum=0.0, strict_min=True)
        frames = int(np.ceil(self.duration * fs))
        roll = np.zeros((128, frames), dtype=np.int16)
        for n in self.notes:
            a = min(int(round(n.start * fs)), frames - 1)
            b = max(int(round(n.end * fs)), a + 1)
            roll[n.pitch, a:b] = np.maximum(roll[n.pitch, a:b], n.velocity)
        return roll


def _scale_pitches(key: Key) -> np.ndarray:
    return np.array([p for p in range(128) if key.contains(p)])


def _nearest(pitches: np.ndarray, target: float) -> int:
    return int(pitches[np.argmin(np.abs(pitches - target))])


def _pitches_of(pcs: tuple[int, ...], lo: int, hi: int) -> np.ndarray:
    return np.array([p for p in range(max(lo, 0), min(hi, 127) + 1) if p % 12 in pcs])


def _progression(key: Key, bars: int, rng: np.random.Generator) -> list[int]:
    """Scale degree of each bar's chord; the piece ends on a closing progression."""
    degrees: list[int] = []
    n_phrases = -(-bars // PHRASE_BARS)
    for phrase in range(n_phrases):
        length = min(PHRASE_BARS, bars - phrase * PHRASE_BARS)
        closing = phrase == n_phrases - 1
        options = (CLOSING if closing else OPENING)[key.mode]
        choice = options[rng.integers(len(options))]
        degrees.extend(choice[PHRASE_BARS - length :] if closing else choice[:length])
    return degrees


def _bar_rhythm(
    beats: int, final: bool, split: float, merge: float, rng: np.random.Generator
) -> list[float]:
    """Slot lengths in beats summing to ``beats``; a phrase-final bar ends on a long note."""
    draws = rng.random((beats, 2))
    if final:
        held = max(beats // 2, 1)
        return [1.0] * (beats - held) + [float(held)]
    slots: list[float] = []
    beat = 0
    while beat < beats:
        u_merge, u_split = draws[beat]
        if u_merge < merge and beat + 1 < beats:
            slots.append(2.0)
            beat += 2
        elif u_split < split:
            slots.extend([0.5, 0.5])
            beat += 1
        else:
            slots.append(1.0)
            beat += 1
    return slots


def _is_strong(offset: float, beats_per_bar: int) -> bool:
    return offset == 0 or (beats_per_bar % 2 == 0 and offset == beats_per_bar // 2)


def _chromatic_neighbour(pitch: int, key: Key, up_first: bool) -> int | None:
    for step in (1, -1) if up_first else (-1, 1):
        if not key.contains(pitch + step):
            return pitch + step
    return None


def _melody(
    params: MusicParams,
    key: Key,
    degrees: list[int],
    beats_per_bar: int,
    rng: np.random.Generator,
) -> list[tuple[float, float, int, bool]]:
    """Melody as ``(start_beat, length_beats, pitch, strong)``."""
    center = params.pitch_center
    lo, hi = center - MELODY_SPAN, center + MELODY_SPAN
    scale = _scale_pitches(key)
    scale = scale[(scale >= lo) & (scale <= hi)]
    dissonance = 1.0 - params.consonance
    split, merge = rng.uniform(0.1, 0.4), rng.uniform(0.05, 0.3)
    pitch = _nearest(_pitches_of(key.chord(degrees[0]), lo, hi), center)
    notes: list[tuple[float, float, int, bool]] = []
    for bar, degree in enumerate(degrees):
        phrase_end = (bar + 1) % PHRASE_BARS == 0 or bar == len(degrees) - 1
        chord_tones = _pitches_of(key.chord(degree), lo, hi)
        slots = _bar_rhythm(beats_per_bar, phrase_end, split, merge, rng)
        offset = 0.0
        for i, length in enumerate(slots):
            strong = _is_strong(offset, beats_per_bar)
            step = rng.choice((-2, -1, 0, 1, 2), p=(0.1, 0.35, 0.1, 0.35, 0.1))
            jitter, u_colour, u_up = rng.random(3)
            if phrase_end and i == len(slots) - 1:
                targets = chord_tones
                if bar == len(degrees) - 1:
                    targets = _pitches_of((key.tonic,), lo, hi)
                pitch = _nearest(targets, pitch)
            elif strong:
                score = np.abs(chord_tones - pitch) + 0.3 * np.abs(chord_tones - center)
                best, second = np.argsort(score, kind="stable")[:2]
                pitch = int(chord_tones[second if jitter < 0.3 else best])
            else:
                if abs(pitch - center) > MELODY_SPAN // 2:
                    step = -abs(step) if pitch > center else abs(step)
                index = int(np.argmin(np.abs(scale - pitch))) + step
                pitch = int(scale[min(max(index, 0), len(scale) - 1)])
                if u_colour < 0.5 * dissonance:
                    neighbour = _chromatic_neighbour(pitch, key, up_first=u_up < 0.5)
                    pitch = pitch if neighbour is None else neighbour
            notes.append((bar * beats_per_bar + offset, length, pitch, strong))
            offset += length
    return notes


def _accompaniment(
    params: MusicParams,
    key: Key,
    degrees: list[int],
    beats_per_bar: int,
    rng: np.random.Generator,
) -> list[tuple[str, float, float, int, bool]]:
    """Harmony and bass as ``(voice, start_beat, length_beats, pitch, strong)``."""
    bass_center = max(params.pitch_center + VOICE_OFFSETS["bass"], LOWEST_BASS + 3)
    harmony_center = max(params.pitch_center + VOICE_OFFSETS["harmony"], bass_center + 12)
    dissonance = 1.0 - params.consonance
    halves = beats_per_bar % 2 == 0
    u_split, u_bass = rng.random(2)
    harmony_split = halves and u_split < 0.5
    bass_style = int(3 * u_bass) if halves else 0  # 0 whole bar, 1 root–fifth, 2 every beat
    events: list[tuple[str, float, float, int, bool]] = []
    for bar, degree in enumerate(degrees):
        start = float(bar * beats_per_bar)
        chord = key.chord(degree)
        last = bar == len(degrees) - 1
        hits = 2 if harmony_split and not last else 1
        length = beats_per_bar / hits
        for h in range(hits):
            triad = sorted(_nearest(_pitches_of((pc,), 0, 127), harmony_center) for pc in chord)
            voicing = set(triad)
            u_add, u_harsh, u_pick = rng.random((3, len(triad)))
            for k, tone in enumerate(triad):
                if u_add[k] < dissonance * ADDED_TONE_ODDS[k]:
                    harsh = u_harsh[k] < dissonance
                    voicing.add(tone + ((1, 6)[int(u_pick[k] < 0.5)] if harsh else 2))
            for p in sorted(voicing):
                events.append(("harmony", start + h * length, length, p, h == 0))
        root_pc, _, fifth_pc = chord
        bass_root = _nearest(_pitches_of((root_pc,), LOWEST_BASS, 127), bass_center)
        bass_fifth = _nearest(_pitches_of((fifth_pc,), LOWEST_BASS, 127), bass_root + 7)
        style = 0 if last else bass_style
        if style == 0:
            pattern = [(0.0, float(beats_per_bar), bass_root)]
        elif style == 1:
            half = beats_per_bar / 2
            pattern = [(0.0, half, bass_root), (half, half, bass_fifth)]
        else:
            pattern = [(float(b), 1.0, bass_root) for b in range(beats_per_bar)]
        for offset, span, p in pattern:
            events.append(("bass", start + offset, span, p, _is_strong(offset, beats_per_bar)))
    return events


def compose(params: MusicParams, seed: int = 0, bars: int = 8, beats_per_bar: int = 4) -> Piece:
    """Compose a melody, harmony and bass for ``params``.

    Args:
        params: what to express (register, tempo, articulation, consonance, mode, loudness).
        seed: picks the key, progressions, rhythm and melody; same seed, same piece.
        bars: length; grouped into 4-bar phrases (a shorter last phrase keeps its cadence).
        beats_per_bar: beats in a bar (4 for common time).

    Returns:
        The :class:`Piece`, notes sorted by start time.

    Raises:
        TypeError: ``params`` is not a ``MusicParams`` (map a taste profile first with
            :func:`toolkit.music.mapping.params_from_taste`), or ``seed``, ``bars`` or
            ``beats_per_bar`` is not an int.
        ValueError: a negative ``seed``, ``bars`` outside [1, :data:`MAX_BARS`] or
            ``beats_per_bar`` outside [1, :data:`MAX_BEATS_PER_BAR`].
    """
    if not isinstance(params, MusicParams):
        raise TypeError(
            f"params must be a MusicParams, got {describe(params)}; "
            "map a taste profile with toolkit.music.mapping.params_from_taste"
        )
    seed = check_int("seed", seed, minimum=0)
    bars = check_int("bars", bars, minimum=1, maximum=MAX_BARS)
    beats_per_bar = check_int("beats_per_bar", beats_per_bar, minimum=1, maximum=MAX_BEATS_PER_BAR)
    rng = np.random.default_rng(seed)
    key = Key(int(rng.integers(12)), params.mode)
    degrees = _progression(key, bars, rng)
    melody = [("melody", *note) for note in _melody(params, key, degrees, beats_per_bar, rng)]
    events = melody + _accompaniment(params, key, degrees, beats_per_bar, rng)

    seconds_per_beat = 60.0 / params.tempo_bpm
    base_velocity = params.loudness * 127
    voice_level = {"melody": 0.0, "harmony": -14.0, "bass": -8.0}
    jitter = rng.normal(0.0, 3.0, len(events))
    notes = []
    for (voice, beat, length, pitch, strong), noise in zip(events, jitter, strict=True):
        accent = 6.0 if strong else -3.0
        velocity = int(np.clip(round(base_velocity + voice_level[voice] + accent + noise), 1, 127))
        start = beat * seconds_per_beat
        end = start + length * params.articulation * seconds_per_beat
        notes.append(Note(int(pitch), start, end, velocity, voice))
    notes.sort(key=lambda n: (n.start, VOICES.index(n.voice), n.pitch))
    return Piece(
        notes=tuple(notes),
        params=params,
        seed=seed,
        duration=bars * beats_per_bar * seconds_per_beat,
        key=key,
        bars=bars,
        beats_per_bar=beats_per_bar,
    )
