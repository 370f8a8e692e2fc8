"""The notebook's pipeline end to end on a seconds-to-build random GPT-2: SFT, DPO, every
group's metrics, the sweep and the view's data."""

import math

import pytest
import torch

from toolkit.representation import (
    GROUPS,
    METRICS,
    SKEWED_MIX,
    Budget,
    align_and_evaluate,
    evaluate_groups,
    evaluation_set,
    find_mix,
    pool_for,
    run_sweep,
    sample_responses,
    sweep_view_data,
    train_sft,
)
from toolkit.zoo.tiny import tiny_gpt2, tiny_tokenizer
from widgets import AnnotatorMixView

BUDGET = Budget(n_pool=16, sft_steps=2, dpo_steps=2, batch_size=4, n_samples=1)


@pytest.fixture(scope="module")
def lm():
    tokenizer = tiny_tokenizer()
    return tiny_gpt2(tokenizer, dropout=0.0).eval(), tokenizer


@pytest.fixture(scope="module")
def data():
    return evaluation_set(4, 4, seed=0)


def test_evaluation_set_is_parallel_across_groups(data):
    from toolkit.representation import word_count

    for k in range(4):
        counts = {word_count(data.texts[g][k]) for g in GROUPS}
        assert len(counts) == 1  # the same response, word for word, in every dialect
    assert set(data.pairs) == set(GROUPS) and all(len(p) == 4 for p in data.pairs.values())


def test_report_holds_every_metric_for_every_group(lm, data):
    model, tokenizer = lm
    report = evaluate_groups(model, tokenizer, data, n_samples=1, max_new_tokens=8)
    for m in METRICS:
        values = report.metric(m)
        assert set(values) == set(GROUPS) and all(math.isfinite(v) for v in values.values())
        assert report.gap(m).gap >= 0
    assert all(0 <= v <= 1 for v in report.accuracy.values())
    assert all(0 <= v <= 2 for v in report.reward.values())
    assert all(0 <= v <= 1 for v in report.similarity.values())
    assert report.most_similar in GROUPS
    assert len(report.samples["us"]) == 8  # one per viewer question
    summary = report.summary()
    assert set(summary["gaps"]) == set(METRICS) and set(summary["answers"]) == {
        "topic",
        "genre",
        "venue",
    }


def test_sampling_is_seeded_and_leaves_the_global_state(lm):
    model, tokenizer = lm
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = sample_responses(
        model, tokenizer, ["What?", "A longer question here?"], 2, max_new_tokens=6, seed=3
    )
    assert torch.equal(torch.get_rng_state(), state)
    assert first == sample_responses(
        model, tokenizer, ["What?", "A longer question here?"], 2, max_new_tokens=6, seed=3
    )
    assert len(first) == 4


def test_sft_trains_a_copy(lm):
    model, tokenizer = lm
    before = {k: v.clone() for k, v in model.state_dict().items()}
    tuned = train_sft(
        model, tokenizer, pool_for("pool", SKEWED_MIX, 16, 0), steps=2, batch_size=4, block_size=32
    )
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert any(not torch.equal(v, before[k]) for k, v in tuned.state_dict().items())


def test_align_and_sweep_feed_the_view(lm, data):
    model, tokenizer = lm
    rows = pool_for("reweighted", SKEWED_MIX, BUDGET.n_pool, 0)
    result = align_and_evaluate(
        model, tokenizer, rows, data, name="rw", mix=SKEWED_MIX, budget=BUDGET, keep_models=True
    )
    assert set(result.reports) == {"sft", "dpo"} and set(result.models) == {"sft", "dpo"}
    assert result.pool_shares == pytest.approx({"us": 6 / 16, "gb": 5 / 16, "sco": 5 / 16})
    sweep = run_sweep(
        model,
        tokenizer,
        [SKEWED_MIX, {"sco": 1}],
        data,
        budget=BUDGET,
        keep=[{"sco": 1}],
        progress=False,
    )
    assert find_mix(sweep, {"sco": 5}) is sweep[1] and sweep[1].models and not sweep[0].models
    with pytest.raises(ValueError, match="no result at mix"):
        find_mix(sweep, {"us": 1})
    view = AnnotatorMixView(**sweep_view_data(sweep, result.reports["sft"]))
    assert view.stages == ["sft", "dpo"] and view.metrics == list(METRICS)
    assert len(view.mixes) == 2 and view.higher_is_better["perplexity"] is False
    assert view.gap("accuracy", "dpo", 0) == pytest.approx(
        sweep[0].reports["dpo"].gap("accuracy").gap, abs=1e-6
    )
