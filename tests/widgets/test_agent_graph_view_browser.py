"""AgentGraphView in Chromium, from a kernel-free static export: one node per agent and one line
per link, each node showing its value at the step shown and colored by it, the step slider
redrawing the values, a click selecting an agent for the readout. Skipped without
/usr/bin/chromium, except under ``CI=true`` where it fails. Saves
``test-artifacts/widgets/agent_graph_view.png``."""

from __future__ import annotations

import numpy as np
import pytest
from browser_helpers import ARTIFACTS, offline_page
from playwright.sync_api import expect

from widgets.agent_graph_view import AgentGraphView
from widgets.export import to_html

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

# A ring of five agents with one chord; values chosen away from rounding ties.
EDGES = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)]
VALUES = np.array(
    [
        [0.31, 0.42, 0.53, 0.64, 0.71],
        [0.62, 0.62, 0.21, 0.83, 0.47],  # agents 0 and 1 equal: same color
        [0.91, 0.33, 0.58, 0.77, 0.66],
    ]
)
STEPS = [0, 50, 100]
LABELS = [f"ε={e}" for e in (0.0, 0.05, 0.1, 0.15, 0.2)]


def readout(row: np.ndarray, step: int) -> str:
    row = np.float32(row).astype(np.float64)
    return f"step {step} · mean {row.mean():.3f} · min {row.min():.3f} · max {row.max():.3f}"


def fills(root) -> list[str]:
    return root.locator(".rt-node circle").evaluate_all(
        "cs => cs.map(c => getComputedStyle(c).fill)"
    )


def test_static_export_draws_steps_and_selects(browser, tmp_path) -> None:
    view = AgentGraphView(
        EDGES,
        VALUES,
        steps=STEPS,
        labels=LABELS,
        value_label="robust accuracy",
        title="Agent graph",
    )
    path = to_html(view, tmp_path / "agent_graph_view.html")
    with offline_page(browser, path, "light", height=700) as page:
        root = page.locator(".rt-agent-graph-view")
        nodes = root.locator(".rt-node")
        expect(nodes).to_have_count(len(VALUES[0]))
        expect(root.locator("line.rt-link")).to_have_count(len(EDGES))
        expect(root.locator(".rt-title")).to_have_text("Agent graph")
        # Each link joins the centers of its two agents' circles.
        centers = nodes.locator("circle").evaluate_all(
            "cs => cs.map(c => [+c.getAttribute('cx'), +c.getAttribute('cy')])"
        )
        lines = root.locator("line.rt-link").evaluate_all(
            "ls => ls.map(l => ['x1', 'y1', 'x2', 'y2'].map(a => +l.getAttribute(a)))"
        )
        for (ell, k), line in zip(EDGES, lines, strict=True):
            assert line == pytest.approx([*centers[ell], *centers[k]])
        assert min(range(5), key=lambda k: centers[k][1]) == 0  # default circle: agent 0 on top

        # The last step first: each node's value and tooltip, the network's summary.
        expect(root).to_have_attribute("data-step", "100")
        expect(root).to_have_attribute("data-selected", "-1")
        expect(nodes.locator(".rt-node-value")).to_have_text([f"{v:.2f}" for v in VALUES[2]])
        expect(nodes.locator("text:not(.rt-node-value)")).to_have_text([str(k) for k in range(5)])
        expect(nodes.locator("title")).to_have_text(
            [f"{label} · robust accuracy {v:g}" for label, v in zip(LABELS, VALUES[2], strict=True)]
        )
        expect(root.locator(".rt-step-readout")).to_have_text(readout(VALUES[2], 100))
        top = fills(root)
        assert len(set(top)) == 5  # five different values, five colors
        page.screenshot(path=ARTIFACTS / "agent_graph_view.png", full_page=True)

        # The slider redraws the values and colors of the step it picks.
        slider = root.locator(".rt-step-slider")
        slider.fill("1")
        expect(root).to_have_attribute("data-step", "50")
        expect(nodes.locator(".rt-node-value")).to_have_text([f"{v:.2f}" for v in VALUES[1]])
        expect(root.locator(".rt-step-readout")).to_have_text(readout(VALUES[1], 50))
        colors = fills(root)
        assert colors[0] == colors[1] and len(set(colors)) == 4
        # One scale over every step (0.21 to 0.91): its low end here, its high end at step 100.
        assert colors[2] != top[0] and colors != top
        slider.fill("0")
        expect(root).to_have_attribute("data-step", "0")
        expect(nodes.locator(".rt-node-value")).to_have_text([f"{v:.2f}" for v in VALUES[0]])

        # A click selects an agent: the readout gives its value; a second click deselects.
        nodes.nth(3).click()
        expect(root).to_have_attribute("data-selected", "3")
        expect(nodes.nth(3)).to_have_class("rt-node rt-selected")
        expect(root.locator(".rt-node.rt-selected")).to_have_count(1)
        expect(root.locator(".rt-step-readout")).to_have_text("step 0 · ε=0.15: 0.640")
        slider.fill("2")
        expect(root.locator(".rt-step-readout")).to_have_text("step 100 · ε=0.15: 0.770")
        nodes.nth(3).click()
        expect(root).to_have_attribute("data-selected", "-1")
        expect(root.locator(".rt-node.rt-selected")).to_have_count(0)
        expect(root.locator(".rt-step-readout")).to_have_text(readout(VALUES[2], 100))
