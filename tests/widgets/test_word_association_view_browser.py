"""WordAssociationView in Chromium, from a kernel-free static export: the effect size line and
one bar per target word (sorted, X and Y in their own colors, signed about the zero line),
and the test menu switching between the precomputed tests. The word-set form says that
computing needs a kernel. Skipped without /usr/bin/chromium, except under ``CI=true`` where
it fails. Saves ``test-artifacts/widgets/word_association_view.png``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import ARTIFACTS, offline_page
from playwright.sync_api import expect

from toolkit.bias import association_test
from widgets import WordAssociationView
from widgets.export import to_html

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

BASE = 0.2  # cosine of every target with every B attribute


def weat_result(words_x, words_y, s_x, s_y):
    """An association test whose words have the associations ``s_x`` and ``s_y``: score
    matrices with two A and two B attributes, cos(w, a) = BASE + s(w) and cos(w, b) = BASE."""
    x_a = np.repeat(BASE + np.array(s_x)[:, None], 2, axis=1)
    y_a = np.repeat(BASE + np.array(s_y)[:, None], 2, axis=1)
    x_b, y_b = np.full((len(s_x), 2), BASE), np.full((len(s_y), 2), BASE)
    result = association_test(x_a, x_b, y_a, y_b, n_bootstrap=200, seed=0)
    return replace(result, words_x=tuple(words_x), words_y=tuple(words_y))


FLOWERS = weat_result(
    ("rose", "tulip", "daisy"), ("ant", "wasp", "moth"), (0.3, 0.2, 0.1), (-0.2, -0.1, 0.05)
)
WEAPONS = weat_result(
    ("guitar", "violin", "drum"), ("sword", "rifle", "bomb"), (-0.05, 0.1, -0.15), (0.25, 0, 0.15)
)


def summary(result) -> str:
    """The view's summary line (JS toFixed(2) and toPrecision(2))."""
    return (
        f"d = {result.effect_size:.2f} (95% CI {result.ci_low:.2f} to {result.ci_high:.2f}), "
        f"p = {result.p_value:#.2g}"
    )


@pytest.fixture
def export(tmp_path: Path) -> Path:
    view = WordAssociationView(
        {"weat1": ("Flowers vs insects", FLOWERS), "weat2": ("Instruments vs weapons", WEAPONS)},
        compute=lambda *sets: FLOWERS,  # shows the word-set form; no kernel runs it
        title="WEAT: association of each target word",
    )
    return to_html(view, tmp_path / "word_association_view.html")


def bar_geometry(root, word: str) -> tuple[float, float, float]:
    """(left, right, width) of the bar of ``word``, as fractions of its track's width."""
    track = root.locator(f".rt-word:text-is('{word}')").locator("xpath=following-sibling::*[1]")
    t = track.bounding_box()
    b = track.locator(".rt-bar").bounding_box()
    return (
        (b["x"] - t["x"]) / t["width"],
        (b["x"] + b["width"] - t["x"]) / t["width"],
        b["width"] / t["width"],
    )


