"""Closed-loop tracking evaluation of quadrotor controllers.

``rollout(env, controller, trajectory, seconds)`` resets ``env``, then puts every env on the
reference: ``p ← p_d(0)``, ``v ← v_d(0)`` (level attitude, zero body rates, motors at hover
thrust, as after a reset), so tracking starts without an initial offset. Each 50 Hz step asks
``controller.act(state, ref)`` (or ``controller(state, ref)``) for an action with
``ref = trajectory(state["time"])``, steps the env and measures the position error against the
reference at the new time, ``e = p − p_d`` [m].

* ``Rollout.rmse(settle)`` per env: ``sqrt(mean_t ‖e_t‖²)`` over the steps at
  ``t > settle`` (default 1 s: the transient from a level start onto a moving reference,
  e.g. the circle's 4.9 m/s² centripetal acceleration, is left out). :func:`tracking_rmse` is
  that protocol, for these rollouts and for ``policies.evaluate``.
* ``Rollout.crashed`` (N,) bool: ``‖e‖ > CRASH_DISTANCE`` (5 m) at some step, the task's
  termination condition, or the simulator reported the env diverged (it then resets that env,
  which would otherwise hide the failure).
* ``tracking_table`` summarizes several rollouts: mean ± std of the RMSE over the envs that did
  not crash, and the crash rate.

``wind``: ``None`` keeps the env's own (zero, or random when the env has ``wind=True``);
otherwise a world-frame acceleration [m/s²], (3,) or (N, 3), set after the reset. It stays
constant unless the env has random wind enabled, in which case it random-walks from there.

``Rollout.diverged_reason`` keeps, per env index, why the simulator first reported it diverged
(``QuadrotorEnv``'s ``info["diverged_reason"]``). Arguments are checked before the env is
touched: ``seconds`` at least one control step, a finite ``wind`` of shape (3,) or (N, 3), a
callable ``trajectory`` and ``controller``; ``settle`` must leave some steps in the window.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
from torch import Tensor

from toolkit._checks import check_number, describe
from toolkit.control.quadrotor import DT_CONTROL, QuadrotorEnv
from toolkit.control.task import CRASH_DISTANCE

SETTLE_TIME = 1.0  # s, start of the RMSE window of a rollout


@dataclass
class Rollout:
    """One closed-loop run; (T, N, ·) histories are ``None`` unless recorded.

    ``time`` (T,) [s] at which each error was measured; ``error_norm`` (T, N) [m];
    ``crashed`` (N,); ``diverged_reason``, {env index: why the simulator first reported it
    diverged}; ``position``, ``reference``, ``error`` (T, N, 3) [m]; ``action`` (T, N, 4), the
    controller's output before the env's clipping.
    """

    time: Tensor
    error_norm: Tensor
    crashed: Tensor
    diverged_reason: dict[int, str] = dataclasses.field(default_factory=dict)
    position: Tensor | None = None
    reference: Tensor | None = None
    error: Tensor | None = None
    action: Tensor | None = None

    def rmse(self, settle: float = SETTLE_TIME) -> Tensor:
        """Per-env RMS of ``‖p − p_d‖`` [m] over ``t > settle`` [s], (N,)."""
        return tracking_rmse(self.error_norm.square(), self.time, settle)


def tracking_rmse(
    squared_error: Tensor,
    time: Tensor,
    settle: float = SETTLE_TIME,
    *,
    counted: Tensor | None = None,
) -> Tensor:
    """Root-mean-square position error [m] over the steps at ``t > settle`` [s].

    ``squared_error`` (T, N) holds ``‖p − p_d‖²`` [m²] at the times ``time`` (T,) [s] since the
    start. Without ``counted``, per env (N,): ``sqrt(mean_{t > settle} ‖e_t‖²)``. With
    ``counted`` (T, N) bool, the env-steps that count (e.g. those before an env terminated),
    pooled over envs into one value: ``sqrt(Σ ‖e‖² / #counted)`` over the counted env-steps in
    the window (0 when none is counted), each step summed in the error's dtype and the total in
    float64.
    """
    settle = check_number("settle", settle, minimum=0.0)
    window = time > settle + 1e-9
    if not bool(window.any()):
        raise ValueError(f"settle={settle} s leaves no steps: the run ends at {time[-1]:.3g} s")
    if counted is None:
        return squared_error[window].mean(0).sqrt()
    rows = zip(squared_error[window], counted[window], strict=True)
    total = sum(float(row[keep].sum()) for row, keep in rows)
    return torch.tensor(math.sqrt(total / max(int(counted[window].sum()), 1)), dtype=torch.float64)


def rollout(
    env: QuadrotorEnv,
    controller,
    trajectory,
    seconds: float,
    *,
    wind: Tensor | None = None,
    record: bool = True,
) -> Rollout:
    """Fly ``controller`` along ``trajectory`` for ``seconds`` [s] in every env of ``env``
    (see the module docstring); ``controller.reset()`` is called first when it exists."""
    if not isinstance(env, QuadrotorEnv):
        raise TypeError(f"env must be a QuadrotorEnv, got {describe(env)}")
    act = getattr(controller, "act", controller)
    if not callable(act):
        raise TypeError(f"controller must have act(state, ref) or be callable, got {controller!r}")
    if not callable(trajectory):
        raise TypeError(f"trajectory must be callable t -> dict, got {describe(trajectory)}")
    steps = round(check_number("seconds", seconds, minimum=DT_CONTROL) / env.dt_control)
    if wind is not None:
        wind = _check_wind(wind, env)
    env.reset()
    if hasattr(controller, "reset"):
        controller.reset()
    start = trajectory(env.time)
    env.state = dataclasses.replace(env.state, p=start["p"], v=start["v"])
    if wind is not None:
        env.wind = wind
    state = {key: value for key, value in vars(env.state).items() if value is not None}
    state.update(wind=env.wind.clone(), time=env.time)
    crashed = torch.zeros(env.num_envs, dtype=torch.bool, device=env.device)
    reasons: dict[int, str] = {}
    history = {key: [] for key in ("time", "error_norm", "position", "reference", "action")}
    with torch.no_grad():
        for _ in range(steps):
            action = act(state, trajectory(state["time"]))
            state, info = env.step(action)
            target = trajectory(state["time"])["p"]
            norm = (state["p"] - target).norm(dim=-1)
            crashed |= (norm > CRASH_DISTANCE) | info["diverged"]
            reasons = {**info["diverged_reason"], **reasons}
            history["time"].append(env.dt_control * (len(history["time"]) + 1))
            history["error_norm"].append(norm)
            if record:
                history["position"].append(state["p"])
                history["reference"].append(target)
                history["action"].append(action)
    out = Rollout(
        time=torch.tensor(history["time"], dtype=env.dtype, device=env.device),
        error_norm=torch.stack(history["error_norm"]),
        crashed=crashed,
        diverged_reason=reasons,
    )
    if record:
        out.position = torch.stack(history["position"])
        out.reference = torch.stack(history["reference"])
        out.error = out.position - out.reference
        out.action = torch.stack(history["action"])
    return out


def _check_wind(wind, env: QuadrotorEnv) -> Tensor:
    """A finite world-frame wind acceleration (3,) or (N, 3), as an (N, 3) tensor of ``env``."""
    try:
        wind = torch.as_tensor(wind, dtype=env.dtype, device=env.device)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"wind must be a tensor (3,) or (N, 3), got {describe(wind)}") from None
    if wind.shape not in ((3,), (env.num_envs, 3)):
        raise ValueError(f"wind must be (3,) or ({env.num_envs}, 3), got {tuple(wind.shape)}")
    if not bool(torch.isfinite(wind).all()):
        raise ValueError(f"wind must be finite, got {wind.tolist()}")
    return wind.expand(env.num_envs, 3).clone()


def tracking_table(results: dict[str, Rollout], settle: float = SETTLE_TIME) -> list[dict]:
    """One row per rollout: ``name``, ``rmse_mean`` and ``rmse_std`` [m] over the envs that did
    not crash (NaN if all did), ``crash_rate`` in [0, 1], ``envs``."""
    rows = []
    for name, result in results.items():
        ok = result.rmse(settle)[~result.crashed]
        rows.append(
            {
                "name": name,
                "rmse_mean": ok.mean().item() if len(ok) else math.nan,
                "rmse_std": ok.std(unbiased=False).item() if len(ok) else math.nan,
                "crash_rate": result.crashed.float().mean().item(),
                "envs": len(result.crashed),
            }
        )
    return rows
