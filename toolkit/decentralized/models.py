"""Models whose parameters are stacked over agents: one row ``w_k`` of ``W`` (``K × D``) each.

Every method takes the stacked parameters ``W`` and a batch stacked the same way, ``x``
(``K × B × d``) and labels ``y`` (``K × B``), and treats the agents as one batch of independent
problems, so ``K`` agents cost one batched matrix product. Agent ``k``'s cost on a batch is

    Q_k(w_k; x, y) = (1/B) Σ_b ℓ(w_k; x_b, y_b) + (ρ/2)‖w_k‖²,

with ``ℓ`` the multinomial cross-entropy and ``ρ >= 0`` the ℓ2 regularization (``ρ > 0``
makes the logistic model strongly convex, the paper's strongly-convex case).

* :class:`LogisticRegression`: ``logits = x W + b`` (``W``: ``d × C``), with closed-form
  gradients ``∇_W Q = xᵀ(P − Y)/B + ρW``, ``∇_b Q = mean(P − Y) + ρb`` and, per sample,
  ``∇_x ℓ = (P − Y) Wᵀ`` (``P``: softmax probabilities, ``Y``: one-hot labels).
* :class:`MLP`: ``logits = tanh(x W₁ + b₁) W₂ + b₂``, non-convex; gradients by autograd.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from toolkit._checks import check_choice, check_int

MODELS = ("logistic", "mlp")


@dataclass(frozen=True)
class StackedModel:
    """Shapes shared by the models: ``n_features`` (d) inputs, ``n_classes`` (C) outputs."""

    n_features: int
    n_classes: int

    def __post_init__(self) -> None:
        check_int("n_features", self.n_features, minimum=1)
        check_int("n_classes", self.n_classes, minimum=2)

    def shapes(self) -> list[tuple[int, ...]]:
        """Shapes of the parameter blocks, in the order they lie in a row of ``W``."""
        raise NotImplementedError

    @property
    def n_params(self) -> int:
        """``D``, the length of one agent's parameter vector."""
        return sum(math.prod(shape) for shape in self.shapes())

    def unflatten(self, W: torch.Tensor) -> list[torch.Tensor]:
        """The blocks of ``W`` (``K × D``) as ``K × shape`` views."""
        blocks, start = [], 0
        for shape in self.shapes():
            size = math.prod(shape)
            blocks.append(W[:, start : start + size].reshape(len(W), *shape))
            start += size
        return blocks

    def init(self, generator: torch.Generator, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """A starting parameter vector ``w₀`` (``D``), shared by every agent."""
        raise NotImplementedError

    def logits(self, W: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``K × B × C`` logits of each agent's model on its own rows of ``x``."""
        raise NotImplementedError

    def losses(self, W: torch.Tensor, x: torch.Tensor, y: torch.Tensor, rho: float) -> torch.Tensor:
        """``Q_k(w_k; x_k, y_k)`` for every agent (``K``)."""
        z = self.logits(W, x)
        data = F.cross_entropy(z.transpose(1, 2), y, reduction="none").mean(1)
        return data + 0.5 * rho * (W * W).sum(1)

    def param_grad(
        self, W: torch.Tensor, x: torch.Tensor, y: torch.Tensor, rho: float
    ) -> torch.Tensor:
        """``∇_w Q_k(w_k; x_k, y_k)`` stacked over agents (``K × D``); autograd."""
        W = W.detach().requires_grad_(True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad(self.losses(W, x.detach(), y, rho).sum(), W)
        return grad

    def input_grad(self, W: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``∇_x ℓ(w_k; x_b, y_b)`` for every agent and sample (``K × B × d``); autograd."""
        x = x.detach().requires_grad_(True)
        with torch.enable_grad():
            z = self.logits(W.detach(), x)
            loss = F.cross_entropy(z.transpose(1, 2), y, reduction="sum")
            (grad,) = torch.autograd.grad(loss, x)
        return grad


@dataclass(frozen=True)
class LogisticRegression(StackedModel):
    """Multinomial logistic regression, ``logits = x W + b``, with closed-form gradients."""

    def shapes(self) -> list[tuple[int, ...]]:
        """``W`` (d × C) then ``b`` (C)."""
        return [(self.n_features, self.n_classes), (self.n_classes,)]

    def init(self, generator: torch.Generator, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """``w₀ = 0`` (the problem is convex: any start reaches the same solution)."""
        return torch.zeros(self.n_params, dtype=dtype)

    def logits(self, W: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        weight, bias = self.unflatten(W)
        return torch.baddbmm(bias[:, None, :], x, weight)

    def _residual(self, W: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``P − Y`` (``K × B × C``)."""
        return torch.softmax(self.logits(W, x), -1) - F.one_hot(y, self.n_classes).to(x.dtype)

    def param_grad(
        self, W: torch.Tensor, x: torch.Tensor, y: torch.Tensor, rho: float
    ) -> torch.Tensor:
        """``[xᵀ(P − Y)/B, mean(P − Y)] + ρ w`` (``K × D``)."""
        residual = self._residual(W, x, y) / x.shape[1]
        grad_weight = torch.bmm(x.transpose(1, 2), residual).flatten(1)
        return torch.cat([grad_weight, residual.sum(1)], 1) + rho * W

    def input_grad(self, W: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``(P − Y) Wᵀ`` per sample (``K × B × d``)."""
        weight, _ = self.unflatten(W)
        return torch.bmm(self._residual(W, x, y), weight.transpose(1, 2))


@dataclass(frozen=True)
class MLP(StackedModel):
    """One hidden layer of ``hidden`` tanh units: ``logits = tanh(x W₁ + b₁) W₂ + b₂``."""

    hidden: int = 32

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("hidden", self.hidden, minimum=1)

    def shapes(self) -> list[tuple[int, ...]]:
        """``W₁`` (d × h), ``b₁`` (h), ``W₂`` (h × C), ``b₂`` (C)."""
        d, h, c = self.n_features, self.hidden, self.n_classes
        return [(d, h), (h,), (h, c), (c,)]

    def init(self, generator: torch.Generator, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Weights uniform in ``±1/√fan_in`` (PyTorch's ``nn.Linear`` default), biases 0."""
        blocks = []
        for shape in self.shapes():
            if len(shape) == 1:
                blocks.append(torch.zeros(shape, dtype=dtype))
            else:
                bound = 1.0 / math.sqrt(shape[0])
                uniform = torch.rand(shape, generator=generator, dtype=dtype)
                blocks.append((2 * uniform - 1) * bound)
        return torch.cat([block.flatten() for block in blocks])

    def logits(self, W: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        w1, b1, w2, b2 = self.unflatten(W)
        hidden = torch.tanh(torch.baddbmm(b1[:, None, :], x, w1))
        return torch.baddbmm(b2[:, None, :], hidden, w2)


def make_model(name: str, n_features: int, n_classes: int, *, hidden: int = 32) -> StackedModel:
    """``"logistic"`` → :class:`LogisticRegression`, ``"mlp"`` → :class:`MLP` (``MODELS``)."""
    check_choice("model", name, MODELS)
    if name == "logistic":
        return LogisticRegression(n_features, n_classes)
    return MLP(n_features, n_classes, hidden)
