"""Newton–Euler internal model of Neural Internal Model Control (Gao et al., arXiv 2411.13079).

A point-mass CTBR predictor with no learned parameters. From the state ``(p, v, q)`` and the
command (collective thrust ``T̂`` [N], body rates ``ω̂`` [rad/s]) it predicts the state one
control step ``Δt = 0.02 s`` later, with the mass ``m̂`` the controller believes:

    â   = R(q)·[0, 0, T̂]/m̂ − g·e₃
    v̂′  = v + â·Δt                                 (explicit Euler)
    p̂′  = p + ½(v + v̂′)·Δt = p + v·Δt + ½â·Δt²     (exact while â is constant over the step)
    q̂′  = q ⊗ [cos(|ω̂|Δt/2), sin(|ω̂|Δt/2)·ω̂/|ω̂|]   (exact for constant body rates)

Both updates are explicit (they use the attitude and velocity at the start of the step); the
position update is the trapezoid rule rather than ``p + v·Δt`` so that a constant acceleration
leaves no ``½â·Δt²`` bias in the residual. Motor lag, rate-loop lag, wind, payloads and
parameter mismatch are all outside the model: they are what the residual exposes,

    dyn_err = [p − p̂′ (3), v − v̂′ (3), 1 − |⟨q, q̂′⟩| (1)]

where ``(p, v, q)`` is the measured next state. The attitude term is the quaternion cosine
distance: ``⟨q, q̂′⟩ = cos(θ/2)`` for a rotation ``θ`` between the two, so it lies in [0, 1], is
blind to the sign ambiguity ``q ≡ −q``, and is ``≈ θ²/8`` for small errors.

Normalized actions follow the simulator's convention (``toolkit.control.quadrotor``):
``T̂ = (a₀ + 1)/2 · T̂_max``, ``ω̂ = a₁:₃ ⊙ ω_max``, with NaN → 0 and clipping to [−1, 1].
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from toolkit._checks import check_number, check_vector, describe
from toolkit._torch import check_positive
from toolkit.control.quadrotor import (
    DT_CONTROL,
    GRAVITY,
    MAX_RATE,
    QuadParams,
    QuadrotorEnv,
    nominal_params,
)


def _field(state, name: str, what: str = "state") -> Tensor:
    """``state[name]`` of a dict or ``state.name`` of a ``QuadState``; ``ValueError`` if absent."""
    value = state.get(name) if isinstance(state, Mapping) else getattr(state, name, None)
    if value is None:
        raise ValueError(f"{what} has no {name!r} (a dict or QuadState with p, v, q is expected)")
    return value


def _check_width(name: str, value: object, size: int) -> Tensor:
    """A tensor whose last dimension is ``size``."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a tensor, got {describe(value)}")
    if value.dim() == 0 or value.shape[-1] != size:
        raise ValueError(f"{name} must be (N, {size}), got shape {tuple(value.shape)}")
    return value


def quat_mul(a: Tensor, b: Tensor) -> Tensor:
    """Hamilton product ``a ⊗ b`` of (…, 4) quaternions (w, x, y, z)."""
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        dim=-1,
    )


def rotation_matrix(q: Tensor) -> Tensor:
    """``R(q)`` (…, 3, 3) of unit quaternions (…, 4) (w, x, y, z); columns are the body axes."""
    w, x, y, z = q.unbind(-1)
    rows = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ]
    return torch.stack([torch.stack(row, dim=-1) for row in rows], dim=-2)


def body_z(q: Tensor) -> Tensor:
    """Third column of ``R(q)``, the thrust direction in the world frame, (…, 3)."""
    w, x, y, z = q.unbind(-1)
    return torch.stack([2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)], -1)


def predict_next(
    p: Tensor,
    v: Tensor,
    q: Tensor,
    thrust: Tensor,
    rates: Tensor,
    mass: Tensor | float,
    *,
    dt: float = DT_CONTROL,
    gravity: float = GRAVITY,
) -> dict[str, Tensor]:
    """Predicted ``{"p", "v", "q"}`` after ``dt`` [s] (see the module docstring).

    ``p``, ``v``: (N, 3) m, m/s; ``q``: (N, 4); ``thrust``: (N,) collective thrust N;
    ``rates``: (N, 3) body rates rad/s; ``mass``: believed mass kg, (N,) or a float.
    """
    for name, value, size in (("p", p, 3), ("v", v, 3), ("q", q, 4), ("rates", rates, 3)):
        _check_width(name, value, size)
    acc = body_z(q) * (thrust / mass)[..., None]
    acc[..., 2] -= gravity
    v_next = v + acc * dt
    p_next = p + 0.5 * (v + v_next) * dt
    half_angle = 0.5 * dt * rates.norm(dim=-1, keepdim=True)
    axis_scale = 0.5 * dt * torch.sinc(half_angle / torch.pi)  # sin(|ω̂|Δt/2)/|ω̂|
    delta = torch.cat([torch.cos(half_angle), rates * axis_scale], dim=-1)
    q_next = quat_mul(q, delta)
    q_next = q_next / q_next.norm(dim=-1, keepdim=True)
    return {"p": p_next, "v": v_next, "q": q_next}


