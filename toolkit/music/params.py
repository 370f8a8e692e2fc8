"""Musical parameters: what the composer and synthesizer need to know about a piece.

:func:`toolkit.music.mapping.params_from_taste` fills them from a taste profile;
:func:`toolkit.music.text.text_to_params` lets cues in a description override them
("slow", "staccato", "piano").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

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
    in ``INSTRUMENTS``. Raises ``ValueError`` naming the field for anything out of range."""

    pitch_center: int = 64
    tempo_bpm: float = 100.0
    articulation: float = 0.8
    consonance: float = 0.7
    mode: str = "major"
    loudness: float = 0.6
    instrument: str = "piano"

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in RANGES:
                lo, hi = RANGES[f.name]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"{f.name} must be a number, got {value!r}")
                if math.isnan(value) or not lo <= value <= hi:
                    raise ValueError(f"{f.name} must be in [{lo}, {hi}], got {value}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.instrument not in INSTRUMENTS:
            raise ValueError(f"instrument must be one of {INSTRUMENTS}, got {self.instrument!r}")
        object.__setattr__(self, "pitch_center", int(round(self.pitch_center)))

    def with_overrides(self, **overrides: object) -> MusicParams:
        """A copy with some fields replaced (validated again)."""
        unknown = sorted(set(overrides) - {f.name for f in fields(self)})
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}")
        return replace(self, **overrides)
