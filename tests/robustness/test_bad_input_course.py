"""Bad input for the course layer: course.yml and its schema, the notebooks it lists, the
grading folder and bundle, and student answers that raise, are blank or were deleted."""

import csv
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from toolkit.course import build_course, check_notebooks, grade_submissions, load_course
from toolkit.course.exercises import TAG

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "course" / "course.schema.json"
GOOD = yaml.safe_load((ROOT / "course" / "course.yml").read_text())


def _write(tmp_path, data, text=None):
    path = tmp_path / "course.yml"
    path.write_text(text if text is not None else yaml.safe_dump(data))
    return path


def _time(**changes):
    return {"class_minutes": 5, "smoke_seconds": 1, "full_seconds": 1, **changes}


def _tag(**changes):
    return {"literacy": "critical", "perspective": "tool", "note": "x", **changes}


def _lesson(**changes):
    lesson = dict(GOOD["lessons"][1], **changes)
    return {**GOOD, "lessons": [GOOD["lessons"][0], lesson]}


@pytest.mark.parametrize("value", [None, 3, b"course.yml", ["course.yml"]])
def test_load_course_refuses_a_path_of_the_wrong_type(value):
    with pytest.raises(TypeError, match="path must be a str or Path"):
        load_course(value, SCHEMA)


@pytest.mark.parametrize("value", ["", "   "])
def test_load_course_refuses_a_blank_path(value):
    with pytest.raises(ValueError, match="path must not be empty"):
        load_course(value, SCHEMA)


def test_load_course_a_missing_file_is_an_oserror(tmp_path):
    with pytest.raises(OSError):
        load_course(tmp_path / "nope.yml", SCHEMA)


@pytest.mark.parametrize("text", ["lessons: [", "title: a\n  b: : c", "\t- x"])
def test_load_course_invalid_yaml_names_the_file(tmp_path, text):
    with pytest.raises(ValueError, match="not valid YAML"):
        load_course(_write(tmp_path, None, text), SCHEMA)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (None, r"\(top level\)"),
        ({**GOOD, "lessons": []}, "lessons"),
        ({**GOOD, "extra": 1}, r"\(top level\).*extra"),
        (_lesson(notebook="01 token masks"), "lessons/1/notebook"),
        (
            _lesson(tag=_tag(literacy="digital")),
            "lessons/1/tag/literacy",
        ),
        (
            _lesson(tag=_tag(perspective="magic")),
            "lessons/1/tag/perspective",
        ),
        (_lesson(objectives=[]), "lessons/1/objectives"),
        (_lesson(objectives=[{"text": "x", "literacy": "critical"}]), "lessons/1/objectives/0"),
        (
            _lesson(time=_time(class_minutes=0)),
            "lessons/1/time/class_minutes",
        ),
        (
            _lesson(time=_time(smoke_seconds=-1)),
            "lessons/1/time/smoke_seconds",
        ),
        (
            _lesson(time=_time(smoke_seconds="56")),
            "lessons/1/time/smoke_seconds",
        ),
        (_lesson(exercises=[{"name": "Ex 1", "kind": "coding"}]), "lessons/1/exercises/0/name"),
        (_lesson(exercises=[{"name": "ex", "kind": "essay"}]), "lessons/1/exercises/0/kind"),
        (_lesson(prerequisites="00_welcome"), "lessons/1/prerequisites"),
    ],
)
def test_load_course_schema_violations_name_the_field(tmp_path, data, where):
    with pytest.raises(ValueError, match=where):
        load_course(_write(tmp_path, data), SCHEMA)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_lesson(notebook="00_welcome", prerequisites=[]), "listed twice"),
        (_lesson(prerequisites=["05_attention_geometry"]), "not an earlier lesson"),
        (_lesson(prerequisites=["01_token_masks"]), "not an earlier lesson"),
        (_lesson(exercises=[{"name": "ex00_perplexity", "kind": "coding"}]), "used twice"),
    ],
)
def test_load_course_checks_what_the_schema_cannot(tmp_path, data, message):
    with pytest.raises(ValueError, match=rf"lessons\[1\].*{message}"):
        load_course(_write(tmp_path, data), SCHEMA)


@pytest.fixture
def notebooks(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in ("00_welcome", "01_token_masks"):
        shutil.copy2(ROOT / "notebooks" / f"{name}.ipynb", folder)
    return folder


def _course(tmp_path):
    return load_course(_write(tmp_path, {**GOOD, "lessons": GOOD["lessons"][:2]}), SCHEMA)


def test_a_notebook_missing_from_course_yml_is_named(tmp_path, notebooks):
    shutil.copy2(ROOT / "notebooks" / "02_causal_rewards.ipynb", notebooks)
    with pytest.raises(ValueError, match="02_causal_rewards; add a lesson"):
        check_notebooks(_course(tmp_path), notebooks)


def test_a_lesson_without_its_notebook_is_named(tmp_path, notebooks):
    (notebooks / "01_token_masks.ipynb").unlink()
    with pytest.raises(ValueError, match="'01_token_masks'.*does not exist"):
        check_notebooks(_course(tmp_path), notebooks)


def test_a_tag_line_that_drifted_from_course_yml_is_refused(tmp_path, notebooks):
    path = notebooks / "01_token_masks.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("critical literacy", "functional literacy")
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match="01_token_masks.ipynb: its first cell must carry"):
        check_notebooks(_course(tmp_path), notebooks)


