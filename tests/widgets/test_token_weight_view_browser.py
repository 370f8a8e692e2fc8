"""TokenWeightView in Chromium: the static HTML export, driven like a user would.

Uses the ``browser`` fixture of conftest.py (Chromium through Playwright) and
browser_helpers' offline pages, which must fetch nothing. Skipped without
/usr/bin/chromium, except under ``CI=true`` where it fails. Saves
``test-artifacts/widgets/token_weight_view.png``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_helpers import ARTIFACTS, offline_page
from playwright.sync_api import expect

from widgets import TokenWeightView
from widgets.export import to_html

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

CHOSEN = "The Ġcat Ġsat Ġon Ġthe Ġmat .".split()  # 7 tokens
REJECTED = "A Ġdog Ġran Ġaway !".split()  # 5 tokens
STEPS = [0, 100, 200]
# Values chosen so the colors are known: log-ratio spans [-2, 2] (diverging, alpha =
# 0.85 * |v| / 2), kl spans [0, 0.4] (sequential from 0, alpha = 0.85 * v / 0.4).
TRACKS = {
    "log-ratio": {
        "chosen": [[0] * 7, [0, 0.5, 1, 0.5, 0, -0.5, 0.25], [0, 1, 2, 1, 0, -1, 0.5]],
        "rejected": [[0] * 5, [-0.5, -1, 0, 0.5, -0.25], [-1, -2, 0, 1, -0.5]],
    },
    "kl": {
        "chosen": [[0] * 7, [0, 0.1, 0.2, 0.1, 0, 0.1, 0.05], [0, 0.2, 0.4, 0.2, 0, 0.2, 0.1]],
        "rejected": [[0] * 5, [0.05, 0.16, 0, 0.05, 0], [0.1, 0.2, 0, 0.1, 0.05]],
    },
    "reward mask": {"chosen": [1, 1, 1, 1, 1, 1, 0], "rejected": [1, 1, 1, 1, 0]},
}
POSITIVE, NEGATIVE, SEQUENTIAL = "178, 24, 43", "33, 102, 172", "27, 120, 55"  # light theme
SELECTED = re.compile(r"\brt-selected\b")


MAX_ALPHA = 0.85  # base.js: a value at the end of its scale is drawn at this opacity


def assert_tint(token, hue: str, strength: float) -> None:
    """The token's background is ``hue`` at ``strength`` (|value| / end of scale) of full.

    Reads the computed color once: call it after an ``expect`` that waits for the recolor
    (the step label and legend change in the same synchronous update as the colors).
    Chromium stores alpha in 8 bits, hence the tolerance.
    """
    css = token.evaluate("el => getComputedStyle(el).backgroundColor")
    match = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)", css)
    assert match, f"unexpected background {css!r}"
    assert ", ".join(match.group(1, 2, 3)) == hue, css
    assert float(match.group(4) or 1) == pytest.approx(MAX_ALPHA * strength, abs=1 / 255), css


@pytest.fixture
def export(tmp_path: Path) -> Path:
    view = TokenWeightView(
        CHOSEN,
        REJECTED,
        TRACKS,
        steps=STEPS,
        title="Token weights of one preference pair",
        prompt="Q: Where did the cat sit?",
    )
    view.selected_rejected = 1  # set in Python: the page must show it
    return to_html(view, tmp_path / "token_weight_view.html")


def test_static_export_recolors_on_track_and_checkpoint(browser, export: Path) -> None:
    with offline_page(browser, export, "light", height=330) as page:
        root = page.locator(".rt-token-weight-view")
        chosen = root.locator(".rt-side-chosen")
        rejected = root.locator(".rt-side-rejected")
        step = root.locator(".rt-step")
        slider = root.locator("input.rt-checkpoint-slider")
        sat = chosen.locator(".rt-token").nth(2)  # "Ġsat": the known token
        dog = rejected.locator(".rt-token").nth(1)  # "Ġdog"

        # Both strips drawn, labelled, with their own token counts and the Python state.
        expect(chosen.locator(".rt-side-label")).to_have_text("chosen")
        expect(rejected.locator(".rt-side-label")).to_have_text("rejected")
        expect(chosen.locator(".rt-token")).to_have_count(7)
        expect(rejected.locator(".rt-token")).to_have_count(5)
        expect(root.locator(".rt-prompt")).to_have_text("Q: Where did the cat sit?")
        expect(root.locator("select")).to_have_value("log-ratio")
        expect(step).to_have_text("step 0 (1/3)")
        expect(dog).to_have_class(SELECTED)
        expect(rejected.locator(".rt-status")).to_have_text(
            'selected token 1 "Ġdog" · log-ratio = 0 · step 0'
        )
        assert_tint(sat, POSITIVE, 0)  # log-ratio 0
        sat.hover()
        expect(chosen.locator(".rt-status")).to_have_text('token 2 "Ġsat" · log-ratio = 0 · step 0')

        # The slider moves through the checkpoints; colors follow the fixed [-2, 2] scale.
        slider.press("End")
        expect(step).to_have_text("step 200 (3/3)")
        assert_tint(sat, POSITIVE, 2 / 2)  # log-ratio 2 of [-2, 2]
        assert_tint(dog, NEGATIVE, 2 / 2)  # log-ratio -2
        slider.press("ArrowLeft")
        expect(step).to_have_text("step 100 (2/3)")
        assert_tint(sat, POSITIVE, 1 / 2)  # log-ratio 1
        sat.hover()
        expect(chosen.locator(".rt-status")).to_have_text(
            'token 2 "Ġsat" · log-ratio = 1 · step 100'
        )
        expect(root.locator(".rt-legend-lo")).to_have_text("-2")
        expect(root.locator(".rt-legend-hi")).to_have_text("2")

        # Another track at the same checkpoint: a sequential scale from 0, shared by both sides.
        root.locator("select").select_option("kl")
        expect(root.locator(".rt-legend")).to_have_attribute("data-kind", "sequential")
        expect(root.locator(".rt-legend-hi")).to_have_text("0.4")
        assert_tint(sat, SEQUENTIAL, 0.2 / 0.4)  # kl 0.2 of [0, 0.4]
        assert_tint(dog, SEQUENTIAL, 0.16 / 0.4)  # kl 0.16
        dog.hover()
        expect(rejected.locator(".rt-status")).to_have_text(
            'selected token 1 "Ġdog" · kl = 0.16 · step 100'  # hovering the selected token
        )

        # A click selects one token per side; arrow keys move it within that side only.
        sat.click()
        expect(sat).to_have_class(SELECTED)
        expect(dog).to_have_class(SELECTED)
        chosen.locator(".rt-strip").press("ArrowRight")
        expect(chosen.locator(".rt-token").nth(3)).to_have_class(SELECTED)
        expect(chosen.locator(".rt-token.rt-selected")).to_have_count(1)
        expect(rejected.locator(".rt-token.rt-selected")).to_have_count(1)
        rejected.locator(".rt-token").nth(4).click()
        expect(rejected.locator(".rt-token").nth(4)).to_have_class(SELECTED)
        expect(dog).not_to_have_class(SELECTED)

        # The picture: log-ratio at the last step, a token hovered.
        root.locator("select").select_option("log-ratio")
        slider.press("End")
        sat.hover()
        page.screenshot(path=ARTIFACTS / "token_weight_view.png")

    with offline_page(browser, export, "dark", height=330) as page:
        root = page.locator(".rt-token-weight-view")
        expect(root.locator(".rt-side-chosen .rt-token")).to_have_count(7)
        root.locator("input.rt-checkpoint-slider").press("End")
        expect(root.locator(".rt-step")).to_have_text("step 200 (3/3)")
        expect(root).not_to_have_css("background-color", "rgb(255, 255, 255)")
        page.screenshot(path=ARTIFACTS / "token_weight_view_dark.png")
