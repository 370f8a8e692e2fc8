"""Pairwise token-level preference losses: exact reductions, padding, gradients, bad input."""

import math

import pytest
import torch

from toolkit.alignment import (
    LOSSES,
    TokenBatch,
    compute_loss,
    dpo_loss,
    sparsepo_loss,
    target_dpo_loss,
    tdpo_loss,
    tis_dpo_loss,
)

BATCH_KEYS = (
    "policy_chosen_logps",
    "policy_rejected_logps",
    "ref_chosen_logps",
    "ref_rejected_logps",
    "chosen_mask",
    "rejected_mask",
    "chosen_kl",
    "rejected_kl",
)
TIGHT = {"rtol": 1e-12, "atol": 1e-12}


def make_inputs(batch_size=4, t_chosen=6, t_rejected=5, seed=0):
    """Random float64 per-token inputs with ragged lengths (padding holds finite junk)."""
    g = torch.Generator().manual_seed(seed)

    def rand(t, low=0.0, high=1.0):
        return low + (high - low) * torch.rand(batch_size, t, generator=g, dtype=torch.float64)

    def mask(t):
        lengths = torch.randint(1, t + 1, (batch_size,), generator=g)
        lengths[0] = t  # one full row
        return (torch.arange(t) < lengths[:, None]).double()

    chosen_mask, rejected_mask = mask(t_chosen), mask(t_rejected)
    diff = rand(t_rejected) < 0.5
    diff[:, 0] = True
    return {
        "policy_chosen_logps": rand(t_chosen, -4, -0.1),
        "policy_rejected_logps": rand(t_rejected, -4, -0.1),
        "ref_chosen_logps": rand(t_chosen, -4, -0.1),
        "ref_rejected_logps": rand(t_rejected, -4, -0.1),
        "chosen_mask": chosen_mask,
        "rejected_mask": rejected_mask,
        "chosen_kl": rand(t_chosen, 0, 0.5),
        "rejected_kl": rand(t_rejected, 0, 0.5),
        "reward_mask_chosen": rand(t_chosen, 0.1, 1),
        "reward_mask_rejected": rand(t_rejected, 0.1, 1),
        "kl_mask_chosen": rand(t_chosen, 0.1, 1),
        "kl_mask_rejected": rand(t_rejected, 0.1, 1),
        "chosen_weights": rand(t_chosen, 0.7, 1.3),
        "rejected_weights": rand(t_rejected, 0.7, 1.3),
        "rejected_diff_mask": diff.double(),
    }


def batch_of(t):
    return TokenBatch(**{k: t[k] for k in BATCH_KEYS})


def sparse_masks(t):
    return {k: t[k] for k in t if k.startswith(("reward_mask", "kl_mask"))}


def every_loss(t):
    """Each method once, with its own per-token inputs taken from ``t``."""
    batch = batch_of(t)
    weights = {"chosen_weights": t["chosen_weights"], "rejected_weights": t["rejected_weights"]}
    return {
        "dpo": dpo_loss(batch, label_smoothing=0.1),
        "tdpo1": tdpo_loss(batch, variant=1),
        "tdpo2": tdpo_loss(batch, variant=2),
        "sparsepo": sparsepo_loss(batch, **sparse_masks(t), l1_reward=1e-2, l1_kl=2e-2),
        "tis_dpo": tis_dpo_loss(batch, **weights, token_level=True),
        "target_rpo": target_dpo_loss(batch, rejected_diff_mask=t["rejected_diff_mask"], alpha=1.0),
    }


def ones_like_masks(t):
    return {k: torch.ones_like(v) for k, v in sparse_masks(t).items()}


# --- exact reductions -------------------------------------------------------------------


