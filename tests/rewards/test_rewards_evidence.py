"""Notebook 02's claims cannot hold for a reward model that learned nothing: a collapsed
(constant) or random reward model fed through each claim's measurement is never "held"."""

import math

import pytest
import torch
from transformers import GPT2Config, GPT2ForSequenceClassification

from toolkit.claims import NOT_TESTABLE, build
from toolkit.rewards.evidence import accuracy_claim, invariance_claim
from toolkit.rewards.lab import RewardModelReport, evaluate_reward_model
from toolkit.zoo.tiny import tiny_tokenizer

pytestmark = pytest.mark.filterwarnings("ignore:rewards is constant")

BIASES = ("length", "sycophancy")
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


def reward_model(tokenizer, constant: bool):
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_embd=16, n_layer=1, n_head=2, n_positions=1024,
        num_labels=1, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    model = GPT2ForSequenceClassification(config).eval()
    if constant:  # a collapsed head: every response gets the same reward
        torch.nn.init.zeros_(model.score.weight)
    return model


@pytest.fixture(scope="module", params=["constant", "random"])
def collapsed(request, tokenizer):
    model = reward_model(tokenizer, constant=request.param == "constant")
    return {
        (s, b): evaluate_reward_model(model, tokenizer, b, 12, s + 1) for s in SEEDS for b in BIASES
    }


def healthy(gap=2.0, accuracy=0.95, spread=1.0) -> RewardModelReport:
    """A report of a reward model that learned the signal: rewards spread ±spread."""
    rewards = tuple([spread] * 6 + [-spread] * 6)
    return RewardModelReport(accuracy, accuracy, 0.1, gap, gap / 2, rewards, tuple(range(12)))


def test_collapsed_reward_models_make_every_claim_not_testable(collapsed):
    for spec in (
        invariance_claim(collapsed, collapsed, lam=1.0),
        accuracy_claim(collapsed, collapsed, lam=1.0),
    ):
        claim = build(**spec)
        assert claim.status == NOT_TESTABLE and not claim.held, claim.reason


def test_a_collapsed_causal_model_beside_a_healthy_vanilla_one_is_not_testable(collapsed):
    vanilla = {key: healthy() for key in collapsed}
    # raw gaps: the collapsed model's is 0 (or tiny), a 100% "reduction" the old measure passed
    raw = [1 - collapsed[k].counterfactual_gap / vanilla[k].counterfactual_gap for k in collapsed]
    assert min(raw) > 0.5
    invariance = build(**invariance_claim(vanilla, collapsed, lam=1.0))
    assert invariance.status == NOT_TESTABLE
    assert "still ranks by the signal" in invariance.reason
    drop = build(**accuracy_claim(vanilla, collapsed, lam=1.0))
    assert drop.status == "not held"  # the causal model lost its accuracy: a real result


def test_a_shrunken_head_is_not_more_invariant():
    vanilla = {(s, b): healthy(gap=2.0, spread=1.0) for s in SEEDS for b in BIASES}
    shrunk = {k: healthy(gap=0.2, spread=0.1) for k in vanilla}  # every reward ÷ 10
    claim = build(**invariance_claim(vanilla, shrunk, lam=1.0))
    assert claim.status == "not held"
    assert claim.measured["mean_gap_reduction"] == pytest.approx(0.0, abs=1e-12)


def test_a_real_improvement_holds_with_its_interval():
    vanilla = {(s, b): healthy(gap=2.0) for s in SEEDS for b in BIASES}
    causal = {(s, b): healthy(gap=0.4 + 0.05 * s, accuracy=0.93) for s, b in vanilla}
    claim = build(**invariance_claim(vanilla, causal, lam=1.0))
    assert claim.held, claim.reason
    lo = claim.interval("mean_gap_reduction").lo
    assert 0.5 <= lo < claim.measured["mean_gap_reduction"]
    assert build(**accuracy_claim(vanilla, causal, lam=1.0)).held


def test_normalized_gap_of_a_constant_model_is_nan():
    constant = RewardModelReport(0.0, 0.0, math.nan, 0.0, 0.0, (0.0,) * 4, (0, 1, 0, 1))
    assert math.isnan(constant.normalized_gap) and constant.reward_sd == 0.0


def test_reports_must_cover_every_seed_and_bias():
    one = {(0, "length"): healthy()}
    with pytest.raises(ValueError, match="same"):
        invariance_claim(one, {(1, "length"): healthy()}, lam=1.0)
    with pytest.raises(TypeError, match="RewardModelReport"):
        accuracy_claim({(0, "length"): 1.0}, {(0, "length"): 1.0}, lam=1.0)
