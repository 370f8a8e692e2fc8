"""Taste profiles: intensities of the five basic tastes, each in [0, 1].

A profile is the input of every step of the taste → music pipeline (Spanio et al., arXiv
2503.02823): rules map it to musical parameters (:mod:`toolkit.music.mapping`), text maps
to it (:mod:`toolkit.music.text`). Profiles blend linearly, so a piece can move from sweet
to bitter continuously.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import astuple, dataclass, fields

from toolkit._checks import check_choice, check_probability, check_str, describe

TASTES = ("sweet", "sour", "bitter", "salty", "umami")


@dataclass(frozen=True)
class TasteProfile:
    """Intensity of each basic taste in [0, 1]; all zero is the neutral profile.

    Raises:
        TypeError: an intensity that is not a real number (the message names the taste).
        ValueError: an intensity that is NaN, infinite, negative or above 1 (the message
            names the taste and the value).
    """

    sweet: float = 0.0
    sour: float = 0.0
    bitter: float = 0.0
    salty: float = 0.0
    umami: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, check_probability(f.name, getattr(self, f.name)))

    @classmethod
    def pure(cls, taste: str, intensity: float = 1.0) -> TasteProfile:
        """One taste at ``intensity``, the others at 0."""
        check_choice("taste", check_str("taste", taste), TASTES)
        return cls(**{taste: intensity})

    @classmethod
    def from_dict(cls, values: dict[str, float]) -> TasteProfile:
        """From ``{taste: intensity}``; tastes not named are 0, unknown names are an error."""
        if not isinstance(values, Mapping):
            raise TypeError(f"values must map tastes to intensities, got {describe(values)}")
        unknown = sorted(set(values) - set(TASTES), key=repr)
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
        if not isinstance(other, TasteProfile):
            raise TypeError(f"other must be a TasteProfile, got {describe(other)}")
        t = check_probability("blend weight t", t)
        mixed = {
            k: (1 - t) * a + t * b
            for k, a, b in zip(TASTES, self.as_tuple(), other.as_tuple(), strict=True)
        }
        return TasteProfile(**{k: min(1.0, max(0.0, v)) for k, v in mixed.items()})
