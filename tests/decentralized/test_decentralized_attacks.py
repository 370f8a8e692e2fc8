"""Per-agent attacks stay within their budgets and raise the loss; gradients match autograd."""

import pytest
import torch

from toolkit.decentralized import MLP, Attack, LogisticRegression, StackedModel

K, B, D_IN, C = 3, 20, 6, 4


def batch(dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(K, B, D_IN, generator=g, dtype=dtype)
    y = torch.randint(0, C, (K, B), generator=g)
    return x, y


def trained_ish(model, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(K, model.n_params, generator=g, dtype=torch.float64)


MODELS = [LogisticRegression(D_IN, C), MLP(D_IN, C, hidden=5)]
ATTACKS = [
    Attack("fgsm", "linf"),
    Attack("fgsm", "l2"),
    Attack("pgd", "linf", steps=7),
    Attack("pgd", "l2", steps=7),
    Attack("pgd", "linf", steps=3, random_start=False),
]


@pytest.mark.parametrize("model", MODELS, ids=["logistic", "mlp"])
@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: f"{a.kind}-{a.norm}-{a.random_start}")
def test_attacks_stay_within_each_agents_budget_and_raise_its_loss(model, attack):
    x, y = batch()
    W = trained_ish(model)
    eps = torch.tensor([0.0, 0.1, 0.3], dtype=torch.float64)
    start = torch.rand(x.shape, generator=torch.Generator().manual_seed(2), dtype=x.dtype) * 2 - 1
    x_adv = attack.perturb(model, W, x, y, eps, start if attack.needs_noise else None)
    delta = x_adv - x
    size = delta.abs().amax(-1) if attack.norm == "linf" else delta.norm(dim=-1)
    for k in range(K):
        assert (size[k] <= eps[k] + 1e-12).all(), f"agent {k} exceeds ε_k"
    assert torch.equal(x_adv[0], x[0]), "ε = 0 leaves the samples unchanged"
    clean = model.losses(W, x, y, 0.0)
    attacked = model.losses(W, x_adv, y, 0.0)
    assert attacked[0] == clean[0]
    assert (attacked[1:] > clean[1:]).all()
    if attack.kind == "fgsm":  # one full step to the boundary of the ball
        torch.testing.assert_close(size[2], torch.full((B,), 0.3, dtype=torch.float64))


def test_pgd_is_at_least_as_strong_as_fgsm_on_a_linear_model():
    model = LogisticRegression(D_IN, C)
    x, y = batch()
    W = trained_ish(model)
    eps = torch.full((K,), 0.2, dtype=torch.float64)
    fgsm = model.losses(W, Attack("fgsm").perturb(model, W, x, y, eps), y, 0.0)
    pgd_attack = Attack("pgd", steps=20, random_start=False)
    pgd = model.losses(W, pgd_attack.perturb(model, W, x, y, eps), y, 0.0)
    assert (pgd >= fgsm - 1e-9).all()


def test_pgd_with_random_start_needs_the_noise():
    model = LogisticRegression(D_IN, C)
    x, y = batch()
    with pytest.raises(ValueError, match="start"):
        Attack("pgd").perturb(model, trained_ish(model), x, y, torch.ones(K))


def test_logistic_closed_form_gradients_match_autograd():
    model = LogisticRegression(D_IN, C)
    x, y = batch()
    W = trained_ish(model)
    torch.testing.assert_close(
        model.param_grad(W, x, y, 0.03), StackedModel.param_grad(model, W, x, y, 0.03)
    )
    torch.testing.assert_close(model.input_grad(W, x, y), StackedModel.input_grad(model, W, x, y))


def test_batched_gradients_are_each_agents_own():
    """Row k of the stacked gradient is the gradient of agent k's loss alone."""
    for model in MODELS:
        x, y = batch()
        W = trained_ish(model)
        grad = model.param_grad(W, x, y, 0.01)
        for k in range(K):
            alone = model.param_grad(W[k : k + 1], x[k : k + 1], y[k : k + 1], 0.01)
            torch.testing.assert_close(grad[k : k + 1], alone)


def test_mlp_gradient_against_finite_differences():
    model = MLP(D_IN, C, hidden=4)
    x, y = batch()
    W = trained_ish(model)
    grad = model.param_grad(W, x, y, 0.01)
    step = 1e-6
    for j in (0, 7, model.n_params - 1):
        bump = torch.zeros_like(W)
        bump[:, j] = step
        numeric = (model.losses(W + bump, x, y, 0.01) - model.losses(W - bump, x, y, 0.01)) / (
            2 * step
        )
        torch.testing.assert_close(grad[:, j], numeric, rtol=1e-5, atol=1e-7)
