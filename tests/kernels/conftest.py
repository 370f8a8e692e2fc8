"""Fixtures for the kernels tests: where the Triton kernels can run."""

import pytest
import torch


@pytest.fixture
def triton_device(monkeypatch) -> str:
    """``"cuda"`` with a GPU, else ``"cpu"`` if Triton's interpreter is on in this process.

    Skips, saying why, where neither works: without a GPU, ``test_kernels_parity.py`` reruns
    these tests in a subprocess started with ``TRITON_INTERPRET=1`` (it must be set before
    anything imports triton, and ``torch._dynamo`` imports it whenever it is installed).
    ``MAX_BLOCK_V`` is shrunk so the small test vocabulary spans several tiles (the online
    softmax rescaling runs) and the last tile is partial.
    """
    pytest.importorskip("triton", reason="triton is not installed (a Linux-only package)")
    from toolkit.kernels import dispatch, triton_kernels

    device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dispatch.resolve("triton", torch.device(device))
    except ValueError as error:
        pytest.skip(
            "run instead in the TRITON_INTERPRET=1 subprocess of test_kernels_parity.py; "
            f"here: {error}"
        )
    monkeypatch.setattr(triton_kernels, "MAX_BLOCK_V", 32)
    return device
