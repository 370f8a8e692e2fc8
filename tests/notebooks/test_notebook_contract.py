"""Every notebook follows the notebook contract (docs/design.md#notebook-contract).

Checked without running the notebooks.
"""

import json
from pathlib import Path

import papermill
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no .ipynb files"


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def notebook(request):
    return request.param, json.loads(request.param.read_text())


def test_committed_without_outputs(notebook):
    path, nb = notebook
    dirty = [
        i
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; strip them before committing"


def test_parameters_cell(notebook):
    path, _ = notebook
    params = papermill.inspect_notebook(str(path))
    assert "smoke" in params and params["smoke"]["default"] == "False", path.name
    assert "seed" in params, path.name
    assert any("model" in name for name in params), f"{path.name}: no model-name parameter"


def test_opens_with_title_paper_and_literacy_tag(notebook):
    path, nb = notebook
    first = "".join(nb["cells"][0]["source"])
    assert nb["cells"][0]["cell_type"] == "markdown" and first.startswith("# "), path.name
    assert "What you will see" in first, path.name
    assert "arXiv" in first, f"{path.name}: name the paper it follows (arXiv id)"
    assert "AI-literacy" in first, f"{path.name}: state its AI-literacy tag"


def test_kernelspec_is_the_project_kernel(notebook):
    path, nb = notebook
    assert nb["metadata"]["kernelspec"]["name"] == "research-toolkit", path.name
