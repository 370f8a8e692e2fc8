import json
import math

import pytest

from toolkit import claims


def test_record_evaluates_and_appends_to_claims_file(tmp_path, monkeypatch):
    path = tmp_path / "claims.jsonl"
    monkeypatch.setenv(claims.CLAIMS_FILE_ENV, str(path))
    monkeypatch.setenv(claims.NOTEBOOK_ENV, "00_welcome.ipynb")
    held = claims.record(
        "a beats b", paper="arXiv:0000.0", measured={"a": 1, "b": 2}, holds_if="a < b"
    )
    missed = claims.record(
        "b beats a", paper="arXiv:0000.0", measured={"a": 1, "b": 2}, holds_if="b < a"
    )
    assert held.held and not missed.held
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["status"] for line in lines] == ["held", "not held"]
    assert lines[0]["notebook"] == "00_welcome.ipynb"
    assert claims.load_claims(path) == [held, missed]


def test_no_claims_file_means_no_file_written(tmp_path, monkeypatch):
    monkeypatch.delenv(claims.CLAIMS_FILE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    claims.record("x", paper="p", measured={"a": 1}, holds_if="a > 0")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("a < b", True),
        ("a <= 1", True),
        ("a > 1", False),
        ("a < 0.4 * b", False),
        ("a < 0.6 * b", True),
        ("a < b and b < 3", True),
        ("a < b and b < 1.5", False),
        ("2 >= a", True),
        ("1e-3 < a", True),
    ],
)
def test_holds_if_language(expr, expected):
    verdict = claims.evaluate(expr, {"a": 1.0, "b": 2.0})
    assert verdict == ("held" if expected else "not held")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_measurement_is_invalid_never_held_or_not(bad):
    for expr in ("a < b", "a > b"):
        assert claims.evaluate(expr, {"a": bad, "b": 1.0}) == "invalid"


def test_claims_written_before_status_existed_still_load(tmp_path):
    old = {"claim": "c", "paper": "p", "measured": {"a": 1.0}, "holds_if": "a > 0", "held": False}
    (tmp_path / "c.jsonl").write_text(json.dumps(old) + "\n")
    assert claims.load_claims(tmp_path / "c.jsonl")[0].status == "not held"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"holds_if": "a < c"}, "'c'"),
        ({"holds_if": "a = b"}, "not a comparison"),
        ({"holds_if": ""}, "empty"),
        ({"measured": {}}, "measured must not be empty"),
        ({"measured": {"a b": 1}}, "identifier"),
        ({"paper": " "}, "paper"),
    ],
)
def test_malformed_records_raise(kwargs, message):
    args = {"paper": "arXiv:1", "measured": {"a": 1, "b": 2}, "holds_if": "a < b", **kwargs}
    with pytest.raises(ValueError, match=message):
        claims.record("claim", **args)
