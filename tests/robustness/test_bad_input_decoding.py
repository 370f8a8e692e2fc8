"""Bad inputs to decoding-time alignment: DeALConfig fields, heuristics and their outputs,
prompts, models and baselines; each error names the parameter, before any decoding."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.decoding import (
    CallableHeuristic,
    DeALConfig,
    KeywordCoverage,
    LengthInRange,
    RewardModelHeuristic,
    SentimentHeuristic,
    WeightedSum,
    beam_generate,
    best_of_n,
    deal_generate,
    greedy_generate,
    keyword_coverage,
    sample_generate,
)
from toolkit.zoo.tiny import tiny_gpt2, tiny_tokenizer

FAST = settings(max_examples=25, deadline=None)


@pytest.fixture(scope="module")
def lm():
    tokenizer = tiny_tokenizer()
    return tiny_gpt2(tokenizer, n_positions=32).eval(), tokenizer


@FAST
@given(k=st.integers(max_value=0))
def test_config_refuses_top_k_below_one(k):
    with pytest.raises(ValueError, match="top_k"):
        DeALConfig(top_k=k)


@FAST
@given(l=st.integers(max_value=-1))
def test_config_refuses_a_negative_lookahead(l):  # noqa: E741
    with pytest.raises(ValueError, match="lookahead"):
        DeALConfig(lookahead=l)


def test_config_refuses_more_beams_than_actions():
    with pytest.raises(ValueError, match="beam_width must be <= top_k"):
        DeALConfig(top_k=2, beam_width=3)


@FAST
@given(
    lam=st.one_of(st.floats(max_value=0, exclude_max=True), st.sampled_from([math.nan, math.inf]))
)
def test_config_refuses_a_nan_infinite_or_negative_lambda(lam):
    with pytest.raises(ValueError, match="lam"):
        DeALConfig(lam=lam)


@pytest.mark.parametrize(
    "fields, name",
    [
        (dict(top_k=2.0), "top_k"),
        (dict(top_k=True), "top_k"),
        (dict(lookahead="4"), "lookahead"),
        (dict(lam="1"), "lam"),
        (dict(max_new_tokens=None), "max_new_tokens"),
        (dict(seed=0.5), "seed"),
        (dict(trace=1), "trace"),
    ],
)
def test_config_refuses_wrong_types(fields, name):
    with pytest.raises(TypeError, match=name):
        DeALConfig(**fields)


@pytest.mark.parametrize(
    "fields, name",
    [
        (dict(max_new_tokens=0), "max_new_tokens"),
        (dict(max_new_tokens=4, min_new_tokens=5), "min_new_tokens"),
        (dict(min_new_tokens=-1), "min_new_tokens"),
        (dict(temperature=0.0), "temperature"),
        (dict(temperature=math.nan), "temperature"),
        (dict(lookahead_mode="beam"), "lookahead_mode"),
        (dict(impl="fast"), "impl"),
        (dict(beam_width=0), "beam_width"),
    ],
)
def test_config_refuses_wrong_values(fields, name):
    with pytest.raises(ValueError, match=name):
        DeALConfig(**fields)


@pytest.mark.parametrize(
    "keywords, error",
    [([], ValueError), ("plot", TypeError), (["plot", ""], ValueError), (["plot", 3], TypeError)],
)
def test_keyword_lists_must_be_non_empty_lists_of_words(keywords, error):
    with pytest.raises(error, match="keywords"):
        KeywordCoverage(keywords)


@pytest.mark.parametrize(
    "low, high, error, name",
    [
        (-1, 5, ValueError, "low"),
        (5, 3, ValueError, "high"),
        (0, 0, ValueError, "high"),
        (1.5, 3, TypeError, "low"),
    ],
)
def test_length_range_is_checked(low, high, error, name):
    with pytest.raises(error, match=name):
        LengthInRange(low, high)


def test_heuristic_constructors_refuse_wrong_types():
    with pytest.raises(TypeError, match="reward"):
        SentimentHeuristic("probe")
    with pytest.raises(TypeError, match="fn"):
        CallableHeuristic(None)
    with pytest.raises(TypeError, match="model"):
        RewardModelHeuristic("rm", None)
    with pytest.raises(ValueError, match="terms"):
        WeightedSum([])
    with pytest.raises(ValueError, match="weight"):
        KeywordCoverage(["plot"]) * math.nan
    with pytest.raises(TypeError, match="other"):
        KeywordCoverage(["plot"]) + (lambda p, t: t)


@pytest.mark.parametrize(
    "output, error, match",
    [
        (lambda n: torch.full((n,), math.nan), ValueError, "must be finite"),
        (lambda n: torch.full((n,), math.inf), ValueError, "must be finite"),
        (lambda n: torch.zeros(n + 1), ValueError, "shape"),
        (lambda n: torch.zeros(n, 1), ValueError, "shape"),
        (lambda n: "high", TypeError, "must return a tensor"),
        (lambda n: None, TypeError, "must return a tensor"),
    ],
)
def test_a_heuristic_returning_nan_or_the_wrong_shape_is_named(lm, output, error, match):
    h = CallableHeuristic(lambda prompts, texts: output(len(texts)), name="mine")
    with pytest.raises(error, match=f"'mine'.*{match}|{match}.*'mine'|'mine'"):
        deal_generate(*lm, ["The film"], h, DeALConfig(max_new_tokens=3))


def test_deal_generate_refuses_bad_arguments_before_decoding(lm):
    model, tokenizer = lm
    h = KeywordCoverage(["plot"])
    with pytest.raises(TypeError, match="heuristics"):
        deal_generate(model, tokenizer, ["x"], lambda p, t: t)
    with pytest.raises(TypeError, match="config"):
        deal_generate(model, tokenizer, ["x"], h, {"top_k": 2})
    with pytest.raises(TypeError, match="prompts"):
        deal_generate(model, tokenizer, "The film", h)
    with pytest.raises(ValueError, match="prompts"):
        deal_generate(model, tokenizer, [], h)
    with pytest.raises(ValueError, match=r"prompts\[1\]"):
        deal_generate(model, tokenizer, ["ok", "  "], h)
    with pytest.raises(TypeError, match="model"):
        deal_generate("gpt2", tokenizer, ["x"], h)
    with pytest.raises(TypeError, match="tokenizer"):
        deal_generate(model, "gpt2", ["x"], h)


def test_a_prompt_longer_than_the_context_is_refused(lm):
    model, tokenizer = lm
    long = "The film was good. " * 40
    for call in (
        lambda: deal_generate(model, tokenizer, ["ok", long], KeywordCoverage(["plot"])),
        lambda: greedy_generate(model, tokenizer, [long]),
    ):
        with pytest.raises(ValueError, match=r"prompts\[\d\].*context of 32"):
            call()
    with pytest.raises(ValueError, match="max_new_tokens"):
        deal_generate(
            model, tokenizer, ["ok"], KeywordCoverage(["plot"]), DeALConfig(max_new_tokens=40)
        )


def test_baselines_check_their_arguments(lm):
    model, tokenizer = lm
    with pytest.raises(ValueError, match="n must be"):
        sample_generate(model, tokenizer, ["x"], n=0, max_new_tokens=4)
    with pytest.raises(ValueError, match="temperature"):
        sample_generate(model, tokenizer, ["x"], temperature=-1.0, max_new_tokens=4)
    with pytest.raises(ValueError, match="num_beams"):
        beam_generate(model, tokenizer, ["x"], num_beams=0, max_new_tokens=4)
    with pytest.raises(TypeError, match="heuristics"):
        best_of_n(model, tokenizer, ["x"], None)
    with pytest.raises(ValueError, match="max_new_tokens"):
        greedy_generate(model, tokenizer, ["x"], max_new_tokens=0)
    with pytest.raises(ValueError, match="texts"):
        keyword_coverage(["plot"], [])
