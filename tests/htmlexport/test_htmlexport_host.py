"""toolkit.htmlexport.host: one-widget pages from plain widget-state JSON (no widgets import)."""

from __future__ import annotations

import json
import re

import pytest

from toolkit.htmlexport import STATE_MIME, VIEW_MIME, widget_to_html
from toolkit.htmlexport.host import host_script, json_script

ESM = """function render({ model, el }) { el.textContent = model.get("text"); }
export default { render };"""


def state(text: str = "hi") -> dict:
    model = {
        "model_name": "AnyModel",
        "model_module": "anywidget",
        "model_module_version": "~0.11.*",
        "state": {"_esm": ESM, "_css": "", "_anywidget_id": "demo.Demo", "text": text},
    }
    return {"version_major": 2, "version_minor": 0, "state": {"m1": model}}


def test_page_has_view_state_and_inline_host(tmp_path):
    page = widget_to_html(state(), "m1", tmp_path / "w.html", title="Demo").read_text()
    assert f'<script type="{VIEW_MIME}">' in page
    assert f'<script type="{STATE_MIME}">' in page
    assert '<script type="module">' in page and "class HostModel" in page
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"https?://", page)


def test_unknown_model_id_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"model_id 'nope' is not in the widget state.*\['m1'\]"):
        widget_to_html(state(), "nope", tmp_path / "w.html")


def test_json_script_cannot_be_closed_by_its_payload():
    tag = json_script(STATE_MIME, state("</script><script>alert(1)"))
    body = tag.removeprefix(f'<script type="{STATE_MIME}">').removesuffix("</script>")
    assert "<" not in body
    assert json.loads(body)["state"]["m1"]["state"]["text"] == "</script><script>alert(1)"


def test_host_source_is_safe_to_inline():
    body = host_script().removeprefix('<script type="module">').removesuffix("</script>")
    assert "</script" not in body.lower() and "<!--" not in body
