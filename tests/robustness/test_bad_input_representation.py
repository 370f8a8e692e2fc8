"""Bad input at every public entry point of ``toolkit.representation``: a ``TypeError`` or
``ValueError`` naming the argument (group, field, row, index), or the documented
``DistributionWarning`` and a normalized result for a distribution that does not sum to 1."""

import math
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.representation import (
    FILM_SURVEY,
    Budget,
    DistributionWarning,
    SurveyQuestion,
    annotator_pool,
    best_worst_gap,
    check_distribution,
    dialect_corpus,
    evaluation_set,
    group_similarity,
    load_global_opinions,
    most_similar_group,
    normalize_mix,
    opinion_similarity,
    option_scores,
    pool_shares,
    preference_pairs,
    reward,
    reweight_pool,
    to_dialect,
    utility,
    word_alignment,
)

# ------------------------------------------------------------ distributions


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=0.01, max_value=100), min_size=2, max_size=6))
def test_any_positive_vector_is_normalized_with_a_warning_or_silently(values):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        probs = check_distribution("answers", values)
    assert sum(probs) == pytest.approx(1.0)
    off = abs(sum(values) - 1) > 1e-6
    assert bool(caught) == off
    if caught:
        assert issubclass(caught[0].category, DistributionWarning)
        assert "answers sums to" in str(caught[0].message)


@pytest.mark.parametrize(
    ("values", "error", "match"),
    [
        ([0.5, -0.5, 1.0], ValueError, r"answers\[1\] is -0.5; a probability must be >= 0"),
        ([0.0, 0.0], ValueError, "answers is all zero"),
        ([0.5, math.nan], ValueError, r"answers\[1\] must be a finite number"),
        ([0.5, math.inf], ValueError, r"answers\[1\] must be a finite number"),
        ([], ValueError, "answers is empty"),
        ("0.5,0.5", TypeError, "answers must be a sequence of probabilities"),
        ({"a": 1.0}, TypeError, "answers must be a sequence"),
        ([0.5, "0.5"], TypeError, r"answers\[1\] must be a number"),
        ([True, False], TypeError, r"answers\[0\] must be a number"),
    ],
)
def test_bad_distributions_are_refused(values, error, match):
    with pytest.raises(error, match=match):
        check_distribution("answers", values)


def test_similarity_of_mismatched_lengths_names_the_argument():
    with pytest.raises(ValueError, match="q has 3 values for 2 options"):
        opinion_similarity([0.5, 0.5], [0.2, 0.3, 0.5])


# ------------------------------------------------------------------- mixes


@pytest.mark.parametrize(
    ("mix", "error", "match"),
    [
        (
            {"us": 0.8, "fr": 0.2},
            ValueError,
            r"unknown group\(s\) \['fr'\]; the groups are \['us', 'gb', 'sco'\]",
        ),
        (
            {"us": -0.1, "gb": 1.1},
            ValueError,
            r"mix\['us'\] is -0.1; a mix weight must be a finite number >= 0",
        ),
        ({"us": 0, "gb": 0, "sco": 0}, ValueError, "mix is all zero"),
        ({}, ValueError, "mix is empty"),
        ({"us": math.nan}, ValueError, r"mix\['us'\] is nan"),
        ({"us": math.inf}, ValueError, r"mix\['us'\] is inf"),
        ({"us": "80%"}, TypeError, r"mix\['us'\] must be a number"),
        ({"us": True}, TypeError, r"mix\['us'\] must be a number"),
        ([0.8, 0.15, 0.05], TypeError, "mix must be a mapping group -> weight"),
    ],
)
def test_bad_mixes_are_refused(mix, error, match):
    with pytest.raises(error, match=match):
        normalize_mix(mix)
    with pytest.raises(error, match=match):
        annotator_pool(mix, 10, seed=0)


def test_mixes_are_relative_weights():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert normalize_mix({"us": 80, "gb": 15, "sco": 5}) == pytest.approx(
            {"us": 0.8, "gb": 0.15, "sco": 0.05}
        )


@settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["us", "gb", "sco"]), st.floats(min_value=0, max_value=10), min_size=1
    ),
    st.integers(min_value=1, max_value=60),
)
def test_pool_quotas_are_within_one_of_the_mix(mix, n):
    if sum(mix.values()) <= 0:
        with pytest.raises(ValueError, match="all zero"):
            annotator_pool(mix, n, seed=0)
        return
    shares = pool_shares(annotator_pool(mix, n, seed=0))
    for group, share in normalize_mix(mix).items():
        assert abs(shares[group] * n - share * n) <= 1 + 1e-9


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: annotator_pool({"us": 1}, 0, seed=0), ValueError, "n must be >= 1"),
        (lambda: annotator_pool({"us": 1}, 10.0, seed=0), TypeError, "n must be an int"),
        (
            lambda: preference_pairs("fr", 3, seed=0),
            ValueError,
            "group must be one of 'us', 'gb', 'sco'",
        ),
        (lambda: preference_pairs("us", -1, seed=0), ValueError, "n must be >= 0"),
        (
            lambda: preference_pairs("us", 3, seed=0, split="dev"),
            ValueError,
            "split must be one of",
        ),
        (lambda: utility("us", "plot", "a horror film"), ValueError, "genre must be one of"),
        (lambda: utility("nobody", "plot", "a western"), ValueError, "group must be one of"),
        (lambda: reward("xx", "text"), ValueError, "group must be one of"),
        (lambda: pool_shares([]), TypeError, "rows must be a non-empty list"),
        (lambda: pool_shares([{"prompt": "x"}]), ValueError, r"rows\[0\] has no 'group' column"),
        (
            lambda: pool_shares([{"group": "fr"}]),
            ValueError,
            r"rows\[0\]\['group'\] must be one of",
        ),
        (
            lambda: reweight_pool(annotator_pool({"us": 1}, 10, 0)),
            ValueError,
            r"group\(s\) \['gb', 'sco'\] a positive share but rows have none",
        ),
        (
            lambda: reweight_pool(annotator_pool({"us": 1}, 10, 0), {"us": -1}),
            ValueError,
            r"target\['us'\] is -1",
        ),
        (
            lambda: dialect_corpus(10, 0, shares={"klingon": 1}),
            ValueError,
            r"unknown group\(s\) \['klingon'\]",
        ),
        (lambda: to_dialect("text", "en"), ValueError, "dialect must be one of 'us', 'gb', 'sco'"),
        (lambda: to_dialect(None, "us"), TypeError, "text must be a str"),
        (lambda: word_alignment(b"bytes", "us"), TypeError, "text must be a str"),
        (lambda: Budget(sft_steps=0), ValueError, "sft_steps must be >= 1"),
        (lambda: Budget(beta=-1.0), ValueError, "beta must be > 0"),
        (lambda: evaluation_set(0, 4, 0), ValueError, "n_texts must be >= 1"),
    ],
)
def test_groups_pools_and_dialects(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------- metrics


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: best_worst_gap({}), ValueError, "values is empty"),
        (
            lambda: best_worst_gap({"us": math.nan}),
            ValueError,
            r"values\['us'\] must be a finite number",
        ),
        (lambda: best_worst_gap([0.1, 0.2]), TypeError, "values must be a mapping group -> number"),
        (
            lambda: best_worst_gap({"us": 1.0}, higher_is_better=1),
            TypeError,
            "higher_is_better must be True or False",
        ),
        (
            lambda: most_similar_group({"us": "high"}),
            TypeError,
            r"similarities\['us'\] must be a number",
        ),
        (
            lambda: group_similarity({"topic": (1, 0, 0, 0, 0)}, FILM_SURVEY),
            ValueError,
            "answers has no question 'genre'",
        ),
        (
            lambda: option_scores("scorer", FILM_SURVEY["topic"]),
            TypeError,
            "scorer must be a function",
        ),
        (
            lambda: option_scores(lambda p, c: [0.0], FILM_SURVEY["venue"]),
            ValueError,
            "scorer returned 1 scores for 3 continuations",
        ),
        (
            lambda: option_scores(lambda p, c: [math.nan] * len(c), FILM_SURVEY["venue"]),
            ValueError,
            "non-finite score",
        ),
    ],
)
def test_metric_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ------------------------------------------------------------ survey files


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "question,selections,options,source\n"


