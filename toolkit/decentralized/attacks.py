"""Adversarial examples for every agent at once, each within its own budget ``ε_k``.

Agent ``k`` perturbs its samples within the ball ``‖δ‖ <= ε_k`` (``norm``: ``"linf"`` or
``"l2"``, per sample) to increase its loss ``ℓ(w_k; x + δ, y)``:

* FGSM, one step: ``δ = ε_k · dir(∇_x ℓ)`` with ``dir(g) = sign(g)`` (ℓ∞) or ``g/‖g‖₂`` (ℓ2);
* PGD, ``steps`` projected steps of size ``α_k = step_ratio · ε_k / steps`` from a random start
  in the ball (or from 0): ``δ ← Π_{ε_k}(δ + α_k · dir(∇_x ℓ(w_k; x + δ, y)))``.

Perturbations are not clipped to the data's range (the paper's threat model is the ball
alone). ``ε_k = 0`` leaves agent ``k``'s samples unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from toolkit._checks import check_choice, check_int, check_number, describe

ATTACKS = ("fgsm", "pgd")
NORMS = ("linf", "l2")


def agent_values(name: str, values: object, n_agents: int, *, positive: bool = False) -> np.ndarray:
    """One finite number per agent (a number is shared by all): ``>= 0``, or ``> 0`` when
    ``positive``. Errors name the agent: ``"eps[2] must be >= 0.0, got -0.1"``."""
    numeric = isinstance(values, int | float | Sequence | np.ndarray)
    if isinstance(values, bool | str) or not numeric:
        raise TypeError(f"{name} must be a number or one number per agent, got {describe(values)}")
    if isinstance(values, int | float):
        values = [values] * n_agents
    values = list(np.asarray(values).reshape(-1)) if isinstance(values, np.ndarray) else values
    if len(values) != n_agents:
        raise ValueError(f"{name} has {len(values)} values for {n_agents} agents; give one each")
    return np.array(
        [
            check_number(f"{name}[{k}]", v, minimum=0.0, strict_min=positive)
            for k, v in enumerate(values)
        ]
    )


def _per_sample(eps: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``ε`` (``K``) broadcast against ``like`` (``K × B × d``)."""
    return eps.to(like.dtype).reshape(-1, *([1] * (like.dim() - 1)))


@dataclass(frozen=True)
class Attack:
    """How each agent crafts its adversarial examples (see the module docstring).

    ``kind`` in ``ATTACKS``, ``norm`` in ``NORMS``; for PGD, ``steps >= 1``, ``step_ratio > 0``
    and ``random_start``.
    """

    kind: str = "pgd"
    norm: str = "linf"
    steps: int = 10
    step_ratio: float = 2.5
    random_start: bool = True

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, ATTACKS)
        check_choice("norm", self.norm, NORMS)
        check_int("steps", self.steps, minimum=1)
        check_number("step_ratio", self.step_ratio, minimum=0.0, strict_min=True)
        if not isinstance(self.random_start, bool):
            raise TypeError(f"random_start must be a bool, got {describe(self.random_start)}")

    @property
    def needs_noise(self) -> bool:
        """Whether :meth:`perturb` needs a random ``start``."""
        return self.kind == "pgd" and self.random_start

    def direction(self, grad: torch.Tensor) -> torch.Tensor:
        """``sign(g)`` (ℓ∞) or ``g / ‖g‖₂`` per sample (ℓ2; 0 where ``g = 0``)."""
        if self.norm == "linf":
            return grad.sign()
        return grad / grad.norm(dim=-1, keepdim=True).clamp_min(1e-12)

    def project(self, delta: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """``Π_ε(δ)``: the nearest point of each agent's ball ``‖δ‖ <= ε_k``."""
        bound = _per_sample(eps, delta)
        if self.norm == "linf":
            return torch.maximum(torch.minimum(delta, bound), -bound)
        norm = delta.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return delta * torch.clamp(bound / norm, max=1.0)

    def perturb(
        self,
        model,
        W: torch.Tensor,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: torch.Tensor,
        start: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Adversarial ``x̂ = x + δ`` (``K × B × d``) for agents ``W`` with budgets ``eps``.

        ``start`` (uniform in ``[-1, 1]``, shaped like ``x``) is PGD's random start, scaled into
        each ball; draw it outside so that every execution path uses the same numbers.
        """
        W = W.detach()
        if not bool((eps > 0).any()):  # no budget anywhere: no gradient to compute
            return x
        if self.kind == "fgsm":
            return x + _per_sample(eps, x) * self.direction(model.input_grad(W, x, y))
        if self.needs_noise and start is None:
            raise ValueError("start is None; a PGD attack with random_start needs start noise")
        delta = self.project(_per_sample(eps, x) * start, eps) if self.needs_noise else 0 * x
        alpha = _per_sample(eps, x) * (self.step_ratio / self.steps)
        for _ in range(self.steps):
            grad = model.input_grad(W, x + delta, y)
            delta = self.project(delta + alpha * self.direction(grad), eps)
        return x + delta
