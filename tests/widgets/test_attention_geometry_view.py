"""AttentionGeometryView on the Python side: traits, binary state, the eviction rule,
the attention-row round trip, and validation."""

from __future__ import annotations

import re

import numpy as np
import pytest
import traitlets
from ipywidgets.widgets.widget import _remove_buffers

from widgets.attention_geometry_view import AttentionGeometryView, kept_positions

T, L, H, HKV, D = 12, 2, 4, 2, 6
TOKENS = [f"Ġt{i}" for i in range(T)]


def spectra(n_heads: int) -> np.ndarray:
    """(L, n_heads, D) decaying singular values, distinct per layer and head."""
    base = 2.0 ** -np.arange(D)
    return np.stack([[base * (1 + layer + h / 10) for h in range(n_heads)] for layer in range(L)])


def key_scores() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "qfilters": rng.normal(size=(L, HKV, T)),
        "knorm": np.broadcast_to(-np.arange(T, dtype=float), (L, HKV, T)),  # first tokens best
        "random": rng.random((L, HKV, T)),
    }


class Recorder:
    """An attention_row callable that records its calls; row j of query q is 2^-(q-j+1)."""

    def __init__(self, full: bool = False) -> None:
        self.calls: list[tuple[int, int, int]] = []
        self.full = full

    def __call__(self, layer: int, head: int, query: int) -> np.ndarray:
        self.calls.append((layer, head, query))
        row = 2.0 ** -(query - np.arange(query + 1) + 1.0)
        return np.concatenate([row, np.zeros(T - query - 1)]) if self.full else row


def make_view(**kwargs) -> AttentionGeometryView:
    kwargs.setdefault("kv_group", H // HKV)
    return AttentionGeometryView(TOKENS, spectra(H), spectra(HKV), key_scores(), **kwargs)


def reference_kept(scores: np.ndarray, ratio: float, window: int) -> set[int]:
    """The rule written out: the window, then the others by (score desc, position) up to
    int(T(1-r)) in all."""
    n = len(scores)
    recent = set(range(max(0, n - window), n))
    ranked = [i for i in sorted(range(n), key=lambda i: (-float(scores[i]), i)) if i not in recent]
    return recent | set(ranked[: max(0, int(n * (1 - ratio)) - len(recent))])


def test_traits_after_construction():
    view = make_view(title="Q-Filters", ratio=0.5, window=3, attention_row=Recorder())
    assert view.tokens == TOKENS
    assert view.scorer_names == ["qfilters", "knorm", "random"]
    assert view.scorer == "qfilters"  # the first scorer: the key projection
    assert (view.n_layers, view.n_heads, view.n_kv_heads, view.kv_group) == (L, H, HKV, 2)
    assert (view.dim_q, view.dim_k) == (D, D)
    assert (view.ratio, view.window, view.title) == (0.5, 3, "Q-Filters")
    assert (view.layer, view.head, view.kv_head, view.selected_query) == (0, 0, 0, -1)
    assert view.has_attention_row and not make_view().has_attention_row
    assert view.attention is None and view.row_key == [] and view.row_error == ""
    view.head = 3
    assert view.kv_head == 1  # query heads 2 and 3 read KV head 1


def test_state_holds_float32_buffers_in_c_order():
    view = make_view(attention_row=Recorder())
    view.selected_query = 4
    state, paths, buffers = _remove_buffers(view.get_state())
    by_path = {tuple(p): b for p, b in zip(paths, buffers, strict=True)}
    assert set(by_path) == {
        ("_spectra_q",),
        ("_spectra_k",),
        ("_attention_row",),
        *(("_key_scores", name) for name in view.scorer_names),
    }
    assert state["_key_scores"] == {}

    def decode(key: tuple[str, ...], shape: tuple[int, ...]) -> np.ndarray:
        return np.frombuffer(by_path[key], dtype="<f4").reshape(shape)

    np.testing.assert_array_equal(decode(("_spectra_q",), (L, H, D)), spectra(H).astype("f4"))
    np.testing.assert_array_equal(decode(("_spectra_k",), (L, HKV, D)), spectra(HKV).astype("f4"))
    for name, scores in key_scores().items():
        np.testing.assert_array_equal(
            decode(("_key_scores", name), (L, HKV, T)), scores.astype("f4")
        )
    np.testing.assert_array_equal(decode(("_attention_row",), (5,)), 2.0 ** -np.arange(5, 0, -1))


@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.5, 0.875, 0.9, 0.97])
@pytest.mark.parametrize("window", [0, 1, 4, 20])
def test_kept_mask_is_the_window_then_the_top_scores(ratio, window):
    view = make_view(window=window)
    for name in view.scorer_names:
        for layer in range(L):
            for kv in range(HKV):
                mask = view.kept_mask(name, layer, kv, ratio=ratio)
                assert mask.dtype == bool and mask.shape == (T,)
                expected = reference_kept(view.scores(name, layer, kv), ratio, window)
                assert set(np.flatnonzero(mask)) == expected


