"""Effective permissions and verdicts: a node is bound by itself and by all its ancestors.

Values are three-valued, ordered ``False < None < True`` (``None``: not established). The
effective permission :math:`P(v)` of node :math:`v` is the *meet* (most restrictive
combination) over the contributions of :math:`v` and every ancestor :math:`a \\in A(v)`:

.. math:: P(v) = \\bigwedge_{u \\in \\{v\\} \\cup A(v)} p(u),

flag by flag the minimum, duties (attribution, share-alike, restrictions) by union. Within one
licence expression the licensee chooses: an ``OR`` takes the most permissive option, an ``AND``
the meet of its parts. Across a ``generation`` edge only the generating model's terms reach
the data (and none of the model's own ancestors).

A :class:`Verdict` for a use (``USES``) is ``"permitted"``, ``"forbidden"`` or ``"unknown"``:
every contribution must permit the use, an ``OR`` judged per use (the licensee picks the
option that permits it), and redistribution also needs no share-alike or no-derivatives
conflict. A node without a licence gives ``"unknown"``, never ``"permitted"``. Nothing here is
legal advice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from toolkit._checks import check_choice
from toolkit.licensing.expression import Licence
from toolkit.licensing.graph import LineageGraph, Node
from toolkit.licensing.rules import (
    ADAPTING_KINDS,
    PERMISSIONS,
    RULES,
    TERMS,
    TERMS_ONLY_KINDS,
    USES,
)

STATUSES = ("permitted", "forbidden", "unknown")
DISCLAIMER = (
    "Not legal advice: a rule-based reading of licence texts and terms over a stated lineage; "
    "a lawyer, the actual licence texts and the facts of your use decide."
)
_NEEDS = {
    "commercial-training": ("research", "commercial"),
    "research": ("research",),
    "redistribution": ("redistribution",),
}


def kleene_and(values: Iterable[bool | None]) -> bool | None:
    """``False`` if any is ``False``, else ``None`` if any is ``None``, else ``True``."""
    values = list(values)
    return False if False in values else None if None in values else True


def kleene_or(values: Iterable[bool | None]) -> bool | None:
    """``True`` if any is ``True``, else ``None`` if any is ``None``, else ``False``."""
    values = list(values)
    return True if True in values else None if None in values else False


def status_of(value: bool | None) -> str:
    """``True``/``False``/``None`` as ``"permitted"``/``"forbidden"``/``"unknown"``."""
    return {True: "permitted", False: "forbidden", None: "unknown"}[value]


def _rule_value(key: str, name: str) -> bool | None:
    rule = RULES.get(key)
    return None if rule is None else rule.permission(name)


@dataclass(frozen=True)
class Permissions:
    """A point of the permission lattice: flags (``False < None < True``) and duties.

    ``attribution``: nodes to credit; ``share_alike``: licences whose share-alike clause binds;
    ``restrictions``: ids of ``TERMS`` in force. :meth:`meet` is the most restrictive
    combination; ``p <= q`` says p is at most as permissive as q.
    """

    research: bool | None = True
    commercial: bool | None = True
    derivatives: bool | None = True
    redistribution: bool | None = True
    attribution: frozenset[str] = frozenset()
    share_alike: frozenset[str] = frozenset()
    restrictions: frozenset[str] = frozenset()

    def meet(self, other: Permissions) -> Permissions:
        """Flag by flag the more restrictive value; duties united."""
        flags = {
            name: kleene_and((getattr(self, name), getattr(other, name))) for name in PERMISSIONS
        }
        return Permissions(
            **flags,
            attribution=self.attribution | other.attribution,
            share_alike=self.share_alike | other.share_alike,
            restrictions=self.restrictions | other.restrictions,
        )

    def __le__(self, other: Permissions) -> bool:
        rank = {False: 0, None: 1, True: 2}
        return all(rank[getattr(self, n)] <= rank[getattr(other, n)] for n in PERMISSIONS) and (
            self.attribution >= other.attribution
            and self.share_alike >= other.share_alike
            and self.restrictions >= other.restrictions
        )

    def permits(self, use: str) -> bool | None:
        """Whether these permissions allow ``use`` (per flag: an upper bound of the verdict)."""
        check_choice("use", use, USES)
        forbidden = any(use in TERMS[t].forbids for t in self.restrictions)
        return kleene_and([not forbidden, *(getattr(self, n) for n in _NEEDS[use])])


UNKNOWN = Permissions(None, None, None, None)


def licence_permissions(licence: Licence | None, credit: str = "") -> Permissions:
    """The permissions one licence expression grants: ``OR`` takes the most permissive option
    flag by flag, ``AND`` the meet; no licence gives ``UNKNOWN``."""
    if licence is None:
        return UNKNOWN
    flags = {
        name: kleene_or(
            kleene_and(_rule_value(k, name) for k in option) for option in licence.options
        )
        for name in PERMISSIONS
    }
    every_option = [frozenset(k for k in option if k in RULES and RULES[k].share_alike)
                    for option in licence.options]  # fmt: skip
    share_alike = frozenset.intersection(*every_option) if all(every_option) else frozenset()
    credited = all(any(RULES.get(k) and RULES[k].attribution for k in o) for o in licence.options)
    return Permissions(
        **flags,
        attribution=frozenset({credit}) if credited and credit else frozenset(),
        share_alike=share_alike,
    )


@dataclass(frozen=True)
class Contribution:
    """How an ancestor (or the node itself) binds a node: through ``path`` (origin first),
    ``adapted`` when some path adapts it, ``terms_only`` when it only generated the data."""

    node: Node
    path: tuple[str, ...]
    adapted: bool = False
    terms_only: bool = False

    def permissions(self) -> Permissions:
        """Its part of the meet: its licence (unless ``terms_only``) and its terms."""
        base = (
            Permissions()
            if self.terms_only
            else licence_permissions(self.node.parsed, self.node.name)
        )
        if self.adapted and not self.terms_only:
            base = base.meet(Permissions(redistribution=base.derivatives))
        return base.meet(Permissions(restrictions=frozenset(self.terms())))

    def terms(self) -> list[str]:
        """The node's terms that bind here: outputs-only terms bind only what it generated."""
        return [t for t in self.node.terms if self.terms_only or not TERMS[t].outputs_only]