def test_dpo_matches_closed_form_hand_example():
    batch = TokenBatch(
        policy_chosen_logps=torch.tensor([[-1.0, -2.0, -7.0]]),
        ref_chosen_logps=torch.tensor([[-1.5, -1.8, 3.0]]),  # lr = 0.5, -0.2 (pad: junk)
        chosen_mask=torch.tensor([[1.0, 1.0, 0.0]]),
        policy_rejected_logps=torch.tensor([[-0.9, -1.0]]),
        ref_rejected_logps=torch.tensor([[-1.0, -1.3]]),  # lr = 0.1, 0.3
        rejected_mask=torch.tensor([[True, True]]),
    )
    z = 0.1 * ((0.5 - 0.2) - (0.1 + 0.3))  # β u = -0.01
    out = dpo_loss(batch)
    assert out.losses.item() == pytest.approx(math.log1p(math.exp(-z)), rel=1e-6)
    smoothed = dpo_loss(batch, label_smoothing=0.2)
    expected = 0.8 * math.log1p(math.exp(-z)) + 0.2 * math.log1p(math.exp(z))
    assert smoothed.losses.item() == pytest.approx(expected, rel=1e-6)
    assert out.metrics["rewards/chosen"].item() == pytest.approx(0.03, rel=1e-6)
    assert out.metrics["rewards/rejected"].item() == pytest.approx(0.04, rel=1e-6)
    assert out.metrics["rewards/margins"].item() == pytest.approx(-0.01, rel=1e-5)
    assert out.metrics["logps/chosen"].item() == pytest.approx(-3.0)


def test_tdpo_with_zero_kl_equals_dpo():
    t = make_inputs()
    t["chosen_kl"] = torch.zeros_like(t["chosen_kl"])
    t["rejected_kl"] = torch.zeros_like(t["rejected_kl"])
    dpo = dpo_loss(batch_of(t)).losses
    for variant in (1, 2):
        assert torch.allclose(tdpo_loss(batch_of(t), variant=variant).losses, dpo, **TIGHT)


def test_sparsepo_with_unit_masks_and_no_l1_equals_tdpo1():
    t = make_inputs(seed=1)
    batch = batch_of(t)
    tdpo1 = tdpo_loss(batch, variant=1).losses
    sparse = sparsepo_loss(batch, **ones_like_masks(t))
    assert torch.allclose(sparse.losses, tdpo1, **TIGHT)
    assert torch.allclose(sparsepo_loss(batch).losses, tdpo1, **TIGHT)  # masks off


def test_sparsepo_reward_only_masks_equal_dpo_and_l1_term_is_exact():
    t = make_inputs(seed=2)
    batch = batch_of(t)
    masks = ones_like_masks(t)
    masks["kl_mask_chosen"] = torch.zeros_like(masks["kl_mask_chosen"])
    masks["kl_mask_rejected"] = torch.zeros_like(masks["kl_mask_rejected"])
    assert torch.allclose(sparsepo_loss(batch, **masks).losses, dpo_loss(batch).losses, **TIGHT)

    m = sparse_masks(t)
    plain = sparsepo_loss(batch, **m).losses
    penalized = sparsepo_loss(batch, **m, l1_reward=0.01, l1_kl=0.03)

    def l1(name_w, name_l):
        return (t[name_w] * t["chosen_mask"]).sum(-1) + (t[name_l] * t["rejected_mask"]).sum(-1)

    expected = 0.01 * l1("reward_mask_chosen", "reward_mask_rejected") + 0.03 * l1(
        "kl_mask_chosen", "kl_mask_rejected"
    )
    assert torch.allclose(penalized.losses - plain, expected, **TIGHT)
    assert torch.allclose(penalized.metrics["loss/l1"], expected, **TIGHT)


def test_tis_dpo_with_unit_weights_equals_dpo_and_tdpo1():
    t = make_inputs(seed=3)
    batch = batch_of(t)
    ones = {
        "chosen_weights": torch.ones_like(t["chosen_weights"]),
        "rejected_weights": torch.ones_like(t["rejected_weights"]),
    }
    assert torch.allclose(tis_dpo_loss(batch, **ones).losses, dpo_loss(batch).losses, **TIGHT)
    token_level = tis_dpo_loss(batch, **ones, token_level=True, alpha=1.0).losses
    assert torch.allclose(token_level, tdpo_loss(batch, variant=1).losses, **TIGHT)
    doubled = {k: 2 * v for k, v in ones.items()}
    assert torch.allclose(
        tis_dpo_loss(batch, **doubled).losses, dpo_loss(batch, beta=0.2).losses, **TIGHT
    )


