"""Claims measured over seeds (mean and 95% interval) and claims gated by preconditions."""

import json
import math

import numpy as np
import pytest
from scipy import stats

from toolkit import claims
from toolkit.claims import NOT_TESTABLE, Precondition, interval


def test_t_interval_matches_scipy():
    x = [0.2, 0.5, 0.9, 0.4]
    got = interval(x)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=stats.sem(x))
    assert got.mean == pytest.approx(np.mean(x))
    assert (got.lo, got.hi) == (pytest.approx(lo), pytest.approx(hi))
    assert got.n == 4 and got.method == "t" and got.samples == tuple(x)


def test_bootstrap_is_seeded_and_inside_the_range_of_the_samples():
    x = [1.0, 2.0, 4.0, 3.0, 2.5]
    first, again = interval(x, "bootstrap"), interval(x, "bootstrap")
    assert first == again
    assert min(x) <= first.lo < first.mean < first.hi <= max(x)


def test_one_sample_has_no_interval_and_nan_poisons_it():
    one = interval([0.3])
    assert one.mean == 0.3 and one.lo == -math.inf and one.hi == math.inf
    bad = interval([1.0, math.nan])
    assert math.isnan(bad.mean) and math.isnan(bad.lo)


def test_holds_if_on_the_interval_not_the_point_estimate():
    noisy = {"gap": [0.9, -0.5, 0.8]}  # mean > 0, interval straddles 0
    point = claims.build("c", paper="p", samples=noisy, holds_if="gap > 0")
    bound = claims.build("c", paper="p", samples=noisy, holds_if="lo(gap) > 0")
    assert point.status == "held" and bound.status == "not held"
    steady = claims.build("c", paper="p", samples={"gap": [0.9, 1.0, 1.1]}, holds_if="lo(gap) > 0")
    assert steady.held
    assert steady.measured["gap"] == pytest.approx(1.0)
    assert steady.intervals["gap"]["samples"] == [0.9, 1.0, 1.1]
    assert steady.interval("gap").lo > 0
    assert "gap = 1 [" in steady.measured_text()[0]


def test_one_seed_makes_an_interval_check_not_testable():
    claim = claims.build("c", paper="p", samples={"gap": [2.0]}, holds_if="lo(gap) > 0")
    assert claim.status == NOT_TESTABLE and "one seed" in claim.reason and not claim.held
    point = claims.build("c", paper="p", samples={"gap": [2.0]}, holds_if="gap > 0")
    assert point.held  # the point estimate alone needs no interval


def test_failed_precondition_is_not_testable_never_held():
    gate = Precondition("de-confounded accuracy", 0.42, ">= 0.7")
    claim = claims.build(
        "c", paper="p", measured={"a": 1.0}, holds_if="a > 0", preconditions=[gate]
    )
    assert claim.status == NOT_TESTABLE and not claim.held and not claim.testable
    assert "de-confounded accuracy = 0.42 (needs >= 0.7)" in claim.reason
    assert claim.preconditions == [
        {"name": "de-confounded accuracy", "value": 0.42, "bar": ">= 0.7", "passed": False}
    ]
    passed = claims.build(
        "c", paper="p", measured={"a": 1.0}, holds_if="a > 0",
        preconditions=[("de-confounded accuracy", 0.95, ">= 0.7")],
    )  # fmt: skip
    assert passed.held and passed.preconditions[0]["passed"]


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_finite_precondition_fails(value):
    claim = claims.build(
        "c", paper="p", measured={"a": 1.0}, holds_if="a > 0",
        preconditions=[{"name": "x", "value": value, "bar": "< 1"}],
    )  # fmt: skip
    assert claim.status == NOT_TESTABLE


def test_precondition_beats_invalid_measurement():
    claim = claims.build(
        "c", paper="p", measured={"a": math.nan}, holds_if="a > 0",
        preconditions=[("x", 0.0, "> 1")],
    )  # fmt: skip
    assert claim.status == NOT_TESTABLE


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"holds_if": "lo(a) > 0"}, ValueError, r"lo\(a\).*samples"),
        ({"samples": {"a": [1.0]}}, ValueError, "both measured and samples"),
        ({"samples": {"s": []}}, ValueError, "at least one"),
        ({"samples": {"s": "12"}}, TypeError, "per-seed"),
        ({"samples": {"s": [1.0, "x"]}}, TypeError, r"samples\['s'\]\[1\]"),
        ({"samples": {"s": [1.0]}, "interval": "z"}, ValueError, "interval"),
        ({"preconditions": [("x", 1.0, "about 1")]}, ValueError, "OP number"),
        ({"preconditions": [("x", "1", ">= 1")]}, TypeError, "precondition"),
        ({"preconditions": [("x", 1.0)]}, TypeError, "precondition"),
        ({"preconditions": {"x": 1.0}}, TypeError, "preconditions"),
    ],
)
def test_malformed_samples_and_preconditions_raise(kwargs, error, match):
    args = {"paper": "p", "measured": {"a": 1.0}, "holds_if": "a > 0", **kwargs}
    with pytest.raises(error, match=match):
        claims.record("c", **args)


def test_record_round_trips_intervals_and_preconditions(tmp_path, monkeypatch):
    path = tmp_path / "c.jsonl"
    monkeypatch.setenv(claims.CLAIMS_FILE_ENV, str(path))
    made = claims.record(
        "c", paper="p", samples={"gap": [1.0, 2.0, 3.0]}, measured={"n": 3},
        holds_if="lo(gap) > 0", interval="bootstrap", preconditions=[("acc", 0.9, ">= 0.7")],
    )  # fmt: skip
    line = json.loads(path.read_text())
    assert line["intervals"]["gap"]["method"] == "bootstrap"
    (loaded,) = claims.load_claims(path)
    assert loaded == made and loaded.reevaluate() == made.status == "held"


def test_one_seed_interval_survives_json(tmp_path, monkeypatch):
    path = tmp_path / "c.jsonl"
    monkeypatch.setenv(claims.CLAIMS_FILE_ENV, str(path))
    made = claims.record("c", paper="p", samples={"gap": [1.0]}, holds_if="lo(gap) > 0")
    (loaded,) = claims.load_claims(path)
    assert loaded == made and loaded.reevaluate() == NOT_TESTABLE