def contributions(graph: LineageGraph, name: str) -> list[Contribution]:
    """The node itself, then each ancestor that binds it, in breadth-first order."""
    start = graph.node(name)
    found = {name: Contribution(start, (name,))}
    queue = [name]
    while queue:
        child = queue.pop(0)
        here = found[child]
        for parent in graph.graph.predecessors(child):
            kind = graph.edge(parent, child).kind
            terms_only = kind in TERMS_ONLY_KINDS
            adapted = here.adapted or kind in ADAPTING_KINDS
            known = found.get(parent)
            candidate = Contribution(graph.node(parent), (parent, *here.path), adapted, terms_only)
            if known is None or _stronger(candidate, known):
                found[parent] = candidate
                if not terms_only:
                    queue.append(parent)
    return list(found.values())


def _stronger(new: Contribution, old: Contribution) -> bool:
    """A full contribution beats a terms-only one; an adapting path beats a copying one."""
    return (old.terms_only and not new.terms_only) or (
        new.terms_only == old.terms_only and new.adapted and not old.adapted
    )


def effective_permissions(graph: LineageGraph, name: str, *, lineage: bool = True) -> Permissions:
    """:math:`P(v)`: the meet over the node and (with ``lineage``) all its ancestors."""
    parts = contributions(graph, name) if lineage else contributions(graph, name)[:1]
    result = Permissions()
    for part in parts:
        result = result.meet(part.permissions())
    return result


@dataclass(frozen=True)
class Reason:
    """One link of a verdict's chain: which node, through which path, what it says."""

    node: str
    effect: str
    text: str
    url: str = ""
    path: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"node": self.node, "effect": self.effect, "text": self.text, "url": self.url,
                "path": list(self.path)}  # fmt: skip


@dataclass(frozen=True)
class Verdict:
    """The verdict on ``node`` for ``use``, its reasons, and the conditions it comes with."""

    node: str
    use: str
    status: str
    reasons: tuple[Reason, ...]
    conditions: tuple[str, ...] = ()
    responsible: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        return {
            "node": self.node,
            "use": self.use,
            "status": self.status,
            "responsible": list(self.responsible),
            "conditions": list(self.conditions),
            "reasons": [r.to_dict() for r in self.reasons],
        }


def _via(part: Contribution) -> str:
    if len(part.path) == 1:
        return "this node"
    how = "generated it" if part.terms_only else "adapted" if part.adapted else "copied"
    return f"ancestor {part.node.name} ({how}: {' -> '.join(part.path)})"


