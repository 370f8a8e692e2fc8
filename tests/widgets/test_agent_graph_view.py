"""AgentGraphView on the Python side: traits, binary state, live traits and validation."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets
from ipywidgets.widgets.widget import _remove_buffers

from widgets.agent_graph_view import AgentGraphView
from widgets.base import from_float32_bytes

EDGES = [(0, 1), (1, 2), (2, 3), (3, 0)]
VALUES = np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], [0.2, 0.9, 0.4, 0.6]])


def make_view(**kwargs) -> AgentGraphView:
    args = {"edges": EDGES, "values": VALUES, "steps": [0, 10, 20]} | kwargs
    return AgentGraphView(args.pop("edges"), args.pop("values"), **args)


def test_traits_and_defaults():
    view = make_view(labels=["ε=0", "ε=0.1", "ε=0.2", "ε=0.3"], value_label="robust accuracy")
    assert (view.n_agents, view.steps, view.edges) == (4, [0, 10, 20], [list(e) for e in EDGES])
    assert view.value_range == pytest.approx([0.1, 0.9])
    assert (view.step_index, view.step, view.selected) == (2, 20, -1)  # the last step first
    np.testing.assert_array_equal(view.current_values, np.float32(VALUES[2]))
    view.step_index = 0
    np.testing.assert_array_equal(view.current_values, np.float32(VALUES[0]))
    plain = AgentGraphView(EDGES, VALUES)
    assert plain.steps == [0, 1, 2] and plain.labels == [f"agent {k}" for k in range(4)]
    positions = from_float32_bytes(plain._positions).reshape(4, 2)
    np.testing.assert_allclose(positions[0], [0, 1], atol=1e-7)  # agent 0 on top of a circle
    np.testing.assert_allclose(np.linalg.norm(positions, axis=1), 1, rtol=1e-6)


def test_state_sends_values_and_positions_as_buffers():
    view = make_view(positions=np.arange(8).reshape(4, 2), value_range=(0, 1))
    state, paths, buffers = _remove_buffers(view.get_state())
    sent = {path[0]: from_float32_bytes(b) for path, b in zip(paths, buffers, strict=True)}
    assert set(sent) == {"_positions", "_values"}
    np.testing.assert_array_equal(sent["_values"], np.float32(VALUES).ravel())
    np.testing.assert_array_equal(sent["_positions"], np.arange(8, dtype=np.float32))
    assert state["value_range"] == [0.0, 1.0]


def test_live_traits_are_checked():
    view = make_view()
    view.selected = 3
    with pytest.raises(traitlets.TraitError, match=r"step_index must be in \[0, 2\], got 3"):
        view.step_index = 3
    with pytest.raises(traitlets.TraitError, match=r"selected must be -1 \(none\) or an agent"):
        view.selected = 4
    assert view.selected == 3
    for name in ("n_agents", "edges", "steps", "labels", "_values"):
        with pytest.raises(traitlets.TraitError, match="read-only"):
            setattr(view, name, [])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"values": [0.1, 0.2]}, ValueError, r"values must be 2-D"),
        ({"values": np.zeros((0, 4))}, ValueError, "at least one step"),
        ({"values": [[0.1, np.nan, 0, 0]] * 3}, ValueError, r"values has a non-finite value"),
        ({"steps": [0, 10]}, ValueError, r"steps has 2 values for 3 rows of values"),
        ({"steps": [0, 10, 10]}, ValueError, "steps must be increasing ints"),
        ({"steps": [0.0, 1.0, 2.0]}, ValueError, "steps must be increasing ints"),
        ({"positions": np.zeros((3, 2))}, ValueError, "positions has 3 values"),
        ({"positions": [[0, 0]] * 3 + [[np.inf, 0]]}, ValueError, "positions has a non-finite"),
        ({"edges": [(0, 0)]}, ValueError, r"edges\[0\] is \(0, 0\); expected two different"),
        ({"edges": [(0, 1), (1, 4)]}, ValueError, r"edges\[1\] is \(1, 4\)"),
        ({"edges": [(0, 1, 2)]}, ValueError, r"edges\[0\] is .* a pair of agent indices"),
        ({"edges": "0-1"}, TypeError, "edges must be a sequence"),
        ({"labels": ["a", "b"]}, ValueError, "labels has 2 texts for 4 agents"),
        ({"labels": "abcd"}, TypeError, "labels must be a list of texts, got one str"),
        ({"value_range": (1, 0)}, ValueError, "value_range must have lo <= hi"),
        ({"value_label": 3}, TypeError, "value_label must be a str"),
    ],
)
def test_bad_input_names_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_view(**kwargs)
