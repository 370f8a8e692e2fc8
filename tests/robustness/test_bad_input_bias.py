"""Bad inputs to toolkit.bias: word sets, templates, rates and settings; each error names the
set, word, template or argument, before any model work."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.bias import (
    PlantConfig,
    association_test,
    check_template,
    check_word_sets,
    difference_test,
    planted_corpus,
)

FAST = settings(max_examples=25, deadline=None)
WORDS = st.lists(
    st.text(min_size=1, max_size=8).filter(str.strip), min_size=1, max_size=5, unique=True
)


@FAST
@given(x=WORDS, y=WORDS, a=WORDS, b=WORDS)
def test_word_sets_are_accepted_or_refused_with_a_value_error(x, y, a, b):
    try:
        sets = check_word_sets(x, y, a, b)
    except ValueError as error:
        assert any(name in str(error) for name in ("x", "y", "a", "b"))
        return
    assert len(sets[0]) == len(sets[1])
    assert not set(sets[0]) & set(sets[1])


@FAST
@given(word=st.text(max_size=6))
def test_a_template_must_hold_its_placeholder(word):
    template = f"As {word}, it was fine."
    if "{" in word or "}" in word:
        return
    with pytest.raises(ValueError, match="target"):
        check_template("template", template, ("target",))


@FAST
@given(rate=st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=1 + 1e-9), st.just(math.nan)))
def test_planted_rate_out_of_range(rate):
    with pytest.raises(ValueError, match="negative_rate"):
        planted_corpus(50, 0, negative_rate=rate)


@pytest.mark.parametrize("value", [None, "0.5", True])
def test_planted_rate_of_the_wrong_type(value):
    with pytest.raises(TypeError, match="negative_rate"):
        planted_corpus(50, 0, negative_rate=value)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [("steps", 0, ValueError), ("lr", -1.0, ValueError), ("group", "martians", ValueError),
     ("n_texts", 2.5, TypeError), ("base", "", ValueError)],
)  # fmt: skip
def test_plant_config_fields(field, value, error):
    with pytest.raises(error, match=field):
        PlantConfig(**{field: value})


@FAST
@given(
    n=st.integers(min_value=1, max_value=4), bad=st.sampled_from([math.nan, math.inf, -math.inf])
)
def test_non_finite_scores_are_named(n, bad):
    matrix = np.zeros((n + 1, 2))
    matrix[n, 1] = bad
    with pytest.raises(ValueError, match=rf"x_a has a non-finite value at \[{n}, 1\]"):
        association_test(matrix, np.zeros((n + 1, 2)), np.zeros((n + 1, 2)), np.zeros((n + 1, 2)))
    with pytest.raises(ValueError, match="scores_x has a non-finite value"):
        difference_test(matrix[:, 1], np.zeros(3))
