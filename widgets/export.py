"""Standalone HTML export of any widget in the package."""

from __future__ import annotations

from pathlib import Path

from ipywidgets import Widget
from ipywidgets.embed import dependency_state

from toolkit.htmlexport import widget_to_html


def to_html(widget: Widget, path: str | Path, *, title: str | None = None) -> Path:
    """Write ``widget`` as a standalone HTML file that renders with no kernel; return the path.

    The page holds the widget's current state (including its binary buffers, its ES
    module and CSS) and renders it offline in any browser; clicks and hovers work within the
    page but no longer reach Python. ``title`` defaults to the widget's ``title`` trait.
    """
    state = {
        "version_major": 2,
        "version_minor": 0,
        "state": dependency_state([widget], drop_defaults=False),
    }
    page_title = title or getattr(widget, "title", "") or type(widget).__name__
    return widget_to_html(state, widget.model_id, path, title=page_title)
