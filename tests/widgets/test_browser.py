"""TokenStrip in a real browser: JupyterLab round trip, then the static HTML export.

Starts JupyterLab headless on a free localhost port with the fixture notebook
``token_strip_demo.ipynb``, drives Debian's Chromium through Playwright, and saves
screenshots under ``test-artifacts/widgets/``. Needs ``/usr/bin/chromium``
(``apt-get install chromium``): skipped without it, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import papermill
import pytest
from playwright.sync_api import expect, sync_playwright

from toolkit.htmlexport import notebook_to_html, widget_to_html

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FIXTURE = Path(__file__).with_name("token_strip_demo.ipynb")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "widgets"
STARTUP_TIMEOUT_S = 90
UI_TIMEOUT_MS = 60_000


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


@dataclass
class Lab:
    url: str
    token: str
    root: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_status(lab: Lab, process: subprocess.Popen, log: Path) -> None:
    """Poll /api/status until the server answers, the process dies, or the deadline passes."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    status_url = f"{lab.url}/api/status?token={lab.token}"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(status_url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)  # polling interval, not a wait for a fixed state
    pytest.fail(f"JupyterLab not ready in {STARTUP_TIMEOUT_S}s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    """Terminate the server's process group (it stops its kernels); kill it if it hangs."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def isolated_env(base: Path) -> dict[str, str]:
    """Environment with private Jupyter config/settings dirs and no news or update checks."""
    settings = base / "lab-settings"
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification"
    notification.parent.mkdir(parents=True)
    notification.with_suffix(".jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True})
    )
    return {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
    }


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing; install it with `apt-get install chromium`"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI must run the browser tests)")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def lab(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab serving a copy of the fixture notebook; stopped (with its kernels) after."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "root"
    root.mkdir()
    shutil.copy(FIXTURE, root / FIXTURE.name)
    port = free_port()
    lab = Lab(url=f"http://127.0.0.1:{port}", token=secrets.token_hex(16), root=root)
    log = base / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={lab.token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--LabApp.expose_app_in_browser=True",
        f"--ServerApp.allow_root={os.geteuid() == 0}",  # CI containers often run as root
    ]  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=isolated_env(base),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group; on SIGTERM it shuts its kernels down
        )
    try:
        wait_for_status(lab, process, log)
        yield lab
    finally:
        stop(process)


@pytest.fixture(scope="module")
def browser(chromium_path: Path):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        expect.set_options(timeout=UI_TIMEOUT_MS)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        yield browser
        browser.close()


def run_command(page, command: str, args: dict | None = None) -> None:
    """Start a JupyterLab command (exposed as window.jupyterapp); don't wait for it to finish."""
    page.evaluate(
        "([command, args]) => { window.jupyterapp.commands.execute(command, args); }",
        [command, args or {}],
    )


def open_notebook(page, lab: Lab) -> None:
    """Open the fixture notebook and wait for an idle research-toolkit kernel."""
    page.goto(f"{lab.url}/lab/tree/{FIXTURE.name}?token={lab.token}")
    page.wait_for_function(
        "() => document.querySelector('.jp-Dialog')"
        " || window.jupyterapp?.shell.currentWidget?.sessionContext?.isReady"
    )
    dialog = page.locator(".jp-Dialog")
    if dialog.count():  # "Select Kernel": pick the project's kernel
        dialog.locator("select").select_option(label="Python (research-toolkit)")
        dialog.locator(".jp-mod-accept").click()
    page.wait_for_function(
        "() => { const s = window.jupyterapp.shell.currentWidget?.sessionContext;"
        " return s?.isReady && s.session?.kernel?.status === 'idle'"
        " && s.session.kernel.name === 'research-toolkit'; }"
    )


def record_remote_requests(page, allowed: str | tuple[str, ...] = ()) -> list[str]:
    """A list that fills with the page's http(s) requests to URLs not starting with ``allowed``."""
    remote = []

    def record(request) -> None:
        if request.url.startswith(("http:", "https:")) and not request.url.startswith(allowed):
            remote.append(request.url)

    page.on("request", record)
    return remote


@contextmanager
def offline_page(browser, path: Path, scheme: str, height: int = 400) -> Iterator:
    """A page showing the HTML file ``path`` with every widget rendered; on exit, require
    that it requested nothing over the network."""
    page = browser.new_page(viewport={"width": 1000, "height": height}, color_scheme=scheme)
    remote = record_remote_requests(page)
    try:
        page.goto(path.resolve().as_uri())
        expect(page.locator("html")).to_have_attribute("data-anywidget-host", "ready")
        yield page
    finally:
        page.close()
    assert remote == [], f"{path.name} fetched {remote}"


def rerun_until(page, output, text: str) -> None:
    """Run the active cell until its output reads ``text``.

    ipywidgets keeps one state update in flight per model and buffers later ones until
    the kernel has answered, so an execute request sent right after a burst of clicks
    can overtake the last update. Python sees the browser's state eventually; rerunning
    the cell (which only prints it) checks that without a fixed sleep.
    """
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    while True:
        run_command(page, "notebook:run-cell")
        try:
            expect(output).to_have_text(text, timeout=5_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


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


def test_token_strip_round_trip_and_static_export(lab: Lab, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(UI_TIMEOUT_MS)
    remote = record_remote_requests(page, allowed=lab.url)
    open_notebook(page, lab)
    run_command(page, "notebook:run-all-cells")
    last_output = page.locator(".jp-Notebook .jp-Cell").last.locator(".jp-OutputArea-output")
    expect(last_output).to_have_text("selected=-1 track=advantage")

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
    page.evaluate(
        "() => { const notebook = window.jupyterapp.shell.currentWidget.content;"
        " notebook.activeCellIndex = notebook.widgets.length - 1; }"
    )
    rerun_until(page, last_output, "selected=7 track=surprisal")

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
    page.close()
    assert remote == [], f"JupyterLab fetched {remote}"

    # The static export the last cell wrote: same state, rendered with no kernel or network.
    export = lab.root / "token_strip_static.html"
    for scheme, suffix in (("light", ""), ("dark", "_dark")):
        with offline_page(browser, export, scheme) as page:
            check_strip(page.locator(".rt-token-strip"), "surprisal", selected=7)
            page.screenshot(path=ARTIFACTS / f"static_export_token_strip{suffix}.png")


def test_executed_notebook_export_renders_offline(browser, tmp_path: Path) -> None:
    """The run report's path: papermill keeps widget state, notebook_to_html renders it."""
    executed = tmp_path / FIXTURE.name
    papermill.execute_notebook(
        FIXTURE, executed, kernel_name="research-toolkit", progress_bar=False, cwd=tmp_path
    )
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
