"""Quadrotor control for Neural Internal Model Control (Gao et al., arXiv 2411.13079).

* :mod:`~toolkit.control.quadrotor` — the batched torch simulator (CTBR low-level control, RK4,
  wind, payloads, domain randomization).
* :mod:`~toolkit.control.internal_model` — the Newton–Euler predictor whose residual ``dyn_err``
  the policy observes.
* :mod:`~toolkit.control.trajectories`, :mod:`~toolkit.control.task` — reference trajectories
  (``TRAJECTORIES`` names them for :func:`make_trajectory`) and the tracking task with
  predictive error feedback.
* :mod:`~toolkit.control.ppo`, :mod:`~toolkit.control.policies` — PPO and the built-in policies,
  trained once and cached through the zoo.
* :mod:`~toolkit.control.baselines`, :mod:`~toolkit.control.evaluate`,
  :mod:`~toolkit.control.comparison` — cascaded PID and geometric SE(3) controllers, closed-loop
  rollouts and the scenarios × controllers × seeds protocol.
* :mod:`~toolkit.control.evidence` — the notebook's claims, paired by seed, with a sanity gate.

Everything in ``__all__`` loads on first use; PPO's building blocks (``gae``, ``update``,
``train``, ``save``, ``load``) stay in :mod:`~toolkit.control.ppo`. Equations and defaults:
``docs/methods/neural_imc.md``.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.control.baselines import CascadedPID, GeometricController
    from toolkit.control.comparison import (
        Scenario,
        compare,
        noise_ablation,
        record_flight,
        relative_gain,
        scenario_grid,
        scenario_task,
        summarize,
    )
    from toolkit.control.evaluate import Rollout, rollout, tracking_table
    from toolkit.control.evidence import (
        controller_claim,
        disturbed_or_ood,
    )
    from toolkit.control.internal_model import InternalModel, dyn_err, predict_next
    from toolkit.control.policies import load_policy, policy_names, policy_training_log
    from toolkit.control.ppo import Policy, PolicyFileError, PPOConfig
    from toolkit.control.quadrotor import (
        MassStep,
        QuadParams,
        QuadrotorEnv,
        QuadState,
        RopePayload,
        nominal_params,
        sample_params,
    )
    from toolkit.control.task import TrackingTask, tracking_reward
    from toolkit.control.trajectories import (
        TRAJECTORIES,
        Circle,
        Hover,
        Polynomial,
        Trajectory,
        Zigzag,
        make_trajectory,
    )

__all__ = [
    "TRAJECTORIES",
    "CascadedPID",
    "Circle",
    "GeometricController",
    "Hover",
    "InternalModel",
    "MassStep",
    "PPOConfig",
    "Policy",
    "PolicyFileError",
    "Polynomial",
    "QuadParams",
    "QuadState",
    "QuadrotorEnv",
    "RopePayload",
    "Rollout",
    "Scenario",
    "TrackingTask",
    "Trajectory",
    "Zigzag",
    "compare",
    "controller_claim",
    "disturbed_or_ood",
    "dyn_err",
    "load_policy",
    "make_trajectory",
    "noise_ablation",
    "nominal_params",
    "policy_names",
    "policy_training_log",
    "predict_next",
    "record_flight",
    "relative_gain",
    "rollout",
    "sample_params",
    "scenario_grid",
    "scenario_task",
    "summarize",
    "tracking_reward",
    "tracking_table",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
