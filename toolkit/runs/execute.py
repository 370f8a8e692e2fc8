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

from toolkit._checks import check_bool, check_int
from toolkit.claims import CLAIMS_FILE_ENV, NOTEBOOK_ENV
from toolkit.htmlexport import notebook_to_html
from toolkit.metrics import METRICS_FILE_ENV
from toolkit.runs.compare import previous_run
from toolkit.runs.report import write_report
from toolkit.runs.summary import NotebookResult, RunSummary

KERNEL_NAME = "research-toolkit"


def find_notebooks(directory: str | Path, patterns: Sequence[str] = ()) -> list[Path]:
    """Notebooks in ``directory`` whose file name contains any of ``patterns`` (all if none).

    Every pattern must match a notebook: a typo in one of several is refused, not ignored.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"notebooks directory {str(directory)!r} does not exist")
    available = sorted(directory.glob("*.ipynb"))
    names = [nb.name for nb in available]
    unmatched = [p for p in patterns if not any(p in name for name in names)]
    if unmatched or not available:
        raise ValueError(
            f"no notebooks in {directory} match {unmatched or 'anything'}; available: {names}"
        )
    return [nb for nb in available if not patterns or any(p in nb.name for p in patterns)]


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
    metrics_file = run_dir / f"{notebook.stem}.metrics.jsonl"
    started = time.perf_counter()
    status, error, html = "ok", None, None
    try:
        with _environment(
            **{
                CLAIMS_FILE_ENV: str(claims_file.resolve()),
                METRICS_FILE_ENV: str(metrics_file.resolve()),
                NOTEBOOK_ENV: notebook.name,
            }
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
        metrics_file=metrics_file.name,
    )


def _point_latest(out_root: Path, run_dir: Path) -> None:
    latest = out_root / "latest"
    staging = out_root / f".latest-{os.getpid()}"
    staging.unlink(missing_ok=True)
    staging.symlink_to(run_dir.name)
    os.replace(staging, latest)


def _smoke_parameter(smoke: bool | None, parameters: dict) -> bool:
    """``smoke`` from the flag or from ``parameters["smoke"]``; the two must not disagree."""
    given = parameters.get("smoke", False if smoke is None else smoke)
    check_bool("parameter smoke", given)
    if smoke is not None and given != smoke:
        raise ValueError(
            f"smoke={smoke} conflicts with the parameter smoke={given}: use --smoke or "
            "-p smoke=..., not both"
        )
    return given


def _new_run_dir(out_root: Path, stamp: str) -> Path:
    run_dir, suffix = out_root / stamp, 1
    while run_dir.exists():
        run_dir, suffix = out_root / f"{stamp}-{suffix}", suffix + 1
    try:
        run_dir.mkdir(parents=True)
    except OSError as error:
        raise ValueError(
            f"out_root {str(out_root)!r}: cannot create a run directory there "
            f"({error.strerror}); pass a writable directory"
        ) from None
    return run_dir


def run_notebooks(
    notebooks: Sequence[Path],
    *,
    out_root: str | Path = "runs",
    smoke: bool | None = None,
    parameters: dict | None = None,
    kernel: str = KERNEL_NAME,
    cell_timeout: int | None = None,
) -> RunSummary:
    """Execute ``notebooks`` with papermill, export HTML, write the report.

    Every notebook is checked before any runs (parameters it does not define, a
    missing kernel), so a typo fails in seconds, not after an hour. Smoke mode comes from
    ``smoke`` or ``parameters["smoke"]`` (default off); if both are given they must agree.
    The report compares the run with the previous one in ``out_root``.
    """
    parameters = dict(parameters or {})
    params = {**parameters, "smoke": _smoke_parameter(smoke, parameters)}
    if cell_timeout is not None:
        check_int("cell_timeout", cell_timeout, minimum=1)
    for notebook in notebooks:
        check_parameters(notebook, params)
    check_kernel(kernel)
    out_root = Path(out_root)
    stamp = time.strftime("%Y-%m-%dT%H-%M-%S")
    run_dir = _new_run_dir(out_root, stamp)
    summary = RunSummary(str(run_dir), stamp, params["smoke"], kernel)
    for notebook in (bar := tqdm(notebooks, desc="notebooks", unit="nb")):
        bar.set_postfix_str(notebook.name)
        result = _execute(Path(notebook), run_dir, params, kernel, cell_timeout)
        summary.results.append(result)
        summary.save()
        tqdm.write(f"{result.status:>6}  {result.seconds:7.1f}s  {result.notebook}")
    write_report(run_dir, previous_run(run_dir))
    _point_latest(out_root, run_dir)
    return summary
