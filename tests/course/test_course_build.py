"""The course builds; solutions pass every otter check, blank student answers fail each
exercise; grading a folder scores a correct and a blank submission; the site shows the map,
the grid and lesson pages. One build (otter assign, no notebook executed) serves every test."""

import csv
import shutil
from pathlib import Path

import nbformat
import pytest

from toolkit.course import build_course, check_notebook, grade_submissions, load_course
from toolkit.runs import NotebookResult, RunSummary

ROOT = Path(__file__).resolve().parents[2]
COURSE = load_course(ROOT / "course" / "course.yml", ROOT / "course" / "course.schema.json")
WITH_EXERCISES = [lesson.notebook for lesson in COURSE.lessons if lesson.exercises]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A course build whose runs/ holds one fake successful run of 00_welcome."""
    tmp = tmp_path_factory.mktemp("course")
    run_dir = tmp / "runs" / "2026-01-01T00-00-00"
    run_dir.mkdir(parents=True)
    shutil.copy2(ROOT / "notebooks" / "00_welcome.ipynb", run_dir / "00_welcome.ipynb")
    result = NotebookResult("00_welcome.ipynb", "ok", 1.0, {}, "00_welcome.ipynb", None, "")
    RunSummary(str(run_dir), "2026-01-01T00-00-00", True, "research-toolkit", [result]).save()
    out = tmp / "course-build"
    index = build_course(
        out, execute=False, course=COURSE, notebooks=ROOT / "notebooks", runs=tmp / "runs"
    )
    return out, index


def test_build_writes_student_autograder_teacher_and_site(built):
    out, index = built
    for lesson in COURSE.lessons:
        assert (out / "student" / f"{lesson.notebook}.ipynb").is_file()
        assert (out / "teacher" / f"{lesson.notebook}.ipynb").is_file()
    for name in WITH_EXERCISES:
        assert list((out / "autograder" / name).glob("*.zip")), name
    assert index == out / "site" / "index.html"


@pytest.mark.parametrize("notebook", WITH_EXERCISES)
def test_solutions_pass_every_check(built, notebook):
    out, _ = built
    tests = out / "autograder" / notebook / "tests"
    for path in (
        out / "autograder" / notebook / f"{notebook}.ipynb",
        ROOT / "notebooks" / f"{notebook}.ipynb",
    ):
        results = check_notebook(path, tests)
        assert [r.exercise for r in results] == COURSE.lesson(notebook).exercise_names
        assert all(r.passed and r.error is None for r in results), results


@pytest.mark.parametrize("notebook", WITH_EXERCISES)
def test_blank_student_answers_fail_every_exercise(built, notebook):
    out, _ = built
    student = out / "student" / f"{notebook}.ipynb"
    text = student.read_text()
    assert "# BEGIN SOLUTION" not in text and "# HIDDEN" not in text
    results = check_notebook(student, out / "autograder" / notebook / "tests")
    assert results and all(r.score < r.possible for r in results), results


def test_student_notebooks_keep_only_public_checks(built):
    out, _ = built
    public = {p.stem: p.read_text() for p in (out / "student" / "tests").glob("*.py")}
    assert set(public) == {e for lesson in COURSE.lessons for e in lesson.exercise_names}
    assert not any("'hidden': True" in text for text in public.values())


def test_grading_a_folder_scores_correct_and_blank_submissions(built, tmp_path):
    out, _ = built
    shutil.copy2(
        out / "autograder" / "01_token_masks" / "01_token_masks.ipynb", tmp_path / "a.ipynb"
    )
    shutil.copy2(out / "student" / "01_token_masks.ipynb", tmp_path / "b.ipynb")
    (tmp_path / "c.ipynb").write_text("{")
    path = grade_submissions(tmp_path, out / "autograder")
    rows = list(csv.DictReader(path.open()))
    score = {}
    for row in rows:
        score.setdefault(Path(row["submission"]).name, []).append(float(row["score"]))
    assert score == {"a.ipynb": [1.0, 1.0], "b.ipynb": [0.0, 0.0], "c.ipynb": [0.0]}
    assert "not a readable notebook" in rows[-1]["error"]


def test_site_shows_the_map_the_grid_and_executed_lessons(built):
    out, index = built
    page = index.read_text()
    assert COURSE.title in page and "Grid coverage" in page and "Course map" in page
    assert "indirectly beneficial literacy" in page and "AI as sociocultural" in page
    assert 'href="lessons/00_welcome.html"' in page
    assert (out / "site" / "lessons" / "00_welcome.html").is_file()
    assert "not executed yet" in page


def test_exercise_cells_do_not_touch_the_measured_cells():
    """Exercises sit after the last code cell of the original notebook: nothing measured
    runs after them, so they cannot change a claim or consume random numbers before it."""
    for name in WITH_EXERCISES:
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        config = next(i for i, c in enumerate(nb.cells) if c.source.startswith("# ASSIGNMENT"))
        later = [c for c in nb.cells[config:] if c.cell_type == "code"]
        assert all("claims." not in c.source and "metrics." not in c.source for c in later), name
