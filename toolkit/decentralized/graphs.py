"""Graphs and combination matrices for decentralized learning.

Agents are the nodes ``k = 0..K-1`` of an undirected graph with a self-loop at every node; the
neighbourhood ``N_k`` holds ``k`` and the agents linked to it. Agent ``k`` mixes its
neighbours' iterates with the weights of column ``k`` of the combination matrix ``A``:
``w_k = Σ_{ℓ ∈ N_k} a_{ℓk} ψ_ℓ``. ``A`` is *left-stochastic*: ``a_{ℓk} >= 0``, ``a_{ℓk} = 0``
outside ``N_k`` and every column sums to one (``Aᵀ𝟙 = 𝟙``).

Two rules build ``A`` from a graph (``RULES``), with ``n_k = |N_k|`` (degree plus one):

* ``"metropolis"``: ``a_{ℓk} = 1 / max(n_k, n_ℓ)`` for ``ℓ ≠ k`` linked, ``a_{kk} = 1 − Σ_{ℓ≠k}
  a_{ℓk}``; symmetric, so doubly stochastic.
* ``"averaging"``: ``a_{ℓk} = 1 / n_k`` for ``ℓ ∈ N_k``; left-stochastic only.

The spectral gap ``1 − |λ₂(A)|`` (``λ₂``: the second-largest eigenvalue in modulus) says how
fast repeated combination mixes the agents' iterates: ring graphs have small gaps, dense graphs
large ones. The Perron vector ``p`` (``A p = p``, ``𝟙ᵀp = 1``, ``p > 0`` on a connected graph)
weights each agent's cost in the network's fixed point.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import networkx as nx
import numpy as np

from toolkit._checks import check_choice, check_int, check_probability, check_str, describe

TOPOLOGIES = ("ring", "grid", "erdos_renyi", "full")
RULES = ("metropolis", "averaging")


class DisconnectedGraphWarning(UserWarning):
    """The combination matrix links the agents into more than one group: iterates of
    different groups never mix, so the agents cannot agree on one model."""


def make_graph(topology: str, n_agents: int, *, p: float = 0.5, seed: int = 0) -> nx.Graph:
    """An undirected graph over agents ``0..n_agents-1`` (no self-loops; ``A`` adds them).

    ``topology`` is one of ``TOPOLOGIES``: ``"ring"`` (each agent linked to two), ``"grid"``
    (the most square ``r × c`` lattice with ``r·c = n_agents``), ``"erdos_renyi"`` (each link
    present with probability ``p``, drawn with ``seed``; may be disconnected) or ``"full"``.
    """
    check_choice("topology", topology, TOPOLOGIES)
    n_agents = check_int("n_agents", n_agents, minimum=1)
    p = check_probability("p", p)
    seed = check_int("seed", seed, minimum=0)
    if topology == "ring":
        return nx.cycle_graph(n_agents)
    if topology == "full":
        return nx.complete_graph(n_agents)
    if topology == "erdos_renyi":
        return nx.erdos_renyi_graph(n_agents, p, seed=seed)
    rows = max(r for r in range(1, math.isqrt(n_agents) + 1) if n_agents % r == 0)
    grid = nx.grid_2d_graph(rows, n_agents // rows)
    return nx.convert_node_labels_to_integers(grid, ordering="sorted")


def combination_matrix(graph: nx.Graph, rule: str = "metropolis") -> np.ndarray:
    """The ``K × K`` left-stochastic combination matrix ``A`` of ``graph`` under ``rule``."""
    if not isinstance(graph, nx.Graph):
        raise TypeError(f"graph must be a networkx.Graph, got {describe(graph)}")
    check_choice("rule", rule, RULES)
    n_agents = graph.number_of_nodes()
    if n_agents == 0:
        raise ValueError("graph has no nodes; it needs one node per agent")
    if set(graph.nodes) != set(range(n_agents)):
        raise ValueError(
            f"graph nodes must be the agents 0..{n_agents - 1}; relabel them with "
            "networkx.convert_node_labels_to_integers"
        )
    size = np.array([graph.degree(k) + 1 for k in range(n_agents)], dtype=float)  # n_k
    A = np.zeros((n_agents, n_agents))
    for k, ell in graph.edges:
        if k == ell:
            continue
        if rule == "metropolis":
            A[ell, k] = A[k, ell] = 1.0 / max(size[k], size[ell])
        else:
            A[ell, k], A[k, ell] = 1.0 / size[k], 1.0 / size[ell]
    np.fill_diagonal(A, 1.0 - A.sum(axis=0))
    return A


def components(A: np.ndarray) -> list[list[int]]:
    """The groups of agents linked through nonzero weights of ``A``, largest first."""
    graph = nx.Graph()
    graph.add_nodes_from(range(len(A)))
    graph.add_edges_from(zip(*np.nonzero(np.asarray(A)), strict=True))
    groups = [sorted(int(k) for k in c) for c in nx.connected_components(graph)]
    return sorted(groups, key=lambda c: (-len(c), c[0]))


def check_combination_matrix(
    A: object, *, name: str = "A", atol: float = 1e-8, warn_disconnected: bool = True
) -> np.ndarray:
    """``A`` as a float64 array, checked to be a left-stochastic ``K × K`` matrix.

    Raises ``TypeError`` if it is not numeric, ``ValueError`` (naming the entry or column) if it
    is not square, not finite, negative, or a column does not sum to one within ``atol``. A
    graph in several pieces is legal but cannot reach agreement: it warns
    (``DisconnectedGraphWarning``) naming the agents cut off from the largest group, unless
    ``warn_disconnected=False`` (independent training on purpose, ``A = I``).
    """
    try:
        array = np.asarray(A, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a numeric K × K matrix, got {describe(A)}") from error
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] == 0:
        raise ValueError(f"{name} must be a square K × K matrix with K >= 1, got {array.shape}")
    bad = np.argwhere(~np.isfinite(array) | (array < 0))
    if len(bad):
        ell, k = bad[0]
        raise ValueError(
            f"{name}[{ell}, {k}] is {array[ell, k]}; combination weights must be finite and >= 0"
        )
    sums = array.sum(axis=0)
    off = np.flatnonzero(np.abs(sums - 1.0) > atol)
    if len(off):
        raise ValueError(
            f"{name} is not left-stochastic: column {off[0]} sums to {sums[off[0]]:.6g} "
            f"({len(off)} column(s) off); each agent's weights a_lk over its neighbours l must "
            "sum to 1 (normalize the columns, or use combination_matrix)"
        )
    groups = components(array)
    if warn_disconnected and len(groups) > 1:
        cut = sorted(k for group in groups[1:] for k in group)
        warnings.warn(
            f"{name} links the {len(array)} agents into {len(groups)} separate groups: agents "
            f"{cut} are cut off from agents {groups[0]}; their models never mix (add links, or "
            "draw another graph)",
            DisconnectedGraphWarning,
            stacklevel=2,
        )
    return array


def spectral_gap(A: np.ndarray) -> float:
    """``1 − |λ₂(A)|``: one minus the second-largest eigenvalue modulus (0 when ``K = 1``)."""
    moduli = np.sort(np.abs(np.linalg.eigvals(np.asarray(A, dtype=np.float64))))[::-1]
    return float(1.0 - moduli[1]) if len(moduli) > 1 else 1.0


def perron_vector(A: np.ndarray) -> np.ndarray:
    """The right eigenvector ``p`` of ``A`` for eigenvalue 1, normalized to ``𝟙ᵀp = 1``."""
    values, vectors = np.linalg.eig(np.asarray(A, dtype=np.float64))
    p = np.real(vectors[:, np.argmin(np.abs(values - 1.0))])
    return p / p.sum()


@dataclass(frozen=True)
class Network:
    """A graph of agents with its combination matrix ``A`` (``K × K``, left-stochastic).

    Build one with :meth:`build`, or from any left-stochastic matrix with
    ``Network("custom", A)``; the constructor checks ``A`` (and warns when it is disconnected).
    ``gap`` is the spectral gap and ``perron`` the Perron vector ``p``.
    """

    name: str
    A: np.ndarray

    def __post_init__(self) -> None:
        check_str("name", self.name)
        object.__setattr__(self, "A", check_combination_matrix(self.A))

    @classmethod
    def build(
        cls,
        topology: str,
        n_agents: int,
        *,
        rule: str = "metropolis",
        p: float = 0.5,
        seed: int = 0,
    ) -> Network:
        """``make_graph(topology, n_agents, p=p, seed=seed)`` combined with ``rule``."""
        graph = make_graph(topology, n_agents, p=p, seed=seed)
        return cls(topology, combination_matrix(graph, rule))

    @property
    def n_agents(self) -> int:
        """``K``, the number of agents."""
        return len(self.A)

    @property
    def gap(self) -> float:
        """The spectral gap ``1 − |λ₂(A)|``."""
        return spectral_gap(self.A)

    @property
    def perron(self) -> np.ndarray:
        """The Perron vector ``p`` of ``A``."""
        return perron_vector(self.A)

    @property
    def edges(self) -> list[tuple[int, int]]:
        """Links ``(ℓ, k)`` with ``ℓ < k`` and ``a_{ℓk} > 0`` or ``a_{kℓ} > 0``."""
        linked = (self.A > 0) | (self.A.T > 0)
        return [(int(ell), int(k)) for ell, k in zip(*np.nonzero(np.triu(linked, 1)), strict=True)]
