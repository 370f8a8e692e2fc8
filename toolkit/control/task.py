"""Trajectory tracking with predictive error feedback (Gao et al., arXiv 2411.13079).

``TrackingTask`` turns the batched ``QuadrotorEnv`` into a reinforcement-learning task: the
quadrotor follows a reference ``(p_r, v_r, ψ_r)(t)`` from ``toolkit.control.trajectories``.
Every control step an ``InternalModel`` that believes the nominal parameters predicts the next
state from the current one and the action; after the env steps, the residual

    e_t = dyn_err(x_t, x̂_t) = [p_t − p̂_t (3), v_t − v̂_t (3), 1 − |⟨q_t, q̂_t⟩| (1)]

is the paper's predictive error feedback. It carries what the model does not know — the true
mass and thrust limit, motor and rate-loop lag, wind, payloads — so a policy that sees recent
``e`` can infer the disturbance the way an internal-model controller would.

Actor observation (world frame; ``p_err = p − p_r(t)``, ``v_err = v − v_r(t)``):

    ======================  =====  ==============================================
    p_err                   3      m
    v_err                   3      m/s
    p − p_r(t + τ_k)        3·K    m, for each look-ahead τ_k in ``lookahead``
    sin ψ_err, cos ψ_err    2      ψ_err = wrap(ψ − ψ_r) ∈ (−π, π]
    R(q), row-major         9      body → world rotation
    ω                       3      rad/s, body rates
    a_{t−1}                 4      last action (after clipping to [−1, 1])
    ======================  =====  ==============================================

then by ``obs_mode``: ``"imc"`` appends ``e_t, e_{t−1}, …`` (7·history, newest first);
``"plain"`` appends nothing; ``"privileged"`` appends the true wind acceleration (3, m/s²), the
upper bound of what the feedback could reveal about wind. The asymmetric critic sees the actor
observation plus the true wind (3, m/s²) and the true mass (1, kg).

Reward (docs/methods/neural_imc.md#reward), with a small action-rate penalty for smoothness
(the paper does not give its smoothness terms; the coefficient is ``action_rate_coef``,
default 0.01):

    r_t = exp(−‖p_err‖) + 0.2·exp(−|ψ_err|) + 0.1·exp(−‖v_err‖) − c_Δa·‖a_t − a_{t−1}‖²

so ``r_t ≤ 1.3``, reached exactly on the reference with a constant action. A step that ends in
simulator divergence earns 0.

Episodes: each env starts on its reference (position, velocity, level with the reference yaw,
motors at ``m·g/4``) at a random time ``t₀ ~ U[0, start_time_max)`` along it. An episode is
*terminated* when ``‖p_err‖ > 5 m`` or the simulator diverged, and *truncated* (not terminated)
after ``episode_seconds``. Finished envs are reset at once (new parameters, wind, trajectory and
``t₀``); ``info["final_obs"]`` and ``info["final_critic_obs"]`` keep the observations of the
state they ended in, which a learner needs to bootstrap the value of a truncated episode.

All randomness comes from the env's generator, so a task is reproducible from ``seed``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from toolkit._checks import check_choice, check_int, check_nonempty, check_number, describe
from toolkit.control.internal_model import InternalModel, dyn_err, rotation_matrix
from toolkit.control.quadrotor import DT_CONTROL, QuadrotorEnv
from toolkit.control.trajectories import make_trajectory

OBS_MODES = ("imc", "plain", "privileged")
DYN_ERR_DIM = 7
CRASH_DISTANCE = 5.0  # m, ‖p_err‖ that ends an episode: a crash (the paper's termination)
YAW_WEIGHT = 0.2
VELOCITY_WEIGHT = 0.1


def yaw_of(q: Tensor) -> Tensor:
    """Yaw ``ψ = atan2(2(wz + xy), 1 − 2(y² + z²))`` [rad] of quaternions (…, 4)."""
    w, x, y, z = q.unbind(-1)
    return torch.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def wrap_angle(angle: Tensor) -> Tensor:
    """``angle`` [rad] wrapped into (−π, π]."""
    return torch.atan2(torch.sin(angle), torch.cos(angle))


def tracking_reward(
    p_err: Tensor,
    v_err: Tensor,
    yaw_err: Tensor,
    action: Tensor,
    last_action: Tensor,
    action_rate_coef: float = 0.01,
) -> Tensor:
    """``exp(−‖p_err‖) + 0.2·exp(−|ψ_err|) + 0.1·exp(−‖v_err‖) − c_Δa·‖a − a_prev‖²``, (N,).

    ``p_err`` (N, 3) m, ``v_err`` (N, 3) m/s, ``yaw_err`` (N,) rad, actions (N, 4).
    """
    return (
        torch.exp(-p_err.norm(dim=-1))
        + YAW_WEIGHT * torch.exp(-yaw_err.abs())
        + VELOCITY_WEIGHT * torch.exp(-v_err.norm(dim=-1))
        - action_rate_coef * (action - last_action).square().sum(dim=-1)
    )


class _Mixture:
    """One trajectory per name for all N envs; env ``i`` follows trajectory ``which[i]``."""

    def __init__(self, names: Sequence[str], num_envs: int, generator, device):
        self.parts = [
            make_trajectory(name, num_envs, generator=generator, device=device) for name in names
        ]
        self.which = torch.zeros(num_envs, dtype=torch.long, device=device)

    def draw(self, mask: Tensor, generator) -> None:
        """Give each env in ``mask`` a uniformly drawn trajectory (draws for all N envs)."""
        fresh = torch.randint(
            len(self.parts), self.which.shape, generator=generator, device=self.which.device
        )
        self.which = torch.where(mask, fresh, self.which)

    def __call__(self, t: Tensor) -> dict[str, Tensor]:
        if len(self.parts) == 1:
            return self.parts[0](t)
        values = [part(t) for part in self.parts]
        out = {}
        for key in ("p", "v", "yaw"):
            stacked = torch.stack([value[key] for value in values])  # (K, N, ...)
            index = self.which.view(1, -1, *([1] * (stacked.dim() - 2))).expand_as(stacked[:1])
            out[key] = stacked.gather(0, index)[0]
        return out


class TrackingTask:
    """``num_envs`` quadrotors tracking references, with predictive error feedback.

    ``trajectory``: a name (``"hover"``, ``"circle"``, ``"zigzag"``, ``"polynomial"``) or a
    list of names, one drawn uniformly per env at every reset. ``params``, ``wind``,
    ``payload``, ``device``, ``seed`` go to ``QuadrotorEnv``. ``obs_mode``: ``"imc"``,
    ``"plain"`` or ``"privileged"`` (module docstring). ``history``: frames of ``dyn_err`` in
    ``"imc"`` mode. ``lookahead``: times ahead [s] of the reference positions in the
    observation. ``dyn_err_noise``: std σ_a [m/s²] of Gaussian noise injected into the internal
    model's prediction, as an acceleration error over the step: ``p̂ += ½σ_a·Δt²·ε₁``,
    ``v̂ += σ_a·Δt·ε₂`` (ablation; 0 disables). ``start_time_max`` [s]: the range of the random
    start time along the reference.

    ``reset() -> (obs, critic_obs)``; ``step(action) -> (obs, critic_obs, reward, terminated,
    truncated, info)`` with ``action`` (N, 4) in [−1, 1] (clipped). ``info`` holds ``p_err``
    (N, 3) m, ``yaw_err`` (N,) rad and ``dyn_err`` (N, 7) of the step before any reset,
    ``final_obs`` / ``final_critic_obs``, ``episode_return`` / ``episode_length`` (valid where
    the episode ended), and the env's ``diverged``, ``diverged_reason`` and
    ``clipped_actions`` (NaN entries become 0, the rest are clipped to [−1, 1]).

    Arguments are checked when the task is built (``TypeError``/``ValueError`` naming the
    argument): ``episode_seconds`` at least one control step (0.02 s), non-negative finite
    ``lookahead`` times, ``action_rate_coef``, ``dyn_err_noise`` and ``start_time_max``.
    """

    act_dim = 4

    def __init__(
        self,
        num_envs: int,
        *,
        trajectory: str | Sequence[str] = "circle",
        params="train",
        wind: bool = True,
        payload=None,
        obs_mode: str = "imc",
        history: int = 3,
        episode_seconds: float = 10.0,
        lookahead: Sequence[float] = (0.1, 0.2, 0.3),
        action_rate_coef: float = 0.01,
        dyn_err_noise: float = 0.0,
        start_time_max: float = 2.0,
        device: str | torch.device = "cpu",
        seed: int = 0,
    ):
        self.num_envs = check_int("num_envs", num_envs, minimum=1)
        self.obs_mode = check_choice("obs_mode", obs_mode, OBS_MODES)
        self.history = check_int("history", history, minimum=1)
        self.episode_seconds = check_number("episode_seconds", episode_seconds, minimum=DT_CONTROL)
        if isinstance(lookahead, str) or not isinstance(lookahead, Sequence):
            raise TypeError(f"lookahead must be a sequence of seconds, got {describe(lookahead)}")
        self.lookahead = tuple(
            check_number(f"lookahead[{i}]", tau, minimum=0.0) for i, tau in enumerate(lookahead)
        )
        self.action_rate_coef = check_number("action_rate_coef", action_rate_coef, minimum=0.0)
        self.dyn_err_noise = check_number("dyn_err_noise", dyn_err_noise, minimum=0.0)
        self.start_time_max = check_number("start_time_max", start_time_max, minimum=0.0)
        names = (
            [trajectory]
            if isinstance(trajectory, str)
            else list(check_nonempty("trajectory", trajectory))
        )
        self.env = QuadrotorEnv(
            num_envs, params=params, wind=wind, payload=payload, device=device, seed=seed
        )
        self.device = self.env.device
        self.generator = self.env.generator
        self.episode_steps = round(episode_seconds / self.env.dt_control)
        self.model = InternalModel.from_env(self.env)
        self.trajectory = _Mixture(names, num_envs, self.generator, self.device)
        kw = dict(device=self.device, dtype=self.env.dtype)
        believed_hover = self.model.mass * self.env.gravity / self.model.max_thrust
        self._rest_action = torch.zeros(num_envs, 4, **kw)
        self._rest_action[:, 0] = 2 * believed_hover - 1
        self._t0 = torch.zeros(num_envs, **kw)
        self._steps = torch.zeros(num_envs, dtype=torch.long, device=self.device)
        self._errors = torch.zeros(num_envs, DYN_ERR_DIM * history, **kw)
        self._last_action = self._rest_action.clone()
        self._return = torch.zeros(num_envs, **kw)
        extra = {"imc": DYN_ERR_DIM * history, "plain": 0, "privileged": 3}[obs_mode]
        self.obs_dim = 24 + 3 * len(self.lookahead) + extra
        self.critic_dim = self.obs_dim + 4
        self.reset()

    # ------------------------------------------------------------------ public API

    def reset(self, seed: int | None = None) -> tuple[Tensor, Tensor]:
        """Reset every env (re-seeding first if ``seed`` is given); ``(obs, critic_obs)``."""
        if seed is not None:
            self.generator.manual_seed(seed)
        self._reset_envs(torch.ones(self.num_envs, dtype=torch.bool, device=self.device))
        obs, critic_obs, _ = self._observe()
        return obs, critic_obs

    def step(self, action: Tensor):
        """Advance 0.02 s; see the class docstring for what comes back."""
        raw = torch.as_tensor(action, device=self.device, dtype=self.env.dtype)
        if raw.shape != (self.num_envs, self.act_dim):
            raise ValueError(
                f"action must be ({self.num_envs}, {self.act_dim}), got {tuple(raw.shape)}"
            )
        action = torch.nan_to_num(raw, nan=0.0).clamp(-1, 1)
        predicted = self.model.predict(self._state, action)
        if self.dyn_err_noise > 0:
            self._perturb(predicted)
        self._state, env_info = self.env.step(raw)
        error = dyn_err(self._state, predicted)
        self._errors = torch.cat([error, self._errors[:, :-DYN_ERR_DIM]], dim=1)
        last_action, self._last_action = self._last_action, action
        self._steps += 1
        obs, critic_obs, ref_err = self._observe()
        p_err, v_err, yaw_err = ref_err
        diverged = env_info["diverged"]
        reward = tracking_reward(p_err, v_err, yaw_err, action, last_action, self.action_rate_coef)
        reward = torch.where(diverged, 0.0, reward)
        terminated = diverged | (p_err.norm(dim=-1) > CRASH_DISTANCE)
        truncated = ~terminated & (self._steps >= self.episode_steps)
        self._return += reward
        info = {
            "p_err": p_err,
            "yaw_err": yaw_err,
            "dyn_err": error,
            "final_obs": obs,
            "final_critic_obs": critic_obs,
            "episode_return": self._return.clone(),
            "episode_length": self._steps.clone(),
            **env_info,
        }
        done = terminated | truncated
        if bool(done.any()):
            self._reset_envs(done)
            obs, critic_obs, _ = self._observe()
        return obs, critic_obs, reward, terminated, truncated, info

    # ------------------------------------------------------------------ internals

    def _perturb(self, predicted: dict[str, Tensor]) -> None:
        dt, shape = self.env.dt_control, predicted["p"].shape
        kw = dict(generator=self.generator, device=self.device, dtype=self.env.dtype)
        sigma = self.dyn_err_noise
        predicted["p"] = predicted["p"] + 0.5 * sigma * dt**2 * torch.randn(shape, **kw)
        predicted["v"] = predicted["v"] + sigma * dt * torch.randn(shape, **kw)

    def _reset_envs(self, mask: Tensor) -> None:
        """Reset the envs in ``mask`` and place each on its (new) reference at a random time."""
        self.env.reset_done(mask)
        self.trajectory.draw(mask, self.generator)
        u = torch.rand(self.num_envs, generator=self.generator, device=self.device)
        self._t0 = torch.where(mask, u.to(self._t0) * self.start_time_max, self._t0)
        ref = self.trajectory(self._t0)
        state = self.env.state
        half_yaw = 0.5 * ref["yaw"]
        level = torch.zeros_like(state.q)
        level[:, 0], level[:, 3] = torch.cos(half_yaw), torch.sin(half_yaw)
        column = mask[:, None]
        state.p = torch.where(column, ref["p"], state.p)
        state.v = torch.where(column, ref["v"], state.v)
        state.q = torch.where(column, level, state.q)
        self.env.state = state
        self._state = self.env.observe()  # the env's (N, ·) view incl. wind, mass, time
        self._steps = torch.where(mask, 0, self._steps)
        self._errors = torch.where(column, 0.0, self._errors)
        self._last_action = torch.where(column, self._rest_action, self._last_action)
        self._return = torch.where(mask, 0.0, self._return)

    def _observe(self) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor, Tensor]]:
        """``(obs, critic_obs, (p_err, v_err, yaw_err))`` of the current state."""
        s, t = self._state, self.reference_time
        ref = self.trajectory(t)
        p_err, v_err = s["p"] - ref["p"], s["v"] - ref["v"]
        yaw_err = wrap_angle(yaw_of(s["q"]) - ref["yaw"])
        ahead = [s["p"] - self.trajectory(t + tau)["p"] for tau in self.lookahead]
        yaw_parts = [torch.sin(yaw_err)[:, None], torch.cos(yaw_err)[:, None]]
        attitude = rotation_matrix(s["q"]).flatten(1)
        parts = [p_err, v_err, *ahead, *yaw_parts, attitude, s["omega"], self._last_action]
        if self.obs_mode == "imc":
            parts.append(self._errors)
        elif self.obs_mode == "privileged":
            parts.append(s["wind"])
        obs = torch.cat(parts, dim=1)
        critic_obs = torch.cat([obs, s["wind"], s["mass"][:, None]], dim=1)
        return obs, critic_obs, (p_err, v_err, yaw_err)

    @property
    def state(self) -> dict[str, Tensor]:
        """The current true state (``QuadrotorEnv.observe()``: p, v, q, omega, wind, mass, …);
        what a classical controller acts on."""
        return self._state

    def reference(self) -> dict[str, Tensor]:
        """The reference (p, v, a, j, yaw) at each env's current ``reference_time``."""
        return self.trajectory(self.reference_time)

    @property
    def time(self) -> Tensor:
        """Time since each env's episode began [s], (N,)."""
        return self._steps.to(self._t0) * self.env.dt_control

    @property
    def reference_time(self) -> Tensor:
        """Each env's time along its reference, ``t₀ + time`` [s], (N,)."""
        return self._t0 + self.time
