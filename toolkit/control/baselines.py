"""Classical tracking controllers emitting the simulator's normalized CTBR action.

Both map a state dict (``p``, ``v`` (N, 3), ``q`` (N, 4) w-x-y-z body → world, as returned by
``QuadrotorEnv``) and a reference dict (``p``, ``v``, ``a`` (N, 3), ``yaw`` (N,), optionally
``j`` (N, 3), as returned by ``toolkit.control.trajectories``) to an action (N, 4) in [−1, 1]:

    a₀ = 2T/T̂_max − 1,   a₁:₃ = ω_cmd / ω_max,   both clipped to [−1, 1]

with the collective thrust ``T`` [N] and body-rate command ``ω_cmd`` [rad/s]. They use the mass
``m̂`` and thrust limit ``T̂_max`` they *believe* — by default ``nominal_params`` (what a
controller knows when the env randomizes parameters); pass ``params`` (e.g. ``env.params``) or
``mass``/``max_thrust`` to tell them otherwise. World frame z-up, ``e₃ = (0, 0, 1)``,
``g = 9.81 m/s²``; the reference yaw is treated as constant (``ψ̇_d = 0``).

``CascadedPID`` (position PID → acceleration → thrust vector → attitude P → body rates):

    e_p = p_d − p,   e_v = v_d − v,   I ← clip(I + K_i e_p Δt, ±I_max)
    a_cmd = ẍ_d + K_p e_p + K_d e_v + I + g e₃
    a_cmd,z ≥ a_min;  |a_cmd,xy| ≤ a_cmd,z · tan θ_max           (tilt limit)
    T = m̂ · a_cmd · R e₃                                          (thrust along the body z)
    q_d = q_z(ψ_d) ⊗ q_tilt,  q_tilt the shortest rotation from e₃ to R_z(−ψ_d)·â_cmd
    q_e = q⁻¹ ⊗ q_d,   ω_cmd = K_att ⊙ 2 sgn(q_e,w) q_e,xyz             (≈ K_att ⊙ angle·axis)

The integral state ``I`` [m/s²] is the integral term's acceleration; anti-windup clamps it to
``±I_max`` per axis (default 4 m/s², above the simulator's ±3.3 m/s² wind). ``reset(mask)``
clears it.

``GeometricController``: Lee, Leok & McClamroch, "Geometric tracking control of a quadrotor UAV
on SE(3)", CDC 2010, in their symbols but with z up (their e₃ points down, so the gravity and
thrust signs flip). With ``e_x = x − x_d``, ``e_v = v − v_d``:

    F_d = −k_x e_x − k_v e_v + m̂ g e₃ + m̂ ẍ_d         (z-up form of their −k_x e_x − k_v e_v
    f   = F_d · R e₃                                       − m g e₃ + m ẍ_d, f = −(…)·R e₃)
    b3_d = F_d/‖F_d‖,   b1_c = (cos ψ_d, sin ψ_d, 0)
    b2_d = b3_d × b1_c / ‖b3_d × b1_c‖,   b1_d = b2_d × b3_d,   R_d = [b1_d b2_d b3_d]
    e_R  = ½ vee(R_dᵀR − RᵀR_d)

Their moment law ``M = −k_R e_R − k_Ω e_Ω + Ω×JΩ − J(Ω̂RᵀR_dΩ_d − RᵀR_dΩ̇_d)`` with
``e_Ω = Ω − RᵀR_dΩ_d`` needs a torque input. The simulator's low level takes body rates and
closes ``τ = J·K_p·(ω_cmd − Ω) + Ω×JΩ`` itself, which plays the part of the ``−k_Ω e_Ω`` and
gyroscopic terms; so the CTBR adaptation commands the rate that that loop should track,

    ω_cmd = RᵀR_d Ω_d − k_R e_R

(``k_R`` in 1/s: ``e_R`` is the rotation angle for small errors). ``Ω_d`` is the desired
frame's angular velocity, ``Ṙ_d = R_d Ω̂_d``, i.e. ``Ω_d = (ḃ2_d·b3_d, ḃ3_d·b1_d, −ḃ2_d·b1_d)``,
computed from the reference jerk alone: ``Ḟ_d ≈ m̂ j_d`` (the feedback terms' derivatives,
which need the measured acceleration, are left to ``e_R``), then
``ḃ3_d = (I − b3_d b3_dᵀ) Ḟ_d/‖F_d‖`` and likewise for ``b2_d``. Without ``"j"`` in the
reference, ``Ω_d = 0``. Here ``k_x``, ``k_v`` are given per unit of believed mass (1/s², 1/s),
i.e. Lee's gains are ``m̂·k_x`` [N/m] and ``m̂·k_v`` [N·s/m], so one set of defaults serves
every mass.

Gains, limits and beliefs are checked when a controller is built (finite; gains ≥ 0, masses,
thrusts, rates and ``dt`` > 0), and ``act`` checks that ``state`` and ``ref`` hold the keys
above with matching shapes: ``TypeError``/``ValueError`` naming the argument or key.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from toolkit._checks import check_number, check_vector, describe
from toolkit._torch import check_positive
from toolkit.control.internal_model import _check_width, _field, quat_mul, rotation_matrix
from toolkit.control.quadrotor import (
    DT_CONTROL,
    GRAVITY,
    MAX_RATE,
    QuadParams,
    nominal_params,
)


def _dot(a: Tensor, b: Tensor) -> Tensor:
    return (a * b).sum(-1, keepdim=True)


class _CTBRController:
    """Beliefs shared by the controllers: ``m̂`` [kg] and ``T̂_max`` [N] ((N,) or floats),
    ``ω_max`` [rad/s] (3,), ``g`` [m/s²]."""

    def __init__(self, params, mass, max_thrust, max_rate, gravity):
        if params is None:
            params = nominal_params()
        if not isinstance(params, QuadParams):
            raise TypeError(f"params must be QuadParams or None, got {describe(params)}")
        self.gravity = check_number("gravity", gravity, minimum=0.0)
        mass = params.mass if mass is None else check_positive("mass", mass)
        self.mass = torch.as_tensor(mass)
        if max_thrust is None:
            max_thrust = params.max_thrust(self.gravity)
        self.max_thrust = torch.as_tensor(check_positive("max_thrust", max_thrust))
        self.max_rate = torch.tensor(
            check_vector("max_rate", max_rate, 3, minimum=0.0, strict_min=True)
        )

    @staticmethod
    def _inputs(state, ref, ref_keys=("p", "v", "a")) -> None:
        """``state`` holds p, v (N, 3) and q (N, 4); ``ref`` holds ``ref_keys`` (N, 3) and yaw
        (N,)."""
        batch = _check_width("state['p']", _field(state, "p"), 3).shape[:-1]
        expected = [("state", state, "v", 3), ("state", state, "q", 4)]
        expected += [("ref", ref, key, 3) for key in ref_keys]
        for name, source, key, size in expected:
            value = _check_width(f"{name}[{key!r}]", _field(source, key, name), size)
            if value.shape[:-1] != batch:
                raise ValueError(
                    f"{name}[{key!r}] has shape {tuple(value.shape)}, but state['p'] has "
                    f"{tuple(batch)} rows"
                )
        yaw = _field(ref, "yaw", "ref")
        if not isinstance(yaw, Tensor):
            raise TypeError(f"ref['yaw'] must be a tensor, got {describe(yaw)}")
        if yaw.shape != batch:
            raise ValueError(f"ref['yaw'] must be of shape {tuple(batch)}, got {tuple(yaw.shape)}")

    def _action(self, thrust: Tensor, rates: Tensor) -> Tensor:
        """Collective thrust (N,) [N] and body rates (N, 3) [rad/s] → clipped action (N, 4)."""
        max_thrust = self.max_thrust.to(thrust)
        action = torch.cat(
            [(2 * thrust / max_thrust - 1)[..., None], rates / self.max_rate.to(rates)], dim=-1
        )
        return action.clamp(-1, 1)

    def _gravity_vector(self, like: Tensor) -> Tensor:
        return torch.tensor([0.0, 0.0, self.gravity], dtype=like.dtype, device=like.device)


def _check_gain(name: str, value: object) -> float | tuple[float, float, float]:
    """A gain ≥ 0: one number for all three axes, or one per axis."""
    if isinstance(value, int | float):
        return check_number(name, value, minimum=0.0)
    return check_vector(name, value, 3, minimum=0.0)


def _gain(value, like: Tensor) -> Tensor:
    return torch.as_tensor(value, dtype=like.dtype, device=like.device).expand(3)


class CascadedPID(_CTBRController):
    """Cascaded position PID and quaternion attitude P controller (see the module docstring).

    Gains (per axis x, y, z; a float applies to all three): ``kp`` [1/s²], ``ki`` [1/s³],
    ``kd`` [1/s] on the position, velocity and integrated position errors; ``k_att`` [1/s] on
    the attitude error (roll, pitch, yaw). ``max_integral`` I_max [m/s²]; ``max_tilt`` θ_max
    [rad]; ``min_vertical_accel`` a_min [m/s²]; ``dt`` [s], the control period.
    """

    def __init__(
        self,
        params: QuadParams | None = None,
        *,
        mass: Tensor | float | None = None,
        max_thrust: Tensor | float | None = None,
        kp: float | tuple[float, float, float] = 16.0,
        ki: float | tuple[float, float, float] = 8.0,
        kd: float | tuple[float, float, float] = 6.0,
        k_att: float | tuple[float, float, float] = (8.0, 8.0, 4.0),
        max_integral: float = 4.0,
        max_tilt: float = math.radians(60),
        min_vertical_accel: float = 0.2 * GRAVITY,
        dt: float = DT_CONTROL,
        max_rate: Tensor | tuple[float, float, float] = MAX_RATE,
        gravity: float = GRAVITY,
    ):
        super().__init__(params, mass, max_thrust, max_rate, gravity)
        self.kp, self.ki = _check_gain("kp", kp), _check_gain("ki", ki)
        self.kd, self.k_att = _check_gain("kd", kd), _check_gain("k_att", k_att)
        self.max_integral = check_number("max_integral", max_integral, minimum=0.0)
        self.max_tilt = check_number(
            "max_tilt", max_tilt, minimum=0.0, strict_min=True, maximum=math.pi / 2
        )
        self.min_vertical_accel = check_number(
            "min_vertical_accel", min_vertical_accel, minimum=0.0, strict_min=True
        )
        self.dt = check_number("dt", dt, minimum=0.0, strict_min=True)
        self.integral: Tensor | None = None

    def reset(self, mask: Tensor | None = None) -> None:
        """Clear the integral of every env, or of those where ``mask`` (N,) is true."""
        if mask is None or self.integral is None:
            self.integral = None
        else:
            self.integral = torch.where(mask.to(self.integral.device)[:, None], 0.0, self.integral)

    def act(self, state, ref) -> Tensor:
        self._inputs(state, ref)
        p, v, q = state["p"], state["v"], state["q"]
        e_p, e_v = ref["p"] - p, ref["v"] - v
        if self.integral is None:
            self.integral = torch.zeros_like(p)
        self.integral = (self.integral + _gain(self.ki, p) * e_p * self.dt).clamp(
            -self.max_integral, self.max_integral
        )
        accel = (
            ref["a"]
            + _gain(self.kp, p) * e_p
            + _gain(self.kd, p) * e_v
            + self.integral
            + self._gravity_vector(p)
        )
        vertical = accel[..., 2:].clamp(min=self.min_vertical_accel)
        horizontal = accel[..., :2]
        limit = vertical * math.tan(self.max_tilt)
        norm = horizontal.norm(dim=-1, keepdim=True)
        horizontal = horizontal * (limit / norm.clamp(min=1e-9)).clamp(max=1)
        accel = torch.cat([horizontal, vertical], dim=-1)
        body_z = rotation_matrix(q)[..., :, 2]
        thrust = (self.mass.to(p) * _dot(accel, body_z)[..., 0]).clamp(min=0)
        q_error = quat_mul(q * torch.tensor([1.0, -1, -1, -1]).to(q), self._attitude(accel, ref))
        sign = torch.where(q_error[..., :1] < 0, -1.0, 1.0)
        rates = _gain(self.k_att, p) * 2 * sign * q_error[..., 1:]
        return self._action(thrust, rates)

    @staticmethod
    def _attitude(accel: Tensor, ref) -> Tensor:
        """``q_d = q_z(ψ_d) ⊗ q_tilt``: yaw ψ_d, then the shortest tilt onto ``accel``'s
        direction (its z is positive, so the tilt is never a half turn)."""
        yaw = ref["yaw"].to(accel)
        cos, sin = torch.cos(yaw), torch.sin(yaw)
        ax, ay, az = (accel / accel.norm(dim=-1, keepdim=True)).unbind(-1)
        # direction in the yawed frame, u = R_z(−ψ_d)·â; q_tilt ∝ (1 + u_z, e₃ × u)
        ux, uy = cos * ax + sin * ay, -sin * ax + cos * ay
        tilt = torch.stack([1 + az, -uy, ux, torch.zeros_like(az)], dim=-1)
        tilt = tilt / tilt.norm(dim=-1, keepdim=True)
        zero = torch.zeros_like(yaw)
        q_yaw = torch.stack([torch.cos(yaw / 2), zero, zero, torch.sin(yaw / 2)], dim=-1)
        return quat_mul(q_yaw, tilt)


class GeometricController(_CTBRController):
    """Lee et al.'s SE(3) tracking controller adapted to CTBR (see the module docstring).

    ``k_x`` [1/s²] and ``k_v`` [1/s] per unit of believed mass (Lee's gains are ``m̂·k_x``,
    ``m̂·k_v``); ``k_R`` [1/s] per axis (roll, pitch, yaw) or one float.
    """

    def __init__(
        self,
        params: QuadParams | None = None,
        *,
        mass: Tensor | float | None = None,
        max_thrust: Tensor | float | None = None,
        k_x: float = 16.0,
        k_v: float = 6.0,
        k_R: float | tuple[float, float, float] = (8.0, 8.0, 4.0),
        max_rate: Tensor | tuple[float, float, float] = MAX_RATE,
        gravity: float = GRAVITY,
    ):
        super().__init__(params, mass, max_thrust, max_rate, gravity)
        self.k_x = check_number("k_x", k_x, minimum=0.0)
        self.k_v = check_number("k_v", k_v, minimum=0.0)
        self.k_R = _check_gain("k_R", k_R)

    def act(self, state, ref) -> Tensor:
        self._inputs(state, ref, ("p", "v", "a", "j") if "j" in ref else ("p", "v", "a"))
        p, v = state["p"], state["v"]
        rot = rotation_matrix(state["q"])
        mass = self.mass.to(p).reshape(-1, 1)
        e_x, e_v = p - ref["p"], v - ref["v"]
        force = mass * (-self.k_x * e_x - self.k_v * e_v + self._gravity_vector(p) + ref["a"])
        thrust = _dot(force, rot[..., :, 2])[..., 0]
        force_norm = force.norm(dim=-1, keepdim=True).clamp(min=1e-9)
        b3 = force / force_norm
        yaw = ref["yaw"].to(p)
        b1_c = torch.stack([torch.cos(yaw), torch.sin(yaw), torch.zeros_like(yaw)], dim=-1)
        cross = torch.linalg.cross(b3, b1_c)
        cross_norm = cross.norm(dim=-1, keepdim=True).clamp(min=1e-9)
        b2 = cross / cross_norm
        b1 = torch.linalg.cross(b2, b3)
        rot_d = torch.stack([b1, b2, b3], dim=-1)
        omega_d = self._desired_rates(ref, mass, force_norm, b1, b2, b3, b1_c, cross_norm)
        mismatch = rot_d.transpose(-1, -2) @ rot  # R_dᵀR
        skew = mismatch - mismatch.transpose(-1, -2)
        e_R = 0.5 * torch.stack([skew[..., 2, 1], skew[..., 0, 2], skew[..., 1, 0]], dim=-1)
        feedforward = (mismatch.transpose(-1, -2) @ omega_d[..., None])[..., 0]  # RᵀR_d Ω_d
        rates = feedforward - _gain(self.k_R, p) * e_R
        return self._action(thrust, rates)

    @staticmethod
    def _desired_rates(ref, mass, force_norm, b1, b2, b3, b1_c, cross_norm) -> Tensor:
        """``Ω_d`` (N, 3) from ``Ḟ_d ≈ m̂ j_d``; zero without a reference jerk."""
        if "j" not in ref:
            return torch.zeros_like(b3)
        force_dot = mass * ref["j"]
        b3_dot = (force_dot - b3 * _dot(b3, force_dot)) / force_norm
        cross_dot = torch.linalg.cross(b3_dot, b1_c)
        b2_dot = (cross_dot - b2 * _dot(b2, cross_dot)) / cross_norm
        return torch.cat([_dot(b2_dot, b3), _dot(b3_dot, b1), -_dot(b2_dot, b1)], dim=-1)
