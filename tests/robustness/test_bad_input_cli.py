"""Bad input to ``python -m toolkit``: one ``error: ...`` line naming what was wrong, exit 2,
no traceback, and nothing executed or written when the command line is wrong."""

import argparse
import json
import os
import stat

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import cli, zoo
from toolkit.runs import NotebookResult, run_notebooks


def make_notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "research-toolkit",
        "display_name": "rt",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell("smoke = False\nseed = 0\n", metadata={"tags": ["parameters"]})
    ]
    nbformat.write(nb, path)


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, match):
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert match in err


@pytest.fixture
def notebooks(tmp_path):
    for name in ("00_a.ipynb", "01_b.ipynb"):
        make_notebook(tmp_path / name)
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["-k", "nothing-matches"], "['nothing-matches']"),
        (["-k", "00", "-k", "nothing-matches"], "['nothing-matches']"),
        (["--smoke", "-p", "smoke=False"], "conflicts"),
        (["-p", "smoke=1"], "smoke must be True or False"),
        (["-p", "smoke='yes'"], "smoke must be True or False"),
        (["-p", "sead=1"], "sead"),
        (["--cell-timeout", "0"], "cell_timeout"),
        (["--cell-timeout", "-5"], "cell_timeout"),
        (["--kernel", "no-such-kernel"], "no-such-kernel"),
    ],
)
def test_bad_run_arguments_are_one_line_errors(capsys, notebooks, tmp_path, argv, match):
    out = tmp_path / "runs"
    code, _, err = run(capsys, "run", "--notebooks", str(notebooks), "--out", str(out), *argv)
    assert_one_line_error(code, err, match)
    assert not out.exists(), "nothing runs when the command line is wrong"


def test_missing_notebooks_directory(capsys, tmp_path):
    code, _, err = run(capsys, "run", "--notebooks", str(tmp_path / "nope"))
    assert_one_line_error(code, err, "nope")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_out_is_a_one_line_error(capsys, notebooks, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    argv = ["run", "--notebooks", str(notebooks), "--out", str(locked / "runs"), "-k", "00"]
    assert_one_line_error(*run(capsys, *argv)[::2], "out_root")


def test_out_that_cannot_be_created_is_a_one_line_error(capsys, notebooks, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    argv = ["run", "--notebooks", str(notebooks), "--out", str(blocker / "runs"), "-k", "00"]
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err, "out_root")


def test_explicit_smoke_parameter_is_the_run_mode(monkeypatch, notebooks, tmp_path):
    def execute(notebook, run_dir, params, kernel, timeout):
        return NotebookResult(notebook.name, "ok", 0.0, params, notebook.name, None, "c.jsonl")

    monkeypatch.setattr("toolkit.runs.execute.check_kernel", lambda kernel: None)
    monkeypatch.setattr("toolkit.runs.execute._execute", execute)
    nb = notebooks / "00_a.ipynb"
    summary = run_notebooks([nb], out_root=tmp_path / "runs", parameters={"smoke": True})
    assert summary.smoke is True and summary.results[0].parameters == {"smoke": True}


@settings(max_examples=20, deadline=None)
@given(text=st.text(max_size=12).filter(lambda t: "=" not in t))
def test_parameter_without_equals_names_it(text):
    with pytest.raises(argparse.ArgumentTypeError, match="NAME=VALUE"):
        cli._parameter(text)


@pytest.mark.parametrize("path", ["does-not-exist", "."])
def test_report_on_a_non_run_directory(capsys, tmp_path, path):
    code, _, err = run(capsys, "report", str(tmp_path / path))
    assert_one_line_error(code, err, "not a run directory")


def test_report_on_a_corrupt_run_json(capsys, tmp_path):
    (tmp_path / "run.json").write_text("{broken")
    code, _, err = run(capsys, "report", str(tmp_path))
    assert_one_line_error(code, err, "run.json")


def test_report_compare_with_nothing_there(capsys, tmp_path):
    summary = {"run_dir": str(tmp_path), "started": "s", "smoke": True, "kernel": "k"}
    (tmp_path / "run.json").write_text(json.dumps({**summary, "results": []}))
    code, _, err = run(capsys, "report", str(tmp_path), "--compare", str(tmp_path / "gone"))
    assert_one_line_error(code, err, "gone")


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["baselines", "check"], "RUN_DIR"),
        (["baselines", "check", "nowhere"], "nowhere"),
        (["baselines", "update", "runs/latest"], "drop RUN_DIR"),
        (["baselines", "update", "-k", "nothing-matches"], "nothing-matches"),
    ],
)
def test_bad_baselines_arguments(capsys, argv, match):
    assert_one_line_error(*run(capsys, *argv)[::2], match)


def test_zoo_errors_are_one_line(capsys, monkeypatch):
    def refuse(name=None):
        raise ValueError(f"no cache entries of {name!r}\nknown: tiny-gpt2-reviews")

    monkeypatch.setattr(zoo, "remove_entries", refuse)
    code, out, err = run(capsys, "zoo", "clean", "no-such-model")
    assert_one_line_error(code, err, "'no-such-model'")
    assert "removed" not in out


def test_zoo_build_unknown_name(capsys):
    assert_one_line_error(*run(capsys, "zoo", "build", "no-such-model")[::2], "no-such-model")


@pytest.mark.parametrize(
    "argv", [["frobnicate"], ["zoo", "polish"], ["baselines", "refresh"], ["run", "--smoke=1"]]
)
def test_unknown_commands_and_options_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
