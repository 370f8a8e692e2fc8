"""Decentralized adversarial training, all agents in one process (Cao et al., arXiv 2303.13326).

Each agent ``k`` holds ``w_k`` and a budget ``ε_k``. At step ``i`` it draws a batch of its own
data, crafts adversarial examples ``x̂ = x + δ`` against its current model (FGSM or PGD within
``ε_k``, :mod:`~toolkit.decentralized.attacks`) and, with its step size ``μ_k``:

* diffusion (adapt-then-combine, ATC)::

      ψ_{k,i} = w_{k,i-1} − μ_k ∇_w Q_k(w_{k,i-1}; x̂, y)        (adapt)
      w_{k,i} = Σ_ℓ a_{ℓk} ψ_{ℓ,i}                              (combine)

* consensus: ``w_{k,i} = Σ_ℓ a_{ℓk} w_{ℓ,i-1} − μ_k ∇_w Q_k(w_{k,i-1}; x̂, y)``;
* non-cooperative: diffusion with ``A = I`` (every agent alone);
* centralized: diffusion with ``A = 𝟙𝟙ᵀ/K``: from a common start, one model takes the step
  ``−(1/K) Σ_k μ_k ∇Q_k``, a fusion centre that sees every agent's adversarial gradient.

Here the agents' parameters are the rows of one ``K × D`` tensor and every step is one batched
computation; :mod:`~toolkit.decentralized.distributed` runs the same :func:`update`, one
process per agent. Both draw each step's batches and PGD start noise for all ``K`` agents from
one seeded generator, so they give the same numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from toolkit._checks import check_choice, check_int, check_number, describe
from toolkit.decentralized.attacks import Attack, agent_values
from toolkit.decentralized.data import AgentData
from toolkit.decentralized.graphs import Network, check_combination_matrix
from toolkit.decentralized.models import StackedModel

STRATEGIES = ("diffusion", "consensus", "noncooperative", "centralized")


def _check_per_agent(name: str, value: object, *, positive: bool) -> None:
    """A number, or a sequence of numbers (one per agent), each ``>= 0`` (``> 0``)."""
    size = len(value) if isinstance(value, Sequence | np.ndarray) else 1
    agent_values(name, value, size, positive=positive)


@dataclass(frozen=True)
class TrainConfig:
    """What every agent does at each step (see the module docstring).

    ``step_size`` (μ_k > 0) and ``eps`` (ε_k >= 0) are one number for every agent or one per
    agent. ``batch_size`` samples per agent and step (``None``: all of them, full-batch
    gradients); ``rho`` the ℓ2 regularization ρ; parameters are kept every ``record_every``
    steps (and at steps 0 and ``steps``); ``seed`` seeds the batches, PGD's start and the MLP's
    initial weights; ``dtype`` is ``torch.float32`` or ``torch.float64``.
    """

    strategy: str = "diffusion"
    steps: int = 300
    step_size: float | Sequence[float] = 0.5
    eps: float | Sequence[float] = 0.1
    attack: Attack = field(default_factory=lambda: Attack("pgd", "linf", steps=5))
    batch_size: int | None = 32
    rho: float = 1e-3
    record_every: int = 10
    seed: int = 0
    dtype: torch.dtype = torch.float32

    def __post_init__(self) -> None:
        check_choice("strategy", self.strategy, STRATEGIES)
        check_int("steps", self.steps, minimum=1)
        _check_per_agent("step_size", self.step_size, positive=True)
        _check_per_agent("eps", self.eps, positive=False)
        if not isinstance(self.attack, Attack):
            raise TypeError(f"attack must be an Attack, got {describe(self.attack)}")
        if self.batch_size is not None:
            check_int("batch_size", self.batch_size, minimum=1)
        check_number("rho", self.rho, minimum=0.0)
        check_int("record_every", self.record_every, minimum=1)
        check_int("seed", self.seed, minimum=0)
        check_choice("dtype", self.dtype, (torch.float32, torch.float64))


@dataclass(frozen=True)
class Trajectory:
    """Stacked parameters ``params`` (``S × K × D``) at the training steps ``steps`` (``S``).

    ``seconds`` is the training wall time; ``comm_seconds`` the part spent exchanging
    parameters (0 in one process).
    """

    strategy: str
    steps: list[int]
    params: torch.Tensor
    seconds: float
    comm_seconds: float = 0.0

    @property
    def final(self) -> torch.Tensor:
        """``W`` after the last step (``K × D``)."""
        return self.params[-1]


def mixing_matrix(strategy: str, A: np.ndarray) -> np.ndarray:
    """The ``A`` a strategy combines with: ``I`` (non-cooperative), ``𝟙𝟙ᵀ/K`` (centralized),
    else ``A`` itself."""
    n_agents = len(A)
    if strategy == "noncooperative":
        return np.eye(n_agents)
    if strategy == "centralized":
        return np.full((n_agents, n_agents), 1.0 / n_agents)
    return A


def _matrix(network: Network | np.ndarray) -> np.ndarray:
    if isinstance(network, Network):
        return network.A
    return check_combination_matrix(network, name="network")


class Setup:
    """Everything :func:`update` needs, checked once: per-agent ``μ`` and ``ε`` as tensors,
    the mixing matrix of the strategy and the shared random generator of the batches."""

    def __init__(
        self,
        model: StackedModel,
        data: AgentData,
        network: Network | np.ndarray,
        config: TrainConfig,
    ) -> None:
        if not isinstance(model, StackedModel):
            raise TypeError(f"model must be a StackedModel, got {describe(model)}")
        if not isinstance(data, AgentData):
            raise TypeError(f"data must be an AgentData, got {describe(data)}")
        if not isinstance(config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {describe(config)}")
        A = _matrix(network)
        n_agents = data.n_agents
        if len(A) != n_agents:
            raise ValueError(
                f"network has {len(A)} agents but data has {n_agents}; split the data over as "
                "many agents as the graph has nodes"
            )
        if (model.n_features, model.n_classes) != (data.n_features, data.n_classes):
            raise ValueError(
                f"model expects {model.n_features} features and {model.n_classes} classes, data "
                f"has {data.n_features} and {data.n_classes}"
            )
        if config.batch_size is not None and config.batch_size > data.x.shape[1]:
            raise ValueError(
                f"batch_size ({config.batch_size}) is larger than each agent's "
                f"{data.x.shape[1]} samples; use batch_size=None for full batches"
            )
        dtype = config.dtype
        self.model, self.config = model, config
        self.x, self.y = data.x.to(dtype), data.y
        self.A = torch.as_tensor(mixing_matrix(config.strategy, A), dtype=dtype)
        self.mu = torch.as_tensor(
            agent_values("step_size", config.step_size, n_agents, positive=True), dtype=dtype
        )
        self.eps = torch.as_tensor(agent_values("eps", config.eps, n_agents), dtype=dtype)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.w0 = model.init(self.generator, dtype).expand(n_agents, -1).clone()

    def draw(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """One step's batch ``(x, y, start)`` for all ``K`` agents from the shared generator."""
        n_agents, n, _ = self.x.shape
        size = self.config.batch_size
        if size is None:
            x, y = self.x, self.y
        else:
            index = torch.rand(n_agents, size, generator=self.generator).mul(n).long()
            x = torch.take_along_dim(self.x, index[..., None], 1)
            y = torch.take_along_dim(self.y, index, 1)
        start = None
        if self.config.attack.needs_noise:
            start = torch.rand(x.shape, generator=self.generator, dtype=x.dtype).mul(2).sub(1)
        return x, y, start

    def record_steps(self) -> list[int]:
        """Steps whose parameters are kept: 0, every ``record_every``-th, and the last."""
        steps = self.config.steps
        return sorted({*range(0, steps, self.config.record_every), steps})


