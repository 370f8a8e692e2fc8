"""Running a notebook's exercises alone: its answer cells, then their otter checks.

An exercise's answer cells carry the tag ``exercise:<name>`` (kept by ``otter assign`` in the
student and autograder notebooks). Grading executes only those cells, in notebook order, in one
fresh namespace, and runs the question's otter test file against it: seconds per notebook
instead of a whole notebook run. Exercises are therefore self-contained (their own imports and
small fixtures), and come after every measured cell.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import nbformat
from otter.nbmeta_config import NBMetadataConfig
from otter.test_files import create_test_file

TAG = "exercise:"


@dataclass(frozen=True)
class Result:
    """One exercise of one notebook: otter's score out of ``possible``; ``error`` if its
    answer cells raised (the checks still run, and usually fail)."""

    exercise: str
    score: float
    possible: float
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.score == self.possible


def answer_cells(notebook: nbformat.NotebookNode) -> dict[str, list[str]]:
    """``{exercise name: [answer cell sources]}`` in notebook order."""
    found: dict[str, list[str]] = {}
    for cell in notebook.cells:
        for tag in cell.metadata.get("tags", []):
            if cell.cell_type == "code" and tag.startswith(TAG):
                found.setdefault(tag[len(TAG) :], []).append(cell.source)
    return found


def check_notebook(path: str | Path, tests_dir: str | Path) -> list[Result]:
    """Run every exercise of notebook ``path`` against the test files in ``tests_dir``.

    An exercise without answer cells (deleted by the student) scores 0. Printed output of the
    cells is discarded.
    """
    notebook = nbformat.read(Path(path), as_version=4)
    cells = answer_cells(notebook)
    env: dict = {"__name__": "__exercise__"}
    results = []
    for test_path in sorted(Path(tests_dir).glob("*.py"), key=lambda p: _order(p, cells)):
        name = test_path.stem
        error = None if name in cells else f"no answer cell (tag {TAG}{name})"
        for source in cells.get(name, []):
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(source, f"<{name}>", "exec"), env)
            except Exception as exc:  # a student's answer may raise anything
                error = f"{type(exc).__name__}: {exc}"
        test = create_test_file(str(test_path), NBMetadataConfig())
        with contextlib.redirect_stdout(io.StringIO()):
            test.run(env)
        score = test.score if name in cells else 0.0
        results.append(Result(name, float(score), float(test.possible), error))
    return results


def _order(test_path: Path, cells: dict[str, list[str]]) -> tuple[int, str]:
    names = list(cells)
    name = test_path.stem
    return (names.index(name) if name in names else len(names), name)
