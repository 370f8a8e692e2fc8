"""Peak memory and time of ``toolkit.kernels``: full-logit reference vs chunked (vs Triton).

    python -m benchmarks kernels [--smoke] [--gpu] [--set ops=["kl"]] [--set rounds=N]

Each measurement is forward + backward of ``out.sum()`` for ``token_logprobs`` (labels, no
entropy) or ``token_kl`` (``"ref||policy"``), gradients to the policy's hidden states and LM-head
weight, float32 unless ``dtype`` says otherwise, over V ∈ {32k, 128k} × T ∈ {512, 2048} (B = 1;
H = 512 on the CPU, 2,048 on CUDA). The fast implementation is ``chunked`` on the CPU and
``triton`` on CUDA; results are ratios fast / reference measured in the same run.

How memory is measured (:func:`toolkit.benchmarking.peak_memory`). On the CPU every
(op, shape, implementation) runs in a fresh Python subprocess (``isolate``), so no allocator
cache or earlier peak carries over, and the peak is RSS: every page the step touched at once,
including the gradients it returns. Both implementations return the same ``V×H`` weight
gradient (``∇W``, 256 MiB at V = 128k, H = 512, float32): the table gives the memory ratio
with it and without it (``(peak − ∇W) / (reference peak − ∇W)``, the working memory). On CUDA
the peak is ``max_memory_allocated`` above what was allocated before the step, reset per step,
so the steps run in one process.

Time is wall time of one step (CUDA: synchronized). The reference and the fast implementation
alternate for ``rounds`` rounds and the table keeps each one's fastest round (memory: its
largest): on a shared machine the minimum is the least disturbed estimate; the JSON keeps every
round. The CPU warm-up runs a tiny shape (a full-shape warm-up would double a run that takes
tens of seconds); on CUDA it runs the full shape once so Triton compiles outside the timing.
"""

from __future__ import annotations

import sys
import time

import torch

from benchmarks import ROOT
from toolkit.benchmarking import peak_memory, run_isolated, synchronize

GPU_PLAN = "Triton vs reference at V ∈ {32k, 128k}, T ∈ {512, 2048}, H = 2,048"
# Fast / reference ratios. CPU: the backward recomputes the logits (4 matmuls instead of 3 for
# log-probs, 6 instead of 4 for KL), so the time ratio cannot go below about 4/3 (KL: 3/2).
GOALS = {
    "cpu": {"time": 1.35, "memory": 0.25, "V": 131072, "min_T": 512},
    "cuda": {"time": 1 / 1.5, "memory": 0.25, "V": 131072, "min_T": 512},
}
FAST = {"cpu": "chunked", "cuda": "triton"}


def settings(*, smoke: bool, device: str) -> dict:
    """Ops, the (V, T, H) grid, dtype, rounds and process isolation for a run on ``device``."""
    if smoke:
        grid = {"vocabs": [1024], "lengths": [16], "hidden": 16}
    else:
        hidden = 2048 if device == "cuda" else 512
        grid = {"vocabs": [32768, 131072], "lengths": [512, 2048], "hidden": hidden}
    return {
        "ops": ["logprobs", "kl"],
        **grid,
        "dtype": "float32",
        "rounds": 1 if smoke else (3 if device == "cuda" else 2),
        "isolate": device == "cpu" and not smoke,
        "goals": GOALS[device],
    }


def worker(spec: dict) -> dict:
    """Build inputs, warm up, time one forward+backward step; its peak bytes above the inputs."""
    from toolkit import kernels

    device = torch.device(spec["device"])
    dtype = getattr(torch, spec["dtype"])

    def make(B, T, V, H):
        g = torch.Generator().manual_seed(0)

        def randn(*size, scale=1.0):
            return (torch.randn(*size, generator=g) * scale).to(device=device, dtype=dtype)

        x = dict(hidden=randn(B, T, H).requires_grad_(), weight=randn(V, H, scale=0.05))
        x["weight"].requires_grad_()
        if spec["op"] == "logprobs":
            x["labels"] = torch.randint(0, V, (B, T), generator=g).to(device)
        else:
            x.update(ref_hidden=randn(B, T, H), ref_weight=randn(V, H, scale=0.05))
        return x

    def step(x):
        if spec["op"] == "logprobs":
            out = kernels.token_logprobs(x["hidden"], x["weight"], x["labels"], impl=spec["impl"])
        else:
            out = kernels.token_kl(
                x["hidden"], x["ref_hidden"], x["weight"], x["ref_weight"], impl=spec["impl"]
            )
        out.sum().backward()
        x["hidden"].grad = x["weight"].grad = None

    full = {k: spec[k] for k in "BTVH"}
    step(make(**full) if device.type == "cuda" else make(B=1, T=8, V=1024, H=16))  # warm-up
    x = make(**full)
    with peak_memory(device) as peak:
        start = time.perf_counter()
        step(x)
        synchronize(device)
        elapsed = time.perf_counter() - start
    return {**spec, "time_s": elapsed, "peak_bytes": peak["bytes"]}


