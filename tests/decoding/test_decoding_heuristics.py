"""Heuristics: exact programmatic scores, weighted sums, model heuristics in one batch."""

import pytest
import torch

from toolkit.decoding import (
    CallableHeuristic,
    KeywordCoverage,
    LengthInRange,
    RewardModelHeuristic,
    SentimentHeuristic,
    WeightedSum,
    keyword_coverage,
)
from toolkit.zoo.tiny import tiny_tokenizer


def test_keyword_coverage_counts_inflections_and_ignores_case():
    h = KeywordCoverage(["love", "plot", "watch"])
    texts = ["I loved the Plots.", "Watching it", "nothing here", "loving plotting watches"]
    assert h([""] * 4, texts).tolist() == pytest.approx([2 / 3, 1 / 3, 0.0, 1.0])
    assert h.covered("a plotless film") == []


def test_length_in_range_is_zero_inside_and_grows_outside():
    h = LengthInRange(3, 5)
    scores = h([""] * 4, ["one two", "one two three", "a b c d e", "a b c d e f g"])
    assert scores.tolist() == pytest.approx([-1 / 5, 0.0, 0.0, -2 / 5])


def test_weighted_sums_compose_and_flatten():
    keywords, length = KeywordCoverage(["plot"]), LengthInRange(1, 2)
    h = 2 * keywords + 0.5 * length + keywords
    assert isinstance(h, WeightedSum) and len(h.terms) == 3
    texts = ["the plot is good", "plot"]
    expected = 3 * keywords(["", ""], texts) + 0.5 * length(["", ""], texts)
    assert torch.allclose(h(["", ""], texts), expected)
    assert torch.allclose((3 * h)(["", ""], texts), 3 * expected)


def test_model_heuristics_score_the_whole_batch_in_one_call():
    calls = []

    def reward(texts):
        calls.append(list(texts))
        return torch.arange(len(texts), dtype=torch.float32)

    h = SentimentHeuristic(reward)
    assert h(["x"] * 3, ["a", "", "c"]).tolist() == [0.0, 1.0, 2.0]
    assert len(calls) == 1 and calls[0][1] == "."  # an empty text is scored as "."


def test_reward_model_heuristic_scores_prompt_and_text():
    from transformers import GPT2Config, GPT2ForSequenceClassification

    tokenizer = tiny_tokenizer()
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_embd=16,
        n_layer=1,
        n_head=2,
        num_labels=1,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = GPT2ForSequenceClassification(config).eval()
    h = RewardModelHeuristic(model, tokenizer, batch_size=2, name="rm")
    scores = h(["The film", "The film", "A plot"], [" was good", " was bad", " is thin"])
    assert scores.shape == (3,) and torch.isfinite(scores).all()


def test_a_callable_heuristic_gets_lists_and_its_output_is_checked():
    h = CallableHeuristic(lambda prompts, texts: [float(len(t)) for t in texts], name="chars")
    assert h(("p", "p"), ("ab", "abc")).tolist() == [2.0, 3.0]
    assert h.name == "chars"


def test_keyword_coverage_metric_averages_over_texts():
    assert keyword_coverage(["plot"], ["the plot", "none"]) == pytest.approx(0.5)
