"""TrajectoryView in Chromium: a JupyterLab round trip, then a kernel-free static export.

Uses the browser fixtures of conftest.py and the helpers of browser_helpers.py (JupyterLab
with the project kernel, Chromium through Playwright, pages that must fetch nothing) on this
module's notebook ``trajectory_view_demo.ipynb``. Skipped without /usr/bin/chromium, except
under ``CI=true`` where it fails. Saves ``test-artifacts/widgets/trajectory_view*.png``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from browser_helpers import (
    ARTIFACTS,
    activate_cell,
    last_output,
    notebook_page,
    offline_page,
    rerun_until,
    run_command,
)
from playwright.sync_api import expect

from widgets.export import to_html
from widgets.trajectory_view import TrajectoryView

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

DEMO = Path(__file__).with_name("trajectory_view_demo.ipynb")
# Pixels of the error scale's green (--rt-sequential) on the canvas: segments colored by error.
# Everything else the canvas draws is grey (grid, axes, reference) or a track's marker hue.
GREEN_PIXELS = """canvas => {
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let count = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 1] - Math.max(data[i], data[i + 2]) > 30) count++;
  }
  return count;
}"""


def wait_for_green(canvas, at_least: int = 1, at_most: int | None = None) -> None:
    """Wait (up to 10 s) until the canvas shows between ``at_least`` and ``at_most`` green
    pixels; the view paints in animation frames, so poll once per frame."""
    canvas.evaluate(
        f"""(canvas, [lo, hi]) => new Promise((done, fail) => {{
          const count = {GREEN_PIXELS};
          const deadline = performance.now() + 10000;
          const check = () => {{
            const n = count(canvas);
            if (n >= lo && n <= (hi ?? Infinity)) done(n);
            else if (performance.now() > deadline) fail(new Error(`${{n}} green pixels`));
            else requestAnimationFrame(check);
          }};
          check();
        }})""",
        [at_least, at_most],
    )


def test_jupyterlab_playhead_round_trip(lab, browser) -> None:
    with notebook_page(browser, lab, DEMO) as page:
        run_command(page, "notebook:run-all-cells")
        output = last_output(page)
        expect(output).to_have_text("time_index=120 playing=False visible=[True, True, True]")

        root = page.locator(".jp-OutputArea-output .rt-trajectory-view")
        canvas = root.locator("canvas.rt-canvas")
        slider = root.locator("input.rt-time-slider")
        errors = root.locator(".rt-track-error")
        expect(root.locator(".rt-title")).to_have_text("Circle: three controllers")
        expect(root.locator(".rt-track-name")).to_have_text(["geometric", "PID", "PPO"])
        # Python's time_index = 120 (set after the view was shown) moved the playhead.
        expect(slider).to_have_value("120")
        expect(root.locator(".rt-clock")).to_have_text("t = 2.40 s / 3.98 s")
        expect(errors).to_have_text(["0.020 m", "0.100 m", "0.120 m"])
        wait_for_green(canvas, at_least=200)

        # Scrub to the end and hide PID: Python sees both.
        slider.press("End")
        expect(errors.nth(2)).to_have_text("crashed at 3.00 s")
        pid = root.locator("button.rt-track[data-track=PID]")
        pid.click()
        expect(pid).to_have_attribute("aria-pressed", "false")
        activate_cell(page, -1)
        rerun_until(page, output, "time_index=199 playing=False visible=[True, False, True]")

        # Python moves the playhead of the live view (the cell `view.time_index = 120`).
        activate_cell(page, 2)
        run_command(page, "notebook:run-cell")
        expect(slider).to_have_value("120")
        expect(root.locator(".rt-clock")).to_have_text("t = 2.40 s / 3.98 s")

        # Play a stretch at 1×, pause: Python gets the paused step.
        play = root.locator("button.rt-play")
        play.click()
        expect(root).to_have_attribute("data-playing", "true")
        page.wait_for_function(
            "el => Number(el.value) >= 140", arg=slider.element_handle(), polling="raf"
        )
        play.click()
        expect(root).to_have_attribute("data-playing", "false")
        paused = slider.input_value()
        assert 140 <= int(paused) < 199
        activate_cell(page, -1)
        rerun_until(page, output, f"time_index={paused} playing=False visible=[True, False, True]")

        root.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "jupyterlab_trajectory_view.png")


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """2,000 steps (40 s) of four controllers on a circle, PPO crashing at step 1,500."""
    steps, dt = 2000, 0.02
    t = np.arange(steps) * dt
    w = np.pi
    reference = np.stack([0.5 * np.sin(w * t), 0.5 * (1 - np.cos(w * t)), np.ones(steps)], -1)
    wobble = np.stack([np.sin(3 * t), np.cos(2 * t), 0.5 * np.sin(t)], -1)
    actual = np.stack([reference + amplitude * wobble for amplitude in (0.01, 0.05, 0.1, 0.2)])
    actual[3, 1500:] = np.nan
    labels = ["geometric", "PID", "IMC-PPO", "PPO"]
    view = TrajectoryView(reference, actual, dt=dt, labels=labels, title="Circle, 40 s")
    view.time_index = 1600  # after PPO's crash
    return to_html(view, tmp_path / "trajectory_view.html")


def test_static_export_draws_plays_and_toggles_without_a_kernel(browser, export: Path) -> None:
    with offline_page(browser, export, "light", height=620) as page:
        root = page.locator(".rt-trajectory-view")
        canvas = root.locator("canvas.rt-canvas")
        slider = root.locator("input.rt-time-slider")
        expect(root.locator(".rt-track-name")).to_have_text(["geometric", "PID", "IMC-PPO", "PPO"])
        expect(slider).to_have_value("1600")
        expect(root.locator(".rt-clock")).to_have_text("t = 32.00 s / 39.98 s")
        expect(root.locator(".rt-track-error").nth(3)).to_have_text("crashed at 30.00 s")
        expect(root.locator(".rt-legend-lo")).to_have_text("0")
        wait_for_green(canvas, at_least=1000)
        page.screenshot(path=ARTIFACTS / "trajectory_view.png")

        # Hiding every track leaves no error-colored pixel; showing one brings them back.
        entries = root.locator("button.rt-track")
        for i in range(4):
            entries.nth(i).click()
        expect(root.locator("button.rt-track[aria-pressed=false]")).to_have_count(4)
        wait_for_green(canvas, at_least=0, at_most=0)
        entries.nth(3).click()
        wait_for_green(canvas, at_least=100)

        # Orbit: a drag redraws the scene from another angle.
        before = canvas.evaluate("c => c.toDataURL()")
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + 300, box["y"] + 200)
        page.mouse.down()
        page.mouse.move(box["x"] + 420, box["y"] + 240, steps=4)
        page.mouse.up()
        page.wait_for_function(
            "([c, before]) => c.toDataURL() !== before",
            arg=[canvas.element_handle(), before],
            polling="raf",
        )

        # Playback at 4×: the playhead and clock advance, then stop at the end.
        root.get_by_label("Speed").select_option("4")
        root.locator("button.rt-play").click()
        expect(root.locator("button.rt-play")).to_have_text("❚❚ Pause")
        expect(root).to_have_attribute("data-playing", "false", timeout=15_000)
        expect(slider).to_have_value("1999")
        expect(root.locator(".rt-clock")).to_have_text("t = 39.98 s / 39.98 s")

    with offline_page(browser, export, "dark", height=620) as page:
        root = page.locator(".rt-trajectory-view")
        wait_for_green(root.locator("canvas.rt-canvas"), at_least=1000)
        expect(root).not_to_have_css("background-color", "rgb(255, 255, 255)")
        page.screenshot(path=ARTIFACTS / "trajectory_view_dark.png")
