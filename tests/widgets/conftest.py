"""Fixtures of the widget browser tests (see browser_helpers.py).

Each test module that asks for them gets its own Chromium and, if it asks for ``lab``, its
own JupyterLab server (module scope: a theme switch or a running kernel of one module
never reaches another). They need Debian's ``/usr/bin/chromium`` (``apt-get install
chromium``): without it the test is skipped, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT_MS, Lab, running_lab
from playwright.sync_api import expect, sync_playwright

from toolkit.decoding import DeALConfig, KeywordCoverage, deal_generate
from toolkit.zoo.tiny import tiny_gpt2, tiny_tokenizer


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
    """JupyterLab serving an empty root; ``open_notebook`` copies each notebook into it."""
    with running_lab(tmp_path_factory.mktemp("jupyterlab")) as server:
        yield server


@pytest.fixture(scope="module")
def browser(chromium_path: Path):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        expect.set_options(timeout=UI_TIMEOUT_MS)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def generation():
    """A traced DeAL search of the tiny GPT-2 (the keyword never appears: heuristic 0)."""
    tokenizer = tiny_tokenizer()
    model = tiny_gpt2(tokenizer).eval()
    config = DeALConfig(top_k=3, beam_width=2, lookahead=2, lam=1.0, max_new_tokens=5, trace=True)
    return deal_generate(model, tokenizer, ["The film"], KeywordCoverage(["plot"]), config)[0]
