"""Taste profiles: intensities of the five basic tastes, each in [0, 1].

A profile is the input of every step of the taste → music pipeline (Spanio et al., arXiv
2503.02823): rules map it to musical parameters (:mod:`toolkit.music.mapping`), text maps
to it (:mod:`toolkit.music.text`). Profiles blend linearly, so a piece can move from sweet
to bitter continuously.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass, fields

TASTES = ("sweet", "sour", "bitter", "salty", "umami")


@dataclass(frozen=True)
class TasteProfile:
    """Intensity of each basic taste in [0, 1]; all zero is the neutral profile.

    Raises:
        ValueError: an intensity that is not a real number, NaN, negative or above 1 (the
            message names the taste and the value).
    """

    sweet: float = 0.0
    sour: float = 0.0
    bitter: float = 0.0
    salty: float = 0.0
    umami: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{f.name} must be a number in [0, 1], got {value!r}")
            if math.isnan(value) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name} intensity must be in [0, 1], got {value}")
            object.__setattr__(self, f.name, float(value))

    @classmethod
    def pure(cls, taste: str, intensity: float = 1.0) -> TasteProfile:
        """One taste at ``intensity``, the others at 0."""
        if taste not in TASTES:
            raise ValueError(f"unknown taste {taste!r}; choose one of {TASTES}")
        return cls(**{taste: intensity})

    @classmethod
    def from_dict(cls, values: dict[str, float]) -> TasteProfile:
        """From ``{taste: intensity}``; tastes not named are 0, unknown names are an error."""
        unknown = sorted(set(values) - set(TASTES))
        if unknown:
            raise ValueError(f"unknown taste(s) {unknown}; choose from {TASTES}")
        return cls(**values)

    def as_dict(self) -> dict[str, float]:
        return dict(zip(TASTES, astuple(self), strict=True))

    def as_tuple(self) -> tuple[float, ...]:
        return astuple(self)

    @property
    def dominant(self) -> str | None:
        """The strongest taste, or None for the neutral profile (ties: first in TASTES)."""
        values = self.as_dict()
        best = max(TASTES, key=lambda t: values[t])
        return best if values[best] > 0 else None

    def blend(self, other: TasteProfile, t: float) -> TasteProfile:
        """``(1 − t)·self + t·other`` for t in [0, 1]."""
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"blend weight t must be in [0, 1], got {t}")
        mixed = {
            k: (1 - t) * a + t * b
            for k, a, b in zip(TASTES, self.as_tuple(), other.as_tuple(), strict=True)
        }
        return TasteProfile(**{k: min(1.0, max(0.0, v)) for k, v in mixed.items()})
