"""The :class:`Claim` record, its ``holds_if`` comparison, and where records go."""

from __future__ import annotations

import html
import operator
import os
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from toolkit._checks import check_choice, check_number, check_str, describe
from toolkit.claims.jsonlines import append_line, check_json, is_finite, measurement, read_lines

CLAIMS_FILE_ENV = "TOOLKIT_CLAIMS_FILE"  # where record() appends (set by `toolkit run`)
NOTEBOOK_ENV = "TOOLKIT_NOTEBOOK"  # the notebook's file name, stamped on each record
STATUSES = ("held", "not held", "invalid")  # a claim's verdict; invalid: a non-finite number
# Smoke runs are deterministic on one machine; CI's CPU may differ in the last bits.
DEFAULT_REL_TOL = 1e-6  # default relative tolerance of a measured value across runs
DEFAULT_ABS_TOL = 1e-9  # default absolute tolerance of a measured value across runs

_OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
_COMPARISON = re.compile(r"^\s*(?P<lhs>.+?)\s*(?P<op><=|>=|<|>)\s*(?P<rhs>.+?)\s*$")
_TERM = re.compile(r"^(?:(?P<coef>[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*\*\s*)?(?P<atom>\S+)$")
_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?$")


@dataclass(frozen=True)
class Claim:
    """A paper's claim, what was measured, and whether it held here.

    ``holds_if`` is the comparison that decides it, written over the keys of
    ``measured``: one or more ``lhs OP rhs`` joined by ``and``, where OP is one of
    ``< <= > >=`` and each side is a number, a key, or ``number * key``
    (e.g. ``"lm_ppl < 0.5 * unigram_ppl and lm_ppl > 1"``).

    ``status`` is ``"held"``, ``"not held"``, or ``"invalid"`` when a measurement is not a
    finite number (NaN, ±inf): such a claim neither held nor failed, and ``reason`` says why.
    ``abs_tol``/``rel_tol`` are how far a measured value may move before a regression run
    reports it as changed (``|new - old| <= max(abs_tol, rel_tol * |old|)``).
    """

    claim: str
    paper: str
    measured: dict[str, float]
    holds_if: str
    status: str
    reason: str = ""
    notebook: str | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)
    abs_tol: float = DEFAULT_ABS_TOL
    rel_tol: float = DEFAULT_REL_TOL

    def __post_init__(self):
        check_choice("status", self.status, STATUSES)

    @property
    def held(self) -> bool:
        return self.status == "held"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Claim:
        """A claim from :meth:`to_dict`'s output; older records with ``held: bool`` are read too."""
        data = dict(data)
        if "held" in data and "status" not in data:
            data["status"] = "held" if data.pop("held") else "not held"
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"a claim record has unknown field(s) {unknown}")
        return cls(**data)


def _constant(text: str, where: str) -> float:
    value = float(text)
    if not is_finite(value):
        raise ValueError(f"holds_if: the constant {text!r} in {where!r} is not a finite number")
    return value


def _term_value(text: str, measured: dict[str, float], where: str) -> float:
    match = _TERM.match(text.strip())
    if match is None:
        raise ValueError(f"holds_if: cannot read the term {text!r} in {where!r}")
    atom = match["atom"]
    if _NUMBER.match(atom):
        value = _constant(atom, where)
    elif atom in measured:
        value = measured[atom]
    else:
        raise ValueError(
            f"holds_if: {atom!r} in {where!r} is neither a number nor a measured key "
            f"(measured keys: {sorted(measured)})"
        )
    return value * _constant(match["coef"], where) if match["coef"] else value


def non_finite(measured: dict[str, float]) -> list[str]:
    """The keys of ``measured`` whose value is NaN or ±inf."""
    return [key for key, value in measured.items() if not is_finite(value)]


def evaluate(holds_if: str, measured: dict[str, float]) -> str:
    """Decide ``holds_if`` over ``measured``: ``"held"``, ``"not held"`` or ``"invalid"``.

    The comparison is read (and a malformed one refused) first; a measured value that is
    not finite makes the claim ``"invalid"``: neither held nor not held.
    """
    check_str("holds_if", holds_if)
    parts = [p for p in re.split(r"\s+and\s+", holds_if.strip()) if p]
    held = True
    for part in parts:
        match = _COMPARISON.match(part)
        if match is None:
            raise ValueError(f"holds_if: {part!r} is not a comparison 'lhs OP rhs' (OP: < <= > >=)")
        lhs = _term_value(match["lhs"], measured, part)
        rhs = _term_value(match["rhs"], measured, part)
        held = held and _OPS[match["op"]](lhs, rhs)
    if non_finite(measured):
        return "invalid"
    return "held" if held else "not held"


