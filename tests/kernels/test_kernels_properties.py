"""Mathematical properties and the reductions between the three functions."""

import math

import pytest
import torch
import torch.nn.functional as F
from kernels_cases import make_case

from toolkit.kernels import TeacherTerm, teacher_kl, token_kl, token_logprobs

IMPLS = pytest.mark.parametrize("impl", ["reference", "chunked"])


@IMPLS
def test_log_probs_are_minus_cross_entropy_and_entropy_is_bounded(impl):
    case = make_case()
    log_probs, entropy = token_logprobs(
        case.hidden,
        case.weight,
        case.labels,
        lm_head_bias=case.bias,
        return_entropy=True,
        impl=impl,
        chunk_size=4,
    )
    logits = F.linear(case.hidden, case.weight, case.bias)  # (B, T, V)
    nll = F.cross_entropy(logits.transpose(1, 2), case.labels, reduction="none")
    torch.testing.assert_close(log_probs, -nll)
    valid = case.labels != -100
    assert (entropy[valid] > 0).all() and (entropy <= math.log(case.weight.shape[0])).all()


@IMPLS
def test_kl_is_nonnegative(impl):
    for seed in range(3):
        case = make_case(seed=seed)
        both = token_kl(
            case.hidden,
            case.ref_hidden,
            case.weight,
            case.ref_weight,
            direction="both",
            impl=impl,
            chunk_size=4,
        )
        for kl in both:
            assert (kl >= -1e-6).all() and (kl > 0).any()


@IMPLS
def test_kl_is_zero_with_zero_gradient_when_policy_is_reference(impl):
    case = make_case()
    hidden, weight = case.leaves()[:2]
    kl_f, kl_r = token_kl(
        hidden, hidden.detach(), weight, weight.detach(), direction="both", impl=impl, chunk_size=4
    )
    assert kl_f.abs().max() < 1e-6 and kl_r.abs().max() < 1e-6
    grads = torch.autograd.grad((kl_f + kl_r).sum(), [hidden, weight])
    assert all(g.abs().max() < 1e-5 for g in grads)


@IMPLS
def test_token_kl_is_a_one_term_teacher(impl):
    case = make_case()
    args = (case.hidden, case.ref_hidden, case.weight, case.ref_weight, case.mask)
    teacher = [TeacherTerm(case.ref_hidden, case.ref_weight)]
    for ours, theirs in (("ref||policy", "teacher||policy"), ("policy||ref", "policy||teacher")):
        expected = token_kl(*args, direction=ours, impl=impl)
        got = teacher_kl(case.hidden, case.weight, teacher, case.mask, direction=theirs, impl=impl)
        torch.testing.assert_close(got, expected)


@IMPLS
def test_teacher_terms_combine_linearly_and_temperature_scales(impl):
    """w·z + (1−w)·z is z; 2·z at temperature 2 is z again (per-token w too)."""
    case = make_case()
    z = (case.ref_hidden, case.ref_weight)
    expected = token_kl(case.hidden, *z[:1], case.weight, z[1], direction="policy||ref", impl=impl)
    mixes = [
        [TeacherTerm(*z, 0.3), TeacherTerm(*z, 0.7)],
        [TeacherTerm(*z, case.coef), TeacherTerm(*z, 1 - case.coef)],
    ]
    for teacher in mixes:
        got = teacher_kl(case.hidden, case.weight, teacher, impl=impl)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    hot = teacher_kl(case.hidden, case.weight, [TeacherTerm(*z, 2.0)], temperature=2.0, impl=impl)
    torch.testing.assert_close(hot, expected, atol=1e-5, rtol=1e-5)


def test_no_gradient_reaches_the_reference_or_teacher():
    case = make_case()
    ref_hidden = case.ref_hidden.requires_grad_()
    ref_weight = case.ref_weight.requires_grad_()
    coef = case.coef.requires_grad_()
    kl = token_kl(case.hidden, ref_hidden, case.weight, ref_weight, impl="chunked")
    kl = kl + teacher_kl(case.hidden, case.weight, [TeacherTerm(ref_hidden, ref_weight, coef)])
    assert not kl.requires_grad  # the policy here has no gradient either: nothing to flow
    hidden = case.leaves()[0]
    kl = teacher_kl(hidden, case.weight, [TeacherTerm(ref_hidden, ref_weight, coef)])
    kl.sum().backward()
    assert ref_hidden.grad is None and ref_weight.grad is None and coef.grad is None
