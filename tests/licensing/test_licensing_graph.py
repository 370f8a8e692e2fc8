"""Lineage graph, known licence pairs, the curated file and the card loader."""

from __future__ import annotations

import pytest

from toolkit.licensing import (
    CURATED_PATH,
    Edge,
    LineageError,
    LineageGraph,
    Node,
    compliance_report,
    format_report,
    lineage_from_cards,
    load_lineage,
    parse_licence,
    verdict,
)


def graph(*nodes: tuple[str, str | None], edges=()) -> LineageGraph:
    return LineageGraph([Node(n, licence=lic) for n, lic in nodes], [Edge(*e) for e in edges])


def status(g: LineageGraph, name: str, use: str, **kwargs) -> str:
    return verdict(g, name, use, **kwargs).status


def test_parse_normalizes_case_and_keeps_options():
    licence = parse_licence("mit or (apache-2.0 and cc-by-4.0)")
    assert licence.text == "MIT OR (Apache-2.0 AND CC-BY-4.0)"
    assert set(licence.options) == {frozenset({"MIT"}), frozenset({"Apache-2.0", "CC-BY-4.0"})}


def test_mit_with_cc_by_sa_ancestor_carries_share_alike():
    g = graph(("wiki", "CC-BY-SA-4.0"), ("qa", "MIT"), edges=[("wiki", "qa", "annotation")])
    result = verdict(g, "qa", "redistribution")
    assert result.status == "forbidden" and result.responsible == ("wiki",)
    assert "share-alike" in result.reasons[-1].text and "§3(b)" in result.reasons[-1].text
    same = graph(
        ("wiki", "CC-BY-SA-4.0"), ("qa", "CC-BY-SA-4.0"), edges=[("wiki", "qa", "annotation")]
    )
    assert status(same, "qa", "redistribution") == "permitted"
    assert (
        "keep adapted material under a licence compatible with CC-BY-SA-4.0"
        in verdict(same, "qa", "commercial-training").conditions
    )


def test_cc_by_nc_ancestor_forbids_commercial_use():
    g = graph(("nc", "CC-BY-NC-4.0"), ("copy", "MIT"), edges=[("nc", "copy", "subset")])
    assert status(g, "copy", "commercial-training", lineage=False) == "permitted"
    result = verdict(g, "copy", "commercial-training")
    assert result.status == "forbidden" and result.responsible == ("nc",)
    assert "NonCommercial" in " ".join(r.text for r in result.reasons)
    assert status(g, "copy", "research") == "permitted"


def test_apache_may_go_into_gpl3_not_the_reverse():
    into_gpl = graph(
        ("lib", "Apache-2.0"), ("app", "GPL-3.0-only"), edges=[("lib", "app", "derivation")]
    )
    assert status(into_gpl, "app", "redistribution") == "permitted"
    into_apache = graph(
        ("lib", "GPL-3.0-only"), ("app", "Apache-2.0"), edges=[("lib", "app", "derivation")]
    )
    assert status(into_apache, "app", "redistribution") == "forbidden"
    into_gpl2 = graph(
        ("lib", "Apache-2.0"), ("app", "GPL-2.0-only"), edges=[("lib", "app", "derivation")]
    )
    assert "GPL-2.0-only" in verdict(into_gpl2, "app", "redistribution").reasons[-1].text


def test_no_derivatives_ancestor_blocks_sharing_a_translation_not_a_subset():
    for kind, expected in (("translation", "forbidden"), ("subset", "permitted")):
        g = graph(("nd", "CC-BY-ND-4.0"), ("x", "CC-BY-4.0"), edges=[("nd", "x", kind)])
        assert status(g, "x", "redistribution") == expected, kind


