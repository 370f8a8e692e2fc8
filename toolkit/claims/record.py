"""The :class:`Claim` record, its ``holds_if`` comparison, and where records go."""

from __future__ import annotations

import html
import json
import math
import operator
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

CLAIMS_FILE_ENV = "TOOLKIT_CLAIMS_FILE"
NOTEBOOK_ENV = "TOOLKIT_NOTEBOOK"

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
    """

    claim: str
    paper: str
    measured: dict[str, float]
    holds_if: str
    held: bool
    notebook: str | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Claim:
        return cls(**data)


def _term_value(text: str, measured: dict[str, float], where: str) -> float:
    match = _TERM.match(text.strip())
    if match is None:
        raise ValueError(f"holds_if: cannot read the term {text!r} in {where!r}")
    atom = match["atom"]
    if _NUMBER.match(atom):
        value = float(atom)
    elif atom in measured:
        value = float(measured[atom])
    else:
        raise ValueError(
            f"holds_if: {atom!r} in {where!r} is neither a number nor a measured key "
            f"(measured keys: {sorted(measured)})"
        )
    return value * float(match["coef"]) if match["coef"] else value


def evaluate(holds_if: str, measured: dict[str, float]) -> bool:
    """Decide ``holds_if`` over ``measured``. A NaN anywhere makes it not hold."""
    parts = [p for p in re.split(r"\s+and\s+", holds_if.strip()) if p]
    if not parts:
        raise ValueError("holds_if is empty: write a comparison such as 'a < b'")
    held = True
    for part in parts:
        match = _COMPARISON.match(part)
        if match is None:
            raise ValueError(f"holds_if: {part!r} is not a comparison 'lhs OP rhs' (OP: < <= > >=)")
        lhs = _term_value(match["lhs"], measured, part)
        rhs = _term_value(match["rhs"], measured, part)
        held = held and not (math.isnan(lhs) or math.isnan(rhs)) and _OPS[match["op"]](lhs, rhs)
    return held


def _check_measured(measured: dict) -> dict[str, float]:
    if not isinstance(measured, dict) or not measured:
        raise ValueError("measured must be a non-empty dict of name -> number")
    clean = {}
    for key, value in measured.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ValueError(f"measured key {key!r} must be an identifier-like string")
        try:
            clean[key] = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"measured[{key!r}] = {value!r} is not a number") from None
    return clean


def _display(claim: Claim) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:
        get_ipython = None
    verdict = "held" if claim.held else "did not hold"
    if get_ipython is None or get_ipython() is None:
        print(f"[claim {verdict}] {claim.claim} — {claim.measured} ({claim.holds_if})")
        return
    numbers = ", ".join(f"{k} = {v:.4g}" for k, v in claim.measured.items())
    color = "#1a7f37" if claim.held else "#b35900"
    body = (
        f'<div style="border-left:4px solid {color};padding:4px 10px;margin:6px 0">'
        f"<b>Claim ({html.escape(claim.paper)}):</b> {html.escape(claim.claim)}<br>"
        f"<b>Measured:</b> {html.escape(numbers)}<br>"
        f"<b>Check:</b> <code>{html.escape(claim.holds_if)}</code> → "
        f'<b style="color:{color}">{verdict}</b>'
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
) -> Claim:
    """Record a claim: evaluate ``holds_if`` on ``measured``, show it, and log it.

    Never raises because a claim did not hold; raises ``ValueError`` for a
    malformed record (empty text, non-numeric measurement, unknown key).
    """
    if not claim.strip() or not paper.strip():
        raise ValueError("a claim needs its text and the paper it comes from")
    values = _check_measured(measured)
    result = Claim(
        claim=claim.strip(),
        paper=paper.strip(),
        measured=values,
        holds_if=holds_if,
        held=evaluate(holds_if, values),
        notebook=os.environ.get(NOTEBOOK_ENV),
        note=note,
        extra=dict(extra or {}),
    )
    path = os.environ.get(CLAIMS_FILE_ENV)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(result.to_dict(), allow_nan=True) + "\n")
    _display(result)
    return result


def load_claims(path: str | Path) -> list[Claim]:
    """Read a claims JSON-lines file; a missing file means no claims."""
    path = Path(path)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Claim.from_dict(json.loads(line)) for line in lines if line.strip()]
