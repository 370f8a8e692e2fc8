"""Throughput of ``toolkit.control.quadrotor``: env control steps per second.

    python benchmarks/quadrotor.py [--quick] [--out PATH] [--sizes 1,256,4096] [--threads 1,2]

One control step is 0.02 s of simulated time: action sanitizing, the wind random walk, four RK4
substeps of 0.005 s (each re-running the body-rate loop and mixer), quaternion
renormalization and the divergence check. Throughput is ``N × steps / wall time``. The env is
the training configuration (``params="train"``, wind on, no payload) under a fixed action
near hover, stepped inside ``torch.inference_mode``.

Timing: after a warm-up, each round steps in chunks of ``--min-steps`` (CUDA synchronized after
each chunk) until ``--round-s`` seconds have passed, and the table keeps each configuration's
fastest round: on a shared machine that is the least disturbed estimate; the JSON keeps every
round. The table also gives the best round's CPU share (process CPU time / wall time: how much
of the cores the run actually got). CPU runs once per ``--threads`` entry (default 1 and
torch's default), because on a contended machine intra-op threads can be much slower than one;
CUDA runs when available. Results are printed as a markdown table and written to JSON (default
``benchmarks/results/quadrotor.json``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from toolkit.benchmarking import machine, write_results
from toolkit.control.quadrotor import QuadrotorEnv

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "quadrotor.json"
# Goal from the issue: env control steps per second at N = 4096 on 2 CPU cores.
GOAL = {"num_envs": 4096, "steps_per_s": 1e6}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(num_envs: int, device: str, *, rounds: int, round_s: float, min_steps: int) -> dict:
    """Best-of-``rounds`` control steps per second for ``num_envs`` envs on ``device``."""
    env = QuadrotorEnv(num_envs, params="train", wind=True, device=device, seed=0)
    wiggle = torch.linspace(-0.05, 0.05, 4 * num_envs, device=env.device).reshape(num_envs, 4)
    action = env.hover_action() + wiggle
    rates, shares = [], []
    with torch.inference_mode():
        for _ in range(5):
            env.step(action)
        for _ in range(rounds):
            _sync(env.device)
            start, cpu_start, steps = time.perf_counter(), time.process_time(), 0
            while steps == 0 or time.perf_counter() - start < round_s:
                for _ in range(min_steps):
                    env.step(action)
                _sync(env.device)
                steps += min_steps
            elapsed = time.perf_counter() - start
            rates.append(num_envs * steps / elapsed)
            shares.append((time.process_time() - cpu_start) / elapsed)
    best = max(rates)
    return {
        "device": device,
        "threads": torch.get_num_threads(),
        "num_envs": num_envs,
        "steps_per_s": best,
        "ms_per_step": 1e3 * num_envs / best,
        "cpu_share": shares[rates.index(best)],
        "rounds": rates,
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| device | threads | N | env control steps/s | ms per control step | CPU share |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        threads = r["threads"] if r["device"] == "cpu" else "–"
        lines.append(
            f"| {r['device']} | {threads} | {r['num_envs']} | {r['steps_per_s']:,.0f} | "
            f"{r['ms_per_step']:.3f} | {r['cpu_share']:.2f} |"
        )
    lines.append("")
    at_goal = [r for r in rows if r["device"] == "cpu" and r["num_envs"] == GOAL["num_envs"]]
    if at_goal:
        best = max(at_goal, key=lambda r: r["steps_per_s"])
        verdict = "met" if best["steps_per_s"] >= GOAL["steps_per_s"] else "not met"
        lines.append(
            f"Goal: ≥ {GOAL['steps_per_s']:,.0f} env control steps/s at N = {GOAL['num_envs']} "
            f"on CPU — {verdict} (best {best['steps_per_s']:,.0f} with "
            f"{best['threads']} thread(s))."
        )
    lines.append(
        "CPU share: process CPU time / wall time of the best round (below the thread count "
        "when other processes share the cores)."
    )
    if not any(r["device"] == "cuda" for r in rows):
        lines.append("CUDA: not measured — no CUDA device in this run.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of 0.1 s")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results path")
    parser.add_argument("--sizes", default="1,256,4096", help="comma list of num_envs")
    parser.add_argument("--threads", default=None, help="CPU thread counts, default 1,<torch's>")
    parser.add_argument("--devices", default="auto", help="comma list of cpu, cuda; auto: both")
    parser.add_argument("--rounds", type=int, default=None, help="default 2 with --quick, else 5")
    parser.add_argument("--round-s", type=float, default=None, help="default 0.1 / 0.5 s")
    parser.add_argument("--min-steps", type=int, default=5)
    args = parser.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",")]
    rounds = args.rounds or (2 if args.quick else 5)
    round_s = args.round_s or (0.1 if args.quick else 0.5)
    default_threads = torch.get_num_threads()
    threads = sorted({int(t) for t in (args.threads or f"1,{default_threads}").split(",")})
    devices = args.devices.split(",")
    if args.devices == "auto":
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

    rows = []
    for device in devices:
        for n_threads in threads if device == "cpu" else [default_threads]:
            torch.set_num_threads(n_threads)
            for n in sizes:
                kw = dict(rounds=rounds, round_s=round_s, min_steps=args.min_steps)
                rows.append(measure(n, device, **kw))
                print(rows[-1], file=sys.stderr, flush=True)
    torch.set_num_threads(default_threads)
    meta = {
        **machine("cuda" if "cuda" in devices else "cpu"),
        "quick": args.quick,
        "rounds": rounds,
        "round_s": round_s,
        "goal": GOAL,
    }
    write_results(args.out, rows, table(rows), meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
