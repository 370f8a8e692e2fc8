"""Notebook 01's claims cannot hold for the wrong reason: a collapsed judge, a policy that never
moved, or masks that add nothing over TDPO2 are fed through each claim's measurement."""

import pytest
import torch

from toolkit.alignment.evidence import (
    frontier_claim,
    implicit_preference_accuracy,
    reward_accuracy,
    target_claim,
)
from toolkit.alignment.sentiment_control import FrontierPoint, SentimentReward
from toolkit.claims import NOT_TESTABLE, build
from toolkit.zoo.tiny import tiny_gpt2, tiny_tokenizer

SEEDS = (0, 1, 2)
BETAS = (0.1, 0.5, 2.0)
METHODS = ("DPO", "TDPO2", "SparsePO (activation mask)", "SparsePO (learned mask)")


class ConstantEncoder:
    def encode(self, texts):
        return torch.zeros(len(texts), 4)


def collapsed_reward() -> SentimentReward:
    return SentimentReward(ConstantEncoder(), torch.zeros(4), torch.tensor(0.0))


def sweep(reward_of, kl_of=lambda beta: 1 / beta):
    points = {
        (s, m, b): FrontierPoint(reward_of(s, m, b), kl_of(b)) for s in SEEDS for m in METHODS
        for b in BETAS
    }  # fmt: skip
    return points, {s: FrontierPoint(0.0, 0.0) for s in SEEDS}


def test_a_collapsed_judge_cannot_sort_reviews():
    assert reward_accuracy(collapsed_reward(), n=60) < 0.8


def test_a_collapsed_judge_makes_the_frontier_claim_not_testable():
    judge = collapsed_reward()
    accuracy = reward_accuracy(judge, n=60)
    constant = float(judge(["any text"])[0])  # every policy scores the same under it
    points, origins = sweep(lambda s, m, b: constant)
    claim = build(**frontier_claim(points, origins, reward_accuracy=accuracy, steps=8))
    assert claim.status == NOT_TESTABLE and "sentiment reward" in claim.reason


def test_an_unmoved_policy_makes_the_frontier_claim_not_testable():
    points, origins = sweep(lambda s, m, b: 0.0, kl_of=lambda b: 0.0)
    claim = build(**frontier_claim(points, origins, reward_accuracy=0.95, steps=8))
    assert claim.status == NOT_TESTABLE and "training moves the policy" in claim.reason


def test_sparsepo_equal_to_tdpo2_does_not_credit_the_masks():
    def reward(s, m, b):  # TDPO2 and SparsePO alike, both above DPO
        return (1.0 if m == "DPO" else 1.5) + 0.01 * s - 0.1 * b

    points, origins = sweep(reward)
    claim = build(**frontier_claim(points, origins, reward_accuracy=0.95, steps=8))
    assert claim.interval("gap_learned_vs_dpo").lo > 0
    assert claim.measured["gap_learned_vs_tdpo2"] == pytest.approx(0.0, abs=1e-12)
    assert claim.status == "not held"


def test_masks_that_help_hold_with_their_intervals():
    def reward(s, m, b):
        return {"DPO": 1.0, "TDPO2": 1.1}.get(m, 1.6) + 0.02 * s - 0.1 * b

    points, origins = sweep(reward)
    claim = build(**frontier_claim(points, origins, reward_accuracy=0.95, steps=8))
    assert claim.held, claim.reason
    assert claim.measured["share_beyond_dpo_kl"] == 0.0


@pytest.fixture(scope="module")
def tiny():
    tokenizer = tiny_tokenizer()
    return tiny_gpt2(tokenizer, n_positions=128).eval(), tokenizer


def test_an_unmoved_policy_ranks_no_pair(tiny):
    model, tokenizer = tiny
    rows = [{"prompt": "The film", "chosen": " was great.", "rejected": " was bad."}] * 3
    assert implicit_preference_accuracy(model, model, tokenizer, rows) == 0.0


def test_a_collapsed_code_model_makes_the_target_claim_not_testable():
    unmoved = {"chosen_delta": 0.0, "pass_rate": 0.0, "preference_accuracy": 0.0}
    results = {(s, m): unmoved for s in SEEDS for m in ("DPO", "Target-DPO", "Target-RPO")}
    claim = build(**target_claim(results, reference_pass_rate=0.0))
    assert claim.status == NOT_TESTABLE and not claim.held


def test_the_target_claim_holds_on_clear_evidence():
    def row(delta, accuracy=0.9):
        return {"chosen_delta": delta, "pass_rate": 0.95, "preference_accuracy": accuracy}

    results = {}
    for s in SEEDS:
        results[s, "DPO"] = row(-0.5 - 0.05 * s)
        results[s, "Target-DPO"] = row(0.1 + 0.02 * s)
        results[s, "Target-RPO"] = row(0.2)
    assert build(**target_claim(results, reference_pass_rate=1.0)).held
