"""SearchTreeView: the steps of a decoding-time search (DeAL), one column per step.

Each step lists its candidates (a beam's prefix followed by one of its top-k tokens) with the
model's log-probability, the heuristic score on the candidate and its lookahead, and the
combined score ``log P + λ·h``; the candidates kept as beams are marked, the path of the
final output is highlighted, and clicking a candidate shows its prefix and lookahead text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import traitlets

from toolkit._checks import check_number
from widgets.base import InvalidValue, WidgetBase

FIELDS = ("parent", "token", "token_logp", "logp", "heuristic", "score", "lookahead", "chosen")
_NUMBERS = ("token_logp", "logp", "heuristic", "score")


def _as_row(candidate: object, label: str) -> dict:
    """One candidate as a plain dict of ``FIELDS`` (from a dict or a ``Candidate``)."""
    if isinstance(candidate, Mapping):
        missing = [f for f in FIELDS if f not in candidate]
        if missing:
            raise ValueError(f"{label} lacks {missing}; a candidate has the fields {list(FIELDS)}")
        get = candidate.__getitem__
    elif all(hasattr(candidate, f) for f in FIELDS):
        get = lambda f: getattr(candidate, f)  # noqa: E731
    else:
        raise TypeError(f"{label} must be a Candidate or a dict with {list(FIELDS)}")
    row = {f: get(f) for f in FIELDS}
    for f in _NUMBERS:
        row[f] = check_number(f"{label}.{f}", row[f])
    for f in ("token", "lookahead"):
        if not isinstance(row[f], str):
            raise TypeError(f"{label}.{f} must be a str, got {row[f]!r}")
    row["parent"], row["chosen"] = int(row["parent"]), bool(row["chosen"])
    return row


def _check_steps(steps: object) -> list[list[dict]]:
    if not isinstance(steps, Sequence) or isinstance(steps, str) or not steps:
        raise ValueError("steps must be a non-empty list of steps (lists of candidates)")
    rows = []
    for t, step in enumerate(steps):
        if not isinstance(step, Sequence) or isinstance(step, str) or not step:
            raise ValueError(f"steps[{t}] must be a non-empty list of candidates")
        rows.append([_as_row(c, f"steps[{t}][{i}]") for i, c in enumerate(step)])
        for i, row in enumerate(rows[-1]):
            low, high = (-1, -1) if t == 0 else (0, len(rows[-2]) - 1)
            if not low <= row["parent"] <= high:
                expected = f"a candidate of step {t - 1} in [0, {high}]" if t else "-1 (none)"
                raise ValueError(f"steps[{t}][{i}].parent is {row['parent']}; expected {expected}")
    return rows


def _check_path(path: Sequence[int], steps: list[list[dict]]) -> list[int]:
    path = [int(i) for i in path]
    if len(path) > len(steps):
        raise ValueError(f"path has {len(path)} entries for {len(steps)} steps")
    for t, i in enumerate(path):
        if not 0 <= i < len(steps[t]):
            raise ValueError(
                f"path[{t}] is {i}; expected a candidate index in [0, {len(steps[t]) - 1}]"
            )
        if t and steps[t][i]["parent"] != path[t - 1]:
            raise ValueError(f"path[{t}] = {i} is not a child of path[{t - 1}] = {path[t - 1]}")
    return path


class SearchTreeView(WidgetBase):
    """The candidates of every step of a search, the chosen path, a candidate's text on click.

    Args:
        steps: one list per step of candidates, ``toolkit.decoding.Candidate`` objects or
            dicts with their fields (``parent`` indexes the previous step's candidates).
        path: the final output's candidate index at each step (``Generation.path``).
        title: heading shown above the tree.

    Synced state: ``selected`` (``[step, candidate]`` of the clicked candidate, ``[]`` for
    none; set it to select from Python). ``steps`` and ``path`` are read-only.
    """

    _asset = "search_tree_view"

    steps = traitlets.List(read_only=True, help="Candidates of each step.").tag(sync=True)
    path = traitlets.List(traitlets.Int(), read_only=True, help="Output's path.").tag(sync=True)
    selected = traitlets.List(traitlets.Int(), help="[step, candidate] or [].").tag(sync=True)

    def __init__(self, steps: Sequence, path: Sequence[int] = (), *, title: str = "") -> None:
        rows = _check_steps(steps)
        self.set_trait("steps", rows)
        self.set_trait("path", _check_path(path, rows))
        super().__init__(title=title)

    @classmethod
    def from_generation(cls, generation, *, title: str = "") -> SearchTreeView:
        """The view of a ``Generation`` decoded with ``DeALConfig(trace=True)``."""
        if not getattr(generation, "steps", None):
            raise ValueError("generation has no trace; decode it with DeALConfig(trace=True)")
        return cls(generation.steps, generation.path, title=title)

    def text(self, step: int, candidate: int) -> tuple[str, str]:
        """``(prefix, lookahead)`` of a candidate: its tokens from the first step, and ``z``."""
        self._validate_selected({"value": [step, candidate]})
        node, tokens = candidate, []
        for t in range(step, -1, -1):
            tokens.append(self.steps[t][node]["token"])
            node = self.steps[t][node]["parent"]
        return "".join(reversed(tokens)), self.steps[step][candidate]["lookahead"]

    @traitlets.validate("selected")
    def _validate_selected(self, proposal) -> list[int]:
        value = list(proposal["value"])
        if not value:
            return value
        if len(value) != 2:
            raise InvalidValue(f"selected must be [] or [step, candidate], got {value}")
        step, node = value
        if not 0 <= step < len(self.steps) or not 0 <= node < len(self.steps[step]):
            raise InvalidValue(f"selected {value} names no candidate; steps: {len(self.steps)}")
        return value
