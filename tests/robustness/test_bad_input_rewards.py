"""Bad inputs to the causal reward model: config fields, MMD estimators, Z binning and the
trainer's dataset columns; each error names the field, argument, column or row."""

import math
import warnings

import pytest
import torch
from datasets import Dataset
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import GPT2Config, GPT2ForSequenceClassification

from toolkit.rewards.binning import categorical_bins, continuous_bins
from toolkit.rewards.causal_reward_config import CausalRewardConfig
from toolkit.rewards.causal_reward_trainer import CausalRewardTrainer
from toolkit.rewards.mmd import binned_mmd_penalty, mmd2_biased, mmd2_unbiased
from toolkit.zoo.tiny import tiny_tokenizer

FAST = settings(max_examples=25, deadline=None)
SAMPLES = st.lists(st.floats(-5, 5), min_size=2, max_size=8)


def config(tmp_path="/tmp/unused", **fields):
    return CausalRewardConfig(output_dir=str(tmp_path), use_cpu=True, report_to="none", **fields)


@FAST
@given(
    lam=st.one_of(st.floats(max_value=0, exclude_max=True), st.just(math.inf), st.just(math.nan))
)
def test_config_refuses_a_negative_or_non_finite_lambda(lam):
    with pytest.raises(ValueError, match="mmd_lambda"):
        config(mmd_lambda=lam)


@FAST
@given(bandwidth=st.one_of(st.floats(max_value=0), st.just(math.inf), st.just(math.nan)))
def test_config_refuses_a_non_positive_bandwidth(bandwidth):
    with pytest.raises(ValueError, match="mmd_bandwidth"):
        config(mmd_bandwidth=bandwidth)


@pytest.mark.parametrize(
    ("fields", "error", "match"),
    [
        ({"mmd_lambda": "1"}, TypeError, "mmd_lambda"),
        ({"mmd_lambda": None}, TypeError, "mmd_lambda"),
        ({"mmd_lambda": True}, TypeError, "mmd_lambda"),
        ({"mmd_bandwidth": "median"}, TypeError, "mmd_bandwidth"),
        ({"mmd_variant": "both"}, ValueError, "mmd_variant"),
        ({"mmd_variant": None}, ValueError, "mmd_variant"),
        ({"mmd_on": "logits"}, ValueError, "mmd_on"),
        ({"mmd_estimator": "plugin"}, ValueError, "mmd_estimator"),
    ],
)
def test_config_names_the_bad_field(fields, error, match):
    with pytest.raises(error, match=match):
        config(**fields)


def test_representation_penalty_without_clipping_warns():
    with pytest.warns(UserWarning, match="max_grad_norm"):
        config(mmd_on="representation", max_grad_norm=0.0)


@FAST
@given(x=SAMPLES, y=SAMPLES, bandwidth=st.floats(0.1, 5))
def test_biased_mmd_is_the_unbiased_one_plus_the_diagonal_terms_and_never_negative(x, y, bandwidth):
    x, y = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    biased, unbiased = mmd2_biased(x, y, bandwidth), mmd2_unbiased(x, y, bandwidth)
    assert biased >= 0

    def off_diagonal_mean(a):
        k = torch.exp(-((a[:, None] - a[None, :]) ** 2) / (2 * bandwidth**2))
        return (k.sum() - len(a)) / (len(a) * (len(a) - 1))

    expected = unbiased + (1 - off_diagonal_mean(x)) / len(x) + (1 - off_diagonal_mean(y)) / len(y)
    assert biased.item() == pytest.approx(max(expected.item(), 0.0), abs=1e-7)


def test_the_unbiased_estimate_can_be_negative_and_the_biased_one_not():
    x, y = torch.tensor([0.0, 1.0]), torch.tensor([0.0, 1.0])
    assert mmd2_unbiased(x, y, 1.0) < 0
    assert mmd2_biased(x, y, 1.0) == 0


V = torch.randn(8)
BINS = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mmd2_unbiased([1.0, 2.0], V), TypeError, "x must be a floating-point tensor"),
        (lambda: mmd2_unbiased(V, torch.arange(3)), TypeError, "y must be a floating-point"),
        (lambda: mmd2_unbiased(V[:1], V), ValueError, "x has 1 sample"),
        (lambda: mmd2_unbiased(V, V.double()), ValueError, "x is torch.float32"),
        (lambda: mmd2_unbiased(torch.randn(3, 0), torch.randn(3, 0)), ValueError, "x must be"),
        (lambda: mmd2_unbiased(V, V, math.inf), ValueError, "bandwidth"),
        (lambda: mmd2_unbiased(V, V, "1"), TypeError, "bandwidth"),
        (lambda: mmd2_unbiased(V, V, torch.tensor(-1.0)), ValueError, "bandwidth"),
        (lambda: mmd2_biased(V, torch.tensor([math.nan])), ValueError, "y holds NaN"),
        (lambda: binned_mmd_penalty(V, [0] * 8), TypeError, "bins must be"),
        (lambda: binned_mmd_penalty(V, BINS.float()), TypeError, "bins must hold integer"),
        (lambda: binned_mmd_penalty(V, -BINS), ValueError, r"bins\[2\] = -1"),
        (lambda: binned_mmd_penalty(V, BINS[:5]), ValueError, "one per value"),
        (lambda: binned_mmd_penalty(V, BINS, min_count=1), ValueError, "min_count"),
        (lambda: binned_mmd_penalty(V, BINS, min_count=2.5), TypeError, "min_count"),
        (lambda: binned_mmd_penalty(V, BINS, estimator="plugin"), ValueError, "estimator"),
        (lambda: binned_mmd_penalty(V.fill_(math.nan), BINS), ValueError, "values holds NaN"),
    ],
)
def test_mmd_names_the_bad_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


