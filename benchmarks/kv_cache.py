"""KV-cache bytes and decode speed of ``toolkit.attention.compression``: full vs compressed cache.

    python benchmarks/kv_cache.py [--quick] [--out PATH] [--device auto|cpu|cuda] [--rounds N]
                                  [--threads N] [--new-tokens N]

Model: a random Llama sized like a small zoo model (``CONFIG`` below: 4 layers, hidden 128,
4 query heads sharing 2 KV heads of dim 32, vocabulary 2,048), SDPA attention. For each context
length ``L`` (2,048 and 8,192; ``--quick``: 512 and 2,048) a seeded random prompt is prefilled
into a fresh ``DynamicCache``, then ``--new-tokens`` greedy tokens are decoded one forward at a
time. Methods: the full cache, and prefill compression (:class:`KVCompressor`, recent window 16)
at ratios 0.5 and 0.875 (×2, ×8) with Q-Filters (random filters: speed does not depend on
their values) and SnapKV (which also recomputes the queries of the prompt at prefill).

Measured per (L, method): cache bytes (keys + values) after prefill, prefill seconds (forward
plus compression), decode tokens/s (1 / median decode step, each step timed alone, CUDA
synchronized). On the CPU torch runs ``--threads`` intra-op threads (default 1: a model this
small spends its decode steps in per-op overhead, where more threads on a shared machine mostly
add contention), and decode speed is also given in the thread's CPU time, which descheduling by
other jobs does not inflate (with one thread it is the work each step did; on CUDA it counts
only the host side and is left out of the table). Rounds alternate the
methods and the table keeps each one's fastest round (on a shared machine the least disturbed
estimate; the JSON keeps every round). Ratios are against the full cache in the same run. The
result is printed as a markdown table and written to JSON (default
``benchmarks/results/kv_cache.json``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch
from transformers import DynamicCache, LlamaConfig, LlamaForCausalLM

from toolkit.attention.compression import KVCompressor, compression_stats
from toolkit.attention.scorers import QFiltersScorer, SnapKVScorer
from toolkit.benchmarking import machine, write_results

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "kv_cache.json"
CONTEXTS = {"full": (2048, 8192), "quick": (512, 2048)}
RATIOS = (0.5, 0.875)
WINDOW = 16

CONFIG = dict(
    vocab_size=2048,  # a small BPE vocabulary, as the zoo's tokenizers
    hidden_size=128,
    intermediate_size=512,  # 4 × hidden, as tiny_llama
    num_hidden_layers=4,
    num_attention_heads=4,
    num_key_value_heads=2,  # GQA: 2 query heads per KV head, as in Llama 3
    head_dim=32,
    max_position_embeddings=8192 + 128,  # longest context + decoded tokens
)


def build_model(device: str, dtype: torch.dtype) -> LlamaForCausalLM:
    """The benchmark's random Llama (seeded), SDPA attention, in eval mode on ``device``."""
    config = LlamaConfig(**CONFIG, attn_implementation="sdpa")
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = LlamaForCausalLM(config)
    return model.to(device=device, dtype=dtype).eval()


def methods() -> dict[str, KVCompressor | None]:
    """``name → compressor`` (``None``: the full cache)."""
    n_kv, dim = CONFIG["num_key_value_heads"], CONFIG["head_dim"]
    generator = torch.Generator().manual_seed(0)
    filters = torch.randn(CONFIG["num_hidden_layers"], n_kv, dim, generator=generator)
    scorers = {"qfilters": QFiltersScorer(filters), "snapkv": SnapKVScorer()}
    out: dict[str, KVCompressor | None] = {"full": None}
    for name, scorer in scorers.items():
        for ratio in RATIOS:
            out[f"{name} ×{1 / (1 - ratio):.0f}"] = KVCompressor(scorer, ratio, window=WINDOW)
    return out


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.inference_mode()
def measure(model, prompt: torch.Tensor, compressor: KVCompressor | None, new_tokens: int):
    """One round: prefill (timed, compression included), then greedy decoding, each step timed;
    decode tokens/s is 1 / the median step (robust to the odd descheduled step), in wall time
    and in this thread's CPU time."""
    device = prompt.device
    cache = DynamicCache(config=model.config)
    with compressor.apply(model) if compressor is not None else nullcontext():
        _sync(device)
        start = time.perf_counter()
        logits = model(prompt, cache=cache, use_cache=True, logits_to_keep=1).logits
        _sync(device)
        prefill_s = time.perf_counter() - start
        cache_bytes = compression_stats(cache).bytes
        token = logits[:, -1].argmax(-1, keepdim=True)
        wall, cpu = [], []
        for _ in range(new_tokens):
            start, cpu_start = time.perf_counter(), time.thread_time()
            logits = model(token, cache=cache, use_cache=True).logits
            token = logits[:, -1].argmax(-1, keepdim=True)
            _sync(device)
            wall.append(time.perf_counter() - start)
            cpu.append(time.thread_time() - cpu_start)
    return {
        "prefill_s": prefill_s,
        "decode_tok_s": 1 / statistics.median(wall),
        "decode_cpu_tok_s": 1 / statistics.median(cpu),
        "bytes": cache_bytes,
    }


