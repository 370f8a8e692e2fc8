"""LineageView in Chromium, from a kernel-free static export: nodes colored by verdict, a
click shows the chain of reasons, the use menu recolors. Skipped without /usr/bin/chromium,
except under ``CI=true`` where it fails. Saves ``test-artifacts/widgets/lineage_view.png``."""

from __future__ import annotations

import pytest
from browser_helpers import ARTIFACTS, offline_page
from playwright.sync_api import expect

from toolkit.licensing import load_lineage
from widgets.export import to_html
from widgets.lineage_view import LineageView

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


def test_static_export_draws_selects_and_recolors(browser, tmp_path) -> None:
    graph = load_lineage()
    path = to_html(LineageView(graph, title="Curated lineage"), tmp_path / "lineage_view.html")
    with offline_page(browser, path, "light", height=900) as page:
        root = page.locator(".rt-lineage-view")
        expect(root.locator(".rt-lineage-node")).to_have_count(len(graph))
        expect(root.locator(".rt-lineage-edge")).to_have_count(graph.graph.number_of_edges())
        node = root.locator('.rt-lineage-node[data-name="alpaca-cleaned"]')
        expect(node).to_have_class("rt-lineage-node rt-changed")
        node.click()
        panel = root.locator(".rt-lineage-reasons")
        expect(panel.locator(".rt-panel-title")).to_contain_text("alpaca-cleaned: forbidden")
        expect(panel).to_contain_text("alpaca-data")
        expect(root.locator('.rt-lineage-node[data-name="alpaca-data"]')).to_have_class(
            "rt-lineage-node rt-responsible"
        )
        page.screenshot(path=ARTIFACTS / "lineage_view.png", full_page=True)
        root.get_by_label("Use").select_option("research")
        expect(panel.locator(".rt-panel-title")).to_contain_text("alpaca-cleaned: permitted")
