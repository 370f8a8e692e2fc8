"""``python -m toolkit course build``: student, autograder and teacher notebooks and a static site.

For every lesson of ``course.yml``, ``otter assign`` (tests not run: the exercises' own tests
check them) turns the notebook into

* ``student/<lesson>.ipynb`` — answers replaced by ``...``, hidden checks removed, an otter
  init cell so ``grader.check("<exercise>")`` works in class; public checks in ``student/tests``;
* ``autograder/<lesson>/`` — the notebook with answers, every check in ``tests/`` and otter's
  grading zip: what ``python -m toolkit course grade`` reads;
* ``teacher/<lesson>.ipynb`` — the notebook as committed, answers and checks included.

``site/index.html`` shows the course map, the grid coverage and a link to each lesson's
executed notebook exported with its widgets (``toolkit.htmlexport``), taken from the newest
successful run under ``runs/`` or, with ``execute=True``, from a fresh smoke run.
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import tempfile
from pathlib import Path

import nbformat

from toolkit.course.exercises import answer_cells
from toolkit.course.spec import (
    LITERACIES,
    PERSPECTIVES,
    Course,
    Lesson,
    coverage,
    load_course,
    tag_line,
)

NOTEBOOKS = Path("notebooks")
RUNS = Path("runs")


def check_notebooks(course: Course, notebooks: Path = NOTEBOOKS) -> None:
    """Every notebook is a lesson, every lesson a notebook whose tag line and exercises match.

    Raises:
        ValueError: naming the notebook and what to change (course.yml or the notebook).
    """
    listed = {lesson.notebook for lesson in course.lessons}
    missing = sorted(p.stem for p in notebooks.glob("*.ipynb") if p.stem not in listed)
    if missing:
        raise ValueError(
            f"notebooks not in course/course.yml: {', '.join(missing)}; add a lesson for each"
        )
    for lesson in course.lessons:
        path = notebooks / f"{lesson.notebook}.ipynb"
        if not path.is_file():
            raise ValueError(f"course.yml lesson {lesson.notebook!r}: {path} does not exist")
        nb = nbformat.read(path, as_version=4)
        if tag_line(lesson) not in nb.cells[0].source:
            raise ValueError(f"{path}: its first cell must carry the tag line {tag_line(lesson)}")
        found = list(answer_cells(nb))
        if found != lesson.exercise_names:
            raise ValueError(
                f"{path}: exercises {found} in the notebook, {lesson.exercise_names} in course.yml"
            )


def _assign(master: Path, result: Path) -> None:
    from otter.assign import main as otter_assign

    for name in ("otter", "nbconvert"):
        logging.getLogger(name).setLevel(logging.WARNING)
    otter_assign(str(master), str(result), no_pdfs=True, no_run_tests=True)


def _lesson_outputs(lesson: Lesson, master: Path, out: Path) -> None:
    shutil.copy2(master, out / "teacher" / master.name)
    if not lesson.exercises:
        shutil.copy2(master, out / "student" / master.name)
        return
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "assign"
        _assign(master, result)
        shutil.copy2(result / "student" / master.name, out / "student" / master.name)
        shutil.copytree(result / "student" / "tests", out / "student" / "tests", dirs_exist_ok=True)
        shutil.copytree(result / "autograder", out / "autograder" / lesson.notebook)


def latest_executed(notebook: str, runs: Path = RUNS) -> Path | None:
    """The executed copy of ``notebook`` in the newest run where it ran ``ok``, if any."""
    from toolkit.runs import RunSummary

    for run_json in sorted(runs.glob("*/run.json"), reverse=True):
        if run_json.parent.is_symlink():
            continue
        summary = RunSummary.load(run_json.parent)
        for result in summary.results:
            if Path(result.notebook).stem == notebook and result.status == "ok":
                return run_json.parent / result.executed
    return None


def _executed_notebooks(
    course: Course, notebooks: Path, runs: Path, execute: bool
) -> dict[str, Path]:
    found = {lesson.notebook: latest_executed(lesson.notebook, runs) for lesson in course.lessons}
    missing = [name for name, path in found.items() if path is None]
    if missing and execute:
        from toolkit.runs import run_notebooks

        paths = [notebooks / f"{name}.ipynb" for name in missing]
        run_notebooks(paths, out_root=runs, smoke=True)
        found.update({name: latest_executed(name, runs) for name in missing})
    return {name: path for name, path in found.items() if path is not None}


_STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.4em .6em;
vertical-align:top}th{background:#eef}td.empty{background:#fde8e8;color:#a33}
ul{margin:0;padding-left:1.2em}"""


