"""KV-cache bytes and decode speed of ``toolkit.attention.compression``: full vs compressed cache.

    python -m benchmarks kv_cache [--smoke] [--gpu] [--set rounds=N] [--set new_tokens=N]

Model: a random Llama sized like a small zoo model (``CONFIG`` below: 4 layers, hidden 128,
4 query heads sharing 2 KV heads of dim 32, vocabulary 2,048), SDPA attention. For each context
length ``L`` (CPU: 2,048 and 8,192; CUDA: 8,192 and 32,768) a seeded random prompt is prefilled
into a fresh ``DynamicCache``, then ``new_tokens`` greedy tokens are decoded one forward at a
time. Methods: the full cache, and prefill compression (:class:`KVCompressor`, recent window 16)
at ratios 0.5 and 0.875 (×2, ×8) with Q-Filters (random filters: speed does not depend on
their values) and SnapKV (which also recomputes the queries of the prompt at prefill).

Measured per (L, method): cache bytes (keys + values) after prefill, prefill seconds (forward
plus compression), decode tokens/s (1 / median decode step, each step timed alone, CUDA
synchronized). On the CPU torch runs ``threads`` intra-op threads (default 1: a model this
small spends its decode steps in per-op overhead, where more threads on a shared machine mostly
add contention), and decode speed is also given in the thread's CPU time, which descheduling by
other jobs does not inflate (with one thread it is the work each step did; on CUDA it counts
only the host side and is left out of the table). Rounds alternate the
methods and the table keeps each one's fastest round (on a shared machine the least disturbed
estimate; the JSON keeps every round). Ratios are against the full cache in the same run.
"""

from __future__ import annotations

import statistics
import sys
import time
from contextlib import nullcontext

import torch
from transformers import DynamicCache, LlamaConfig, LlamaForCausalLM

from toolkit.attention.compression import KVCompressor, compression_stats
from toolkit.attention.scorers import QFiltersScorer, SnapKVScorer
from toolkit.benchmarking import synchronize

GPU_PLAN = "contexts of 8,192 and 32,768 tokens on CUDA"
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
)


def settings(*, smoke: bool, device: str) -> dict:
    """Context lengths, rounds, decoded tokens and CPU threads for a run on ``device``."""
    if smoke:
        contexts = [256]
    else:
        contexts = [8192, 32768] if device == "cuda" else [2048, 8192]
    return {
        "contexts": contexts,
        "rounds": 1 if smoke else 3,
        "new_tokens": 2 if smoke else 32,
        "threads": 1,
        "dtype": "float32",
        "window": WINDOW,
        "ratios": list(RATIOS),
        "model": CONFIG,
    }


def build_model(max_positions: int, device: str, dtype: torch.dtype) -> LlamaForCausalLM:
    """The benchmark's random Llama (seeded), SDPA attention, in eval mode on ``device``."""
    config = LlamaConfig(
        **CONFIG, max_position_embeddings=max_positions, attn_implementation="sdpa"
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = LlamaForCausalLM(config)
    return model.to(device=device, dtype=dtype).eval()


def methods(ratios: list[float], window: int) -> dict[str, KVCompressor | None]:
    """``name → compressor`` (``None``: the full cache)."""
    n_kv, dim = CONFIG["num_key_value_heads"], CONFIG["head_dim"]
    generator = torch.Generator().manual_seed(0)
    filters = torch.randn(CONFIG["num_hidden_layers"], n_kv, dim, generator=generator)
    scorers = {"qfilters": QFiltersScorer(filters), "snapkv": SnapKVScorer()}
    out: dict[str, KVCompressor | None] = {"full": None}
    for name, scorer in scorers.items():
        for ratio in ratios:
            out[f"{name} ×{1 / (1 - ratio):.0f}"] = KVCompressor(scorer, ratio, window=window)
    return out


@torch.inference_mode()
def measure(model, prompt: torch.Tensor, compressor: KVCompressor | None, new_tokens: int):
    """One round: prefill (timed, compression included), then greedy decoding, each step timed;
    decode tokens/s is 1 / the median step (robust to the odd descheduled step), in wall time
    and in this thread's CPU time."""
    device = prompt.device
    cache = DynamicCache(config=model.config)
    with compressor.apply(model) if compressor is not None else nullcontext():
        synchronize(device)
        start = time.perf_counter()
        logits = model(prompt, cache=cache, use_cache=True, logits_to_keep=1).logits
        synchronize(device)
        prefill_s = time.perf_counter() - start
        cache_bytes = compression_stats(cache).bytes
        token = logits[:, -1].argmax(-1, keepdim=True)
        wall, cpu = [], []
        for _ in range(new_tokens):
            start, cpu_start = time.perf_counter(), time.thread_time()
            logits = model(token, cache=cache, use_cache=True).logits
            token = logits[:, -1].argmax(-1, keepdim=True)
            synchronize(device)
            wall.append(time.perf_counter() - start)
            cpu.append(time.thread_time() - cpu_start)
    return {
        "prefill_s": prefill_s,
        "decode_tok_s": 1 / statistics.median(wall),
        "decode_cpu_tok_s": 1 / statistics.median(cpu),
        "bytes": cache_bytes,
    }


def run(settings: dict, device: str) -> list[dict]:
    """One row per (context, method), each the best of ``rounds`` alternating rounds."""
    default_threads = torch.get_num_threads()
    if device == "cpu":
        torch.set_num_threads(settings["threads"])
    new_tokens = settings["new_tokens"]
    model = build_model(
        max(settings["contexts"]) + new_tokens, device, getattr(torch, settings["dtype"])
    )
    compressors = methods(settings["ratios"], settings["window"])
    generator = torch.Generator().manual_seed(0)
    measure(model, torch.randint(0, 64, (1, 64), device=device), None, 2)  # warm-up

    rows = []
    for context in settings["contexts"]:
        prompt = torch.randint(0, CONFIG["vocab_size"], (1, context), generator=generator)
        prompt = prompt.to(device)
        rounds = {name: [] for name in compressors}
        for _ in range(settings["rounds"]):
            for name, compressor in compressors.items():
                rounds[name].append(measure(model, prompt, compressor, new_tokens))
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
    torch.set_num_threads(default_threads)
    return rows


def table(results: dict) -> str:
    cpu, settings = results["machine"]["device"] == "cpu", results["settings"]
    head = "| L | method | cache MiB | cache ratio | prefill s | decode tok/s | speed-up |"
    lines = [head + (" CPU-time tok/s | CPU-time speed-up |" if cpu else "")]
    lines.append("|---" * (lines[0].count("|") - 1) + "|")
    for r in results["rows"]:
        line = (
            f"| {r['context']:,} | {r['method']} | {r['bytes'] / 2**20:.2f} | "
            f"{r['bytes_ratio']:.3f} | {r['prefill_s']:.2f} | {r['decode_tok_s']:.1f} | "
            f"{r['decode_speedup']:.2f} |"
        )
        if cpu:
            line += f" {r['decode_cpu_tok_s']:.1f} | {r['decode_cpu_speedup']:.2f} |"
        lines.append(line)
    lines.append("")
    lines.append(
        "Ratios are compressed / full cache in the same run (speed-up: decode tokens/s "
        f"compressed / full); best of {settings['rounds']} rounds, "
        f"{settings['new_tokens']} decoded tokens"
        + (f", {settings['threads']} CPU thread(s)." if cpu else ".")
    )
    return "\n".join(lines)


if __name__ == "__main__":
    from benchmarks.__main__ import main

    sys.exit(main(names=("kv_cache",)))
