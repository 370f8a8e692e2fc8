"""Properties of the combination rule: monotone, idempotent, order-independent."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.licensing import (
    RULES,
    USES,
    Edge,
    LineageGraph,
    Node,
    Permissions,
    effective_permissions,
    verdict,
)
from toolkit.licensing.compliance import licence_permissions
from toolkit.licensing.expression import parse_licence

LICENCES = sorted(k for k in RULES if not k.startswith("LicenseRef-")) + [None]
KINDS = ["subset", "translation", "annotation", "aggregation", "derivation"]
RANK = {"forbidden": 0, "unknown": 1, "permitted": 2}

tri = st.sampled_from([True, False, None])
permissions = st.builds(
    Permissions,
    research=tri,
    commercial=tri,
    derivatives=tri,
    redistribution=tri,
    attribution=st.frozensets(st.sampled_from("abc")),
    share_alike=st.frozensets(st.sampled_from(["CC-BY-SA-4.0", "GPL-3.0-only"])),
    restrictions=st.frozensets(st.sampled_from(["research-only", "no-redistribution"])),
)


@given(permissions, permissions, permissions)
def test_meet_is_idempotent_commutative_associative_and_below_both(p, q, r):
    assert p.meet(p) == p
    assert p.meet(q) == q.meet(p)
    assert p.meet(q).meet(r) == p.meet(q.meet(r))
    assert p.meet(q) <= p and p.meet(q) <= q


@st.composite
def lineages(draw):
    """A random DAG: node i may derive from any node j < i."""
    n = draw(st.integers(1, 6))
    nodes = [Node(f"n{i}", licence=draw(st.sampled_from(LICENCES))) for i in range(n)]
    edges = [
        Edge(f"n{j}", f"n{i}", draw(st.sampled_from(KINDS)))
        for i in range(n)
        for j in range(i)
        if draw(st.booleans())
    ]
    return LineageGraph(nodes, edges)


@settings(max_examples=60, deadline=None)
@given(lineages(), st.sampled_from(LICENCES), st.sampled_from(KINDS), st.data())
def test_adding_an_ancestor_never_makes_a_node_more_permissive(g, licence, kind, data):
    target = data.draw(st.sampled_from(g.names))
    grown = g.with_ancestor(Node("extra", licence=licence), parent_of=target, kind=kind)
    for name in g.names:
        assert effective_permissions(grown, name) <= effective_permissions(g, name)
        for use in USES:
            assert RANK[verdict(grown, name, use).status] <= RANK[verdict(g, name, use).status]


@settings(max_examples=60, deadline=None)
@given(lineages(), st.data())
def test_verdicts_do_not_depend_on_the_order_nodes_and_edges_are_listed(g, data):
    order = data.draw(st.permutations(g.names))
    edges = data.draw(st.permutations(list(g.graph.edges)))
    shuffled = LineageGraph([g.node(n) for n in order], [g.edge(u, v) for u, v in edges])
    for name in g.names:
        assert effective_permissions(shuffled, name) == effective_permissions(g, name)
        for use in USES:
            assert verdict(shuffled, name, use).status == verdict(g, name, use).status


@given(st.lists(st.sampled_from(LICENCES[:-1]), min_size=1, max_size=4))
def test_and_is_the_meet_and_repeating_a_licence_changes_nothing(keys):
    conjunction = licence_permissions(parse_licence(" AND ".join(keys)))
    met = Permissions()
    for key in keys:
        met = met.meet(licence_permissions(parse_licence(key)))
    assert conjunction == met
    assert licence_permissions(parse_licence(f"{keys[0]} AND {keys[0]}")) == licence_permissions(
        parse_licence(keys[0])
    )


@given(st.sampled_from(LICENCES[:-1]), st.sampled_from(LICENCES[:-1]))
def test_or_is_at_least_as_permissive_as_each_option(a, b):
    either = licence_permissions(parse_licence(f"{a} OR {b}"))
    for key in (a, b):
        assert all(
            {False: 0, None: 1, True: 2}[getattr(either, f)]
            >= {False: 0, None: 1, True: 2}[getattr(licence_permissions(parse_licence(key)), f)]
            for f in ("research", "commercial", "derivatives", "redistribution")
        )
