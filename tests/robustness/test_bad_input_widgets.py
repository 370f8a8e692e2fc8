"""Bad inputs to the widgets: wrong types raise TypeError, wrong values ValueError, and each
message names the parameter, track or index; a refused assignment leaves the widget as it was."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.music import TasteProfile
from widgets import TastePlayground, TokenStrip, TokenWeightView
from widgets.base import check_number, check_str_list

FAST = settings(max_examples=25, deadline=None)
SR = 8000
TOKENS = ["Ġthe", "Ġcat", "Ġsat"]
RANGES = {"pitch_hz": (0, 500), "tartness": (0, 10)}


def pipeline(profile: TasteProfile, text: str, seed: int) -> dict:
    """The smallest well-formed pipeline: one note, a quiet tone, two features."""
    return {
        "profile": profile,
        "notes": [(60, 0.0, 0.2, 90, "melody")],
        "audio": 0.1 * np.sin(np.arange(SR // 10) / 8),
        "sample_rate": SR,
        "features": {"pitch_hz": 220 * (1 + profile.sweet), "tartness": 10 * profile.sour},
        "caption": f"seed {seed}",
    }


@pytest.mark.parametrize(
    ("tokens", "tracks", "error", "match"),
    [
        ("the cat", {"x": [1.0]}, TypeError, "tokens must be a sequence of strings, got one str"),
        (None, {"x": [1.0]}, TypeError, "tokens must be a sequence of strings, got NoneType"),
        ({"a": 1}, {"x": [1.0]}, TypeError, "tokens must be a sequence of strings"),
        (["a", None], {"x": [1.0, 2.0]}, TypeError, r"tokens\[1\] is NoneType"),
        ([], {"x": []}, ValueError, "tokens is empty"),
        (TOKENS, [1.0, 2.0, 3.0], TypeError, "tracks must map track names to values"),
        (TOKENS, {}, ValueError, "tracks is empty"),
        (TOKENS, {None: [1, 2, 3]}, TypeError, "track names must be strings"),
        (TOKENS, {"": [1, 2, 3]}, ValueError, "track names must not be empty"),
        (TOKENS, {"x": ["a", "b", "c"]}, TypeError, "track 'x' must hold real numbers"),
        (TOKENS, {"x": [1.0, 2.0]}, ValueError, "track 'x' has 2 values for 3 tokens"),
        (TOKENS, {"x": [[1.0, 2.0, 3.0]]}, ValueError, "track 'x' must be 1-D"),
    ],
)
def test_token_strip_names_the_bad_argument(tokens, tracks, error, match):
    with pytest.raises(error, match=match):
        TokenStrip(tokens, tracks)


@FAST
@given(
    bad=st.sampled_from([math.nan, math.inf, -math.inf, 1e39, -1e39]),
    at=st.integers(0, 2),
)
def test_token_strip_names_a_non_finite_or_huge_value_and_its_index(bad, at):
    values = [0.5, -0.5, 1.0]
    values[at] = bad
    with pytest.raises(ValueError, match=rf"track 'x' .*at index {at}"):
        TokenStrip(TOKENS, {"x": values})


@FAST
@given(tokens=st.lists(st.text(), min_size=1, max_size=5))
def test_token_strip_takes_any_unicode_token(tokens):
    strip = TokenStrip(tokens, {"x": np.arange(len(tokens))})
    assert strip.tokens == tokens and strip.values("x").tolist() == list(range(len(tokens)))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"rejected_tokens": "the"}, TypeError, "rejected_tokens must be a sequence of strings"),
        ({"tracks": {"kl": [0, 1, 2]}}, TypeError, "track 'kl' must map 'chosen' and 'rejected'"),
        ({"tracks": {"kl": {"chosen": [0, 1, 2]}}}, ValueError, "no 'rejected' values"),
        ({"steps": "0"}, TypeError, "steps must be a sequence of ints, got one str"),
        ({"steps": [True]}, TypeError, r"steps\[0\] is bool"),
        ({"steps": [3.0]}, TypeError, r"steps\[0\] is float"),
        ({"steps": []}, ValueError, "steps is empty"),
    ],
)
def test_token_weight_view_names_the_bad_argument(kwargs, error, match):
    args = {
        "chosen_tokens": TOKENS,
        "rejected_tokens": TOKENS,
        "tracks": {"kl": {"chosen": [0.0, 1.0, 2.0], "rejected": [2.0, 1.0, 0.0]}},
        **kwargs,
    }
    with pytest.raises(error, match=match):
        TokenWeightView(**args)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"pipeline": "make music"}, TypeError, "pipeline must be callable"),
        ({"pipeline": None}, TypeError, "pipeline must be callable"),
        ({"text": None}, TypeError, "text must be a str"),
        ({"text": b"sour"}, TypeError, "text must be a str"),
        ({"seed": 1.5}, TypeError, "seed must be an int >= 0"),
        ({"seed": "1"}, TypeError, "seed must be an int >= 0"),
        ({"seed": True}, TypeError, "seed must be an int >= 0"),
        ({"seed": -1}, ValueError, "seed must be an int >= 0, got -1"),
        ({"profile": [0.5] * 5}, TypeError, "profile must map tastes"),
        ({"profile": {"sweet": "lots"}}, TypeError, "profile: sweet must be a number"),
        ({"profile": {"spicy": 0.5}}, ValueError, "unknown taste 'spicy'"),
        ({"feature_ranges": {"pitch_hz": (1, 0), "tartness": (0, 1)}}, ValueError, "lo < hi"),
        ({"feature_ranges": {"pitch_hz": ("a", "b")}}, TypeError, "must hold real numbers"),
    ],
)
def test_taste_playground_names_the_bad_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        TastePlayground(**{"pipeline": pipeline, **kwargs})


@FAST
@given(
    intensity=st.one_of(
        st.floats(max_value=0, exclude_max=True), st.floats(min_value=1, exclude_min=True)
    ),
    taste=st.sampled_from(["sweet", "sour", "bitter", "salty", "umami"]),
)
def test_an_out_of_range_intensity_is_refused_and_rolled_back(intensity, taste):
    w = TastePlayground(pipeline, profile={"umami": 0.5}, feature_ranges=RANGES)
    with pytest.raises(ValueError, match=f"profile: {taste}"):
        w.profile = {taste: intensity}
    assert w.profile["umami"] == 0.5 and w.error == ""


@pytest.mark.parametrize(
    ("result", "error", "match"),
    [
        (["not", "a", "dict"], TypeError, "the pipeline returned list"),
        ({"caption": 3}, TypeError, "caption is int; expected a str"),
        ({"sample_rate": 8000.0}, TypeError, "sample_rate must be an int"),
        ({"sample_rate": 0}, ValueError, "sample_rate must be an int > 0"),
        ({"features": [1.0]}, TypeError, "features must map names to numbers"),
        ({"features": {"pitch_hz": "high"}}, TypeError, "feature 'pitch_hz' is 'high'"),
        ({"features": {"pitch_hz": math.nan}}, ValueError, "feature 'pitch_hz' is nan"),
        ({"notes": "C4"}, TypeError, "notes must be a sequence"),
        ({"notes": [(60, 0.0, 0.2, 90, 1)]}, TypeError, r"notes\[0\] voice is 1"),
        ({"notes": [(60, 0.0, 0.2)]}, ValueError, r"notes\[0\] is \(60, 0.0, 0.2\)"),
        ({"audio": [0.0, 2.0]}, ValueError, "audio sample 1 is 2"),
    ],
)
def test_a_malformed_pipeline_result_is_named(result, error, match):
    def broken(profile, text, seed):
        good = pipeline(profile, text, seed)
        return result if not isinstance(result, dict) else {**good, **result}

    with pytest.raises(error, match=match):
        TastePlayground(broken, feature_ranges=RANGES)


@FAST
@given(value=st.one_of(st.text(max_size=3), st.none(), st.binary(max_size=3)))
def test_check_number_refuses_non_numbers_as_type_errors(value):
    with pytest.raises(TypeError, match="dt must hold real numbers"):
        check_number(value, "dt")


@FAST
@given(values=st.lists(st.one_of(st.integers(), st.none(), st.floats()), min_size=1, max_size=4))
def test_check_str_list_names_the_first_non_str(values):
    with pytest.raises(TypeError, match=r"labels\[0\] is"):
        check_str_list(values, "labels", kind="a list of names", if_empty="name them")
