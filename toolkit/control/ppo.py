"""Proximal Policy Optimization for ``TrackingTask``, in one file to be read top to bottom.

Setting (Gao et al., arXiv 2411.13079; docs/methods/neural_imc.md#ppo): N envs step
together; every iteration collects a rollout of T steps, then runs ``epochs`` passes of
``minibatches`` gradient steps. The actor ``π_θ(a|o) = N(μ_θ(o), diag σ²)`` (MLP 128×3 tanh,
state-independent ``log σ``) sees
the actor observation ``o``; the asymmetric critic ``V_φ(c)`` (MLP 128×3 tanh) sees the
privileged critic observation ``c``. Both inputs are normalized by running mean and variance,
``(x − μ̄)/√(σ̄² + 10⁻⁸)`` clipped to ±``obs_clip``; the statistics are part of the policy.

Generalized advantage estimation with terminations ``d^term_t`` and truncations
``d^trunc_t`` kept apart (a truncated episode did not end, so its value is bootstrapped from
the final state ``s^final_{t+1}`` the task reports before resetting):

    V⁺_t = V(s^final_{t+1}) if d^trunc_t else V(s_{t+1})
    δ_t  = r_t + γ·(1 − d^term_t)·V⁺_t − V(s_t)
    Â_t  = δ_t + γλ·(1 − d^term_t)·(1 − d^trunc_t)·Â_{t+1},      R̂_t = Â_t + V(s_t)

Losses on a minibatch, with ``ρ = exp(log π_θ(a|o) − log π_old(a|o))`` and the advantages
normalized to zero mean and unit variance within it:

    L_clip = −mean(min(ρ·Â, clip(ρ, 1 − ε, 1 + ε)·Â))
    L_V    = ½·mean((V_φ(c) − R̂)²)
    L      = L_clip + c_V·L_V − c_H·H[π_θ]

with the gradient norm clipped to ``max_grad_norm``. The defaults of ``PPOConfig`` are the
paper's (1024 envs, rollout 128, 5 epochs, ε 0.2, γ 0.97, λ 0.95, lr 5e-4, MLP 128×3 tanh);
minibatches 4, c_V 0.5, c_H 10⁻³, initial σ 0.3 and the total step budget are this toolkit's
choices (the paper does not state them).

``save`` writes a policy atomically (temp file, fsync, rename) with a SHA-256 digest of its
weights and config; ``load`` refuses a truncated, corrupted or mismatched file with
``PolicyFileError``; it refuses to write a policy whose weights or normalizer statistics are
not finite, so a diverged run never replaces a good file.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from toolkit._checks import check_int, check_number, check_probability, describe

FORMAT = "toolkit.control.ppo/1"


@dataclass(frozen=True)
class PPOConfig:
    """PPO hyperparameters; ``total_steps`` counts env transitions (envs × steps).

    Checked when built (``TypeError``/``ValueError`` naming the field): counts are positive
    ints, ``minibatches`` divides ``num_envs × rollout_steps``, ``total_steps`` covers one
    iteration, ``0 < clip < 1``, ``gamma`` and ``gae_lambda`` in [0, 1], ``lr``,
    ``max_grad_norm``, ``init_std``, ``obs_clip`` > 0, the loss coefficients ≥ 0.
    """

    num_envs: int = 1024
    rollout_steps: int = 128
    epochs: int = 5
    minibatches: int = 4
    clip: float = 0.2
    gamma: float = 0.97
    gae_lambda: float = 0.95
    lr: float = 5e-4
    entropy_coef: float = 1e-3
    value_coef: float = 0.5
    max_grad_norm: float = 1.0
    total_steps: int = 50_000_000
    hidden: tuple[int, ...] = (128, 128, 128)
    init_std: float = 0.3
    obs_clip: float = 10.0

    def __post_init__(self) -> None:
        for name in ("num_envs", "rollout_steps", "epochs", "minibatches", "total_steps"):
            check_int(f"PPOConfig.{name}", getattr(self, name), minimum=1)
        batch = self.num_envs * self.rollout_steps
        if batch % self.minibatches:
            raise ValueError(
                f"PPOConfig.minibatches={self.minibatches} must divide num_envs × rollout_steps "
                f"= {batch}"
            )
        if self.total_steps < batch:
            raise ValueError(
                f"PPOConfig.total_steps={self.total_steps} is less than one iteration "
                f"(num_envs × rollout_steps = {batch})"
            )
        check_number("PPOConfig.clip", self.clip, minimum=0.0, strict_min=True, maximum=1.0)
        for name in ("gamma", "gae_lambda"):
            check_probability(f"PPOConfig.{name}", getattr(self, name))
        for name in ("lr", "max_grad_norm", "init_std", "obs_clip"):
            check_number(f"PPOConfig.{name}", getattr(self, name), minimum=0.0, strict_min=True)
        for name in ("entropy_coef", "value_coef"):
            check_number(f"PPOConfig.{name}", getattr(self, name), minimum=0.0)
        _check_hidden("PPOConfig.hidden", self.hidden)

    def to_dict(self) -> dict:
        return {**asdict(self), "hidden": list(self.hidden)}

    @classmethod
    def from_dict(cls, values: dict) -> PPOConfig:
        return cls(**{**values, "hidden": tuple(values["hidden"])})


def _check_hidden(name: str, hidden: object) -> tuple[int, ...]:
    """Hidden layer widths: a tuple or list of positive ints."""
    if not isinstance(hidden, tuple | list):
        raise TypeError(f"{name} must be a tuple of layer widths, got {describe(hidden)}")
    return tuple(check_int(f"{name}[{i}]", width, minimum=1) for i, width in enumerate(hidden))


# ---------------------------------------------------------------------- the networks


class RunningNorm(nn.Module):
    """Running mean and variance of inputs (N, D), merged batch by batch (Chan et al.)."""

    def __init__(self, dim: int, clip: float = 10.0, eps: float = 1e-8):
        super().__init__()
        self.clip, self.eps = clip, eps
        self.register_buffer("mean", torch.zeros(dim, dtype=torch.float64))
        self.register_buffer("var", torch.ones(dim, dtype=torch.float64))
        self.register_buffer("count", torch.tensor(0.0, dtype=torch.float64))

    @torch.no_grad()
    def update(self, x: Tensor) -> None:
        x = x.to(self.mean)
        batch_mean, batch_var, n = x.mean(0), x.var(0, unbiased=False), x.shape[0]
        total = self.count + n
        delta = batch_mean - self.mean
        m2 = self.var * self.count + batch_var * n + delta.square() * self.count * n / total
        self.mean += delta * n / total
        self.var.copy_(m2 / total)
        self.count.copy_(total)

    def forward(self, x: Tensor) -> Tensor:
        z = (x - self.mean.to(x)) / torch.sqrt(self.var.to(x) + self.eps)
        return z.clamp(-self.clip, self.clip)


def mlp(sizes: list[int], out_gain: float) -> nn.Sequential:
    """Linear layers of ``sizes`` with tanh between them; orthogonal init (gain √2 inside,
    ``out_gain`` on the last layer), zero biases."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        last = i == len(sizes) - 2
        linear = nn.Linear(n_in, n_out)
        nn.init.orthogonal_(linear.weight, out_gain if last else math.sqrt(2))
        nn.init.zeros_(linear.bias)
        layers += [linear] if last else [linear, nn.Tanh()]
    return nn.Sequential(*layers)


