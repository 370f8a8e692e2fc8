"""JupyterLab and Chromium for the widget browser tests: a headless server, pages, helpers.

``conftest.py`` turns these into the fixtures ``chromium_path``, ``browser`` and ``lab``. A
test opens its own fixture notebook with ``notebook_page(browser, lab, notebook)`` (the
notebook is copied into the server's root first), runs cells with ``run_command``, and
checks static HTML exports with ``offline_page``. Both pages fail the test if they fetched
anything over the network (beyond the JupyterLab server itself). Screenshots go under
``test-artifacts/widgets/``.
"""

from __future__ import annotations

import json
import os
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

import pytest
from playwright.sync_api import expect

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
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "widgets"
KERNEL = "research-toolkit"
STARTUP_TIMEOUT_S = 90
UI_TIMEOUT_MS = 60_000


@dataclass
class Lab:
    """A running JupyterLab server: its URL, token and root directory (the kernels' cwd)."""

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


@contextmanager
def running_lab(base: Path) -> Iterator[Lab]:
    """JupyterLab on a free localhost port, serving the empty directory ``base/root``;
    stopped (with its kernels) on exit. Its log is ``base/jupyterlab.log``."""
    root = base / "root"
    root.mkdir()
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


def run_command(page, command: str, args: dict | None = None) -> None:
    """Start a JupyterLab command (exposed as window.jupyterapp); don't wait for it to finish."""
    page.evaluate(
        "([command, args]) => { window.jupyterapp.commands.execute(command, args); }",
        [command, args or {}],
    )


def open_notebook(page, lab: Lab, notebook: Path) -> None:
    """Copy ``notebook`` into the server's root (unless it is there) and open it; wait for
    an idle kernel of the project (``KERNEL``), picking it if JupyterLab asks."""
    if not (lab.root / notebook.name).exists():
        shutil.copy(notebook, lab.root / notebook.name)
    page.goto(f"{lab.url}/lab/tree/{notebook.name}?token={lab.token}")
    page.wait_for_function(
        "() => document.querySelector('.jp-Dialog')"
        " || window.jupyterapp?.shell.currentWidget?.sessionContext?.isReady"
    )
    dialog = page.locator(".jp-Dialog")
    if dialog.count():  # "Select Kernel": pick the project's kernel
        dialog.locator("select").select_option(label=f"Python ({KERNEL})")
        dialog.locator(".jp-mod-accept").click()
    page.wait_for_function(
        "kernel => { const s = window.jupyterapp.shell.currentWidget?.sessionContext;"
        " return s?.isReady && s.session?.kernel?.status === 'idle'"
        " && s.session.kernel.name === kernel; }",
        arg=KERNEL,
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
def notebook_page(browser, lab: Lab, notebook: Path) -> Iterator:
    """A JupyterLab page with ``notebook`` open and its kernel idle (no cell run yet); on
    exit, close it and require that it requested nothing outside the server."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(UI_TIMEOUT_MS)
    remote = record_remote_requests(page, allowed=lab.url)
    try:
        open_notebook(page, lab, notebook)
        yield page
    finally:
        page.close()
    assert remote == [], f"JupyterLab fetched {remote}"


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


def activate_cell(page, index: int) -> None:
    """Make cell ``index`` (negative: from the end) the one notebook:run-cell runs."""
    page.evaluate(
        "index => { const notebook = window.jupyterapp.shell.currentWidget.content;"
        " notebook.activeCellIndex = index < 0 ? notebook.widgets.length + index : index; }",
        index,
    )


def last_output(page):
    """The output area of the open notebook's last cell."""
    return page.locator(".jp-Notebook .jp-Cell").last.locator(".jp-OutputArea-output")


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
