"""The JSON-lines files a run's notebooks write records into, appended atomically."""

from __future__ import annotations

import json
import math
import numbers
import os
import stat
import tempfile
from pathlib import Path

from toolkit._checks import describe


def measurement(name: str, value: object) -> float:
    """A measured value as a ``float``; NaN and ±inf pass (they make a claim invalid).

    Python and NumPy reals and 0-d arrays or tensors are numbers; a ``str`` or a ``bool``
    is not (``"0.9"`` or ``True`` as a measurement is a mistake, not a number).
    """
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {describe(value)}")
    return float(value)


def is_finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))


def check_json(name: str, value: object) -> None:
    """``value`` must be plain JSON (dicts with ``str`` keys, lists, str, finite numbers, None)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be plain JSON data (dict with str keys, list, str, finite number, "
            f"bool or None), got {describe(value)}: {error}"
        ) from None


def append_line(path: str | Path, record: dict) -> None:
    """Append ``record`` as one JSON line, replacing the file atomically (temp file + rename).

    The record is serialized before the file is touched, and a reader (or a crash) sees the
    old file or the new one, never a truncated one.
    """
    line = json.dumps(record, allow_nan=True, ensure_ascii=False) + "\n"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    fd, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(staging, mode)  # mkstemp's 0600 would make the file private
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(old + line)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def read_lines(path: str | Path) -> list[dict]:
    """The records of a JSON-lines file; a missing file holds none, a corrupt line is named."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}, line {number}: not a JSON record ({error})") from None
        if not isinstance(record, dict):
            raise ValueError(f"{path}, line {number}: expected a JSON object, got {line[:60]!r}")
        records.append(record)
    return records
