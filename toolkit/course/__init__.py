"""The AI-literacy course layer: a course map, auto-graded exercises, builds and a static site.

* :mod:`~toolkit.course.spec` — ``course/course.yml`` (lessons in order, objectives on Gu &
  Ericson's 3×3 grid, arXiv:2503.00079), its coverage table and each notebook's tag line.
* :mod:`~toolkit.course.exercises` — a notebook's exercises run alone against otter checks.
* :mod:`~toolkit.course.build` — ``otter assign`` into student, autograder and teacher
  notebooks, and the course site.
* :mod:`~toolkit.course.grade` — returned notebooks graded into a CSV.

Everything in ``__all__`` loads on first use. Teacher's guide: ``docs/course.md``.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.course.build import build_course, check_notebooks
    from toolkit.course.exercises import Result, answer_cells, check_notebook
    from toolkit.course.grade import grade_submissions
    from toolkit.course.spec import (
        Course,
        Lesson,
        coverage,
        coverage_markdown,
        load_course,
        map_markdown,
        tag_line,
    )

__all__ = [
    "Course",
    "Lesson",
    "Result",
    "answer_cells",
    "build_course",
    "check_notebook",
    "check_notebooks",
    "coverage",
    "coverage_markdown",
    "grade_submissions",
    "load_course",
    "map_markdown",
    "tag_line",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
