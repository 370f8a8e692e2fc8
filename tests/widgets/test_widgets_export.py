"""widgets.export.to_html: a widget's current state as a standalone, offline HTML page."""

from __future__ import annotations

import base64
import json
import re

import numpy as np

from toolkit.htmlexport import STATE_MIME, VIEW_MIME
from widgets import TokenStrip
from widgets.export import to_html


def script_json(page: str, mime: str) -> dict:
    match = re.search(rf'<script type="{re.escape(mime)}">(.*?)</script>', page, re.DOTALL)
    assert match, f"no {mime} script in the page"
    return json.loads(match.group(1))


def test_to_html_embeds_state_buffers_and_module(tmp_path):
    strip = TokenStrip(["a", "</script>"], {"x": [0.5, -1.0]}, title="A & B")
    strip.selected = 1
    path = to_html(strip, tmp_path / "out" / "strip.html")
    page = path.read_text(encoding="utf-8")

    assert script_json(page, VIEW_MIME)["model_id"] == strip.model_id
    entry = script_json(page, STATE_MIME)["state"][strip.model_id]
    assert entry["model_module"] == "anywidget"
    assert entry["state"]["selected"] == 1
    assert entry["state"]["tokens"] == ["a", "</script>"]
    assert "export default { render }" in entry["state"]["_esm"]
    (buffer,) = entry["buffers"]
    assert buffer["path"] == ["_track_data", "x"]
    values = np.frombuffer(base64.b64decode(buffer["data"]), dtype="<f4")
    np.testing.assert_array_equal(values, [0.5, -1.0])

    assert "<title>A &amp; B</title>" in page
    assert not re.search(r"<script[^>]*\bsrc=", page)