class Policy(nn.Module):
    """Actor, critic and both observation normalizers; ``meta`` is a JSON-able dict saved
    alongside (what it was trained on, e.g. the task's ``obs_mode``)."""

    def __init__(
        self,
        obs_dim: int,
        critic_dim: int,
        act_dim: int = 4,
        *,
        hidden: tuple[int, ...] = (128, 128, 128),
        init_std: float = 0.3,
        obs_clip: float = 10.0,
        meta: dict | None = None,
    ):
        super().__init__()
        self.obs_dim = check_int("obs_dim", obs_dim, minimum=1)
        self.critic_dim = check_int("critic_dim", critic_dim, minimum=1)
        self.act_dim = check_int("act_dim", act_dim, minimum=1)
        self.hidden = _check_hidden("hidden", hidden)
        self.init_std = check_number("init_std", init_std, minimum=0.0, strict_min=True)
        self.obs_clip = check_number("obs_clip", obs_clip, minimum=0.0, strict_min=True)
        if meta is not None and not isinstance(meta, dict):
            raise TypeError(f"meta must be a dict or None, got {describe(meta)}")
        self.meta = dict(meta or {})
        self.obs_norm = RunningNorm(obs_dim, obs_clip)
        self.critic_norm = RunningNorm(critic_dim, obs_clip)
        self.actor = mlp([obs_dim, *hidden, act_dim], out_gain=0.01)
        self.critic = mlp([critic_dim, *hidden, 1], out_gain=1.0)
        self.log_std = nn.Parameter(torch.full((act_dim,), math.log(init_std)))

    def spec(self) -> dict:
        """Everything needed to rebuild this module before loading its weights."""
        return {
            "obs_dim": self.obs_dim,
            "critic_dim": self.critic_dim,
            "act_dim": self.act_dim,
            "hidden": list(self.hidden),
            "init_std": self.init_std,
            "obs_clip": self.obs_clip,
            "meta": self.meta,
        }

    def distribution(self, norm_obs: Tensor) -> torch.distributions.Normal:
        """``π(·|o)`` from a normalized observation; actions are (…, act_dim), unclipped."""
        return torch.distributions.Normal(self.actor(norm_obs), self.log_std.exp())

    def value(self, norm_critic_obs: Tensor) -> Tensor:
        """``V(c)`` (…,) from a normalized critic observation."""
        return self.critic(norm_critic_obs).squeeze(-1)

    @torch.no_grad()
    def act(
        self, obs: Tensor, deterministic: bool = True, generator: torch.Generator | None = None
    ) -> Tensor:
        """Action (N, act_dim) in [−1, 1] for raw observations (N, obs_dim): the mean, or a
        sample from ``π`` when ``deterministic=False``."""
        if not isinstance(obs, Tensor):
            raise TypeError(f"obs must be a tensor, got {describe(obs)}")
        if obs.dim() == 0 or obs.shape[-1] != self.obs_dim:
            raise ValueError(f"obs must be (N, {self.obs_dim}), got {tuple(obs.shape)}")
        mean = self.actor(self.obs_norm(obs))
        if not deterministic:
            noise = torch.randn(mean.shape, generator=generator, device=mean.device)
            mean = mean + self.log_std.exp() * noise
        return mean.clamp(-1, 1)