def quat_distance(q_a: Tensor, q_b: Tensor) -> Tensor:
    """Quaternion cosine distance ``1 − |⟨q_a, q_b⟩|`` ∈ [0, 1], (…, 1)."""
    return 1 - (q_a * q_b).sum(dim=-1, keepdim=True).abs()


def dyn_err(measured_next, predicted) -> Tensor:
    """``[p − p̂′, v − v̂′, 1 − |⟨q, q̂′⟩|]``, (N, 7); arguments are dicts or ``QuadState``s."""
    p, v, q = (_field(measured_next, key, "measured_next") for key in ("p", "v", "q"))
    p_hat, v_hat, q_hat = (_field(predicted, key, "predicted") for key in ("p", "v", "q"))
    return torch.cat([p - p_hat, v - v_hat, quat_distance(q, q_hat)], dim=-1)


class InternalModel:
    """The predictor with the controller's beliefs: mass ``m̂`` [kg] and thrust limit
    ``T̂_max`` [N], (N,) or floats; ``max_rate`` ω_max [rad/s] (3,); ``dt`` [s]. All must be
    finite and positive (``gravity`` ≥ 0), else ``ValueError`` naming the argument."""

    def __init__(
        self,
        mass: Tensor | float,
        max_thrust: Tensor | float,
        max_rate: Tensor | tuple[float, float, float] = MAX_RATE,
        *,
        dt: float = DT_CONTROL,
        gravity: float = GRAVITY,
    ):
        self.mass = check_positive("mass", mass)
        self.max_thrust = check_positive("max_thrust", max_thrust)
        self.max_rate = torch.tensor(
            check_vector("max_rate", max_rate, 3, minimum=0, strict_min=True)
        )
        self.dt = check_number("dt", dt, minimum=0.0, strict_min=True)
        self.gravity = check_number("gravity", gravity, minimum=0.0)

    @classmethod
    def from_params(
        cls,
        params: QuadParams,
        max_rate: Tensor | tuple[float, float, float] = MAX_RATE,
        *,
        dt: float = DT_CONTROL,
        gravity: float = GRAVITY,
    ) -> InternalModel:
        """Believe ``params.mass`` and ``T_max = thrust_to_weight·m·g``."""
        if not isinstance(params, QuadParams):
            raise TypeError(f"params must be QuadParams, got {describe(params)}")
        return cls(params.mass, params.max_thrust(gravity), max_rate, dt=dt, gravity=gravity)

    @classmethod
    def from_env(cls, env: QuadrotorEnv, params: QuadParams | None = None) -> InternalModel:
        """The env's rate limits, ``dt`` and ``g``; beliefs from ``params``, by default
        ``nominal_params`` (what a controller knows when the env randomizes parameters)."""
        if not isinstance(env, QuadrotorEnv):
            raise TypeError(f"env must be a QuadrotorEnv, got {describe(env)}")
        if params is None:
            params = nominal_params(env.num_envs, device=env.device, dtype=env.dtype)
        return cls.from_params(params, env.max_rate, dt=env.dt_control, gravity=env.gravity)

    def command(self, action: Tensor) -> tuple[Tensor, Tensor]:
        """Normalized action (N, 4) → collective thrust (N,) [N] and body rates (N, 3) [rad/s]."""
        action = torch.nan_to_num(_check_width("action", action, 4), nan=0.0).clamp(-1, 1)
        thrust = (action[..., 0] + 1) * 0.5 * self.max_thrust
        rates = action[..., 1:] * self.max_rate.to(action)
        return thrust, rates

    def predict(self, state, action: Tensor) -> dict[str, Tensor]:
        """Predicted ``{"p", "v", "q"}`` one step after ``state`` (dict or ``QuadState``)."""
        thrust, rates = self.command(action)
        return predict_next(
            _field(state, "p"),
            _field(state, "v"),
            _field(state, "q"),
            thrust,
            rates,
            self.mass,
            dt=self.dt,
            gravity=self.gravity,
        )
