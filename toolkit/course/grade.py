"""``python -m toolkit course grade SUBMISSIONS/``: score returned student notebooks into a CSV.

Each ``*.ipynb`` under ``SUBMISSIONS`` (any file name, any sub-folder) is matched to its lesson
by the exercises it contains, then its answer cells are run against that lesson's otter checks
from ``course-build/autograder/<lesson>/tests`` (see :mod:`toolkit.course.exercises`). A file
that cannot be read is reported in the CSV, not fatal: one broken submission never stops a
class's grading.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nbformat

from toolkit._checks import describe
from toolkit.course.exercises import answer_cells, check_notebook

AUTOGRADER = Path("course-build/autograder")
COLUMNS = ("submission", "lesson", "exercise", "score", "possible", "error")


def _directory(name: str, value: object, hint: str) -> Path:
    if not isinstance(value, str | Path):
        raise TypeError(f"{name} must be a str or Path, got {describe(value)}")
    path = Path(value)
    if not path.is_dir():
        raise ValueError(f"{name} {str(path)!r} is not a directory; {hint}")
    return path


def _lessons(autograder: Path) -> dict[str, Path]:
    """``{exercise name: tests directory}`` of every lesson in the grading bundle."""
    return {test.stem: test.parent for test in sorted(autograder.glob("*/tests/*.py"))}


def grade_rows(path: Path, lessons: dict[str, Path]) -> list[dict]:
    """The CSV rows of one submission: one per exercise, or one row saying why none."""
    row = {"submission": str(path), "lesson": "", "exercise": "", "score": 0, "possible": 0}
    try:
        names = list(answer_cells(nbformat.read(path, as_version=4)))
    except Exception as error:  # not JSON, not a notebook: whatever a student returned
        return [dict(row, error=f"not a readable notebook: {type(error).__name__}: {error}")]
    known = [name for name in names if name in lessons]
    if not known:
        return [dict(row, error="no course exercise found (cells tagged exercise:<name>)")]
    tests = lessons[known[0]]
    return [
        dict(
            row,
            lesson=tests.parent.name,
            exercise=r.exercise,
            score=round(r.score, 4),
            possible=r.possible,
            error=r.error or "",
        )
        for r in check_notebook(path, tests)
    ]


def grade_submissions(
    submissions: str | Path, autograder: str | Path = AUTOGRADER, out: str | Path | None = None
) -> Path:
    """Grade every notebook under ``submissions``; write the CSV (default
    ``<submissions>/grades.csv``) with columns ``submission, lesson, exercise, score,
    possible, error`` and return its path.

    Raises:
        TypeError: an argument that is not a path.
        ValueError: ``submissions`` is not a directory or holds no ``.ipynb``; ``autograder``
            is not a built grading bundle (run ``python -m toolkit course build`` first).
    """
    submissions = _directory("submissions", submissions, "give the folder of returned notebooks")
    autograder = _directory("autograder", autograder, "run `python -m toolkit course build` first")
    lessons = _lessons(autograder)
    if not lessons:
        raise ValueError(
            f"autograder {str(autograder)!r} holds no tests/*.py; run "
            "`python -m toolkit course build` and pass course-build/autograder"
        )
    notebooks = sorted(
        p for p in submissions.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )
    if not notebooks:
        raise ValueError(f"submissions {str(submissions)!r} holds no .ipynb files")
    if out is not None and not isinstance(out, str | Path):
        raise TypeError(f"out must be a str or Path, got {describe(out)}")
    out = Path(out) if out is not None else submissions / "grades.csv"
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for path in notebooks:
            writer.writerows(grade_rows(path, lessons))
    return out
