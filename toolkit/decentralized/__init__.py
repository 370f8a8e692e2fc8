"""Decentralized adversarial training over graphs (Cao, Rizk, Vlaski & Sayed, arXiv 2303.13326).

``K`` agents, each with its own data and attack budget ``ε_k``, learn together: every agent
crafts adversarial examples against its current model, takes a local gradient step (adapt) and
averages its parameters with its neighbours' through a left-stochastic combination matrix
``A`` (combine), in diffusion (adapt-then-combine) or consensus order.

* :mod:`~toolkit.decentralized.graphs` — ring, grid, Erdős–Rényi and fully connected graphs
  (``TOPOLOGIES``), Metropolis and averaging weights (``RULES``), checks, spectral gap;
* :mod:`~toolkit.decentralized.data` — the digits bundled with scikit-learn, split non-IID;
* :mod:`~toolkit.decentralized.models` — logistic regression and an MLP (``MODELS``) whose
  parameters are stacked over agents;
* :mod:`~toolkit.decentralized.attacks` — FGSM and PGD (``ATTACKS``) in ℓ∞ and ℓ2 (``NORMS``)
  with per-agent budgets;
* :mod:`~toolkit.decentralized.training` — diffusion, consensus, non-cooperative and
  centralized training (``STRATEGIES``) in one process, and robust accuracy;
* :mod:`~toolkit.decentralized.distributed` — the same training with one ``torch.distributed``
  process per agent (gloo), from Python or ``torchrun``;
* :mod:`~toolkit.decentralized.experiments` — strategies × graphs × seeds scored per agent.

Everything in ``__all__`` loads on first use. Equations and defaults:
``docs/methods/decentralized.md``.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.decentralized.attacks import ATTACKS, NORMS, Attack, agent_values
    from toolkit.decentralized.data import AgentData, load_digits_agents, split_non_iid
    from toolkit.decentralized.distributed import run_distributed, train_agent
    from toolkit.decentralized.experiments import (
        disagreement,
        mean_interval,
        robustness_over_training,
        run_grid,
        score,
    )
    from toolkit.decentralized.graphs import (
        RULES,
        TOPOLOGIES,
        DisconnectedGraphWarning,
        Network,
        check_combination_matrix,
        combination_matrix,
        components,
        make_graph,
        perron_vector,
        spectral_gap,
    )
    from toolkit.decentralized.models import (
        MLP,
        MODELS,
        LogisticRegression,
        StackedModel,
        make_model,
    )
    from toolkit.decentralized.training import (
        STRATEGIES,
        Setup,
        TrainConfig,
        Trajectory,
        accuracy,
        mixing_matrix,
        robust_accuracy,
        train,
        update,
    )

__all__ = [
    "ATTACKS",
    "MLP",
    "MODELS",
    "NORMS",
    "RULES",
    "STRATEGIES",
    "TOPOLOGIES",
    "AgentData",
    "Attack",
    "DisconnectedGraphWarning",
    "LogisticRegression",
    "Network",
    "Setup",
    "StackedModel",
    "TrainConfig",
    "Trajectory",
    "accuracy",
    "agent_values",
    "check_combination_matrix",
    "combination_matrix",
    "components",
    "disagreement",
    "load_digits_agents",
    "make_graph",
    "make_model",
    "mean_interval",
    "mixing_matrix",
    "perron_vector",
    "robust_accuracy",
    "robustness_over_training",
    "run_distributed",
    "run_grid",
    "score",
    "spectral_gap",
    "split_non_iid",
    "train",
    "train_agent",
    "update",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
