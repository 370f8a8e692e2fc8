"""The chunked paths never create a tensor of B×T×V elements, forward or backward.

Every aten op's outputs are seen through a ``TorchDispatchMode`` (which also sees the ops run
by autograd during ``backward``). Peak resident memory is measured by
``python -m benchmarks kernels`` instead: on a shared CPU machine an RSS assertion would be flaky.
"""

import pytest
import torch
from kernels_cases import OPS, make_case, run
from torch.utils._python_dispatch import TorchDispatchMode

SHAPE = (2, 32, 16, 19, 257)  # B, T, H, H_ref, V: B·T·V = 16448 ≫ chunk·V = 1028, V·H = 4112


class LargestOutput(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, tuple | list) else [out]:
            if isinstance(t, torch.Tensor):
                self.largest = max(self.largest, t.numel())
        return out


def largest_tensor(op: str, impl: str) -> int:
    """Elements in the largest tensor any op creates (a few positions are ignored/masked)."""
    case = make_case(shape=SHAPE)
    with LargestOutput() as mode:
        run(op, case, impl, chunk_size=4)
    return mode.largest


@pytest.mark.parametrize("op", OPS)
def test_chunked_never_materializes_bt_by_v(op):
    B, T, _, _, V = SHAPE
    assert largest_tensor(op, "reference") >= 0.8 * B * T * V  # the probe sees full logits
    assert largest_tensor(op, "chunked") <= B * T * V // 3