def run(settings: dict, device: str) -> list[dict]:
    """One row per (op, V, T): best time and largest peak of each implementation, and ratios."""
    fast = FAST[device]
    itemsize = torch.empty((), dtype=getattr(torch, settings["dtype"])).element_size()
    rows = []
    for op in settings["ops"]:
        for V in settings["vocabs"]:
            for T in settings["lengths"]:
                shape = dict(B=1, T=T, V=V, H=settings["hidden"])
                spec = dict(op=op, device=device, dtype=settings["dtype"], **shape)
                runs = {"reference": [], fast: []}
                for _ in range(settings["rounds"]):
                    for impl, done in runs.items():
                        one = {**spec, "impl": impl}
                        done.append(
                            run_isolated("benchmarks.bench_kernels:worker", one, ROOT)
                            if settings["isolate"]
                            else worker(one)
                        )
                rows.append(_row(op, shape, fast, runs, itemsize))
                print(rows[-1], file=sys.stderr, flush=True)
    return rows


def _ratio(fast: float, reference: float) -> float | None:
    """``fast / reference``; ``None`` where the reference measured nothing (tiny smoke shapes)."""
    return fast / reference if reference > 0 else None


def _row(op: str, shape: dict, fast: str, runs: dict, itemsize: int) -> dict:
    best = {
        impl: (min(r["time_s"] for r in rs), max(r["peak_bytes"] for r in rs) / 2**20)
        for impl, rs in runs.items()
    }
    (ref_time, ref_mib), (fast_time, fast_mib) = best["reference"], best[fast]
    grad_mib = shape["V"] * shape["H"] * itemsize / 2**20
    return {
        **shape,
        "op": op,
        "fast_impl": fast,
        "ref_time_s": ref_time,
        "fast_time_s": fast_time,
        "time_ratio": _ratio(fast_time, ref_time),
        "ref_peak_mib": ref_mib,
        "fast_peak_mib": fast_mib,
        "memory_ratio": _ratio(fast_mib, ref_mib),
        "grad_weight_mib": grad_mib,
        "memory_ratio_without_grad_weight": _ratio(fast_mib - grad_mib, ref_mib - grad_mib),
        "time_rounds_s": {impl: [r["time_s"] for r in rs] for impl, rs in runs.items()},
        "peak_rounds_mib": {
            impl: [r["peak_bytes"] / 2**20 for r in rs] for impl, rs in runs.items()
        },
    }


def _verdict(ratio: float | None, goal: float) -> str:
    return "n/a" if ratio is None else ("yes" if ratio <= goal else "no")


def _fmt(ratio: float | None, digits: int) -> str:
    return "n/a" if ratio is None else f"{ratio:.{digits}f}"


def table(results: dict) -> str:
    device = results["machine"]["device"]
    goal, fast = GOALS[device], FAST[device]
    lines = [
        f"| op | B×T | V | H | reference s | {fast} s | time ratio | reference MiB | "
        f"{fast} MiB | memory ratio | w/o ∇W | goal: time | goal: memory (with / w/o ∇W) |",
        "|---" * 13 + "|",
    ]
    for r in results["rows"]:
        judged = r["V"] == goal["V"] and r["T"] >= goal["min_T"]
        without = r["memory_ratio_without_grad_weight"]
        time_goal = _verdict(r["time_ratio"], goal["time"]) if judged else "–"
        memory_goal = (
            f"{_verdict(r['memory_ratio'], goal['memory'])} / {_verdict(without, goal['memory'])}"
            if judged
            else "–"
        )
        lines.append(
            f"| {r['op']} | {r['B'] * r['T']} | {r['V']} | {r['H']} | {r['ref_time_s']:.2f} | "
            f"{r['fast_time_s']:.2f} | {_fmt(r['time_ratio'], 2)} | {r['ref_peak_mib']:.0f} | "
            f"{r['fast_peak_mib']:.0f} | {_fmt(r['memory_ratio'], 3)} | {_fmt(without, 3)} | "
            f"{time_goal} | {memory_goal} |"
        )
    lines.append("")
    lines.append(
        f"Goal ({device}, V = {goal['V']:,}, T ≥ {goal['min_T']}): time ratio ≤ "
        f"{goal['time']:.2f}, memory ratio ≤ {goal['memory']} ({fast} / reference, forward + "
        f"backward; best of {results['settings']['rounds']} rounds). ∇W: the V×H weight "
        "gradient, returned by both."
    )
    if device == "cpu":
        lines.append(
            "The backward recomputes the logits (4 matmuls instead of 3 for log-probs, 6 instead "
            "of 4 for KL), so the time ratio's floor is about 4/3 for log-probs and 3/2 for KL."
        )
    return "\n".join(lines)


if __name__ == "__main__":
    from benchmarks.__main__ import main

    sys.exit(main(names=("kernels",)))
