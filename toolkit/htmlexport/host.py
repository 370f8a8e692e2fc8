"""Pieces of a static page that renders anywidget views with no kernel, and one-widget pages.

A page carries three kinds of ``<script>``: the widget state (the
``application/vnd.jupyter.widget-state+json`` document nbclient stores in a notebook's
``metadata.widgets``), one ``application/vnd.jupyter.widget-view+json`` per view (where the
view appears), and ``anywidget_host.js`` inlined, which renders each view from the state.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path

STATE_MIME = "application/vnd.jupyter.widget-state+json"
VIEW_MIME = "application/vnd.jupyter.widget-view+json"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{title}</title>
<style>
body {{ margin: 2rem; background: Canvas; color: CanvasText; font-family: system-ui, sans-serif; }}
</style>
</head>
<body>
<main>
{view}
</main>
{state}
{host}
</body>
</html>
"""


def json_script(mime: str, payload: object) -> str:
    """``payload`` as JSON in a ``<script type=mime>``; ``<`` is escaped so it cannot close it."""
    text = json.dumps(payload, separators=(",", ":")).replace("<", "\\u003c")
    return f'<script type="{mime}">{text}</script>'


def host_script() -> str:
    """The renderer, ``anywidget_host.js``, as an inline module script."""
    source = files(__package__).joinpath("anywidget_host.js").read_text(encoding="utf-8")
    return f'<script type="module">\n{source}</script>'


def widget_to_html(
    state: Mapping, model_id: str, path: str | Path, *, title: str = "Widget"
) -> Path:
    """Write a standalone HTML page that renders one widget view offline; return its path.

    Args:
        state: a widget-state document, ``{"version_major": 2, "version_minor": 0,
            "state": {model_id: {"model_name", "model_module", "model_module_version",
            "state", "buffers"}}}``, e.g. built from ``ipywidgets.embed.dependency_state``.
        model_id: the model whose view the page shows; it must be an anywidget model.
        path: where to write the page (parent directories are created).
        title: the page title.

    Raises:
        ValueError: ``model_id`` is not in ``state["state"]``.
    """
    models = state.get("state", {})
    if model_id not in models:
        raise ValueError(
            f"model_id {model_id!r} is not in the widget state (it has {sorted(models)})"
        )
    view = {"version_major": 2, "version_minor": 0, "model_id": model_id}
    page = _PAGE.format(
        title=html.escape(title),
        view=json_script(VIEW_MIME, view),
        state=json_script(STATE_MIME, dict(state)),
        host=host_script(),
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
