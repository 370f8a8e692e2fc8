"""AgentGraphView: a graph of learning agents, each colored by a value that changes over training.

Notebook 10 (decentralized adversarial training, Cao et al., arXiv 2303.13326) trains ``K``
agents that exchange parameters with their neighbours over a graph. The view draws that graph
(SVG, no third-party JS): one node per agent ``k`` at ``positions[k]``, one line per link, each
node filled by its value ``v_{s,k}`` at the recorded training step ``s`` (robust accuracy, say) on
one sequential color scale shared by every step, so dragging the step slider shows robustness
spreading (or not) through the graph. Each node shows ``k`` and its value; its tooltip adds its
label (its attack budget ``ε_k``, say). Clicking a node selects it (``selected``); the readout
then gives that agent's value, else the network's mean, min and max at the step shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import traitlets

from widgets.base import (
    InvalidValue,
    WidgetBase,
    as_numeric_array,
    check_shape,
    check_str_list,
    float32_bytes,
    from_float32_bytes,
    validated_float_array,
)


def _check_edges(edges: object, n_agents: int) -> list[list[int]]:
    """``edges`` as ``[ℓ, k]`` pairs of distinct agent indices in ``[0, K)``."""
    if isinstance(edges, str) or not isinstance(edges, Sequence | np.ndarray):
        raise TypeError(f"edges must be a sequence of (l, k) pairs, got {type(edges).__name__}")
    checked = []
    for i, edge in enumerate(edges):
        pair = as_numeric_array(edge, f"edges[{i}]")
        if pair.shape != (2,) or pair.dtype.kind not in "iu":
            raise ValueError(f"edges[{i}] is {edge!r}; expected a pair of agent indices (l, k)")
        ell, k = (int(v) for v in pair)
        if not (0 <= ell < n_agents and 0 <= k < n_agents) or ell == k:
            raise ValueError(
                f"edges[{i}] is ({ell}, {k}); expected two different agents in [0, {n_agents - 1}]"
            )
        checked.append([ell, k])
    return checked


def _circle(n_agents: int) -> np.ndarray:
    """Agents evenly on the unit circle, agent 0 at the top, clockwise."""
    angle = np.pi / 2 - 2 * np.pi * np.arange(n_agents) / n_agents
    return np.stack([np.cos(angle), np.sin(angle)], axis=1)


class AgentGraphView(WidgetBase):
    """Agents on a graph, colored by a per-step value, with a step slider.

    Args:
        edges: the links, ``(ℓ, k)`` pairs of agent indices (direction ignored).
        values: ``(S, K)`` value of each agent at each recorded step, finite.
        steps: the training step of each row of ``values``, increasing ints (default
            ``0..S-1``).
        positions: ``(K, 2)`` node coordinates in any units (default: a circle); y points up.
        labels: one text per agent for its tooltip (default ``"agent k"``).
        value_label: what the values are ("robust accuracy").
        value_range: ``(lo, hi)`` of the color scale (default: the values' min and max).
        title: heading shown above the view.

    Synced state: ``step_index`` (index into ``steps`` of the step shown; the slider sets it)
    and ``selected`` (an agent, or -1 for none; clicking a node sets it). The data traits are
    read-only: ``n_agents``, ``edges``, ``steps``, ``labels``, ``value_label``,
    ``value_range`` and the float32 buffers ``_positions`` (K·2) and ``_values`` (S·K).

    Raises:
        TypeError: ``edges`` that is not a sequence.
        ValueError: naming the argument and index: values that are not 2-D or not finite,
            steps not one per row or not increasing ints, positions not ``(K, 2)`` or not
            finite, an edge that is not two different agents, labels not one string per
            agent, a value range with ``lo >= hi``.
    """

    _asset = "agent_graph_view"

    n_agents = traitlets.Int(read_only=True, help="K, the number of agents.").tag(sync=True)
    edges = traitlets.List(read_only=True, help="Links as [l, k] pairs.").tag(sync=True)
    steps = traitlets.List(
        traitlets.Int(), read_only=True, help="Training step of each row of values."
    ).tag(sync=True)
    labels = traitlets.List(traitlets.Unicode(), read_only=True, help="Agent tooltips.").tag(
        sync=True
    )
    value_label = traitlets.Unicode(read_only=True, help="What the values are.").tag(sync=True)
    value_range = traitlets.List(
        traitlets.Float(), read_only=True, help="[lo, hi] of the color scale."
    ).tag(sync=True)
    _positions = traitlets.Bytes(read_only=True).tag(sync=True)
    _values = traitlets.Bytes(read_only=True).tag(sync=True)
    step_index = traitlets.Int(0, help="Index into steps of the step shown.").tag(sync=True)
    selected = traitlets.Int(-1, help="The selected agent, or -1.").tag(sync=True)

    def __init__(
        self,
        edges: Sequence[tuple[int, int]],
        values: object,
        *,
        steps: Sequence[int] | None = None,
        positions: object = None,
        labels: Sequence[str] | None = None,
        value_label: str = "value",
        value_range: tuple[float, float] | None = None,
        title: str = "",
    ) -> None:
        array = as_numeric_array(values, "values")
        check_shape(array, (None, None), "values", ("steps", "agents"))
        n_steps, n_agents = array.shape
        if not n_steps or not n_agents:
            raise ValueError(
                f"values has shape {array.shape}; it needs at least one step and agent"
            )
        values = validated_float_array(values, "values", (None, None), ("steps", "agents"))
        if steps is None:
            steps = list(range(n_steps))
        step_array = as_numeric_array(steps, "steps")
        check_shape(step_array, (n_steps,), "steps", ("rows of values",))
        if step_array.dtype.kind not in "iu" or (np.diff(step_array) <= 0).any():
            raise ValueError(f"steps must be increasing ints, got {list(steps)}")
        if positions is None:
            positions = _circle(n_agents)
        positions = validated_float_array(positions, "positions", (n_agents, 2), ("agents", "xy"))
        if labels is None:
            labels = [f"agent {k}" for k in range(n_agents)]
        labels = check_str_list(labels, "labels", kind="a list of texts", if_empty="one per agent")
        if len(labels) != n_agents:
            raise ValueError(f"labels has {len(labels)} texts for {n_agents} agents")
        if value_range is None:
            value_range = (float(values.min()), float(values.max()))
        lo, hi = (
            float(v) for v in validated_float_array(value_range, "value_range", (2,), ("lo, hi",))
        )
        if lo > hi:
            raise ValueError(f"value_range must have lo <= hi, got ({lo}, {hi})")
        if not isinstance(value_label, str):
            raise TypeError(f"value_label must be a str, got {type(value_label).__name__}")
        self.set_trait("n_agents", n_agents)
        self.set_trait("edges", _check_edges(edges, n_agents))
        self.set_trait("steps", [int(s) for s in step_array])
        self.set_trait("labels", labels)
        self.set_trait("value_label", value_label)
        self.set_trait("value_range", [lo, hi])
        self.set_trait("_positions", float32_bytes(positions))
        self.set_trait("_values", float32_bytes(values))
        super().__init__(step_index=n_steps - 1, title=title)

    @property
    def step(self) -> int:
        """The training step shown."""
        return self.steps[self.step_index]

    @property
    def current_values(self) -> np.ndarray:
        """Each agent's value at the step shown, as the browser has it (float32, ``K``)."""
        table = from_float32_bytes(self._values).reshape(len(self.steps), self.n_agents)
        return table[self.step_index]

    @traitlets.validate("step_index")
    def _validate_step_index(self, proposal: traitlets.Bunch) -> int:
        i = proposal["value"]
        if not 0 <= i < len(self.steps):
            raise InvalidValue(f"step_index must be in [0, {len(self.steps) - 1}], got {i}")
        return i

    @traitlets.validate("selected")
    def _validate_selected(self, proposal: traitlets.Bunch) -> int:
        k = proposal["value"]
        if not -1 <= k < self.n_agents:
            raise InvalidValue(
                f"selected must be -1 (none) or an agent in [0, {self.n_agents - 1}], got {k}"
            )
        return k