def test_target_dpo_full_mask_equals_dpo_and_rpo_adds_exactly_alpha_nll():
    t = make_inputs(seed=4)
    batch = batch_of(t)
    full = torch.ones_like(t["rejected_mask"])
    target = target_dpo_loss(batch, rejected_diff_mask=full)
    assert torch.allclose(target.losses, dpo_loss(batch).losses, **TIGHT)

    diff = t["rejected_diff_mask"]
    target = target_dpo_loss(batch, rejected_diff_mask=diff).losses
    rpo = target_dpo_loss(batch, rejected_diff_mask=diff, alpha=1.0)
    nll = -(t["policy_chosen_logps"] * t["chosen_mask"]).sum(-1) / t["chosen_mask"].sum(-1)
    assert torch.allclose(rpo.losses - target, nll, **TIGHT)
    assert torch.allclose(rpo.metrics["nll/chosen"], nll, **TIGHT)
    half = target_dpo_loss(batch, rejected_diff_mask=diff, alpha=0.5).losses
    assert torch.allclose(half - target, 0.5 * nll, **TIGHT)

    # K⁻ over the diff tokens is DPO with the rejected completion cut down to them
    cut = dict(t, rejected_mask=t["rejected_mask"] * diff)
    assert torch.allclose(target, dpo_loss(batch_of(cut)).losses, **TIGHT)


def test_registry_dispatches_by_name():
    t = make_inputs(seed=5)
    batch = batch_of(t)
    assert set(LOSSES) == {
        "dpo",
        "tdpo1",
        "tdpo2",
        "sparsepo",
        "tis_dpo",
        "target_dpo",
        "target_rpo",
        "aligndistil",
    }
    assert torch.equal(compute_loss("dpo", batch).losses, dpo_loss(batch).losses)
    assert torch.equal(compute_loss("tdpo1", batch).losses, tdpo_loss(batch, variant=1).losses)
    assert torch.equal(
        compute_loss("tdpo2", batch, alpha=0.3).losses,
        tdpo_loss(batch, variant=2, alpha=0.3).losses,
    )
    diff = t["rejected_diff_mask"]
    assert torch.equal(
        compute_loss("target_rpo", batch, rejected_diff_mask=diff).losses,
        target_dpo_loss(batch, rejected_diff_mask=diff, alpha=1.0).losses,
    )
    with pytest.raises(ValueError, match="unknown method 'ipo'.*dpo, tdpo1, tdpo2, sparsepo"):
        compute_loss("ipo", batch)
    with pytest.raises(TypeError):
        LOSSES["mine"] = dpo_loss


# --- behaviour shared by every loss -----------------------------------------------------


def test_metrics_are_detached_per_pair_and_complete():
    t = make_inputs(seed=6)
    for key in ("policy_chosen_logps", "policy_rejected_logps", "chosen_kl", "rejected_kl"):
        t[key].requires_grad_(True)
    outs = every_loss(t)
    for name, out in outs.items():
        assert out.losses.shape == (4,) and out.losses.requires_grad, name
        for key in ("rewards/chosen", "rewards/rejected", "rewards/margins", "logps/chosen"):
            assert key in out.metrics, (name, key)
        for key, value in out.metrics.items():
            assert not value.requires_grad and value.shape == (4,), (name, key)
    assert {"kl/chosen", "kl/rejected"} <= set(outs["tdpo2"].metrics)
    assert {"mask/reward_chosen_sparsity", "loss/l1"} <= set(outs["sparsepo"].metrics)
    assert {"weights/chosen_mean", "kl/chosen"} <= set(outs["tis_dpo"].metrics)
    assert "nll/chosen" in outs["target_rpo"].metrics