def test_kept_count_is_exactly_the_budget_window_included():
    view = make_view(window=3)  # knorm prefers the first tokens: disjoint from the window
    for ratio, n_keep in [(0.0, 12), (0.5, 6), (0.75, 3), (0.875, 1), (0.9, 1), (0.95, 0)]:
        assert n_keep == int(T * (1 - ratio))
        mask = view.kept_mask("knorm", 1, 0, ratio)
        assert mask.sum() == max(n_keep, 3)  # a window above the budget is kept whole
        assert mask[-3:].all() and mask[: max(n_keep - 3, 0)].all()


def test_ties_go_to_the_earlier_position_on_float32_values():
    # 1 and 1 + 1e-9 differ in float64 but not in the float32 the browser holds: a tie.
    scores = np.array([[[0.0, 1.0, 1.0 + 1e-9, 1.0, -1.0]]])
    view = AttentionGeometryView(
        list("abcde"), np.ones((1, 1, 2)), np.ones((1, 1, 2)), {"s": scores}, kv_group=1
    )
    view.window = 0
    np.testing.assert_array_equal(view.kept_mask("s", 0, 0, 0.6), [0, 1, 1, 0, 0])  # top 2
    np.testing.assert_array_equal(view.kept_mask("s", 0, 0, 0.4), [0, 1, 1, 1, 0])  # top 3
    flat = np.zeros(8, dtype=np.float32)
    np.testing.assert_array_equal(kept_positions(flat, 0.5, 1), [1] * 3 + [0] * 4 + [1])


def test_kept_mask_defaults_to_the_slider_and_checks_its_arguments():
    view = make_view(window=0)
    view.ratio = 0.75
    assert view.kept_mask("knorm", 0, 0).sum() == 3
    with pytest.raises(ValueError, match=r"unknown scorer 'snapkv'; choose one of"):
        view.kept_mask("snapkv", 0, 0)
    with pytest.raises(ValueError, match=r"layer must be a layer index in \[0, 1\], got 2"):
        view.kept_mask("knorm", 2, 0)
    with pytest.raises(ValueError, match=r"kv_head must be a KV head index in \[0, 1\], got 2"):
        view.kept_mask("knorm", 0, 2)
    with pytest.raises(ValueError, match=r"ratio must be in \[0, 1\).*got 1.0"):
        view.kept_mask("knorm", 0, 0, 1.0)


def test_2048_tokens():
    n = 2048
    scores = {"qfilters": np.linspace(1, 0, n)[None, None]}  # earlier tokens score higher
    view = AttentionGeometryView(
        [f"t{i}" for i in range(n)], np.ones((1, 1, 4)), np.ones((1, 1, 4)), scores, kv_group=1
    )
    mask = view.kept_mask("qfilters", 0, 0)  # defaults: ratio 0.875, window 8
    assert mask.sum() == n // 8
    assert mask[: n // 8 - 8].all() and mask[-8:].all()


def test_selecting_a_query_calls_attention_row_and_sends_the_row():
    recorder = Recorder()
    view = make_view(attention_row=recorder)
    view.layer, view.head = 1, 3
    assert recorder.calls == []  # nothing selected yet
    view.selected_query = 5
    assert recorder.calls == [(1, 3, 5)]
    assert view.row_key == [1, 3, 5]
    np.testing.assert_array_equal(view.attention, 2.0 ** -np.arange(6, 0, -1))
    assert view.attention.dtype == np.float32
    view.head = 2  # same query, another head: a new row
    assert recorder.calls[-1] == (1, 2, 5) and view.row_key == [1, 2, 5]
    view.selected_query = -1
    assert view.attention is None and view.row_key == [] and len(recorder.calls) == 2


def test_a_full_length_row_is_accepted():
    view = make_view(attention_row=Recorder(full=True))
    view.selected_query = 2
    assert view.attention.shape == (T,) and view.row_error == ""
    assert view.attention[3:].sum() == 0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (np.ones(3), r"attention_row\(0, 0, 5\) returned a bad row: the row has shape \(3,\); "
                     r"expected \(6,\) \(keys 0\.\.5\) or \(12,\) \(every token\)"),
        (np.ones((1, 6)), r"the row has shape \(1, 6\)"),
        ([0, 1, np.nan, 0, 0, 0], r"the row has a non-finite value \(nan\) at index 2"),
        ([0, 1, -0.5, 0, 0, 0], r"the row has a negative value \(-0.5\) at index 2"),
        (list("abcdef"), r"the row must hold real numbers"),
    ],
)  # fmt: skip
def test_a_bad_row_is_reported_in_the_widget_and_cleared(row, message):
    view = make_view(attention_row=Recorder())
    view.selected_query = 3
    assert view.row_key == [0, 0, 3]
    view._attention_row_fn = lambda layer, head, query: row
    view.selected_query = 5
    assert re.search(message, view.row_error), view.row_error
    assert view.attention is None and view.row_key == []


