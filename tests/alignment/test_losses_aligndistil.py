"""Logit-level pieces: per-position KL, TVD, AlignDistil teachers and distillation loss."""

import math

import pytest
import torch

from toolkit.alignment import (
    aligndistil_loss,
    aligndistil_teacher_logits,
    compute_loss,
    contrastive_teacher_logits,
    token_kl_from_logits,
    token_tvd,
)

TIGHT = {"rtol": 1e-12, "atol": 1e-12}


def logits(*shape, seed=0, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=g, dtype=torch.float64)


def ragged_mask(batch_size=3, t=4):
    lengths = torch.tensor([t, 1, t - 1])[:batch_size]
    return torch.arange(t) < lengths[:, None]


# --- per-position KL and TVD ------------------------------------------------------------


def test_token_kl_matches_hand_computation_both_directions():
    policy = torch.tensor([[[0.0, 0.0]]])  # p = (1/2, 1/2)
    ref = torch.tensor([[[math.log(3.0), 0.0]]])  # q = (3/4, 1/4)
    forward = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)  # KL(q ‖ p)
    reverse = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)  # KL(p ‖ q)
    assert token_kl_from_logits(policy, ref).item() == pytest.approx(forward, rel=1e-6)
    assert token_kl_from_logits(policy, ref, "reverse").item() == pytest.approx(reverse, rel=1e-6)
    with pytest.raises(ValueError, match="direction must be"):
        token_kl_from_logits(policy, ref, "both")
    with pytest.raises(ValueError, match="must have the same shape"):
        token_kl_from_logits(policy, ref[..., :1])


def test_token_kl_is_nonnegative_zero_on_equal_and_reference_is_detached():
    policy = logits(3, 4, 7, seed=1).requires_grad_(True)
    ref = logits(3, 4, 7, seed=2).requires_grad_(True)
    for direction in ("forward", "reverse"):
        kl = token_kl_from_logits(policy, ref, direction)
        assert kl.shape == (3, 4) and (kl >= 0).all()
        assert torch.allclose(token_kl_from_logits(ref, ref, direction), torch.zeros_like(kl))
        kl.sum().backward()
    assert ref.grad is None and policy.grad.abs().sum() > 0
    small_ref = ref[:2, :2, :4].detach()
    for direction in ("forward", "reverse"):
        assert torch.autograd.gradcheck(
            lambda p, d=direction: token_kl_from_logits(p, small_ref, d),
            (policy[:2, :2, :4].detach().clone().requires_grad_(True),),
            eps=1e-6,
            atol=1e-8,
        )


def test_tvd_hand_example_and_range():
    p = torch.tensor([[[0.0, 0.0]]])  # (1/2, 1/2)
    q = torch.tensor([[[math.log(3.0), 0.0]]])  # (3/4, 1/4)
    assert token_tvd(p, q).item() == pytest.approx(0.25, rel=1e-6)
    tvd = token_tvd(logits(2, 3, 5, seed=3), logits(2, 3, 5, seed=4))
    assert ((tvd >= 0) & (tvd <= 1)).all()


# --- teachers -----------------------------------------------------------------------------


def test_theorem1_teacher_interpolates_between_reference_and_dpo():
    ref, dpo = logits(2, 3, 5, seed=5), logits(2, 3, 5, seed=6)
    at_dpo = aligndistil_teacher_logits(ref, dpo, beta=0.5, beta2=0.5)  # w = 1
    assert torch.equal(at_dpo.logits, dpo) and torch.equal(at_dpo.weights, torch.ones(2, 3))
    near_ref = aligndistil_teacher_logits(ref, dpo, beta=1e-12, beta2=1.0)  # w -> 0
    assert torch.allclose(near_ref.logits, ref, rtol=0, atol=1e-10)
    default = aligndistil_teacher_logits(ref, dpo)  # β = 0.1, β₂ = 10: w = 0.01
    assert torch.allclose(default.logits, 0.01 * dpo + 0.99 * ref, **TIGHT)
    assert torch.allclose(default.weights, torch.full((2, 3), 0.01, dtype=torch.float64))
    with pytest.raises(ValueError, match="beta2 must be > 0"):
        aligndistil_teacher_logits(ref, dpo, beta2=0.0)
    with pytest.raises(ValueError, match="dpo_logits has shape"):
        aligndistil_teacher_logits(ref, dpo[..., :4])


