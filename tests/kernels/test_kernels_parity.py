"""Chunked torch agrees with the full-logit reference, values and gradients (Triton: in
``test_kernels_triton.py``, launched from here in the interpreter when there is no GPU).
Tolerances: ``kernels_cases.TOL``.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from kernels_cases import CHUNK, DTYPES, OPS, assert_matches, make_case, run

from toolkit.kernels import dispatch

TRITON_TESTS = Path(__file__).with_name("test_kernels_triton.py")


@DTYPES
@pytest.mark.parametrize("op", OPS)
def test_chunked_matches_reference(op, dtype):
    ref = run(op, make_case(dtype), "reference")
    assert_matches(run(op, make_case(dtype), "chunked"), ref, dtype)


def test_triton_in_the_interpreter_subprocess():
    """Without a GPU, run ``test_kernels_triton.py`` where ``TRITON_INTERPRET=1`` is set first."""
    if importlib.util.find_spec("triton") is None:
        pytest.skip("triton is not installed (a Linux-only package)")
    if torch.cuda.is_available() or _interpreter_on_here():
        pytest.skip("the Triton tests run in this process (see test_kernels_triton.py)")
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    command = [sys.executable, "-m", "pytest", str(TRITON_TESTS), "-q", "-p", "no:cacheprovider"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    expected = f"{2 * len(OPS)} passed"  # ops × (float32, bfloat16), none skipped
    assert done.returncode == 0 and expected in done.stdout, done.stdout[-5000:]


def _interpreter_on_here() -> bool:
    try:
        dispatch.resolve("triton", torch.device("cpu"))
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("chunk_size", [1, CHUNK, 1000, None])
def test_chunk_size_does_not_change_results(chunk_size):
    ref = run("logprobs", make_case(), "reference")
    assert_matches(run("logprobs", make_case(), "chunked", chunk_size), ref, torch.float32)


def test_ignored_and_masked_positions_are_zero():
    case = make_case()
    log_probs, entropy, *_ = run("logprobs", case, "chunked")
    ignored = case.labels == -100
    assert (log_probs[ignored] == 0).all() and (entropy[ignored] == 0).all()
    assert (log_probs[~ignored] < 0).all() and (entropy[~ignored] > 0).all()
    kl_ref_policy, kl_policy_ref, *_ = run("kl", case, "chunked")
    assert (kl_ref_policy[~case.mask] == 0).all() and (kl_policy_ref[~case.mask] == 0).all()


def test_no_valid_position_gives_zeros_and_zero_gradients():
    case = make_case()
    case.labels.fill_(-100)
    log_probs, entropy, *grads = run("logprobs", case, "chunked")
    assert not log_probs.any() and not entropy.any()
    assert all(not g.any() for g in grads)