def test_an_error_in_attention_row_is_reported_not_raised():
    def broken(layer, head, query):
        raise RuntimeError("out of memory")

    view = make_view(attention_row=broken)
    view.selected_query = 1
    assert view.row_error == "attention_row(0, 0, 1) raised RuntimeError: out of memory"
    assert view.attention is None


def test_without_attention_row_a_selection_draws_nothing():
    view = make_view()
    view.selected_query = 4
    assert view.attention is None and view.row_error == ""


def test_live_traits_are_checked():
    view = make_view()
    for name, value, error, message in [
        ("layer", 2, ValueError, r"layer must be a layer index in \[0, 1\], got 2"),
        ("head", 4, ValueError, r"head must be a query head index in \[0, 3\], got 4"),
        ("scorer", "snapkv", ValueError, r"unknown scorer 'snapkv'"),
        ("ratio", 1.0, ValueError, r"ratio must be in \[0, 1\)"),
        ("ratio", -0.1, ValueError, r"ratio must be in \[0, 1\)"),
        ("window", -1, ValueError, r"window must be >= 0"),
        ("spectrum_scale", "linear", ValueError, r"spectrum_scale must be one of"),
        ("selected_query", 12, ValueError, r"selected_query must be -1 \(none\) or .*\[0, 11\]"),
    ]:
        with pytest.raises(error, match=message):
            setattr(view, name, value)
    view.spectrum_scale = "normalized"
    assert view.get_state()["spectrum_scale"] == "normalized"


def test_data_traits_are_read_only():
    view = make_view()
    for name in ("tokens", "scorer_names", "n_heads", "kv_group", "_spectra_q", "row_key"):
        with pytest.raises(traitlets.TraitError, match="read-only"):
            setattr(view, name, view.get_state()[name])


SQ, SK, SCORES = spectra(H), spectra(HKV), key_scores()


def scores_with(name: str, value: object) -> dict[str, object]:
    return {**SCORES, name: value}


def nan_at(shape: tuple[int, ...], index: tuple[int, ...]) -> np.ndarray:
    array = np.zeros(shape)
    array[index] = np.nan
    return array


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (([], SQ, SK, SCORES), {}, ValueError, "tokens is empty; pass at least one token"),
        (("abc", SQ, SK, SCORES), {}, TypeError, "tokens must be a sequence of strings"),
        ((TOKENS[:-1] + [3], SQ, SK, SCORES), {}, TypeError, r"tokens\[11\] is int 3"),
        ((TOKENS, SQ[0], SK, SCORES), {}, ValueError,
         r"spectra_q must be 3-D with axes \(layers, heads, D\), got shape \(4, 6\)"),
        ((TOKENS, SQ, SK[:1], SCORES), {}, ValueError,
         r"spectra_k has 1 values along axis 0 for 2 layers"),
        ((TOKENS, SQ[:, :, :0], SK, SCORES), {}, ValueError,
         r"spectra_q has shape \(2, 4, 0\); every axis needs at least one entry"),
        ((TOKENS, -SQ, SK, SCORES), {}, ValueError,
         r"spectra_q has a negative value \(-1.0\) at index \(0, 0, 0\); singular values"),
        ((TOKENS, SQ, nan_at(SK.shape, (1, 0, 2)), SCORES), {}, ValueError,
         r"spectra_k has a non-finite value \(nan\) at index \(1, 0, 2\)"),
        ((TOKENS, SQ, SK, scores_with("knorm", np.zeros((L, HKV, T + 1)))), {}, ValueError,
         r"key_scores\['knorm'\] has 13 values along axis 2 for 12 tokens"),
        ((TOKENS, SQ, SK, scores_with("knorm", np.zeros((L, H, T)))), {}, ValueError,
         r"key_scores\['knorm'\] has 4 values along axis 1 for 2 KV heads"),
        ((TOKENS, SQ, SK, scores_with("snapkv", nan_at((L, HKV, T), (1, 1, 7)))), {}, ValueError,
         r"key_scores\['snapkv'\] has a non-finite value \(nan\) at index \(1, 1, 7\)"),
        ((TOKENS, SQ, SK, {}), {}, ValueError, "key_scores is empty"),
        ((TOKENS, SQ, SK, [SCORES["knorm"]]), {}, TypeError, "key_scores must map scorer name"),
        ((TOKENS, SQ, SK, {"": SCORES["knorm"]}), {}, ValueError,
         "key_scores names must be non-empty strings"),
        ((TOKENS, SQ, SK, SCORES), {"kv_group": 4}, ValueError,
         r"kv_group is 4, but spectra_q has 4 query heads and spectra_k 2 KV heads: "
         r"kv_group must be 4 // 2 = 2"),
        ((TOKENS, SQ[:, :3], SK, SCORES), {}, ValueError,
         r"spectra_q has 3 query heads, not a multiple of the 2 KV heads of spectra_k"),
        ((TOKENS, SQ, SK, SCORES), {"kv_group": 2.0}, TypeError, "kv_group must be an int"),
        ((TOKENS, SQ, SK, SCORES), {"ratio": 1.0}, ValueError, r"ratio must be in \[0, 1\)"),
        ((TOKENS, SQ, SK, SCORES), {"ratio": -0.5}, ValueError, r"got -0.5"),
        ((TOKENS, SQ, SK, SCORES), {"ratio": "0.5"}, TypeError, "ratio must be a real number"),
        ((TOKENS, SQ, SK, SCORES), {"window": -1}, ValueError, "window must be >= 0"),
        ((TOKENS, SQ, SK, SCORES), {"window": 2.5}, TypeError, "window must be an int"),
        ((TOKENS, SQ, SK, SCORES), {"attention_row": np.ones(T)}, TypeError,
         r"attention_row must be callable as attention_row\(layer, head, query_index\)"),
    ],
)  # fmt: skip
def test_bad_input_is_named_in_the_error(args, kwargs, error, message):
    kwargs = {"kv_group": 2, **kwargs}
    with pytest.raises(error, match=message):
        AttentionGeometryView(*args, **kwargs)


