"""AnnotatorMixView in Chromium: the static HTML export, driven like a learner would.

Uses the ``browser`` fixture of conftest.py (Chromium through Playwright) and
browser_helpers' offline pages, which must fetch nothing. Skipped without /usr/bin/chromium,
except under ``CI=true`` where it fails. Saves ``test-artifacts/widgets/annotator_mix_view.png``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_helpers import ARTIFACTS, offline_page
from playwright.sync_api import expect
from test_annotator_mix_view import GROUPS, make_runs

from widgets import AnnotatorMixView
from widgets.export import to_html

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    view = AnnotatorMixView(
        make_runs(),
        groups=GROUPS,
        higher_is_better={"perplexity": False},
        reference={"reward": {g: 0.2 for g in GROUPS}, "perplexity": {g: 2.5 for g in GROUPS}},
        title="Who alignment serves",
    )
    return to_html(view, tmp_path / "annotator_mix_view.html")


def test_static_export_moves_with_the_sliders(browser, export: Path) -> None:
    with offline_page(browser, export, "light", height=620) as page:
        root = page.locator(".rt-annotator-mix-view")
        readout = root.locator(".rt-mix-readout")
        bars = root.locator("svg.rt-bars .rt-bar")
        simplex = root.locator("svg.rt-simplex")

        expect(root.locator(".rt-title")).to_have_text("Who alignment serves")
        expect(root).to_have_attribute("data-mix", "0")
        expect(readout).to_contain_text("nearest sweep mix 80 / 15 / 5")
        expect(readout).to_contain_text("dpo · gap 0.750 · best us, worst sco")
        expect(bars).to_have_count(3)
        expect(root.locator("svg.rt-bars .rt-reference")).to_have_count(3)
        expect(simplex.locator(".rt-mix")).to_have_count(3)
        expect(simplex.locator(".rt-current")).to_have_attribute("data-index", "0")

        # The learner raises the Scots annotators' weight all the way: 80/15/100 is nearest
        # the balanced mix; with the others at zero, the all-Scots mix.
        sco = root.get_by_label("weight of sco")
        sco.focus()
        sco.press("End")
        expect(root).to_have_attribute("data-mix", "1")
        expect(readout).to_contain_text("nearest sweep mix 33 / 33 / 33")
        expect(readout).to_contain_text("gap 0.000")
        for group in ("us", "gb"):
            slider = root.get_by_label(f"weight of {group}")
            slider.focus()
            slider.press("Home")
        expect(root).to_have_attribute("data-mix", "2")
        expect(readout).to_contain_text("nearest sweep mix 0 / 0 / 100")

        # Clicking a dot of the triangle moves the sliders to that mix.
        simplex.locator(".rt-mix").nth(0).click()
        expect(root).to_have_attribute("data-mix", "0")
        expect(root.get_by_label("weight of us")).to_have_value("80")

        # Another metric and stage: perplexity, lower is better.
        root.get_by_label("Metric").select_option("perplexity")
        root.get_by_label("Stage").select_option("sft")
        expect(root).to_have_attribute("data-metric", "perplexity")
        expect(readout).to_contain_text("sft · gap 0.750 · best us, worst sco")
        root.get_by_label("Metric").select_option("reward")
        page.screenshot(path=ARTIFACTS / "annotator_mix_view.png")

    with offline_page(browser, export, "dark", height=620) as page:
        root = page.locator(".rt-annotator-mix-view")
        expect(root.locator("svg.rt-bars .rt-bar")).to_have_count(3)
        page.screenshot(path=ARTIFACTS / "annotator_mix_view_dark.png")
