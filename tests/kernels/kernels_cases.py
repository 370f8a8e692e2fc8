"""Shared inputs and runners for the ``toolkit.kernels`` tests (not a test module itself).

Shapes are small and deliberately awkward: T = 13 is not a multiple of ``CHUNK`` = 4, V = 97 is
not a power of two (and spans several Triton vocab tiles when tests shrink ``MAX_BLOCK_V``),
B = 2, some labels are ``ignore_index`` and some positions masked out.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from toolkit.kernels import TeacherTerm, teacher_kl, token_kl, token_logprobs

B, T, H, H_REF, V = 2, 13, 16, 19, 97
CHUNK = 4
OPS = ("logprobs", "kl", "teacher")
# |fast − ref| ≤ tol·(max|ref| + |ref|) elementwise: float32, and a few bf16 ulps for bfloat16
# (its gradients pass through bf16 dz and bf16 matmuls).
TOL = {torch.float32: 2e-5, torch.bfloat16: 2e-2}
DTYPES = pytest.mark.parametrize("dtype", list(TOL), ids=["float32", "bfloat16"])


@dataclass
class Case:
    hidden: torch.Tensor  # (B, T, H)  policy, gets gradients
    weight: torch.Tensor  # (V, H)
    bias: torch.Tensor  # (V,)
    labels: torch.Tensor  # (B, T) with ignore_index entries
    mask: torch.Tensor  # (B, T) bool
    ref_hidden: torch.Tensor  # (B, T, H_REF)  reference / teacher side, no gradient
    ref_weight: torch.Tensor  # (V, H_REF)
    coef: torch.Tensor  # (B, T) per-token teacher coefficient w_t

    def leaves(self) -> list[torch.Tensor]:
        """Fresh policy leaves (so every run starts without gradients)."""
        for name in ("hidden", "weight", "bias"):
            setattr(self, name, getattr(self, name).detach().requires_grad_())
        return [self.hidden, self.weight, self.bias]


def make_case(dtype=torch.float32, device="cpu", seed=0, shape=(B, T, H, H_REF, V)) -> Case:
    b, t, h, h_ref, v = shape
    g = torch.Generator().manual_seed(seed)

    def randn(*size, scale=1.0):
        return (torch.randn(*size, generator=g) * scale).to(device=device, dtype=dtype)

    labels = torch.randint(0, v, (b, t), generator=g)
    labels[0, -3:] = -100  # right padding
    labels[1, t // 2] = -100  # a prompt token in the middle
    mask = labels != -100
    mask[1, 0] = False
    return Case(
        hidden=randn(b, t, h),
        weight=randn(v, h, scale=0.5),
        bias=randn(v, scale=0.5),
        labels=labels.to(device),
        mask=mask.to(device),
        ref_hidden=randn(b, t, h_ref),
        ref_weight=randn(v, h_ref, scale=0.5),
        coef=torch.rand(b, t, generator=g).to(device),
    )


def run(op: str, case: Case, impl: str, chunk_size: int | None = CHUNK) -> list[torch.Tensor]:
    """Outputs of ``op`` and the gradients of a fixed random mix of them wrt the policy leaves."""
    leaves = case.leaves()
    kw = dict(impl=impl, chunk_size=chunk_size)
    if op == "logprobs":
        outs = token_logprobs(
            case.hidden,
            case.weight,
            case.labels,
            lm_head_bias=case.bias,
            temperature=0.7,
            return_entropy=True,
            **kw,
        )
    elif op == "kl":
        outs = token_kl(
            case.hidden,
            case.ref_hidden,
            case.weight,
            case.ref_weight,
            case.mask,
            direction="both",
            **kw,
        )
    else:  # AlignDistil's contrastive teacher: (1 + w_t)·z_a − w_t·z_b, at temperature 1.5
        teacher = [
            TeacherTerm(case.ref_hidden, case.ref_weight, 1 + case.coef),
            TeacherTerm(case.hidden.detach().flip(1), case.weight.detach() * 0.5, -case.coef),
        ]
        outs = teacher_kl(
            case.hidden, case.weight, teacher, case.mask, temperature=1.5, direction="both", **kw
        )
    g = torch.Generator().manual_seed(1)
    mix = sum((o * torch.rand(o.shape, generator=g).to(o.device)).sum() for o in outs)
    grads = torch.autograd.grad(mix, leaves, allow_unused=True)
    return [o.detach() for o in outs] + [gr for gr in grads if gr is not None]


def assert_matches(new: list[torch.Tensor], ref: list[torch.Tensor], dtype: torch.dtype) -> None:
    assert len(new) == len(ref)
    tol = TOL[dtype]
    for i, (a, b) in enumerate(zip(new, ref, strict=True)):
        assert a.shape == b.shape and a.dtype == b.dtype, i
        a, b = a.float().cpu(), b.float().cpu()
        torch.testing.assert_close(a, b, atol=tol * b.abs().max().item(), rtol=tol, msg=f"#{i}")
