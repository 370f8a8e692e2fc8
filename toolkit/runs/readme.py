"""The README's results section, generated from the latest full run of each notebook.

Full-mode results are documented, not asserted: ``python -m toolkit report --readme README.md``
finds, for every notebook, the newest run under ``runs/`` that executed it in full mode without
error, and rewrites the block between :data:`BEGIN` and :data:`END` with its claims and metrics,
so the README cannot drift from what was measured. Notebooks with no full run are listed as such.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.claims import load_claims
from toolkit.metrics import load_metrics
from toolkit.runs.report import claims_markdown, metrics_markdown
from toolkit.runs.summary import SUMMARY, NotebookResult, RunSummary

BEGIN = "<!-- full-run-results:begin (generated: python -m toolkit report --readme README.md) -->"
END = "<!-- full-run-results:end -->"


def latest_full_results(runs_root: str | Path) -> dict[str, tuple[Path, NotebookResult]]:
    """Notebook → (run directory, result) of its newest successful full-mode run."""
    runs_root = Path(runs_root)
    if not runs_root.is_dir():
        raise ValueError(f"runs_root {str(runs_root)!r} is not a directory of runs")
    latest: dict[str, tuple[Path, NotebookResult]] = {}
    run_dirs = sorted(
        (d for d in runs_root.iterdir() if not d.is_symlink() and (d / SUMMARY).is_file()),
        key=lambda d: d.name,
    )
    for run_dir in run_dirs:
        summary = RunSummary.load(run_dir)
        if summary.smoke:
            continue
        for result in summary.results:
            smoke = result.parameters.get("smoke", False)
            if result.status == "ok" and not smoke:
                latest[result.notebook] = (run_dir, result)
    return latest


def results_markdown(runs_root: str | Path, notebooks: list[str]) -> str:
    """The generated block: per notebook, its latest full run's claims and metrics."""
    latest = latest_full_results(runs_root)
    lines = [BEGIN, ""]
    for notebook in [nb for nb in notebooks if nb in latest]:
        run_dir, result = latest[notebook]
        lines += [f"#### {Path(notebook).stem}", ""]
        lines += [f"Full run `{run_dir.name}`, {result.seconds:.0f} s.", ""]
        claims = load_claims(run_dir / result.claims_file)
        metrics = load_metrics(run_dir / result.metrics_file) if result.metrics_file else []
        if claims:
            lines += [*claims_markdown(claims), ""]
        if metrics:
            lines += [*metrics_markdown(metrics), ""]
    missing = [Path(nb).stem for nb in notebooks if nb not in latest]
    if missing:
        lines += [f"No full run recorded yet: {', '.join(missing)}.", ""]
    return "\n".join([*lines, END])


def update_readme(readme: str | Path, runs_root: str | Path, notebooks: list[str]) -> bool:
    """Rewrite the block between :data:`BEGIN` and :data:`END` in ``readme``; True if it changed."""
    readme = Path(readme)
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(
            f"readme {str(readme)!r} has no generated results block: add a line {BEGIN!r} "
            f"and, below it, a line {END!r}"
        )
    new = text[:start] + results_markdown(runs_root, notebooks) + text[end + len(END) :]
    if new == text:
        return False
    readme.write_text(new, encoding="utf-8")
    return True
