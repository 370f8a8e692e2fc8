"""The bias lab: Z bins per bias, best-of-N picks the top-scored response, sentence counts."""

import pytest
import torch

from toolkit.rewards.lab import (
    RewardModelReport,
    best_of_n,
    lab_rows,
    sentence_count,
    sweep_view_data,
)
from toolkit.rewards.metrics import reward_scores


@pytest.mark.parametrize("bias", ["length", "sycophancy", "concept", "discrimination"])
def test_lab_rows_bin_z_on_both_sides(bias):
    rows = lab_rows(bias, 40, 0)
    assert rows == lab_rows(bias, 40, 0)
    pairs = {}
    for r in rows:
        for side in ("chosen", "rejected"):
            pairs.setdefault(r[f"z_bin_{side}"], set()).add(r[f"z_{side}"])
    if bias != "length":  # categorical: one bin per value
        assert all(len(values) == 1 for values in pairs.values())
    assert len(pairs) >= 2
    favoured = sum(r["z_favoured_chosen"] for r in rows) / len(rows)
    assert favoured > 0.6, "the training split ties the favoured Z to the chosen side"


def test_best_of_n_takes_the_highest_reward():
    class LengthReward(torch.nn.Module):  # reward = number of non-pad tokens
        training = False

        def __init__(self):
            super().__init__()
            self.device = torch.device("cpu")

        def forward(self, input_ids, attention_mask):
            return type("Out", (), {"logits": attention_mask.sum(-1, keepdim=True).float()})

    from toolkit.zoo.tiny import tiny_tokenizer

    tokenizer = tiny_tokenizer()
    model = LengthReward()
    groups = [[" a.", " a longer review. Two sentences.", " mid size."]]
    assert best_of_n(model, tokenizer, ["p"], groups) == [groups[0][1]]
    assert reward_scores(model, tokenizer, ["p"], [" a."]).shape == (1,)
    assert sentence_count(groups[0][1]) == 2


def test_sweep_view_data_spreads_vanilla_over_the_variants():
    def report(reward, z):
        return RewardModelReport(0.5, 0.75, 0.1, reward, 0.0, rewards=(reward, -reward), z=z)

    reports = {
        ("length", "vanilla", 0.0): report(2.0, (3, 1)),
        ("length", "unconditional", 1.0): report(1.0, (3, 1)),
        ("length", "conditional", 1.0): report(0.5, (3, 1)),
    }
    data = sweep_view_data(reports)
    assert data["z"] == {"length": [1, 0]} and data["z_labels"] == {"length": ["1", "3"]}
    keys = [(r["variant"], r["lam"], r["gap"]) for r in data["runs"]]
    assert keys == [
        ("unconditional", 0.0, 2.0),
        ("conditional", 0.0, 2.0),
        ("unconditional", 1.0, 1.0),
        ("conditional", 1.0, 0.5),
    ]
    assert data["runs"][0]["rewards"] == [2.0, -2.0] and data["runs"][0]["accuracy"] == 0.75