@pytest.mark.parametrize(
    ("name", "content", "error", "match"),
    [
        (
            "no_options.csv",
            "question,selections,source\nQ?,\"{'A': [1]}\",GAS\n",
            ValueError,
            r"has no 'options' column",
        ),
        (
            "empty_options.csv",
            HEADER + "Q?,\"{'A': [0.5, 0.5]}\",,GAS\n",
            ValueError,
            r"row 1 has no 'options' field",
        ),
        ("empty.csv", "", ValueError, "is empty; expected a header"),
        (
            "bad_options.csv",
            HEADER + "Q?,\"{'A': [0.5, 0.5]}\",\"['a', \",GAS\n",
            ValueError,
            r"row 1: field 'options' is not readable",
        ),
        (
            "options_not_str.csv",
            HEADER + 'Q?,"{\'A\': [0.5, 0.5]}","[1, 2]",GAS\n',
            ValueError,
            r"field 'options' must be a list of str",
        ),
        (
            "short_shares.csv",
            HEADER + "Q?,\"defaultdict(<class 'list'>, {'A': [1.0]})\",\"['a', 'b']\",GAS\n",
            ValueError,
            r"row 1: selections\['A'\] .* expected 2 shares",
        ),
        (
            "negative.csv",
            HEADER + "Q?,\"{'A': [1.5, -0.5]}\",\"['a', 'b']\",GAS\n",
            ValueError,
            r"row 1 selections\['A'\]\[1\] is -0.5",
        ),
        (
            "zero.csv",
            HEADER + "Q?,\"{'A': [0, 0]}\",\"['a', 'b']\",GAS\n",
            ValueError,
            r"row 1 selections\['A'\] is all zero",
        ),
        (
            "list_selections.csv",
            HEADER + "Q?,\"[0.5, 0.5]\",\"['a', 'b']\",GAS\n",
            ValueError,
            "field 'selections' must map a group",
        ),
        ("bad.jsonl", "{not json}\n", ValueError, "line 1 is not JSON"),
        ("array.jsonl", "[1, 2]\n", ValueError, "line 1 is not a JSON object"),
        (
            "no_question.jsonl",
            '{"options": ["a", "b"], "selections": {"A": [1, 0]}}\n',
            ValueError,
            r"row 1 has no 'question' field",
        ),
    ],
)
def test_bad_survey_files_name_the_row_and_field(tmp_path, name, content, error, match):
    with pytest.raises(error, match=match):
        load_global_opinions(write(tmp_path / name, content))


def test_survey_file_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="no survey file"):
        load_global_opinions(tmp_path / "nope.csv")
    with pytest.raises(TypeError, match="path must be a file path"):
        load_global_opinions(3)
    path = write(tmp_path / "ok.csv", HEADER + "Q?,\"{'A': [0.5, 0.5]}\",\"['a', 'b']\",GAS\n")
    with pytest.raises(TypeError, match="groups must be a list of group names"):
        load_global_opinions(path, groups="A")
    with pytest.raises(ValueError, match="holds no question answered by"):
        load_global_opinions(path, groups=["B"])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"options": "ab"}, TypeError, "options must be a list of option texts"),
        ({"options": ("a",), "selections": {"g": (1.0,)}}, ValueError, "has 1 option"),
        ({"selections": {}}, ValueError, "selections must be a non-empty mapping"),
        ({"kind": "belief"}, ValueError, "kind must be one of 'opinion', 'usage'"),
        ({"key": ""}, ValueError, "key must not be empty"),
        ({"phrasings": {"c": ("x",)}}, ValueError, r"phrasings for unknown option\(s\) \['c'\]"),
        ({"phrasings": {"a": "x"}}, ValueError, r"phrasings\['a'\] must be a non-empty list"),
        ({"phrasings": ["a"]}, TypeError, "phrasings must map an option"),
    ],
)
def test_survey_question_fields(kwargs, error, match):
    args = {
        "key": "k",
        "question": "Q?",
        "options": ("a", "b"),
        "selections": {"g": (0.5, 0.5)},
    } | kwargs
    with pytest.raises(error, match=match):
        SurveyQuestion(**args)
