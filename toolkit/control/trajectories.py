"""Batched reference trajectories for quadrotor tracking (Gao et al., arXiv 2411.13079).

A ``Trajectory`` is called as ``traj(t)`` with ``t`` an (N,) tensor of seconds (one time per
env) and returns ``{"p", "v", "a", "j": (N, 3), "yaw": (N,)}``: position [m], velocity [m/s],
acceleration [m/s²] and jerk [m/s³] in the z-up world frame, all analytic, and the reference
yaw [rad] (constant, ``ψ̇_d = 0``). Every trajectory is at ``(0, 0, height)`` at ``t = 0``, so an
env that starts hovering there can start tracking at once.

Shapes are written in a local frame (x forward, y lateral) and turned by a per-env
``heading`` [rad] about the vertical through the start point:
``p(t) = (0, 0, height) + R_z(heading)·p_local(t)``, and likewise for the derivatives.

* ``Hover``: ``p_local ≡ 0``.
* ``Circle`` (the paper's circle: radius r = 0.5 m, period P = 2 s), counter-clockwise through
  the start point with ``ω = 2π/P``:
  ``p_local = (r sin ωt, r(1 − cos ωt), 0)``, speed ``rω`` (1.57 m/s), acceleration ``rω²``
  (4.93 m/s²) towards the centre ``(0, r, 0)``.
* ``Zigzag``: forward at ``speed`` along x while y follows a triangle wave of amplitude A and
  period P, smoothed by keeping its first ``harmonics`` odd sine terms (k = 1, 3, 5, …):
  ``y = c Σ_n (−1)ⁿ sin(k_n ωt)/k_n²`` with ``c = A/Σ_n 1/k_n²``, so the corners
  (``ωt = π/2 + mπ``) are exactly at ``±A``; the truncation keeps the velocity bounded,
  ``|ẏ| ≤ cω Σ 1/k_n``, and the acceleration, ``|ÿ| ≤ cω² · harmonics``. Defaults
  A = 0.5 m, P = 3 s, 0.5 m/s, 3 harmonics: peak speed 0.99 m/s, acceleration 5.7 m/s².
* ``Polynomial``: per env, piecewise quintic segments of ``segment_time`` seconds through
  random knots. Knot 0 is the start point at rest (v = a = 0); the last knot (at ``duration``)
  is at rest too and is held afterwards. The other knots draw, per axis and uniformly,
  position in ``±extent`` around the start point, velocity in ``±max_speed`` and acceleration
  in ``±max_accel`` (the final knot's position as well). Each segment is the quintic Hermite
  polynomial matching position, velocity and acceleration at both ends, so ``p`` is C²
  (the jerk jumps at the knots); between knots the speed and acceleration may exceed the
  knot bounds (typically by up to ~2×, for a segment that moves the whole box).

``make_trajectory(name, num_envs, generator=...)`` builds one by name; with a generator,
``circle`` and ``zigzag`` get a uniform random heading per env (without one, heading 0), and
``polynomial`` draws its knots from it (without one, from torch's global generator).

Constructors check their numbers (``TypeError`` for a wrong type, ``ValueError`` naming the
argument for a non-finite, zero or negative period, radius, …) and a call checks that ``t`` is
finite (``Polynomial``: one time per env, (N,)).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from toolkit._checks import (
    check_choice,
    check_int,
    check_number,
    check_str,
    check_vector,
    describe,
)
from toolkit._torch import check_device

TRAJECTORIES = ("hover", "circle", "zigzag", "polynomial")


class Trajectory:
    """Base: subclasses give the local-frame offset and derivatives in ``_local``.

    ``height`` [m]: start altitude; ``heading`` [rad]: float or (N,) tensor, rotation of the
    shape about z; ``yaw`` [rad]: the constant reference yaw.
    """

    def __init__(self, height: float = 1.0, heading: Tensor | float = 0.0, yaw: float = 0.0):
        self.height = check_number("height", height)
        self.heading = _check_finite("heading", heading)
        self.yaw = check_number("yaw", yaw)

    def __call__(self, t: Tensor) -> dict[str, Tensor]:
        t = _check_finite("t", t)
        if not t.is_floating_point():
            t = t.to(torch.get_default_dtype())
        heading = torch.as_tensor(self.heading, dtype=t.dtype, device=t.device)
        cos, sin = torch.cos(heading), torch.sin(heading)
        out = {}
        for key, local in zip(("p", "v", "a", "j"), self._local(t), strict=True):
            x, y, z = local.unbind(-1)
            out[key] = torch.stack([cos * x - sin * y, sin * x + cos * y, z], dim=-1)
        out["p"][..., 2] += self.height
        out["yaw"] = torch.full_like(t, self.yaw)
        return out

    def _local(self, t: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Offset from the start point, velocity, acceleration, jerk, each (N, 3)."""
        raise NotImplementedError


