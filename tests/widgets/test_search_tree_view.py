"""SearchTreeView on the Python side: traits from a traced search, validation, static export."""

from __future__ import annotations

import json
import re

import pytest

from toolkit.htmlexport import STATE_MIME
from widgets.export import to_html
from widgets.search_tree_view import SearchTreeView


def node(parent=-1, token="a", score=-1.0, chosen=True, **extra):
    return dict(
        parent=parent,
        token=token,
        token_logp=-1.0,
        logp=score,
        heuristic=0.0,
        score=score,
        lookahead=" z",
        chosen=chosen,
        **extra,
    )


STEPS = [
    [node(token="The"), node(token="A", score=-2.0, chosen=False)],
    [node(0, " cat"), node(0, " dog", -3.0, False)],
]


def test_from_generation_keeps_every_step_and_the_path(generation):
    view = SearchTreeView.from_generation(generation, title="demo")
    assert len(view.steps) == len(generation.steps)
    assert [len(s) for s in view.steps] == [len(s) for s in generation.steps]
    assert view.path == generation.path and view.title == "demo"
    assert all(view.steps[t][i]["chosen"] for t, i in enumerate(view.path))
    prefix, lookahead = view.text(len(view.path) - 1, view.path[-1])
    assert generation.text.startswith(prefix.replace("<|endoftext|>", "")[: len(generation.text)])
    assert lookahead == generation.steps[len(view.path) - 1][view.path[-1]].lookahead


def test_text_follows_parents():
    view = SearchTreeView(STEPS, [0, 0])
    assert view.text(1, 1) == ("The dog", " z")


def test_selected_is_validated():
    view = SearchTreeView(STEPS, [0, 0])
    view.selected = [1, 1]
    assert view.selected == [1, 1]
    for bad in ([2, 0], [0, 5], [1]):
        with pytest.raises(ValueError, match="selected"):
            view.selected = bad
    assert view.selected == [1, 1]


@pytest.mark.parametrize(
    "steps, path, error, match",
    [
        ([], (), ValueError, "non-empty"),
        ([[]], (), ValueError, r"steps\[0\]"),
        ([[node(parent=0)]], (), ValueError, r"steps\[0\]\[0\]\.parent"),
        ([[node()], [node(parent=3)]], (), ValueError, r"steps\[1\]\[0\]\.parent"),
        ([[{**node(), "score": float("nan")}]], (), ValueError, r"steps\[0\]\[0\]\.score"),
        ([[{"token": "a"}]], (), ValueError, "lacks"),
        ([["a"]], (), TypeError, r"steps\[0\]\[0\]"),
        ([[node(token=3)]], (), TypeError, r"\.token"),
        (STEPS, [0, 5], ValueError, r"path\[1\]"),
        (STEPS, [1, 0], ValueError, "not a child"),
        (STEPS, [0, 0, 0], ValueError, "path has 3"),
    ],
)
def test_bad_steps_and_paths_are_named(steps, path, error, match):
    with pytest.raises(error, match=match):
        SearchTreeView(steps, path)


def test_a_generation_without_trace_is_refused(generation):
    untraced = type(generation)(**{**vars(generation), "steps": [], "path": []})
    with pytest.raises(ValueError, match="trace=True"):
        SearchTreeView.from_generation(untraced)


def test_static_export_carries_steps_and_module(tmp_path):
    view = SearchTreeView(STEPS, [0, 0], title="tree")
    view.selected = [0, 1]
    page = to_html(view, tmp_path / "tree.html").read_text(encoding="utf-8")
    match = re.search(rf'<script type="{re.escape(STATE_MIME)}">(.*?)</script>', page, re.DOTALL)
    state = json.loads(match.group(1))["state"][view.model_id]["state"]
    assert state["steps"][1][1]["token"] == " dog" and state["path"] == [0, 0]
    assert state["selected"] == [0, 1]
    assert "export default { render }" in state["_esm"]
