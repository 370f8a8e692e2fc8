"""Run summaries, parameter checks and the HTML report, without executing notebooks."""

import json

import nbformat
import pytest

from toolkit.claims import Claim
from toolkit.cli import _parameter
from toolkit.runs import NotebookResult, RunSummary, check_parameters, find_notebooks, write_report


def make_notebook(path, source="smoke = False\nseed = 0\n"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "research-toolkit",
        "display_name": "rt",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source, metadata={"tags": ["parameters"]})]
    nbformat.write(nb, path)
    return path


def test_check_parameters_names_the_unknown_one(tmp_path):
    nb = make_notebook(tmp_path / "01_x.ipynb")
    check_parameters(nb, {"smoke": True, "seed": 3})
    with pytest.raises(ValueError, match=r"\['sead'\].*defines \['seed', 'smoke'\]"):
        check_parameters(nb, {"smoke": True, "sead": 3})


def test_notebook_without_parameters_cell_is_refused(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "research-toolkit",
        "display_name": "rt",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, tmp_path / "bare.ipynb")
    with pytest.raises(ValueError, match="no cell tagged 'parameters'"):
        check_parameters(tmp_path / "bare.ipynb", {"smoke": True})


def test_find_notebooks_filters_by_name(tmp_path):
    for name in ("00_welcome.ipynb", "01_token_masks.ipynb", "02_causal_rewards.ipynb"):
        make_notebook(tmp_path / name)
    assert [p.name for p in find_notebooks(tmp_path, ["01", "02"])] == [
        "01_token_masks.ipynb",
        "02_causal_rewards.ipynb",
    ]
    assert len(find_notebooks(tmp_path)) == 3
    with pytest.raises(ValueError, match="available"):
        find_notebooks(tmp_path, ["99"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("seed=3", ("seed", 3)),
        ("smoke=True", ("smoke", True)),
        ("beta=0.1", ("beta", 0.1)),
        ("model_name=/tmp/m", ("model_name", "/tmp/m")),
        ("betas=[0.1, 1]", ("betas", [0.1, 1])),
    ],
)
def test_cli_parameter_values(text, expected):
    assert _parameter(text) == expected


def test_report_has_a_row_per_notebook_and_claim(tmp_path):
    summary = RunSummary(str(tmp_path), "2026-01-01T00-00-00", True, "research-toolkit")
    summary.results = [
        NotebookResult(
            "00_a.ipynb", "ok", 1.5, {"smoke": True}, "00_a.ipynb", "00_a.html", "00_a.claims.jsonl"
        ),
        NotebookResult(
            "01_b.ipynb",
            "failed",
            2.0,
            {"smoke": True},
            "01_b.ipynb",
            None,
            "01_b.claims.jsonl",
            error="ZeroDivisionError: <boom>",
        ),
    ]
    summary.save()
    claims = [
        Claim(
            "A < B holds", "arXiv:1", {"a": 1.0, "b": 2.0}, "a < b", "held", notebook="00_a.ipynb"
        ),
        Claim("B < A", "arXiv:1", {"a": 1.0, "b": 2.0}, "b < a", "not held", notebook="00_a.ipynb"),
    ]
    (tmp_path / "00_a.claims.jsonl").write_text("\n".join(json.dumps(c.to_dict()) for c in claims))
    assert RunSummary.load(tmp_path) == summary and not summary.ok
    page = write_report(tmp_path).read_text()
    saved = RunSummary.load(tmp_path).results[0].claims
    assert [c["status"] for c in saved] == ["held", "not held"]  # run.json carries the verdicts
    assert '<a href="00_a.html">00_a.ipynb</a>' in page
    assert "1/2 notebooks ran" in page and "1/2 claims held" in page
    assert "did not hold" in page and "&lt;boom&gt;" in page  # errors are escaped
    # header rows of notebooks, claims and metrics; two notebooks, two claims, "no metrics"
    assert page.count("<tr>") == 3 + 2 + 2 + 1
