"""Papermill execution of notebooks into a timestamped run directory."""

from __future__ import annotations

import contextlib
import os
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path

import papermill
from jupyter_client.kernelspec import KernelSpecManager
from tqdm.auto import tqdm

from toolkit.claims import CLAIMS_FILE_ENV, NOTEBOOK_ENV
from toolkit.htmlexport import notebook_to_html
from toolkit.runs.report import write_report
from toolkit.runs.summary import NotebookResult, RunSummary

KERNEL_NAME = "research-toolkit"


def find_notebooks(directory: str | Path, patterns: Sequence[str] = ()) -> list[Path]:
    """Notebooks in ``directory`` whose file name contains any of ``patterns`` (all if none)."""
    directory = Path(directory)
    notebooks = sorted(directory.glob("*.ipynb"))
    if patterns:
        notebooks = [nb for nb in notebooks if any(p in nb.name for p in patterns)]
    if not notebooks:
        raise ValueError(
            f"no notebooks in {directory} match {list(patterns) or 'anything'}; "
            f"available: {[nb.name for nb in sorted(directory.glob('*.ipynb'))]}"
        )
    return notebooks


def check_parameters(notebook: Path, parameters: dict) -> None:
    """Refuse parameters the notebook's ``parameters`` cell does not define."""
    declared = papermill.inspect_notebook(str(notebook))
    if not declared:
        raise ValueError(f"{notebook.name} has no cell tagged 'parameters'")
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ValueError(
            f"{notebook.name} has no parameter(s) {unknown}; "
            f"its parameters cell defines {sorted(declared)}"
        )


def check_kernel(kernel_name: str) -> None:
    if kernel_name not in KernelSpecManager().find_kernel_specs():
        raise ValueError(
            f"Jupyter kernel {kernel_name!r} is not registered. Run `make kernel` (or "
            f"`python -m ipykernel install --sys-prefix --name {kernel_name}`) in the "
            "project's environment."
        )


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _execute(
    notebook: Path, run_dir: Path, parameters: dict, kernel: str, cell_timeout: int | None
) -> NotebookResult:
    executed = run_dir / notebook.name
    claims_file = run_dir / f"{notebook.stem}.claims.jsonl"
    started = time.perf_counter()
    status, error, html = "ok", None, None
    try:
        with _environment(
            **{CLAIMS_FILE_ENV: str(claims_file.resolve()), NOTEBOOK_ENV: notebook.name}
        ):
            papermill.execute_notebook(
                str(notebook),
                str(executed),
                parameters=parameters,
                kernel_name=kernel,
                cwd=str(notebook.parent),
                progress_bar=False,
                execution_timeout=cell_timeout,
            )
    except Exception as exc:  # a failing notebook is recorded; the run goes on
        status = "failed"
        error = "".join(traceback.format_exception_only(exc)).strip()[-4000:]
    if executed.exists():
        html = notebook_to_html(executed, executed.with_suffix(".html")).name
    return NotebookResult(
        notebook=notebook.name,
        status=status,
        seconds=round(time.perf_counter() - started, 2),
        parameters=parameters,
        executed=executed.name,
        html=html,
        claims_file=claims_file.name,
        error=error,
    )


def _point_latest(out_root: Path, run_dir: Path) -> None:
    latest = out_root / "latest"
    staging = out_root / f".latest-{os.getpid()}"
    staging.unlink(missing_ok=True)
    staging.symlink_to(run_dir.name)
    os.replace(staging, latest)


def run_notebooks(
    notebooks: Sequence[Path],
    *,
    out_root: str | Path = "runs",
    smoke: bool = False,
    parameters: dict | None = None,
    kernel: str = KERNEL_NAME,
    cell_timeout: int | None = None,
) -> RunSummary:
    """Execute ``notebooks`` with papermill, export HTML, write the report.

    Every notebook is checked before any runs (parameters it does not define, a
    missing kernel), so a typo fails in seconds, not after an hour.
    """
    params = {**(parameters or {}), "smoke": smoke}
    for notebook in notebooks:
        check_parameters(notebook, params)
    check_kernel(kernel)
    out_root = Path(out_root)
    stamp = time.strftime("%Y-%m-%dT%H-%M-%S")
    run_dir = out_root / stamp
    suffix = 1
    while run_dir.exists():
        run_dir, suffix = out_root / f"{stamp}-{suffix}", suffix + 1
    run_dir.mkdir(parents=True)
    summary = RunSummary(str(run_dir), stamp, smoke, kernel)
    for notebook in (bar := tqdm(notebooks, desc="notebooks", unit="nb")):
        bar.set_postfix_str(notebook.name)
        result = _execute(Path(notebook), run_dir, params, kernel, cell_timeout)
        summary.results.append(result)
        summary.save()
        tqdm.write(f"{result.status:>6}  {result.seconds:7.1f}s  {result.notebook}")
    write_report(run_dir)
    _point_latest(out_root, run_dir)
    return summary
