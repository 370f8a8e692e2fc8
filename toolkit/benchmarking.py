"""What every benchmark in ``benchmarks/`` shares: the machine, the results file, peak memory.

A results file is one JSON object with the keys of :data:`RESULT_KEYS`::

    {"benchmark": "kernels", "date": "2025-01-31T12:00:00+00:00",
     "machine": {"cpu": ..., "cores": ..., "threads": ..., "torch": ..., "device": ..., ...},
     "settings": {...}, "rows": [{...}, ...]}

``rows`` holds every measurement (each row keeps its rounds), ``settings`` what was run, so a
table can be rebuilt from the file alone.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import torch

from toolkit._checks import check_str, describe

__all__ = [
    "RESULT_KEYS",
    "machine",
    "results",
    "write_results",
    "read_results",
    "synchronize",
    "peak_memory",
    "run_isolated",
]

RESULT_KEYS = ("benchmark", "date", "machine", "settings", "rows")


def cpu_model() -> str:
    """The CPU's marketing name (Linux ``/proc/cpuinfo``), else what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _cores() -> int | None:
    """CPU cores this process may run on (a container's share, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def machine(device: str) -> dict:
    """The run's hardware and software: CPU model, usable cores, torch's intra-op threads and
    version, the device and, on CUDA, the GPU's name."""
    return {
        "cpu": cpu_model(),
        "cores": _cores(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": device,
        "gpu": torch.cuda.get_device_name() if device == "cuda" else None,
    }


def results(benchmark: str, settings: dict, rows: list[dict], device: str) -> dict:
    """A results object for ``rows`` measured now on this machine's ``device``."""
    return {
        "benchmark": check_str("benchmark", benchmark),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(device),
        "settings": settings,
        "rows": rows,
    }


def _check_results(data: object, source: str) -> dict:
    if not isinstance(data, dict):
        raise TypeError(f"{source} must hold a JSON object, got {describe(data)}")
    missing = [key for key in RESULT_KEYS if key not in data]
    if missing:
        raise ValueError(
            f"{source} lacks the keys {missing}: re-run its benchmark (python -m benchmarks "
            f"{data.get('benchmark', 'NAME')}) to rewrite it"
        )
    return data


def write_results(path: Path, data: dict) -> Path:
    """Write the results object ``data`` as indented JSON to ``path`` (folders created)."""
    path = Path(path)
    _check_results(data, "data")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def read_results(path: Path) -> dict:
    """The results object saved at ``path``; ``ValueError`` names a missing key."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no benchmark results at {path}: run the benchmark first")
    return _check_results(json.loads(path.read_text()), str(path))


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def synchronize(device: str | torch.device) -> None:
    """Wait for the device's queued work (CUDA); nothing to wait for on the CPU."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


@contextmanager
def peak_memory(device: str | torch.device) -> Iterator[dict]:
    """``with peak_memory(device) as peak: work()`` sets ``peak["bytes"]``: the most memory the
    work held at once above what was held before it.

    CPU (Linux): the kernel's peak-RSS counter is reset (``/proc/self/clear_refs``) and the
    peak is ``VmHWM`` minus ``VmRSS`` before: every page touched at once, not just what torch
    thinks it allocated. CUDA: ``max_memory_allocated() - memory_allocated()`` around the work.
    """
    cuda = torch.device(device).type == "cuda"
    synchronize(device)
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
    else:
        Path("/proc/self/clear_refs").write_text("5")
        before = _status_bytes("VmRSS")
    peak: dict = {}
    yield peak
    synchronize(device)
    after = torch.cuda.max_memory_allocated(device) if cuda else _status_bytes("VmHWM")
    peak["bytes"] = after - before


def run_isolated(target: str, spec: dict, cwd: Path) -> dict:
    """``module.function(spec)`` in a fresh interpreter (no allocator cache or peak carries
    over); the function returns a JSON-able dict. ``cwd`` must make ``module`` importable."""
    module, function = target.split(":")
    code = (
        f"import json, sys; from {module} import {function}; "
        f"print(json.dumps({function}(json.loads(sys.argv[1]))))"
    )
    cmd = [sys.executable, "-c", code, json.dumps(spec)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        raise RuntimeError(f"{target}({spec}) failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
