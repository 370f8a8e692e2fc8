"""Quadrotor control for Neural Internal Model Control (Gao et al., arXiv 2411.13079).

``quadrotor`` is the batched torch simulator (CTBR low-level control, RK4, wind, payloads,
domain randomization); ``internal_model`` is the Newton–Euler predictor whose residual
``dyn_err`` the policy observes.
"""
