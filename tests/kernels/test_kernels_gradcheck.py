"""``torch.autograd.gradcheck`` (float64, small shapes) on the torch paths' backward."""

import pytest
import torch
from kernels_cases import make_case

from toolkit.kernels import TeacherTerm, teacher_kl, token_kl, token_logprobs

SMALL = (2, 5, 4, 3, 11)  # B, T, H, H_ref, V
IMPLS = pytest.mark.parametrize("impl", ["reference", "chunked"])


@IMPLS
def test_logprobs_and_entropy(impl):
    case = make_case(torch.float64, shape=SMALL)

    def fn(hidden, weight, bias):
        return token_logprobs(
            hidden,
            weight,
            case.labels,
            lm_head_bias=bias,
            temperature=0.8,
            return_entropy=True,
            impl=impl,
            chunk_size=3,
        )

    assert torch.autograd.gradcheck(fn, case.leaves())


@IMPLS
def test_token_kl_both_directions(impl):
    case = make_case(torch.float64, shape=SMALL)

    def fn(hidden, weight):
        return token_kl(
            hidden,
            case.ref_hidden,
            weight,
            case.ref_weight,
            case.mask,
            direction="both",
            impl=impl,
            chunk_size=3,
        )

    assert torch.autograd.gradcheck(fn, case.leaves()[:2])


@IMPLS
def test_teacher_kl_with_per_token_coefficients(impl):
    case = make_case(torch.float64, shape=SMALL)
    teacher = [
        TeacherTerm(case.ref_hidden, case.ref_weight, 1 + case.coef.double()),
        TeacherTerm(case.hidden.flip(1), case.weight * 0.5, -case.coef.double()),
    ]

    def fn(hidden, weight):
        return teacher_kl(
            hidden,
            weight,
            teacher,
            case.mask,
            temperature=1.5,
            direction="both",
            impl=impl,
            chunk_size=3,
        )

    assert torch.autograd.gradcheck(fn, case.leaves()[:2])
