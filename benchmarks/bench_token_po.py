"""Step time and peak memory of each token-level method against TRL's plain ``DPOTrainer``.

    python -m benchmarks token_po [--smoke] [--gpu] [--set reps=N] [--set batch=B]

Same model (the zoo's ``tiny-gpt2-reviews``; smoke: a random tiny GPT-2), same batch of
sentiment pairs, one optimizer step (forward of policy and reference, loss, backward, AdamW
update). On the CPU every configuration runs in a fresh subprocess; time is the median of
``reps`` steps after two warm-up steps, peak memory the rise of the peak during the timed steps
(:func:`toolkit.benchmarking.peak_memory`: RSS on the CPU, allocated bytes on CUDA). Ratios
are against TRL's DPO measured in the same run. Goal (issue #4): every token-level method
within 1.3× of DPO's step time on CPU.
"""

from __future__ import annotations

import statistics
import sys
import time

from benchmarks import ROOT
from toolkit.benchmarking import peak_memory, run_isolated

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
GPU_PLAN = "every configuration's optimizer step on CUDA"
TINY = "tiny-random"  # a random tiny GPT-2 (toolkit.zoo.tiny): nothing to train or cache


def settings(*, smoke: bool, device: str) -> dict:
    """Model, configurations, steps, batch and process isolation for a run on ``device``."""
    return {
        "model": TINY if smoke else "tiny-gpt2-reviews",
        "configs": ["trl-dpo", "tdpo2+fused"] if smoke else list(CONFIGS),
        "reps": 1 if smoke else 10,
        "batch": 2 if smoke else 8,
        "isolate": device == "cpu" and not smoke,
    }


def _models(name: str):
    """Policy, reference and tokenizer: two copies of zoo model ``name`` or of a tiny GPT-2."""
    from toolkit import zoo
    from toolkit.zoo.tiny import tiny_gpt2, tiny_tokenizer

    if name == TINY:
        tokenizer = tiny_tokenizer()
        return tiny_gpt2(tokenizer), tiny_gpt2(tokenizer), tokenizer
    policy, tokenizer = zoo.load_causal_lm(name)
    return policy, zoo.load_causal_lm(name)[0], tokenizer


def worker(spec: dict) -> dict:
    """Build the trainer for configuration ``spec["name"]`` and time ``spec["reps"]`` training
    steps on one batch of ``spec["batch"]`` pairs on ``spec["device"]``."""
    import warnings

    warnings.filterwarnings("ignore")
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    from toolkit import seed_everything
    from toolkit.alignment.token_po_config import TokenPOConfig
    from toolkit.alignment.token_po_trainer import TokenPOTrainer
    from toolkit.data.preferences import sentiment_pairs

    name, reps, batch_size = spec["name"], spec["reps"], spec["batch"]
    seed_everything(0)
    policy, reference, tokenizer = _models(spec["model"])
    rows = [
        {k: p.to_dict()[k] for k in ("prompt", "chosen", "rejected")}
        for p in sentiment_pairs(batch_size, 0)
    ]
    common = dict(
        output_dir="/tmp/token_po_bench",
        per_device_train_batch_size=batch_size,
        use_cpu=spec["device"] == "cpu",
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
    times = []
    with peak_memory(spec["device"]) as peak:
        for _ in range(reps):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
    return {
        "name": name,
        "seconds": statistics.median(times),
        "peak_mib": peak["bytes"] / 2**20,
        "step_rounds_s": times,
    }


def run(settings: dict, device: str) -> list[dict]:
    """One row per configuration (TRL's DPO first: the ratios' base)."""
    unknown = [c for c in settings["configs"] if c not in CONFIGS]
    if unknown or "trl-dpo" not in settings["configs"]:
        raise ValueError(f"configs must include 'trl-dpo' and name only {list(CONFIGS)}")
    rows = []
    for name in settings["configs"]:
        spec = {"name": name, "device": device, **settings}
        if settings["isolate"]:
            rows.append(run_isolated("benchmarks.bench_token_po:worker", spec, ROOT))
        else:
            rows.append(worker(spec))
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def table(results: dict) -> str:
    rows = results["rows"]
    base = next(r for r in rows if r["name"] == "trl-dpo")
    lines = [
        "| method | step time (ms) | × TRL DPO | peak memory (MiB) | × TRL DPO | ≤ 1.3× |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        t = r["seconds"] / base["seconds"]
        m = f"{r['peak_mib'] / base['peak_mib']:.2f}" if base["peak_mib"] > 0 else "n/a"
        lines.append(
            f"| {r['name']} | {1000 * r['seconds']:.1f} | {t:.2f} | "
            f"{r['peak_mib']:.1f} | {m} | {'yes' if t <= TIME_GOAL else 'no'} |"
        )
    s = results["settings"]
    lines.append("")
    lines.append(
        f"Model `{s['model']}`, batch of {s['batch']} pairs, median of {s['reps']} steps. "
        f"Goal: every method within {TIME_GOAL}× of TRL DPO's step time."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    from benchmarks.__main__ import main

    sys.exit(main(names=("token_po",)))
