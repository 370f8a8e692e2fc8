"""The lineage graph: datasets, models and source works, and the derivations between them.

A :class:`LineageGraph` is a ``networkx.DiGraph`` whose edge ``u -> v`` says that ``v`` was
derived from ``u`` (a subset, translation, annotation, aggregation, generation by a model,
training or fine-tuning). Each node carries its licence as an SPDX expression and any non-SPDX
terms (ids of ``TERMS``). A lineage must be acyclic: a cycle is refused and named.

Lineage files (YAML or JSON, schema ``data/lineage.schema.json``)::

    nodes:
      - {name: wikipedia-en, kind: source, licence: CC-BY-SA-4.0, source: https://...}
      - {name: squad, kind: dataset, licence: CC-BY-SA-4.0}
    edges:
      - {from: wikipedia-en, to: squad, kind: annotation, source: https://...}

Every problem in a file raises :class:`LineageError` (a ``ValueError``) naming the file, the
row (``nodes[3]``, ``edges[7]``) and the node.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jsonschema
import networkx as nx
import yaml

from toolkit._checks import check_choice, check_str, describe
from toolkit.licensing.expression import Licence, parse_licence
from toolkit.licensing.rules import EDGE_KINDS, TERMS

NODE_KINDS = ("dataset", "model", "source")
DATA_DIR = Path(__file__).parent / "data"
SCHEMA_PATH = DATA_DIR / "lineage.schema.json"
CURATED_PATH = DATA_DIR / "lineage.yaml"


class LineageError(ValueError):
    """A lineage that cannot be used: schema, undefined node, duplicate, bad licence, cycle."""


def _check_flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {describe(value)}")
    return value


@dataclass(frozen=True)
class Node:
    """A dataset, model or source work with its licence (SPDX, ``None`` when none is stated)
    and terms (ids of ``TERMS``); ``source`` says where they are stated."""

    name: str
    kind: str = "dataset"
    licence: str | None = None
    terms: tuple[str, ...] = ()
    source: str = ""
    note: str = ""
    uncertain: bool = False
    parsed: Licence | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_str("name", self.name)
        where = f"node {self.name!r}"
        check_choice(f"{where}: kind", self.kind, NODE_KINDS)
        if self.licence is not None:
            parsed = parse_licence(self.licence, f"{where}: licence")
            object.__setattr__(self, "parsed", parsed)
            object.__setattr__(self, "licence", parsed.text)
        if isinstance(self.terms, str) or not isinstance(self.terms, Iterable):
            raise TypeError(
                f"{where}: terms must be a list of term ids, got {describe(self.terms)}"
            )
        terms = tuple(self.terms)
        for term in terms:
            check_str(f"{where}: term", term)
            if term not in TERMS:
                hint = difflib.get_close_matches(term, TERMS, n=1)
                raise ValueError(
                    f"{where}: unknown term {term!r}"
                    + (f"; did you mean {hint[0]!r}?" if hint else "")
                    + f" Known terms: {sorted(TERMS)}"
                )
        object.__setattr__(self, "terms", terms)
        check_str(f"{where}: source", self.source, allow_empty=True)
        check_str(f"{where}: note", self.note, allow_empty=True)
        _check_flag(f"{where}: uncertain", self.uncertain)


@dataclass(frozen=True)
class Edge:
    """``target`` was derived from ``origin`` by ``kind`` (one of ``EDGE_KINDS``)."""

    origin: str
    target: str
    kind: str
    source: str = ""
    note: str = ""
    uncertain: bool = False

    def __post_init__(self) -> None:
        check_str("edge origin", self.origin)
        check_str("edge target", self.target)
        where = f"edge {self.origin!r} -> {self.target!r}"
        check_choice(f"{where}: kind", self.kind, EDGE_KINDS)
        check_str(f"{where}: source", self.source, allow_empty=True)
        check_str(f"{where}: note", self.note, allow_empty=True)
        _check_flag(f"{where}: uncertain", self.uncertain)


class LineageGraph:
    """Nodes and derivation edges, checked: unique names, defined endpoints, no cycle.

    ``graph`` is the ``networkx.DiGraph`` (node attribute ``node``, edge attribute ``edge``).

    Raises:
        LineageError: a duplicate node, an edge to an undefined node (with the closest name),
            a self-loop or a cycle (the cycle is named).
    """

    def __init__(self, nodes: Iterable[Node], edges: Iterable[Edge] = ()) -> None:
        self.graph = nx.DiGraph()
        for node in nodes:
            if not isinstance(node, Node):
                raise TypeError(f"nodes must hold Node objects, got {describe(node)}")
            if node.name in self.graph:
                raise LineageError(f"node {node.name!r} is defined twice")
            self.graph.add_node(node.name, node=node)
        for i, edge in enumerate(edges):
            if not isinstance(edge, Edge):
                raise TypeError(f"edges must hold Edge objects, got {describe(edge)}")
            for end in (edge.origin, edge.target):
                if end not in self.graph:
                    hint = difflib.get_close_matches(end, list(self.graph), n=1)
                    raise LineageError(
                        f"edges[{i}] ({edge.origin!r} -> {edge.target!r}) names undefined node "
                        f"{end!r}"
                        + (f"; did you mean {hint[0]!r}?" if hint else ";")
                        + " Define it under nodes or fix the edge"
                    )
            self.graph.add_edge(edge.origin, edge.target, edge=edge)
        try:
            cycle = nx.find_cycle(self.graph)
        except nx.NetworkXNoCycle:
            return
        names = [u for u, _ in cycle] + [cycle[0][0]]
        raise LineageError(
            f"the lineage has a cycle: {' -> '.join(names)}; a work cannot derive from itself, "
            "so one of these edges is wrong"
        )

    def __contains__(self, name: object) -> bool:
        return name in self.graph

    def __len__(self) -> int:
        return self.graph.number_of_nodes()

    @property
    def names(self) -> list[str]:
        """Node names in file order."""
        return list(self.graph)

    def node(self, name: str) -> Node:
        """The node called ``name``; ``KeyError`` naming the closest one when there is none."""
        if name not in self.graph:
            hint = difflib.get_close_matches(str(name), self.names, n=1)
            raise KeyError(
                f"no node {name!r} in the lineage"
                + (f"; did you mean {hint[0]!r}?" if hint else "")
            )
        return self.graph.nodes[name]["node"]

    def edge(self, origin: str, target: str) -> Edge:
        """The edge ``origin -> target``."""
        return self.graph.edges[origin, target]["edge"]

    def nodes_of_kind(self, kind: str) -> list[str]:
        """Names of the nodes of ``kind`` (``dataset``, ``model``, ``source``)."""
        check_choice("kind", kind, NODE_KINDS)
        return [name for name in self.graph if self.node(name).kind == kind]

    def with_ancestor(self, node: Node, *, parent_of: str, kind: str = "subset") -> LineageGraph:
        """A copy with ``node`` added as a parent of ``parent_of`` (an edge of ``kind``)."""
        nodes = [self.node(name) for name in self.graph] + [node]
        edges = [self.edge(u, v) for u, v in self.graph.edges] + [Edge(node.name, parent_of, kind)]
        return LineageGraph(nodes, edges)


@cache
def lineage_schema() -> dict:
    """The JSON schema of lineage files."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _location(error: jsonschema.ValidationError) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)


