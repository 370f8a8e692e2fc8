"""LineageView: a dataset lineage drawn as a layered DAG, colored by verdict for a chosen use.

Notebook 09 (dataset licensing, Kim et al., arXiv 2503.02784) asks whether each dataset may be
used once everything it was derived from is counted. The view draws the lineage left to right
(sources first), each node colored by its lineage-aware verdict for the use picked in the
menu: permitted, forbidden or unknown; a dashed outline marks nodes whose own licence says
"permitted" while their lineage does not. Clicking a node lists its chain of reasons and rings
the ancestors responsible. Everything is computed in Python when the view is built, so it also
works in a static HTML export.
"""

from __future__ import annotations

import networkx as nx
import traitlets

from toolkit.licensing import USES, LineageGraph, verdict
from widgets.base import InvalidValue, WidgetBase, check_choice


def layered_layout(graph: nx.DiGraph, sweeps: int = 4) -> dict[str, tuple[int, int]]:
    """``{node: (layer, row)}``: layer = longest path from a source; rows ordered by the
    barycenter heuristic (the mean row of a node's neighbours in the previous layer),
    alternating downward and upward sweeps to reduce edge crossings."""
    depth = {}
    for node in nx.topological_sort(graph):
        depth[node] = max((depth[p] + 1 for p in graph.predecessors(node)), default=0)
    layers = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node in graph:
        layers[depth[node]].append(node)
    row = {node: i for layer in layers for i, node in enumerate(layer)}
    for sweep in range(sweeps):
        down = sweep % 2 == 0
        neighbours = graph.predecessors if down else graph.successors

        def barycenter(node: str, neighbours=neighbours) -> float:
            rows = [row[n] for n in neighbours(node)]
            return sum(rows) / len(rows) if rows else row[node]

        for layer in layers[1:] if down else layers[-2::-1]:
            layer.sort(key=barycenter)
            row.update({node: i for i, node in enumerate(layer)})
    return {node: (depth[node], row[node]) for node in graph}


def _entry(graph: LineageGraph, name: str, use: str) -> dict:
    full = verdict(graph, name, use)
    own = verdict(graph, name, use, lineage=False)
    return {
        "status": full.status,
        "own": own.status,
        "responsible": list(full.responsible),
        "conditions": list(full.conditions),
        "reasons": [f"[{r.effect}] {r.text}" for r in full.reasons],
    }


class LineageView(WidgetBase):
    """A lineage DAG colored by verdict, with a use menu and a chain of reasons on click.

    Args:
        graph: the lineage (``toolkit.licensing.LineageGraph``).
        use: the use shown first, one of ``toolkit.licensing.USES``.
        selected: the node whose reasons are shown first ("" for none).
        title: heading shown above the view.

    Synced state: ``use`` and ``selected`` (set either from Python or by clicking). ``nodes``,
    ``edges``, ``uses`` and ``verdicts`` (use -> node -> status, own status, ancestors
    responsible, conditions, reasons) are read-only.

    Raises:
        TypeError: ``graph`` is not a ``LineageGraph``.
        ValueError: an unknown ``use`` or ``selected`` node (the message lists the choices).
    """

    _asset = "lineage_view"

    nodes = traitlets.List(traitlets.Dict(), read_only=True, help="Nodes with their layout.").tag(
        sync=True
    )
    edges = traitlets.List(traitlets.Dict(), read_only=True, help="Derivation edges.").tag(
        sync=True
    )
    uses = traitlets.List(traitlets.Unicode(), read_only=True, help="Uses in menu order.").tag(
        sync=True
    )
    verdicts = traitlets.Dict(read_only=True, help="use -> node -> verdict.").tag(sync=True)
    use = traitlets.Unicode(help="The use the colors show.").tag(sync=True)
    selected = traitlets.Unicode("", help="The node whose reasons are shown; '' for none.").tag(
        sync=True
    )

    def __init__(
        self,
        graph: LineageGraph,
        *,
        use: str = "commercial-training",
        selected: str = "",
        title: str = "",
    ) -> None:
        if not isinstance(graph, LineageGraph):
            raise TypeError(f"graph must be a LineageGraph, got {type(graph).__name__}")
        check_choice(use, USES, "use")
        layout = layered_layout(graph.graph)
        nodes = []
        for name in graph.names:
            node = graph.node(name)
            layer, row = layout[name]
            nodes.append({"name": name, "kind": node.kind, "licence": node.licence or "",
                          "terms": list(node.terms), "source": node.source,
                          "uncertain": node.uncertain, "layer": layer, "row": row})  # fmt: skip
        edges = [
            {"source": u, "target": v, "kind": graph.edge(u, v).kind} for u, v in graph.graph.edges
        ]
        self.set_trait("nodes", nodes)
        self.set_trait("edges", edges)
        self.set_trait("uses", list(USES))
        self.set_trait("verdicts", {u: {n: _entry(graph, n, u) for n in graph.names} for u in USES})
        super().__init__(use=use, selected=selected, title=title)

    def verdict(self, name: str | None = None) -> dict:
        """The verdict shown for ``name`` (default: the selected node) under the current use."""
        name = self.selected if name is None else self._validate_node(name)
        if not name:
            raise ValueError("no node is selected; pass a node name")
        return self.verdicts[self.use][name]

    def _validate_node(self, name: object) -> str:
        names = [n["name"] for n in self.nodes]
        if name != "" and name not in names:
            raise InvalidValue(f"unknown node {name!r}; choose one of {names} or '' for none")
        return name

    @traitlets.validate("use")
    def _validate_use(self, proposal: traitlets.Bunch) -> str:
        return check_choice(proposal["value"], self.uses, "use")

    @traitlets.validate("selected")
    def _validate_selected(self, proposal: traitlets.Bunch) -> str:
        return self._validate_node(proposal["value"])
