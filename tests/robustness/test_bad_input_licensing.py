"""Bad input to every public entry point of ``toolkit.licensing``: a clear TypeError/ValueError
naming the node, row or argument (with the SPDX parser's message for a malformed licence), or
an explicit "unknown" verdict where a fact is missing, never "permitted"."""

from __future__ import annotations

import json

import numpy as np
import pytest

from toolkit.licensing import (
    Edge,
    LineageError,
    LineageGraph,
    Node,
    compliance_report,
    depth_curve,
    lineage_from_cards,
    lineage_from_dict,
    load_lineage,
    parse_licence,
    random_lineage,
    verdict,
)


def lineage(nodes, edges=()):
    return {"nodes": nodes, "edges": list(edges)}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("MIT AND (", r"node 'x': licence: 'MIT AND \(' is not a valid SPDX licence expression: "),
        ("MIT OR OR Apache-2.0", r"node 'x'.*not a valid SPDX"),
        ("Foo-1.0", r"node 'x'.*unknown licence identifier\(s\) \['Foo-1.0'\]"),
        ("CC-BY-SA-4", r"unknown licence identifier.*did you mean 'CC-BY-SA-4.0'\?"),
        ("LicenseRef-mine", r"LicenseRef-mine.*rules table's LicenseRef- rows"),
        ("   ", r"must not be empty"),
    ],
)
def test_malformed_or_unknown_spdx_names_the_node(text, match):
    with pytest.raises(ValueError, match=match):
        Node("x", licence=text)


def test_wrong_types_in_node_and_edge():
    with pytest.raises(TypeError, match=r"node 'x': licence must be a str, got 3 \(int\)"):
        Node("x", licence=3)
    with pytest.raises(TypeError, match="name must be a str"):
        Node(None)
    with pytest.raises(TypeError, match="terms must be a list of term ids"):
        Node("x", licence="MIT", terms="research-only")
    with pytest.raises(TypeError, match="uncertain must be a bool"):
        Node("x", uncertain="yes")
    with pytest.raises(TypeError, match="licence must be a str"):
        parse_licence(["MIT"])
    with pytest.raises(TypeError, match="nodes must hold Node objects"):
        LineageGraph(["x"])
    with pytest.raises(TypeError, match="edges must hold Edge objects"):
        LineageGraph([Node("x")], [("x", "y")])


def test_bad_values_in_node_and_edge():
    with pytest.raises(ValueError, match=r"node 'x': kind must be one of .*'dataset'"):
        Node("x", kind="corpus")
    with pytest.raises(
        ValueError, match=r"unknown term 'research_only'; did you mean 'research-only'"
    ):
        Node("x", terms=("research_only",))
    with pytest.raises(ValueError, match=r"edge 'a' -> 'b': kind must be one of"):
        Edge("a", "b", "copy")


def test_edge_to_an_undefined_node_is_named_with_a_hint():
    with pytest.raises(
        LineageError,
        match=r"edges\[0\] \('wikipedia' -> 'squad'\) names undefined node "
        r"'wikipedia'; did you mean 'wikipedia-en'\? Define it under nodes",
    ):
        LineageGraph([Node("wikipedia-en"), Node("squad")], [Edge("wikipedia", "squad", "subset")])


@pytest.mark.parametrize(
    ("edges", "cycle"),
    [
        ([("a", "b"), ("b", "c"), ("c", "a")], "a -> b -> c -> a"),
        ([("a", "a")], "a -> a"),
    ],
)
def test_cycles_are_rejected_with_the_cycle_named(edges, cycle):
    with pytest.raises(LineageError, match=f"the lineage has a cycle: {cycle}"):
        LineageGraph([Node(n) for n in "abc"], [Edge(u, v, "subset") for u, v in edges])


