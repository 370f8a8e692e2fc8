"""Throughput of ``toolkit.embodied``: environment steps per second, batched against one episode at
a time, and behaviour-cloning time per demo count.

    python -m benchmarks embodied [--smoke] [--set envs=[1,64]] [--set demo_counts=[10,100]]

Stepping: ``E`` episodes in ``E`` different houses (two floors of 2×2 rooms) take random actions
for ``steps`` steps, observations included. *Unbatched*: ``E`` ``HouseEnv`` objects stepped one
after another through the Gymnasium API; *batched*: one ``BatchedHouses`` steps all ``E`` with
array operations. Episodes that end are not restarted (``max_steps`` is larger than ``steps``,
and random actions seldom finish a task). Env-steps/s = ``E × steps / wall time``; the best of
``rounds`` rounds is kept.

Training: the end-to-end agent's behaviour cloning on ``N`` demos (the notebook's policy, a
fixed number of gradient steps, one torch thread), wall time including the replay of the demos
for their observations; the neuro-symbolic agent's parser calibration on the same ``N``
instructions (MiniLM embeddings cached beforehand, so the time is the calibration's own).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from toolkit.embodied import (
    BatchedHouses,
    BCConfig,
    EmbeddingCache,
    EndToEndAgent,
    GroundingParser,
    HouseEnv,
    NeuroSymbolicAgent,
    expert_demos,
    make_episodes,
    make_splits,
)
from toolkit.embodied.world import N_ACTIONS

GPU_PLAN = "nothing: this benchmark is CPU only (NumPy stepping, a tiny policy)"


def settings(*, smoke: bool, device: str) -> dict:
    """Episode counts, steps, demo counts and rounds."""
    if smoke:
        return {"envs": [1, 8], "steps": 20, "demo_counts": [5], "bc_steps": 10, "rounds": 1}
    return {
        "envs": [1, 16, 256],
        "steps": 100,
        "demo_counts": [10, 100, 500],
        "bc_steps": 800,
        "rounds": 3,
    }


def _stepping(episodes, steps: int, batched: bool) -> float:
    rng = np.random.default_rng(0)
    actions = rng.integers(N_ACTIONS, size=(steps, len(episodes)))
    if batched:
        batch = BatchedHouses(episodes, max_steps=10 * steps)
        start = time.perf_counter()
        for t in range(steps):
            batch.step(actions[t])
        return time.perf_counter() - start
    envs = [HouseEnv(max_steps=10 * steps) for _ in episodes]
    for env, episode in zip(envs, episodes, strict=True):
        env.reset(seed=0, options={"episode": episode})
    start = time.perf_counter()
    for t in range(steps):
        for env, a in zip(envs, actions[t], strict=True):
            env.step(int(a))
    return time.perf_counter() - start


def run(settings: dict, device: str) -> list[dict]:
    """One row per (episodes, path), then one per (agent, demo count)."""
    if device != "cpu":
        raise SystemExit("the embodied benchmark runs on the CPU only")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    splits = make_splits(8)
    rows = []
    for n_envs in settings["envs"]:
        episodes = make_episodes(splits["train"], n_envs, seed=0)
        for path in ("unbatched", "batched"):
            times = [
                _stepping(episodes, settings["steps"], path == "batched")
                for _ in range(settings["rounds"])
            ]
            best = min(times)
            rows.append(
                {
                    "kind": "stepping",
                    "path": path,
                    "envs": n_envs,
                    "steps": settings["steps"],
                    "env_steps_per_s": n_envs * settings["steps"] / best,
                    "rounds": [n_envs * settings["steps"] / t for t in times],
                }
            )
            print(rows[-1], file=sys.stderr, flush=True)
    embed = EmbeddingCache()
    pool = make_episodes(splits["train"], max(settings["demo_counts"]), seed=0)
    demos = expert_demos(pool)
    embed([d.episode.task.instruction for d in demos])
    GroundingParser(embed).calibrate(
        [d.episode.task.instruction for d in demos],
        [d.episode.task.goal for d in demos],
        [d.episode.house for d in demos],
    )  # warms the cache
    config = BCConfig(steps=settings["bc_steps"], context=4, dropout=0.2, weight_decay=0.05)
    for n in settings["demo_counts"]:
        e2e = EndToEndAgent(embed, config).fit(demos[:n])
        ns = NeuroSymbolicAgent(GroundingParser(embed)).fit(demos[:n])
        for agent in (e2e, ns):
            rows.append(
                {
                    "kind": "training",
                    "agent": agent.name,
                    "demos": n,
                    "gradient_steps": settings["bc_steps"] if agent is e2e else 0,
                    "seconds": agent.log["seconds"],
                }
            )
            print(rows[-1], file=sys.stderr, flush=True)
    torch.set_num_threads(threads)
    return rows


def table(results: dict) -> str:
    rows = results["rows"]
    lines = [
        "| episodes | unbatched env-steps/s | batched env-steps/s | speed-up |",
        "|---|---|---|---|",
    ]
    stepping = {
        (r["envs"], r["path"]): r["env_steps_per_s"] for r in rows if r["kind"] == "stepping"
    }
    for n in sorted({e for e, _ in stepping}):
        single, batch = stepping[n, "unbatched"], stepping[n, "batched"]
        lines.append(f"| {n} | {single:,.0f} | {batch:,.0f} | {batch / single:.1f}× |")
    lines += [
        "",
        "| demos N | end-to-end: behaviour cloning (s) | neuro-symbolic: parser calibration (s) |",
        "|---|---|---|",
    ]
    training = {(r["demos"], r["agent"]): r["seconds"] for r in rows if r["kind"] == "training"}
    for n in sorted({d for d, _ in training}):
        lines.append(
            f"| {n} | {training[n, 'end-to-end']:.1f} | {training[n, 'neuro-symbolic']:.2f} |"
        )
    steps = next((r["gradient_steps"] for r in rows if r.get("agent") == "end-to-end"), 0)
    lines.append("")
    lines.append(
        f"Random actions in different houses (two floors of 2×2 rooms), observations included; "
        f"behaviour cloning: {steps} gradient steps of 128 pairs, one torch thread (the time "
        "hardly depends on N); calibration: MiniLM embeddings cached."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    from benchmarks.__main__ import main

    sys.exit(main(names=("embodied",)))
