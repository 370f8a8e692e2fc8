"""A synthetic population of lineages: how the commercially usable share falls with depth.

Each sampled dataset is the root of a random ancestry of ``depth`` layers: every node has one
or two parents in the layer above, each licence is drawn from ``frequencies`` (``None``: no
licence stated), each edge kind from ``edge_frequencies``. With independent draws and a share
:math:`q` of licences permitting commercial use, a dataset with :math:`n` ancestors stays
usable with probability about :math:`q^n`, so the curve falls geometrically with depth. The
frequencies are illustrative, not measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from toolkit._checks import check_int, check_nonempty, check_probability
from toolkit.licensing.compliance import verdict
from toolkit.licensing.graph import Edge, LineageGraph, Node

LICENCE_FREQUENCIES: dict[str | None, float] = {
    "MIT": 0.15,
    "Apache-2.0": 0.15,
    "CC-BY-4.0": 0.20,
    "CC0-1.0": 0.08,
    "ODC-By-1.0": 0.05,
    "CC-BY-SA-4.0": 0.10,
    "CC-BY-NC-4.0": 0.12,
    "CC-BY-NC-SA-4.0": 0.05,
    None: 0.10,
}
EDGE_FREQUENCIES: dict[str, float] = {
    "subset": 0.35,
    "aggregation": 0.25,
    "annotation": 0.2,
    "translation": 0.2,
}


def _check_frequencies(name: str, frequencies: Mapping) -> tuple[list, np.ndarray]:
    check_nonempty(name, frequencies)
    keys = list(frequencies)
    weights = np.array([check_probability(f"{name}[{k!r}]", frequencies[k]) for k in keys])
    if not np.isclose(weights.sum(), 1.0):
        raise ValueError(f"{name} must sum to 1, got {weights.sum():.4g}; normalize them")
    return keys, weights


def random_lineage(depth: int, rng: np.random.Generator, frequencies=None, edge_frequencies=None):
    """One random ancestry of ``depth`` layers above the dataset ``d0``."""
    licences, weights = _check_frequencies("frequencies", frequencies or LICENCE_FREQUENCIES)
    kinds, kind_weights = _check_frequencies(
        "edge_frequencies", edge_frequencies or EDGE_FREQUENCIES
    )

    def draw() -> str | None:
        return licences[rng.choice(len(licences), p=weights)]

    nodes, edges, layer, count = [Node("d0", licence=draw())], [], ["d0"], 1
    for _ in range(check_int("depth", depth, minimum=0)):
        above = []
        for child in layer:
            for _ in range(rng.integers(1, 3)):
                name = f"d{count}"
                count += 1
                nodes.append(Node(name, licence=draw()))
                edges.append(Edge(name, child, kinds[rng.choice(len(kinds), p=kind_weights)]))
                above.append(name)
        layer = above
    return LineageGraph(nodes, edges)


@dataclass(frozen=True)
class DepthPoint:
    """Among ``own_permitted`` sampled datasets whose own licence permits commercial training,
    ``still_permitted`` also pass once their lineage is counted."""

    depth: int
    samples: int
    own_permitted: int
    still_permitted: int

    @property
    def share(self) -> float:
        """``still_permitted / own_permitted`` (NaN when no dataset's own licence permits)."""
        return self.still_permitted / self.own_permitted if self.own_permitted else float("nan")


def depth_curve(
    depths, samples: int, *, seed: int = 0, frequencies=None, edge_frequencies=None
) -> list[DepthPoint]:
    """The commercially usable share at each depth, over ``samples`` seeded random lineages."""
    check_int("samples", samples, minimum=1)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    points = []
    for depth in check_nonempty("depths", list(depths)):
        own = still = 0
        for _ in range(samples):
            graph = random_lineage(depth, rng, frequencies, edge_frequencies)
            if verdict(graph, "d0", "commercial-training", lineage=False).status == "permitted":
                own += 1
                still += verdict(graph, "d0", "commercial-training").status == "permitted"
        points.append(DepthPoint(depth, samples, own, still))
    return points