@pytest.mark.parametrize(("tvd", "scale"), [("authors", 1.0), ("standard", 0.5)])
def test_contrastive_teacher_weights_and_extrapolation(tvd, scale):
    dpo, rev = logits(2, 3, 5, seed=7), logits(2, 3, 5, seed=8)
    teacher = contrastive_teacher_logits(dpo, rev, beta2=10.0, tvd=tvd)
    assert ((teacher.weights >= 1e-3) & (teacher.weights <= 20.0 * scale + 1e-3)).all()
    expected_w = 10.0 * scale * (dpo.softmax(-1) - rev.softmax(-1)).abs().sum(-1) + 1e-3
    assert torch.allclose(teacher.weights, expected_w, **TIGHT)
    expected = dpo + expected_w.unsqueeze(-1) * (dpo - rev)
    assert torch.allclose(teacher.logits, expected, **TIGHT)

    same = contrastive_teacher_logits(dpo, dpo.clone(), tvd=tvd)
    assert torch.allclose(same.weights, torch.full((2, 3), 1e-3, dtype=torch.float64), **TIGHT)
    assert torch.allclose(same.logits, dpo, **TIGHT)
    apart = torch.tensor([[[40.0, 0.0]]], dtype=torch.float64)
    extreme = contrastive_teacher_logits(apart, apart.flip(-1), beta2=10.0, tvd=tvd)
    assert extreme.weights.item() == pytest.approx(20.0 * scale + 1e-3, rel=1e-9)


def test_authors_tvd_at_beta2_is_standard_tvd_at_twice_beta2():
    dpo, rev = logits(2, 3, 5, seed=9), logits(2, 3, 5, seed=10)
    authors = contrastive_teacher_logits(dpo, rev, beta2=5.0)
    standard = contrastive_teacher_logits(dpo, rev, beta2=10.0, tvd="standard")
    assert torch.allclose(authors.weights, standard.weights, **TIGHT)
    with pytest.raises(ValueError, match="tvd must be one of"):
        contrastive_teacher_logits(dpo, rev, tvd="half")


# --- distillation loss ------------------------------------------------------------------


def test_loss_is_zero_when_the_policy_is_the_teacher():
    z, mask = logits(3, 4, 6, seed=9), ragged_mask()
    zero = torch.zeros(3, dtype=torch.float64)
    assert torch.allclose(aligndistil_loss(z, z, mask).losses, zero, atol=1e-12)
    hot = aligndistil_loss(z / 2.0, z, mask, temperature=2.0).losses
    assert torch.allclose(hot, zero, atol=1e-12)