def test_static_export_shows_bars_and_switches_tests(browser, export: Path) -> None:
    # The data as the view gets it: 3 + 3 words enumerate all 20 partitions exactly.
    assert FLOWERS.effect_size > 1 and FLOWERS.p_value == pytest.approx(0.05)
    assert WEAPONS.effect_size < -1 and WEAPONS.p_value == pytest.approx(0.95)

    with offline_page(browser, export, "light", height=620) as page:
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        root = page.locator(".rt-word-association-view")
        picker = root.get_by_label("Test")
        words = root.locator(".rt-bars .rt-word")
        bars = root.locator(".rt-bars .rt-bar")

        expect(root.locator(".rt-title")).to_have_text("WEAT: association of each target word")
        expect(root).to_have_attribute("data-selected", "weat1")
        expect(picker).to_be_enabled()
        expect(picker.locator("option")).to_have_text(
            ["weat1: Flowers vs insects", "weat2: Instruments vs weapons"]
        )
        expect(root.locator(".rt-summary")).to_have_text(summary(FLOWERS))
        expect(root.locator(".rt-summary")).to_contain_text("d = 1.53")
        expect(root.locator(".rt-summary")).to_contain_text("p = 0.050")
        expect(root.locator(".rt-key")).to_contain_text("X words")
        expect(root.locator(".rt-key")).to_contain_text("Y words")
        expect(root.locator(".rt-key")).to_contain_text("bar: mean cos to A − mean cos to B")

        # One bar per target word, highest association first, its value in the tooltip.
        expect(words).to_have_text(["rose", "tulip", "daisy", "moth", "wasp", "ant"])
        titles = ["rose: 0.3000", "tulip: 0.2000", "daisy: 0.1000", "moth: 0.0500"]
        expect(bars).to_have_count(6)
        for i, title in enumerate(titles + ["wasp: -0.1000", "ant: -0.2000"]):
            expect(bars.nth(i)).to_have_attribute("title", title)
        # The largest |s(w)| spans half the track; negative values grow left of the zero line.
        left, right, width = bar_geometry(root, "rose")
        assert (left, width) == (pytest.approx(0.5, abs=0.01), pytest.approx(0.5, abs=0.01))
        left, right, width = bar_geometry(root, "ant")
        assert (right, width) == (pytest.approx(0.5, abs=0.01), pytest.approx(1 / 3, abs=0.01))
        left, right, width = bar_geometry(root, "moth")
        assert (left, width) == (pytest.approx(0.5, abs=0.01), pytest.approx(1 / 12, abs=0.01))
        # X words in category 0's color, Y words in category 1's.
        colors = [
            bars.nth(i).evaluate("e => getComputedStyle(e).backgroundColor") for i in range(6)
        ]
        x_color, y_color = colors[0], colors[3]
        assert x_color != y_color
        assert colors == [x_color, x_color, x_color, y_color, y_color, y_color]

        # The static copy keeps the form but says computing needs a kernel; Compute changes nothing.
        expect(root.locator(".rt-static-note")).to_contain_text("needs a running kernel")
        root.get_by_label("X words").fill("lily, daisy")
        root.locator(".rt-compute").click()
        expect(root).to_have_attribute("data-selected", "weat1")
        expect(picker.locator("option")).to_have_count(2)
        expect(root.locator(".rt-error")).to_be_empty()
        page.screenshot(path=ARTIFACTS / "word_association_view.png", full_page=True)

        # The menu switches to the other precomputed test: its d, p, words and order.
        picker.select_option("weat2")
        expect(root).to_have_attribute("data-selected", "weat2")
        expect(root.locator(".rt-summary")).to_have_text(summary(WEAPONS))
        expect(root.locator(".rt-summary")).to_contain_text("d = -1.15")
        expect(root.locator(".rt-summary")).to_contain_text("p = 0.95")
        expect(words).to_have_text(["sword", "bomb", "violin", "rifle", "guitar", "drum"])
        expect(bars.first).to_have_attribute("title", "sword: 0.2500")
        expect(bars.last).to_have_attribute("title", "drum: -0.1500")
        colors = [
            bars.nth(i).evaluate("e => getComputedStyle(e).backgroundColor") for i in range(6)
        ]
        assert colors == [y_color, y_color, x_color, y_color, x_color, x_color]
        left, right, width = bar_geometry(root, "sword")
        assert (left, width) == (pytest.approx(0.5, abs=0.01), pytest.approx(0.5, abs=0.01))
        left, right, width = bar_geometry(root, "drum")
        assert (right, width) == (pytest.approx(0.5, abs=0.01), pytest.approx(0.3, abs=0.01))

        picker.select_option("weat1")
        expect(root).to_have_attribute("data-selected", "weat1")
        expect(root.locator(".rt-summary")).to_have_text(summary(FLOWERS))
        expect(words.first).to_have_text("rose")
        assert errors == []
