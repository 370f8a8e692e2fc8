"""The benchmark script runs (tiny shapes, no timing assertions) and formats its table."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "kernels.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("benchmarks_kernels", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
@pytest.mark.parametrize("op", ["logprobs", "kl"])
def test_worker_measures_time_and_memory(bench, op):
    spec = dict(op=op, impl="chunked", device="cpu", dtype="float32", B=1, T=9, V=300, H=8)
    result = bench.worker(spec)
    assert result["time_s"] > 0 and result["peak_bytes"] >= 0


def test_table_reports_ratios_and_missing_gpu_figures(bench):
    row = dict(
        op="kl",
        B=1,
        T=512,
        V=131072,
        H=512,
        ref_time_s=2.0,
        fast_time_s=1.0,
        time_ratio=0.5,
        ref_peak_mib=400.0,
        fast_peak_mib=40.0,
        memory_ratio=0.1,
    )
    text = bench.table([row], "cpu")
    assert "| kl | 512 | 131072 | 512 | 2.00 | 1.00 | 0.50 | 400 | 40 | 0.100 |" in text
    assert "not yet measured" in text
    assert [s["V"] for s in bench.shapes(quick=False, device="cpu")] == [32768] * 2 + [131072] * 2
