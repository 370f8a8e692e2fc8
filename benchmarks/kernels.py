"""Peak memory and time of ``toolkit.kernels``: full-logit reference vs chunked (vs Triton).

    python benchmarks/kernels.py [--quick] [--out PATH] [--ops logprobs,kl] [--rounds N]

Each measurement is forward + backward of ``out.sum()`` for ``token_logprobs`` (labels, no
entropy) or ``token_kl`` (``"ref||policy"``), gradients to the policy's hidden states and LM-head
weight, float32 unless ``--dtype bfloat16``. Results are ratios fast/reference measured in the
same run, printed as a markdown table and written to JSON (default
``benchmarks/results/kernels.json``).

How memory is measured. Every (op, shape, implementation) runs in a fresh Python subprocess,
so no allocator cache or earlier peak carries over. After building the inputs and a warm-up:

* CPU: the kernel's peak-RSS counter is reset (``echo 5 > /proc/self/clear_refs``, Linux), the
  current RSS is read (``VmRSS``), the step runs, and the peak is ``VmHWM − VmRSS_before``:
  every page the step touched at once, including the gradients it returns (``V×H`` for the
  weight, the same for both implementations), not just what torch thinks it allocated.
* CUDA: ``torch.cuda.max_memory_allocated() − memory_allocated()`` around the step.

Time is wall time of one step (CUDA: synchronized). The reference and the fast implementation
alternate for ``--rounds`` rounds, each a fresh process, and the table keeps each one's fastest
round (memory: its largest): on a shared machine the minimum is the least disturbed estimate;
the JSON keeps every round. The CPU warm-up runs a tiny shape (a full-shape warm-up would
double a run that takes tens of seconds); on CUDA it runs the full shape once so Triton
compiles outside the timing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from toolkit.benchmarking import machine, write_results

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "kernels.json"
# Goals from issue #5: fast/reference ratios.
GOALS = {"cpu": {"memory": 0.25, "time": 1.2}, "cuda": {"memory": 0.25, "time": 1 / 1.5}}


def shapes(quick: bool, device: str) -> list[dict]:
    """(B, T, V, H) grid: V ∈ {32k, 128k} × T ∈ {512, 2048}; ``--quick`` is 16× smaller in V·T."""
    vocabs, lengths = ((8192, 32768), (128, 512)) if quick else ((32768, 131072), (512, 2048))
    hidden = 256 if quick else (512 if device == "cpu" else 2048)
    return [dict(B=1, T=t, V=v, H=hidden) for v in vocabs for t in lengths]


# --------------------------------------------------------------------------- worker (subprocess)


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def worker(spec: dict) -> dict:
    """Build inputs, warm up, time one forward+backward step; its peak bytes above the inputs."""
    import torch

    from toolkit import kernels

    device = torch.device(spec["device"])
    cuda = device.type == "cuda"

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
    step(make(**full) if cuda else make(B=1, T=8, V=1024, H=16))  # warm-up
    x = make(**full)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        before = _rss_kib("VmRSS") * 1024
    start = time.perf_counter()
    step(x)
    if cuda:
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() if cuda else _rss_kib("VmHWM") * 1024
    return {**spec, "time_s": elapsed, "peak_bytes": peak - before}


# --------------------------------------------------------------------------- driver


def run_one(spec: dict) -> dict:
    cmd = [sys.executable, __file__, "--worker", json.dumps(spec)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"worker {spec} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(rows: list[dict], device: str) -> str:
    fast = "triton" if device == "cuda" else "chunked"
    goal = GOALS[device]
    lines = [
        f"| op | B×T | V | H | reference s | {fast} s | time ratio | reference MiB | "
        f"{fast} MiB | memory ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['op']} | {r['B'] * r['T']} | {r['V']} | {r['H']} | {r['ref_time_s']:.2f} | "
            f"{r['fast_time_s']:.2f} | {r['time_ratio']:.2f} | {r['ref_peak_mib']:.0f} | "
            f"{r['fast_peak_mib']:.0f} | {r['memory_ratio']:.3f} |"
        )
    lines.append("")
    lines.append(
        f"Goals ({device}): time ratio ≤ {goal['time']:.2f}, memory ratio ≤ {goal['memory']} "
        "(fast / reference, forward + backward)."
    )
    if device != "cuda":
        lines.append(
            "GPU (Triton vs reference): not yet measured — no CUDA device in this run "
            "(goal: ≥ 1.5× faster, ≤ 1/4 memory)."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="16× smaller V·T, H=256")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results path")
    parser.add_argument("--ops", default="logprobs,kl", help="comma list of logprobs, kl")
    parser.add_argument("--rounds", type=int, default=None, help="default 3 with --quick, else 2")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0

    import torch

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    fast = "triton" if device == "cuda" else "chunked"
    rounds = args.rounds or (3 if args.quick else 2)
    rows = []
    for op in args.ops.split(","):
        for shape in shapes(args.quick, device):
            spec = dict(op=op, device=device, dtype=args.dtype, **shape)
            runs = {"reference": [], fast: []}
            for _ in range(rounds):
                for impl, results in runs.items():
                    results.append(run_one({**spec, "impl": impl}))
            best = {
                impl: (min(r["time_s"] for r in rs), max(r["peak_bytes"] for r in rs))
                for impl, rs in runs.items()
            }
            (ref_time, ref_peak), (fast_time, fast_peak) = best["reference"], best[fast]
            rows.append(
                {
                    **shape,
                    "op": op,
                    "fast_impl": fast,
                    "ref_time_s": ref_time,
                    "fast_time_s": fast_time,
                    "time_ratio": fast_time / ref_time,
                    "ref_peak_mib": ref_peak / 2**20,
                    "fast_peak_mib": fast_peak / 2**20,
                    "memory_ratio": fast_peak / ref_peak,
                    "rounds": {impl: [r["time_s"] for r in rs] for impl, rs in runs.items()},
                }
            )
            print(rows[-1], file=sys.stderr, flush=True)
    meta = {
        **machine(device),
        "quick": args.quick,
        "rounds": rounds,
        "dtype": args.dtype,
        "goals": GOALS[device],
    }
    write_results(args.out, rows, table(rows, device), meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
