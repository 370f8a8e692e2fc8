"""Dataset licensing over the lineage (Kim et al., arXiv 2503.02784, NEXUS).

A dataset's own licence does not settle what it may be used for: the licences and terms of
everything it was derived from do too. This package does the offline part of that reasoning:

* :mod:`~toolkit.licensing.rules` — the rules table: what each licence and non-SPDX term
  permits, each row citing its licence text (``RULES``, ``TERMS``, ``USES``, ``EDGE_KINDS``);
* :mod:`~toolkit.licensing.expression` — SPDX expressions parsed and normalized;
* :mod:`~toolkit.licensing.graph` — the lineage graph, lineage files (YAML/JSON, schema
  ``data/lineage.schema.json``) and the curated lineage of public datasets (``CURATED_PATH``);
* :mod:`~toolkit.licensing.hf_cards` — a lineage from Hugging Face dataset cards on disk;
* :mod:`~toolkit.licensing.compliance` — effective permissions (the most restrictive
  combination over a node and its ancestors) and verdicts with their chain of reasons;
* :mod:`~toolkit.licensing.report` — own-licence vs lineage-aware verdicts, as JSON and text;
* :mod:`~toolkit.licensing.population` — seeded random lineages: usable share vs depth, with
  licences drawn from ``LICENCE_FREQUENCIES`` (illustrative).

Not legal advice: ``DISCLAIMER`` is the sentence every report carries. Everything in
``__all__`` loads on first use. Rules and conventions: ``docs/methods/licensing.md``.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.licensing.compliance import (
        DISCLAIMER,
        Permissions,
        Verdict,
        contributions,
        effective_permissions,
        verdict,
    )
    from toolkit.licensing.expression import Licence, parse_licence
    from toolkit.licensing.graph import (
        CURATED_PATH,
        Edge,
        LineageError,
        LineageGraph,
        Node,
        lineage_from_dict,
        load_lineage,
    )
    from toolkit.licensing.hf_cards import lineage_from_cards
    from toolkit.licensing.population import LICENCE_FREQUENCIES, depth_curve, random_lineage
    from toolkit.licensing.report import compliance_report, format_report
    from toolkit.licensing.rules import EDGE_KINDS, RULES, TERMS, USES

__all__ = [
    "CURATED_PATH",
    "DISCLAIMER",
    "EDGE_KINDS",
    "LICENCE_FREQUENCIES",
    "RULES",
    "TERMS",
    "USES",
    "Edge",
    "Licence",
    "LineageError",
    "LineageGraph",
    "Node",
    "Permissions",
    "Verdict",
    "compliance_report",
    "contributions",
    "depth_curve",
    "effective_permissions",
    "format_report",
    "lineage_from_cards",
    "lineage_from_dict",
    "load_lineage",
    "parse_licence",
    "random_lineage",
    "verdict",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
