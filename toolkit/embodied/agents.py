"""The two agents, and episodes rolled out in batches.

* :class:`EndToEndAgent` — a small transformer over the last ``context`` observations plus a
  token for the instruction's MiniLM embedding, trained by behaviour cloning (cross-entropy on
  the expert's actions) on N demos, optionally after pretraining on demos of other tasks. It
  has no map, no parser and no planner: it sees what the environment shows (the current room).
* :class:`NeuroSymbolicAgent` — a :class:`~toolkit.embodied.grounding.GroundingParser` turns
  the instruction into a symbolic goal against the house's scene graph (the map, every
  receptacle and object: what the paper's neuro-symbolic pipeline is given too), A* plans it
  (:func:`~toolkit.embodied.planner.plan`), and the plan is executed. The demos only calibrate
  the parser. When the instruction cannot be grounded it stops at once and says why.

:func:`rollout` runs any agent on a list of episodes, all stepped as one
:class:`~toolkit.embodied.env.BatchedHouses`, and records each episode's trace.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from toolkit._checks import check_bool, check_int, check_number, describe
from toolkit._torch import intra_op_threads
from toolkit.embodied.env import OBS_DIM, BatchedHouses
from toolkit.embodied.grounding import GroundingParser, Parse
from toolkit.embodied.planner import Demo, plan
from toolkit.embodied.tasks import Episode, ImpossibleTask
from toolkit.embodied.world import N_ACTIONS
from toolkit.seeding import generator

__all__ = [
    "STOP",
    "BCConfig",
    "EndToEndAgent",
    "EpisodeResult",
    "NeuroSymbolicAgent",
    "PolicyNet",
    "demo_observations",
    "rollout",
]


STOP = -1
"""What an agent returns to end its episode (unsuccessfully, unless the goal is already met)."""


@dataclass(frozen=True)
class BCConfig:
    """Behaviour cloning: model size, context length and optimisation.

    ``steps`` gradient steps of ``batch_size`` (state, action) pairs drawn from all demos;
    ``pretrain_steps`` on the pretraining demos first, when there are any.
    """

    d_model: int = 64
    layers: int = 2
    heads: int = 4
    context: int = 6
    dropout: float = 0.1
    lr: float = 2e-3
    weight_decay: float = 1e-4
    batch_size: int = 128
    steps: int = 1500
    pretrain_steps: int = 1500
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("d_model", "layers", "heads", "context", "batch_size"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("steps", self.steps, minimum=0)
        check_int("pretrain_steps", self.pretrain_steps, minimum=0)
        check_number("lr", self.lr, minimum=0, strict_min=True)
        check_number("dropout", self.dropout, minimum=0, maximum=1)
        check_number("weight_decay", self.weight_decay, minimum=0)
        check_int("seed", self.seed, minimum=0)
        if self.d_model % self.heads:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of heads ({self.heads})")


class PolicyNet(nn.Module):
    """Instruction token + the last ``context`` observation tokens → a transformer encoder →
    action logits read at the newest observation."""

    def __init__(self, config: BCConfig, obs_dim: int = OBS_DIM, instr_dim: int = 384) -> None:
        super().__init__()
        d = config.d_model
        self.context = config.context
        self.obs_in = nn.Linear(obs_dim, d)
        self.instr_in = nn.Linear(instr_dim, d)
        self.position = nn.Parameter(torch.zeros(config.context + 1, d))
        layer = nn.TransformerEncoderLayer(d, config.heads, 2 * d, config.dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, N_ACTIONS)

    def forward(self, obs: torch.Tensor, pad: torch.Tensor, instr: torch.Tensor) -> torch.Tensor:
        """``obs (B, K, D)`` oldest first, ``pad (B, K)`` True where there is no observation
        (the newest, last, is always there), ``instr (B, 384)`` → logits ``(B, N_ACTIONS)``."""
        tokens = torch.cat([self.instr_in(instr)[:, None], self.obs_in(obs)], dim=1)
        tokens = tokens + self.position[None, : tokens.shape[1]]
        mask = torch.cat([torch.zeros_like(pad[:, :1]), pad], dim=1)
        return self.head(self.encoder(tokens, src_key_padding_mask=mask)[:, -1])


def _check_demos(name: str, demos: object) -> list[Demo]:
    """A list of :class:`Demo` (errors name the entry)."""
    if isinstance(demos, str | Demo) or not isinstance(demos, Sequence):
        raise TypeError(f"{name} must be a list of Demo, got {describe(demos)}")
    for i, d in enumerate(demos):
        if not isinstance(d, Demo):
            raise TypeError(f"{name}[{i}] must be a Demo, got {describe(d)}")
    return list(demos)


def demo_observations(demos: Sequence[Demo]) -> list[np.ndarray]:
    """The observation before each action of each demo (replayed in one batch):
    ``(len(actions), OBS_DIM)`` per demo."""
    demos = _check_demos("demos", demos)
    if not demos:
        return []
    batch = BatchedHouses(
        [d.episode for d in demos], max_steps=max(len(d.actions) for d in demos) + 1
    )
    obs = batch.observe()
    out = [[] for _ in demos]
    for t in range(max(len(d.actions) for d in demos)):
        actions = np.array([d.actions[t] if t < len(d.actions) else 0 for d in demos])
        for i, d in enumerate(demos):
            if t < len(d.actions):
                out[i].append(obs[i])
        obs = batch.step(actions)[0]
    return [np.stack(o) for o in out]


def _windows(
    observations: list[np.ndarray], context: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every step's last ``context`` observations (left-padded), pad mask and demo index."""
    obs, pad, owner = [], [], []
    for i, seq in enumerate(observations):
        padded = np.concatenate([np.zeros((context - 1, seq.shape[1]), np.float32), seq])
        for t in range(len(seq)):
            obs.append(padded[t : t + context])
            pad.append(np.arange(context) < context - 1 - t)
            owner.append(i)
    return np.stack(obs), np.stack(pad), np.array(owner)


