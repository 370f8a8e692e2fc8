"""The Triton kernels agree with the full-logit reference, values and gradients.

On CUDA they run compiled; without a GPU, in Triton's interpreter, which only works when
``TRITON_INTERPRET=1`` was set before triton was first imported: ``test_kernels_parity.py``
starts this file in such a subprocess (in a full test run something imports triton early).
Tolerances: ``kernels_cases.TOL``.
"""

import pytest
from kernels_cases import DTYPES, OPS, assert_matches, make_case, run


@DTYPES
@pytest.mark.parametrize("op", OPS)
def test_triton_matches_reference(op, dtype, triton_device):
    ref = run(op, make_case(dtype, device=triton_device), "reference")
    assert_matches(run(op, make_case(dtype, device=triton_device), "triton"), ref, dtype)
