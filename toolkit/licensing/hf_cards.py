"""A lineage from Hugging Face dataset cards on disk (no download).

A dataset card is a ``README.md`` whose YAML front matter (between ``---`` lines) may hold
``license:`` (one id or a list) and ``source_datasets:`` (``original``, ``extended|name`` or
``name``). Each card becomes a node named after its folder; each source an edge of kind
``derivation`` (the card does not say how it was derived, so the conservative reading). A list
of licences is read as ``AND`` (cards list several when parts differ); ``other`` and
``unknown`` mean no stated licence. A source without a card of its own becomes a node with no
licence: its verdicts are "unknown", never "permitted".
"""

from __future__ import annotations

from pathlib import Path

import yaml

from toolkit.licensing.graph import LineageError, LineageGraph, lineage_from_dict

HF_LICENCE_IDS = {
    "odc-by": "ODC-By-1.0",
    "odbl": "ODbL-1.0",
    "pddl": "PDDL-1.0",
    "gfdl": "GFDL-1.3-or-later",
    "llama2": "LicenseRef-Llama-2",
    "gpl-3.0": "GPL-3.0-only",
    "gpl-2.0": "GPL-2.0-only",
}
_NO_LICENCE = {"other", "unknown"}


def front_matter(path: Path) -> dict:
    """The YAML front matter of a card (``{}`` when it has none)."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    parts = text.split("\n---", 1)
    if len(parts) < 2:
        raise LineageError(f"{path}: the front matter opened by '---' is never closed")
    try:
        data = yaml.safe_load(parts[0].removeprefix("---"))
    except yaml.YAMLError as err:
        raise LineageError(f"{path}: the front matter is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise LineageError(f"{path}: the front matter must be a mapping, got {type(data).__name__}")
    return data


def _as_list(value: object, field: str, path: Path) -> list[str]:
    values = [value] if isinstance(value, str) else value if value is not None else []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise LineageError(f"{path}: {field} must be a string or a list of strings, got {value!r}")
    return values


def _licence(ids: list[str]) -> str | None:
    known = [HF_LICENCE_IDS.get(i.lower(), i) for i in ids if i.lower() not in _NO_LICENCE]
    if not known or len(known) < len(ids):
        return None
    return " AND ".join(f"({k})" if " " in k else k for k in known)


def _source_name(entry: str) -> str | None:
    if entry == "original":
        return None
    return entry.split("|", 1)[1] if entry.startswith("extended|") else entry


def lineage_from_cards(directory: str | Path) -> LineageGraph:
    """A lineage from every ``<name>/README.md`` under ``directory``.

    Raises:
        FileNotFoundError: ``directory`` is missing or holds no card.
        LineageError: a card's front matter is unreadable, a field has the wrong shape, a
            licence is not SPDX (named with its card), or the sources form a cycle.
    """
    directory = Path(directory)
    cards = sorted(directory.glob("*/README.md"))
    if not cards:
        raise FileNotFoundError(f"no dataset cards (<name>/README.md) under {directory}")
    nodes, edges = {}, []
    for card in cards:
        meta = front_matter(card)
        name = card.parent.name
        nodes[name] = {
            "name": name,
            "kind": "dataset",
            "licence": _licence(_as_list(meta.get("license"), "license", card)),
            "source": str(card),
        }
        for entry in _as_list(meta.get("source_datasets"), "source_datasets", card):
            origin = _source_name(entry)
            if origin:
                edges.append(
                    {"from": origin, "to": name, "kind": "derivation", "source": str(card)}
                )
    note = "named as a source; no card of its own"
    for edge in edges:
        nodes.setdefault(edge["from"], {"name": edge["from"], "kind": "dataset", "note": note})
    return lineage_from_dict({"nodes": list(nodes.values()), "edges": edges}, str(directory))
