"""Which implementation runs: ``impl=`` argument, else ``$TOOLKIT_KERNELS_IMPL``, else a default.

Three implementations compute the same per-token quantities:

* ``"reference"`` — plain torch on the full ``(N, V)`` logits, autograd for the backward.
  The oracle for tests and the baseline for benchmarks.
* ``"chunked"``   — torch, one chunk of token rows at a time, hand-written backward
  (default on the CPU).
* ``"triton"``    — the same chunk loop with the per-row softmax statistics and logit
  gradients done by Triton kernels (default on CUDA when ``triton`` imports). Runs on the
  CPU only inside Triton's interpreter (``TRITON_INTERPRET=1``), which is for tests.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import torch

IMPLS = ("reference", "chunked", "triton")
ENV_VAR = "TOOLKIT_KERNELS_IMPL"


@dataclass(frozen=True)
class Backend:
    """One implementation's entry points, both on flat rows (called by ``toolkit.kernels.api``).

    ``logprobs(hidden, weight, bias, labels, inv_temp, with_entropy, chunk_size)`` →
    ``(log_prob (N,), entropy (N,) | None)``; ``kl(hidden, weight, terms, chunk_size)`` →
    ``(KL(q‖π) (N,), KL(π‖q) (N,))``.
    """

    name: str
    logprobs: Callable[..., tuple]
    kl: Callable[..., tuple]


def triton_importable() -> bool:
    return importlib.util.find_spec("triton") is not None


def triton_interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0").lower() in ("1", "true", "on", "yes")


def _triton_imported_compiled() -> bool:
    """Triton fixes compiled vs interpreted mode for its own library when first imported."""
    if "triton" not in sys.modules:
        return False
    import triton.language as tl

    return type(tl.max).__name__ != "InterpretedFunction"


def resolve(impl: str | None, device: torch.device) -> str:
    """The implementation to use for tensors on ``device``; ``ValueError`` if it is unusable."""
    source = "impl="
    if impl is None and os.environ.get(ENV_VAR):
        impl, source = os.environ[ENV_VAR], f"${ENV_VAR}"
    if impl is None:
        return "triton" if device.type == "cuda" and triton_importable() else "chunked"
    if impl not in IMPLS:
        raise ValueError(
            f"unknown kernels implementation {impl!r} (from {source}); choose one of {IMPLS}"
        )
    if impl == "triton":
        if not triton_importable():
            raise ValueError(
                f"implementation 'triton' (from {source}) needs the triton package, which is not "
                "installed: pip install triton (Linux only), or use impl='chunked'"
            )
        if device.type != "cuda" and not triton_interpreting():
            raise ValueError(
                f"implementation 'triton' (from {source}) needs CUDA tensors, got {device.type!r} "
                "ones; use impl='chunked' on the CPU (or set TRITON_INTERPRET=1 to run the "
                "kernels in Triton's slow CPU interpreter, as the tests do)"
            )
        if device.type != "cuda" and _triton_imported_compiled():
            raise ValueError(
                f"implementation 'triton' (from {source}) on the CPU needs TRITON_INTERPRET=1 "
                "set before triton is first imported; it was imported without it. Set it in the "
                "environment before starting Python"
            )
    return impl


def backend(name: str) -> Backend:
    """The entry points of implementation ``name`` (modules are imported on first use)."""
    if name == "reference":
        from toolkit.kernels import reference

        return Backend(name, reference.token_logprobs_rows, reference.kl_rows)
    from toolkit.kernels import chunking

    if name == "chunked":
        from toolkit.kernels import torch_rows as rows
    else:
        from toolkit.kernels import triton_kernels as rows
    return Backend(name, chunking.logprobs_rows(rows), chunking.kl_rows(rows))