def test_or_lets_the_licensee_choose():
    g = graph(("dual", "CC-BY-NC-4.0 OR MIT"), ("x", "MIT"), edges=[("dual", "x", "subset")])
    assert status(g, "x", "commercial-training") == "permitted"
    sa = graph(
        ("dual", "GPL-3.0-only OR MIT"), ("x", "Apache-2.0"), edges=[("dual", "x", "derivation")]
    )
    assert status(sa, "x", "redistribution") == "permitted"


def test_generation_passes_the_generators_terms_only():
    g = LineageGraph(
        [
            Node("gpt", "model", "LicenseRef-proprietary", terms=("openai-no-competing-models",)),
            Node("synthetic", licence="CC-BY-4.0"),
        ],
        [Edge("gpt", "synthetic", "generation")],
    )
    result = verdict(g, "synthetic", "commercial-training")
    assert result.status == "forbidden" and result.responsible == ("gpt",)
    assert status(g, "synthetic", "redistribution") == "permitted"  # the weights' licence stays


def test_node_without_licence_is_unknown_never_permitted():
    g = graph(("crawl", None), ("c4", "ODC-By-1.0"), edges=[("crawl", "c4", "subset")])
    for use in ("commercial-training", "research", "redistribution"):
        assert status(g, "crawl", use) == "unknown"
        assert status(g, "c4", use) == "unknown"
    assert "no licence is stated" in verdict(g, "c4", "research").reasons[-1].text


def test_spdx_licence_without_a_rule_is_unknown():
    g = graph(("z", "Zlib"))
    result = verdict(g, "z", "research")
    assert result.status == "unknown" and "no row in the rules table" in result.reasons[0].text


def test_curated_lineage_is_large_documented_and_changes_verdicts():
    g = load_lineage(CURATED_PATH)
    assert len(g) >= 30
    assert all(g.node(n).source.startswith("https://") for n in g.names)
    assert all(g.edge(u, v).source.startswith("https://") for u, v in g.graph.edges)
    kinds = {g.edge(u, v).kind for u, v in g.graph.edges}
    assert {"generation", "translation", "aggregation", "subset"} <= kinds
    report = compliance_report(g, "commercial-training")
    summary = report["summary"]
    assert summary["own_permitted"] >= 10 and 0 < summary["changed"] < summary["own_permitted"]
    rows = {e["node"]: e for e in report["nodes"]}
    assert (
        rows["alpaca-cleaned"]["changed"] and "alpaca-data" in rows["alpaca-cleaned"]["responsible"]
    )
    assert rows["c4"]["lineage"] == "unknown"
    assert rows["squad-v1.1"]["lineage"] == "permitted"
    text = format_report(report)
    assert (
        "Not legal advice" in text
        and "alpaca-cleaned: own licence permitted, lineage forbidden" in text
    )


def card(root, name: str, front: str) -> None:
    (root / name).mkdir()
    (root / name / "README.md").write_text(f"---\n{front}\n---\n# {name}\n")


def test_hugging_face_cards(tmp_path):
    card(tmp_path, "squad", "license: cc-by-sa-4.0\nsource_datasets:\n- original")
    card(tmp_path, "squad-mit", "license: mit\nsource_datasets:\n- extended|squad")
    card(tmp_path, "mixed", "license: [odc-by, other]\nsource_datasets: [squad, web]")
    g = lineage_from_cards(tmp_path)
    assert g.node("squad").licence == "CC-BY-SA-4.0"
    assert g.node("mixed").licence is None
    assert g.node("web").licence is None and g.edge("web", "mixed").kind == "derivation"
    assert status(g, "squad-mit", "redistribution") == "forbidden"
    assert status(g, "mixed", "commercial-training") == "unknown"


def test_with_ancestor_adds_an_edge():
    g = graph(("x", "MIT")).with_ancestor(Node("nc", licence="CC-BY-NC-4.0"), parent_of="x")
    assert status(g, "x", "commercial-training") == "forbidden"
    with pytest.raises(LineageError, match="defined twice"):
        g.with_ancestor(Node("nc", licence="MIT"), parent_of="x")