def update(
    setup: Setup,
    W: torch.Tensor,
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None],
    agents: slice,
    combine: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """One step for the agents ``agents`` whose parameters are ``W`` (their rows only).

    ``batch`` holds every agent's draw; ``combine`` maps these agents' rows of ``ψ`` (or of
    ``w_{i-1}`` for consensus) to their rows of ``Σ_ℓ a_{ℓk} (·)_ℓ``, gathering the rest when
    they live elsewhere.
    """
    x, y, start = (None if t is None else t[agents] for t in batch)
    eps, mu, cfg, model = setup.eps[agents], setup.mu[agents, None], setup.config, setup.model
    x_adv = cfg.attack.perturb(model, W, x, y, eps, start)
    grad = model.param_grad(W, x_adv, y, cfg.rho)
    if cfg.strategy == "consensus":
        return combine(W) - mu * grad
    return combine(W - mu * grad)


def train(
    model: StackedModel,
    data: AgentData,
    network: Network | np.ndarray,
    config: TrainConfig,
    *,
    progress: bool = False,
) -> Trajectory:
    """Train every agent with ``config.strategy`` over ``network``, in one process.

    ``network`` is a :class:`Network` or a left-stochastic matrix ``A`` (non-cooperative and
    centralized training ignore it but for its size).
    """
    setup = Setup(model, data, network, config)
    keep = setup.record_steps()
    W, kept = setup.w0, [setup.w0]
    everyone = slice(None)
    mix = setup.A.T
    began = time.perf_counter()
    with torch.no_grad():
        for i in _steps(config.steps, progress, config.strategy):
            W = update(setup, W, setup.draw(), everyone, lambda T: mix @ T)
            if i in keep:
                kept.append(W)
    return Trajectory(config.strategy, keep, torch.stack(kept), time.perf_counter() - began)


def _steps(steps: int, progress: bool, label: str) -> range:
    """``1..steps``, under a tqdm bar when ``progress``."""
    if not progress:
        return range(1, steps + 1)
    from tqdm.auto import tqdm

    return tqdm(range(1, steps + 1), desc=label, leave=False)


def accuracy(
    model: StackedModel, W: torch.Tensor, x: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    """Each agent's accuracy on the shared samples ``x`` (``N × d``), ``y`` (``N``): ``K``."""
    xs = x.to(W.dtype).expand(len(W), *x.shape)
    with torch.no_grad():
        return (model.logits(W, xs).argmax(-1) == y).to(W.dtype).mean(1)


def robust_accuracy(
    model: StackedModel,
    W: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    attack: Attack,
    *,
    seed: int = 0,
) -> torch.Tensor:
    """Each agent's accuracy on ``x`` attacked by ``attack`` at budget ``eps`` against its own
    model (``K``); ``eps = 0`` is the clean accuracy."""
    eps = check_number("eps", eps, minimum=0.0)
    xs = x.to(W.dtype).expand(len(W), *x.shape)
    ys = y.expand(len(W), -1)
    start = None
    if attack.needs_noise:
        generator = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
        start = torch.rand(xs.shape, generator=generator, dtype=W.dtype).mul(2).sub(1)
    budget = torch.full((len(W),), eps, dtype=W.dtype)
    x_adv = attack.perturb(model, W, xs, ys, budget, start)
    with torch.no_grad():
        return (model.logits(W, x_adv).argmax(-1) == ys).to(W.dtype).mean(1)