def test_loss_hand_value_weights_and_length_normalization():
    policy, teacher, mask = logits(3, 4, 6, seed=10), logits(3, 4, 6, seed=11), ragged_mask()
    weights = torch.rand(3, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    weights = weights + 0.5
    p, q = policy.log_softmax(-1), (teacher / 1.5).log_softmax(-1)
    kl = (p.exp() * (p - q)).sum(-1)
    summed = ((0.1 / weights) * kl * mask).sum(-1)
    out = aligndistil_loss(policy, teacher, mask, weights=weights, temperature=1.5)
    assert torch.allclose(out.losses, summed / mask.sum(-1), **TIGHT)
    raw = aligndistil_loss(
        policy, teacher, mask, weights=weights, temperature=1.5, length_normalize=False
    )
    assert torch.allclose(raw.losses, summed, **TIGHT)
    assert set(out.metrics) == {"kl/teacher", "weights/mean"}
    assert torch.allclose(out.metrics["kl/teacher"], (kl * mask).sum(-1) / mask.sum(-1), **TIGHT)

    # Theorem 1's constant w = β/β₂ turns the coefficient β/w into β₂
    ref, dpo = logits(3, 4, 6, seed=12), logits(3, 4, 6, seed=13)
    theorem1 = aligndistil_teacher_logits(ref, dpo, beta=0.1, beta2=10.0)
    out = aligndistil_loss(policy, theorem1.logits, mask, beta=0.1, weights=theorem1.weights)
    plain = aligndistil_loss(policy, theorem1.logits, mask, beta=10.0)
    assert torch.allclose(out.losses, plain.losses, **TIGHT)
    via_registry = compute_loss(
        "aligndistil", policy, theorem1.logits, mask, weights=theorem1.weights
    )
    assert torch.equal(via_registry.losses, out.losses)


def test_padding_does_not_change_the_loss_or_its_gradient():
    policy, mask = logits(3, 4, 6, seed=14), ragged_mask()
    teacher = contrastive_teacher_logits(logits(3, 4, 6, seed=15), logits(3, 4, 6, seed=16))
    pad = logits(3, 2, 6, seed=17, scale=1e3)
    padded_policy = torch.cat([policy, pad], 1).requires_grad_(True)
    padded_mask = torch.cat([mask, torch.zeros(3, 2, dtype=torch.bool)], 1)
    padded_teacher = torch.cat([teacher.logits, pad.flip(0)], 1)
    padded_weights = torch.cat([teacher.weights, torch.full((3, 2), -5.0)], 1)
    policy.requires_grad_(True)

    out = aligndistil_loss(policy, teacher.logits, mask, weights=teacher.weights)
    padded = aligndistil_loss(padded_policy, padded_teacher, padded_mask, weights=padded_weights)
    assert torch.allclose(out.losses, padded.losses, **TIGHT)
    out.loss.backward()
    padded.loss.backward()
    assert torch.allclose(padded_policy.grad[:, :4], policy.grad, **TIGHT)
    assert torch.count_nonzero(padded_policy.grad[:, 4:]) == 0


def test_gradient_matches_finite_differences_and_teacher_gets_none():
    mask = ragged_mask(2, 3)
    teacher = contrastive_teacher_logits(logits(2, 3, 4, seed=18), logits(2, 3, 4, seed=19))
    target = teacher.logits.clone().requires_grad_(True)
    policy = logits(2, 3, 4, seed=20).requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda p: (
            aligndistil_loss(p, target, mask, weights=teacher.weights, temperature=0.7).losses
        ),
        (policy,),
        eps=1e-6,
        atol=1e-8,
    )
    aligndistil_loss(policy, target, mask).loss.backward()
    assert target.grad is None


def test_bad_input_is_rejected():
    policy, teacher, mask = logits(3, 4, 6), logits(3, 4, 6, seed=1), ragged_mask()
    with pytest.raises(ValueError, match="teacher_logits has shape"):
        aligndistil_loss(policy, teacher[:, :3], mask)
    with pytest.raises(ValueError, match="policy_logits must be \\(B, T, V\\)"):
        aligndistil_loss(policy[0], teacher[0], mask)
    empty = mask.clone()
    empty[2] = False
    with pytest.raises(ValueError, match="pair 2: mask has no completion tokens"):
        aligndistil_loss(policy, teacher, empty)
    with pytest.raises(ValueError, match="weights must be > 0"):
        aligndistil_loss(policy, teacher, mask, weights=torch.zeros(3, 4))
    nan_weights = torch.ones(3, 4)
    nan_weights[1, 0] = float("nan")
    with pytest.raises(ValueError, match="pair 1: weights has NaN or inf"):
        aligndistil_loss(policy, teacher, mask, weights=nan_weights)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        aligndistil_loss(policy, teacher, mask, temperature=0.0)
    with pytest.raises(ValueError, match="beta must be > 0"):
        aligndistil_loss(policy, teacher, mask, beta=-1.0)
    with pytest.raises(ValueError, match="min_weight must be > 0"):
        contrastive_teacher_logits(policy, teacher, min_weight=0.0)
