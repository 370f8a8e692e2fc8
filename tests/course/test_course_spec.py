"""course.yml validates, lists every notebook, and is the one source of each notebook's tag,
exercises and Discuss section."""

import re
from pathlib import Path

import nbformat
import pytest

from toolkit.course import (
    answer_cells,
    check_notebooks,
    coverage,
    coverage_markdown,
    load_course,
    map_markdown,
    tag_line,
)
from toolkit.course.spec import LITERACIES, PERSPECTIVES

ROOT = Path(__file__).resolve().parents[2]
COURSE = load_course(ROOT / "course" / "course.yml", ROOT / "course" / "course.schema.json")
KIND_TEXT = {
    "coding": "short coding task",
    "predict-then-run": "predict, then run",
    "modify-and-observe": "modify and observe",
}


def _notebook(name: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)


def test_every_notebook_is_a_lesson_and_every_lesson_a_notebook():
    listed = [lesson.notebook for lesson in COURSE.lessons]
    on_disk = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(listed) == on_disk
    assert listed == sorted(listed), "lessons follow the notebook numbers"
    check_notebooks(COURSE, ROOT / "notebooks")


@pytest.mark.parametrize("lesson", COURSE.lessons, ids=lambda lesson: lesson.notebook)
def test_the_notebook_tag_line_is_the_one_in_course_yml(lesson):
    assert tag_line(lesson) in _notebook(lesson.notebook).cells[0].source


@pytest.mark.parametrize("lesson", COURSE.lessons, ids=lambda lesson: lesson.notebook)
def test_exercises_match_course_yml_in_name_and_kind(lesson):
    nb = _notebook(lesson.notebook)
    assert list(answer_cells(nb)) == lesson.exercise_names
    prompts = [c.source for c in nb.cells if c.source.startswith("### Exercise")]
    assert [p.splitlines()[1] for p in prompts] == [
        f"*{KIND_TEXT[e['kind']]}*" for e in lesson.exercises
    ]


@pytest.mark.parametrize("name", ["01", "02", "03", "04", "05", "06", "08", "09", "10"])
def test_method_notebooks_have_two_to_four_exercises_of_two_kinds(name):
    lesson = next(lesson for lesson in COURSE.lessons if lesson.notebook.startswith(name))
    assert 2 <= len(lesson.exercises) <= 4
    assert len({e["kind"] for e in lesson.exercises}) >= 2


@pytest.mark.parametrize(
    "lesson", [lesson for lesson in COURSE.lessons if lesson.exercises], ids=lambda x: x.notebook
)
def test_a_discuss_section_with_two_or_three_questions_ends_the_notebook(lesson):
    last = _notebook(lesson.notebook).cells[-1]
    assert last.cell_type == "markdown" and last.source.startswith("## Discuss")
    assert len(re.findall(r"^\d+\. ", last.source, re.M)) in (2, 3)


def test_coverage_places_every_objective_and_shows_empty_cells():
    cells = coverage(COURSE)
    assert set(cells) == {(lit, per) for lit in LITERACIES for per in PERSPECTIVES}
    placed = {(o["literacy"], o["perspective"]) for ls in COURSE.lessons for o in ls.objectives}
    assert placed == {cell for cell, names in cells.items() if names}
    table = coverage_markdown(COURSE)
    assert table.count("\n") == 4 and table.count("*empty*") == 9 - len(placed)


def test_the_map_lists_lessons_in_order_with_measured_time():
    rows = map_markdown(COURSE).splitlines()[2:]
    assert [r.split("`")[1] for r in rows] == [lesson.notebook for lesson in COURSE.lessons]
    lesson = COURSE.lesson("01_token_masks")
    assert lesson.time["smoke_seconds"] == 91
    assert lesson.minutes == lesson.time["class_minutes"] + 2  # the smoke run, rounded up


def test_cli_prints_the_map_and_the_grid(capsys, monkeypatch):
    from toolkit.cli import main

    monkeypatch.chdir(ROOT)
    assert main(["course", "map"]) == 0
    out = capsys.readouterr().out
    assert COURSE.title in out and "| literacy \\ AI as |" in out


def test_the_teachers_guide_shows_the_current_grid():
    guide = (ROOT / "docs" / "course.md").read_text()
    assert coverage_markdown(COURSE) in guide, (
        "docs/course.md: paste the table of `python -m toolkit course map` (grid coverage)"
    )
