"""Every benchmark runs as documented (``python -m benchmarks``), in smoke mode, and writes
results JSON a table can be rebuilt from; the README's tables are the generated ones.

No timing is asserted: the numbers depend on the machine and its load.
"""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
ROW_KEYS = {
    "token_po": {"name", "seconds", "peak_mib"},
    "kv_cache": {"context", "method", "bytes", "bytes_ratio", "prefill_s", "decode_tok_s"},
    "quadrotor": {"device", "threads", "num_envs", "steps_per_s", "ms_per_step", "rounds"},
    "kernels": {
        "op",
        "B",
        "T",
        "V",
        "H",
        "ref_time_s",
        "fast_time_s",
        "time_ratio",
        "ref_peak_mib",
        "fast_peak_mib",
        "memory_ratio",
        "grad_weight_mib",
        "memory_ratio_without_grad_weight",
    },
}
MACHINE_KEYS = {"cpu", "cores", "threads", "torch", "device", "gpu"}


@pytest.fixture
def bench(monkeypatch):
    """The ``benchmarks`` package, importable however pytest was started."""
    monkeypatch.syspath_prepend(str(ROOT))
    return importlib.import_module("benchmarks")


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory):
    """``python -m benchmarks.bench_token_po --smoke`` (the module that once failed at import,
    its name shadowing TRL's ``kernels``) and ``python -m benchmarks ... --smoke`` for the rest."""
    out = tmp_path_factory.mktemp("bench")
    single = _run("benchmarks.bench_token_po", "--smoke", "--out", str(out))
    rest = _run("benchmarks", "kv_cache", "quadrotor", "kernels", "--smoke", "--out", str(out))
    return out, single, rest


def test_smoke_runs_print_tables_with_machine_and_date(smoke_results):
    _, single, rest = smoke_results
    for done in (single, rest):
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Measured" in done.stdout and "(smoke sizes)" in done.stdout
    assert single.stdout.count("written to") == 1 and rest.stdout.count("written to") == 3


@pytest.mark.parametrize("name", list(ROW_KEYS))
def test_smoke_results_hold_machine_settings_and_every_measurement(bench, smoke_results, name):
    from toolkit.benchmarking import RESULT_KEYS, read_results

    out, _, _ = smoke_results
    device = "cuda" if torch.cuda.is_available() else "cpu"
    data = read_results(bench.results_path(out, name, device))
    assert set(RESULT_KEYS) <= set(data) and data["benchmark"] == name
    assert MACHINE_KEYS <= set(data["machine"]) and data["machine"]["device"] == device
    assert data["settings"]["smoke"] is True
    assert data["rows"] and all(ROW_KEYS[name] <= set(row) for row in data["rows"])
    json.dumps(data)  # plain JSON all the way down


def test_smoke_leaves_the_committed_results_alone(bench, smoke_results):
    committed = {p.name: p.read_bytes() for p in bench.RESULTS_DIR.glob("*.json")}
    assert committed, "benchmarks/results/ holds the results the README's tables come from"
    assert all(p.read_bytes() == committed[p.name] for p in bench.RESULTS_DIR.glob("*.json"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_kernel_worker_runs_in_a_fresh_process(bench):
    from toolkit.benchmarking import run_isolated

    spec = dict(op="kl", impl="chunked", device="cpu", dtype="float32", B=1, T=9, V=300, H=8)
    result = run_isolated("benchmarks.bench_kernels:worker", spec, ROOT)
    assert result["time_s"] > 0 and "peak_bytes" in result


def test_readme_tables_are_the_generated_ones(bench):
    tables = importlib.import_module("benchmarks.tables")
    readme = (ROOT / "README.md").read_text()
    blocks = {m.group(2) for m in tables.BLOCK.finditer(readme)}
    assert blocks == set(bench.NAMES)
    assert tables.update_readme(readme) == readme, "run: python -m benchmarks.tables --readme"


def test_tables_say_what_was_not_measured(bench, tmp_path):
    tables = importlib.import_module("benchmarks.tables")
    text = "intro\n<!-- benchmark:quadrotor -->\nold numbers\n<!-- /benchmark:quadrotor -->\nend\n"
    rebuilt = tables.update_readme(text, tmp_path)
    assert rebuilt.startswith("intro\n<!-- benchmark:quadrotor -->\n")
    assert "old numbers" not in rebuilt
    assert "CPU: not measured yet" in rebuilt and "GPU: not measured (no GPU)" in rebuilt
    assert rebuilt.endswith("<!-- /benchmark:quadrotor -->\nend\n")
    with pytest.raises(ValueError, match="benchmark:nope"):
        tables.update_readme("<!-- benchmark:nope -->\n<!-- /benchmark:nope -->", tmp_path)


def test_runner_refuses_unknown_settings_and_a_missing_gpu(bench, tmp_path):
    runner = importlib.import_module("benchmarks.__main__")
    with pytest.raises(ValueError, match="rounds"):
        runner.run_benchmark(
            "quadrotor", smoke=True, device="cpu", out=tmp_path, overrides={"roundz": 1}
        )
    with pytest.raises(SystemExit):  # before anything runs, with the same message
        runner.main(["quadrotor", "--smoke", "--set", "roundz=1", "--out", str(tmp_path)])
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="name must be one of"):
        bench.module("nope")
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match="needs a CUDA device"):
            runner.main(["quadrotor", "--gpu", "--out", str(tmp_path)])


def _results(name: str, rows: list[dict], settings: dict) -> dict:
    machine = dict.fromkeys(MACHINE_KEYS, None) | {"cpu": "test CPU", "device": "cpu"}
    return {
        "benchmark": name,
        "date": "2025-01-31T00:00:00+00:00",
        "machine": machine,
        "settings": settings,
        "rows": rows,
    }


def test_kernel_table_judges_the_goal_at_128k_with_and_without_the_weight_gradient(bench):
    row = dict(
        op="logprobs",
        B=1,
        T=512,
        V=131072,
        H=512,
        ref_time_s=2.0,
        fast_time_s=2.6,
        time_ratio=1.3,
        ref_peak_mib=778.0,
        fast_peak_mib=340.0,
        memory_ratio=0.437,
        memory_ratio_without_grad_weight=0.161,
    )
    small = dict(row, V=32768, memory_ratio=None, memory_ratio_without_grad_weight=None)
    text = bench.module("kernels").table(_results("kernels", [row, small], {"rounds": 2}))
    assert "| 1.30 | 778 | 340 | 0.437 | 0.161 | yes | no / yes |" in text
    assert "| 32768 | 512 | 2.00 | 2.60 | 1.30 | 778 | 340 | n/a | n/a | – | – |" in text
    assert "time ratio ≤ 1.35" in text and "floor is about 4/3" in text


def test_quadrotor_table_says_whether_the_goal_was_met(bench):
    row = dict(
        device="cpu",
        threads=1,
        num_envs=4096,
        steps_per_s=2e6,
        ms_per_step=2.0,
        cpu_share=1.0,
        rounds=[2e6],
    )
    text = bench.module("quadrotor").table(_results("quadrotor", [row], {}))
    assert "| cpu | 1 | 4,096 | 2,000,000 | 2.000 | 1.00 |" in text and "— met" in text
    slow = dict(row, steps_per_s=5e5)
    assert "not met" in bench.module("quadrotor").table(_results("quadrotor", [slow], {}))
