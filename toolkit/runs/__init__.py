"""Executing notebooks with papermill and reporting what they claimed.

``python -m toolkit run`` executes every notebook into ``runs/<timestamp>/``
(``runs/latest`` points at the newest), exports each to standalone HTML with its
widgets, and writes ``index.html``: one row per notebook and one per claim.
"""

from toolkit.runs.execute import check_parameters, find_notebooks, run_notebooks
from toolkit.runs.report import write_report
from toolkit.runs.summary import NotebookResult, RunSummary

__all__ = [
    "NotebookResult",
    "RunSummary",
    "check_parameters",
    "find_notebooks",
    "run_notebooks",
    "write_report",
]
