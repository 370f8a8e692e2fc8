"""The course map: ``course/course.yml``, validated by ``course/course.schema.json``.

Gu & Ericson (arXiv:2503.00079) place AI-literacy objectives on a 3×3 grid: literacy as
functional, critical or indirectly beneficial (rows) × AI seen as technical detail, tool or
sociocultural (columns). Each lesson points at one notebook, places its objectives on that
grid, and carries the literacy tag its notebook shows (one source of truth: the tag line in the
notebook is :func:`tag_line` of its lesson).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from toolkit._checks import check_str, describe

COURSE_FILE = Path("course/course.yml")
SCHEMA_FILE = Path("course/course.schema.json")
LITERACIES = ("functional", "critical", "indirectly beneficial")
PERSPECTIVES = ("technical detail", "tool", "sociocultural")
_PERSPECTIVE_TEXT = {
    "technical detail": "AI as technical detail",
    "tool": "AI as a tool",
    "sociocultural": "AI as sociocultural",
}


@dataclass(frozen=True)
class Lesson:
    """One lesson of ``course.yml`` (its fields as written there)."""

    notebook: str
    title: str
    tag: dict
    objectives: list
    prerequisites: list
    time: dict
    exercises: list

    @property
    def exercise_names(self) -> list[str]:
        return [e["name"] for e in self.exercises]

    @property
    def minutes(self) -> int:
        """Estimated class time: ``class_minutes`` plus the measured smoke run, rounded up."""
        smoke = self.time["smoke_seconds"] or 0
        return self.time["class_minutes"] + -(-int(smoke) // 60)


@dataclass(frozen=True)
class Course:
    """The whole ``course.yml``: its title, the framework it follows and its lessons in order."""

    title: str
    framework: str
    lessons: list[Lesson]

    def lesson(self, notebook: str) -> Lesson:
        for lesson in self.lessons:
            if lesson.notebook == notebook:
                return lesson
        known = ", ".join(lesson.notebook for lesson in self.lessons)
        raise LookupError(f"no lesson for notebook {notebook!r} in course.yml; lessons: {known}")


def _path(name: str, value: object) -> Path:
    """A ``str`` or ``Path`` argument, as a ``Path`` (blank strings refused)."""
    if isinstance(value, str):
        return Path(check_str(name, value))
    if not isinstance(value, Path):
        raise TypeError(f"{name} must be a str or Path, got {describe(value)}")
    return value


def load_course(path: str | Path = COURSE_FILE, schema: str | Path = SCHEMA_FILE) -> Course:
    """Read and validate ``course.yml``: the schema, then what a schema cannot say.

    Raises:
        OSError: a file is missing.
        ValueError: invalid YAML, a schema violation (named by its path in the file), a
            notebook listed twice, an exercise name used twice, or a prerequisite that is
            not an earlier lesson.
    """
    path, schema = _path("path", path), _path("schema", schema)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML: {error}") from None
    rules = json.loads(schema.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(rules).iter_errors(data), key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top level)"
        raise ValueError(f"{path}: {where}: {errors[0].message}")
    lessons = [Lesson(**entry) for entry in data["lessons"]]
    seen: set[str] = set()
    exercises: set[str] = set()
    for i, lesson in enumerate(lessons):
        where = f"{path}: lessons[{i}] ({lesson.notebook})"
        if lesson.notebook in seen:
            raise ValueError(f"{where}: the notebook is listed twice")
        for name in lesson.prerequisites:
            if name not in seen:
                raise ValueError(f"{where}: prerequisite {name!r} is not an earlier lesson")
        for name in lesson.exercise_names:
            if name in exercises:
                raise ValueError(f"{where}: exercise name {name!r} is used twice")
            exercises.add(name)
        seen.add(lesson.notebook)
    return Course(data["title"], data["framework"].strip(), lessons)


def tag_line(lesson: Lesson) -> str:
    """The notebook's tag line, ``**AI-literacy tag:** <literacy> literacy · AI as <perspective>
    (<note>).``"""
    tag = lesson.tag
    perspective = _PERSPECTIVE_TEXT[tag["perspective"]]
    return f"**AI-literacy tag:** {tag['literacy']} literacy · {perspective} ({tag['note']})."


def coverage(course: Course) -> dict[tuple[str, str], list[str]]:
    """``{(literacy, perspective): [notebooks with an objective there]}`` for all 9 cells."""
    cells = {(lit, per): [] for lit in LITERACIES for per in PERSPECTIVES}
    for lesson in course.lessons:
        for objective in lesson.objectives:
            names = cells[objective["literacy"], objective["perspective"]]
            if lesson.notebook not in names:
                names.append(lesson.notebook)
    return cells


def coverage_markdown(course: Course) -> str:
    """The grid as a Markdown table: lesson numbers in each cell, *empty* where none."""
    cells = coverage(course)
    rows = ["| literacy \\ AI as | " + " | ".join(PERSPECTIVES) + " |", "|---" * 4 + "|"]
    for lit in LITERACIES:
        entries = [", ".join(n[:2] for n in cells[lit, per]) or "*empty*" for per in PERSPECTIVES]
        rows.append(f"| {lit} | " + " | ".join(entries) + " |")
    return "\n".join(rows)


def map_markdown(course: Course) -> str:
    """The course map: one row per lesson, in order."""
    rows = [
        "| lesson | notebook | tag | prerequisites | time (min) | exercises |",
        "|---|---|---|---|---|---|",
    ]
    for i, lesson in enumerate(course.lessons, 1):
        tag = f"{lesson.tag['literacy']} · {lesson.tag['perspective']}"
        needs = ", ".join(p[:2] for p in lesson.prerequisites) or "none"
        rows.append(
            f"| {i} | `{lesson.notebook}` | {tag} | {needs} | {lesson.minutes} | "
            f"{len(lesson.exercises)} |"
        )
    return "\n".join(rows)
