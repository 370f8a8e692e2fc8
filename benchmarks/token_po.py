"""Step time and peak memory of each token-level method against TRL's plain ``DPOTrainer``.

    python benchmarks/token_po.py [--reps N] [--batch B] [--out PATH]

Same model (the zoo's ``tiny-gpt2-reviews``), same batch of sentiment pairs, one optimizer
step (forward of policy and reference, loss, backward, AdamW update). Every
configuration runs in a fresh subprocess; time is the median of ``--reps`` steps after two
warm-up steps, peak memory the rise of the process's peak RSS during the timed steps (Linux
``/proc/self/clear_refs`` + ``VmHWM``). Ratios are against TRL's DPO measured in the same
run. Goal (issue #4): every token-level method within 1.3× of DPO's step time on CPU.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "token_po.json"
CONFIGS = {
    "trl-dpo": {},
    "dpo": {"method": "dpo"},
    "tdpo1": {"method": "tdpo1"},
    "tdpo2": {"method": "tdpo2"},
    "tdpo2+fused": {"method": "tdpo2", "use_fused_kernels": True},
    "sparsepo": {"method": "sparsepo", "sparsepo_mask": "ones"},
    "sparsepo+activation mask": {"method": "sparsepo", "sparsepo_mask": "reference"},
    "sparsepo+learned mask": {"method": "sparsepo", "sparsepo_mask": "learned"},
    "tis_dpo": {"method": "tis_dpo"},
    "target_dpo": {"method": "target_dpo"},
}
TIME_GOAL = 1.3


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def worker(name: str, reps: int, batch_size: int) -> dict:
    """Build the trainer for ``name`` and measure ``reps`` training steps on one batch."""
    import warnings

    warnings.filterwarnings("ignore")
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    from toolkit import seed_everything, zoo
    from toolkit.alignment.token_po_config import TokenPOConfig
    from toolkit.alignment.token_po_trainer import TokenPOTrainer
    from toolkit.data.preferences import sentiment_pairs

    seed_everything(0)
    policy, tokenizer = zoo.load_causal_lm("tiny-gpt2-reviews")
    reference, _ = zoo.load_causal_lm("tiny-gpt2-reviews")
    rows = [
        {k: p.to_dict()[k] for k in ("prompt", "chosen", "rejected")}
        for p in sentiment_pairs(batch_size, 0)
    ]
    common = dict(
        output_dir="/tmp/token_po_bench",
        per_device_train_batch_size=batch_size,
        use_cpu=True,
        bf16=False,
        report_to="none",
        save_strategy="no",
        disable_tqdm=True,
    )
    if name == "trl-dpo":
        trainer = DPOTrainer(
            policy,
            ref_model=reference,
            args=DPOConfig(**common),
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
        )
    else:
        probe = TokenPOTrainer(
            policy,
            ref_model=reference,
            args=TokenPOConfig(**common, method="dpo"),
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
        )
        for row in rows:  # weights/masks of the right length: every other token
            for side in ("chosen", "rejected"):
                n = len(probe.completion_token_ids(row["prompt"], row[side]))
                row[f"{side}_weights"] = [float(i % 2) for i in range(n)]
        trainer = TokenPOTrainer(
            policy,
            ref_model=reference,
            args=TokenPOConfig(**common, **CONFIGS[name]),
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
        )
    batch = next(iter(trainer.get_train_dataloader()))
    trainer.create_optimizer_and_scheduler(num_training_steps=reps + 2)
    trainer.current_gradient_accumulation_steps = 1  # set by Trainer's own loop otherwise
    model = trainer.model
    model.train()

    def step():
        trainer.training_step(model, batch)
        trainer.optimizer.step()
        trainer.optimizer.zero_grad(set_to_none=True)

    for _ in range(2):
        step()
    Path("/proc/self/clear_refs").write_text("5")
    before = _rss_kib("VmRSS")
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {
        "name": name,
        "seconds": statistics.median(times),
        "peak_mib": (_rss_kib("VmHWM") - before) / 1024,
    }


def run_one(name: str, reps: int, batch_size: int) -> dict:
    """``worker`` in a fresh interpreter, so no allocator state or peak carries over."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        f"from token_po import worker; print(json.dumps(worker({name!r}, {reps}, {batch_size})))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    base = next(r for r in rows if r["name"] == "trl-dpo")
    lines = [
        "| method | step time (ms) | × TRL DPO | peak memory (MiB) | × TRL DPO | ≤ 1.3× |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        t, m = r["seconds"] / base["seconds"], r["peak_mib"] / max(base["peak_mib"], 1e-9)
        lines.append(
            f"| {r['name']} | {1000 * r['seconds']:.1f} | {t:.2f} | "
            f"{r['peak_mib']:.1f} | {m:.2f} | {'yes' if t <= TIME_GOAL else 'no'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=8, help="preference pairs per step")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    rows = [run_one(name, args.reps, args.batch) for name in CONFIGS]
    print(table(rows))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "machine": platform.processor() or platform.machine(),
                "reps": args.reps,
                "batch": args.batch,
                "rows": rows,
            },
            indent=2,
        )
    )
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
