"""Before → after comparison of claims and metrics, without executing notebooks."""

import math

import pytest

from toolkit.runs import RunSummary, load_reference, previous_run, write_baselines
from toolkit.runs.compare import _values_as_notes, compare_snapshots


def snap(value=1.0, status="held", metric=2.0, rel_tol=1e-6, **more):
    claim = {"status": status, "measured": {"a": value}, "abs_tol": 1e-9, "rel_tol": 1e-6}
    metrics = {"m": {"value": metric, "abs_tol": 1e-9, "rel_tol": rel_tol}, **more}
    return {"claims": {"A claim": claim}, "metrics": metrics}


def changed(before, after):
    return [
        (r.name, r.before, r.after) for r in compare_snapshots("nb", before, after) if r.changed
    ]


def test_identical_snapshots_match():
    assert changed(snap(), snap()) == []


@pytest.mark.parametrize(
    ("metric", "rel_tol", "moved"),
    [(2.0 + 1e-7, 1e-6, False), (2.0 + 1e-5, 1e-6, True), (2.0 + 1e-5, 1e-3, False)],
)
def test_a_value_moves_beyond_its_declared_tolerance(metric, rel_tol, moved):
    rows = changed(snap(), snap(metric=metric, rel_tol=rel_tol))
    assert rows == ([("m", 2.0, metric)] if moved else [])


def test_flipped_verdict_with_equal_values():
    assert changed(snap(), snap(status="not held")) == [("claim «A claim»", "held", "not held")]


@pytest.mark.parametrize(
    ("old", "new", "moved"), [(math.nan, math.nan, False), (1.0, math.nan, True)]
)
def test_non_finite_values_match_only_themselves(old, new, moved):
    assert bool(changed(snap(metric=old), snap(metric=new))) is moved


def test_on_another_cpu_model_moved_values_are_notes_and_flipped_verdicts_still_fail():
    rows = compare_snapshots("nb", snap(), snap(value=5.0, status="not held", metric=3.0))
    notes = []
    moved = _values_as_notes(rows, notes)
    still = [(r.name, r.before, r.after) for r in moved if r.changed]
    assert still == [("claim «A claim»", "held", "not held")]
    assert len(notes) == 2 and all("on another CPU model" in note for note in notes)
    assert any("m moved 2.0 → 3.0" in note for note in notes)


def test_a_training_derived_value_that_moves_on_the_same_cpu_is_a_change():
    loose = {"value": 1.0, "abs_tol": 1e-6, "rel_tol": 1e-3}
    assert changed(snap(t=loose), snap(t={**loose, "value": 1.0005})) == []
    assert changed(snap(t=loose), snap(t={**loose, "value": 1.01})) == [("t", 1.0, 1.01)]


def test_missing_and_new_metrics_are_changes():
    extra = {"value": 1.0, "abs_tol": 0.0, "rel_tol": 0.0}
    assert changed(snap(), snap(n=extra)) == [("n", None, 1.0)]
    assert changed(snap(n=extra), snap()) == [("n", 1.0, None)]


def test_previous_run_is_the_newest_older_sibling(tmp_path):
    for name in ("2026-01-01T00-00-00", "2026-01-02T00-00-00", "2026-01-03T00-00-00"):
        (tmp_path / name).mkdir()
        RunSummary(str(tmp_path / name), name, True, "k").save()
    (tmp_path / "latest").symlink_to("2026-01-03T00-00-00")
    assert previous_run(tmp_path / "2026-01-03T00-00-00").name == "2026-01-02T00-00-00"
    assert previous_run(tmp_path / "latest").name == "2026-01-02T00-00-00"
    assert previous_run(tmp_path / "2026-01-01T00-00-00") is None


@pytest.mark.parametrize("content", ["{broken", '{"no": "notebook key"}'])
def test_unreadable_baseline_file_is_named(tmp_path, content):
    (tmp_path / "00_x.json").write_text(content)
    with pytest.raises(ValueError, match="00_x.json is not a baseline file"):
        load_reference(tmp_path)


def test_baselines_come_from_smoke_runs_only(tmp_path):
    RunSummary(str(tmp_path), "t", False, "k").save()
    with pytest.raises(ValueError, match="full run"):
        write_baselines(tmp_path, tmp_path / "b")
