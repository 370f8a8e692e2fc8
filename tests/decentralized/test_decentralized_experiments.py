"""The notebook's experiment helpers: grid rows, scores over training, intervals."""

import math

import numpy as np
import pytest
import torch

from toolkit.decentralized import (
    Attack,
    LogisticRegression,
    Network,
    TrainConfig,
    disagreement,
    load_digits_agents,
    mean_interval,
    robustness_over_training,
    run_grid,
)

torch.set_num_threads(1)


def test_run_grid_scores_every_agent_of_every_run():
    data = load_digits_agents(4)
    model = LogisticRegression(64, 10)
    networks = {"ring": Network.build("ring", 4), "full": Network.build("full", 4)}
    config = TrainConfig(steps=4, eps=[0.0, 0.1, 0.1, 0.2], record_every=2)
    rows = run_grid(
        model,
        data,
        networks,
        ["diffusion", "consensus"],
        config,
        [0, 1],
        [0.05, 0.2],
        Attack("fgsm"),
        progress=False,
    )
    assert [(r["network"], r["strategy"], r["seed"]) for r in rows][:3] == [
        ("ring", "diffusion", 0),
        ("ring", "diffusion", 1),
        ("ring", "consensus", 0),
    ]
    assert len(rows) == 8
    for row in rows:
        assert row["clean"].shape == (4,) and row["robust"].shape == (2, 4)
        assert (row["robust"][1] <= row["clean"] + 1e-6).all()  # FGSM at ε=0.2 costs accuracy
    full = rows[4]["trajectory"]
    assert disagreement(full)[-1] == pytest.approx(0.0, abs=1e-12)  # 𝟙𝟙ᵀ/K: everyone equal
    assert disagreement(rows[2]["trajectory"])[-1] > 0  # consensus on a ring: not equal
    robust = robustness_over_training(model, full, data, 0.1, Attack("fgsm"))
    assert robust.shape == (3, 4)
    np.testing.assert_allclose(robust[-1], robust[-1][0])


def test_mean_interval():
    mean, half = mean_interval([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert half == pytest.approx(4.302653 * 1 / math.sqrt(3), rel=1e-5)  # t(0.975, 2) · s/√n
    assert math.isnan(mean_interval([0.5])[1])
    with pytest.raises(ValueError, match="values must not be empty"):
        mean_interval([])
