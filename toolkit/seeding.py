"""One call that makes a run repeatable."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int, *, deterministic: bool = True) -> int:
    """Seed Python, NumPy and torch (CPU and CUDA) with ``seed``.

    With ``deterministic=True`` torch is asked for deterministic kernels as well
    (``torch.use_deterministic_algorithms(True, warn_only=True)``): ops without a
    deterministic implementation warn instead of failing, so user models still run.
    ``PYTHONHASHSEED`` is exported for subprocesses (it cannot change the current
    interpreter's hashing). Returns ``seed`` so it can be logged inline.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return seed
