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

from toolkit._checks import (
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_range_pair,
    check_vector,
    describe,
)
from toolkit._torch import check_device, check_dtype, check_positive

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
POSITION_LIMIT = 100.0  # m, ‖p‖ beyond this counts as diverged
RATE_LIMIT = 100.0  # rad/s, ‖ω‖ beyond this counts as diverged
ROPE_SLACK_TOL = 1e-3  # relative: the rope counts as taut at |r| ≥ ℓ(1 − tol)
DTYPES = (torch.float32, torch.float64)

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


# R(q)e₃ and ½ q ⊗ [0, ω] are quadratic: linear maps of u = vec(q ⊗ [q, ω]), u[7i + j] = q_i·z_j
# with z = (w, x, y, z, ω_x, ω_y, ω_z). Each term is (i, j, coefficient).
_W, _X, _Y, _Z, _OX, _OY, _OZ = range(7)
_BODY_Z_TERMS = (
    ((_X, _Z, 2.0), (_W, _Y, 2.0)),  # 2(xz + wy)
    ((_Y, _Z, 2.0), (_W, _X, -2.0)),  # 2(yz − wx)
    ((_W, _W, 1.0), (_X, _X, -1.0), (_Y, _Y, -1.0), (_Z, _Z, 1.0)),  # w² − x² − y² + z²
)
_QUAT_RATE_TERMS = (
    ((_X, _OX, -0.5), (_Y, _OY, -0.5), (_Z, _OZ, -0.5)),  # ẇ = −½(x ωx + y ωy + z ωz)
    ((_W, _OX, 0.5), (_Y, _OZ, 0.5), (_Z, _OY, -0.5)),  # ẋ = ½(w ωx + y ωz − z ωy)
    ((_W, _OY, 0.5), (_X, _OZ, -0.5), (_Z, _OX, 0.5)),  # ẏ = ½(w ωy − x ωz + z ωx)
    ((_W, _OZ, 0.5), (_X, _OY, 0.5), (_Y, _OX, -0.5)),  # ż = ½(w ωz + x ωy − y ωx)
)


def _quadratic_matrix(rows, **kw) -> Tensor:
    out = torch.zeros(len(rows), 28, **kw)
    for r, terms in enumerate(rows):
        for i, j, coefficient in terms:
            out[r, 7 * i + j] = coefficient
    return out


@dataclass(frozen=True)
class QuadParams:
    """Physical parameters, one ``(N,)`` tensor per field (see the module docstring).

    Every entry must be finite and positive, ``motor_alpha`` below 1, else ``ValueError``
    naming the field and the env index.
    """

    mass: Tensor  # kg
    arm_length: Tensor  # m, centre to motor
    thrust_to_weight: Tensor  # T_max / (m g)
    motor_alpha: Tensor  # first-order motor filter coefficient per control step, in (0, 1)
    kp_scale: Tensor  # multiplier of the nominal body-rate gain

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, Tensor):
                raise TypeError(f"QuadParams.{f.name} must be a tensor, got {describe(value)}")
            if value.dim() != 1 or value.shape != self.mass.shape:
                raise ValueError(
                    f"QuadParams.{f.name} must be (N,) like mass {tuple(self.mass.shape)}, "
                    f"got {tuple(value.shape)}"
                )
            maximum = 1.0 if f.name == "motor_alpha" else None
            check_positive(f"QuadParams.{f.name}", value, maximum=maximum)

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
    """``"train"``, ``"ood"`` or a dict of ``(low, high)`` per ``PARAM_NAMES`` with ``low > 0``
    (``motor_alpha``'s ``high < 1``)."""
    if isinstance(ranges, str):
        return RANGES[check_choice("params", ranges, sorted(RANGES))]
    if not isinstance(ranges, Mapping):
        raise TypeError(f"ranges must be 'train', 'ood' or a dict, got {describe(ranges)}")
    missing = set(PARAM_NAMES) - set(ranges)
    unknown = set(ranges) - set(PARAM_NAMES)
    if missing or unknown:
        raise ValueError(
            f"ranges must have exactly the keys {PARAM_NAMES}: "
            f"missing {sorted(missing)}, unknown {sorted(map(str, unknown))}"
        )
    resolved = {}
    for name in PARAM_NAMES:
        low, high = check_range_pair(f"ranges[{name!r}]", ranges[name], minimum=0.0)
        if low == 0:
            raise ValueError(f"ranges[{name!r}] must be > 0, got ({low}, {high})")
        if name == "motor_alpha" and high >= 1:
            raise ValueError(f"ranges['motor_alpha'] must be < 1, got ({low}, {high})")
        resolved[name] = (low, high)
    return resolved


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
    n = check_int("n", n, minimum=1)
    ranges = _resolve_ranges(ranges)
    dtype = check_dtype("dtype", dtype, DTYPES)
    if device is None:
        device = generator.device if generator is not None else "cpu"
    device = check_device("device", device)
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
    n = check_int("n", n, minimum=1)
    device, dtype = check_device("device", device), check_dtype("dtype", dtype, DTYPES)
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

    def __post_init__(self) -> None:
        check_number("MassStep.time", self.time, minimum=0.0)
        check_number("MassStep.factor", self.factor, minimum=0.0, strict_min=True)


