"""Graphs and combination matrices: left-stochastic weights, spectral gaps, Perron vectors."""

import networkx as nx
import numpy as np
import pytest

from toolkit.decentralized import (
    TOPOLOGIES,
    DisconnectedGraphWarning,
    Network,
    check_combination_matrix,
    combination_matrix,
    components,
    make_graph,
)


@pytest.mark.parametrize("topology", TOPOLOGIES)
@pytest.mark.parametrize("rule", ["metropolis", "averaging"])
def test_every_rule_gives_a_left_stochastic_matrix_on_the_graph(topology, rule):
    graph = make_graph(topology, 12, p=0.6, seed=1)
    A = combination_matrix(graph, rule)
    assert A.shape == (12, 12)
    np.testing.assert_allclose(A.sum(axis=0), 1.0)
    assert (A >= 0).all()
    linked = nx.to_numpy_array(graph) + np.eye(12) > 0
    assert not A[~linked].any(), "weights only between neighbours"


def test_metropolis_is_doubly_stochastic_and_averaging_weights_by_degree():
    graph = make_graph("grid", 12)  # 3 × 4: corner, edge and inner agents differ in degree
    metropolis = combination_matrix(graph, "metropolis")
    np.testing.assert_allclose(metropolis, metropolis.T)
    np.testing.assert_allclose(Network("m", metropolis).perron, np.full(12, 1 / 12))
    averaging = combination_matrix(graph, "averaging")
    assert not np.allclose(averaging, averaging.T)
    size = np.array([graph.degree(k) + 1 for k in range(12)])
    np.testing.assert_allclose(averaging[:, 0][averaging[:, 0] > 0], 1 / size[0])
    # A p = p with p_k ∝ n_k: the averaging rule weighs well-connected agents more
    np.testing.assert_allclose(Network("a", averaging).perron, size / size.sum())


def test_graph_shapes():
    assert sorted(d for _, d in make_graph("ring", 8).degree) == [2] * 8
    assert make_graph("grid", 12).number_of_edges() == 3 * 3 + 2 * 4  # 3 × 4 lattice
    assert make_graph("grid", 7).number_of_edges() == 6  # prime: a 1 × 7 path
    assert make_graph("full", 5).number_of_edges() == 10
    assert Network.build("ring", 6).edges == [(0, 1), (0, 5), (1, 2), (2, 3), (3, 4), (4, 5)]


def test_spectral_gap_grows_with_density():
    gaps = {t: Network.build(t, 16).gap for t in ("ring", "grid", "full")}
    assert 0 < gaps["ring"] < gaps["grid"] < gaps["full"]
    assert gaps["full"] == pytest.approx(1.0)  # Metropolis on the complete graph is 𝟙𝟙ᵀ/K
    # ring with Metropolis weights 1/3: λ₂ = (1 + 2 cos(2π/K)) / 3
    assert gaps["ring"] == pytest.approx(1 - (1 + 2 * np.cos(2 * np.pi / 16)) / 3)


def test_not_left_stochastic_names_the_column():
    A = combination_matrix(make_graph("ring", 4))
    A[0, 2] += 0.1
    with pytest.raises(ValueError, match=r"not left-stochastic: column 2 sums to 1.1"):
        check_combination_matrix(A)
    with pytest.raises(ValueError, match=r"not left-stochastic"):
        Network("rows", A.T @ np.diag([1, 2, 1, 1]))


def test_disconnected_graph_warns_naming_the_agents_cut_off():
    graph = nx.disjoint_union(nx.cycle_graph(4), nx.path_graph(2))
    A = combination_matrix(graph)
    with pytest.warns(DisconnectedGraphWarning, match=r"agents \[4, 5\] are cut off from agents"):
        check_combination_matrix(A)
    assert components(A) == [[0, 1, 2, 3], [4, 5]]
    with pytest.warns(DisconnectedGraphWarning, match=r"6 agents into 6 separate groups"):
        Network("alone", np.eye(6))
    check_combination_matrix(np.eye(3), warn_disconnected=False)  # silent on purpose