def lineage_from_dict(data: object, where: str = "lineage") -> LineageGraph:
    """Validate ``data`` (a parsed lineage file) against the schema and build the graph.

    Raises:
        LineageError: the first schema violation (with its path, e.g. ``nodes[3].kind``) or
            any problem :class:`Node`, :class:`Edge` or :class:`LineageGraph` refuses, prefixed
            by ``where`` and the row.
    """
    if not isinstance(data, Mapping):
        raise LineageError(f"{where}: a lineage is a mapping with 'nodes' and 'edges', got "
                           f"{describe(data)}")  # fmt: skip
    errors = sorted(
        jsonschema.Draft202012Validator(lineage_schema()).iter_errors(data),
        key=lambda e: list(map(str, e.absolute_path)),
    )
    if errors:
        first = errors[0]
        raise LineageError(f"{where}: {_location(first).lstrip('.') or 'top level'}: "
                           f"{first.message}")  # fmt: skip
    nodes = []
    for i, row in enumerate(data["nodes"]):
        try:
            nodes.append(Node(**{**row, "terms": tuple(row.get("terms", ()))}))
        except (TypeError, ValueError) as err:
            raise LineageError(f"{where}: nodes[{i}]: {err}") from err
    edges = [
        Edge(row["from"], row["to"], row["kind"], *(row.get(k, d) for k, d in _EDGE_EXTRAS))
        for row in data.get("edges", [])
    ]
    try:
        return LineageGraph(nodes, edges)
    except LineageError as err:
        raise LineageError(f"{where}: {err}") from err


_EDGE_EXTRAS = (("source", ""), ("note", ""), ("uncertain", False))


def load_lineage(path: str | Path = CURATED_PATH) -> LineageGraph:
    """Read a lineage file (``.yaml``/``.yml`` or ``.json``); default: the curated one."""
    path = Path(path)
    if path.suffix not in (".yaml", ".yml", ".json"):
        raise ValueError(f"path must end in .yaml, .yml or .json, got {path.name!r}")
    if not path.is_file():
        raise FileNotFoundError(f"no lineage file at {path}")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise LineageError(f"{path}: cannot be read as {path.suffix[1:].upper()}: {err}") from err
    return lineage_from_dict(data, str(path))