# ---------------------------------------------------------------------- the estimators


def gae(
    rewards: Tensor,
    values: Tensor,
    next_values: Tensor,
    terminated: Tensor,
    truncated: Tensor,
    gamma: float,
    lam: float,
) -> tuple[Tensor, Tensor]:
    """Advantages and returns (T, N) by GAE (module docstring).

    ``values[t] = V(s_t)``; ``next_values[t]`` is ``V⁺_t``: the value of the state after step
    ``t`` — of ``s^final`` where the episode was truncated, anything where it terminated.
    """
    not_terminated = 1.0 - terminated.to(rewards)
    continues = not_terminated * (1.0 - truncated.to(rewards))
    deltas = rewards + gamma * not_terminated * next_values - values
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        running = deltas[t] + gamma * lam * continues[t] * running
        advantages[t] = running
    return advantages, advantages + values


def clipped_surrogate(new_logp: Tensor, old_logp: Tensor, advantages: Tensor, clip: float):
    """``L_clip = −mean(min(ρÂ, clip(ρ, 1 − ε, 1 + ε)Â))`` and the fraction of clipped ratios."""
    ratio = torch.exp(new_logp - old_logp)
    unclipped = ratio * advantages
    clipped = ratio.clamp(1 - clip, 1 + clip) * advantages
    clip_fraction = ((ratio - 1).abs() > clip).float().mean()
    return -torch.min(unclipped, clipped).mean(), clip_fraction


# ---------------------------------------------------------------------- training


def update(
    policy: Policy,
    optimizer: torch.optim.Optimizer,
    flat: dict[str, Tensor],
    config: PPOConfig,
    generator: torch.Generator,
) -> dict[str, float]:
    """``config.epochs`` passes over the rollout ``flat`` (normalized ``obs`` and ``critic``
    observations, ``action``, old ``logp``, ``advantage``, ``return``; one row per transition)
    in ``config.minibatches`` shuffled minibatches; returns the mean ``policy_loss``,
    ``value_loss``, ``entropy``, ``approx_kl`` (the k3 estimator ``(ρ − 1) − log ρ``) and
    ``clip_fraction``."""
    batch = flat["logp"].shape[0]
    size = batch // config.minibatches
    sums = dict.fromkeys(
        ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"), 0.0
    )
    for _ in range(config.epochs):
        order = torch.randperm(batch, generator=generator, device=flat["logp"].device)
        for start in range(0, batch, size):
            idx = order[start : start + size]
            dist = policy.distribution(flat["obs"][idx])
            new_logp = dist.log_prob(flat["action"][idx]).sum(-1)
            adv = flat["advantage"][idx]
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            policy_loss, clip_fraction = clipped_surrogate(
                new_logp, flat["logp"][idx], adv, config.clip
            )
            value_error = policy.value(flat["critic"][idx]) - flat["return"][idx]
            value_loss = 0.5 * value_error.square().mean()
            entropy = dist.entropy().sum(-1).mean()
            loss = policy_loss + config.value_coef * value_loss - config.entropy_coef * entropy
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(policy.parameters(), config.max_grad_norm)
            optimizer.step()
            log_ratio = (new_logp - flat["logp"][idx]).detach()
            approx_kl = (log_ratio.exp() - 1) - log_ratio
            values = (policy_loss, value_loss, entropy, approx_kl.mean(), clip_fraction)
            for key, value in zip(sums, values, strict=True):
                sums[key] += float(value.detach())
    return {key: value / (config.epochs * config.minibatches) for key, value in sums.items()}


