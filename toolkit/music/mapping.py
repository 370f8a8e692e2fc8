"""Crossmodal-correspondence rules: a taste profile becomes musical parameters.

Spanio et al. (arXiv 2503.02823) steer a music generator with taste descriptions; here the
same correspondences drive a small rule-based composer instead. Each rule in :data:`RULES`
says "this taste moves this parameter by this much per unit of intensity" and names the
study behind it:

* Mesz, Trevisan & Sigman 2011 — musicians improvising on taste words: bitter is low and
  legato, salty is staccato, sour is high and dissonant, sweet is consonant, slow and soft.
* Crisinel & Spence 2010 — taste/flavour matched to notes and instruments: sweet and sour
  go with high pitch, bitter and umami with low pitch and brass, sweet with piano.

The studies report directions, not sizes: the **sign** of every coefficient is the finding,
its **size** is our choice (picked so one taste at full intensity gives a clearly audible
change without leaving :data:`~toolkit.music.params.RANGES`).

Parameters start from :data:`NEUTRAL` (the :class:`~toolkit.music.params.MusicParams`
defaults) and each taste adds ``intensity × coefficient``, clamped to ``RANGES``. The map is
linear before clamping, so a blend of two profiles gives parameters between theirs
(monotone in the blend weight). Mode and instrument are categorical; see :func:`mode_for`
and :func:`instrument_for`.

How well listeners decode such music is modest: in Wang et al. 2016, sweet tracks were
recognized 56.9% of the time and bitter ones 31.4% (chance 25%) — a yardstick for what a
rule-based composer can hope for, not a rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from toolkit._checks import describe
from toolkit.music.params import RANGES, MusicParams
from toolkit.music.taste import TASTES, TasteProfile

MESZ_2011 = "Mesz, Trevisan & Sigman 2011"
CRISINEL_2010 = "Crisinel & Spence 2010"
OUR_CHOICE = "our choice"

NEUTRAL = MusicParams()
"""Parameters of the neutral (all-zero) profile: the ``MusicParams`` defaults."""


@dataclass(frozen=True)
class Rule:
    """``parameter += intensity(taste) × coefficient``, grounded in ``citation``."""

    taste: str
    parameter: str
    coefficient: float
    citation: str


# Signs are the findings; sizes are our choice (see the module docstring).
RULES: tuple[Rule, ...] = (
    Rule("sweet", "pitch_center", 5, CRISINEL_2010),  # sweet: high pitch
    Rule("sweet", "consonance", 0.3, MESZ_2011),  # sweet: consonant
    Rule("sweet", "tempo_bpm", -25.0, MESZ_2011),  # sweet: slow
    Rule("sweet", "loudness", -0.25, MESZ_2011),  # sweet: soft
    Rule("sour", "pitch_center", 10, f"{MESZ_2011}; {CRISINEL_2010}"),  # sour: high pitch
    Rule("sour", "consonance", -0.6, MESZ_2011),  # sour: dissonant
    Rule("bitter", "pitch_center", -14, f"{MESZ_2011}; {CRISINEL_2010}"),  # bitter: low pitch
    Rule("bitter", "articulation", 0.2, MESZ_2011),  # bitter: legato
    Rule("salty", "articulation", -0.5, MESZ_2011),  # salty: staccato
    Rule("umami", "pitch_center", -10, CRISINEL_2010),  # umami: low pitch
)

# Timbre of each taste's finding. Sweet → piano and bitter/umami → brass are findings
# (Crisinel & Spence 2010); sour → strings and salty → marimba are ours: a bright sustained
# timbre for a sharp taste, and a percussive one that makes salty's staccato (Mesz 2011) crisp.
INSTRUMENT_OF: dict[str, tuple[str, str]] = {
    "sweet": ("piano", CRISINEL_2010),
    "sour": ("strings", OUR_CHOICE),
    "bitter": ("brass", CRISINEL_2010),
    "salty": ("marimba", OUR_CHOICE),
    "umami": ("brass", CRISINEL_2010),
}

# Audio features (computed elsewhere) that read out each parameter, with the sign of the link.
FEATURES_OF: dict[str, tuple[tuple[str, int], ...]] = {
    "pitch_center": (("pitch_mean", +1), ("spectral_centroid", +1)),
    "tempo_bpm": (("tempo", +1), ("onset_rate", +1)),
    "articulation": (("sustain", +1),),  # held notes leave no silence between them
    "consonance": (("roughness", -1),),
    "loudness": (("loudness", +1),),
}

# Rough brightness of each timbre relative to the others (our choice, used only to withhold
# a spectral-centroid prediction when a taste's timbre pulls against its pitch rule).
BRIGHTNESS = {"flute": -1, "piano": 0, "marimba": 0, "strings": 1, "brass": 2}


def _as_profile(profile: TasteProfile | Mapping[str, float]) -> TasteProfile:
    if isinstance(profile, TasteProfile):
        return profile
    if isinstance(profile, Mapping):
        return TasteProfile.from_dict(dict(profile))
    raise TypeError(
        f"profile must be a TasteProfile or a mapping {{taste: intensity}}, got {describe(profile)}"
    )


def mode_for(profile: TasteProfile | Mapping[str, float]) -> str:
    """Minor when the bitter + sour pull outweighs sweet, else major.

    The rule is ours: it follows the valence of the findings (bitter and sour are the
    disliked, dissonant tastes in Mesz et al. 2011; sweet the consonant one). Salty and umami
    do not vote; the neutral profile is major.
    """
    p = _as_profile(profile)
    return "minor" if p.bitter + p.sour > p.sweet else "major"


def instrument_for(profile: TasteProfile | Mapping[str, float]) -> str:
    """The timbre of the dominant taste (:data:`INSTRUMENT_OF`); neutral keeps piano."""
    dominant = _as_profile(profile).dominant
    return NEUTRAL.instrument if dominant is None else INSTRUMENT_OF[dominant][0]


def params_from_taste(profile: TasteProfile | Mapping[str, float]) -> MusicParams:
    """Musical parameters for a taste profile.

    Args:
        profile: a ``TasteProfile``, or ``{taste: intensity}`` (validated by
            ``TasteProfile.from_dict``).

    Returns:
        ``NEUTRAL`` shifted by ``intensity × coefficient`` of every rule, each numeric field
        clamped to ``RANGES``; mode from :func:`mode_for`, instrument from
        :func:`instrument_for`.

    Raises:
        TypeError: ``profile`` is neither a ``TasteProfile`` nor a mapping.
        ValueError: an unknown taste or an intensity outside [0, 1].
    """
    p = _as_profile(profile)
    intensity = p.as_dict()
    values = {name: float(getattr(NEUTRAL, name)) for name in RANGES}
    for rule in RULES:
        values[rule.parameter] += intensity[rule.taste] * rule.coefficient
    # Rounding to 6 decimals only hides float noise (0.7 - 0.6); it keeps the map monotone.
    clamped = {
        name: round(min(max(v, RANGES[name][0]), RANGES[name][1]), 6) for name, v in values.items()
    }
    return MusicParams(**clamped, mode=mode_for(p), instrument=instrument_for(p))


def citations(rules: tuple[Rule, ...] = RULES) -> list[str]:
    """The distinct studies cited by ``rules`` and the timbre table, in order of first use."""
    seen: dict[str, None] = {}
    cited = [r.citation for r in rules] + [c for _, c in INSTRUMENT_OF.values()]
    for citation in cited:
        for part in citation.split("; "):
            if part != OUR_CHOICE:
                seen.setdefault(part, None)
    return list(seen)


def expected_directions() -> list[tuple[str, str, int, str]]:
    """Feature changes the literature predicts for each pure taste, relative to neutral.

    Each rule's sign is carried to the audio features that read its parameter out
    (:data:`FEATURES_OF`). A feature is left out for a taste when two of its rules pull it
    opposite ways, and the spectral-centroid prediction of a pitch rule is withheld when the
    taste's timbre is brighter or darker the other way (bitter and umami: low but brassy).

    Returns:
        ``(taste, feature, sign, citation)`` with sign ``+1`` or ``-1``, in ``TASTES`` order.
    """
    out: list[tuple[str, str, int, str]] = []
    for taste in TASTES:
        timbre_shift = BRIGHTNESS[INSTRUMENT_OF[taste][0]] - BRIGHTNESS[NEUTRAL.instrument]
        votes: dict[str, list[tuple[int, str]]] = {}
        for rule in (r for r in RULES if r.taste == taste):
            direction = 1 if rule.coefficient > 0 else -1
            for feature, link in FEATURES_OF[rule.parameter]:
                sign = direction * link
                if feature == "spectral_centroid" and timbre_shift * sign < 0:
                    continue
                votes.setdefault(feature, []).append((sign, rule.citation))
        for feature, cast in votes.items():
            signs = {sign for sign, _ in cast}
            if len(signs) == 1:
                cited = "; ".join(dict.fromkeys(citation for _, citation in cast))
                out.append((taste, feature, signs.pop(), cited))
    return out