@FAST
@given(n_bins=st.one_of(st.integers(max_value=0), st.integers(min_value=6)))
def test_n_bins_out_of_range_is_named(n_bins):
    with pytest.raises(ValueError, match="n_bins"):
        continuous_bins([1, 2, 3, 4, 5], n_bins)


@FAST
@given(bad=st.sampled_from([math.nan, math.inf, -math.inf]), row=st.integers(0, 4))
def test_non_finite_z_names_the_row(bad, row):
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    values[row] = bad
    with pytest.raises(ValueError, match=rf"values\[{row}\]"):
        continuous_bins(values, 2)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: continuous_bins(None, 2), TypeError, "values must be a sequence"),
        (lambda: continuous_bins("12", 2), TypeError, "values must be a sequence"),
        (lambda: continuous_bins([], 2), ValueError, "empty"),
        (lambda: continuous_bins([1, "2"], 2), TypeError, r"values\[1\]"),
        (lambda: continuous_bins([1, None], 2), ValueError, r"\[1\] have no Z"),
        (lambda: continuous_bins([1, 2], 2.0), TypeError, "n_bins"),
        (lambda: continuous_bins([1, 2], 2, "log"), ValueError, "scheme"),
        (lambda: categorical_bins([[1], [2]]), TypeError, r"values\[0\]"),
        (lambda: categorical_bins([math.nan, 1.0]), ValueError, r"values\[0\] is NaN"),
        (lambda: categorical_bins([1, "1"]), TypeError, "mix kinds"),
        (lambda: categorical_bins([True, 1]), TypeError, "mix kinds"),
    ],
)
def test_binning_names_the_bad_value(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_constant_z_and_tied_quantiles_warn_and_keep_values_apart():
    with pytest.warns(UserWarning, match="one bin"):
        assert continuous_bins([3, 3, 3], 2) == [0, 0, 0]
    with pytest.warns(UserWarning, match="one bin"):
        assert categorical_bins(["a", "a"]) == ([0, 0], ["a"])
    with pytest.warns(UserWarning, match="2 distinct bins"):
        assert continuous_bins([1, 1, 1, 1, 5], 4, "quantile") == [0, 0, 0, 0, 1]


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


def trainer(tokenizer, tmp_path, rows, n_positions=64):
    torch.manual_seed(0)
    model = GPT2ForSequenceClassification(
        GPT2Config(
            vocab_size=len(tokenizer),
            n_embd=16,
            n_layer=1,
            n_head=2,
            n_positions=n_positions,
            num_labels=1,
            pad_token_id=tokenizer.pad_token_id,
        )  # fmt: skip
    )
    args = config(tmp_path, max_steps=1, per_device_train_batch_size=2, save_strategy="no")
    return CausalRewardTrainer(
        model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer
    )


def row(**changes):
    return {
        "prompt": "What did you think?",
        "chosen": " Great film.",
        "rejected": " Dull film.",
        "z_bin_chosen": 1,
        "z_bin_rejected": 0,
        **changes,
    }


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"z_bin_chosen": -1}, "example 1: z_bin_chosen is -1; bins must be >= 0"),
        ({"z_bin_rejected": 1.5}, "z_bin_rejected is 0.0; expected an integer"),  # a float column
        ({"z_bin_rejected": None}, "example 1: z_bin_rejected is None"),
        ({"chosen": ""}, "example 1: chosen"),
        ({"rejected": None}, "example 1: rejected"),
    ],
)
def test_trainer_names_the_bad_column_and_row(tokenizer, tmp_path, bad, match):
    with pytest.raises(ValueError, match=match):
        trainer(tokenizer, tmp_path, [row(), row(**bad), row()])


def test_trainer_needs_the_z_columns_and_its_config(tokenizer, tmp_path):
    rows = [{k: v for k, v in row().items() if k != "z_bin_rejected"}] * 2
    with pytest.raises(ValueError, match="'z_bin_rejected' column"):
        trainer(tokenizer, tmp_path, rows)
    with pytest.raises(TypeError, match="CausalRewardConfig"):
        CausalRewardTrainer(None, args=None)


def test_pairs_longer_than_the_model_are_dropped_with_a_warning(tokenizer, tmp_path):
    long = row(chosen=" Great film." * 40)
    with pytest.warns(UserWarning, match="1 of 3 pairs are longer than max_length=64"):
        t = trainer(tokenizer, tmp_path, [row(), long, row()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t.train()  # the model never sees more than its 64 positions
    with pytest.raises(ValueError, match="all 2 pairs are longer"):
        trainer(tokenizer, tmp_path, [long, long])