def test_padding_does_not_change_any_loss():
    t = make_inputs(seed=7)
    reference = every_loss(t)
    g = torch.Generator().manual_seed(99)
    padded = {}
    for key, value in t.items():
        junk = 1e3 * torch.randn(value.shape[0], 3, generator=g, dtype=value.dtype)
        junk[:, 1] = float("nan")
        junk[:, 2] = float("inf")
        if key in ("chosen_mask", "rejected_mask"):
            junk = torch.zeros_like(junk)
        padded[key] = torch.cat([value, junk], dim=1)
    for name, out in every_loss(padded).items():
        assert torch.allclose(out.losses, reference[name].losses, **TIGHT), name
        for key, value in out.metrics.items():
            assert torch.allclose(value, reference[name].metrics[key], **TIGHT), (name, key)


def test_tdpo2_equals_tdpo1_at_alpha_one_but_stops_the_chosen_kl_gradient():
    t = make_inputs(seed=8)
    t["chosen_kl"].requires_grad_(True)
    t["rejected_kl"].requires_grad_(True)
    tdpo1 = tdpo_loss(batch_of(t), variant=1)
    tdpo2 = tdpo_loss(batch_of(t), variant=2, alpha=1.0)
    assert torch.allclose(tdpo1.losses, tdpo2.losses, **TIGHT)
    kls = (t["chosen_kl"], t["rejected_kl"])
    g1 = torch.autograd.grad(tdpo1.loss, kls)
    g2 = torch.autograd.grad(tdpo2.loss, kls, allow_unused=True, materialize_grads=True)
    assert g1[0].abs().sum() > 0 and torch.count_nonzero(g2[0]) == 0
    assert torch.allclose(g1[1], g2[1], **TIGHT)


def _gradcheck(fn, t, keys):
    small = {k: v[:2, :3].clone() for k, v in t.items()}
    inputs = tuple(small[k].requires_grad_(True) for k in keys)

    def wrapped(*tensors):
        return fn(dict(small, **dict(zip(keys, tensors, strict=True)))).losses

    assert torch.autograd.gradcheck(wrapped, inputs, eps=1e-6, atol=1e-8)


POLICY = ("policy_chosen_logps", "policy_rejected_logps")
KL = ("chosen_kl", "rejected_kl")


@pytest.mark.parametrize(
    ("fn", "keys"),
    [
        (lambda t: dpo_loss(batch_of(t), label_smoothing=0.1), POLICY),
        (lambda t: tdpo_loss(batch_of(t), variant=1), POLICY + KL),
        (lambda t: tdpo_loss(batch_of(t), variant=2), (*POLICY, "rejected_kl")),
        (
            lambda t: sparsepo_loss(batch_of(t), **sparse_masks(t), l1_reward=0.1, l1_kl=0.2),
            POLICY + KL + ("reward_mask_chosen", "kl_mask_rejected"),
        ),
        (
            lambda t: tis_dpo_loss(
                batch_of(t),
                chosen_weights=t["chosen_weights"],
                rejected_weights=t["rejected_weights"],
                token_level=True,
            ),
            POLICY + KL,
        ),
        (
            lambda t: target_dpo_loss(
                batch_of(t), rejected_diff_mask=t["rejected_diff_mask"], alpha=1.0
            ),
            POLICY,
        ),
    ],
    ids=["dpo", "tdpo1", "tdpo2", "sparsepo", "tis_dpo", "target_rpo"],
)
def test_gradients_match_finite_differences(fn, keys):
    _gradcheck(fn, make_inputs(seed=9), keys)


# --- bad input ----------------------------------------------------------------------------


