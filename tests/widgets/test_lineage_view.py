"""LineageView on the Python side: layout, verdict state, live traits, validation, export."""

from __future__ import annotations

import networkx as nx
import pytest
import traitlets

from toolkit.htmlexport import STATE_MIME
from toolkit.licensing import USES, Edge, LineageGraph, Node, load_lineage
from widgets.export import to_html
from widgets.lineage_view import LineageView, layered_layout


def small() -> LineageGraph:
    nodes = [
        Node("wiki", "source", "CC-BY-SA-3.0"),
        Node("nc", licence="CC-BY-NC-4.0"),
        Node("qa", licence="CC-BY-SA-4.0"),
        Node("mix", licence="MIT"),
    ]
    edges = [
        Edge("wiki", "qa", "annotation"),
        Edge("qa", "mix", "aggregation"),
        Edge("nc", "mix", "subset"),
    ]
    return LineageGraph(nodes, edges)


def test_layered_layout_puts_each_node_after_its_parents_in_distinct_rows():
    g = load_lineage().graph
    layout = layered_layout(g)
    assert all(layout[u][0] < layout[v][0] for u, v in g.edges)
    assert len(set(layout.values())) == len(layout)
    assert layered_layout(nx.DiGraph()) == {}


def test_state_holds_layout_and_verdicts_for_every_use():
    view = LineageView(small(), title="demo")
    assert (view.title, view.use, view.selected, view.uses) == (
        "demo",
        "commercial-training",
        "",
        list(USES),
    )
    by_name = {n["name"]: n for n in view.nodes}
    assert by_name["mix"]["layer"] == 2 and by_name["wiki"]["licence"] == "CC-BY-SA-3.0"
    assert {"source": "nc", "target": "mix", "kind": "subset"} in view.edges
    mix = view.verdicts["commercial-training"]["mix"]
    assert (mix["status"], mix["own"], mix["responsible"]) == ("forbidden", "permitted", ["nc"])
    assert any("NonCommercial" in r for r in mix["reasons"])
    assert view.verdicts["research"]["mix"]["status"] == "permitted"


def test_use_and_selected_are_live_and_validated():
    view = LineageView(small(), selected="mix")
    assert view.verdict()["status"] == "forbidden"
    view.use = "redistribution"
    assert view.verdict("qa")["status"] == "permitted"
    with pytest.raises(traitlets.TraitError, match=r"unknown use 'resale'; choose one of"):
        view.use = "resale"
    with pytest.raises(traitlets.TraitError, match=r"unknown node 'mx'; choose one of"):
        view.selected = "mx"
    view.selected = ""
    with pytest.raises(ValueError, match="no node is selected"):
        view.verdict()
    for name in ("nodes", "edges", "uses", "verdicts"):
        with pytest.raises(traitlets.TraitError, match="read-only"):
            setattr(view, name, [])


def test_bad_arguments():
    with pytest.raises(TypeError, match="graph must be a LineageGraph, got DiGraph"):
        LineageView(nx.DiGraph())
    with pytest.raises(ValueError, match="unknown use 'commercial'"):
        LineageView(small(), use="commercial")
    with pytest.raises(ValueError, match="unknown node 'nope'"):
        LineageView(small(), selected="nope")


def test_static_export_carries_the_whole_state(tmp_path):
    view = LineageView(small(), selected="mix", title="Lineage")
    page = to_html(view, tmp_path / "lineage.html").read_text(encoding="utf-8")
    assert STATE_MIME in page and "export default { render }" in page
    assert '"selected": "mix"' in page or '"selected":"mix"' in page
