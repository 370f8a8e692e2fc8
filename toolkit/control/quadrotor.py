"""Batched quadrotor simulator for Neural Internal Model Control (Gao et al., arXiv 2411.13079).

``N`` environments advance together as torch tensors, on CPU or CUDA. World frame ``W`` is
z-up, body frame ``B`` is x-forward, y-left, z-up; ``q = (w, x, y, z)`` rotates ``B`` into ``W``.

State per env: position ``p`` [m], velocity ``v`` [m/s], attitude ``q``, body rates ``ω``
[rad/s], motor thrusts ``f ∈ R⁴`` [N] (motor speeds follow from ``f = k_f·Ω²``, so the filter
acts on thrust directly), and with a rope payload the payload's offset ``r`` [m] and relative
velocity ``ṙ`` [m/s] from the quadrotor.

Low-level CTBR control, re-evaluated at every RK4 substep (zero-order hold within one):

    a ∈ [−1, 1]⁴ → T_cmd = (a₀ + 1)/2 · T_max,   ω_cmd = a₁:₃ ⊙ ω_max
    τ_cmd = J·K_p·(ω_cmd − ω) + ω × Jω
    f_cmd = clip(M⁻¹·[T_cmd, τ_cmd], 0, T_max/4)                          (X mixer M)

Rigid body, RK4 with ``dt = 0.005 s``, 4 substeps per 50 Hz control step:

    ṗ = v
    v̇ = R(q)·[0, 0, T]/m − g·e₃ + a_wind + λ·n/m
    q̇ = ½ q ⊗ [0, ω]                      (q renormalized after every substep)
    ω̇ = J⁻¹(τ − ω × Jω),                   [T, τ] = M·f
    ḟ = (f_cmd − f)/τ_m                    (first-order motors)

Mixer: motors at ``(±l, ±l)`` with ``l = L/√2`` — 0 front-right, 1 rear-right, 2 rear-left,
3 front-left — so ``τ_x = l(−f₀ − f₁ + f₂ + f₃)``, ``τ_y = l(−f₀ + f₁ + f₂ − f₃)``,
``τ_z = c(f₀ − f₁ + f₂ − f₃)`` with yaw moment per newton ``c = 0.13·L`` (Crazyflie:
``L = 0.046 m`` → ``c ≈ 0.006 m``). Saturated motors are clipped, without priority to any axis.

Parameters (``QuadParams``, one value per env) and their interpretation:

* ``mass`` m [kg], ``arm_length`` L [m], ``thrust_to_weight``: ``T_max = thrust_to_weight·m·g``.
* ``motor_alpha`` (the paper's "motor filter", 0.3–0.5): the first-order filter coefficient per
  50 Hz control step, ``f ← f + α(f_cmd − f)``; the continuous time constant that gives exactly
  this over one control step is ``τ_m = −dt_control/ln(1 − α)`` (0.3 → 56 ms, 0.5 → 29 ms).
* ``kp_scale``: multiplies the nominal body-rate gain ``K_p = (20, 20, 10) 1/s``.
* Inertia of a box ``I = m/12·L²·diag(w² + h², w² + h², 2w²)`` with ``w = 1.75``, ``h = 0.64``
  (fractions of L). These reproduce the Crazyflie's identified ``I_xx ≈ 1.66e-5`` and
  ``I_zz ≈ 2.9e-5 kg·m²`` at m = 0.027 kg, L = 0.046 m.
* ``k_f = (T_max/4)/Ω_max²`` with ``Ω_max = 2500 rad/s``; only used to report motor speeds.

Disturbances:

* Wind: a world-frame acceleration ``a_wind`` [m/s²], uniform in ±3.3 per axis at reset and a
  random walk ``a_wind ← clip(a_wind + σ·ε, ±3.3)``, ``ε ~ N(0, I)``, ``σ = 0.02 m/s²`` per control
  step (≈ 0.45 m/s² after a 10 s episode); held constant within a control step. It acts on the
  quadrotor only, not on a rope payload.
* ``MassStep``: from a given time after reset the true mass is ``factor·m`` (added mass at the
  centre of mass: inertia, thrust limit and what the controller believes stay unchanged).
* ``RopePayload``: a point mass ``m_p`` on a massless, inextensible rope of length ℓ fixed at
  the quadrotor's centre of mass (so it exerts no torque). While taut (``|r| ≥ ℓ(1 − 10⁻³)``)
  the tension ``λ ≥ 0`` is the one that keeps ``d²|r|²/dt² = 0``:

      λ = (|ṙ|² + r·(g_W − a_q)) / (|r|·(1/m + 1/m_p)),   a_q = quadrotor acceleration without λ

  the payload feels ``g_W − λ·n/m_p`` with ``n = r/|r|``; a slack rope (``λ < 0`` or shorter
  than ℓ) exerts nothing. After every substep a stretched rope is projected back to length ℓ
  and an outward relative velocity of a taut rope is removed by a momentum-conserving
  inelastic impulse (the jerk when a slack rope snaps taut).

Domain randomization samples each parameter independently and uniformly from
``TRAIN_RANGES`` (training) or ``OOD_RANGES`` (evaluation; the wider ranges include the training
ones). ``nominal_params`` is the midpoint of ``TRAIN_RANGES``.

All randomness (parameters, wind) is drawn from the env's ``torch.Generator`` seeded by ``seed``.
Internally the state is one ``(D, N)`` tensor (components along rows, so every component is a
contiguous vector); ``state`` and ``step`` return ``(N, ·)`` tensors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

import torch
from torch import Tensor

GRAVITY = 9.81  # m/s²
DT_CONTROL = 0.02  # s, 50 Hz
SUBSTEPS = 4  # RK4 steps of 0.005 s per control step
MAX_RATE = (6.0, 6.0, 3.0)  # rad/s, body-rate command at |a| = 1 (roll, pitch, yaw)
KP_RATE = (20.0, 20.0, 10.0)  # 1/s, nominal body-rate gain K_p
BOX_WIDTH = 1.75  # w, inertia box width as a fraction of the arm length
BOX_HEIGHT = 0.64  # h, inertia box height as a fraction of the arm length
YAW_MOMENT_RATIO = 0.13  # c / L: yaw moment per newton of motor thrust, per metre of arm
MOTOR_MAX_SPEED = 2500.0  # rad/s, Ω_max, defines k_f
WIND_MAX = 3.3  # m/s², per-axis bound of the wind acceleration
WIND_WALK_STD = 0.02  # m/s² per control step, σ of the wind random walk
POSITION_LIMIT = 100.0  # m, |p_i| beyond this counts as diverged
RATE_LIMIT = 100.0  # rad/s, |ω_i| beyond this counts as diverged
ROPE_SLACK_TOL = 1e-3  # relative: the rope counts as taut at |r| ≥ ℓ(1 − tol)

PARAM_NAMES = ("mass", "arm_length", "thrust_to_weight", "motor_alpha", "kp_scale")
TRAIN_RANGES = {
    "mass": (0.142, 0.950),
    "arm_length": (0.046, 0.200),
    "thrust_to_weight": (2.0, 3.5),
    "motor_alpha": (0.3, 0.5),
    "kp_scale": (0.7, 1.3),
}
OOD_RANGES = {
    "mass": (0.114, 1.140),
    "arm_length": (0.037, 0.240),
    "thrust_to_weight": (1.6, 4.2),
    "motor_alpha": (0.24, 0.6),
    "kp_scale": (0.5, 1.5),
}
RANGES = {"train": TRAIN_RANGES, "ood": OOD_RANGES}

# Mixer rows [T, τ_x/l, τ_y/l, τ_z/c] × motors; H·Hᵀ = 4·I, so M⁻¹ = Hᵀ/4 up to the row scales.
_MIXER = ((1, 1, 1, 1), (-1, -1, 1, 1), (-1, 1, 1, -1), (1, -1, 1, -1))


def _quadratic_maps() -> tuple[list[list[float]], list[list[float]]]:
    """Constant matrices: ``R(q)e₃ = A·vec(q qᵀ)`` and ``½ q ⊗ [0, ω] = B·vec(q ωᵀ)``."""
    b3 = [[0.0] * 16 for _ in range(3)]  # index 4i + j ↔ q_i q_j, q = (w, x, y, z)
    b3[0][4 * 1 + 3] = b3[0][4 * 0 + 2] = 2.0  # 2(xz + wy)
    b3[1][4 * 2 + 3], b3[1][4 * 0 + 1] = 2.0, -2.0  # 2(yz − wx)
    b3[2][0], b3[2][5], b3[2][10], b3[2][15] = 1.0, -1.0, -1.0, 1.0  # w² − x² − y² + z²
    qdot = [[0.0] * 12 for _ in range(4)]  # index 3i + k ↔ q_i ω_k
    for row, terms in enumerate(
        (
            ((1, 0, -1), (2, 1, -1), (3, 2, -1)),  # ẇ = −½(x ωx + y ωy + z ωz)
            ((0, 0, 1), (2, 2, 1), (3, 1, -1)),  # ẋ = ½(w ωx + y ωz − z ωy)
            ((0, 1, 1), (1, 2, -1), (3, 0, 1)),  # ẏ = ½(w ωy − x ωz + z ωx)
            ((0, 2, 1), (1, 1, 1), (2, 0, -1)),  # ż = ½(w ωz + x ωy − y ωx)
        )
    ):
        for i, k, sign in terms:
            qdot[row][3 * i + k] = 0.5 * sign
    return b3, qdot


@dataclass(frozen=True)
class QuadParams:
    """Physical parameters, one ``(N,)`` tensor per field (see the module docstring)."""

    mass: Tensor  # kg
    arm_length: Tensor  # m, centre to motor
    thrust_to_weight: Tensor  # T_max / (m g)
    motor_alpha: Tensor  # first-order motor filter coefficient per control step, in (0, 1)
    kp_scale: Tensor  # multiplier of the nominal body-rate gain

    def __len__(self) -> int:
        return self.mass.shape[0]

    def to(self, device=None, dtype=None) -> QuadParams:
        return QuadParams(**{f.name: getattr(self, f.name).to(device, dtype) for f in fields(self)})

    def where(self, mask: Tensor, other: QuadParams) -> QuadParams:
        """``other``'s values where ``mask`` (N,) is true, this one's elsewhere."""
        return QuadParams(
            **{
                f.name: torch.where(mask, getattr(other, f.name), getattr(self, f.name))
                for f in fields(self)
            }
        )

    def inertia(self) -> Tensor:
        """Diagonal of the box inertia ``m/12·L²·(w² + h², w² + h², 2w²)`` [kg·m²], (N, 3)."""
        base = self.mass / 12 * self.arm_length**2
        side = (BOX_WIDTH**2 + BOX_HEIGHT**2) * base
        return torch.stack([side, side, 2 * BOX_WIDTH**2 * base], dim=-1)

    def max_thrust(self, gravity: float = GRAVITY) -> Tensor:
        """Collective thrust limit ``T_max`` [N], (N,)."""
        return self.thrust_to_weight * self.mass * gravity

    def motor_time_constant(self, dt_control: float = DT_CONTROL) -> Tensor:
        """``τ_m = −dt_control/ln(1 − α)`` [s], (N,)."""
        return -dt_control / torch.log1p(-self.motor_alpha)

    def kf(self, gravity: float = GRAVITY) -> Tensor:
        """Thrust coefficient ``k_f = (T_max/4)/Ω_max²`` [N·s²/rad²], (N,)."""
        return self.max_thrust(gravity) / 4 / MOTOR_MAX_SPEED**2


def _resolve_ranges(ranges: str | Mapping[str, tuple[float, float]]) -> Mapping:
    if isinstance(ranges, str):
        if ranges not in RANGES:
            raise ValueError(f"unknown ranges {ranges!r}; expected one of {sorted(RANGES)}")
        return RANGES[ranges]
    missing = set(PARAM_NAMES) - set(ranges)
    if missing:
        raise ValueError(f"ranges lack {sorted(missing)}")
    return ranges


def sample_params(
    n: int,
    ranges: str | Mapping[str, tuple[float, float]] = "train",
    generator: torch.Generator | None = None,
    *,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float32,
) -> QuadParams:
    """``n`` parameter sets, each field independent and uniform in ``ranges[name] = (lo, hi)``.

    ``ranges`` is ``"train"``, ``"ood"`` or a dict like ``TRAIN_RANGES``. The tensors live on
    ``device`` (default: the generator's device, else CPU).
    """
    ranges = _resolve_ranges(ranges)
    if device is None:
        device = generator.device if generator is not None else "cpu"
    values = {}
    for name in PARAM_NAMES:
        lo, hi = ranges[name]
        u = torch.rand(n, generator=generator, device=device, dtype=dtype)
        values[name] = lo + (hi - lo) * u
    return QuadParams(**values)


def nominal_params(
    n: int = 1, *, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32
) -> QuadParams:
    """Midpoint of ``TRAIN_RANGES``: m = 0.546 kg, L = 0.123 m, T/W = 2.75, α = 0.4, K_p × 1."""
    return QuadParams(
        **{
            name: torch.full((n,), sum(TRAIN_RANGES[name]) / 2, device=device, dtype=dtype)
            for name in PARAM_NAMES
        }
    )


@dataclass(frozen=True)
class MassStep:
    """From ``time`` [s] after reset on, the true mass is ``factor·m`` (unknown to controllers)."""

    time: float = 5.0
    factor: float = 1.5


@dataclass(frozen=True)
class RopePayload:
    """Point mass ``mass_ratio·m`` [kg] on a massless rope of ``length`` ℓ [m]."""

    length: float = 0.5
    mass_ratio: float = 0.2


@dataclass
class QuadState:
    """Batched state, ``(N, ·)`` tensors; rope fields are ``None`` without a rope payload."""

    p: Tensor  # (N, 3) position, m
    v: Tensor  # (N, 3) velocity, m/s
    q: Tensor  # (N, 4) attitude quaternion (w, x, y, z), body → world
    omega: Tensor  # (N, 3) body rates, rad/s
    thrust: Tensor  # (N, 4) motor thrusts, N
    rope_r: Tensor | None = None  # (N, 3) payload position relative to the quadrotor, m
    rope_rdot: Tensor | None = None  # (N, 3) payload velocity relative to the quadrotor, m/s


_FIELD_SIZES = (("p", 3), ("v", 3), ("q", 4), ("omega", 3), ("thrust", 4))
_ROPE_SIZES = (("rope_r", 3), ("rope_rdot", 3))


class QuadrotorEnv:
    """``num_envs`` quadrotors stepped together at 50 Hz (the physics only; no task or reward).

    ``params``: ``None`` (``nominal_params``), a fixed ``QuadParams``, or ranges (``"train"``,
    ``"ood"`` or a dict) re-sampled for every env that is reset. ``wind``: enable random wind.
    ``payload``: ``None``, ``MassStep`` or ``RopePayload``. ``reference``: optional callable from
    per-env time [s] (N,) to anything (e.g. a reference position (N, 3)); its value is returned
    under ``"reference"``, the physics ignore it.

    ``reset`` and ``step`` return ``(state_dict, info)``; ``state_dict`` holds the ``QuadState``
    fields plus ``"wind"`` (N, 3) m/s², ``"mass"`` (N,) true mass kg, ``"time"`` (N,) s since
    reset (and ``"reference"``); ``info`` holds ``"clipped_actions"`` (N,) int, the number of NaN
    or out-of-range action entries this step, and ``"diverged"`` (N,) bool, envs whose state
    became non-finite or left ``|p_i| ≤ 100 m``, ``|ω_i| ≤ 100 rad/s`` — those were reset.
    """

    dt_control = DT_CONTROL
    substeps = SUBSTEPS
    dt_sim = DT_CONTROL / SUBSTEPS
    gravity = GRAVITY

    def __init__(
        self,
        num_envs: int,
        *,
        params: QuadParams | str | Mapping | None = None,
        wind: bool = False,
        payload: MassStep | RopePayload | None = None,
        device: str | torch.device = "cpu",
        seed: int = 0,
        reference: Callable[[Tensor], object] | None = None,
        dtype: torch.dtype = torch.float32,
        max_rate: tuple[float, float, float] = MAX_RATE,
        kp_rate: tuple[float, float, float] = KP_RATE,
        wind_max: float = WIND_MAX,
        wind_walk_std: float = WIND_WALK_STD,
    ):
        if payload is not None and not isinstance(payload, MassStep | RopePayload):
            raise TypeError(f"payload must be MassStep, RopePayload or None, got {payload!r}")
        self.num_envs = num_envs
        self.device = torch.device(device)
        self.dtype = dtype
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed)
        self.wind_enabled = wind
        self.wind_max = wind_max
        self.wind_walk_std = wind_walk_std
        self.payload = payload
        self.reference = reference
        self._ranges = None
        if isinstance(params, QuadParams):
            if len(params) != num_envs:
                raise ValueError(f"params hold {len(params)} envs, expected {num_envs}")
            self.params = params.to(self.device, dtype)
        else:
            if params is not None:
                self._ranges = _resolve_ranges(params)
            self.params = nominal_params(num_envs, device=self.device, dtype=dtype)
        kw = dict(device=self.device, dtype=dtype)
        self.max_rate = torch.tensor(max_rate, **kw)
        self._kp_rate = torch.tensor(kp_rate, **kw)[:, None]
        self._mixer = torch.tensor(_MIXER, **kw)
        self._unmixer = self._mixer.T / 4
        b3_map, qdot_map = _quadratic_maps()
        self._b3_map = torch.tensor(b3_map, **kw)
        self._qdot_map = torch.tensor(qdot_map, **kw)
        self._g_vec = torch.tensor([0.0, 0.0, -GRAVITY], **kw)[:, None]
        self._zero = torch.zeros((), **kw)
        self._dim = 17 + (6 if isinstance(payload, RopePayload) else 0)
        self.wind = torch.zeros(num_envs, 3, **kw)
        self._steps = torch.zeros(num_envs, dtype=torch.long, device=self.device)
        self._x = torch.zeros(self._dim, num_envs, **kw)
        self.reset()

    # ------------------------------------------------------------------ public API

    def reset(self, seed: int | None = None) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Reset every env (re-seeding the generator first if ``seed`` is given)."""
        if seed is not None:
            self.generator.manual_seed(seed)
        everything = torch.ones(self.num_envs, dtype=torch.bool, device=self.device)
        self.reset_done(everything)
        info = {
            "clipped_actions": torch.zeros(self.num_envs, dtype=torch.long, device=self.device),
            "diverged": torch.zeros_like(everything),
        }
        return self._state_dict(), info

    def reset_done(self, mask: Tensor) -> None:
        """Reset the envs where ``mask`` (N,) is true: level, at rest at the origin, motors at
        ``m·g/4`` each, a rope payload hanging straight down, time 0; parameters (when
        randomized) and wind (when enabled, else zero) are drawn anew. Random numbers are drawn
        for all N envs whatever the mask, so the stream does not depend on which envs ended.
        """
        mask = torch.as_tensor(mask, device=self.device, dtype=torch.bool)
        if self._ranges is not None:
            fresh = sample_params(self.num_envs, self._ranges, self.generator, dtype=self.dtype)
            self.params = self.params.where(mask, fresh)
        self._derive()
        if self.wind_enabled:
            u = torch.rand(self.num_envs, 3, generator=self.generator, **self._kw)
            fresh_wind = (2 * u - 1) * self.wind_max
        else:
            fresh_wind = torch.zeros_like(self.wind)
        self.wind = torch.where(mask[:, None], fresh_wind, self.wind)
        self._x = torch.where(mask, self._initial_x(), self._x)
        self._steps = torch.where(mask, 0, self._steps)

    def step(self, action: Tensor) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Advance one control step (0.02 s, 4 RK4 substeps) under ``action`` (N, 4) in [−1, 1]:
        ``[collective thrust, roll rate, pitch rate, yaw rate]``.

        NaN entries become 0 and the rest are clipped to [−1, 1] (both counted in
        ``info["clipped_actions"]``). Runs under ``torch.no_grad``.
        """
        with torch.no_grad():
            action, clipped = self._sanitize(action)
            if self.wind_enabled and self.wind_walk_std > 0:
                noise = torch.randn(self.num_envs, 3, generator=self.generator, **self._kw)
                walked = torch.add(self.wind, noise, alpha=self.wind_walk_std)
                self.wind = walked.clamp_(-self.wind_max, self.wind_max)
            inv_mass = 1 / self._true_mass()
            cmd_thrust = (action[:, 0] + 1) * (0.5 * self._t_max)
            cmd_rates = (action[:, 1:] * self.max_rate).T
            accel_ext = self.wind.T + self._g_vec
            x = self._x
            for _ in range(self.substeps):
                x = self._rk4(x, cmd_thrust, cmd_rates, accel_ext, inv_mass)
            self._x = x
            self._steps += 1
            diverged = self._diverged()
            if bool(diverged.any()):
                self.reset_done(diverged)
            return self._state_dict(), {"clipped_actions": clipped, "diverged": diverged}

    @property
    def state(self) -> QuadState:
        """A snapshot of the state as ``(N, ·)`` tensors (later steps do not change it)."""
        rows = self._x.T.contiguous()
        values, start = {}, 0
        for name, size in self._field_sizes:
            values[name] = rows[:, start : start + size]
            start += size
        return QuadState(**values)

    @state.setter
    def state(self, state: QuadState) -> None:
        parts = []
        for name, size in self._field_sizes:
            value = torch.as_tensor(getattr(state, name), **self._kw)
            if value.shape != (self.num_envs, size):
                raise ValueError(f"state.{name} has shape {tuple(value.shape)}")
            parts.append(value.T)
        self._x = torch.cat(parts).contiguous()

    @property
    def time(self) -> Tensor:
        """Time since each env's reset [s], (N,)."""
        return self._steps.to(self.dtype) * self.dt_control

    def hover_action(self, mass: Tensor | float | None = None) -> Tensor:
        """Action (N, 4) with zero rates and thrust ``mass·g`` (default: each env's ``m``)."""
        mass = self.params.mass if mass is None else torch.as_tensor(mass, **self._kw)
        action = torch.zeros(self.num_envs, 4, **self._kw)
        action[:, 0] = 2 * mass * self.gravity / self._t_max - 1
        return action

    def motor_speeds(self) -> Tensor:
        """Motor speeds ``Ω = √(f/k_f)`` [rad/s], (N, 4)."""
        thrust = self._x[13:17].T.clamp(min=0)
        return torch.sqrt(thrust / self.params.kf(self.gravity)[:, None])

    # ------------------------------------------------------------------ internals

    @property
    def _kw(self) -> dict:
        return dict(device=self.device, dtype=self.dtype)

    @property
    def _field_sizes(self) -> tuple[tuple[str, int], ...]:
        return _FIELD_SIZES + (_ROPE_SIZES if isinstance(self.payload, RopePayload) else ())

    def _derive(self) -> None:
        """Per-env constants of the dynamics, as (k, N) rows."""
        prm, g = self.params, self.gravity
        inertia = prm.inertia().T
        ones = torch.ones_like(prm.mass)
        half_span = prm.arm_length / math.sqrt(2)
        self._mix = torch.stack([ones, half_span, half_span, YAW_MOMENT_RATIO * prm.arm_length])
        self._inv_mix = 1 / self._mix
        self._t_max = prm.max_thrust(g)
        self._f_max = self._t_max / 4
        self._jkp = inertia * self._kp_rate * prm.kp_scale
        self._inv_inertia = 1 / inertia
        jx, jy, jz = inertia
        self._gyro_j = torch.stack([jy - jz, jz - jx, jx - jy])  # ω × Jω = −gyro_j ⊙ ω′ω″
        self._gyro = self._gyro_j * self._inv_inertia
        self._inv_tau = 1 / prm.motor_time_constant(self.dt_control)
        if isinstance(self.payload, RopePayload):
            ratio = self.payload.mass_ratio
            self._rope_share = ratio / (1 + ratio) * ones  # m_p/(m + m_p)

    def _initial_x(self) -> Tensor:
        x = torch.zeros(self._dim, self.num_envs, **self._kw)
        x[6] = 1.0
        x[13:17] = self.params.mass * self.gravity / 4
        if isinstance(self.payload, RopePayload):
            x[19] = -self.payload.length
        return x

    def _sanitize(self, action: Tensor) -> tuple[Tensor, Tensor]:
        action = torch.as_tensor(action, **self._kw)
        if action.shape != (self.num_envs, 4):
            raise ValueError(f"action must be ({self.num_envs}, 4), got {tuple(action.shape)}")
        nan = torch.isnan(action)
        clipped = (nan | (action.abs() > 1)).sum(dim=1)
        return torch.where(nan, 0.0, action).clamp_(-1, 1), clipped

    def _true_mass(self) -> Tensor:
        if not isinstance(self.payload, MassStep):
            return self.params.mass
        first = math.ceil(self.payload.time / self.dt_control - 1e-6)
        return torch.where(self._steps >= first, self.payload.factor, 1.0) * self.params.mass

    def _motor_commands(self, x: Tensor, cmd_thrust: Tensor, cmd_rates: Tensor) -> Tensor:
        """``f_cmd = clip(M⁻¹·[T_cmd, J·K_p·(ω_cmd − ω) + ω × Jω], 0, T_max/4)``, (4, N)."""
        w = x[10:13]
        gyro = w.roll(-1, 0) * w.roll(-2, 0)
        torque = torch.addcmul(self._jkp * (cmd_rates - w), self._gyro_j, gyro, value=-1)
        wrench = torch.cat([cmd_thrust[None], torque]) * self._inv_mix
        return torch.clamp(self._unmixer @ wrench, self._zero, self._f_max)

    def _derivative(self, x: Tensor, f_cmd: Tensor, accel_ext: Tensor, inv_mass: Tensor):
        v, q, w, f = x[3:6], x[6:10], x[10:13], x[13:17]
        wrench = (self._mixer @ f) * self._mix
        b3 = self._b3_map @ (q[:, None] * q[None]).reshape(16, -1)
        acc = torch.addcmul(accel_ext, b3, wrench[0] * inv_mass)
        q_dot = self._qdot_map @ (q[:, None] * w[None]).reshape(12, -1)
        gyro = w.roll(-1, 0) * w.roll(-2, 0)
        w_dot = torch.addcmul(wrench[1:] * self._inv_inertia, self._gyro, gyro)
        f_dot = (f_cmd - f) * self._inv_tau
        if not isinstance(self.payload, RopePayload):
            return torch.cat([v, acc, q_dot, w_dot, f_dot])
        r, r_dot = x[17:20], x[20:23]
        rel_free = self._g_vec - acc
        dist2 = (r * r).sum(0).clamp(min=1e-12)
        taut = dist2 >= (self.payload.length * (1 - ROPE_SLACK_TOL)) ** 2
        pull = ((r_dot * r_dot).sum(0) + (r * rel_free).sum(0)).clamp(min=0) * taut / dist2
        acc = torch.addcmul(acc, r, pull * self._rope_share)  # + λ n / m
        r_ddot = torch.addcmul(rel_free, r, pull, value=-1)  # − λ n (1/m + 1/m_p)
        return torch.cat([v, acc, q_dot, w_dot, f_dot, r_dot, r_ddot])

    def _rk4(self, x, cmd_thrust, cmd_rates, accel_ext, inv_mass) -> Tensor:
        f_cmd = self._motor_commands(x, cmd_thrust, cmd_rates)
        h = self.dt_sim
        k1 = self._derivative(x, f_cmd, accel_ext, inv_mass)
        k2 = self._derivative(torch.add(x, k1, alpha=h / 2), f_cmd, accel_ext, inv_mass)
        k3 = self._derivative(torch.add(x, k2, alpha=h / 2), f_cmd, accel_ext, inv_mass)
        k4 = self._derivative(torch.add(x, k3, alpha=h), f_cmd, accel_ext, inv_mass)
        x = torch.add(x, k2.add_(k3).mul_(2).add_(k1).add_(k4), alpha=h / 6)
        q = x[6:10]
        q.div_(q.norm(dim=0))
        if isinstance(self.payload, RopePayload):
            self._project_rope(x)
        return x

    def _project_rope(self, x: Tensor) -> None:
        """Pull a stretched rope back to ℓ; remove a taut rope's outward relative velocity
        ``Δ`` by an inelastic impulse: ``ṙ −= Δ``, ``v += Δ·m_p/(m + m_p)`` (momentum kept)."""
        length = self.payload.length
        v, r, r_dot = x[3:6], x[17:20], x[20:23]
        dist = r.norm(dim=0).clamp(min=1e-12)
        r.mul_((length / dist).clamp(max=1))
        taut = dist >= length * (1 - ROPE_SLACK_TOL)
        outward = (r_dot * r).sum(0).clamp(min=0) * taut / (r * r).sum(0).clamp(min=1e-12)
        r_dot.addcmul_(r, outward, value=-1)
        v.addcmul_(r, outward * self._rope_share)

    def _diverged(self) -> Tensor:
        x = self._x
        finite = torch.isfinite(x).all(dim=0)
        far = x[0:3].abs().amax(dim=0) > POSITION_LIMIT
        spinning = x[10:13].abs().amax(dim=0) > RATE_LIMIT
        return ~finite | far | spinning

    def _state_dict(self) -> dict[str, Tensor]:
        out = dict(vars(self.state))
        if out["rope_r"] is None:
            del out["rope_r"], out["rope_rdot"]
        out.update(wind=self.wind.clone(), mass=self._true_mass(), time=self.time)
        if self.reference is not None:
            out["reference"] = self.reference(out["time"])
        return out