def test_exercises_that_differ_from_course_yml_are_named(tmp_path, notebooks):
    path = notebooks / "01_token_masks.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if f"{TAG}ex01_beta" in cell.metadata.get("tags", []):
            del cell.metadata["tags"]
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match=r"\['ex01_dpo_loss'\] in the notebook"):
        check_notebooks(_course(tmp_path), notebooks)
    with pytest.raises(ValueError, match="exercises"):
        build_course(tmp_path / "out", execute=False, course=_course(tmp_path), notebooks=notebooks)
    assert not (tmp_path / "out").exists(), "a refused build writes nothing"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bundle")
    folder = tmp / "notebooks"
    folder.mkdir()
    for name in ("00_welcome", "01_token_masks"):
        shutil.copy2(ROOT / "notebooks" / f"{name}.ipynb", folder)
    course = load_course(_write(tmp, {**GOOD, "lessons": GOOD["lessons"][:2]}), SCHEMA)
    build_course(tmp / "out", execute=False, course=course, notebooks=folder, runs=tmp / "runs")
    return tmp / "out"


@pytest.mark.parametrize("value", [None, 1, ["a"]])
def test_grade_refuses_paths_of_the_wrong_type(bundle, tmp_path, value):
    with pytest.raises(TypeError, match="submissions must be a str or Path"):
        grade_submissions(value, bundle / "autograder")
    (tmp_path / "a.ipynb").write_text("{}")
    with pytest.raises(TypeError, match="autograder must be a str or Path"):
        grade_submissions(tmp_path, value)
    if value is not None:
        with pytest.raises(TypeError, match="out must be a str or Path"):
            grade_submissions(tmp_path, bundle / "autograder", value)


def test_grade_refuses_a_missing_folder_an_empty_one_and_an_unbuilt_bundle(bundle, tmp_path):
    with pytest.raises(ValueError, match="submissions .* is not a directory"):
        grade_submissions(tmp_path / "nope", bundle / "autograder")
    with pytest.raises(ValueError, match="holds no .ipynb"):
        grade_submissions(tmp_path, bundle / "autograder")
    with pytest.raises(ValueError, match="course build"):
        grade_submissions(tmp_path, tmp_path / "nope")
    with pytest.raises(ValueError, match="holds no tests"):
        grade_submissions(tmp_path, tmp_path)


def _student(bundle, tmp_path, name, edit):
    nb = nbformat.read(bundle / "student" / "01_token_masks.ipynb", as_version=4)
    edit(nb)
    nbformat.write(nb, tmp_path / name)


def _rows(bundle, tmp_path):
    return list(csv.DictReader(grade_submissions(tmp_path, bundle / "autograder").open()))


def test_grade_reports_broken_raising_deleted_and_foreign_submissions(bundle, tmp_path):
    (tmp_path / "empty.ipynb").write_text("")
    (tmp_path / "text.ipynb").write_text("my answers are in the email")

    def raises(nb):
        cell = next(c for c in nb.cells if f"{TAG}ex01_dpo_loss" in c.metadata.get("tags", []))
        cell.source = "raise RuntimeError('half done')"

    def deleted(nb):
        nb.cells = [c for c in nb.cells if f"{TAG}ex01_beta" not in c.metadata.get("tags", [])]

    def foreign(nb):
        nb.cells = [c for c in nb.cells if not c.metadata.get("tags")]

    _student(bundle, tmp_path, "raises.ipynb", raises)
    _student(bundle, tmp_path, "deleted.ipynb", deleted)
    _student(bundle, tmp_path, "foreign.ipynb", foreign)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "x.ipynb").write_text("{")
    rows = {(Path(r["submission"]).name, r["exercise"]): r for r in _rows(bundle, tmp_path)}
    assert "not a readable notebook" in rows["empty.ipynb", ""]["error"]
    assert "not a readable notebook" in rows["text.ipynb", ""]["error"]
    assert rows["raises.ipynb", "ex01_dpo_loss"]["error"] == "RuntimeError: half done"
    assert float(rows["raises.ipynb", "ex01_dpo_loss"]["score"]) == 0
    assert "no answer cell" in rows["deleted.ipynb", "ex01_beta"]["error"]
    assert float(rows["deleted.ipynb", "ex01_beta"]["score"]) == 0
    assert "no course exercise found" in rows["foreign.ipynb", ""]["error"]
    assert not any(name == "x.ipynb" for name, _ in rows)


def test_a_blank_prediction_or_a_wrong_option_fails_its_check(bundle, tmp_path):
    def answer(text):
        def edit(nb):
            cell = next(c for c in nb.cells if f"{TAG}ex01_beta" in c.metadata.get("tags", []))
            cell.source = text

        return edit

    _student(bundle, tmp_path, "blank.ipynb", answer('prediction = ""\nreason = ""'))
    _student(
        bundle, tmp_path, "other.ipynb", answer('prediction = "sideways"\nreason = "a b c d e"')
    )
    _student(bundle, tmp_path, "terse.ipynb", answer('prediction = "up"\nreason = "because"'))
    rows = [r for r in _rows(bundle, tmp_path) if r["exercise"] == "ex01_beta"]
    assert [float(r["score"]) < float(r["possible"]) for r in rows] == [True, True, True]


def test_cli_course_mistakes_end_in_one_error_line(capsys):
    from toolkit.cli import main

    assert main(["course", "grade"]) == 2
    assert "course grade needs SUBMISSIONS" in capsys.readouterr().err
    assert main(["course", "grade", "/nonexistent/folder"]) == 2
    assert "is not a directory" in capsys.readouterr().err