def _licence_reason(part: Contribution, use: str) -> tuple[bool | None, Reason]:
    node = part.node
    if node.parsed is None:
        return None, Reason(node.name, "unknown", f"{_via(part)}: no licence is stated, so no "
                            "permission is established (all rights reserved by default)",
                            node.source, part.path)  # fmt: skip
    needs = _NEEDS[use] + (("derivatives",) if use == "redistribution" and part.adapted else ())
    scored = [
        (kleene_and(_rule_value(k, n) for k in option for n in needs), option)
        for option in node.parsed.options
    ]
    value = kleene_or(v for v, _ in scored)
    option = next(o for v, o in scored if v is value)
    missing = [k for k in sorted(option) if k not in RULES]
    lines = [f"{k}: no row in the rules table" for k in missing] + [
        f"{k}: {RULES[k].clause} ({RULES[k].url})" for k in sorted(option) if k in RULES
    ]
    verb = {True: "permits", False: "forbids", None: "does not establish"}[value]
    text = f"{_via(part)}: {node.licence} {verb} {use}: " + "; ".join(lines)
    return value, Reason(node.name, status_of(value), text, node.source, part.path)


def _terms_reasons(part: Contribution, use: str) -> list[Reason]:
    return [
        Reason(
            part.node.name,
            "forbidden",
            f"{_via(part)}: term {t}: {TERMS[t].clause}",
            TERMS[t].url or part.node.source,
            part.path,
        )  # fmt: skip
        for t in part.terms()
        if use in TERMS[t].forbids
    ]


def _conflicts(parts: list[Contribution]) -> list[Reason]:
    """Share-alike and outbound conflicts between the node's own licence and its ancestors'.

    Only adapted ancestors count (copies keep their own licence). The licensee picks the node's
    option and each ancestor's: a conflict stands when every option of the node clashes with
    every option of some ancestor.
    """
    own = parts[0].node
    if own.parsed is None:
        return []
    ancestors = [p for p in parts[1:] if p.adapted and p.node.parsed is not None]

    def clashes(mine: frozenset[str]) -> list[Reason]:
        found = []
        for part in ancestors:
            problems = [_option_clash(option, mine) for option in part.node.parsed.options]
            if all(problems):
                key, text = problems[0]
                found.append(Reason(part.node.name, "forbidden", f"{_via(part)}: {text}",
                                    RULES[key].url, part.path))  # fmt: skip
        return found

    per_option = [clashes(option) for option in own.parsed.options]
    return per_option[0] if all(per_option) else []


def _option_clash(theirs: frozenset[str], mine: frozenset[str]) -> tuple[str, str] | None:
    """``(licence, why)`` when material under ``theirs`` may not go into a work under ``mine``."""
    for key in sorted(k for k in theirs if k in RULES):
        rule = RULES[key]
        if rule.share_alike and not mine & rule.compatible:
            return key, (
                f"{key} is share-alike ({rule.clause}) but this node is released under "
                f"{' AND '.join(sorted(mine))}, not one of {sorted(rule.compatible)}"
            )
        if mine & rule.outbound_conflicts:
            return key, (
                f"{key} material may not be relicensed under "
                f"{sorted(mine & rule.outbound_conflicts)} ({rule.clause})"
            )
    return None


def verdict(graph: LineageGraph, name: str, use: str, *, lineage: bool = True) -> Verdict:
    """The verdict on node ``name`` for ``use``; ``lineage=False`` reads its own licence only.

    The chain of reasons lists, for the node and each ancestor that binds it, what its licence
    and terms say about the use; for redistribution also the share-alike, outbound and
    no-derivatives conflicts (which ancestor, which clause).
    """
    check_choice("use", use, USES)
    parts = contributions(graph, name)
    if not lineage:
        parts = parts[:1]
    values, reasons = [], []
    for part in parts:
        if not part.terms_only:
            value, reason = _licence_reason(part, use)
            values.append(value)
            reasons.append(reason)
        for reason in _terms_reasons(part, use):
            values.append(False)
            reasons.append(reason)
    if use == "redistribution":
        for reason in _conflicts(parts):
            values.append(False)
            reasons.append(reason)
    status = status_of(kleene_and(values))
    blocking = [r.node for r in reasons if r.effect != "permitted" and r.node != name]
    conditions = _conditions(parts) if status == "permitted" else ()
    return Verdict(name, use, status, tuple(reasons), conditions, tuple(dict.fromkeys(blocking)))


def _conditions(parts: list[Contribution]) -> tuple[str, ...]:
    total = Permissions()
    for part in parts:
        total = total.meet(part.permissions())
    return tuple(
        [f"credit {n}" for n in sorted(total.attribution)]
        + [
            f"keep adapted material under a licence compatible with {k}"
            for k in sorted(total.share_alike)
        ]
    )
