"""TokenStrip in a real browser: JupyterLab round trip, then the static HTML export.

Opens the fixture notebook ``token_strip_demo.ipynb`` in JupyterLab (the ``lab`` and
``browser`` fixtures of conftest.py: a headless server on a free localhost port, Debian's
Chromium through Playwright) and saves screenshots under ``test-artifacts/widgets/``.
Skipped without ``/usr/bin/chromium``, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import papermill
import pytest
from browser_helpers import (
    ARTIFACTS,
    KERNEL,
    Lab,
    activate_cell,
    last_output,
    notebook_page,
    offline_page,
    rerun_until,
    run_command,
)
from playwright.sync_api import expect

from toolkit.htmlexport import notebook_to_html, widget_to_html

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

DEMO = Path(__file__).with_name("token_strip_demo.ipynb")


# The status line while token 3 ("Ġfox") is hovered. The fixture's first cell gives it
# advantage ((3 * 5) % 9 - 4) / 4 = 0.5 and surprisal (3 * 7) % 11 / 2 = 5.
SELECTED = re.compile(r"\brt-selected\b")
HOVER_READOUT = {
    "advantage": 'token 3 "Ġfox" · advantage = 0.5',
    "surprisal": 'token 3 "Ġfox" · surprisal = 5',
}


# A counter widget in each of the three module shapes anywidget accepts.
COUNTER = """function render({ model, el }) {
  const show = () => { el.textContent = `count=${model.get("count")}`; };
  model.on("change:count", show);
  el.addEventListener("click", () => { model.set("count", model.get("count") + 1); });
  show();
}
"""
EXPORT_STYLES = {
    "default object": "export default { render };",
    "default factory": "export default async () => ({ render });",
    "named render": "export { render };",
}


def check_strip(strip, track: str, selected: int) -> None:
    """Tokens drawn, hover readout exact, the given track shown and token selected."""
    expect(strip.locator(".rt-token")).to_have_count(16)
    expect(strip.locator("select")).to_have_value(track)
    expect(strip.locator(".rt-token.rt-selected")).to_have_count(1 if selected >= 0 else 0)
    if selected >= 0:
        expect(strip.locator(".rt-token").nth(selected)).to_have_class(SELECTED)
    strip.locator(".rt-token").nth(3).hover()
    expect(strip.locator(".rt-status")).to_have_text(HOVER_READOUT[track])
    expect(strip.locator(".rt-token").nth(10)).to_have_text("↵")


def check_round_trip(page) -> None:
    """Run every cell; select, switch tracks and arrow through the strip; Python sees it."""
    run_command(page, "notebook:run-all-cells")
    output = last_output(page)
    expect(output).to_have_text("selected=-1 track=advantage")

    strips = page.locator(".jp-OutputArea-output .rt-token-strip")
    expect(strips).to_have_count(2)
    strip = strips.nth(0)
    check_strip(strip, "advantage", selected=-1)

    strip.locator(".rt-token").nth(7).click()
    expect(strip.locator(".rt-token").nth(7)).to_have_class(SELECTED)
    strip.locator("select").select_option("surprisal")
    check_strip(strip, "surprisal", selected=7)
    tokens = strip.locator(".rt-strip")  # arrow keys move the selection, not notebook cells
    tokens.press("ArrowRight")
    expect(strip.locator(".rt-token").nth(8)).to_have_class(SELECTED)
    tokens.press("ArrowLeft")
    expect(strip.locator(".rt-token").nth(7)).to_have_class(SELECTED)

    # Round trip: Python sees the browser's selection and track.
    activate_cell(page, -1)
    rerun_until(page, output, "selected=7 track=surprisal")

    # 5,000 tokens: all drawn; switching the track recolors the same span elements.
    big = strips.nth(1)
    expect(big.locator(".rt-token")).to_have_count(5000)
    probe = big.locator(".rt-token").nth(4321)
    probe.evaluate("span => { span.dataset.probe = 'kept'; }")
    before = probe.evaluate("span => span.style.backgroundColor")
    big.locator("select").select_option("wave")
    expect(probe).to_have_attribute("data-probe", "kept")
    assert probe.evaluate("span => span.style.backgroundColor") != before

    strip.scroll_into_view_if_needed()
    strip.locator(".rt-token").nth(3).hover()
    page.screenshot(path=ARTIFACTS / "jupyterlab_token_strip.png")
    light_background = strip.evaluate("el => getComputedStyle(el).backgroundColor")
    run_command(page, "apputils:change-theme", {"theme": "JupyterLab Dark"})
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    expect(strip).not_to_have_css("background-color", light_background)
    page.screenshot(path=ARTIFACTS / "jupyterlab_token_strip_dark.png")


def test_token_strip_round_trip_and_static_export(lab: Lab, browser) -> None:
    with notebook_page(browser, lab, DEMO) as page:
        check_round_trip(page)

    # The static export the last cell wrote: same state, rendered with no kernel or network.
    export = lab.root / "token_strip_static.html"
    for scheme, suffix in (("light", ""), ("dark", "_dark")):
        with offline_page(browser, export, scheme) as page:
            check_strip(page.locator(".rt-token-strip"), "surprisal", selected=7)
            page.screenshot(path=ARTIFACTS / f"static_export_token_strip{suffix}.png")


def test_executed_notebook_export_renders_offline(browser, tmp_path: Path) -> None:
    """The run report's path: papermill keeps widget state, notebook_to_html renders it."""
    executed = tmp_path / DEMO.name
    papermill.execute_notebook(DEMO, executed, kernel_name=KERNEL, progress_bar=False, cwd=tmp_path)
    export = notebook_to_html(executed, tmp_path / "token_strip_demo.html")
    with offline_page(browser, export, "light", height=900) as page:
        strips = page.locator(".rt-token-strip")
        expect(strips).to_have_count(2)
        check_strip(strips.nth(0), "advantage", selected=-1)
        expect(strips.nth(1).locator(".rt-token")).to_have_count(5000)
        # a core ipywidget is shown as its text: the slider's description and value
        expect(page.locator(".anywidget-host-placeholder")).to_contain_text("plain ipywidget")
        page.screenshot(path=ARTIFACTS / "notebook_export_token_strip.png", full_page=True)


@pytest.mark.parametrize("style", EXPORT_STYLES)
def test_static_host_runs_each_anywidget_module_shape(browser, tmp_path: Path, style: str) -> None:
    """The kernel-free host imports the module from the state and keeps model events live."""
    model = {
        "model_name": "AnyModel",
        "model_module": "anywidget",
        "model_module_version": "*",
        "state": {"_esm": COUNTER + EXPORT_STYLES[style], "_anywidget_id": "t.C", "count": 1},
    }
    state = {"version_major": 2, "version_minor": 0, "state": {"m": model}}
    with offline_page(browser, widget_to_html(state, "m", tmp_path / "c.html"), "light") as page:
        view = page.locator(".anywidget-host-view")
        expect(view).to_have_text("count=1")
        view.click()
        expect(view).to_have_text("count=2")
