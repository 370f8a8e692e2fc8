"""Executing notebooks with papermill and reporting what they claimed.

``python -m toolkit run`` executes every notebook into ``runs/<timestamp>/``
(``runs/latest`` points at the newest), exports each to standalone HTML with its
widgets, and writes ``index.html``: one row per notebook, claim and metric, and a
before → after comparison with the previous run. ``python -m toolkit baselines``
keeps each notebook's smoke-run results under ``tests/notebooks/baselines/`` and
checks a run against them.
"""

from toolkit.runs.compare import (
    Comparison,
    Row,
    compare_run,
    load_reference,
    previous_run,
    write_baselines,
)
from toolkit.runs.execute import check_parameters, find_notebooks, run_notebooks
from toolkit.runs.readme import update_readme
from toolkit.runs.report import markdown, write_report
from toolkit.runs.summary import NotebookResult, RunSummary

__all__ = [
    "Comparison",
    "NotebookResult",
    "Row",
    "RunSummary",
    "check_parameters",
    "compare_run",
    "find_notebooks",
    "load_reference",
    "markdown",
    "previous_run",
    "run_notebooks",
    "update_readme",
    "write_baselines",
    "write_report",
]
