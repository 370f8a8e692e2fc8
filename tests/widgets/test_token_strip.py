"""TokenStrip on the Python side: traits, binary state, validation, scales, track switching."""

from __future__ import annotations

import time

import numpy as np
import pytest
import traitlets
from ipywidgets.widgets.widget import _remove_buffers

from widgets import TokenStrip
from widgets.token_strip import infer_scale

TOKENS = ["The", "Ġcat", "Ġsat", "Ċ", "It", "Ġpurred", ".", "Ġ", "!"]


def make_strip(**kwargs) -> TokenStrip:
    tracks = {
        "advantage": np.linspace(-1, 1, len(TOKENS)),
        "surprisal": np.arange(len(TOKENS)) / 2,
    }
    return TokenStrip(TOKENS, tracks, **kwargs)


def test_traits_after_construction():
    strip = make_strip(title="demo")
    assert strip.tokens == TOKENS
    assert strip.track_names == ["advantage", "surprisal"]
    assert strip.track == "advantage"
    assert strip.selected == -1
    assert strip.title == "demo"
    assert strip.scales == {"advantage": "diverging", "surprisal": "sequential"}


def test_state_holds_float32_buffers_not_json_lists():
    strip = make_strip()
    state, paths, buffers = _remove_buffers(strip.get_state())
    assert paths == [["_track_data", "advantage"], ["_track_data", "surprisal"]]
    assert state["_track_data"] == {}
    assert all(isinstance(b, bytes) and len(b) == 4 * len(TOKENS) for b in buffers)
    decoded = np.frombuffer(buffers[0], dtype="<f4")
    np.testing.assert_array_equal(decoded, np.linspace(-1, 1, len(TOKENS)).astype(np.float32))


def test_values_returns_what_the_browser_receives():
    strip = make_strip()
    np.testing.assert_array_equal(strip.values("surprisal"), np.arange(9, dtype=np.float32) / 2)
    assert strip.values().dtype == np.float32
    with pytest.raises(ValueError, match=r"unknown track 'loss'; choose one of"):
        strip.values("loss")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([-1.0, 0.5, 2.0], "diverging"),
        ([0.0, 1.0, 3.0], "sequential"),
        ([-3.0, -1.0, 0.0], "sequential"),
        ([2.0, 2.0, 2.0], "sequential"),
    ],
)
def test_scale_is_inferred_from_the_signs(values, expected):
    assert infer_scale(np.asarray(values)) == expected


def test_explicit_scale_wins_over_inference():
    strip = make_strip(scales={"advantage": "sequential"})
    assert strip.scales == {"advantage": "sequential", "surprisal": "sequential"}


def test_integer_and_bool_tracks_are_accepted():
    strip = TokenStrip(["a", "b"], {"count": [1, 2], "mask": np.array([True, False])})
    np.testing.assert_array_equal(strip.values("mask"), [1.0, 0.0])


def test_switching_track_and_selection_from_python():
    strip = make_strip()
    strip.track = "surprisal"
    assert strip.get_state()["track"] == "surprisal"
    strip.selected = 3
    assert strip.get_state()["selected"] == 3
    with pytest.raises(traitlets.TraitError, match=r"unknown track 'loss'"):
        strip.track = "loss"
    with pytest.raises(traitlets.TraitError, match=r"selected must be -1 \(none\) or .*\[0, 8\]"):
        strip.selected = 9


def test_data_traits_are_read_only():
    strip = make_strip()
    for name, value in [("tokens", ["x"]), ("track_names", ["x"]), ("scales", {})]:
        with pytest.raises(traitlets.TraitError, match="read-only"):
            setattr(strip, name, value)


NINE = list(range(9))


@pytest.mark.parametrize(
    ("tokens", "tracks", "scales", "message"),
    [
        ([], {"x": []}, None, "tokens is empty; pass at least one token"),
        (TOKENS, {}, None, "tracks is empty"),
        (TOKENS, {"x": range(7)}, None, "track 'x' has 7 values for 9 tokens"),
        (TOKENS, {"x": np.zeros((9, 2))}, None, r"track 'x' must be 1-D .*got shape \(9, 2\)"),
        (
            TOKENS,
            {"ok": NINE, "loss": [0, 1, np.nan, 3, np.inf, 5, 6, 7, 8]},
            None,
            r"track 'loss' has a non-finite value \(nan\) at index 2",
        ),
        (TOKENS, {"x": [-np.inf] + NINE[1:]}, None, r"non-finite value \(-inf\) at index 0"),
        (TOKENS, {"x": [1e39] * 9}, None, "track 'x' value 1e\\+39 at index 0 does not fit"),
        (TOKENS, {"x": NINE}, {"x": "rainbow"}, "scales\\['x'\\] is 'rainbow'; expected"),
        (TOKENS, {"x": NINE}, {"y": "diverging"}, "scales names track 'y', which is not in"),
    ],
)
def test_bad_input_is_named_in_the_error(tokens, tracks, scales, message):
    with pytest.raises(ValueError, match=message):
        TokenStrip(tokens, tracks, scales=scales)


@pytest.mark.parametrize(
    ("tokens", "tracks", "scales", "message"),
    [
        ("hello", {"x": [1]}, None, "tokens must be a sequence of strings, got one str"),
        (["a", 3], {"x": [1, 2]}, None, r"tokens\[1\] is int 3; expected str"),
        (TOKENS, {3: NINE}, None, "track names must be strings, got 3"),
        (TOKENS, {"x": list("abcdefghi")}, None, "track 'x' must hold real numbers .* <U1"),
        (TOKENS, {"x": np.ones(9) * 1j}, None, "track 'x' must hold real numbers .* complex128"),
    ],
)  # fmt: skip
def test_wrong_types_raise_type_error(tokens, tracks, scales, message):
    with pytest.raises(TypeError, match=message):
        TokenStrip(tokens, tracks, scales=scales)


def test_five_thousand_tokens_build_as_one_buffer_per_track():
    n = 5000
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    strip = TokenStrip([f"Ġt{i}" for i in range(n)], {"a": rng.normal(size=n), "b": np.arange(n)})
    _, _, buffers = _remove_buffers(strip.get_state())
    elapsed = time.perf_counter() - start
    assert [len(b) for b in buffers] == [4 * n, 4 * n]
    # A loose sanity bound (about 50x the usual time), not a benchmark: it catches
    # per-token Python work creeping into construction or serialization.
    assert elapsed < 2.0, f"building a 5,000-token strip took {elapsed:.2f}s"