def table(rows: list[dict], device: str) -> str:
    cpu = device == "cpu"
    head = "| L | method | cache MiB | cache ratio | prefill s | decode tok/s | speed-up |"
    lines = [head + (" CPU-time tok/s | CPU-time speed-up |" if cpu else ""), ""]
    lines[1] = "|---" * (lines[0].count("|") - 1) + "|"
    for r in rows:
        line = (
            f"| {r['context']} | {r['method']} | {r['bytes'] / 2**20:.2f} | "
            f"{r['bytes_ratio']:.3f} | {r['prefill_s']:.2f} | {r['decode_tok_s']:.1f} | "
            f"{r['decode_speedup']:.2f} |"
        )
        if cpu:
            line += f" {r['decode_cpu_tok_s']:.1f} | {r['decode_cpu_speedup']:.2f} |"
        lines.append(line)
    lines.append("")
    lines.append(
        "Ratios are compressed / full cache in the same run (speed-up: decode tokens/s "
        f"compressed / full). Device: {device}."
    )
    if device != "cuda":
        lines.append("GPU: not measured — no CUDA device in this run.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="contexts 512 and 2,048")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results path")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per method (best kept)")
    parser.add_argument("--threads", type=int, default=1, help="CPU intra-op threads")
    parser.add_argument("--new-tokens", type=int, default=32, help="greedy tokens decoded")
    args = parser.parse_args(argv)
    if min(args.rounds, args.new_tokens, args.threads) < 1:
        parser.error("--rounds, --new-tokens and --threads must be ≥ 1")

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(args.threads)
    model = build_model(device, getattr(torch, args.dtype))
    compressors = methods()
    generator = torch.Generator().manual_seed(0)
    measure(model, torch.randint(0, 64, (1, 64), device=device), None, 2)  # warm-up

    rows = []
    for context in CONTEXTS["quick" if args.quick else "full"]:
        prompt = torch.randint(0, CONFIG["vocab_size"], (1, context), generator=generator)
        prompt = prompt.to(device)
        rounds = {name: [] for name in compressors}
        for _ in range(args.rounds):
            for name, compressor in compressors.items():
                rounds[name].append(measure(model, prompt, compressor, args.new_tokens))
        best = {
            name: {
                "prefill_s": min(r["prefill_s"] for r in rs),
                "decode_tok_s": max(r["decode_tok_s"] for r in rs),
                "decode_cpu_tok_s": max(r["decode_cpu_tok_s"] for r in rs),
                "bytes": rs[0]["bytes"],
            }
            for name, rs in rounds.items()
        }
        for name, b in best.items():
            rows.append(
                {
                    "context": context,
                    "method": name,
                    **b,
                    "bytes_ratio": b["bytes"] / best["full"]["bytes"],
                    "decode_speedup": b["decode_tok_s"] / best["full"]["decode_tok_s"],
                    "decode_cpu_speedup": b["decode_cpu_tok_s"] / best["full"]["decode_cpu_tok_s"],
                    "rounds": rounds[name],
                }
            )
            print(rows[-1], file=sys.stderr, flush=True)
    meta = {
        **machine(device),
        "quick": args.quick,
        "rounds": args.rounds,
        "new_tokens": args.new_tokens,
        "dtype": args.dtype,
        "window": WINDOW,
        "config": CONFIG,
    }
    write_results(args.out, rows, table(rows, device), meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
