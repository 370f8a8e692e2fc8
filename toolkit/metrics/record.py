"""The :class:`Metric` record and where it goes: beside the notebook's claims."""

from __future__ import annotations

import os
import warnings
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from toolkit._checks import check_number, check_str
from toolkit.claims import DEFAULT_ABS_TOL, DEFAULT_REL_TOL, NOTEBOOK_ENV
from toolkit.claims.jsonlines import append_line, is_finite, measurement, read_lines

METRICS_FILE_ENV = "TOOLKIT_METRICS_FILE"  # where record() appends (set by `toolkit run`)


@dataclass(frozen=True)
class Metric:
    """A named number a notebook computed, with how far a regression run lets it move.

    A rerun's value ``v'`` matches the baseline ``v`` when
    ``|v' - v| <= max(abs_tol, rel_tol * |v|)``.
    """

    name: str
    value: float
    abs_tol: float = DEFAULT_ABS_TOL
    rel_tol: float = DEFAULT_REL_TOL
    note: str = ""
    notebook: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Metric:
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"a metric record has unknown field(s) {unknown}")
        return cls(**data)


def record(
    name: str,
    value: float,
    *,
    abs_tol: float = DEFAULT_ABS_TOL,
    rel_tol: float = DEFAULT_REL_TOL,
    note: str = "",
) -> Metric:
    """Record a key number of the notebook for regression runs and the run report.

    The defaults are tight (smoke runs are deterministic); a training-derived metric
    should declare looser ones, e.g. ``rel_tol=1e-3``. A NaN or infinite value is recorded
    with a ``RuntimeWarning`` (a regression run reports it as changed unless the baseline
    was the same). Under ``python -m toolkit run`` a name may be recorded once per notebook.
    """
    check_str("name", name)
    if not name.isidentifier():
        raise ValueError(f"name must be an identifier-like string, got {name!r}")
    result = Metric(
        name=name,
        value=measurement(f"metric {name!r}", value),
        abs_tol=check_number("abs_tol", abs_tol, minimum=0.0),
        rel_tol=check_number("rel_tol", rel_tol, minimum=0.0),
        note=check_str("note", note, allow_empty=True),
        notebook=os.environ.get(NOTEBOOK_ENV),
    )
    if not is_finite(result.value):
        warnings.warn(
            f"metric {name!r} is {result.value}: recorded, but it is not a finite number",
            RuntimeWarning,
            stacklevel=2,
        )
    path = os.environ.get(METRICS_FILE_ENV)
    if path:
        if any(m.name == name for m in load_metrics(path)):
            raise ValueError(f"metric {name!r} was already recorded by this notebook")
        append_line(path, result.to_dict())
    return result


def load_metrics(path: str | Path) -> list[Metric]:
    """Read a metrics JSON-lines file; a missing file means no metrics."""
    return [Metric.from_dict(data) for data in read_lines(path)]
