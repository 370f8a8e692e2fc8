"""Bad input at every public entry point of ``toolkit.decentralized``: a clear ``TypeError`` or
``ValueError`` naming the argument (and agent, entry or column), or a warning naming the agents
a disconnected graph cuts off."""

import math

import networkx as nx
import numpy as np
import pytest
import torch

from toolkit.decentralized import (
    MLP,
    AgentData,
    Attack,
    DisconnectedGraphWarning,
    LogisticRegression,
    Network,
    TrainConfig,
    check_combination_matrix,
    combination_matrix,
    load_digits_agents,
    make_graph,
    make_model,
    robust_accuracy,
    run_distributed,
    split_non_iid,
    train,
)


@pytest.fixture(scope="module")
def data():
    return load_digits_agents(4)


@pytest.fixture(scope="module")
def model():
    return LogisticRegression(64, 10)


# ---------------------------------------------------------------------- graphs


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("star", 4), {}, ValueError, "topology"),
        (("ring", 0), {}, ValueError, "n_agents"),
        (("ring", 2.0), {}, TypeError, "n_agents"),
        (("ring", True), {}, TypeError, "n_agents"),
        (("erdos_renyi", 4), {"p": 1.5}, ValueError, "p must be"),
        (("erdos_renyi", 4), {"p": math.nan}, ValueError, "p must be"),
        (("ring", 4), {"seed": -1}, ValueError, "seed"),
    ],
)
def test_make_graph(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        make_graph(*args, **kwargs)


@pytest.mark.parametrize(
    ("graph", "rule", "error", "match"),
    [
        ([[0, 1], [1, 0]], "metropolis", TypeError, "graph must be a networkx.Graph"),
        (nx.cycle_graph(3), "uniform", ValueError, "rule"),
        (nx.Graph(), "metropolis", ValueError, "graph has no nodes"),
        (nx.relabel_nodes(nx.cycle_graph(3), {0: "a"}), "metropolis", ValueError, "nodes must"),
    ],
)
def test_combination_matrix(graph, rule, error, match):
    with pytest.raises(error, match=match):
        combination_matrix(graph, rule)


RING = combination_matrix(nx.cycle_graph(4))


@pytest.mark.parametrize(
    ("A", "error", "match"),
    [
        ("ring", TypeError, "A must be a numeric"),
        (np.ones((2, 3)) / 2, ValueError, r"square K × K"),
        (np.zeros((0, 0)), ValueError, "square"),
        (RING.T * np.array([1.0, 1.0, 0.5, 1.5]), ValueError, r"column \d sums to"),
        (np.array([[1.2, 0.0], [-0.2, 1.0]]), ValueError, r"A\[1, 0\] is -0.2"),
        (np.array([[np.nan, 0.0], [1.0, 1.0]]), ValueError, r"A\[0, 0\] is nan"),
    ],
)
def test_combination_matrix_check(A, error, match):
    with pytest.raises(error, match=match):
        check_combination_matrix(A)
    with pytest.raises(error, match=match):
        Network("bad", A)


def test_network_name():
    with pytest.raises(TypeError, match="name must be a str"):
        Network(None, RING)
    with pytest.raises(ValueError, match="name must not be empty"):
        Network(" ", RING)


def test_disconnected_graph_warns_with_the_agents_cut_off():
    A = combination_matrix(nx.disjoint_union(nx.cycle_graph(3), nx.empty_graph(2)))
    with pytest.warns(
        DisconnectedGraphWarning, match=r"agents \[3, 4\] are cut off from agents \[0, 1, 2\]"
    ):
        Network("pieces", A)
    with pytest.warns(DisconnectedGraphWarning, match="cut off"):
        Network.build("erdos_renyi", 8, p=0.0)


# ---------------------------------------------------------------------- data


@pytest.mark.parametrize(
    ("y", "kwargs", "error", "match"),
    [
        (
            np.arange(5),
            {"n_agents": 6},
            ValueError,
            r"n_agents \(6\) is larger than the number of training samples \(5\)",
        ),
        (np.arange(5), {"n_agents": 0}, ValueError, "n_agents"),
        (np.arange(5), {"n_agents": 2, "label_skew": -0.1}, ValueError, "label_skew"),
        (np.arange(5), {"n_agents": 2, "label_skew": "high"}, TypeError, "label_skew"),
    ],
)
def test_split_non_iid(y, kwargs, error, match):
    with pytest.raises(error, match=match):
        split_non_iid(y, **kwargs)


def test_load_digits_more_agents_than_samples():
    with pytest.raises(
        ValueError, match=r"n_agents \(5000\) is larger than the number of training samples"
    ):
        load_digits_agents(5000)
    with pytest.raises(ValueError, match="test_fraction"):
        load_digits_agents(2, test_fraction=0.0)


@pytest.mark.parametrize(
    ("fields", "error", "match"),
    [
        ({"x": np.zeros((2, 3, 4))}, TypeError, "x must be a torch.Tensor"),
        ({"x": torch.zeros(6, 4)}, ValueError, "x must be K × n × d"),
        ({"y": torch.zeros(2, 2, dtype=torch.long)}, ValueError, "y K × n"),
        ({"x_test": torch.zeros(5, 3)}, ValueError, "x_test must be N × d with d = 4"),
        ({"y_test": torch.zeros(4, dtype=torch.long)}, ValueError, "y_test"),
        ({"n_classes": 1}, ValueError, "n_classes"),
    ],
)
def test_agent_data(fields, error, match):
    good = {
        "x": torch.zeros(2, 3, 4),
        "y": torch.zeros(2, 3, dtype=torch.long),
        "x_test": torch.zeros(5, 4),
        "y_test": torch.zeros(5, dtype=torch.long),
        "n_classes": 3,
    }
    with pytest.raises(error, match=match):
        AgentData(**{**good, **fields})


# ---------------------------------------------------------------------- models and attacks


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: LogisticRegression(0, 10), ValueError, "n_features"),
        (lambda: LogisticRegression(64, 1), ValueError, "n_classes"),
        (lambda: LogisticRegression(64.0, 10), TypeError, "n_features"),
        (lambda: MLP(64, 10, hidden=0), ValueError, "hidden"),
        (lambda: make_model("cnn", 64, 10), ValueError, "model must be one of"),
    ],
)
def test_models(build, error, match):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"kind": "cw"}, ValueError, "kind"),
        ({"norm": "l1"}, ValueError, "norm"),
        ({"steps": 0}, ValueError, "steps"),
        ({"steps": 2.5}, TypeError, "steps"),
        ({"step_ratio": 0.0}, ValueError, "step_ratio"),
        ({"step_ratio": math.inf}, ValueError, "step_ratio"),
        ({"random_start": 1}, TypeError, "random_start"),
    ],
)
def test_attack(kwargs, error, match):
    with pytest.raises(error, match=match):
        Attack(**kwargs)


