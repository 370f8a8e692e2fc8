"""Decentralized adversarial training with ``torch.distributed``: one process per agent.

Process ``k`` keeps only ``w_k``. At each step it runs the same
:func:`~toolkit.decentralized.training.update` as the in-process path on its own rows, and its
``combine`` exchanges parameters: an all-gather of every agent's ``ψ_ℓ`` (or ``w_{ℓ,i-1}`` for
consensus), of which agent ``k`` keeps ``Σ_ℓ a_{ℓk} (·)_ℓ`` (non-neighbours weigh 0). An
all-gather moves more than the neighbours need, but it is one collective that every backend
has; the time it takes is reported as ``comm_seconds``.

On one machine, from Python: :func:`run_distributed` (``torch.multiprocessing`` spawn, gloo on
CPU). From a terminal, on one or several machines, with ``torchrun``::

    torchrun --nproc-per-node 4 -m toolkit.decentralized.distributed --topology ring --steps 200
    torchrun --nnodes 2 --node-rank 0 --master-addr HOST --nproc-per-node 8 \\
        -m toolkit.decentralized.distributed --topology grid --eps 0 0.1 0.2 0.3 ...

Every process loads the digits itself (they ship with scikit-learn), so nothing but parameters
travels.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from toolkit._checks import check_choice, check_number
from toolkit.decentralized.attacks import ATTACKS, NORMS, Attack
from toolkit.decentralized.data import AgentData, load_digits_agents
from toolkit.decentralized.graphs import RULES, TOPOLOGIES, Network
from toolkit.decentralized.models import MODELS, StackedModel, make_model
from toolkit.decentralized.training import (
    STRATEGIES,
    Setup,
    TrainConfig,
    Trajectory,
    accuracy,
    update,
)


def _all_gather(tensor: torch.Tensor) -> torch.Tensor:
    """Every process's ``tensor`` (``1 × D``), stacked in rank order (``K × D``)."""
    parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, tensor.contiguous())
    return torch.cat(parts)


def train_agent(
    model: StackedModel, data: AgentData, network: Network | np.ndarray, config: TrainConfig
) -> Trajectory | None:
    """Train this process's agent (its rank) inside an initialized process group.

    Returns the whole network's :class:`Trajectory` on rank 0 and ``None`` elsewhere.
    """
    if not dist.is_initialized():
        raise RuntimeError("train_agent needs torch.distributed.init_process_group() first")
    setup = Setup(model, data, network, config)
    k = dist.get_rank()
    if dist.get_world_size() != len(setup.A):
        raise ValueError(
            f"the process group has {dist.get_world_size()} processes for {len(setup.A)} agents; "
            "start one process per agent"
        )
    mine = slice(k, k + 1)
    column = setup.A[:, k][None]
    keep = setup.record_steps()
    comm = 0.0

    def combine(rows: torch.Tensor) -> torch.Tensor:
        nonlocal comm
        began = time.perf_counter()
        everyone = _all_gather(rows)
        comm += time.perf_counter() - began
        return column @ everyone

    w = setup.w0[mine]
    kept = [_all_gather(w)]
    began = time.perf_counter()
    with torch.no_grad():
        for i in range(1, config.steps + 1):
            w = update(setup, w, setup.draw(), mine, combine)
            if i in keep:
                kept.append(_all_gather(w))
    seconds = time.perf_counter() - began
    if k:
        return None
    return Trajectory(config.strategy, keep, torch.stack(kept), seconds, comm)


def _worker(
    rank: int, world: int, rendezvous: str, args: tuple, out: str, timeout_s: float
) -> None:
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=rendezvous,
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=timeout_s),
    )
    try:
        trajectory = train_agent(*args)
        if rank == 0:
            torch.save(trajectory.__dict__, out)
    finally:
        dist.destroy_process_group()


