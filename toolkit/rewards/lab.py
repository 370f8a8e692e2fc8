"""The bias lab: the four spurious correlations of Wang et al. (arXiv 2501.09620), a reward
model trained on each, and the measurements that tell shortcut from signal.

Data come from :mod:`toolkit.data.preferences`: in every pair the chosen response is the
positive review (the causal signal) and, in the training split, the favoured value of Z sits
on the chosen side with probability ``strength`` (0.8) and on the rejected side with
``1 − strength``. The test split draws Z independently of the label (de-confounded), and
counterfactual pairs re-render one response with only Z changed.

=================  ==========================  =====================================
bias               Z                           bins for the MMD penalty
=================  ==========================  =====================================
length             sentences (long: 3–4)       equal-width or quantile over the count
sycophancy         "Yes, you are right." first  two (with / without)
concept            topic (favoured: music)     one per topic
discrimination     demographic group (older)   one per group
=================  ==========================  =====================================
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass

import torch
from datasets import Dataset
from transformers import PrinterCallback

from toolkit.data.preferences import biased_pairs, counterfactual_pairs
from toolkit.notebook_training import quiet_cpu_args, quiet_datasets
from toolkit.rewards.binning import categorical_bins, continuous_bins
from toolkit.rewards.causal_reward_config import CausalRewardConfig
from toolkit.rewards.causal_reward_trainer import CausalRewardTrainer
from toolkit.rewards.metrics import counterfactual_gap, reward_scores, z_correlation
from toolkit.seeding import seed_everything
from toolkit.zoo import load_reward_model


def lab_rows(
    bias: str, n: int, seed: int, split: str = "train", n_bins: int = 4, scheme: str = "equal_width"
) -> list[dict]:
    """``n`` preference rows of ``bias`` with their Z (``z_chosen``, ``z_rejected``), whether
    it is the favoured value (``z_favoured_*``) and its bins (``z_bin_*``; ``n_bins`` and
    ``scheme`` apply to length, the one continuous Z)."""
    pairs = [p.to_dict() for p in biased_pairs(bias, n, seed, split=split)]
    z = [p["z_chosen"] for p in pairs] + [p["z_rejected"] for p in pairs]
    if bias == "length":
        bins = continuous_bins(z, n_bins, scheme)
    else:
        bins, _ = categorical_bins(z)
    return [
        dict(p, z_bin_chosen=bins[i], z_bin_rejected=bins[len(pairs) + i])
        for i, p in enumerate(pairs)
    ]


def train_reward_model(
    backbone: str,
    rows: list[dict],
    *,
    mmd_lambda: float = 0.0,
    mmd_variant: str = "unconditional",
    mmd_on: str = "reward",
    mmd_bandwidth: float | None = None,
    steps: int = 60,
    batch_size: int = 16,
    learning_rate: float = 3e-4,
    seed: int = 0,
):
    """A reward model on ``backbone`` (``zoo.load_reward_model``) trained on ``rows`` with the
    MMD penalty at ``mmd_lambda`` (0: vanilla); returns ``(model, tokenizer, log_history)``."""
    seed_everything(seed)
    model, tokenizer = load_reward_model(backbone)
    columns = ("prompt", "chosen", "rejected", "z_bin_chosen", "z_bin_rejected")
    dataset = Dataset.from_list([{k: r[k] for k in columns} for r in rows])
    with tempfile.TemporaryDirectory() as out, warnings.catch_warnings(), quiet_datasets():
        warnings.simplefilter("ignore")  # thin bins in a mini-batch are expected here
        args = CausalRewardConfig(
            output_dir=out,
            mmd_lambda=mmd_lambda,
            mmd_variant=mmd_variant,
            mmd_on=mmd_on,
            mmd_bandwidth=mmd_bandwidth,
            per_device_train_batch_size=batch_size,
            learning_rate=learning_rate,
            seed=seed,
            **quiet_cpu_args(steps),
        )
        trainer = CausalRewardTrainer(
            model, args=args, train_dataset=dataset, processing_class=tokenizer
        )
        trainer.remove_callback(PrinterCallback)
        trainer.train()
    return trainer.model.eval(), tokenizer, list(trainer.state.log_history)


@dataclass(frozen=True)
class RewardModelReport:
    """What a reward model learned: accuracy with and without the confound, and its reliance
    on Z (correlation with the favoured Z on the de-confounded split, counterfactual gap).
    ``rewards`` and ``z`` are its reward and the Z of each de-confounded response (chosen
    ones first), for plots of reward against Z."""

    accuracy_iid: float
    accuracy_deconfounded: float
    z_correlation: float
    counterfactual_gap: float
    counterfactual_shift: float
    rewards: tuple[float, ...] = ()
    z: tuple = ()


@torch.no_grad()
def evaluate_reward_model(model, tokenizer, bias: str, n: int, seed: int) -> RewardModelReport:
    """Measure on fresh data: ``n`` i.i.d. pairs (Z tied as in training), ``n``
    de-confounded pairs and ``n`` counterfactual pairs, all drawn with ``seed``."""

    def scores(rows, side):
        return reward_scores(model, tokenizer, [r["prompt"] for r in rows], [r[side] for r in rows])

    def accuracy(rows):
        return (scores(rows, "chosen") > scores(rows, "rejected")).float().mean().item()

    iid = [p.to_dict() for p in biased_pairs(bias, n, seed, split="train")]
    test = [p.to_dict() for p in biased_pairs(bias, n, seed, split="test")]
    rewards = torch.cat([scores(test, "chosen"), scores(test, "rejected")])
    favoured = [float(r["z_favoured_chosen"]) for r in test] + [
        float(r["z_favoured_rejected"]) for r in test
    ]
    z = [r["z_chosen"] for r in test] + [r["z_rejected"] for r in test]
    gap = counterfactual_gap(
        model, tokenizer, [p.to_dict() for p in counterfactual_pairs(bias, n, seed)]
    )
    return RewardModelReport(
        accuracy_iid=accuracy(iid),
        accuracy_deconfounded=accuracy(test),
        z_correlation=z_correlation(rewards, favoured),
        counterfactual_gap=gap["gap"],
        counterfactual_shift=gap["shift"],
        rewards=tuple(rewards.tolist()),
        z=tuple(z),
    )


def sweep_view_data(reports: dict[tuple[str, str, float], RewardModelReport]) -> dict:
    """Arguments of ``widgets.RewardSweepView`` from ``{(bias, variant, λ): report}``.

    The vanilla model (variant ``"vanilla"``, λ = 0) becomes the λ = 0 end of every causal
    variant's sweep; Z values become indices into their sorted distinct values."""
    variants = list(dict.fromkeys(v for _, v, _ in reports if v != "vanilla"))
    runs, z, z_labels = [], {}, {}
    for (bias, variant, lam), report in reports.items():
        if bias not in z:
            levels = sorted(set(report.z))
            z[bias] = [levels.index(v) for v in report.z]
            z_labels[bias] = [str(v) for v in levels]
        for name in variants if variant == "vanilla" else [variant]:
            runs.append(
                {
                    "bias": bias,
                    "variant": name,
                    "lam": lam,
                    "rewards": list(report.rewards),
                    "accuracy": report.accuracy_deconfounded,
                    "gap": report.counterfactual_gap,
                }
            )
    return {"runs": runs, "z": z, "z_labels": z_labels}


@torch.no_grad()
def sample_reviews(lm, tokenizer, n: int, max_new_tokens: int = 96, seed: int = 0) -> list[str]:
    """``n`` reviews sampled from ``lm`` from scratch (after EOS, as in its training rows)."""
    torch.manual_seed(seed)
    ids = torch.full((n, 1), tokenizer.eos_token_id, device=lm.device)
    out = lm.generate(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        do_sample=True,
        top_k=0,
        max_new_tokens=max_new_tokens,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return [" " + t.strip() for t in tokenizer.batch_decode(out[:, 1:], skip_special_tokens=True)]


def best_of_n(model, tokenizer, prompts: list[str], candidates: list[list[str]]) -> list[str]:
    """For each prompt, the candidate response the reward model scores highest."""
    picked = []
    for prompt, group in zip(prompts, candidates, strict=True):
        scores = reward_scores(model, tokenizer, [prompt] * len(group), group)
        picked.append(group[int(scores.argmax())])
    return picked


def sentence_count(text: str) -> int:
    """Sentences in a review of the grammar (each ends with '.', '!' or '?')."""
    return sum(text.count(mark) for mark in ".!?")
