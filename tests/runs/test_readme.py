"""The README's results block comes from each notebook's latest full run."""

import json

import pytest

from toolkit.claims import Claim
from toolkit.cli import main
from toolkit.runs import NotebookResult, RunSummary, update_readme
from toolkit.runs.readme import BEGIN, END, latest_full_results

NOTEBOOKS = ["00_a.ipynb", "01_b.ipynb", "02_c.ipynb"]


def fake_run(root, name, *, smoke, results):
    """A run directory with one claim per notebook: ``results`` maps notebook → (status, value)."""
    run_dir = root / name
    run_dir.mkdir(parents=True)
    summary = RunSummary(str(run_dir), name, smoke, "research-toolkit")
    for notebook, (status, value) in results.items():
        stem = notebook.removesuffix(".ipynb")
        summary.results.append(
            NotebookResult(
                notebook, status, 12.0, {"smoke": smoke}, notebook, None, f"{stem}.claims.jsonl"
            )
        )
        claim = Claim("x beats 1", "arXiv:0", {"x": value}, "x > 1", "held", notebook=notebook)
        (run_dir / f"{stem}.claims.jsonl").write_text(json.dumps(claim.to_dict()) + "\n")
    summary.save()
    return run_dir


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    fake_run(root, "2026-01-01T00-00-00", smoke=False, results={"00_a.ipynb": ("ok", 2.0)})
    fake_run(
        root,
        "2026-01-02T00-00-00",
        smoke=False,
        results={"00_a.ipynb": ("ok", 3.0), "01_b.ipynb": ("failed", 9.0)},
    )
    fake_run(root, "2026-01-03T00-00-00", smoke=True, results={"00_a.ipynb": ("ok", 4.0)})
    return root


def readme_with_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nintro\n\n{BEGIN}\nstale\n{END}\n\n## After\n")
    return readme


def test_newest_full_ok_run_wins_smoke_and_failed_runs_are_ignored(runs):
    latest = latest_full_results(runs)
    assert set(latest) == {"00_a.ipynb"}
    assert latest["00_a.ipynb"][0].name == "2026-01-02T00-00-00"


def test_block_is_rewritten_from_the_runs_and_the_rest_is_kept(tmp_path, runs):
    readme = readme_with_block(tmp_path)
    assert update_readme(readme, runs, NOTEBOOKS)
    text = readme.read_text()
    assert text.startswith("# Title\n\nintro\n\n") and text.endswith(f"{END}\n\n## After\n")
    assert "stale" not in text
    assert "x = 3 " in text and "x = 2 " not in text and "x = 4 " not in text
    assert "Full run `2026-01-02T00-00-00`, 12 s." in text
    assert "No full run recorded yet: 01_b, 02_c." in text  # 01 failed, 02 never ran


def test_update_is_idempotent(tmp_path, runs):
    readme = readme_with_block(tmp_path)
    update_readme(readme, runs, NOTEBOOKS)
    first = readme.read_text()
    assert not update_readme(readme, runs, NOTEBOOKS)
    assert readme.read_text() == first


def test_readme_without_block_is_refused_and_left_alone(tmp_path, runs):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n")
    with pytest.raises(ValueError, match="no generated results block"):
        update_readme(readme, runs, NOTEBOOKS)
    assert readme.read_text() == "# Title\n"


def test_missing_runs_root_is_named(tmp_path):
    with pytest.raises(ValueError, match="runs_root"):
        update_readme(readme_with_block(tmp_path), tmp_path / "nowhere", NOTEBOOKS)


def test_cli_rewrites_the_readme(tmp_path, runs, capsys):
    readme = readme_with_block(tmp_path)
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name in NOTEBOOKS:
        (notebooks / name).write_text("{}")
    argv = ["report", "--readme", str(readme), "--runs", str(runs), "--notebooks", str(notebooks)]
    assert main(argv) == 0
    assert "results rewritten" in capsys.readouterr().out
    assert "x = 3 " in readme.read_text()