# ---------------------------------------------------------------------- training


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"eps": -0.1}, ValueError, r"eps\[0\] must be >= 0.0, got -0.1"),
        ({"eps": [0.1, 0.2, -0.3]}, ValueError, r"eps\[2\] must be >= 0.0, got -0.3"),
        ({"eps": [0.1, math.nan]}, ValueError, r"eps\[1\] must be a finite number"),
        ({"eps": "0.1"}, TypeError, "eps must be a number or one number per agent"),
        ({"eps": None}, TypeError, "eps"),
        ({"step_size": 0.0}, ValueError, r"step_size\[0\] must be > 0.0"),
        ({"step_size": -1}, ValueError, r"step_size\[0\] must be > 0.0"),
        ({"step_size": [0.5, 0.0]}, ValueError, r"step_size\[1\] must be > 0.0, got 0.0"),
        ({"step_size": [0.5, True]}, TypeError, r"step_size\[1\]"),
        ({"strategy": "gossip"}, ValueError, "strategy"),
        ({"steps": 0}, ValueError, "steps"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"rho": -1e-3}, ValueError, "rho"),
        ({"record_every": 0}, ValueError, "record_every"),
        ({"attack": "pgd"}, TypeError, "attack must be an Attack"),
        ({"dtype": torch.float16}, ValueError, "dtype"),
        ({"seed": -2}, ValueError, "seed"),
    ],
)
def test_train_config(kwargs, error, match):
    with pytest.raises(error, match=match):
        TrainConfig(**kwargs)


def test_train_checks_sizes_against_the_data(data, model):
    ring = Network.build("ring", 4)
    with pytest.raises(ValueError, match=r"eps has 3 values for 4 agents"):
        train(model, data, ring, TrainConfig(eps=[0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match=r"step_size has 2 values for 4 agents"):
        train(model, data, ring, TrainConfig(step_size=[0.1, 0.2]))
    with pytest.raises(ValueError, match=r"network has 5 agents but data has 4"):
        train(model, data, Network.build("ring", 5), TrainConfig())
    with pytest.raises(ValueError, match=r"model expects 10 features"):
        train(LogisticRegression(10, 10), data, ring, TrainConfig())
    with pytest.raises(ValueError, match=r"batch_size \(500\) is larger than each agent's"):
        train(model, data, ring, TrainConfig(batch_size=500))
    with pytest.raises(ValueError, match=r"network is not left-stochastic: column 0"):
        train(model, data, np.ones((4, 4)), TrainConfig())
    with pytest.raises(TypeError, match="model must be a StackedModel"):
        train("logistic", data, ring, TrainConfig())
    with pytest.raises(TypeError, match="data must be an AgentData"):
        train(model, (data.x, data.y), ring, TrainConfig())
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        train(model, data, ring, {"steps": 3})


def test_evaluation_and_distributed_arguments(data, model):
    W = torch.zeros(4, model.n_params)
    with pytest.raises(ValueError, match="eps must be >= 0.0"):
        robust_accuracy(model, W, data.x_test, data.y_test, -0.1, Attack())
    with pytest.raises(ValueError, match="timeout_s"):
        run_distributed(model, data, Network.build("ring", 4), TrainConfig(), timeout_s=0)
    with pytest.raises(ValueError, match="start_method"):
        run_distributed(model, data, Network.build("ring", 4), TrainConfig(), start_method="thread")
