"""What every script in ``benchmarks/`` does last: describe the machine and save the results."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import torch


def machine(device: str) -> dict:
    """The run's hardware and software: CPU, torch threads and version, the GPU when used."""
    return {
        "device": device,
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name() if device == "cuda" else "not measured (no CUDA run)",
    }


def write_results(path: Path, rows: list[dict], table: str, meta: dict) -> None:
    """Print the markdown ``table`` and write ``{"meta", "rows", "table"}`` as JSON to ``path``."""
    print(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "rows": rows, "table": table}, indent=2) + "\n")