def _check_finite(name: str, value: object) -> Tensor | float:
    """A real number, or a real tensor of finite entries (the error names the first bad one)."""
    if not isinstance(value, Tensor):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return check_number(name, value)
        try:
            value = torch.as_tensor(value)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"{name} must be a number or a tensor, got {describe(value)}") from None
    if value.dtype == torch.bool or value.is_complex():
        raise TypeError(f"{name} must be real, got dtype {value.dtype}")
    finite = torch.isfinite(value)
    if not bool(finite.all()):
        index = tuple((~finite).nonzero()[0].tolist())
        raise ValueError(f"{name}{list(index) if index else ''} must be finite, got {value[index]}")
    return value


class Hover(Trajectory):
    """Hold ``(0, 0, height)``."""

    def __init__(self, height: float = 1.0, *, yaw: float = 0.0):
        super().__init__(height, yaw=yaw)

    def _local(self, t):
        zero = torch.zeros(*t.shape, 3, dtype=t.dtype, device=t.device)
        return zero, zero, zero, zero


class Circle(Trajectory):
    """Horizontal circle of ``radius`` [m] flown once per ``period`` [s], counter-clockwise
    from the start point (see the module docstring)."""

    def __init__(
        self,
        radius: float = 0.5,
        period: float = 2.0,
        height: float = 1.0,
        *,
        heading: Tensor | float = 0.0,
        yaw: float = 0.0,
    ):
        super().__init__(height, heading, yaw)
        self.radius = check_number("radius", radius, minimum=0.0, strict_min=True)
        self.period = check_number("period", period, minimum=0.0, strict_min=True)

    def _local(self, t):
        w, r = 2 * math.pi / self.period, self.radius
        c, s = torch.cos(w * t), torch.sin(w * t)
        zero = torch.zeros_like(t)
        return (
            torch.stack([r * s, r * (1 - c), zero], dim=-1),
            torch.stack([r * w * c, r * w * s, zero], dim=-1),
            torch.stack([-r * w**2 * s, r * w**2 * c, zero], dim=-1),
            torch.stack([-r * w**3 * c, -r * w**3 * s, zero], dim=-1),
        )


class Zigzag(Trajectory):
    """Forward at ``speed`` [m/s] while swinging ``±amplitude`` [m] sideways once per ``period``
    [s] along a triangle wave smoothed to its first ``harmonics`` odd harmonics."""

    def __init__(
        self,
        amplitude: float = 0.5,
        period: float = 3.0,
        speed: float = 0.5,
        height: float = 1.0,
        *,
        harmonics: int = 3,
        heading: Tensor | float = 0.0,
        yaw: float = 0.0,
    ):
        super().__init__(height, heading, yaw)
        self.amplitude = check_number("amplitude", amplitude, minimum=0.0, strict_min=True)
        self.period = check_number("period", period, minimum=0.0, strict_min=True)
        self.speed = check_number("speed", speed, minimum=0.0)
        self.harmonics = check_int("harmonics", harmonics, minimum=1)

    def _local(self, t):
        n = torch.arange(self.harmonics, dtype=t.dtype, device=t.device)
        k = 2 * n + 1
        sign = 1 - 2 * (n % 2)
        w = 2 * math.pi / self.period
        c = self.amplitude / (1 / k**2).sum()
        phase = w * k * t[..., None]
        sin, cos = torch.sin(phase), torch.cos(phase)
        y = c * (sign * sin / k**2).sum(-1)
        vy = c * w * (sign * cos / k).sum(-1)
        ay = -c * w**2 * (sign * sin).sum(-1)
        jy = -c * w**3 * (sign * k * cos).sum(-1)
        zero = torch.zeros_like(t)
        return (
            torch.stack([self.speed * t, y, zero], dim=-1),
            torch.stack([torch.full_like(t, self.speed), vy, zero], dim=-1),
            torch.stack([zero, ay, zero], dim=-1),
            torch.stack([zero, jy, zero], dim=-1),
        )


def _quintic_hermite(p0, v0, a0, p1, v1, a1) -> Tensor:
    """Coefficients ``c_0 … c_5`` (stacked on dim −2) of ``p(τ) = Σ c_i τⁱ`` on τ ∈ [0, 1] with
    the given end values (velocities and accelerations already in units of τ)."""
    d = p1 - p0
    return torch.stack(
        [
            p0,
            v0,
            a0 / 2,
            10 * d - 6 * v0 - 4 * v1 - (3 * a0 - a1) / 2,
            -15 * d + 8 * v0 + 7 * v1 + (3 * a0 - 2 * a1) / 2,
            6 * d - 3 * (v0 + v1) - (a0 - a1) / 2,
        ],
        dim=-2,
    )


