"""The :class:`Claim` record, its ``holds_if`` comparison, and where records go."""

from __future__ import annotations

import html
import operator
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from toolkit._checks import check_choice, check_int, check_number, check_str, describe
from toolkit.claims.intervals import DEFAULT_CONFIDENCE, METHODS, Interval, check_samples, interval
from toolkit.claims.jsonlines import append_line, check_json, is_finite, measurement, read_lines

CLAIMS_FILE_ENV = "TOOLKIT_CLAIMS_FILE"  # where record() appends (set by `toolkit run`)
NOTEBOOK_ENV = "TOOLKIT_NOTEBOOK"  # the notebook's file name, stamped on each record
NOT_TESTABLE = "not testable here"  # a failed precondition: the measurement cannot speak to it
STATUSES = ("held", "not held", "invalid", NOT_TESTABLE)  # a claim's verdict, see Claim.status
VERDICTS = {  # status → how reports word it
    "held": "held",
    "not held": "did not hold",
    "invalid": "invalid",
    NOT_TESTABLE: NOT_TESTABLE,
}
# Smoke runs are deterministic on one machine; CI's CPU may differ in the last bits.
DEFAULT_REL_TOL = 1e-6  # default relative tolerance of a measured value across runs
DEFAULT_ABS_TOL = 1e-9  # default absolute tolerance of a measured value across runs
TRAINED = {"rel_tol": 1e-3, "abs_tol": 1e-6}
"""Tolerances for a value that comes out of training (``record(..., **TRAINED)``): it repeats bit
for bit on one CPU model with one thread count, but another kernel or thread count moves its last
bits and training amplifies them."""

_OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
_COMPARISON = re.compile(r"^\s*(?P<lhs>.+?)\s*(?P<op><=|>=|<|>)\s*(?P<rhs>.+?)\s*$")
_TERM = re.compile(r"^(?:(?P<coef>[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*\*\s*)?(?P<atom>\S+)$")
_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?$")
_BOUND = re.compile(r"^(?P<side>lo|hi)\((?P<key>[^()\s]+)\)$")
_BAR = re.compile(r"^\s*(?P<op><=|>=|<|>)\s*(?P<value>\S+)\s*$")


@dataclass(frozen=True)
class Precondition:
    """A sanity check a claim needs before its measurement means anything.

    ``name`` says what is checked (``"de-confounded accuracy of the vanilla RM"``), ``value``
    is what was measured, ``bar`` the comparison it must pass (``">= 0.7"``). A claim with a
    failed precondition is *not testable here*: a collapsed or broken model cannot make it
    hold. A non-finite ``value`` fails.
    """

    name: str
    value: float
    bar: str

    def __post_init__(self):
        check_str("precondition name", self.name)
        object.__setattr__(self, "value", measurement(f"precondition {self.name!r}", self.value))
        _parse_bar(self.bar, self.name)

    @property
    def passed(self) -> bool:
        op, threshold = _parse_bar(self.bar, self.name)
        return is_finite(self.value) and _OPS[op](self.value, threshold)

    def to_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "bar": self.bar, "passed": self.passed}

    def text(self) -> str:
        """``de-confounded accuracy = 0.42 (needs >= 0.7): failed``."""
        mark = "passed" if self.passed else "failed"
        return f"{self.name} = {self.value:.4g} (needs {self.bar.strip()}): {mark}"


def _parse_bar(bar: object, name: str) -> tuple[str, float]:
    check_str(f"bar of precondition {name!r}", bar)
    match = _BAR.match(bar)
    if match is None or not _NUMBER.match(match["value"]):
        raise ValueError(
            f"precondition {name!r}: bar {bar!r} must be 'OP number' (OP: < <= > >=), e.g. '>= 0.7'"
        )
    return match["op"], _constant(match["value"], bar)


