"""Notebook 03's claim cannot hold when the audio is broken: a collapsed renderer (every piece
comes out as the same tone) fed through the claim's measurement is not testable, never held."""

import numpy as np
import pytest

from toolkit.claims import NOT_TESTABLE, build
from toolkit.music import FEATURES, TASTES, audio_features
from toolkit.music.evidence import direction_claim
from toolkit.music.study import NEUTRAL, TastePiece, classify_tastes, direction_table

FOUR = ("sweet", "sour", "bitter", "salty")


def collapsed_pieces(tastes, seeds):
    """What a renderer that ignores the piece gives: one 440 Hz tone, the same features for all."""
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(32000) / 16000)
    features = audio_features(tone, 16000)
    return [TastePiece(t, s, 1.0, None, tone, features) for t in tastes for s in seeds]


def test_collapsed_audio_makes_the_direction_claim_not_testable():
    pieces = collapsed_pieces((NEUTRAL, *TASTES), range(3))
    table = direction_table(pieces)
    result = classify_tastes(collapsed_pieces(FOUR, range(3)), collapsed_pieces(FOUR, range(3, 6)))
    assert result.accuracy <= 0.25 + 1e-9
    claim = build(**direction_claim(table, classifier_accuracy=result.accuracy, n_seeds=3))
    assert claim.status == NOT_TESTABLE and "sanity check" in claim.reason


def test_the_classifier_is_a_precondition_not_the_evidence():
    table = [{"holds": True}] * 12 + [{"holds": False}]
    claim = build(**direction_claim(table, classifier_accuracy=0.95, n_seeds=8))
    assert claim.status == "not held"  # a perfect classifier does not make the claim hold
    assert claim.preconditions[0]["passed"]
    full = build(**direction_claim([{"holds": True}] * 13, classifier_accuracy=0.95, n_seeds=8))
    assert full.held


@pytest.mark.parametrize(("table", "error"), [("x", TypeError), ([{"d": 1}], ValueError)])
def test_bad_tables_are_refused(table, error):
    with pytest.raises(error):
        direction_claim(table, classifier_accuracy=0.5, n_seeds=3)


def test_features_of_the_collapsed_renderer_are_the_same_for_every_piece():
    pieces = collapsed_pieces(FOUR, range(2))
    assert all(p.features == pieces[0].features for p in pieces) and set(FEATURES) <= set(
        pieces[0].features
    )
