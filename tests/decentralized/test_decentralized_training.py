"""Diffusion and consensus adversarial training: what they reduce to, where they converge, and
the in-process and one-process-per-agent paths agreeing."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from toolkit.decentralized import (
    Attack,
    DisconnectedGraphWarning,
    LogisticRegression,
    Network,
    TrainConfig,
    load_digits_agents,
    make_model,
    run_distributed,
    train,
)

torch.set_num_threads(1)  # also makes forking the agent processes safe
F64 = torch.float64


@pytest.fixture(scope="module")
def data():
    return load_digits_agents(3, dtype=F64)


@pytest.fixture(scope="module")
def logistic():
    return LogisticRegression(64, 10)


def test_non_iid_split(data):
    counts = data.label_counts()
    assert data.x.shape == (3, 479, 64) and data.x_test.shape == (360, 64)
    assert [row.argmax() for row in counts] == [0, 1, 2]  # each agent's home class dominates
    # half of 479 is more than a digit has (about 144 training images): all of it goes home
    assert (counts.max(1) >= 140).all() and counts[0, 1] == counts[1, 0] == 0
    assert 0 <= float(data.x.min()) and float(data.x.max()) <= 1


@pytest.mark.parametrize("strategy", ["diffusion", "consensus"])
def test_identity_matrix_is_independent_training(data, logistic, strategy):
    """A = I: each agent's iterates are those of training it alone on its own data."""
    config = TrainConfig(
        strategy=strategy,
        steps=20,
        eps=[0.0, 0.1, 0.2],
        attack=Attack("fgsm", "l2"),
        batch_size=None,
        dtype=F64,
    )
    with pytest.warns(DisconnectedGraphWarning):
        together = train(logistic, data, np.eye(3), config)
    noncooperative = train(
        logistic,
        data,
        Network.build("full", 3),
        config.__class__(**{**config.__dict__, "strategy": "noncooperative"}),
    )
    torch.testing.assert_close(together.params, noncooperative.params)
    for k in range(3):
        alone = load_digits_agents(3, dtype=F64)
        one = alone.__class__(
            alone.x[k : k + 1], alone.y[k : k + 1], alone.x_test, alone.y_test, 10
        )
        solo = train(
            logistic, one, np.eye(1), config.__class__(**{**config.__dict__, "eps": config.eps[k]})
        )
        torch.testing.assert_close(together.params[:, k], solo.params[:, 0])


@pytest.mark.parametrize("strategy", ["diffusion", "consensus"])
def test_zero_budget_is_plain_decentralized_learning(data, logistic, strategy):
    network = Network.build("ring", 3, rule="averaging")
    config = TrainConfig(
        strategy=strategy,
        steps=15,
        eps=0.0,
        step_size=[0.3, 0.5, 0.7],
        batch_size=None,
        rho=0.01,
        dtype=F64,
    )
    trajectory = train(logistic, data, network, config)
    A, mu = torch.as_tensor(network.A), torch.tensor([[0.3], [0.5], [0.7]], dtype=F64)
    W = torch.zeros(3, logistic.n_params, dtype=F64)
    for _ in range(15):
        grad = logistic.param_grad(W, data.x, data.y, 0.01)
        W = A.T @ (W - mu * grad) if strategy == "diffusion" else A.T @ W - mu * grad
    torch.testing.assert_close(trajectory.final, W)


def _centralized_minimizer(model, data, rho):
    """argmin_w (1/K) Σ_k Q_k(w) by L-BFGS on the pooled data (equal n_k)."""
    w = torch.zeros(1, model.n_params, dtype=F64, requires_grad=True)
    x, y = data.x.reshape(1, -1, data.n_features), data.y.reshape(1, -1)
    opt = torch.optim.LBFGS(
        [w],
        max_iter=500,
        tolerance_grad=1e-12,
        tolerance_change=1e-14,
        line_search_fn="strong_wolfe",
    )

    def closure():
        opt.zero_grad()
        loss = model.losses(w, x, y, rho).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach()[0]


def test_strongly_convex_full_graph_reaches_the_centralized_solution(data, logistic):
    """ρ = 0.1 makes Q_k strongly convex. On the complete graph diffusion converges to the
    centralized minimizer w* (to within 1e-5·‖w*‖); consensus and diffusion on a ring stop in
    an O(μ) neighbourhood of it, which halving μ shrinks."""
    rho = 0.1
    w_star = _centralized_minimizer(logistic, data, rho)

    def distance(topology, strategy, mu):
        steps = int(20 / (mu * rho))
        config = TrainConfig(
            strategy=strategy,
            steps=steps,
            eps=0.0,
            step_size=mu,
            batch_size=None,
            rho=rho,
            record_every=steps,
            dtype=F64,
        )
        final = train(logistic, data, Network.build(topology, 3), config).final
        return float((final - w_star).norm(dim=1).max())

    assert distance("full", "diffusion", 1.0) < 1e-5 * float(w_star.norm())
    assert distance("full", "centralized", 1.0) < 1e-5 * float(w_star.norm())
    for topology, strategy in (("full", "consensus"), ("ring", "consensus")):
        big, small = distance(topology, strategy, 0.4), distance(topology, strategy, 0.2)
        assert small < 0.7 * big, (topology, strategy, big, small)


@pytest.mark.parametrize("strategy", ["diffusion", "consensus"])
@pytest.mark.parametrize("model_name", ["logistic", "mlp"])
def test_one_process_per_agent_gives_the_same_parameters(data, strategy, model_name):
    """3 gloo processes on localhost, minibatches and PGD with random start: same numbers."""
    model = make_model(model_name, 64, 10, hidden=8)
    config = TrainConfig(
        strategy=strategy,
        steps=6,
        eps=[0.0, 0.1, 0.2],
        step_size=[0.2, 0.3, 0.4],
        attack=Attack("pgd", "l2", steps=3),
        batch_size=16,
        record_every=2,
        dtype=F64,
        seed=3,
    )
    network = Network.build("ring", 3, rule="averaging")
    here = train(model, data, network, config)
    there = run_distributed(model, data, network, config, timeout_s=60, start_method="fork")
    assert there.steps == here.steps == [0, 2, 4, 6]
    torch.testing.assert_close(there.params, here.params, rtol=0, atol=1e-12)
    assert 0 < there.comm_seconds < there.seconds


def test_torchrun_entry_point(tmp_path):
    """The script ``torchrun`` launches, on 2 local processes for 3 steps."""
    out = tmp_path / "trajectory.pt"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "toolkit.decentralized.distributed",
        "--steps",
        "3",
        "--eps",
        "0",
        "0.2",
        "--batch-size",
        "8",
        "--out",
        str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "diffusion on a ring of 2 agents, 3 steps" in done.stdout
    assert torch.load(out)["steps"] == [0, 3]  # start and end (record_every = 10)
    assert torch.load(out)["params"].shape == (2, 2, 650)