def train(
    task,
    config: PPOConfig = PPOConfig(),
    *,
    seed: int = 0,
    progress: bool = True,
    callback: Callable[[dict, Policy], bool | None] | None = None,
) -> tuple[Policy, dict[str, list]]:
    """Train a ``Policy`` on ``task`` for ``config.total_steps`` env transitions.

    ``task`` is a ``TrackingTask``-like object (``reset``, ``step``, ``obs_dim``,
    ``critic_dim``, ``act_dim``, ``num_envs``) or a factory ``task(num_envs=..., seed=...)``
    that makes one with ``config.num_envs`` envs. ``seed`` fixes the initial weights and the
    action noise (the global torch RNG is left as it was). ``callback(stats, policy)`` runs
    after every iteration; returning ``True`` stops training. Returns the policy (eval mode)
    and a log of per-iteration columns: ``env_steps``, ``seconds``, ``reward`` (mean per
    step), ``episode_return`` / ``episode_length`` / ``terminated`` (means over episodes
    that ended in the iteration, NaN if none), ``p_err`` (mean ‖p_err‖ [m], if reported),
    ``policy_loss``, ``value_loss``, ``entropy``, ``approx_kl``, ``clip_fraction``,
    ``action_std``.
    """
    if not isinstance(config, PPOConfig):
        raise TypeError(f"config must be a PPOConfig, got {describe(config)}")
    seed = check_int("seed", seed, minimum=0)
    if not hasattr(task, "step"):
        if not callable(task):
            raise TypeError(f"task must be a TrackingTask or a factory, got {describe(task)}")
        task = task(num_envs=config.num_envs, seed=seed)
    n, horizon = task.num_envs, config.rollout_steps
    batch = n * horizon
    if batch % config.minibatches:
        raise ValueError(
            f"config.minibatches={config.minibatches} must divide the task's {n} envs × "
            f"{horizon} steps"
        )
    device = torch.device(getattr(task, "device", "cpu"))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        policy = Policy(
            task.obs_dim,
            task.critic_dim,
            task.act_dim,
            hidden=config.hidden,
            init_std=config.init_std,
            obs_clip=config.obs_clip,
            meta={
                "ppo": config.to_dict(),
                "seed": seed,
                "obs_mode": getattr(task, "obs_mode", None),
            },
        ).to(device)
    generator = torch.Generator(device=device).manual_seed(seed)
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.lr, eps=1e-5)

    obs_buf = torch.zeros(horizon, n, task.obs_dim, device=device)
    critic_buf = torch.zeros(horizon, n, task.critic_dim, device=device)
    action_buf = torch.zeros(horizon, n, task.act_dim, device=device)
    logp_buf, value_buf, next_value_buf, reward_buf = (
        torch.zeros(horizon, n, device=device) for _ in range(4)
    )
    terminated_buf = torch.zeros(horizon, n, dtype=torch.bool, device=device)
    truncated_buf = torch.zeros_like(terminated_buf)

    iterations = max(1, math.ceil(config.total_steps / batch))
    log: dict[str, list] = {}
    obs, critic_obs = task.reset()
    started = time.perf_counter()
    bar = tqdm(range(iterations), desc="PPO", disable=not progress, leave=False)
    for iteration in bar:
        # 1. Rollout: T steps of all N envs with the current policy.
        finished = {"episode_return": [], "episode_length": [], "terminated": []}
        p_err = []
        with torch.no_grad():
            for t in range(horizon):
                policy.obs_norm.update(obs)
                policy.critic_norm.update(critic_obs)
                obs_buf[t], critic_buf[t] = policy.obs_norm(obs), policy.critic_norm(critic_obs)
                dist = policy.distribution(obs_buf[t])
                noise = torch.randn(dist.mean.shape, generator=generator, device=device)
                action = dist.mean + dist.stddev * noise
                action_buf[t], logp_buf[t] = action, dist.log_prob(action).sum(-1)
                value_buf[t] = policy.value(critic_buf[t])
                obs, critic_obs, reward, terminated, truncated, info = task.step(
                    action.clamp(-1, 1)
                )
                reward_buf[t], terminated_buf[t], truncated_buf[t] = reward, terminated, truncated
                next_value_buf[t] = policy.value(policy.critic_norm(critic_obs))
                if bool(truncated.any()):
                    final = policy.value(policy.critic_norm(info["final_critic_obs"]))
                    next_value_buf[t] = torch.where(truncated, final, next_value_buf[t])
                done = terminated | truncated
                if bool(done.any()):
                    finished["episode_return"].append(info["episode_return"][done])
                    finished["episode_length"].append(info["episode_length"][done].float())
                    finished["terminated"].append(terminated[done].float())
                if "p_err" in info:
                    p_err.append(info["p_err"].norm(dim=-1).mean())
            advantages, returns = gae(
                reward_buf,
                value_buf,
                next_value_buf,
                terminated_buf,
                truncated_buf,
                config.gamma,
                config.gae_lambda,
            )

        # 2. Update: epochs × minibatches of the clipped surrogate, value and entropy losses.
        flat = {
            "obs": obs_buf.reshape(batch, -1),
            "critic": critic_buf.reshape(batch, -1),
            "action": action_buf.reshape(batch, -1),
            "logp": logp_buf.reshape(batch),
            "advantage": advantages.reshape(batch),
            "return": returns.reshape(batch),
        }
        losses = update(policy, optimizer, flat, config, generator)

        # 3. Log.
        stats = {
            "iteration": iteration,
            "env_steps": (iteration + 1) * batch,
            "seconds": time.perf_counter() - started,
            "reward": float(reward_buf.mean()),
            **{key: _mean(values) for key, values in finished.items()},
            "p_err": float(torch.stack(p_err).mean()) if p_err else float("nan"),
            **losses,
            "action_std": float(policy.log_std.detach().exp().mean()),
        }
        for key, value in stats.items():
            log.setdefault(key, []).append(value)
        bar.set_postfix(ret=f"{stats['episode_return']:.1f}", p_err=f"{stats['p_err']:.2f}")
        if callback is not None and callback(stats, policy):
            break
    return policy.eval(), log


