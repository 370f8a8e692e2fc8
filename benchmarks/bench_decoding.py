"""Decoding-time alignment (DeAL) speed: wall time per generated token relative to greedy.

    python -m benchmarks decoding [--smoke] [--set rounds=N] [--set new_tokens=N]

Model: the zoo's ``tiny-gpt2-reviews`` (trained on first use, then cached); prompts: review
openings. Every method continues each prompt on its own and generates exactly ``new_tokens``
tokens (EOS is not allowed earlier), so times per token compare like with like:

* greedy ``model.generate`` (the baseline every ratio divides by);
* DeAL at each ``k`` (top-k actions) × ``l`` (lookahead), ``b`` beams, a keyword heuristic
  (programmatic, so the time is the search's own), in both implementations: ``batched`` (all
  ``k·b`` candidates and lookaheads as one batch on the prefix KV cache) and ``reference``
  (one candidate at a time, each forward pass on the whole sequence).

Measured per row: seconds per generated token (best of ``rounds``; the reference runs once),
the ratio to greedy, the speed-up of the batched over the reference path, and whether the two
produced identical tokens (greedy lookahead). On the CPU torch runs ``threads`` intra-op threads.
"""

from __future__ import annotations

import sys
import time

import torch

from toolkit.data import generate_reviews
from toolkit.decoding import DeALConfig, KeywordCoverage, deal_generate
from toolkit.zoo import load_causal_lm

KEYWORDS = ("music", "plot", "boring")
GPU_PLAN = "the same k × l grid on CUDA"


def settings(*, smoke: bool, device: str) -> dict:
    """Grid of (k, l), prompts, tokens, rounds and CPU threads for a run on ``device``."""
    return {
        "model": "tiny-gpt2-reviews",
        "top_k": [2] if smoke else [2, 4, 8],
        "lookahead": [2] if smoke else [2, 4, 8],
        "beam_width": 2,
        "lam": 5.0,
        "prompts": 1 if smoke else 4,
        "new_tokens": 8 if smoke else 32,
        "rounds": 1 if smoke else 3,
        "threads": 1,
    }


def _timed(fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


@torch.inference_mode()
def _greedy(model, tokenizer, prompts: list[str], new_tokens: int) -> None:
    for prompt in prompts:
        inputs = tokenizer(prompt, return_tensors="pt").to(model.device)
        model.generate(
            **inputs,
            do_sample=False,
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            pad_token_id=tokenizer.pad_token_id,
        )


def run(settings: dict, device: str) -> list[dict]:
    """One row per (k, l): batched and reference seconds per token, ratios, identity."""
    default_threads = torch.get_num_threads()
    if device == "cpu":
        torch.set_num_threads(settings["threads"])
    model, tokenizer = load_causal_lm(settings["model"])
    model = model.to(device).eval()
    prompts = [" ".join(r.text.split()[:4]) for r in generate_reviews(settings["prompts"], 5)]
    n, tokens = settings["new_tokens"], settings["new_tokens"] * len(prompts)
    heuristic = KeywordCoverage(list(KEYWORDS))

    def deal(k: int, l: int, impl: str):  # noqa: E741
        config = DeALConfig(
            top_k=k,
            beam_width=min(settings["beam_width"], k),
            lookahead=l,
            lam=settings["lam"],
            max_new_tokens=n,
            min_new_tokens=n,
            impl=impl,
        )
        return [g.token_ids for g in deal_generate(model, tokenizer, prompts, heuristic, config)]

    _greedy(model, tokenizer, prompts[:1], 2)  # warm-up
    greedy_s = min(
        _timed(_greedy, model, tokenizer, prompts, n)[0] for _ in range(settings["rounds"])
    )
    rows = []
    for k in settings["top_k"]:
        for l in settings["lookahead"]:  # noqa: E741
            batched = [_timed(deal, k, l, "batched") for _ in range(settings["rounds"])]
            batched_s, batched_ids = min(batched, key=lambda r: r[0])
            reference_s, reference_ids = _timed(deal, k, l, "reference")
            rows.append(
                {
                    "k": k,
                    "l": l,
                    "greedy_s_per_token": greedy_s / tokens,
                    "batched_s_per_token": batched_s / tokens,
                    "reference_s_per_token": reference_s / tokens,
                    "batched_vs_greedy": batched_s / greedy_s,
                    "reference_vs_greedy": reference_s / greedy_s,
                    "batched_speedup": reference_s / batched_s,
                    "identical": batched_ids == reference_ids,
                }
            )
            print(rows[-1], file=sys.stderr, flush=True)
    torch.set_num_threads(default_threads)
    return rows


def table(results: dict) -> str:
    settings = results["settings"]
    lines = [
        "| k | l | greedy ms/token | DeAL batched ms/token | × greedy | DeAL reference "
        "ms/token | × greedy | batched speed-up | identical outputs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['k']} | {r['l']} | {1e3 * r['greedy_s_per_token']:.2f} | "
            f"{1e3 * r['batched_s_per_token']:.2f} | {r['batched_vs_greedy']:.1f} | "
            f"{1e3 * r['reference_s_per_token']:.2f} | {r['reference_vs_greedy']:.1f} | "
            f"{r['batched_speedup']:.1f} | {'yes' if r['identical'] else 'no'} |"
        )
    lines.append("")
    lines.append(
        f"{settings['model']}, {settings['prompts']} prompts × {settings['new_tokens']} tokens "
        f"each, b={settings['beam_width']}, greedy lookahead, keyword heuristic; ratios against "
        f"greedy `model.generate` in the same run; best of {settings['rounds']} rounds "
        "(reference: one)."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    from benchmarks.__main__ import main

    sys.exit(main(names=("decoding",)))
