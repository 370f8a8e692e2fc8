"""The report, its Markdown and the regression comparison with claims measured over seeds
and claims that are not testable here (a failed precondition)."""

import json

from toolkit import claims
from toolkit.runs import NotebookResult, RunSummary, markdown, write_report
from toolkit.runs.compare import compare_snapshots


def _run(tmp_path):
    summary = RunSummary(str(tmp_path), "2026-01-01T00-00-00", False, "research-toolkit")
    summary.results = [
        NotebookResult("02_x.ipynb", "ok", 1.0, {}, "02_x.ipynb", "02_x.html", "02_x.claims.jsonl")
    ]
    summary.save()
    made = [
        claims.build(
            "Over seeds", paper="arXiv:1", samples={"gap": [0.9, 1.0, 1.1]},
            measured={"seeds": 3}, holds_if="lo(gap) > 0",
        ),
        claims.build(
            "Gated", paper="arXiv:1", measured={"a": 1.0}, holds_if="a > 0",
            preconditions=[("de-confounded accuracy", 0.5, ">= 0.7")],
        ),
    ]  # fmt: skip
    lines = [json.dumps(c.to_dict()) for c in made]
    (tmp_path / "02_x.claims.jsonl").write_text("\n".join(lines) + "\n")
    return made


def test_report_shows_intervals_preconditions_and_not_testable(tmp_path):
    _run(tmp_path)
    page = write_report(tmp_path).read_text()
    assert "1/2 claims held (1 not testable here)" in page
    assert "gap = 1 [0.752, 1.25]" in page and "95% t interval over 3 seed(s)" in page
    assert "requires de-confounded accuracy = 0.5 (needs &gt;= 0.7): failed" in page
    assert "class='not-testable-here'>not testable here" in page
    saved = RunSummary.load(tmp_path).results[0].claims
    assert [c["status"] for c in saved] == ["held", "not testable here"]
    assert saved[0]["intervals"]["gap"]["samples"] == [0.9, 1.0, 1.1]


def test_markdown_shows_intervals_and_the_reason(tmp_path):
    _run(tmp_path)
    text = markdown(tmp_path)
    assert "seeds = 3, gap = 1 [0.752, 1.25] (95% t interval over 3 seed(s))" in text
    assert "requires de-confounded accuracy = 0.5 (needs >= 0.7): failed" in text
    assert "| not testable here (precondition failed: de-confounded accuracy" in text


def _snap(status):
    claim = {"status": status, "measured": {"a": 1.0}, "abs_tol": 1e-9, "rel_tol": 1e-6}
    return {"claims": {"A claim": claim}, "metrics": {}}


def test_comparison_flags_a_claim_that_becomes_not_testable_and_keeps_one_that_stays():
    rows = compare_snapshots("nb", _snap("held"), _snap(claims.NOT_TESTABLE))
    assert [(r.before, r.after) for r in rows if r.changed] == [("held", "not testable here")]
    same = compare_snapshots("nb", _snap(claims.NOT_TESTABLE), _snap(claims.NOT_TESTABLE))
    assert not any(r.changed for r in same)