def test_duplicate_node():
    with pytest.raises(LineageError, match="node 'a' is defined twice"):
        LineageGraph([Node("a"), Node("a")])


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([], "a lineage is a mapping"),
        ({"edges": []}, "top level: 'nodes' is a required property"),
        (
            lineage([{"name": "a", "kind": "dataset", "licence": 5}]),
            r"nodes\[0\].licence: 5 is not of type",
        ),
        (lineage([{"name": "a", "kind": "paper"}]), r"nodes\[0\].kind: 'paper' is not one of"),
        (lineage([{"name": "a", "kind": "dataset", "licens": "MIT"}]), "'licens' was unexpected"),
        (
            lineage(
                [{"name": "a", "kind": "dataset"}], [{"from": "a", "to": "b", "kind": "subset"}]
            ),
            "undefined node 'b'",
        ),
        (
            lineage([{"name": "a", "kind": "dataset", "licence": "MIT AND"}]),
            r"nodes\[0\]: node 'a': licence: .*not a valid SPDX",
        ),
    ],
)
def test_lineage_dicts_are_validated_with_the_row_named(data, match):
    with pytest.raises(LineageError, match=match):
        lineage_from_dict(data, "f.yaml")


def test_lineage_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no lineage file"):
        load_lineage(tmp_path / "missing.yaml")
    with pytest.raises(ValueError, match=r"must end in .yaml, .yml or .json"):
        load_lineage(tmp_path / "lineage.txt")
    (tmp_path / "bad.json").write_text("{nodes: ")
    with pytest.raises(LineageError, match=r"bad.json: cannot be read as JSON"):
        load_lineage(tmp_path / "bad.json")
    (tmp_path / "bad.yaml").write_text("nodes: [a: b: c]")
    with pytest.raises(LineageError, match=r"bad.yaml: cannot be read as YAML"):
        load_lineage(tmp_path / "bad.yaml")
    (tmp_path / "ok.json").write_text(json.dumps(lineage([{"name": "a", "kind": "dataset"}])))
    assert verdict(load_lineage(tmp_path / "ok.json"), "a", "research").status == "unknown"


def test_verdict_and_report_arguments():
    g = LineageGraph([Node("a", licence="MIT")])
    with pytest.raises(ValueError, match=r"use must be one of 'commercial-training'"):
        verdict(g, "a", "commercial")
    with pytest.raises(KeyError, match=r"no node 'b' in the lineage"):
        verdict(g, "b", "research")
    with pytest.raises(ValueError, match="kind must be one of"):
        compliance_report(g, "research", kind="paper")
    assert (
        compliance_report(g, "research", kind="model")["summary"]["share_still_permitted"] is None
    )


def test_cards(tmp_path):
    with pytest.raises(FileNotFoundError, match="no dataset cards"):
        lineage_from_cards(tmp_path)
    (tmp_path / "a").mkdir()
    readme = tmp_path / "a" / "README.md"
    readme.write_text("---\nlicense: [1, 2]\n---\n")
    with pytest.raises(LineageError, match="license must be a string or a list of strings"):
        lineage_from_cards(tmp_path)
    readme.write_text("---\nlicense: mit\n")
    with pytest.raises(LineageError, match="never closed"):
        lineage_from_cards(tmp_path)
    readme.write_text("---\nlicense: not-a-licence\n---\n")
    with pytest.raises(LineageError, match=r"node 'a': licence: 'not-a-licence' names unknown"):
        lineage_from_cards(tmp_path)
    readme.write_text("---\n- a list\n---\n")
    with pytest.raises(LineageError, match="front matter must be a mapping"):
        lineage_from_cards(tmp_path)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "README.md").write_text("---\nsource_datasets: [b]\n---\n")
    readme.write_text("# no front matter\n")
    with pytest.raises(LineageError, match="cycle: b -> b"):
        lineage_from_cards(tmp_path)


def test_population_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="depth must be >= 0"):
        random_lineage(-1, rng)
    with pytest.raises(ValueError, match="frequencies must sum to 1"):
        random_lineage(1, rng, {"MIT": 0.5})
    with pytest.raises(ValueError, match=r"frequencies\['MIT'\] must be >= 0.0"):
        random_lineage(1, rng, {"MIT": -0.5, None: 1.5})
    with pytest.raises(ValueError, match="names unknown licence"):
        random_lineage(0, rng, {"Nope-1.0": 1.0})
    with pytest.raises(TypeError, match="samples must be an int"):
        depth_curve([1], 2.5)
    with pytest.raises(ValueError, match="depths must not be empty"):
        depth_curve([], 3)
