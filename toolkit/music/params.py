"""Musical parameters: what the composer and synthesizer need to know about a piece.

:func:`toolkit.music.mapping.params_from_taste` fills them from a taste profile;
:func:`toolkit.music.text.text_to_params` lets cues in a description override them
("slow", "staccato", "piano").
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from toolkit._checks import check_choice, check_number, check_str

INSTRUMENTS = ("piano", "strings", "brass", "marimba", "flute")
MODES = ("major", "minor")
RANGES = {
    "pitch_center": (36, 96),  # MIDI note of the melody's register centre (60 = middle C)
    "tempo_bpm": (40.0, 200.0),
    "articulation": (0.05, 1.0),  # share of each note's slot that sounds: 1 legato, ~0.3 staccato
    "consonance": (0.0, 1.0),  # 1: triads and stepwise in-key lines; 0: clusters, tritones
    "loudness": (0.0, 1.0),  # MIDI velocity / 127
}


@dataclass(frozen=True)
class MusicParams:
    """Parameters of one piece; ranges in ``RANGES``, ``mode`` in ``MODES``, ``instrument``
    in ``INSTRUMENTS``. ``pitch_center`` is rounded to the nearest MIDI note.

    Raises:
        TypeError: a numeric field that is not a real number, or a ``mode`` / ``instrument``
            that is not a str (the message names the field).
        ValueError: a number that is NaN, infinite or outside ``RANGES``, or an unknown mode
            or instrument (the message names the field).
    """

    pitch_center: int = 64
    tempo_bpm: float = 100.0
    articulation: float = 0.8
    consonance: float = 0.7
    mode: str = "major"
    loudness: float = 0.6
    instrument: str = "piano"

    def __post_init__(self) -> None:
        for name, (lo, hi) in RANGES.items():
            value = check_number(name, getattr(self, name), minimum=lo, maximum=hi)
            object.__setattr__(self, name, int(round(value)) if name == "pitch_center" else value)
        check_choice("mode", check_str("mode", self.mode), MODES)
        check_choice("instrument", check_str("instrument", self.instrument), INSTRUMENTS)

    def with_overrides(self, **overrides: object) -> MusicParams:
        """A copy with some fields replaced (validated again)."""
        names = [f.name for f in fields(self)]
        unknown = sorted(set(overrides) - set(names))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}; choose from {names}")
        return replace(self, **overrides)
