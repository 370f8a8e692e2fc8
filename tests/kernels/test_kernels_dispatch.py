"""Choosing the implementation: argument, environment variable, defaults, clear errors."""

import importlib.util

import pytest
import torch
from kernels_cases import make_case

from toolkit.kernels import ENV_VAR, IMPLS, dispatch, token_logprobs

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


@pytest.fixture(autouse=True)
def no_env_choice(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


def test_defaults_chunked_on_cpu_triton_on_cuda(monkeypatch):
    assert dispatch.resolve(None, CPU) == "chunked"
    monkeypatch.setattr(dispatch, "triton_importable", lambda: True)
    assert dispatch.resolve(None, CUDA) == "triton"
    monkeypatch.setattr(dispatch, "triton_importable", lambda: False)
    assert dispatch.resolve(None, CUDA) == "chunked"


def test_argument_beats_environment_variable(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "reference")
    assert dispatch.resolve(None, CPU) == "reference"
    assert dispatch.resolve("chunked", CPU) == "chunked"


def test_environment_variable_selects_the_implementation_actually_run(monkeypatch):
    seen = []
    real = dispatch.backend
    monkeypatch.setattr(dispatch, "backend", lambda name: seen.append(name) or real(name))
    case = make_case()
    for name in ("reference", "chunked"):
        monkeypatch.setenv(ENV_VAR, name)
        token_logprobs(case.hidden, case.weight, case.labels)
    assert seen == ["reference", "chunked"]


@pytest.mark.parametrize("via_env", [False, True])
def test_unknown_name_lists_the_options(monkeypatch, via_env):
    case = make_case()
    if via_env:
        monkeypatch.setenv(ENV_VAR, "cuda")
    with pytest.raises(ValueError, match="unknown kernels implementation 'cuda'") as error:
        token_logprobs(case.hidden, case.weight, case.labels, impl=None if via_env else "cuda")
    assert all(name in str(error.value) for name in IMPLS)
    assert (ENV_VAR in str(error.value)) == via_env


def test_triton_without_triton_package_says_so(monkeypatch):
    monkeypatch.setattr(dispatch, "triton_importable", lambda: False)
    with pytest.raises(ValueError, match="needs the triton package"):
        dispatch.resolve("triton", CUDA)


@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton not installed")
def test_triton_on_cpu_without_interpreter_says_how(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    case = make_case()
    with pytest.raises(ValueError, match="needs CUDA tensors.*TRITON_INTERPRET=1"):
        token_logprobs(case.hidden, case.weight, case.labels, impl="triton")


def test_backends_expose_both_entry_points():
    for name in ("reference", "chunked"):
        backend = dispatch.backend(name)
        assert backend.name == name and callable(backend.logprobs) and callable(backend.kl)
