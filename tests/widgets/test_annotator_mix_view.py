"""AnnotatorMixView on the Python side: traits, the nearest mix, binary state, validation."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets
from ipywidgets.widgets.widget import _remove_buffers

from widgets.annotator_mix_view import AnnotatorMixView, nearest
from widgets.base import from_float32_bytes

GROUPS = ["us", "gb", "sco"]
MIXES = [
    {"us": 0.8, "gb": 0.15, "sco": 0.05},
    {"us": 1 / 3, "gb": 1 / 3, "sco": 1 / 3},
    {"us": 0.0, "gb": 0.0, "sco": 1.0},
]


def metrics(k: int, stage: str) -> dict:
    """Made-up values: the reward of group g at mix k is its share, plus 0.1 after DPO."""
    bonus = 0.1 if stage == "dpo" else 0.0
    shares = [MIXES[k][g] for g in GROUPS]
    return {
        "reward": {g: s + bonus for g, s in zip(GROUPS, shares, strict=True)},
        "perplexity": {g: 3 - s for g, s in zip(GROUPS, shares, strict=True)},
    }


def make_runs():
    return [
        {"mix": mix, "stage": stage, "metrics": metrics(k, stage)}
        for k, mix in enumerate(MIXES)
        for stage in ("sft", "dpo")
    ]


def make_view(**kwargs) -> AnnotatorMixView:
    args = {"groups": GROUPS, "higher_is_better": {"perplexity": False}} | kwargs
    return AnnotatorMixView(args.pop("runs", make_runs()), **args)


def test_traits_defaults_and_values():
    view = make_view(
        reference={
            "reward": {"us": 0.1, "gb": 0.1, "sco": 0.1},
            "perplexity": {g: 3 for g in GROUPS},
        },
        metric_labels={"reward": "reward (agreement)"},
        title="Who alignment serves",
    )
    assert (view.groups, view.stages, view.metrics) == (
        GROUPS,
        ["sft", "dpo"],
        ["reward", "perplexity"],
    )
    assert view.metric_labels == {"reward": "reward (agreement)", "perplexity": "perplexity"}
    assert view.higher_is_better == {"reward": True, "perplexity": False}
    assert (view.metric, view.stage, view.mix_index) == ("reward", "dpo", 0)
    assert view.weights == pytest.approx([0.8, 0.15, 0.05])
    np.testing.assert_allclose(view.values(), np.float32([0.9, 0.25, 0.15]), rtol=1e-6)
    assert view.gap() == pytest.approx(0.75, rel=1e-6)
    assert view.gap("reward", "sft", index=1) == pytest.approx(0.0, abs=1e-6)
    assert view.reference["perplexity"] == [3.0, 3.0, 3.0]


def test_sliders_pick_the_nearest_mix():
    view = make_view()
    view.weights = [1, 1, 1.2]  # relative weights: near the balanced mix
    assert view.mix_index == 1 and view.mix == pytest.approx(
        dict(zip(GROUPS, [1 / 3] * 3, strict=True))
    )
    view.weights = [0, 0.2, 3]
    assert view.mix_index == 2
    assert nearest([[1, 0], [0, 1]], [1, 1]) == 0  # ties: the first


def test_state_sends_values_as_one_buffer():
    view = make_view()
    state, paths, buffers = _remove_buffers(view.get_state())
    sent = {path[0]: from_float32_bytes(b) for path, b in zip(paths, buffers, strict=True)}
    assert set(sent) == {"_values"}
    assert sent["_values"].shape == (3 * 2 * 2 * 3,)  # mixes × stages × metrics × groups
    assert state["mixes"][2] == [0.0, 0.0, 1.0]


def test_live_traits_are_checked():
    view = make_view()
    with pytest.raises(traitlets.TraitError, match="weights must hold 3 values"):
        view.weights = [1, 1]
    with pytest.raises(traitlets.TraitError, match=r"weights\['gb'\] is -1.0"):
        view.weights = [1, -1, 0]
    with pytest.raises(traitlets.TraitError, match="weights are all zero"):
        view.weights = [0, 0, 0]
    with pytest.raises(traitlets.TraitError, match="unknown metric 'loss'"):
        view.metric = "loss"
    with pytest.raises(traitlets.TraitError, match="unknown stage 'rlhf'"):
        view.stage = "rlhf"
    for name in ("groups", "mixes", "_values", "stages"):
        with pytest.raises(traitlets.TraitError, match="read-only"):
            setattr(view, name, [])


def with_run(i, **change):
    runs = make_runs()
    runs[i] = {**runs[i], **change}
    return runs


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"runs": []}, ValueError, "runs is empty"),
        ({"runs": [3]}, TypeError, r"runs\[0\] is int"),
        ({"runs": [{"mix": MIXES[0], "stage": "sft"}]}, ValueError, r"runs\[0\] has no 'metrics'"),
        ({"runs": with_run(0, mix={"us": 1, "fr": 1})}, ValueError, r"unknown group\(s\) \['fr'\]"),
        (
            {"runs": with_run(0, mix={"us": -1, "gb": 2})},
            ValueError,
            r"runs\[0\] mix\['us'\] is -1.0",
        ),
        ({"runs": with_run(0, mix={"us": 0, "gb": 0})}, ValueError, r"runs\[0\] mix is all zero"),
        ({"runs": with_run(0, mix={"us": float("nan")})}, ValueError, "expected a finite number"),
        ({"runs": with_run(1, stage="sft")}, ValueError, r"runs\[1\] repeats stage 'sft'"),
        ({"runs": make_runs()[:-1]}, ValueError, r"has no run for stage\(s\) \['dpo'\]"),
        (
            {"runs": with_run(2, metrics={"reward": {"us": 1, "gb": 1, "sco": 1}})},
            ValueError,
            r"runs\[2\] has metrics \['reward'\]",
        ),
        (
            {
                "runs": with_run(
                    0, metrics={"reward": {"us": 1, "gb": 1}, "perplexity": {g: 1 for g in GROUPS}}
                )
            },
            ValueError,
            r"no value for group\(s\) \['sco'\]",
        ),
        (
            {
                "runs": with_run(
                    0,
                    metrics={
                        "reward": {"us": 1, "gb": "x", "sco": 1},
                        "perplexity": {g: 1 for g in GROUPS},
                    },
                )
            },
            TypeError,
            r"metrics\['reward'\]\['gb'\] is str",
        ),
        (
            {
                "runs": with_run(
                    0,
                    metrics={
                        "reward": {"us": 1, "gb": float("inf"), "sco": 1},
                        "perplexity": {g: 1 for g in GROUPS},
                    },
                )
            },
            ValueError,
            "expected a finite number",
        ),
        ({"groups": "us"}, TypeError, "groups must be a list of group names, got one str"),
        ({"groups": ["us", "us"]}, ValueError, "groups repeats a name"),
        (
            {"reference": {"reward": {"us": 1}}},
            ValueError,
            r"reference\['reward'\] must give a value for every group",
        ),
        (
            {"higher_is_better": {"reward": 1}},
            TypeError,
            r"higher_is_better\['reward'\] must be True or False",
        ),
    ],
)
def test_bad_input_names_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_view(**kwargs)
