"""TokenWeightView on the Python side: traits, binary state, shared scales, validation."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets
from ipywidgets.widgets.widget import _remove_buffers

from widgets import TokenWeightView

CHOSEN = ["The", "Ġcat", "Ġsat", "."]  # Tw = 4
REJECTED = ["A", "Ġdog", "Ġran", "Ġoff", "!"]  # Tl = 5
STEPS = [0, 100, 200]


def log_ratio(side: str) -> np.ndarray:
    """(K, T) log-ratios that grow with the step: + on chosen, - on rejected."""
    n = len(CHOSEN) if side == "chosen" else len(REJECTED)
    sign = 1 if side == "chosen" else -1
    return sign * np.outer(np.arange(len(STEPS)) / 2, np.arange(1, n + 1) / n)


def make_tracks() -> dict:
    return {
        "log-ratio": {"chosen": log_ratio("chosen"), "rejected": log_ratio("rejected")},
        "reward mask": {"chosen": [1, 1, 1, 0], "rejected": [1, 1, 1, 1, 0]},  # fixed by data
        "kl": {
            "chosen": np.abs(log_ratio("chosen")) / 4,
            "rejected": np.abs(log_ratio("rejected")) / 4,
        },
    }


def make_view(**kwargs) -> TokenWeightView:
    return TokenWeightView(CHOSEN, REJECTED, make_tracks(), steps=STEPS, **kwargs)


def test_traits_after_construction():
    view = make_view(title="pair 0", prompt="Where did the cat sit?")
    assert view.chosen_tokens == CHOSEN
    assert view.rejected_tokens == REJECTED
    assert view.track_names == ["log-ratio", "reward mask", "kl"]
    assert view.steps == STEPS
    assert view.track == "log-ratio"
    assert (view.checkpoint, view.step) == (0, 0)
    assert (view.selected_chosen, view.selected_rejected) == (-1, -1)
    assert (view.title, view.prompt) == ("pair 0", "Where did the cat sit?")
    assert view.scales == {
        "log-ratio": "diverging",
        "reward mask": "sequential",
        "kl": "sequential",
    }


def test_one_color_domain_per_track_over_both_sides_and_every_checkpoint():
    view = make_view()
    # log-ratio reaches +1 (chosen, last step, last token) and -1 (rejected): symmetric.
    assert view.domains["log-ratio"] == [-1.0, 1.0]
    # Non-negative sequential tracks start at 0, so an all-ones mask is drawn at full strength.
    assert view.domains["reward mask"] == [0.0, 1.0]
    assert view.domains["kl"] == [0.0, 0.25]
    ones = TokenWeightView(["a"], ["b"], {"m": {"chosen": [1], "rejected": [1]}})
    assert ones.domains["m"] == [0.0, 1.0]


def test_state_holds_float32_buffers_per_track_and_side():
    view = make_view()
    state, paths, buffers = _remove_buffers(view.get_state())
    assert paths == [["_track_data", name, side] for name in view.track_names for side in
                     ("chosen", "rejected")]  # fmt: skip
    assert state["_track_data"] == {name: {} for name in view.track_names}
    sizes = [len(b) for b in buffers]
    k = len(STEPS)
    assert sizes == [4 * k * len(CHOSEN), 4 * k * len(REJECTED)] * 3
    # checkpoint-major (K, T): the browser slices row k for checkpoint k
    decoded = np.frombuffer(buffers[1], dtype="<f4").reshape(k, len(REJECTED))
    np.testing.assert_array_equal(decoded, log_ratio("rejected").astype(np.float32))


def test_values_by_track_side_and_checkpoint():
    view = make_view()
    np.testing.assert_array_equal(view.values("log-ratio", "chosen", 2), [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_array_equal(view.values("log-ratio", "rejected"), np.zeros(5))  # shown: 0
    view.step = 100
    assert view.checkpoint == 1
    expected = log_ratio("rejected")[1].astype(np.float32)
    np.testing.assert_array_equal(view.values(side="rejected"), expected)
    # a 1-D track is the same at every checkpoint
    mask = view.values("reward mask", "rejected", "all")
    assert mask.shape == (3, 5) and mask.dtype == np.float32
    np.testing.assert_array_equal(mask, [[1, 1, 1, 1, 0]] * 3)
    with pytest.raises(ValueError, match=r"unknown track 'loss'; choose one of"):
        view.values("loss")
    with pytest.raises(ValueError, match=r"unknown side 'winner'; choose one of \['chosen', 're"):
        view.values(side="winner")
    with pytest.raises(ValueError, match=r"checkpoint 3 is out of range \[0, 2\]"):
        view.values(checkpoint=3)


def test_track_checkpoint_and_selection_from_python():
    view = make_view()
    view.track = "kl"
    view.checkpoint = 2
    view.selected_chosen = 3
    view.selected_rejected = 4
    state = view.get_state()
    assert (state["track"], state["checkpoint"]) == ("kl", 2)
    assert (state["selected_chosen"], state["selected_rejected"]) == (3, 4)
    with pytest.raises(traitlets.TraitError, match=r"unknown track 'loss'"):
        view.track = "loss"
    with pytest.raises(traitlets.TraitError, match=r"checkpoint must be an index into steps.*3"):
        view.checkpoint = 3
    with pytest.raises(ValueError, match=r"no checkpoint at step 150; the steps are \[0, 100, 200"):
        view.step = 150
    with pytest.raises(traitlets.TraitError, match=r"selected_chosen must be .*\[0, 3\], got 4"):
        view.selected_chosen = 4
    view.selected_rejected = -1


def test_data_traits_are_read_only():
    view = make_view()
    for name in ("chosen_tokens", "rejected_tokens", "track_names", "steps", "scales", "domains"):
        with pytest.raises(traitlets.TraitError, match="read-only"):
            setattr(view, name, [])


def test_steps_default_to_checkpoint_indices():
    tracks = {"x": {"chosen": np.zeros((4, 4)), "rejected": np.ones(5)}}
    assert TokenWeightView(CHOSEN, REJECTED, tracks).steps == [0, 1, 2, 3]
    one = {"x": {"chosen": np.zeros(4), "rejected": np.ones(5)}}
    assert TokenWeightView(CHOSEN, REJECTED, one).steps == [0]


def test_explicit_scale_wins_and_torch_tensors_work():
    torch = pytest.importorskip("torch")
    tracks = {"lr": {"chosen": torch.linspace(-1, 1, 4), "rejected": torch.zeros(5)}}
    view = TokenWeightView(CHOSEN, REJECTED, tracks, scales={"lr": "sequential"})
    assert view.scales == {"lr": "sequential"}
    assert view.domains["lr"] == [-1.0, 1.0]


def test_from_checkpoints_stacks_snapshots():
    snapshots = [
        {name: {side: np.asarray(v)[k] if np.ndim(v) == 2 else v for side, v in sides.items()}
         for name, sides in make_tracks().items()}
        for k in range(len(STEPS))
    ]  # fmt: skip
    view = TokenWeightView.from_checkpoints(CHOSEN, REJECTED, snapshots, STEPS, title="t")
    reference = make_view(title="t")
    assert view.steps == STEPS and view.title == "t"
    for name in reference.track_names:
        for side in ("chosen", "rejected"):
            np.testing.assert_array_equal(
                view.values(name, side, "all"), reference.values(name, side, "all")
            )


TW = {"chosen": np.zeros(4), "rejected": np.zeros(5)}  # a valid one-checkpoint track


def side(chosen, rejected=None) -> dict:
    return {"chosen": chosen, "rejected": np.zeros(5) if rejected is None else rejected}


@pytest.mark.parametrize(
    ("chosen", "rejected", "tracks", "kwargs", "message"),
    [
        ([], REJECTED, {"x": TW}, {}, "chosen_tokens is empty; pass at least one token"),
        (CHOSEN, REJECTED, {}, {}, "tracks is empty"),
        (
            CHOSEN, REJECTED, {"x": {"chosen": np.zeros(4)}}, {},
            "track 'x' has no 'rejected' values; its sides must be exactly",
        ),
        (
            CHOSEN, REJECTED, {"x": {**TW, "tie": [0]}}, {},
            "track 'x' has an unknown side 'tie'",
        ),
        (
            CHOSEN, REJECTED, {"kl": side(np.zeros(4), np.zeros(7))}, {},
            r"track 'kl' \(rejected\) has 7 values for 5 tokens",
        ),
        (
            CHOSEN, REJECTED, {"kl": side(np.zeros((3, 5)))}, {},
            r"track 'kl' \(chosen\) has 5 values per checkpoint for 4 tokens",
        ),
        (
            CHOSEN, REJECTED, {"kl": side(np.zeros((2, 3, 4)))}, {},
            r"track 'kl' \(chosen\) must be 1-D \(tokens\) or 2-D \(checkpoints, tokens\)",
        ),
        (
            CHOSEN, REJECTED, {"kl": side(np.zeros((2, 4)))}, {"steps": STEPS},
            r"track 'kl' \(chosen\) has 2 checkpoints \(rows\) but steps has 3",
        ),
        (
            CHOSEN, REJECTED, {"a": side(np.zeros((2, 4))), "b": side(np.zeros((3, 4)))}, {},
            r"track 'b' \(chosen\) has 3 checkpoints \(rows\) but track 'a' \(chosen\) has 2",
        ),
        (
            CHOSEN, REJECTED,
            {"kl": side(np.zeros((3, 4)), np.where(np.eye(3, 5, 2) > 0, np.nan, 0))},
            {"steps": STEPS},
            r"track 'kl' \(rejected\) has a non-finite value \(nan\) at checkpoint 0 \(step 0\), "
            r"token 2 'Ġran'",
        ),
        (
            CHOSEN, REJECTED, {"kl": side([0, 0, np.inf, 0])}, {},
            r"track 'kl' \(chosen\) has a non-finite value \(inf\) at token 2 'Ġsat'",
        ),
        (CHOSEN, REJECTED, {"x": TW}, {"steps": []}, "steps is empty"),
        (
            CHOSEN, REJECTED, {"x": side(np.zeros((2, 4)))}, {"steps": [10, 10]},
            r"steps must increase: steps\[1\] = 10 comes after steps\[0\] = 10",
        ),
        (
            CHOSEN, REJECTED, {"x": TW}, {"scales": {"x": "rainbow"}},
            r"scales\['x'\] is 'rainbow'; expected 'diverging' or 'sequential'",
        ),
        (
            CHOSEN, REJECTED, {"x": TW}, {"scales": {"y": "diverging"}},
            "scales names track 'y', which is not in tracks",
        ),
    ],
)  # fmt: skip
def test_bad_input_is_named_in_the_error(chosen, rejected, tracks, kwargs, message):
    with pytest.raises(ValueError, match=message):
        TokenWeightView(chosen, rejected, tracks, **kwargs)


@pytest.mark.parametrize(
    ("chosen", "rejected", "tracks", "kwargs", "message"),
    [
        (CHOSEN, "oops", {"x": TW}, {}, "rejected_tokens must be a sequence of strings"),
        (CHOSEN, ["a", 3], {"x": TW}, {}, r"rejected_tokens\[1\] is int 3; expected str"),
        (CHOSEN, REJECTED, {"x": [1, 2]}, {}, "track 'x' must map 'chosen' and 'rejected'"),
        (
            CHOSEN, REJECTED, {"kl": side(list("abcd"))}, {},
            r"track 'kl' \(chosen\) must hold real numbers",
        ),
        (CHOSEN, REJECTED, {"x": TW}, {"steps": [0.5]}, r"steps\[0\] is float 0.5; expected"),
    ],
)  # fmt: skip
def test_wrong_types_raise_type_error(chosen, rejected, tracks, kwargs, message):
    with pytest.raises(TypeError, match=message):
        TokenWeightView(chosen, rejected, tracks, **kwargs)


@pytest.mark.parametrize(
    ("snapshots", "steps", "message"),
    [
        ([{"x": TW}], [0, 1], "snapshots has 1 checkpoints but steps has 2"),
        (
            [{"x": TW}, {"y": TW}], [0, 1],
            r"snapshot 1 \(step 1\) has tracks \['y'\] but snapshot 0 has \['x'\]",
        ),
        (
            [{"x": TW}, {"x": side(np.zeros(4), np.zeros(6))}], [0, 50],
            r"track 'x' \(rejected\) at checkpoint 1 \(step 50\) has 6 values for 5 tokens",
        ),
        (
            [{"x": TW}, {"x": {"chosen": np.zeros(4)}}], [0, 50],
            r"track 'x' at checkpoint 1 \(step 50\) has no 'rejected' values",
        ),
        (
            [{"x": side(np.zeros((1, 4)))}], [0],
            r"track 'x' \(chosen\) at checkpoint 0 \(step 0\) must be 1-D",
        ),
    ],
)  # fmt: skip
def test_bad_snapshots_are_named_in_the_error(snapshots, steps, message):
    with pytest.raises(ValueError, match=message):
        TokenWeightView.from_checkpoints(CHOSEN, REJECTED, snapshots, steps)