@dataclass
class _History:
    obs: np.ndarray  # (E, K, D)
    pad: np.ndarray  # (E, K)


class EndToEndAgent:
    """Behaviour cloning of the expert (module docstring).

    Args:
        embed: ``texts -> (N, 384)`` unit vectors (an ``EmbeddingCache`` over MiniLM).
        config: a :class:`BCConfig`.
        greedy: act with the most likely action instead of sampling one (seeded).
    """

    name = "end-to-end"

    def __init__(self, embed, config: BCConfig | None = None, *, greedy: bool = False) -> None:
        if not callable(embed):
            raise TypeError(f"embed must be callable (an EmbeddingCache), got {describe(embed)}")
        self.embed = embed
        self.config = BCConfig() if config is None else config
        if not isinstance(self.config, BCConfig):
            raise TypeError(f"config must be a BCConfig, got {describe(config)}")
        torch.manual_seed(self.config.seed)
        self.net = PolicyNet(self.config)
        self.greedy = check_bool("greedy", greedy)
        self.history: _History | None = None
        self.log: dict = {"losses": [], "seconds": 0.0}

    def _train(self, demos: Sequence[Demo], steps: int, name: str) -> list[float]:
        c = self.config
        if not demos or not steps:
            return []
        obs, pad, owner = _windows(demo_observations(demos), c.context)
        actions = np.concatenate([np.array(d.actions) for d in demos])
        instr = self.embed([d.episode.task.instruction for d in demos])[owner]
        obs, pad = torch.from_numpy(obs), torch.from_numpy(pad)
        instr, actions = torch.from_numpy(np.asarray(instr)), torch.from_numpy(actions)
        gen = generator(c.seed, f"embodied-bc:{name}")
        opt = torch.optim.AdamW(self.net.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        schedule = torch.optim.lr_scheduler.OneCycleLR(opt, c.lr, total_steps=steps)
        self.net.train()
        losses = []
        for _ in range(steps):
            idx = torch.randint(len(actions), (c.batch_size,), generator=gen)
            loss = nn.functional.cross_entropy(
                self.net(obs[idx], pad[idx], instr[idx]), actions[idx]
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
            losses.append(float(loss.detach()))
        self.net.eval()
        return losses

    def fit(self, demos: Sequence[Demo], pretrain: Sequence[Demo] = ()) -> EndToEndAgent:
        """Pretrain on ``pretrain`` (if any), then clone ``demos``; ``log`` keeps the losses and
        the wall time."""
        demos, pretrain = _check_demos("demos", demos), _check_demos("pretrain", pretrain)
        start = time.perf_counter()
        torch.manual_seed(self.config.seed)
        with intra_op_threads(1):
            self.log["pretrain_losses"] = self._train(
                list(pretrain), self.config.pretrain_steps, "pre"
            )
            self.log["losses"] = self._train(list(demos), self.config.steps, "bc")
        self.log["seconds"] = time.perf_counter() - start
        self.log["demos"] = len(demos)
        return self

    def begin(self, episodes: Sequence[Episode]) -> None:
        """Get ready for a batch of episodes (embed their instructions, clear the history)."""
        self._instr = torch.from_numpy(
            np.asarray(self.embed([e.task.instruction for e in episodes]))
        )
        K = self.config.context
        self._gen = generator(self.config.seed, "embodied-act")
        self.history = _History(
            np.zeros((len(episodes), K, OBS_DIM), np.float32), np.ones((len(episodes), K), bool)
        )

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        """The next action of every episode, drawn from the policy (``greedy``: the most likely
        one; a greedy policy that walks into a wall sees the same room again and repeats it
        for ever)."""
        h = self.history
        h.obs = np.concatenate([h.obs[:, 1:], obs[:, None].astype(np.float32)], axis=1)
        h.pad = np.concatenate([h.pad[:, 1:], np.zeros((len(obs), 1), bool)], axis=1)
        with intra_op_threads(1):
            logits = self.net(torch.from_numpy(h.obs), torch.from_numpy(h.pad), self._instr)
        if self.greedy:
            return logits.argmax(1).numpy()
        return torch.multinomial(logits.softmax(1), 1, generator=self._gen)[:, 0].numpy()


class NeuroSymbolicAgent:
    """Parse, plan, execute (module docstring).

    Args:
        parser: a :class:`GroundingParser` (calibrate it with :meth:`fit`).
    """

    name = "neuro-symbolic"

    def __init__(self, parser: GroundingParser) -> None:
        if not isinstance(parser, GroundingParser):
            raise TypeError(f"parser must be a GroundingParser, got {describe(parser)}")
        self.parser = parser
        self.parses: list[Parse] = []
        self.log: dict = {"seconds": 0.0}

    def fit(self, demos: Sequence[Demo]) -> NeuroSymbolicAgent:
        """Calibrate the parser on the demos' instructions and goals (the actions are unused)."""
        demos = _check_demos("demos", demos)
        start = time.perf_counter()
        eps = [d.episode for d in demos]
        if eps:
            self.parser.calibrate(
                [e.task.instruction for e in eps],
                [e.task.goal for e in eps],
                [e.house for e in eps],
            )
        self.log = {"seconds": time.perf_counter() - start, "demos": len(demos)}
        return self

    def begin(self, episodes: Sequence[Episode]) -> None:
        """Parse every instruction and plan every goal."""
        self.parses, self.plans, self.plan_errors = [], [], []
        for e in episodes:
            parsed = self.parser.parse(e.task.instruction, e.house)
            self.parses.append(parsed)
            actions, error = [], ""
            if parsed.ok:
                try:
                    actions = plan(e.house, parsed.goal)
                except ImpossibleTask as err:
                    error = str(err)
            self.plans.append(actions)
            self.plan_errors.append(error)
        self._t = 0

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The next action of each plan; :data:`STOP` when a plan is used up or missing."""
        t = self._t
        self._t += 1
        return np.array([p[t] if t < len(p) else STOP for p in self.plans])


@dataclass
class EpisodeResult:
    """What happened in one episode: ``success``, ``steps``, refused actions (``invalid``),
    whether the agent ``stopped`` itself, and the trace (``tiles``: the agent's tile before
    every action and after the last; ``held``: the held object likewise; ``actions``)."""

    success: bool
    steps: int
    invalid: int
    stopped: bool
    actions: list[int] = field(default_factory=list)
    tiles: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)


def _agent_actions(raw: object, n: int) -> np.ndarray:
    """An agent's actions as ``n`` ints; a NaN, infinite or fractional action becomes an
    unknown one (the environment refuses and counts it), a wrong count or type is an error."""
    a = np.asarray(raw)
    if a.shape != (n,):
        raise ValueError(f"agent.act must return {n} actions, got shape {a.shape}")
    if a.dtype.kind == "f":
        whole = np.isfinite(a) & (a == np.round(a)) & (np.abs(a) < 2**62)
        return np.where(whole, np.where(whole, a, 0).astype(np.int64), N_ACTIONS)
    if a.dtype.kind not in "iu":
        raise TypeError(f"agent.act must return ints, got {describe(raw)}")
    return a.astype(np.int64)


def rollout(agent, episodes: Sequence[Episode], *, max_steps: int = 60) -> list[EpisodeResult]:
    """Run ``agent`` (``begin(episodes)``, then ``act(observations)`` each step) on
    ``episodes`` as one batch; one :class:`EpisodeResult` each."""
    for method in ("begin", "act"):
        if not callable(getattr(agent, method, None)):
            raise TypeError(f"agent must have begin() and act() methods, got {describe(agent)}")
    if not episodes:
        return []
    batch = BatchedHouses(list(episodes), max_steps=max_steps)
    obs = batch.observe()
    agent.begin(episodes)
    E = len(episodes)
    stopped = np.zeros(E, bool)
    actions = [[] for _ in range(E)]
    tiles = [[int(p)] for p in batch.pos]
    held = [[int(h)] for h in batch.held]
    while not batch.done.all():
        act = _agent_actions(agent.act(obs), E)
        stop = (act == STOP) & ~batch.done
        stopped |= stop
        batch.halt(stop)
        live = ~batch.done
        obs = batch.step(np.where(live, act, 0))[0]
        for e in np.flatnonzero(live):
            actions[e].append(int(act[e]))
            tiles[e].append(int(batch.pos[e]))
            held[e].append(int(batch.held[e]))
    return [
        EpisodeResult(
            bool(batch.success[e]),
            int(batch.steps[e]),
            int(batch.invalid[e]),
            bool(stopped[e]),
            actions[e],
            tiles[e],
            held[e],
        )
        for e in range(E)
    ]
