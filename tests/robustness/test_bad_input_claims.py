"""Bad input to toolkit.claims and toolkit.metrics: a clear error naming the argument, an
"invalid" verdict for non-finite measurements, and a claims file never left empty or corrupt."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import claims, metrics

FAST = settings(max_examples=25, deadline=None)


@pytest.fixture
def claims_file(tmp_path, monkeypatch):
    path = tmp_path / "nb.claims.jsonl"
    monkeypatch.setenv(claims.CLAIMS_FILE_ENV, str(path))
    return path


def record(**kwargs):
    args = {"paper": "arXiv:1", "measured": {"a": 1.0, "b": 2.0}, "holds_if": "a < b"}
    return claims.record(kwargs.pop("claim", "a claim"), **{**args, **kwargs})


@FAST
@given(bad=st.sampled_from([math.nan, math.inf, -math.inf]), op=st.sampled_from("<>"))
def test_non_finite_measurement_is_invalid_with_its_reason(bad, op):
    claim = record(measured={"a": bad, "b": 2.0}, holds_if=f"a {op} b")
    assert claim.status == "invalid" and not claim.held
    assert "not a finite number: a" in claim.reason


def test_invalid_claim_reaches_the_claims_file(claims_file):
    record(measured={"a": math.inf, "b": 2.0})
    (saved,) = claims.load_claims(claims_file)
    assert saved.status == "invalid" and "a" in saved.reason


@FAST
@given(value=st.one_of(st.text(max_size=5), st.booleans(), st.none(), st.lists(st.floats())))
def test_non_number_measurement_is_a_type_error_naming_the_key(value):
    with pytest.raises(TypeError, match=r"measured\['a'\]"):
        record(measured={"a": value, "b": 2.0})


def test_numpy_and_zero_dim_values_are_numbers():
    claim = record(measured={"a": np.float32(1.0), "b": np.array(2.0)})
    assert claim.measured == {"a": 1.0, "b": 2.0} and claim.held


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"claim": None}, TypeError, "claim"),
        ({"claim": "  "}, ValueError, "claim"),
        ({"paper": 3}, TypeError, "paper"),
        ({"holds_if": None}, TypeError, "holds_if"),
        ({"holds_if": "a < 1e999"}, ValueError, "holds_if"),
        ({"holds_if": "a < z"}, ValueError, "'z'"),
        ({"measured": None}, TypeError, "measured"),
        ({"measured": [1.0]}, TypeError, "measured"),
        ({"measured": {}}, ValueError, "measured"),
        ({"measured": {1: 1.0}}, TypeError, "measured key 1"),
        ({"measured": {"ünï cödé": 1.0}}, ValueError, "ünï cödé"),
        ({"note": None}, TypeError, "note"),
        ({"extra": [1]}, TypeError, "extra"),
        ({"extra": {1: "x"}}, TypeError, "extra key 1"),
        ({"extra": {"x": math.nan}}, TypeError, r"extra\['x'\]"),
        ({"abs_tol": -1.0}, ValueError, "abs_tol"),
        ({"rel_tol": "tight"}, TypeError, "rel_tol"),
    ],
)
def test_malformed_record_names_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        record(**kwargs)


@pytest.mark.parametrize("extra", [{"s": {1, 2}}, {"f": object()}, {"nested": {"t": (1, {2})}}])
def test_non_json_extra_leaves_the_claims_file_as_it_was(claims_file, extra):
    record()
    before = claims_file.read_bytes()
    with pytest.raises(TypeError, match="extra"):
        record(extra=extra)
    assert claims_file.read_bytes() == before
    assert [c.status for c in claims.load_claims(claims_file)] == ["held"]


def test_failed_first_record_writes_no_file(claims_file):
    with pytest.raises(TypeError, match="extra"):
        record(extra={"s": {1}})
    assert not claims_file.exists()
    assert not list(claims_file.parent.iterdir()), "no temporary file is left behind"


def test_atomic_write_keeps_the_file_readable(claims_file):
    record()
    assert claims_file.stat().st_mode & 0o644 == 0o644


@pytest.mark.parametrize(
    ("line", "match"),
    [("{not json", "line 2: not a JSON record"), ("[1, 2]", "line 2: expected a JSON object")],
)
def test_corrupt_claims_file_names_the_line(claims_file, line, match):
    record()
    claims_file.write_text(claims_file.read_text() + line + "\n")
    with pytest.raises(ValueError, match=match):
        claims.load_claims(claims_file)


def test_unknown_field_in_a_claim_record_is_named():
    with pytest.raises(ValueError, match="held_iff"):
        claims.Claim.from_dict({**record().to_dict(), "held_iff": 1})


def test_unknown_status_is_refused():
    with pytest.raises(ValueError, match="status"):
        claims.Claim("c", "p", {"a": 1.0}, "a > 0", "maybe")


@FAST
@given(text=st.text(min_size=1, max_size=40).filter(str.strip))
def test_odd_unicode_claim_text_round_trips(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("c") / "c.jsonl"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(claims.CLAIMS_FILE_ENV, str(path))
        claim = record(claim=text)
    assert claims.load_claims(path) == [claim]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((None, 1.0), {}, TypeError, "name"),
        (("", 1.0), {}, ValueError, "name"),
        (("a b", 1.0), {}, ValueError, "name"),
        (("ppl", "1.0"), {}, TypeError, "ppl"),
        (("ppl", True), {}, TypeError, "ppl"),
        (("ppl", None), {}, TypeError, "ppl"),
        (("ppl", 1.0), {"abs_tol": math.nan}, ValueError, "abs_tol"),
        (("ppl", 1.0), {"rel_tol": -1e-3}, ValueError, "rel_tol"),
        (("ppl", 1.0), {"note": 5}, TypeError, "note"),
    ],
)
def test_malformed_metric_names_the_argument(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        metrics.record(*args, **kwargs)


def test_metric_recorded_twice_in_a_run_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "nb.metrics.jsonl"
    monkeypatch.setenv(metrics.METRICS_FILE_ENV, str(path))
    metrics.record("ppl", 3.0)
    with pytest.raises(ValueError, match="'ppl' was already recorded"):
        metrics.record("ppl", 4.0)
    assert [m.value for m in metrics.load_metrics(path)] == [3.0]


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_metric_warns_and_is_recorded_as_is(tmp_path, monkeypatch, bad):
    path = tmp_path / "nb.metrics.jsonl"
    monkeypatch.setenv(metrics.METRICS_FILE_ENV, str(path))
    with pytest.warns(RuntimeWarning, match="'ppl'.*not a finite number"):
        metrics.record("ppl", bad)
    (saved,) = metrics.load_metrics(path)
    assert saved.value == bad or (math.isnan(bad) and math.isnan(saved.value))
