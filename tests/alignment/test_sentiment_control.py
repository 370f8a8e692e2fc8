import copy

import pytest
import torch

from toolkit.alignment.sentiment_control import (
    SentimentReward,
    best_worst_pairs,
    evaluate_policy,
    sample_continuations,
    sequence_kl,
)
from toolkit.data import generate_reviews
from toolkit.zoo import load_sentence_encoder
from toolkit.zoo.tiny import tiny_gpt2, tiny_tokenizer


@pytest.fixture(scope="module")
def reward():
    return SentimentReward.fit(load_sentence_encoder(), n=200)


@pytest.fixture(scope="module")
def lm():
    tokenizer = tiny_tokenizer()
    return tiny_gpt2(tokenizer).eval(), tokenizer


def test_reward_probe_ranks_unseen_reviews_by_sentiment(reward):
    test = generate_reviews(100, seed=777)
    scores = reward([r.text for r in test])
    accuracy = ((scores > 0) == torch.tensor([r.sentiment > 0 for r in test])).float().mean()
    assert accuracy > 0.8


def test_sampling_is_seeded(lm):
    model, tokenizer = lm
    a = sample_continuations(model, tokenizer, ["The film"], 3, max_new_tokens=5, seed=1)
    b = sample_continuations(model, tokenizer, ["The film"], 3, max_new_tokens=5, seed=1)
    assert a == b and len(a) == 1 and len(a[0]) == 3
    with pytest.raises(ValueError):
        sample_continuations(model, tokenizer, [], 3)


def test_best_worst_pairs_take_extremes_and_skip_ties():
    rows = best_worst_pairs(
        ["p1", "p2"],
        [["a", "b", "c"], ["same", "same"]],
        [torch.tensor([0.1, 2.0, -1.0]), torch.tensor([1.0, 0.0])],
    )
    assert rows == [
        {
            "prompt": "p1",
            "chosen": "b",
            "rejected": "c",
            "reward_chosen": 2.0,
            "reward_rejected": -1.0,
        }
    ]


def test_sequence_kl_is_zero_against_itself_and_matches_hand_sum(lm):
    model, tokenizer = lm
    samples = [" was great.", " was a bad film"]
    assert torch.allclose(
        sequence_kl(model, model, tokenizer, "The film", samples), torch.zeros(2), atol=1e-6
    )
    other = tiny_gpt2(tokenizer, seed=1).eval()
    kl = sequence_kl(model, other, tokenizer, "The film", samples[:1])
    ids = tokenizer("The film" + samples[0], return_tensors="pt")["input_ids"]
    start = len(tokenizer("The film")["input_ids"])

    def total(m):
        logp = torch.log_softmax(m(ids).logits[0, :-1], -1)
        return logp[torch.arange(start - 1, ids.shape[1] - 1), ids[0, start:]].sum()

    with torch.no_grad():
        assert kl.item() == pytest.approx((total(model) - total(other)).item(), abs=1e-4)


def test_reference_policy_sits_at_zero_kl(lm, reward):
    model, tokenizer = lm
    point = evaluate_policy(
        model,
        copy.deepcopy(model),
        tokenizer,
        ["The acting"],
        reward,
        n_per_prompt=2,
        max_new_tokens=6,
    )
    assert point.kl == pytest.approx(0.0, abs=1e-5)


def test_frontier_keeps_the_upper_envelope_and_gap_compares_at_equal_kl():
    from toolkit.alignment.sentiment_control import (
        FrontierPoint,
        frontier,
        frontier_gap,
        frontier_reward,
    )

    origin = FrontierPoint(reward=0.0, kl=0.0)
    points = [FrontierPoint(2.0, 4.0), FrontierPoint(1.0, 2.0), FrontierPoint(0.5, 3.0)]
    curve = frontier(points, origin)
    assert curve == [origin, FrontierPoint(1.0, 2.0), FrontierPoint(2.0, 4.0)]
    assert frontier_reward(curve, 1.0) == pytest.approx(0.5)
    assert frontier_reward(curve, 3.0) == pytest.approx(1.5)
    assert frontier_reward(curve, 10.0) == pytest.approx(2.0)
    assert frontier_gap(points, points, origin) == pytest.approx((0 + 0 - 1.0) / 3)
    higher = [FrontierPoint(p.reward + 0.25, p.kl) for p in curve[1:]]
    assert frontier_gap(higher, curve[1:], origin) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        frontier_gap([], points, origin)