def _mean(chunks: list[Tensor]) -> float:
    return float(torch.cat(chunks).mean()) if chunks else float("nan")


# ---------------------------------------------------------------------- files


class PolicyFileError(ValueError):
    """A policy file that is truncated, corrupted, of another format or inconsistent."""


def _digest(spec_json: str, state: dict[str, Tensor]) -> str:
    """SHA-256 of the spec and every tensor (name, dtype, shape, bytes) in name order."""
    digest = hashlib.sha256(spec_json.encode())
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save(policy: Policy, path: str | Path) -> Path:
    """Write ``policy`` to ``path`` atomically: into a temp file in the same directory, fsync,
    then rename over ``path``; if anything fails, ``path`` is untouched and the temp file gone.
    A policy with non-finite weights or statistics raises ``ValueError`` and writes nothing."""
    if not isinstance(policy, Policy):
        raise TypeError(f"policy must be a Policy, got {describe(policy)}")
    state = {name: tensor.detach().cpu() for name, tensor in policy.state_dict().items()}
    for name, tensor in state.items():
        if not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"policy {name} holds non-finite values; refusing to save it")
    spec_json = json.dumps(policy.spec(), sort_keys=True)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = {
        "format": FORMAT,
        "spec": spec_json,
        "state": state,
        "sha256": _digest(spec_json, state),
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            torch.save(blob, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load(path: str | Path, *, device: str | torch.device = "cpu") -> Policy:
    """Read a policy written by ``save`` (eval mode, on ``device``); raise ``PolicyFileError``
    if the file is unreadable, of another format, or its digest or shapes do not match."""
    path = Path(path)
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise PolicyFileError(
            f"{path} is not a readable policy file (truncated or corrupted?): {exc}"
        ) from exc
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        found = blob.get("format") if isinstance(blob, dict) else type(blob).__name__
        raise PolicyFileError(f"{path} is not a {FORMAT} policy file (found {found!r})")
    try:
        spec_json, state, recorded = blob["spec"], blob["state"], blob["sha256"]
        if _digest(spec_json, state) != recorded:
            raise PolicyFileError(f"{path} is corrupted: its weights do not match their SHA-256")
        spec = json.loads(spec_json)
        policy = Policy(
            spec["obs_dim"],
            spec["critic_dim"],
            spec["act_dim"],
            hidden=tuple(spec["hidden"]),
            init_std=spec["init_std"],
            obs_clip=spec["obs_clip"],
            meta=spec["meta"],
        )
        policy.load_state_dict(state, strict=True)
    except PolicyFileError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise PolicyFileError(f"{path} does not describe a consistent policy: {exc}") from exc
    return policy.to(device).eval()
