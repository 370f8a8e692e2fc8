"""notebook_to_html on a notebook executed by papermill: widget state kept, nothing remote."""

from __future__ import annotations

import json
import re

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from toolkit.htmlexport import STATE_MIME, notebook_to_html

pytestmark = pytest.mark.timeout(180)

CELLS = [
    "from widgets import TokenStrip\n"
    "strip = TokenStrip(['Hello', 'Ġworld'], {'score': [0.25, -0.5]}, title='tiny')\n"
    "strip",
    "import ipywidgets\nipywidgets.IntSlider(3)",
]


def remote_scripts(page: str) -> list[str]:
    """Script sources and module imports that point at the network."""
    return re.findall(r"<script[^>]*\bsrc=\"?(https?:[^\"\s>]*)", page) + re.findall(
        r"import\(\s*[\"'](https?:[^\"']*)", page
    )


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> nbformat.NotebookNode:
    """A tiny notebook with a TokenStrip and a slider, run by papermill."""
    folder = tmp_path_factory.mktemp("papermill")
    notebook = new_notebook(cells=[new_code_cell(source) for source in CELLS])
    notebook.metadata.kernelspec = {
        "name": "research-toolkit",
        "display_name": "rt",
        "language": "python",
    }
    nbformat.write(notebook, folder / "in.ipynb")
    papermill.execute_notebook(
        folder / "in.ipynb", folder / "out.ipynb", kernel_name="research-toolkit",
        progress_bar=False, cwd=folder,
    )  # fmt: skip
    return folder / "out.ipynb"


def test_papermill_keeps_widget_state_with_binary_buffers(executed):
    notebook = nbformat.read(executed, as_version=4)
    models = notebook.metadata.widgets[STATE_MIME]["state"]
    (strip,) = [
        m for m in models.values() if m["state"].get("_anywidget_id", "").endswith("TokenStrip")
    ]
    assert strip["state"]["tokens"] == ["Hello", "Ġworld"]
    assert [b["path"] for b in strip["buffers"]] == [["_track_data", "score"]]


def test_export_inlines_state_and_host_and_loads_nothing_remote(executed, tmp_path):
    page = notebook_to_html(executed, tmp_path / "report" / "out.html").read_text()
    state = re.search(rf'<script type="{re.escape(STATE_MIME)}">(.*?)</script>', page, re.DOTALL)
    models = json.loads(state.group(1))["state"]
    assert any(m["model_module"] == "anywidget" for m in models.values())
    assert page.count('type="application/vnd.jupyter.widget-view+json"') == 2
    assert "class HostModel" in page  # the inlined anywidget host
    assert remote_scripts(page) == []
    assert "embed-amd" not in page and "require.min.js" not in page
    assert 'data-jp-theme-light="true"' in page  # still nbconvert's lab template


def test_notebook_without_widgets_gets_no_host(tmp_path):
    notebook = new_notebook(cells=[new_markdown_cell("# Just text, $x^2$")])
    nbformat.write(notebook, tmp_path / "plain.ipynb")
    page = notebook_to_html(tmp_path / "plain.ipynb", tmp_path / "plain.html").read_text()
    assert "class HostModel" not in page
    assert remote_scripts(page) == []
