"""AttentionGeometryView in JupyterLab with the project kernel, then its static HTML export.

Uses the browser fixtures of conftest.py and the helpers of browser_helpers.py on this
module's notebook ``attention_geometry_view_demo.ipynb``: its view cell builds a 2,048-token
view whose attention row the kernel computes on each click; its last cell writes the static
export and prints what Python sees. Skipped without /usr/bin/chromium, except under
``CI=true`` where it fails. Saves
``test-artifacts/widgets/attention_geometry_view{,_static_dark}.png``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from browser_helpers import (
    ARTIFACTS,
    Lab,
    activate_cell,
    last_output,
    notebook_page,
    offline_page,
    rerun_until,
    run_command,
)
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

DEMO = Path(__file__).with_name("attention_geometry_view_demo.ipynb")
D = 16  # singular values per head in the notebook
# Singular values σ_i = c·e^{-0.5 i} (Q) and c·e^{-0.3 i} (K), a random c per head: the top
# direction's energy share σ_1²/Σσ_i² = (1 − e^{-2a}) / (1 − e^{-2aD}) does not depend on c.
Q_SHARE, K_SHARE = ((1 - math.exp(-2 * a)) / (1 - math.exp(-2 * a * D)) for a in (0.5, 0.3))
QUERY = 40  # attends to 0 (0.5), QUERY // 2 (0.25) and itself (0.25)
KEPT_INDICES = "spans => spans.filter(s => !s.matches('.rt-evicted')).map(s => +s.dataset.index)"


def check_round_trip(page) -> list[int]:
    """Run the view cell; pick layer, head and scale, click a query, drag the ratio to its
    end; Python sees the row, ratio and kept set. Returns the kept token indices."""
    activate_cell(page, 1)
    run_command(page, "notebook:run-cell")

    root = page.locator(".jp-OutputArea-output .rt-attention-geometry-view")
    tokens = root.locator(".rt-token")
    expect(tokens).to_have_count(2048)
    expect(root.locator(".rt-title")).to_have_text("Q-Filters: attention geometry and KV eviction")
    plot = root.locator("svg.rt-spectrum")
    expect(plot.locator("polyline.rt-curve")).to_have_count(2)
    expect(plot.locator(".rt-points-q circle")).to_have_count(D)
    expect(plot.locator(".rt-points-k circle")).to_have_count(D)
    energy = f"top direction σ₁²/Σσᵢ²: Q {100 * Q_SHARE:.1f}% · K {100 * K_SHARE:.1f}%"
    expect(root.locator(".rt-energy")).to_have_text(energy)
    expect(root.locator(".rt-ratio-readout")).to_have_text("0.875 · ×8.0 smaller cache")
    expect(root.locator(".rt-kept-rule")).to_have_text("(last 8 + top 248 by qfilters)")

    # Layer 1, query head 3: KV head 1 serves query heads 2-3; σ / σ_1 puts σ_1 at the top.
    root.get_by_label("Layer", exact=True).select_option("1")
    root.get_by_label("Head", exact=True).select_option("3")
    expect(root).to_have_attribute("data-kv-head", "1")
    expect(root.locator(".rt-kv-readout")).to_have_text("KV head 1 (query heads 2–3)")
    root.get_by_label("Spectrum scale").select_option("normalized")
    expect(plot.locator(".rt-points-q circle").first).to_have_attribute("cy", "8.0")

    # A click sends the query to Python, whose attention_row comes back and is drawn.
    tokens.nth(QUERY).click()
    expect(root).to_have_attribute("data-row-query", str(QUERY))
    expect(root.locator(".rt-row-readout")).to_contain_text(
        f'attention of query {QUERY} "Ġthe" (layer 1, head 3): the kept tokens hold'
    )
    bar = "span => span.style.getPropertyValue('--rt-attn')"
    bars = [tokens.nth(i).evaluate(bar) for i in (0, QUERY // 2, QUERY, QUERY + 1, 1)]
    assert bars == ["1.000", "0.500", "0.500", "0.000", "0.000"]  # weight / max weight
    tokens.nth(0).hover()
    expect(root.locator(".rt-status")).to_contain_text(f"attention from {QUERY} = 0.5")

    # The slider's end: ratio 0.97, ×33.3. The browser's kept set (scores rounded to 0.1, so
    # ties straddle the cut) is Python's kept_mask, token for token.
    root.locator("input.rt-ratio-slider").press("End")
    expect(root.locator(".rt-ratio-readout")).to_have_text("0.97 · ×33.3 smaller cache")
    expect(root.locator(".rt-kept-rule")).to_have_text("(last 8 + top 53 by qfilters)")
    kept = tokens.evaluate_all(KEPT_INDICES)
    assert len(kept) == 61 and 0 in kept  # int(2048 · 0.03), the sink among them
    expect(root).to_have_attribute("data-kept", str(len(kept)))
    held = re.search(r"hold (\S+%)", root.locator(".rt-row-readout").text_content()).group(1)
    assert held == "50.0%"  # the sink's 0.5 is kept, tokens 20 and 40 are not
    activate_cell(page, -1)
    rerun_until(page, last_output(page), f"row=[1, 3, {QUERY}] ratio=0.97 held={held} kept={kept}")

    root.scroll_into_view_if_needed()
    tokens.nth(QUERY // 2).hover()
    root.screenshot(path=ARTIFACTS / "attention_geometry_view.png")
    return kept


def test_round_trip_with_the_kernel_and_static_export(lab: Lab, browser) -> None:
    with notebook_page(browser, lab, DEMO) as page:
        kept = check_round_trip(page)

    # The export written with that state renders with no kernel: row, ratio and kept set.
    with offline_page(browser, lab.root / "attention_geometry_static.html", "dark", 900) as page:
        root = page.locator(".rt-attention-geometry-view")
        expect(root.locator(".rt-token")).to_have_count(2048)
        expect(root).to_have_attribute("data-kept", str(len(kept)))
        assert root.locator(".rt-token").evaluate_all(KEPT_INDICES) == kept
        expect(root).to_have_attribute("data-row-query", str(QUERY))
        expect(root.locator(".rt-token.rt-selected")).to_have_text("·the")
        expect(root).not_to_have_css("background-color", "rgb(255, 255, 255)")
        page.screenshot(path=ARTIFACTS / "attention_geometry_view_static_dark.png")
        root.locator(".rt-token").nth(3).click()  # no kernel to compute a new row
        expect(root.locator(".rt-row-readout")).to_have_text(
            "static copy: attention rows need a running kernel"
        )


def test_model_picker_switches_models_in_the_static_export(browser, tmp_path) -> None:
    """A view over two models (from_models) exported to HTML: the Model picker rebuilds the
    view from the other model's data with no kernel (tokens, layers, heads, scorers)."""
    import numpy as np

    from widgets import AttentionGeometryView
    from widgets.export import to_html

    rng = np.random.default_rng(0)

    def data(n_layers, n_heads, n_tokens, scorers):
        return dict(
            tokens=[f"t{i}" for i in range(n_tokens)],
            spectra_q=np.abs(rng.normal(size=(n_layers, n_heads, 8))),
            spectra_k=np.abs(rng.normal(size=(n_layers, 2, 8))),
            key_scores={s: rng.normal(size=(n_layers, 2, n_tokens)) for s in scorers},
            kv_group=n_heads // 2,
            title=f"{n_layers} layers",
        )

    view = AttentionGeometryView.from_models(
        {"small": data(2, 4, 30, ["qfilters", "knorm"]), "large": data(4, 6, 50, ["qfilters"])},
        ratio=0.5,
        window=2,
    )
    view.layer, view.head, view.scorer = 1, 3, "knorm"
    path = to_html(view, tmp_path / "models.html")
    with offline_page(browser, path, "light", 700) as page:
        root = page.locator(".rt-attention-geometry-view")
        expect(root.locator(".rt-token")).to_have_count(30)
        expect(root.locator(".rt-title")).to_have_text("2 layers")
        root.get_by_label("Model", exact=True).select_option("large")
        root = page.locator(".rt-attention-geometry-view")
        expect(root.locator(".rt-token")).to_have_count(50)
        expect(root.locator(".rt-title")).to_have_text("4 layers")
        expect(root.get_by_label("Layer", exact=True).locator("option")).to_have_count(4)
        expect(root.get_by_label("Head", exact=True).locator("option")).to_have_count(6)
        expect(root.get_by_label("Scorer").locator("option")).to_have_count(1)
        expect(root.locator(".rt-kept-rule")).to_contain_text("qfilters")
        root.get_by_label("Model", exact=True).select_option("small")
        expect(page.locator(".rt-attention-geometry-view .rt-token")).to_have_count(30)
