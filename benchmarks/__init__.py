"""Speed and memory of the toolkit against what a user would otherwise run.

    python -m benchmarks [NAME...] [--smoke] [--gpu] [--device auto|cpu|cuda] [--out DIR]
    python -m benchmarks --markdown        (tables from the saved results, no run)
    python -m benchmarks.bench_<NAME> ...  (one benchmark, same options)

Each ``bench_<NAME>`` module is run as a module of this package, never as a script, so its
name cannot shadow an installed package. It exposes ``settings(smoke, device)`` (what to run),
``run(settings, device)`` (the measured rows) and ``table(results)`` (markdown from a saved
results object, :mod:`toolkit.benchmarking`).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from toolkit._checks import check_choice

NAMES = ("token_po", "kv_cache", "quadrotor", "kernels", "decoding", "decentralized", "embodied")
RESULTS_DIR = Path(__file__).resolve().parent / "results"
ROOT = RESULTS_DIR.parents[1]


def module(name: str) -> ModuleType:
    """The ``bench_<name>`` module."""
    return importlib.import_module(f"{__name__}.bench_{check_choice('name', name, NAMES)}")


def results_path(out: Path, name: str, device: str) -> Path:
    """Where ``name``'s results go: ``<name>.json`` for a CPU run, ``<name>-gpu.json`` for CUDA."""
    return Path(out) / f"{name}{'-gpu' if device == 'cuda' else ''}.json"
