"""Executed notebook -> one self-contained HTML file whose anywidgets render offline."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from toolkit.htmlexport.host import host_script

# The lab template minus everything it would fetch from a CDN: require.js, MathJax,
# mermaid.js and the jupyter-widgets html-manager loader. The state script the lab template
# already writes stays; the inlined host renders the widget views from it.
_OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block footer_js -%}
{%- if "widgets" in nb.metadata -%}{{ resources.anywidget_host }}{%- endif -%}
{%- endblock footer_js -%}
"""


def notebook_to_html(ipynb_path: str | Path, html_path: str | Path) -> Path:
    """Export an executed notebook to a single HTML file that needs no network; return its path.

    Uses nbconvert's ``HTMLExporter`` with the lab template and embedded images. Widget
    outputs render from the widget state saved in the notebook (nbclient and papermill save
    it by default, ``store_widget_state=True``) through the inlined ``anywidget_host.js``:
    anywidgets render fully and stay interactive within the page; other widgets (plain
    ipywidgets such as sliders) appear as a text placeholder naming the widget.

    Nothing is loaded from a CDN: the lab template's require.js, MathJax, mermaid.js and
    jupyter-widgets loader are left out, so LaTeX and mermaid diagrams show as source text.
    """
    notebook = nbformat.read(ipynb_path, as_version=4)
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    exporter.raw_template = _OFFLINE_TEMPLATE
    body, _ = exporter.from_notebook_node(notebook, resources={"anywidget_host": host_script()})
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    return html_path
