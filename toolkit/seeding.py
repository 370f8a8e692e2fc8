"""One call that makes a run repeatable, and named seed streams derived from one seed.

:func:`seed_everything` seeds the global generators. :func:`stream` derives, from one run
seed and a name ("init", "data", "sampling"), a seed of its own for each source of
randomness, so adding or reordering draws in one does not shift the others, and no two
sources share a seed by an ad-hoc offset (``seed + 7``, ``1_000 + seed``).
:func:`generator` is a ``torch.Generator`` seeded from that stream.
"""

from __future__ import annotations

import hashlib
import os
import random

import numpy as np
import torch

from toolkit._checks import check_int, check_str

STREAM_SEEDS = 2**31
"""Derived seeds lie in ``[0, STREAM_SEEDS)``: valid for Python, NumPy and torch alike."""

_MAX_SEED = 2**64 - 1  # the largest seed torch.manual_seed takes


def seed_everything(seed: int, *, deterministic: bool = True) -> int:
    """Seed Python, NumPy and torch (CPU and CUDA) with ``seed``, an int in [0, 2⁶⁴).

    With ``deterministic=True`` torch is asked for deterministic kernels as well
    (``torch.use_deterministic_algorithms(True, warn_only=True)``): ops without a
    deterministic implementation warn instead of failing, so user models still run.
    ``PYTHONHASHSEED`` is exported for subprocesses (it cannot change the current
    interpreter's hashing). Returns ``seed`` so it can be logged inline.
    """
    seed = check_int("seed", seed, minimum=0, maximum=_MAX_SEED)
    if not isinstance(deterministic, bool):
        raise TypeError(f"deterministic must be a bool, got {deterministic!r}")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return seed


def stream(seed: int, name: str) -> int:
    """The seed of the stream ``name`` of a run seeded with ``seed``: an int in [0, 2³¹).

    It is the first 31 bits of SHA-256(f"{seed}:{name}"), so it is the same on every
    Python version and platform (unlike ``hash``), and distinct names give unrelated seeds.
    """
    seed = check_int("seed", seed, minimum=0, maximum=_MAX_SEED)
    check_str("name", name)
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % STREAM_SEEDS


def generator(seed: int, name: str) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``stream(seed, name)``: pass it as
    ``generator=`` to ``torch.randn``, ``torch.randperm`` or a ``DataLoader``."""
    return torch.Generator().manual_seed(stream(seed, name))
