"""Taste → parameter rules: grounded, directional, continuous."""

import dataclasses

import numpy as np
import pytest

from toolkit.music.features import FEATURES
from toolkit.music.mapping import (
    INSTRUMENT_OF,
    NEUTRAL,
    RULES,
    citations,
    expected_directions,
    params_from_taste,
)
from toolkit.music.params import INSTRUMENTS, RANGES, MusicParams
from toolkit.music.taste import TASTES, TasteProfile

NUMERIC = tuple(RANGES)


def test_every_rule_is_grounded_and_targets_a_real_parameter():
    fields = {f.name for f in dataclasses.fields(MusicParams)}
    for rule in RULES:
        assert rule.taste in TASTES
        assert rule.parameter in fields and rule.parameter in RANGES
        assert rule.coefficient != 0
        assert rule.citation.strip() and "20" in rule.citation  # author + year
    assert {r.taste for r in RULES} == set(TASTES)
    assert set(INSTRUMENT_OF) == set(TASTES)
    assert all(instrument in INSTRUMENTS for instrument, _ in INSTRUMENT_OF.values())


def test_neutral_profile_gives_neutral_params():
    assert params_from_taste(TasteProfile()) == NEUTRAL == MusicParams()


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.taste}-{r.parameter}")
def test_each_taste_moves_its_parameter_in_the_cited_direction(rule):
    moved = getattr(params_from_taste(TasteProfile.pure(rule.taste)), rule.parameter)
    assert np.sign(moved - getattr(NEUTRAL, rule.parameter)) == np.sign(rule.coefficient)


def test_findings_read_as_the_literature_states():
    sweet, sour, bitter, salty, umami = (params_from_taste(TasteProfile.pure(t)) for t in TASTES)
    assert bitter.pitch_center < NEUTRAL.pitch_center < sour.pitch_center
    assert umami.pitch_center < NEUTRAL.pitch_center < sweet.pitch_center
    assert salty.articulation < NEUTRAL.articulation < bitter.articulation
    assert sour.consonance < NEUTRAL.consonance < sweet.consonance
    assert sweet.tempo_bpm < NEUTRAL.tempo_bpm and sweet.loudness < NEUTRAL.loudness
    assert bitter.instrument == umami.instrument == "brass" and sweet.instrument == "piano"
    assert salty.instrument == "marimba"


def test_mode_is_minor_when_bitter_and_sour_outweigh_sweet():
    assert params_from_taste(TasteProfile(bitter=1.0)).mode == "minor"
    assert params_from_taste(TasteProfile(sour=0.6)).mode == "minor"
    assert params_from_taste(TasteProfile(sweet=0.8, bitter=0.3, sour=0.3)).mode == "major"
    assert params_from_taste(TasteProfile(sweet=0.5, bitter=0.4, sour=0.2)).mode == "minor"
    assert params_from_taste(TasteProfile(salty=1.0, umami=1.0)).mode == "major"


def test_instrument_follows_the_dominant_taste():
    assert params_from_taste(TasteProfile(sweet=0.4, sour=0.9)).instrument == "strings"
    assert params_from_taste(TasteProfile(sweet=0.9, bitter=0.4)).instrument == "piano"


def test_all_tastes_at_full_intensity_stay_in_range():
    params = params_from_taste(TasteProfile(**dict.fromkeys(TASTES, 1.0)))
    for name, (lo, hi) in RANGES.items():
        assert lo <= getattr(params, name) <= hi


@pytest.mark.parametrize(("a", "b"), [("sweet", "bitter"), ("sour", "salty"), ("umami", "sweet")])
def test_blends_are_monotone_between_their_ends(a, b):
    start, end = TasteProfile.pure(a), TasteProfile.pure(b)
    path = [params_from_taste(start.blend(end, t)) for t in np.linspace(0, 1, 11)]
    assert path[0] == params_from_taste(start) and path[-1] == params_from_taste(end)
    for name in NUMERIC:
        values = np.array([getattr(p, name) for p in path], dtype=float)
        steps = np.diff(values)
        assert (steps >= -1e-9).all() or (steps <= 1e-9).all(), (name, values)
        lo, hi = sorted((values[0], values[-1]))
        assert (values >= lo - 1e-9).all() and (values <= hi + 1e-9).all()


def test_accepts_a_dict_and_rejects_invalid_profiles():
    assert params_from_taste({"sour": 1.0}) == params_from_taste(TasteProfile.pure("sour"))
    with pytest.raises(ValueError, match="sweet"):
        params_from_taste({"sweet": 1.5})
    with pytest.raises(ValueError, match="unknown"):
        params_from_taste({"spicy": 0.5})
    with pytest.raises(ValueError, match="bitter"):
        params_from_taste(TasteProfile(bitter=-0.1))
    with pytest.raises(TypeError):
        params_from_taste([0.1, 0.2])


def test_citations_are_distinct_and_cover_the_rules():
    cited = citations()
    assert len(cited) == len(set(cited)) >= 2
    for rule in RULES:
        assert all(part in cited for part in rule.citation.split("; "))


def test_expected_directions_use_known_features_and_match_the_brief():
    directions = expected_directions()
    for taste, feature, sign, citation in directions:
        assert taste in TASTES and feature in FEATURES and sign in (-1, 1) and citation
    table = {(t, f): s for t, f, s, _ in directions}
    assert len(table) == len(directions)
    assert table[("bitter", "pitch_mean")] == -1
    assert table[("sour", "roughness")] == +1
    assert table[("salty", "sustain")] == -1  # staccato: silence between the notes
    assert table[("sweet", "roughness")] == -1
    assert table[("sweet", "tempo")] == -1
    assert table[("sweet", "loudness")] == -1
    assert ("bitter", "spectral_centroid") not in table  # low pitch but brassy: no claim