class Polynomial(Trajectory):
    """Random C² piecewise-quintic trajectory per env (see the module docstring).

    ``num_envs``: N; ``segment_time`` [s]; ``duration`` [s], the time of the last knot
    (rounded up to whole segments);
    ``extent`` [m], per-axis half-widths of the knot box around the start point;
    ``max_speed`` [m/s] and ``max_accel`` [m/s²], per-axis bounds at the knots.
    """

    def __init__(
        self,
        num_envs: int,
        *,
        segment_time: float = 2.0,
        duration: float = 10.0,
        extent: tuple[float, float, float] = (1.0, 1.0, 0.5),
        max_speed: float = 1.0,
        max_accel: float = 2.0,
        height: float = 1.0,
        yaw: float = 0.0,
        generator: torch.Generator | None = None,
        device: str | torch.device = "cpu",
    ):
        super().__init__(height, yaw=yaw)
        num_envs = check_int("num_envs", num_envs, minimum=1)
        self.segment_time = check_number("segment_time", segment_time, minimum=0, strict_min=True)
        duration = check_number("duration", duration, minimum=0.0, strict_min=True)
        extent = check_vector("extent", extent, 3, minimum=0.0)
        max_speed = check_number("max_speed", max_speed, minimum=0.0)
        max_accel = check_number("max_accel", max_accel, minimum=0.0)
        device = check_device("device", device)
        segments = max(1, math.ceil(duration / segment_time - 1e-9))
        kw = dict(generator=generator, device=device)

        def uniform(shape, bound):
            bound = torch.as_tensor(bound, device=device)
            return (2 * torch.rand(*shape, 3, **kw) - 1) * bound

        rest = torch.zeros(num_envs, 1, 3, device=device)
        pos = torch.cat([rest, uniform((num_envs, segments), extent)], dim=1)
        vel = torch.cat([rest, uniform((num_envs, segments - 1), max_speed), rest], dim=1)
        acc = torch.cat([rest, uniform((num_envs, segments - 1), max_accel), rest], dim=1)
        vel, acc = vel * segment_time, acc * segment_time**2
        # (N, segments, 6, 3): coefficients of each segment in its normalized time τ
        self.coefficients = _quintic_hermite(
            pos[:, :-1], vel[:, :-1], acc[:, :-1], pos[:, 1:], vel[:, 1:], acc[:, 1:]
        )

    @property
    def duration(self) -> float:
        """Time of the last knot [s]; the trajectory holds still afterwards."""
        return self.coefficients.shape[1] * self.segment_time

    def _local(self, t):
        if t.shape != self.coefficients.shape[:1]:
            raise ValueError(
                f"t must hold one time per env, ({self.coefficients.shape[0]},), "
                f"got shape {tuple(t.shape)}"
            )
        coefficients = self.coefficients.to(t)
        segments = coefficients.shape[1]
        scaled = t / self.segment_time
        index = scaled.floor().clamp(0, segments - 1).long()
        tau = (scaled - index).clamp(0, 1)[:, None]
        envs = torch.arange(len(index), device=index.device)
        c = coefficients[envs, index]  # (N, 6, 3)
        powers = tau ** torch.arange(6, device=tau.device)  # τ⁰ … τ⁵, (N, 6)
        i = torch.arange(6, dtype=tau.dtype, device=tau.device)
        derivatives = [c]
        for _ in range(3):  # d/dτ Σ c_i τⁱ = Σ i c_i τⁱ⁻¹: shift the coefficients down
            shifted = derivatives[-1][:, 1:] * i[1:, None]
            derivatives.append(torch.cat([shifted, torch.zeros_like(shifted[:, :1])], dim=1))
        moving = ((scaled >= 0) & (scaled <= segments)).to(t)[:, None]  # held before/after
        return tuple(
            (d * powers[..., None]).sum(1) * (moving if order else 1) / self.segment_time**order
            for order, d in enumerate(derivatives)
        )


def make_trajectory(
    name: str,
    num_envs: int,
    *,
    generator: torch.Generator | None = None,
    device: str | torch.device = "cpu",
    **kwargs,
) -> Trajectory:
    """Trajectory ``name`` (one of ``TRAJECTORIES``) for ``num_envs`` envs; ``kwargs`` go to the
    constructor. With ``generator``, circle and zigzag headings are uniform in [0, 2π) per env;
    polynomial knots are drawn from it."""
    check_choice("trajectory", check_str("trajectory", name), TRAJECTORIES)
    num_envs = check_int("num_envs", num_envs, minimum=1)
    device = check_device("device", device)
    if name == "hover":
        return Hover(**kwargs)
    if name == "polynomial":
        return Polynomial(num_envs, generator=generator, device=device, **kwargs)
    if generator is not None:
        u = torch.rand(num_envs, generator=generator, device=device)
        kwargs.setdefault("heading", 2 * math.pi * u)
    return Circle(**kwargs) if name == "circle" else Zigzag(**kwargs)