def run_distributed(
    model: StackedModel,
    data: AgentData,
    network: Network | np.ndarray,
    config: TrainConfig,
    *,
    timeout_s: float = 120.0,
    start_method: str = "spawn",
) -> Trajectory:
    """:func:`~toolkit.decentralized.training.train`, but one spawned gloo process per agent.

    Raises ``TimeoutError`` (after stopping the processes) when training takes longer than
    ``timeout_s`` seconds, start-up included. ``start_method="fork"`` starts the processes in
    milliseconds instead of re-importing torch in each (seconds), but is safe only in a parent
    that has not used threads, e.g. a test process that set ``torch.set_num_threads(1)``.
    """
    check_choice("start_method", start_method, ("spawn", "fork", "forkserver"))
    timeout_s = check_number("timeout_s", timeout_s, minimum=0.0, strict_min=True)
    n_agents = Setup(model, data, network, config).A.shape[0]  # checks every argument here
    with tempfile.TemporaryDirectory(prefix="decentralized-") as folder:
        rendezvous = f"file://{Path(folder) / 'rendezvous'}"
        out = str(Path(folder) / "trajectory.pt")
        context = mp.start_processes(
            _worker,
            args=(n_agents, rendezvous, (model, data, network, config), out, timeout_s),
            nprocs=n_agents,
            join=False,
            start_method=start_method,
        )
        deadline = time.monotonic() + timeout_s
        while not context.join(timeout=max(deadline - time.monotonic(), 0.0)):
            if time.monotonic() >= deadline:
                for process in context.processes:
                    process.terminate()
                raise TimeoutError(
                    f"{n_agents} agent processes did not finish within timeout_s={timeout_s:g} s"
                )
        return Trajectory(**torch.load(out))


def main(argv: list[str] | None = None) -> int:
    """``torchrun`` entry point: one agent per process, digits split non-IID over them."""
    parser = argparse.ArgumentParser(
        prog="torchrun ... -m toolkit.decentralized.distributed", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--topology", choices=TOPOLOGIES, default="ring")
    parser.add_argument("--rule", choices=RULES, default="metropolis")
    parser.add_argument("--strategy", choices=STRATEGIES, default="diffusion")
    parser.add_argument("--model", choices=MODELS, default="logistic")
    parser.add_argument("--attack", choices=ATTACKS, default="pgd")
    parser.add_argument("--norm", choices=NORMS, default="linf")
    parser.add_argument("--eps", type=float, nargs="+", default=[0.1], help="one, or one per agent")
    parser.add_argument("--step-size", type=float, default=0.5)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--label-skew", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="rank 0 saves the trajectory here (torch.save)")
    args = parser.parse_args(argv)
    dist.init_process_group("gloo")
    try:
        n_agents = dist.get_world_size()
        data = load_digits_agents(n_agents, label_skew=args.label_skew, seed=args.seed)
        network = Network.build(args.topology, n_agents, rule=args.rule, seed=args.seed)
        config = TrainConfig(
            strategy=args.strategy,
            steps=args.steps,
            step_size=args.step_size,
            eps=args.eps[0] if len(args.eps) == 1 else args.eps,
            attack=Attack(args.attack, args.norm, steps=5),
            batch_size=args.batch_size,
            seed=args.seed,
        )
        model = make_model(args.model, data.n_features, data.n_classes)
        trajectory = train_agent(model, data, network, config)
    finally:
        dist.destroy_process_group()
    if trajectory is not None:
        clean = accuracy(model, trajectory.final, data.x_test, data.y_test)
        print(
            f"{args.strategy} on a {args.topology} of {n_agents} agents, {args.steps} steps in "
            f"{trajectory.seconds:.2f} s ({trajectory.comm_seconds / trajectory.seconds:.0%} "
            f"exchanging parameters)"
        )
        print("clean test accuracy per agent:", " ".join(f"{a:.3f}" for a in clean.tolist()))
        if args.out:
            torch.save(trajectory.__dict__, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