def _check_measured(measured: object) -> dict[str, float]:
    if not isinstance(measured, dict):
        raise TypeError(f"measured must be a dict of name -> number, got {describe(measured)}")
    if not measured:
        raise ValueError("measured must not be empty: record at least one measured number")
    clean = {}
    for key, value in measured.items():
        if not isinstance(key, str):
            raise TypeError(f"measured key {key!r} must be a str, got {describe(key)}")
        if not key.isidentifier():
            raise ValueError(f"measured key {key!r} must be an identifier-like string")
        clean[key] = measurement(f"measured[{key!r}]", value)
    return clean


def _check_extra(extra: object) -> dict:
    if extra is None:
        return {}
    if not isinstance(extra, dict):
        raise TypeError(f"extra must be a dict, got {describe(extra)}")
    for key, value in extra.items():
        if not isinstance(key, str):
            raise TypeError(f"extra key {key!r} must be a str, got {describe(key)}")
        check_json(f"extra[{key!r}]", value)
    return dict(extra)


def _display(claim: Claim) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:
        get_ipython = None
    verdict = {"held": "held", "not held": "did not hold", "invalid": "invalid"}[claim.status]
    if claim.reason:
        verdict += f" ({claim.reason})"
    if get_ipython is None or get_ipython() is None:
        print(f"[claim {verdict}] {claim.claim} — {claim.measured} ({claim.holds_if})")
        return
    numbers = ", ".join(f"{k} = {v:.4g}" for k, v in claim.measured.items())
    color = {"held": "#1a7f37", "not held": "#b35900", "invalid": "#cf222e"}[claim.status]
    body = (
        f'<div style="border-left:4px solid {color};padding:4px 10px;margin:6px 0">'
        f"<b>Claim ({html.escape(claim.paper)}):</b> {html.escape(claim.claim)}<br>"
        f"<b>Measured:</b> {html.escape(numbers)}<br>"
        f"<b>Check:</b> <code>{html.escape(claim.holds_if)}</code> → "
        f'<b style="color:{color}">{html.escape(verdict)}</b>'
        + (f"<br><i>{html.escape(claim.note)}</i>" if claim.note else "")
        + "</div>"
    )
    display(HTML(body), metadata={"toolkit": {"claim": claim.to_dict()}})


def record(
    claim: str,
    *,
    paper: str,
    measured: dict[str, float],
    holds_if: str,
    note: str = "",
    extra: dict | None = None,
    abs_tol: float = DEFAULT_ABS_TOL,
    rel_tol: float = DEFAULT_REL_TOL,
) -> Claim:
    """Record a claim: evaluate ``holds_if`` on ``measured``, show it, and log it.

    Never raises because a claim did not hold, and a NaN or infinite measurement
    records the claim as ``"invalid"``. A malformed record raises before anything is
    written: ``TypeError`` for a wrong type (a ``str`` or ``bool`` measurement, ``extra``
    that is not plain JSON), ``ValueError`` for a wrong value (empty text, an unknown key
    in ``holds_if``, a negative tolerance). Training-derived measurements should declare
    looser tolerances (``rel_tol``, ``abs_tol``) for regression runs on other CPUs.
    """
    text = check_str("claim", claim).strip()
    paper = check_str("paper", paper).strip()
    values = _check_measured(measured)
    status = evaluate(holds_if, values)
    bad = non_finite(values)
    result = Claim(
        claim=text,
        paper=paper,
        measured=values,
        holds_if=holds_if,
        status=status,
        reason=f"not a finite number: {', '.join(bad)}" if bad else "",
        notebook=os.environ.get(NOTEBOOK_ENV),
        note=check_str("note", note, allow_empty=True),
        extra=_check_extra(extra),
        abs_tol=check_number("abs_tol", abs_tol, minimum=0.0),
        rel_tol=check_number("rel_tol", rel_tol, minimum=0.0),
    )
    path = os.environ.get(CLAIMS_FILE_ENV)
    if path:
        append_line(path, result.to_dict())
    _display(result)
    return result


def load_claims(path: str | Path) -> list[Claim]:
    """Read a claims JSON-lines file; a missing file means no claims."""
    return [Claim.from_dict(data) for data in read_lines(path)]