def test_empty_completion_names_the_pair():
    t = make_inputs()
    t["chosen_mask"][3] = 0
    with pytest.raises(ValueError, match="pair 3: chosen_mask has no completion tokens"):
        batch_of(t)
    t = make_inputs()
    t["rejected_mask"][1:3] = 0
    with pytest.raises(ValueError, match="pairs 1, 2: rejected_mask has no completion"):
        batch_of(t)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: t.update(chosen_mask=t["chosen_mask"][:, :-1]),
            "policy_chosen_logps has shape .* but chosen_mask has shape",
        ),
        (
            lambda t: t.update(rejected_kl=t["rejected_kl"][:, :-1]),
            "rejected_kl has shape",
        ),
        (
            lambda t: t.update(
                rejected_mask=t["rejected_mask"][:3],
                policy_rejected_logps=t["policy_rejected_logps"][:3],
                ref_rejected_logps=t["ref_rejected_logps"][:3],
                rejected_kl=t["rejected_kl"][:3],
            ),
            "chosen tensors hold 4 pairs but rejected tensors hold 3",
        ),
        (lambda t: t["chosen_mask"].__setitem__((0, 0), float("nan")), "chosen_mask has NaN"),
        (lambda t: t["chosen_mask"].__setitem__((0, 0), 0.5), "chosen_mask must hold only 0"),
        (
            lambda t: t["ref_rejected_logps"].__setitem__((2, 0), -float("inf")),
            "pair 2: ref_rejected_logps has NaN or inf values at completion tokens",
        ),
    ],
)
def test_bad_batches_are_rejected(change, message):
    t = make_inputs()
    change(t)
    with pytest.raises(ValueError, match=message):
        batch_of(t)


def test_a_mask_that_is_not_a_tensor_is_a_type_error():
    t = make_inputs()
    t.update(chosen_mask=[[1.0]])
    with pytest.raises(TypeError, match="chosen_mask must be a \\(B, T\\) torch.Tensor"):
        batch_of(t)


def test_bad_method_arguments_are_rejected():
    t = make_inputs()
    batch = batch_of(t)
    for name in ("dpo", "tdpo1", "tdpo2", "sparsepo", "target_dpo"):
        kwargs = {"rejected_diff_mask": t["rejected_diff_mask"]} if name == "target_dpo" else {}
        with pytest.raises(ValueError, match="beta must be > 0"):
            compute_loss(name, batch, beta=0.0, **kwargs)
    weights = {"chosen_weights": t["chosen_weights"], "rejected_weights": t["rejected_weights"]}
    with pytest.raises(ValueError, match="beta must be > 0"):
        tis_dpo_loss(batch, **weights, beta=-0.1)
    with pytest.raises(ValueError, match="l1_reward must be >= 0"):
        sparsepo_loss(batch, **sparse_masks(t), l1_reward=-1e-3)
    with pytest.raises(ValueError, match="l1_kl must be >= 0"):
        sparsepo_loss(batch, l1_kl=-1.0)
    with pytest.raises(ValueError, match="give both reward_mask_chosen and reward_mask_rejected"):
        sparsepo_loss(batch, reward_mask_chosen=t["reward_mask_chosen"])
    with pytest.raises(ValueError, match="variant must be 1 or 2"):
        tdpo_loss(batch, variant=3)
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        dpo_loss(batch, label_smoothing=0.5)

    no_kl = TokenBatch(**{k: t[k] for k in BATCH_KEYS[:6]})
    with pytest.raises(ValueError, match="tdpo_loss needs TokenBatch.chosen_kl"):
        tdpo_loss(no_kl)

    bad = t["chosen_weights"].clone()
    bad[1, 0] = float("nan")
    with pytest.raises(ValueError, match="pair 1: chosen_weights has NaN or inf"):
        tis_dpo_loss(batch, chosen_weights=bad, rejected_weights=t["rejected_weights"])
    bad = t["kl_mask_rejected"].clone()
    bad[0, 0] = float("inf")
    with pytest.raises(ValueError, match="pair 0: kl_mask_rejected has NaN or inf"):
        sparsepo_loss(batch, kl_mask_chosen=t["kl_mask_chosen"], kl_mask_rejected=bad)
    with pytest.raises(ValueError, match="chosen_weights has shape"):
        tis_dpo_loss(batch, chosen_weights=bad, rejected_weights=t["rejected_weights"])
    bad = t["rejected_diff_mask"].clone()
    bad[0, 0] = 0.3
    with pytest.raises(ValueError, match="rejected_diff_mask must hold only 0 and 1"):
        target_dpo_loss(batch, rejected_diff_mask=bad)
