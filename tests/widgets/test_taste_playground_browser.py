"""TastePlayground in Chromium: the static HTML export, with no kernel behind it.

Uses the ``browser`` fixture of conftest.py (Chromium through Playwright) and
browser_helpers' offline pages, which must fetch nothing. Skipped without
/usr/bin/chromium, except under ``CI=true`` where it fails. Saves
``test-artifacts/widgets/taste_playground.png``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from browser_helpers import ARTIFACTS, offline_page
from playwright.sync_api import expect

from toolkit.music.taste import TasteProfile
from widgets import TastePlayground
from widgets.export import to_html

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

SR = 8000
SECONDS = 2.0
MELODY = [72, 74, 76, 79, 77, 76, 74, 72]  # eighth notes at 120 BPM: 0.25 s each
BASS = [48, 43]  # two half-bar notes
RANGES = {"brightness": (0, 2000), "tempo": (60, 180), "roughness": (0, 0.5)}


def pipeline(profile: TasteProfile, text: str, seed: int) -> dict:
    """Eight melody notes (transposed up by sweet), two bass notes, a 2 s tone, and features
    whose bars are known: brightness 1000·(1 + sweet), tempo 120, roughness sour / 2."""
    up = round(4 * profile.sweet)
    notes = [(p + up, 0.25 * i, 0.25 * i + 0.2, 100, "melody") for i, p in enumerate(MELODY)]
    notes += [(p, 1.0 * i, 1.0 * i + 0.9, 70, "bass") for i, p in enumerate(BASS)]
    t = np.arange(int(SECONDS * SR)) / SR
    return {
        "profile": profile,
        "notes": notes,
        "audio": 0.3 * np.sin(2 * np.pi * 440 * t) * np.exp(-t),
        "sample_rate": SR,
        "features": {
            "brightness": 1000 * (1 + profile.sweet),
            "tempo": 120.0,
            "roughness": profile.sour / 2,
        },
        "caption": f"A {profile.dominant} piece (seed {seed}).",
    }


@pytest.fixture
def export(tmp_path: Path) -> Path:
    playground = TastePlayground(
        pipeline,
        profile={"sweet": 0.6, "sour": 0.2},
        seed=3,
        feature_ranges=RANGES,
        title="Taste → music",
    )
    return to_html(playground, tmp_path / "taste_playground.html")


def test_static_export_shows_the_last_state(browser, export: Path) -> None:
    with offline_page(browser, export, "light", height=560) as page:
        root = page.locator(".rt-taste-playground")
        expect(root.locator(".rt-title")).to_have_text("Taste → music")

        # The inputs: five sliders at the initial profile, the seed, the text box.
        sliders = root.locator("input.rt-taste")
        expect(sliders).to_have_count(5)
        sweet = root.locator("input.rt-taste[data-taste=sweet]")
        expect(sweet).to_have_value("0.6")
        expect(root.locator("input.rt-taste[data-taste=sour]")).to_have_value("0.2")
        expect(root.locator("input.rt-taste[data-taste=umami]")).to_have_value("0")
        expect(root.locator(".rt-taste-value").first).to_have_text("0.60")
        expect(root.locator("input.rt-seed")).to_have_value("3")
        expect(root.locator("input.rt-taste-text")).to_have_value("")
        expect(root.locator("button.rt-use-text")).to_have_text("Use text")
        expect(root.locator(".rt-static-note")).to_have_text(
            "static copy: sliders need a running kernel"
        )

        # The outputs of the run at construction.
        expect(root.locator(".rt-caption")).to_have_text("A sweet piece (seed 3).")
        expect(root).to_have_attribute("data-caption", "A sweet piece (seed 3).")
        expect(root.locator(".rt-error")).to_be_hidden()
        expect(root).to_have_attribute("data-notes", "10")
        roll = root.locator("svg.rt-piano-roll")
        expect(roll.locator("rect.rt-note")).to_have_count(10)
        expect(roll.locator("rect.rt-note[data-voice=bass]")).to_have_count(2)
        expect(roll.locator("text", has_text="C3")).to_have_count(1)  # gridline at each C
        expect(roll.locator("text", has_text="C5")).to_have_count(1)
        expect(root.locator(".rt-voice-legend")).to_have_text("bassmelody")
        fills = roll.locator("rect.rt-note").evaluate_all(
            "rects => new Set(rects.map(r => getComputedStyle(r).fill)).size"
        )
        assert fills == 2  # one color per voice

        audio = root.locator("audio.rt-audio")
        assert audio.get_attribute("src").startswith("blob:")
        duration = audio.evaluate(
            "a => a.readyState >= 1 ? a.duration : new Promise((done) =>"
            " a.addEventListener('loadedmetadata', () => done(a.duration), { once: true }))"
        )
        assert duration == pytest.approx(SECONDS, abs=0.01)

        for name, value, width in [
            ("brightness", "1600", "80%"),
            ("tempo", "120", "50%"),
            ("roughness", "0.1", "20%"),
        ]:
            row = root.locator(f".rt-feature[data-feature={name}]")
            expect(row.locator(".rt-feature-name")).to_have_text(name)
            expect(row.locator(".rt-feature-value")).to_have_text(value)
            fill = row.locator(".rt-feature-fill")
            assert fill.evaluate("el => el.style.width") == width

        # A slider still moves in the page, but nothing recomputes without a kernel.
        sweet.press("ArrowRight")
        expect(sweet).to_have_value("0.65")
        expect(root.locator(".rt-taste-value").first).to_have_text("0.65")
        expect(root).to_have_attribute("data-notes", "10")
        expect(root.locator(".rt-caption")).to_have_text("A sweet piece (seed 3).")
        page.screenshot(path=ARTIFACTS / "taste_playground.png")

    with offline_page(browser, export, "dark", height=560) as page:
        root = page.locator(".rt-taste-playground")
        expect(root.locator("rect.rt-note")).to_have_count(10)
        expect(root).not_to_have_css("background-color", "rgb(255, 255, 255)")
        page.screenshot(path=ARTIFACTS / "taste_playground_dark.png")