def _grid_html(course: Course) -> str:
    cells = coverage(course)
    head = "".join(f"<th>AI as {html.escape(p)}</th>" for p in PERSPECTIVES)
    rows = []
    for lit in LITERACIES:
        tds = []
        for per in PERSPECTIVES:
            names = cells[lit, per]
            text = ", ".join(html.escape(n) for n in names)
            tds.append(f"<td>{text}</td>" if names else '<td class="empty">empty</td>')
        rows.append(f"<tr><th>{html.escape(lit)} literacy</th>{''.join(tds)}</tr>")
    return f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"


def _lesson_row(i: int, lesson: Lesson, page: str | None) -> str:
    esc = html.escape
    link = f'<a href="{page}">{esc(lesson.title)}</a>' if page else esc(lesson.title)
    objectives = "".join(
        f"<li>{esc(o['text'])} <em>({esc(o['literacy'])} · {esc(o['perspective'])})</em></li>"
        for o in lesson.objectives
    )
    exercises = "".join(f"<li>{esc(e['name'])} ({esc(e['kind'])})</li>" for e in lesson.exercises)
    status = "" if page else "<br><small>not executed yet: run <code>make run</code></small>"
    return (
        f"<tr><td>{i}</td><td>{link}<br><code>{esc(lesson.notebook)}</code>{status}</td>"
        f"<td>{esc(tag_line(lesson).split('** ', 1)[1])}</td>"
        f"<td>{esc(', '.join(lesson.prerequisites) or 'none')}</td>"
        f"<td>{lesson.minutes}</td><td><ul>{objectives}</ul></td><td><ul>{exercises}</ul></td></tr>"
    )


def write_site(course: Course, executed: dict[str, Path], site: Path) -> Path:
    """``site/index.html`` and ``site/lessons/<lesson>.html`` (executed notebooks, widgets)."""
    from toolkit.htmlexport import notebook_to_html

    (site / "lessons").mkdir(parents=True, exist_ok=True)
    rows = []
    for i, lesson in enumerate(course.lessons, 1):
        page = None
        if lesson.notebook in executed:
            page = f"lessons/{lesson.notebook}.html"
            notebook_to_html(executed[lesson.notebook], site / page)
        rows.append(_lesson_row(i, lesson, page))
    header = (
        "<tr><th>#</th><th>lesson</th><th>AI-literacy tag</th><th>prerequisites</th>"
        "<th>minutes</th><th>learning objectives (grid cell)</th><th>exercises</th></tr>"
    )
    framework = re.sub(r"\s+", " ", course.framework)
    index = site / "index.html"
    index.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(course.title)}"
        f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(course.title)}</h1>"
        f"<p>Framework: {html.escape(framework)}</p><h2>Grid coverage</h2>"
        f"<p>Lessons with a learning objective in each cell; red cells are not covered.</p>"
        f"{_grid_html(course)}<h2>Course map</h2><p>Minutes: class time plus the measured "
        f"smoke run. Student notebooks: <code>course-build/student/</code>.</p>"
        f"<table>{header}{''.join(rows)}</table></body></html>",
        encoding="utf-8",
    )
    return index


def build_course(
    out: str | Path = "course-build",
    *,
    execute: bool = True,
    course: Course | None = None,
    notebooks: str | Path = NOTEBOOKS,
    runs: str | Path = RUNS,
) -> Path:
    """Write ``out/{student,autograder,teacher,site}``; return ``out/site/index.html``.

    ``execute=False`` never runs a notebook: lessons without a successful run under ``runs``
    are listed on the site without a page.

    Raises:
        ValueError: see :func:`check_notebooks` and :func:`~toolkit.course.spec.load_course`.
    """
    course = course or load_course()
    notebooks, runs, out = Path(notebooks), Path(runs), Path(out)
    check_notebooks(course, notebooks)
    for part in ("student", "autograder", "teacher", "site"):
        shutil.rmtree(out / part, ignore_errors=True)
        (out / part).mkdir(parents=True)
    for lesson in course.lessons:
        _lesson_outputs(lesson, (notebooks / f"{lesson.notebook}.ipynb").resolve(), out)
    return write_site(course, _executed_notebooks(course, notebooks, runs, execute), out / "site")
