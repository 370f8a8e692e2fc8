"""Regression baselines with a test-only notebook that runs in seconds (tests/notebooks/fixtures).

A perturbed value or a flipped verdict fails the comparison with a table naming it; an
unchanged run passes; ``baselines update`` is idempotent.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def smoke_run(out: Path, *params: str) -> Path:
    result = cli("run", "--smoke", "--notebooks", str(FIXTURES), "--out", str(out), *params)
    assert result.returncode == 0, result.stdout + result.stderr
    return (out / "latest").resolve()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Baselines written twice by `baselines update`, and the bytes of both."""
    root = tmp_path_factory.mktemp("baselines")
    contents = []
    for _ in range(2):
        args = ("--notebooks", str(FIXTURES), "--dir", str(root / "b"), "--out", str(root / "runs"))
        result = cli("baselines", "update", *args)
        assert result.returncode == 0, result.stdout + result.stderr
        contents.append((root / "b" / "99_fixture.json").read_bytes())
    return root, contents


def test_update_is_idempotent(workspace):
    _, (first, second) = workspace
    assert first == second
    baseline = json.loads(first)
    assert {"seed", "torch", "platform", "claims", "metrics"} <= set(baseline)
    assert baseline["metrics"]["doubled"] == {"value": 2.0, "abs_tol": 1e-9, "rel_tol": 1e-3}


def test_unchanged_run_passes(workspace):
    root, _ = workspace
    result = cli("baselines", "check", str(root / "runs" / "latest"), "--dir", str(root / "b"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "match" in result.stdout


def test_perturbed_metric_fails_naming_it_its_baseline_and_new_value(workspace, tmp_path):
    root, _ = workspace
    run_dir = smoke_run(tmp_path, "-p", "offset=0.01")
    result = cli("baselines", "check", str(run_dir), "--dir", str(root / "b"))
    assert result.returncode == 1
    (row,) = [
        line for line in result.stdout.splitlines() if line.startswith("99_fixture.ipynb  doubled")
    ]
    assert re.split(r"\s{2,}", row)[2:] == ["2.0", "2.02", "abs 1e-09, rel 0.001"]
    assert "parameters differs" in result.stdout  # the run is not the baseline's configuration


def test_flipped_verdict_fails_though_values_are_within_tolerance(workspace, tmp_path):
    root, _ = workspace
    run_dir = smoke_run(tmp_path, "-p", "flip=True")
    result = cli("baselines", "check", str(run_dir), "--dir", str(root / "b"))
    assert result.returncode == 1
    assert "1 result(s) changed" in result.stdout
    (row,) = [line for line in result.stdout.splitlines() if "claim «" in line]
    assert re.split(r"\s{2,}", row)[2:] == ["held", "not held"]


def test_other_torch_version_is_compared_and_said(workspace, tmp_path):
    root, (content, _) = workspace
    baseline = json.loads(content)
    (tmp_path / "99_fixture.json").write_text(json.dumps({**baseline, "torch": "0.0.1"}))
    result = cli("baselines", "check", str(root / "runs" / "latest"), "--dir", str(tmp_path))
    assert result.returncode == 0 and "torch differs" in result.stdout


def test_missing_baseline_fails_and_says_how_to_make_it(workspace, tmp_path):
    root, _ = workspace
    (tmp_path / "other.json").write_text(json.dumps({"notebook": "00_other.ipynb"}))
    result = cli("baselines", "check", str(root / "runs" / "latest"), "--dir", str(tmp_path))
    assert result.returncode == 1 and "baselines update -k 99_fixture.ipynb" in result.stdout


def test_report_compares_with_the_previous_run_and_prints_markdown(workspace, tmp_path):
    smoke_run(tmp_path)
    run_dir = smoke_run(tmp_path, "-p", "flip=True")
    summary = json.loads((run_dir / "run.json").read_text())
    changed = [row for row in summary["comparison"]["rows"] if row["changed"]]
    assert [(r["before"], r["after"]) for r in changed] == [("held", "not held")]
    assert "<tr class='changed'>" in (run_dir / "index.html").read_text()
    assert summary["results"][0]["claims"][0]["status"] == "not held"
    root, _ = workspace
    result = cli("report", str(run_dir), "--compare", str(root / "b"))
    assert result.returncode == 0
    assert json.loads((run_dir / "run.json").read_text())["comparison"]["against"] == str(
        root / "b"
    )
    table = cli("report", str(run_dir), "--markdown").stdout
    assert "| 99_fixture.ipynb | The fixture's value stays below 1.5. |" in table
    assert "| 99_fixture.ipynb | `doubled` | 2 |" in table
