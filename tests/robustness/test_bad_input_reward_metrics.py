"""Bad inputs to the reward-model measurements and the bias lab: texts, rows and their columns,
pairs longer than the model, Z vectors, lab settings and reports; each error names the
argument, the column or the row."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import GPT2Config, GPT2ForSequenceClassification

from toolkit.notebook_training import quiet_cpu_args
from toolkit.rewards import lab
from toolkit.rewards.lab import (
    RewardModelReport,
    best_of_n,
    evaluate_reward_model,
    lab_rows,
    sample_reviews,
    sentence_count,
    sweep_view_data,
    train_reward_model,
)
from toolkit.rewards.metrics import (
    counterfactual_gap,
    preference_accuracy,
    reward_scores,
    z_correlation,
)
from toolkit.zoo.tiny import tiny_gpt2, tiny_tokenizer

FAST = settings(max_examples=25, deadline=None)
ROW = {"prompt": "Your view?", "chosen": " Good.", "rejected": " Bad."}


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


def reward_model(tokenizer, n_positions=16):
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=n_positions,
        n_embd=8,
        n_layer=1,
        n_head=1,
        num_labels=1,
        pad_token_id=tokenizer.pad_token_id,
    )
    return GPT2ForSequenceClassification(config).eval()


@pytest.fixture(scope="module")
def model(tokenizer):
    return reward_model(tokenizer)


@pytest.mark.parametrize(
    ("prompts", "responses", "error", "match"),
    [
        ("Your view?", " Good.", TypeError, "prompts must be a sequence of str, got one str"),
        (["Your view?"], " Good.", TypeError, "responses must be a sequence of str, got one"),
        (None, [" Good."], TypeError, "prompts"),
        ([], [], ValueError, "prompts must not be empty"),
        (["a", None], [" b", " c"], TypeError, r"prompts\[1\]"),
        (["a"], [3], TypeError, r"responses\[0\]"),
        (["a", "b"], [" c"], ValueError, "prompts and responses must have one length: 2 vs 1"),
        ({"a": 1}, [" c"], TypeError, "prompts"),
    ],
)
def test_reward_scores_names_the_bad_texts(model, tokenizer, prompts, responses, error, match):
    with pytest.raises(error, match=match):
        reward_scores(model, tokenizer, prompts, responses)


@pytest.mark.parametrize(
    ("batch_size", "error"),
    [(0, ValueError), (-2, ValueError), (2.5, TypeError), (True, TypeError)],
)
def test_reward_scores_checks_batch_size(model, tokenizer, batch_size, error):
    with pytest.raises(error, match="batch_size"):
        reward_scores(model, tokenizer, ["a"], [" b"], batch_size=batch_size)


def test_reward_scores_checks_model_and_tokenizer(model, tokenizer):
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        reward_scores("gpt2", tokenizer, ["a"], [" b"])
    with pytest.raises(TypeError, match="tokenizer must be a Hugging Face tokenizer"):
        reward_scores(model, None, ["a"], [" b"])


@FAST
@given(repeats=st.integers(4, 40), row=st.integers(0, 3))
def test_a_pair_longer_than_the_model_is_named_before_scoring(model, tokenizer, repeats, row):
    responses = [" Good."] * 4
    responses[row] = " The film was wonderful." * repeats
    model.train()
    try:
        with pytest.raises(ValueError, match=rf"pair {row} \(prompts\[{row}\] \+ responses"):
            reward_scores(model, tokenizer, ["Q"] * 4, responses, batch_size=1)
        assert model.training, "a refused call leaves the model's mode as it was"
    finally:
        model.eval()


@FAST
@given(prompt=st.text(max_size=4), response=st.text(max_size=4))
def test_odd_unicode_gives_a_finite_reward_or_names_the_long_pair(
    model, tokenizer, prompt, response
):
    n_tokens = len(tokenizer(prompt + response + tokenizer.eos_token)["input_ids"])
    if n_tokens > 16:
        with pytest.raises(ValueError, match=r"pair 0 .* context of 16"):
            reward_scores(model, tokenizer, [prompt], [response])
    else:
        scores = reward_scores(model, tokenizer, [prompt], [response])
        assert scores.shape == (1,) and torch.isfinite(scores).all()


@pytest.mark.parametrize(
    ("rows", "error", "match"),
    [
        ([], ValueError, "rows must not be empty"),
        (None, TypeError, "rows must be a sequence of dicts"),
        ("prompt,chosen,rejected", TypeError, "rows must be a sequence of dicts"),
        (ROW, TypeError, "rows must be a sequence of dicts"),
        ([("a", "b", "c")], TypeError, r"rows\[0\] must be a dict"),
        ([ROW, {"prompt": "a", "chosen": " b"}], ValueError, r"rows\[1\] has no column 'rejected'"),
        ([dict(ROW, chosen=math.nan)], TypeError, r"rows\[0\]\['chosen'\] must be a str"),
        ([dict(ROW, rejected=None)], TypeError, r"rows\[0\]\['rejected'\]"),
    ],
)
def test_preference_accuracy_names_the_row_and_column(model, tokenizer, rows, error, match):
    with pytest.raises(error, match=match):
        preference_accuracy(model, tokenizer, rows)


def test_a_missing_column_lists_the_columns_the_row_has(model, tokenizer):
    with pytest.raises(ValueError, match=r"has \['chosen', 'prompt'\].*needs"):
        preference_accuracy(model, tokenizer, [{"prompt": "a", "chosen": " b"}])
    with pytest.raises(ValueError, match=r"rows\[0\] has no column 'counterfactual'"):
        counterfactual_gap(model, tokenizer, [{"prompt": "a", "original": " b"}])


def test_good_rows_still_measure(model, tokenizer):
    assert 0.0 <= preference_accuracy(model, tokenizer, [ROW, ROW]) <= 1.0
    gap = counterfactual_gap(
        model, tokenizer, [{"prompt": "a", "original": " b", "counterfactual": " b"}]
    )
    assert gap == {"gap": 0.0, "shift": 0.0}


@FAST
@given(value=st.floats(-10, 10), n=st.integers(2, 6))
def test_a_constant_input_warns_and_gives_nan(value, n):
    rewards = torch.linspace(0, 1, n)
    with pytest.warns(RuntimeWarning, match="z is constant"):
        assert math.isnan(z_correlation(rewards, [value] * n))
    with pytest.warns(RuntimeWarning, match="rewards is constant"):
        assert math.isnan(z_correlation(torch.full((n,), value), list(range(n))))


@FAST
@given(bad=st.sampled_from([math.nan, math.inf, -math.inf]), at=st.integers(0, 3))
def test_z_correlation_names_a_non_finite_value(bad, at):
    z = [0.0, 1.0, 0.0, 1.0]
    z[at] = bad
    with pytest.raises(ValueError, match=rf"z\[{at}\] is"):
        z_correlation(torch.arange(4.0), z)
    with pytest.raises(ValueError, match=rf"rewards\[{at}\] is"):
        z_correlation(z, [0, 1, 0, 1])


@pytest.mark.parametrize(
    ("rewards", "z", "error", "match"),
    [
        (torch.arange(3.0), ["a", "b", "c"], TypeError, "z must be a sequence of numbers"),
        (None, [0, 1], TypeError, "rewards must be a sequence of numbers"),
        (torch.ones(3, 2), [0, 1, 0], ValueError, "rewards must be 1-D"),
        (torch.arange(3.0), [0, 1], ValueError, "rewards and z must have one length"),
        ([1.0], [0], ValueError, "at least 2"),
    ],
)
def test_z_correlation_names_the_bad_argument(rewards, z, error, match):
    with pytest.raises(error, match=match):
        z_correlation(rewards, z)


def test_z_correlation_takes_lists_and_bools():
    assert z_correlation([1.0, 2.0, 3.0, 4.0], [False, False, True, True]) == pytest.approx(
        0.894427, rel=1e-5
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"bias": "tone"}, ValueError, "bias"),
        ({"n": 0}, ValueError, "n must be >= 1"),
        ({"n": 2.5}, TypeError, "n must be an int"),
        ({"split": "val"}, ValueError, "split"),
        ({"n_bins": 0}, ValueError, "n_bins"),
        ({"bias": "concept", "n_bins": "4"}, TypeError, "n_bins"),
        ({"scheme": "log"}, ValueError, "scheme"),
        ({"seed": 1.0}, TypeError, "seed"),
    ],
)
def test_lab_rows_names_the_bad_setting(kwargs, error, match):
    with pytest.raises(error, match=match):
        lab_rows(**{"bias": "length", "n": 8, "seed": 0, **kwargs})


@pytest.fixture
def no_backbone(monkeypatch):
    def refuse(backbone):
        raise AssertionError("the backbone must not load before the arguments are checked")

    monkeypatch.setattr(lab, "load_reward_model", refuse)


@pytest.mark.parametrize(
    ("rows", "kwargs", "error", "match"),
    [
        ("rows", {}, TypeError, "rows must be a sequence of dicts"),
        ([ROW], {}, ValueError, r"rows\[0\] has no column 'z_bin_chosen'"),
        (None, {}, TypeError, "rows"),
        ("lab", {"steps": 0}, ValueError, "steps"),
        ("lab", {"batch_size": 0}, ValueError, "batch_size"),
        ("lab", {"learning_rate": 0.0}, ValueError, "learning_rate"),
        ("lab", {"learning_rate": math.nan}, ValueError, "learning_rate"),
        ("lab", {"seed": -1}, ValueError, "seed"),
        ("lab", {"mmd_lambda": -1.0}, ValueError, "mmd_lambda"),
        ("lab", {"mmd_variant": "both"}, ValueError, "mmd_variant"),
    ],
)
def test_train_reward_model_checks_before_loading(no_backbone, rows, kwargs, error, match):
    rows = lab_rows("sycophancy", 4, 0) if rows == "lab" else rows
    with pytest.raises(error, match=match):
        train_reward_model("tiny-gpt2", rows, **kwargs)


def test_train_reward_model_still_trains(monkeypatch, tokenizer):
    fresh = reward_model(tokenizer, n_positions=128)
    monkeypatch.setattr(lab, "load_reward_model", lambda backbone: (fresh, tokenizer))
    trained, _, history = train_reward_model(
        "tiny", lab_rows("sycophancy", 8, 0), steps=2, batch_size=4
    )
    assert not trained.training and history


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("length", 0, 0), ValueError, "n must be >= 1"),
        (("length", "8", 0), TypeError, "n must be an int"),
        (("tone", 4, 0), ValueError, "bias"),
    ],
)
def test_evaluate_reward_model_names_the_bad_setting(model, tokenizer, args, error, match):
    with pytest.raises(error, match=match):
        evaluate_reward_model(model, tokenizer, *args)


def report(**fields):
    values = dict(
        accuracy_iid=0.9, accuracy_deconfounded=0.6, z_correlation=0.2, counterfactual_gap=0.1,
        counterfactual_shift=-0.1, rewards=(1.0, 2.0), z=(0, 1),
    )  # fmt: skip
    return RewardModelReport(**{**values, **fields})


@pytest.mark.parametrize(
    ("fields", "error", "match"),
    [
        ({"accuracy_iid": 1.5}, ValueError, "accuracy_iid"),
        ({"accuracy_deconfounded": math.nan}, ValueError, "accuracy_deconfounded"),
        ({"z_correlation": 2.0}, ValueError, "z_correlation"),
        ({"z_correlation": "0.2"}, TypeError, "z_correlation"),
        ({"counterfactual_gap": -0.1}, ValueError, "counterfactual_gap"),
        ({"counterfactual_shift": math.inf}, ValueError, "counterfactual_shift"),
        ({"z": (0,)}, ValueError, "rewards and z must have one length"),
    ],
)
def test_report_names_the_bad_field(fields, error, match):
    with pytest.raises(error, match=match):
        report(**fields)


def test_report_keeps_an_undefined_correlation():
    assert math.isnan(report(z_correlation=math.nan).z_correlation)


@pytest.mark.parametrize(
    ("reports", "error", "match"),
    [
        ({}, ValueError, "reports must not be empty"),
        ([report()], TypeError, "reports must be a dict"),
        ({("length", "vanilla"): report()}, TypeError, r"\(bias, variant, λ\) tuples"),
        ({("length", "unconditional", -1.0): report()}, ValueError, "λ of reports key"),
        ({("length", "unconditional", math.nan): report()}, ValueError, "λ of reports key"),
        ({("", "unconditional", 1.0): report()}, ValueError, "bias of reports key"),
        ({("length", None, 1.0): report()}, TypeError, "variant of reports key"),
        ({("length", "unconditional", 1.0): 0.5}, TypeError, "must be a RewardModelReport"),
        ({("length", "vanilla", 1.0): report()}, ValueError, "vanilla model is the λ = 0 end"),
        ({("length", "vanilla", 0.0): report()}, ValueError, "only the vanilla model"),
    ],
)
def test_sweep_view_data_names_the_bad_report(reports, error, match):
    with pytest.raises(error, match=match):
        sweep_view_data(reports)


@pytest.fixture(scope="module")
def lm(tokenizer):
    return tiny_gpt2(tokenizer, n_embd=8, n_layer=1, n_head=1, n_positions=16).eval()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 0}, ValueError, "n must be >= 1"),
        ({"n": None}, TypeError, "n must be an int"),
        ({"max_new_tokens": 0}, ValueError, "max_new_tokens"),
        ({"max_new_tokens": 16}, ValueError, "max_new_tokens=16 has 17 tokens .* context of 16"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_sample_reviews_names_the_bad_setting(lm, tokenizer, kwargs, error, match):
    with pytest.raises(error, match=match):
        sample_reviews(lm, tokenizer, **{"n": 2, "max_new_tokens": 4, **kwargs})


@pytest.mark.parametrize(
    ("prompts", "candidates", "error", "match"),
    [
        (["p"], " a.", TypeError, "candidates must be a list of lists"),
        (["p"], [" a."], TypeError, r"candidates\[0\] must be a sequence of str, got one str"),
        (["p"], [[]], ValueError, r"candidates\[0\] must not be empty"),
        (["p", "q"], [[" a."]], ValueError, "one list per prompt: 1 vs 2"),
        ("p", [[" a."]], TypeError, "prompts"),
    ],
)
def test_best_of_n_names_the_bad_group(model, tokenizer, prompts, candidates, error, match):
    with pytest.raises(error, match=match):
        best_of_n(model, tokenizer, prompts, candidates)


@pytest.mark.parametrize("bad", [None, 3, [" a."], b"a."])
def test_sentence_count_wants_a_str(bad):
    with pytest.raises(TypeError, match="text must be a str"):
        sentence_count(bad)


@pytest.mark.parametrize(("steps", "error"), [(0, ValueError), (2.0, TypeError), ("5", TypeError)])
def test_quiet_cpu_args_checks_steps(steps, error):
    with pytest.raises(error, match="steps"):
        quiet_cpu_args(steps)