@dataclass(frozen=True)
class Claim:
    """A paper's claim, what was measured, and whether it held here.

    ``holds_if`` is the comparison that decides it, written over the keys of
    ``measured``: one or more ``lhs OP rhs`` joined by ``and``, where OP is one of
    ``< <= > >=`` and each side is a number, a key, ``lo(key)`` / ``hi(key)`` (the bounds
    of a key measured over seeds) or ``number * term``
    (e.g. ``"lm_ppl < 0.5 * unigram_ppl and lm_ppl > 1"``, ``"lo(gap) > 0"``).

    ``intervals`` holds, for each key measured over seeds, its per-seed samples, mean (also
    ``measured[key]``) and confidence interval (:class:`~toolkit.claims.intervals.Interval`
    as a dict). ``preconditions`` are the sanity checks the claim needs
    (:class:`Precondition` as dicts, with ``passed``).

    ``status`` is ``"held"``, ``"not held"``, ``"invalid"`` when a measurement is not a
    finite number (NaN, ±inf), or ``"not testable here"`` when a precondition failed or the
    check needs an interval that a single seed cannot give; ``reason`` says why for the last
    two. ``abs_tol``/``rel_tol`` are how far a measured value may move before a regression
    run reports it as changed (``|new - old| <= max(abs_tol, rel_tol * |old|)``).
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
    intervals: dict[str, dict] = field(default_factory=dict)
    preconditions: list[dict] = field(default_factory=list)

    def __post_init__(self):
        check_choice("status", self.status, STATUSES)

    @property
    def held(self) -> bool:
        return self.status == "held"

    @property
    def testable(self) -> bool:
        return self.status != NOT_TESTABLE

    def to_dict(self) -> dict:
        return asdict(self)

    def interval(self, key: str) -> Interval | None:
        """The interval of ``key`` if it was measured over seeds, else None."""
        data = self.intervals.get(key)
        return None if data is None else Interval.from_dict(data)

    def measured_text(self) -> list[str]:
        """One ``key = value`` per measured key, ``key = mean [lo, hi]`` for sampled ones."""
        out = []
        for key, value in self.measured.items():
            bounds = self.interval(key)
            out.append(f"{key} = {bounds.text() if bounds else f'{value:.4g}'}")
        return out

    def interval_text(self) -> str:
        """How the intervals were made (``95% t interval over 3 seed(s)``), or ``""``."""
        kinds = sorted({Interval.from_dict(d).describe() for d in self.intervals.values()})
        return "; ".join(kinds)

    def precondition_texts(self) -> list[str]:
        return [_precondition(p).text() for p in self.preconditions]

    def reevaluate(self) -> str:
        """The status its own ``holds_if``, measurements, intervals and preconditions give."""
        return evaluate(
            self.holds_if, self.measured, intervals=self.intervals, preconditions=self.preconditions
        )

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


def _bound(side: str, key: str, bounds: Mapping[str, Interval], where: str) -> float:
    if key not in bounds:
        raise ValueError(
            f"holds_if: {side}({key}) in {where!r} needs {key!r} measured over seeds "
            f"(record it in samples=...); keys with intervals: {sorted(bounds)}"
        )
    return getattr(bounds[key], side)


def _term_value(
    text: str, measured: dict[str, float], where: str, bounds: Mapping[str, Interval]
) -> float:
    match = _TERM.match(text.strip())
    if match is None:
        raise ValueError(f"holds_if: cannot read the term {text!r} in {where!r}")
    atom = match["atom"]
    bound = _BOUND.match(atom)
    if _NUMBER.match(atom):
        value = _constant(atom, where)
    elif bound is not None:
        value = _bound(bound["side"], bound["key"], bounds, where)
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


def _interval(value: Interval | Mapping) -> Interval:
    return value if isinstance(value, Interval) else Interval.from_dict(dict(value))


def _precondition(value: object) -> Precondition:
    if isinstance(value, Precondition):
        return value
    if isinstance(value, Mapping):
        return Precondition(value.get("name"), value.get("value"), value.get("bar"))
    if isinstance(value, tuple | list) and len(value) == 3:
        return Precondition(*value)
    raise TypeError(
        "a precondition must be claims.Precondition(name, value, bar), a (name, value, bar) "
        f"tuple or a dict with those keys, got {describe(value)}"
    )


def decide(
    holds_if: str,
    measured: dict[str, float],
    *,
    intervals: Mapping[str, Interval | Mapping] | None = None,
    preconditions: Sequence[Precondition | Mapping | tuple] = (),
) -> tuple[str, str]:
    """``(status, reason)`` of ``holds_if`` over ``measured``; see :func:`evaluate`."""
    check_str("holds_if", holds_if)
    bounds = {k: _interval(v) for k, v in (intervals or {}).items()}
    checks = [_precondition(p) for p in preconditions]
    parts = [p for p in re.split(r"\s+and\s+", holds_if.strip()) if p]
    held, used = True, set()
    for part in parts:
        match = _COMPARISON.match(part)
        if match is None:
            raise ValueError(f"holds_if: {part!r} is not a comparison 'lhs OP rhs' (OP: < <= > >=)")
        lhs = _term_value(match["lhs"], measured, part, bounds)
        rhs = _term_value(match["rhs"], measured, part, bounds)
        used |= {m.group(2) for m in re.finditer(r"\b(lo|hi)\(([^()\s]+)\)", part)}
        held = held and _OPS[match["op"]](lhs, rhs)
    failed = [c for c in checks if not c.passed]
    if failed:
        return NOT_TESTABLE, "precondition failed: " + "; ".join(c.text() for c in failed)
    single = sorted(k for k in used if bounds[k].n < 2 and is_finite(bounds[k].mean))
    if single:
        return NOT_TESTABLE, (
            f"one seed gives no interval for {', '.join(single)}: the check needs at least 2"
        )
    bad = non_finite(measured) + sorted(
        k for k in used if not (is_finite(bounds[k].lo) and is_finite(bounds[k].hi))
    )
    if bad:
        return "invalid", f"not a finite number: {', '.join(dict.fromkeys(bad))}"
    return ("held" if held else "not held"), ""


def evaluate(
    holds_if: str,
    measured: dict[str, float],
    *,
    intervals: Mapping[str, Interval | Mapping] | None = None,
    preconditions: Sequence[Precondition | Mapping | tuple] = (),
) -> str:
    """Decide ``holds_if``: ``"held"``, ``"not held"``, ``"invalid"`` or ``"not testable here"``.

    The comparison is read (and a malformed one refused) first. Then, in order: a failed
    precondition makes the claim ``"not testable here"``; so does an interval bound
    (``lo(key)``, ``hi(key)``) of a key measured on one seed only; a measured value (or a used
    bound) that is not finite makes it ``"invalid"``: neither held nor not held.
    """
    return decide(holds_if, measured, intervals=intervals, preconditions=preconditions)[0]


def _check_measured(measured: object, allow_empty: bool = False) -> dict[str, float]:
    if not isinstance(measured, dict):
        raise TypeError(f"measured must be a dict of name -> number, got {describe(measured)}")
    if not measured and not allow_empty:
        raise ValueError("measured must not be empty: record at least one measured number")
    clean = {}
    for key, value in measured.items():
        _check_key("measured", key)
        clean[key] = measurement(f"measured[{key!r}]", value)
    return clean


def _check_key(where: str, key: object) -> None:
    if not isinstance(key, str):
        raise TypeError(f"{where} key {key!r} must be a str, got {describe(key)}")
    if not key.isidentifier():
        raise ValueError(f"{where} key {key!r} must be an identifier-like string")


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


def _sampled(
    samples: object, measured: dict[str, float], method: str, confidence: float, seed: int
) -> dict[str, Interval]:
    if samples is None:
        return {}
    if not isinstance(samples, dict):
        raise TypeError(
            f"samples must be a dict of name -> per-seed values, got {describe(samples)}"
        )
    check_choice("interval", method, METHODS)
    out = {}
    for key, values in samples.items():
        _check_key("samples", key)
        if key in measured:
            raise ValueError(
                f"{key!r} is in both measured and samples: give per-seed values in samples "
                "only (its mean becomes measured[key])"
            )
        out[key] = interval(
            check_samples(f"samples[{key!r}]", values), method, confidence, seed=seed
        )
    return out


def _display(claim: Claim) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:
        get_ipython = None
    verdict = VERDICTS[claim.status]
    if claim.reason:
        verdict += f" ({claim.reason})"
    if get_ipython is None or get_ipython() is None:
        print(
            f"[claim {verdict}] {claim.claim} — {', '.join(claim.measured_text())} "
            f"({claim.holds_if})"
        )
        return
    numbers = ", ".join(claim.measured_text())
    how = claim.interval_text()
    color = {
        "held": "#1a7f37",
        "not held": "#b35900",
        "invalid": "#cf222e",
        NOT_TESTABLE: "#6e7781",
    }
    checks = "".join(
        f"<br><b>Precondition:</b> {html.escape(text)}" for text in claim.precondition_texts()
    )
    body = (
        f'<div style="border-left:4px solid {color[claim.status]};padding:4px 10px;margin:6px 0">'
        f"<b>Claim ({html.escape(claim.paper)}):</b> {html.escape(claim.claim)}<br>"
        f"<b>Measured:</b> {html.escape(numbers)}"
        + (f" <i>({html.escape(how)})</i>" if how else "")
        + checks
        + f"<br><b>Check:</b> <code>{html.escape(claim.holds_if)}</code> → "
        f'<b style="color:{color[claim.status]}">{html.escape(verdict)}</b>'
        + (f"<br><i>{html.escape(claim.note)}</i>" if claim.note else "")
        + "</div>"
    )
    display(HTML(body), metadata={"toolkit": {"claim": claim.to_dict()}})


def build(
    claim: str,
    *,
    paper: str,
    holds_if: str,
    measured: dict[str, float] | None = None,
    samples: dict[str, Sequence[float]] | None = None,
    interval: str = "t",
    confidence: float = DEFAULT_CONFIDENCE,
    bootstrap_seed: int = 0,
    preconditions: Sequence[Precondition | Mapping | tuple] = (),
    note: str = "",
    extra: dict | None = None,
    abs_tol: float = DEFAULT_ABS_TOL,
    rel_tol: float = DEFAULT_REL_TOL,
) -> Claim:
    """The :class:`Claim` :func:`record` would write, without writing or showing it."""
    text = check_str("claim", claim).strip()
    paper = check_str("paper", paper).strip()
    if measured is None and samples is not None:
        measured = {}  # everything was measured over seeds
    values = _check_measured(measured, allow_empty=samples is not None)
    check_number("confidence", confidence, minimum=0.0, maximum=1.0, strict_min=True)
    check_int("bootstrap_seed", bootstrap_seed, minimum=0)
    bounds = _sampled(samples, values, interval, confidence, bootstrap_seed)
    if not values and not bounds:
        raise ValueError("measured must not be empty: record at least one measured number")
    values.update({key: b.mean for key, b in bounds.items()})
    if isinstance(preconditions, str | bytes | Mapping):
        raise TypeError(f"preconditions must be a list, got {describe(preconditions)}")
    checks = [_precondition(p) for p in preconditions]
    status, reason = decide(holds_if, values, intervals=bounds, preconditions=checks)
    return Claim(
        claim=text,
        paper=paper,
        measured=values,
        holds_if=holds_if,
        status=status,
        reason=reason,
        notebook=os.environ.get(NOTEBOOK_ENV),
        note=check_str("note", note, allow_empty=True),
        extra=_check_extra(extra),
        abs_tol=check_number("abs_tol", abs_tol, minimum=0.0),
        rel_tol=check_number("rel_tol", rel_tol, minimum=0.0),
        intervals={key: b.to_dict() for key, b in bounds.items()},
        preconditions=[c.to_dict() for c in checks],
    )


def record(
    claim: str,
    *,
    paper: str,
    holds_if: str,
    measured: dict[str, float] | None = None,
    samples: dict[str, Sequence[float]] | None = None,
    interval: str = "t",
    confidence: float = DEFAULT_CONFIDENCE,
    bootstrap_seed: int = 0,
    preconditions: Sequence[Precondition | Mapping | tuple] = (),
    note: str = "",
    extra: dict | None = None,
    abs_tol: float = DEFAULT_ABS_TOL,
    rel_tol: float = DEFAULT_REL_TOL,
) -> Claim:
    """Record a claim: evaluate ``holds_if`` on what was measured, show it, and log it.

    Keyword arguments:

    * ``paper``, ``holds_if``, ``note``, ``extra`` (plain JSON), ``abs_tol`` / ``rel_tol``
      (regression tolerances; training-derived measurements should declare looser ones);
    * ``measured``: ``{key: number}`` measured once;
    * ``samples``: ``{key: [one value per seed]}`` measured over seeds; ``measured[key]``
      becomes their mean, and ``holds_if`` may use the bounds ``lo(key)`` / ``hi(key)`` of a
      ``confidence`` interval (default 95%) made by ``interval`` (``"t"``, the default, or
      ``"bootstrap"``, seeded by ``bootstrap_seed``);
    * ``preconditions``: sanity checks (:class:`Precondition`, or ``(name, value, bar)``
      tuples): if one fails the claim is ``"not testable here"``, never held.

    Never raises because a claim did not hold; a NaN or infinite measurement records the
    claim as ``"invalid"``. A malformed record raises before anything is written:
    ``TypeError`` for a wrong type (a ``str`` or ``bool`` measurement, ``extra`` that is not
    plain JSON), ``ValueError`` for a wrong value (empty text, an unknown key in
    ``holds_if``, ``lo(key)`` of a key without samples, a negative tolerance, a malformed
    precondition bar).
    """
    result = build(
        claim, paper=paper, holds_if=holds_if, measured=measured, samples=samples,
        interval=interval, confidence=confidence, bootstrap_seed=bootstrap_seed,
        preconditions=preconditions, note=note, extra=extra, abs_tol=abs_tol, rel_tol=rel_tol,
    )  # fmt: skip
    path = os.environ.get(CLAIMS_FILE_ENV)
    if path:
        append_line(path, result.to_dict())
    _display(result)
    return result


def load_claims(path: str | Path) -> list[Claim]:
    """Read a claims JSON-lines file; a missing file means no claims."""
    return [Claim.from_dict(data) for data in read_lines(path)]
