"""The notebook 03 experiments: pieces per taste, the direction table, the classifier."""

import math

import numpy as np
import pytest

from toolkit.music.study import (
    NEUTRAL,
    classify_tastes,
    cohens_d,
    direction_table,
    profile_of,
    taste_pieces,
    taste_pipeline,
)


@pytest.fixture(scope="module")
def pieces():
    return taste_pieces([NEUTRAL, "sweet", "salty"], [0, 1, 2], bars=2, progress=False)


def test_cohens_d_matches_the_pooled_formula_and_its_edge_cases():
    a, b = [1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0]
    pooled = math.sqrt((2 * np.var(a, ddof=1) + 3 * np.var(b, ddof=1)) / 5)
    assert cohens_d(a, b) == pytest.approx((2.0 - 1.5) / pooled)
    assert cohens_d([1, 1], [1, 1]) == 0.0
    assert cohens_d([2, 2], [1, 1]) == math.inf
    with pytest.raises(ValueError, match="two values"):
        cohens_d([1.0], [1.0, 2.0])


def test_pieces_are_deterministic_and_keep_their_taste(pieces):
    again = taste_pieces([NEUTRAL, "sweet", "salty"], [0, 1, 2], bars=2, progress=False)
    assert [p.features for p in again] == [p.features for p in pieces]
    assert {(p.taste, p.seed) for p in pieces} == {
        (t, s) for t in (NEUTRAL, "sweet", "salty") for s in range(3)
    }
    assert profile_of(NEUTRAL).dominant is None and profile_of("sour", 0.5).sour == 0.5
    with pytest.raises(ValueError, match="unknown taste"):
        taste_pieces(["spicy"], [0], progress=False)


def test_direction_table_compares_each_prediction_with_neutral(pieces):
    rows = direction_table(pieces)
    assert rows and {r["taste"] for r in rows} <= {"sweet", "salty"}
    for r in rows:
        taste = [p.features[r["feature"]] for p in pieces if p.taste == r["taste"]]
        neutral = [p.features[r["feature"]] for p in pieces if p.taste == NEUTRAL]
        assert r["cohens_d"] == pytest.approx(cohens_d(taste, neutral))
        sign = 1 if r["expected"] == "+" else -1
        assert r["holds"] == (r["cohens_d"] * sign >= 0.5)
    with pytest.raises(ValueError, match="neutral"):
        direction_table([p for p in pieces if p.taste != NEUTRAL])


def test_classifier_is_scored_on_held_out_seeds(pieces):
    tasted = [p for p in pieces if p.taste != NEUTRAL]
    result = classify_tastes([p for p in tasted if p.seed < 2], [p for p in tasted if p.seed == 2])
    assert 0.0 <= result.accuracy <= 1.0 and result.labels == ["sweet", "salty"]
    np.testing.assert_allclose(result.confusion.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="share seeds"):
        classify_tastes(tasted, tasted)


def test_pipeline_uses_the_profile_or_the_text_and_its_cues():
    from toolkit.music.taste import TasteProfile

    out = taste_pipeline(TasteProfile(salty=1.0), "", seed=1, bars=2)
    assert out["profile"] == TasteProfile(salty=1.0) and "salty" in out["caption"].lower()
    assert len(out["notes"]) > 0 and out["audio"].ndim == 1 and set(out["features"])
    cued = taste_pipeline(TasteProfile(), "a bitter piece, slow, on the flute", seed=1, bars=2)
    assert cued["profile"].dominant == "bitter" and "flute" in cued["caption"]