@dataclass(frozen=True)
class RopePayload:
    """Point mass ``mass_ratio·m`` [kg] on a massless rope of ``length`` ℓ [m]."""

    length: float = 0.5
    mass_ratio: float = 0.2

    def __post_init__(self) -> None:
        check_number("RopePayload.length", self.length, minimum=0.0, strict_min=True)
        check_number("RopePayload.mass_ratio", self.mass_ratio, minimum=0.0, strict_min=True)


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
_DIVERGENCE_LABELS = {
    "p": "position p",
    "v": "velocity v",
    "q": "attitude quaternion q",
    "omega": "body rates ω",
    "thrust": "motor thrusts f (motor speeds)",
    "rope_r": "rope offset r",
    "rope_rdot": "rope velocity ṙ",
}


@dataclass(frozen=True)
class _Rows:
    """Views of the component rows of one (D, N) state-shaped buffer."""

    all: Tensor
    p: Tensor
    v: Tensor
    q: Tensor
    w: Tensor
    f: Tensor
    q_column: Tensor  # (4, 1, N)
    q_and_w_row: Tensor  # (1, 7, N)
    r: Tensor | None
    r_dot: Tensor | None

    @classmethod
    def of(cls, buf: Tensor) -> _Rows:
        rope = buf.shape[0] > 17
        return cls(
            all=buf,
            p=buf[0:3],
            v=buf[3:6],
            q=buf[6:10],
            w=buf[10:13],
            f=buf[13:17],
            q_column=buf[6:10, None],
            q_and_w_row=buf[None, 6:13],
            r=buf[17:20] if rope else None,
            r_dot=buf[20:23] if rope else None,
        )


class _Scratch:
    """Preallocated intermediates of one RK4 stage, and their row views."""

    def __init__(self, n: int, **kw):
        self.quadratic = torch.empty(4, 7, n, **kw)  # q_i · [q, ω]_j
        self.quadratic_flat = self.quadratic.view(28, n)
        self.body_z_and_quat_rate = torch.empty(7, n, **kw)
        self.body_z = self.body_z_and_quat_rate[:3]
        self.quat_rate = self.body_z_and_quat_rate[3:]
        self.wrench = torch.empty(4, n, **kw)  # [T/m, J⁻¹τ] in derivatives
        self.thrust_acc, self.angular_acc = self.wrench[0], self.wrench[1:]
        self.rates_twice = torch.empty(6, n, **kw)  # [ω, ω]
        self.rates_a, self.rates_b = self.rates_twice[1:4], self.rates_twice[2:5]
        self.gyro = torch.empty(3, n, **kw)  # (ω_y ω_z, ω_z ω_x, ω_x ω_y)
        self.feedback = torch.empty(3, n, **kw)
        self.u = torch.empty(4, n, **kw)  # motor-command wrench over (1, l, l, c)
        self.u_thrust, self.u_torque = self.u[0], self.u[1:]
        self.f_cmd_rate = torch.empty(4, n, **kw)  # f_cmd/τ_m
        self.q_squared = torch.empty(4, n, **kw)
        self.q_scale = torch.empty(n, **kw)