def two_models() -> dict[str, dict]:
    """A 2-layer and a 3-layer model over different tokens, scorers and head counts."""
    rng = np.random.default_rng(1)
    small = dict(
        tokens=TOKENS,
        spectra_q=spectra(H),
        spectra_k=spectra(HKV),
        key_scores=key_scores(),
        kv_group=H // HKV,
        attention_row=Recorder(),
        title="small",
    )
    big_tokens = [f"b{i}" for i in range(T + 3)]
    big = dict(
        tokens=big_tokens,
        spectra_q=np.abs(rng.normal(size=(3, 6, D))),
        spectra_k=np.abs(rng.normal(size=(3, 2, D))),
        key_scores={
            "qfilters": rng.normal(size=(3, 2, T + 3)),
            "oracle": rng.random((3, 2, T + 3)),
        },
        kv_group=3,
    )
    return {"2 layers": small, "3 layers": big}


def test_from_models_switches_data_and_resets_the_selection():
    view = AttentionGeometryView.from_models(two_models(), ratio=0.5, window=2)
    assert view.model_names == ["2 layers", "3 layers"] and view.model_name == "2 layers"
    assert set(view._models) == {"2 layers", "3 layers"}
    assert view.title == "small" and view.n_layers == L
    view.layer, view.head, view.scorer, view.selected_query = 1, 3, "knorm", 5
    view.model_name = "3 layers"
    assert (view.n_layers, view.n_heads, view.kv_group, len(view.tokens)) == (3, 6, 3, T + 3)
    assert (view.layer, view.head, view.selected_query) == (0, 0, -1)
    assert view.scorer == "qfilters" and view.scorer_names == ["qfilters", "oracle"]
    assert view.title == "3 layers" and not view.has_attention_row
    assert view.kept_mask("oracle", 2, 1).sum() == int((T + 3) * 0.5)
    view.model_name = "2 layers"
    view.selected_query = 4
    assert view.row_key == [0, 0, 4] and view.attention is not None
    with pytest.raises(traitlets.TraitError, match="model"):
        view.model_name = "4 layers"
    state, paths, buffers = _remove_buffers(view.get_state())
    assert ["_models", "3 layers", "_key_scores", "oracle"] in paths


def test_from_models_names_the_model_with_bad_data():
    models = two_models()
    models["3 layers"]["kv_group"] = 2
    with pytest.raises(ValueError, match=r"models\['3 layers'\]: kv_group"):
        AttentionGeometryView.from_models(models)
    with pytest.raises(ValueError, match="unknown arguments"):
        AttentionGeometryView.from_models({"a": {**two_models()["2 layers"], "colour": 1}})
    with pytest.raises(ValueError, match="model_name"):
        AttentionGeometryView.from_models(two_models(), model_name="nope")
    with pytest.raises(traitlets.TraitError, match="one model"):
        make_view().model_name = "x"