class QuadrotorEnv:
    """``num_envs`` quadrotors stepped together at 50 Hz (the physics only; no task or reward).

    ``params``: ``None`` (``nominal_params``), a fixed ``QuadParams``, or ranges (``"train"``,
    ``"ood"`` or a dict) re-sampled for every env that is reset. ``wind``: enable random wind.
    ``payload``: ``None``, ``MassStep`` or ``RopePayload``. ``reference``: optional callable from
    per-env time [s] (N,) to anything (e.g. a reference position (N, 3)); its value is returned
    under ``"reference"``, the physics ignore it.

    ``reset`` and ``step`` return ``(state_dict, info)``. ``state_dict`` holds the ``QuadState``
    fields and, at that state's ``"time"`` (N,) [s since reset], the true ``"wind"`` (N, 3)
    [m/s², the one acting during the next step] and true ``"mass"`` (N,) [kg] (privileged
    values, e.g. for an asymmetric critic), and ``"reference"`` when given. ``info`` holds
    ``"clipped_actions"`` (N,) int, the number of NaN or out-of-range action entries this step,
    ``"diverged"`` (N,) bool, envs whose state became non-finite or left ``‖p‖ ≤ 100 m``,
    ``‖ω‖ ≤ 100 rad/s`` — those were reset before returning — and ``"diverged_reason"``, a dict
    from the index of each diverged env to why, e.g. ``"non-finite velocity v, attitude
    quaternion q"`` or ``"‖p‖ = 131 m > 100 m"`` (empty when none diverged).

    Every argument is checked when the env is built (``TypeError`` for a wrong type,
    ``ValueError`` for a wrong value, naming the argument or field): ``num_envs`` ≥ 1, a
    ``device`` that exists, ``dtype`` float32 or float64, positive finite parameters and
    ranges, ``max_rate`` and ``kp_rate`` three positive numbers, ``wind_max``,
    ``wind_walk_std`` ≥ 0.

    On a shared CPU, ``torch.set_num_threads(1)`` can be far faster than intra-op threads
    competing for busy cores (see ``python -m benchmarks quadrotor``).
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
        if reference is not None and not callable(reference):
            raise TypeError(f"reference must be callable or None, got {describe(reference)}")
        self.num_envs = num_envs = check_int("num_envs", num_envs, minimum=1)
        self.device = check_device("device", device)
        self.dtype = dtype = check_dtype("dtype", dtype, DTYPES)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(check_int("seed", seed, minimum=0))
        self.wind_enabled = check_bool("wind", wind)
        self.wind_max = check_number("wind_max", wind_max, minimum=0.0)
        self.wind_walk_std = check_number("wind_walk_std", wind_walk_std, minimum=0.0)
        self.payload = payload
        self.reference = reference
        self._ranges = None
        if isinstance(params, QuadParams):
            if len(params) != num_envs:
                raise ValueError(f"params hold {len(params)} envs, expected num_envs={num_envs}")
            self.params = params.to(self.device, dtype)
        else:
            if params is not None:
                self._ranges = _resolve_ranges(params)
            self.params = nominal_params(num_envs, device=self.device, dtype=dtype)
        kw = dict(device=self.device, dtype=dtype)
        max_rate = check_vector("max_rate", max_rate, 3, minimum=0.0, strict_min=True)
        kp_rate = check_vector("kp_rate", kp_rate, 3, minimum=0.0, strict_min=True)
        self.max_rate = torch.tensor(max_rate, **kw)
        self._kp_rate = torch.tensor(kp_rate, **kw)[:, None]
        self._mixer = torch.tensor(_MIXER, **kw)
        self._unmixer = self._mixer.T / 4
        self._quadratic_map = _quadratic_matrix(_BODY_Z_TERMS + _QUAT_RATE_TERMS, **kw)
        self._g_vec = torch.tensor([0.0, 0.0, -GRAVITY], **kw)[:, None]
        self._zero = torch.zeros((), **kw)
        self._dim = 17 + (6 if isinstance(payload, RopePayload) else 0)
        self.wind = torch.zeros(num_envs, 3, **kw)
        self._steps = torch.zeros(num_envs, dtype=torch.long, device=self.device)
        # Persistent buffers (updated in place, so their row views are made once): the state,
        # the RK4 stage state, the four slopes and the intermediates.
        self._x = torch.zeros(self._dim, num_envs, **kw)
        self._stage = torch.empty_like(self._x)
        self._rows = _Rows.of(self._x)
        self._stage_rows = _Rows.of(self._stage)
        self._slopes = [_Rows.of(torch.empty_like(self._x)) for _ in range(4)]
        self._tmp = _Scratch(num_envs, **kw)
        self.reset()

    # ------------------------------------------------------------------ public API

    def reset(self, seed: int | None = None) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Reset every env (re-seeding the generator first if ``seed`` is given)."""
        if seed is not None:
            self.generator.manual_seed(check_int("seed", seed, minimum=0))
        everything = torch.ones(self.num_envs, dtype=torch.bool, device=self.device)
        self.reset_done(everything)
        info = {
            "clipped_actions": torch.zeros(self.num_envs, dtype=torch.long, device=self.device),
            "diverged": torch.zeros_like(everything),
            "diverged_reason": {},
        }
        return self.observe(), info

    def reset_done(self, mask: Tensor) -> None:
        """Reset the envs where ``mask`` (N,) is true: level, at rest at the origin, motors at
        ``m·g/4`` each, a rope payload hanging straight down, time 0; parameters (when
        randomized) and wind (when enabled, else zero) are drawn anew. Random numbers are drawn
        for all N envs whatever the mask, so the stream does not depend on which envs ended.
        """
        mask = torch.as_tensor(mask, device=self.device)
        if mask.shape != (self.num_envs,) or mask.dtype != torch.bool:
            raise ValueError(
                f"mask must be a ({self.num_envs},) bool tensor, "
                f"got {tuple(mask.shape)} {mask.dtype}"
            )
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
        self._x.copy_(torch.where(mask, self._initial_x(), self._x))
        self._steps = torch.where(mask, 0, self._steps)

    def step(self, action: Tensor) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Advance one control step (0.02 s, 4 RK4 substeps) under ``action`` (N, 4) in [−1, 1]:
        ``[collective thrust, roll rate, pitch rate, yaw rate]``.

        NaN entries become 0 and the rest are clipped to [−1, 1] (both counted in
        ``info["clipped_actions"]``); afterwards the wind takes its random-walk step and
        diverged envs are reset. Runs under ``torch.no_grad``.
        """
        with torch.no_grad():
            action, clipped = self._sanitize(action)
            inv_mass = 1 / self._true_mass()
            # Per control step: rows [T/m, J⁻¹τ] = (H·f) ⊙ scale, and the motor-command
            # constants u = [T_cmd, (J·K_p·ω_cmd)/(l, l, c)] of the rate loop.
            scale = torch.cat([inv_mass[None], self._inv_inertia]) * self._mix
            torch.mul(action[:, 0] + 1, 0.5 * self._t_max, out=self._tmp.u_thrust)
            rate_term = self._jkp_mixed * (action[:, 1:] * self.max_rate).T
            accel_ext = self.wind.T + self._g_vec
            for _ in range(self.substeps):
                self._rk4(rate_term, accel_ext, scale)
            self._steps += 1
            if self.wind_enabled and self.wind_walk_std > 0:
                noise = torch.randn(self.num_envs, 3, generator=self.generator, **self._kw)
                walked = torch.add(self.wind, noise, alpha=self.wind_walk_std)
                self.wind = walked.clamp_(-self.wind_max, self.wind_max)
            diverged = self._diverged()
            reasons = {}
            if bool(diverged.any()):
                reasons = self._divergence_reasons(diverged)
                self.reset_done(diverged)
            info = {"clipped_actions": clipped, "diverged": diverged, "diverged_reason": reasons}
            return self.observe(), info

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
        """Set the state from a ``QuadState`` of ``(N, ·)`` finite values (nothing changes if a
        field is missing, of another shape or non-finite)."""
        if not isinstance(state, QuadState):
            raise TypeError(f"state must be a QuadState, got {describe(state)}")
        parts = []
        for name, size in self._field_sizes:
            if getattr(state, name) is None:
                raise ValueError(f"state.{name} is required")
            value = torch.as_tensor(getattr(state, name), **self._kw)
            if value.shape != (self.num_envs, size):
                raise ValueError(
                    f"state.{name} must be ({self.num_envs}, {size}), got {tuple(value.shape)}"
                )
            finite = torch.isfinite(value).all(dim=1)
            if not bool(finite.all()):
                env = int((~finite).nonzero()[0])
                raise ValueError(f"state.{name} of env {env} is not finite: {value[env].tolist()}")
            parts.append(value.T)
        self._x.copy_(torch.cat(parts))

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
        self._inv_inertia = 1 / inertia
        jx, jy, jz = inertia
        # ω × Jω = −gyro_j ⊙ (ω_y ω_z, ω_z ω_x, ω_x ω_y) for a diagonal J
        gyro_j = torch.stack([jy - jz, jz - jx, jx - jy])
        self._gyro = gyro_j * self._inv_inertia
        self._jkp_mixed = inertia * self._kp_rate * prm.kp_scale * self._inv_mix[1:]
        self._gyro_mixed = gyro_j * self._inv_mix[1:]
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

    def _motor_commands(self, x: _Rows, rate_term: Tensor) -> Tensor:
        """``f_cmd/τ_m`` with ``f_cmd = clip(M⁻¹·[T_cmd, J·K_p·(ω_cmd − ω) + ω × Jω], 0, T_max/4)``,
        (4, N); ``u_thrust`` holds ``T_cmd``, ``rate_term`` is ``J·K_p·ω_cmd`` over (l, l, c)."""
        t = self._tmp
        torch.cat([x.w, x.w], out=t.rates_twice)
        torch.mul(t.rates_a, t.rates_b, out=t.gyro)
        torch.mul(self._jkp_mixed, x.w, out=t.feedback).addcmul_(self._gyro_mixed, t.gyro)
        torch.sub(rate_term, t.feedback, out=t.u_torque)
        torch.mm(self._unmixer, t.u, out=t.f_cmd_rate)
        torch.clamp(t.f_cmd_rate, self._zero, self._f_max, out=t.f_cmd_rate)
        return t.f_cmd_rate.mul_(self._inv_tau)

    def _derivative(self, x: _Rows, out: _Rows, f_cmd_rate, accel_ext, scale) -> None:
        """Write ``ẋ`` into ``out``; ``f_cmd_rate = f_cmd/τ_m``, ``accel_ext = a_wind − g·e₃``,
        ``scale`` turns ``H·f`` into ``[T/m, J⁻¹τ]``."""
        t = self._tmp
        torch.mul(x.q_column, x.q_and_w_row, out=t.quadratic)
        torch.mm(self._quadratic_map, t.quadratic_flat, out=t.body_z_and_quat_rate)
        torch.mm(self._mixer, x.f, out=t.wrench).mul_(scale)
        torch.cat([x.w, x.w], out=t.rates_twice)
        torch.mul(t.rates_a, t.rates_b, out=t.gyro)
        out.p.copy_(x.v)
        torch.addcmul(accel_ext, t.body_z, t.thrust_acc, out=out.v)
        out.q.copy_(t.quat_rate)
        torch.addcmul(t.angular_acc, self._gyro, t.gyro, out=out.w)
        torch.addcmul(f_cmd_rate, x.f, self._inv_tau, value=-1, out=out.f)
        if isinstance(self.payload, RopePayload):
            self._rope_derivative(x, out)

    def _rope_derivative(self, x: _Rows, out: _Rows) -> None:
        """Rope rows of ``ẋ`` and the tension's share of the quadrotor's acceleration."""
        r, r_dot = x.r, x.r_dot
        rel_free = self._g_vec - out.v  # r̈ without tension
        dist2 = (r * r).sum(0).clamp(min=1e-24)
        taut = dist2 >= (self.payload.length * (1 - ROPE_SLACK_TOL)) ** 2
        # λ/(|r|·(1/m + 1/m_p)) per unit of r, zero when slack
        pull = ((r_dot * r_dot).sum(0) + (r * rel_free).sum(0)).clamp(min=0) * taut / dist2
        out.v.addcmul_(r, pull * self._rope_share)  # + λ n / m
        out.r.copy_(r_dot)
        torch.addcmul(rel_free, r, pull, value=-1, out=out.r_dot)  # − λ n (1/m + 1/m_p)

    def _rk4(self, rate_term: Tensor, accel_ext: Tensor, scale: Tensor) -> None:
        """One RK4 substep of ``self._x`` in place, the motor commands held over it."""
        x, stage, (k1, k2, k3, k4), h = self._rows, self._stage_rows, self._slopes, self.dt_sim
        f_cmd_rate = self._motor_commands(x, rate_term)
        self._derivative(x, k1, f_cmd_rate, accel_ext, scale)
        torch.add(x.all, k1.all, alpha=h / 2, out=stage.all)
        self._derivative(stage, k2, f_cmd_rate, accel_ext, scale)
        torch.add(x.all, k2.all, alpha=h / 2, out=stage.all)
        self._derivative(stage, k3, f_cmd_rate, accel_ext, scale)
        torch.add(x.all, k3.all, alpha=h, out=stage.all)
        self._derivative(stage, k4, f_cmd_rate, accel_ext, scale)
        k1.all.add_(k2.all.add_(k3.all), alpha=2).add_(k4.all)
        x.all.add_(k1.all, alpha=h / 6)
        t = self._tmp
        torch.sum(torch.mul(x.q, x.q, out=t.q_squared), 0, out=t.q_scale)
        x.q.mul_(t.q_scale.rsqrt_())
        if isinstance(self.payload, RopePayload):
            self._project_rope(x)

    def _project_rope(self, x: _Rows) -> None:
        """Pull a stretched rope back to ℓ; remove a taut rope's outward relative velocity
        ``Δ`` by an inelastic impulse: ``ṙ −= Δ``, ``v += Δ·m_p/(m + m_p)`` (momentum kept)."""
        length, r, r_dot = self.payload.length, x.r, x.r_dot
        dist = (r * r).sum(0).clamp(min=1e-24).sqrt()
        r.mul_((length / dist).clamp(max=1))
        taut = dist >= length * (1 - ROPE_SLACK_TOL)
        outward = (r_dot * r).sum(0).clamp(min=0) * taut / (r * r).sum(0).clamp(min=1e-12)
        r_dot.addcmul_(r, outward, value=-1)
        x.v.addcmul_(r, outward * self._rope_share)

    def _divergence_reasons(self, diverged: Tensor) -> dict[int, str]:
        """Why each env in ``diverged`` (N,) did: its non-finite state components, else the
        limits it crossed; ``{env index: reason}``."""
        labels = [_DIVERGENCE_LABELS[name] for name, _ in self._field_sizes]
        sizes = [size for _, size in self._field_sizes]
        non_finite = torch.stack([(~torch.isfinite(part)).any(0) for part in self._x.split(sizes)])
        p_norm, w_norm = self._x[0:3].norm(dim=0), self._x[10:13].norm(dim=0)
        reasons = {}
        for env in diverged.nonzero().flatten().tolist():
            flags = non_finite[:, env].tolist()
            parts = [label for label, bad in zip(labels, flags, strict=True) if bad]
            if parts:
                reasons[env] = "non-finite " + ", ".join(parts)
                continue
            if p_norm[env] > POSITION_LIMIT:
                parts.append(f"‖p‖ = {p_norm[env]:.4g} m > {POSITION_LIMIT:g} m")
            if w_norm[env] > RATE_LIMIT:
                parts.append(f"‖ω‖ = {w_norm[env]:.4g} rad/s > {RATE_LIMIT:g} rad/s")
            reasons[env] = "; ".join(parts)
        return reasons

    def _diverged(self) -> Tensor:
        """Non-finite state (a NaN or ±inf anywhere makes the column sum non-finite), or
        ``‖p‖ > 100 m``, or ``‖ω‖ > 100 rad/s``; (N,) bool."""
        x = self._x
        p, w = x[0:3], x[10:13]
        far = (p * p).sum(0) > POSITION_LIMIT**2
        spinning = (w * w).sum(0) > RATE_LIMIT**2
        return ~torch.isfinite(x.sum(0)) | far | spinning

    def observe(self) -> dict[str, Tensor]:
        """The state dict that ``reset`` and ``step`` return, for the current state: ``p, v,
        q, omega, thrust`` (and ``rope_r, rope_rdot``), ``wind``, ``mass``, ``time``."""
        out = dict(vars(self.state))
        if out["rope_r"] is None:
            del out["rope_r"], out["rope_rdot"]
        out.update(wind=self.wind.clone(), mass=self._true_mass(), time=self.time)
        if self.reference is not None:
            out["reference"] = self.reference(out["time"])
        return out
