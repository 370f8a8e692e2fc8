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

import math
import statistics
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from datasets import Dataset
from transformers import PrinterCallback

from toolkit._checks import (
    check_choice,
    check_int,
    check_nonempty,
    check_number,
    check_probability,
    check_str,
    describe,
)
from toolkit.data.preferences import biased_pairs, counterfactual_pairs
from toolkit.lm_metrics import check_fits_model, check_model, check_texts, check_tokenizer
from toolkit.notebook_training import quiet_cpu_args, quiet_datasets
from toolkit.rewards.binning import SCHEMES, categorical_bins, continuous_bins
from toolkit.rewards.causal_reward_config import CausalRewardConfig
from toolkit.rewards.causal_reward_trainer import CausalRewardTrainer
from toolkit.rewards.metrics import counterfactual_gap, reward_scores, rows_columns, z_correlation
from toolkit.seeding import seed_everything
from toolkit.zoo import load_reward_model


def lab_rows(
    bias: str, n: int, seed: int, split: str = "train", n_bins: int = 4, scheme: str = "equal_width"
) -> list[dict]:
    """``n`` preference rows of ``bias`` with their Z (``z_chosen``, ``z_rejected``), whether
    it is the favoured value (``z_favoured_*``) and its bins (``z_bin_*``; ``n_bins`` and
    ``scheme`` apply to length, the one continuous Z, and are checked for every bias)."""
    n = check_int("n", n, minimum=1)
    check_int("n_bins", n_bins, minimum=1)
    check_choice("scheme", scheme, SCHEMES)
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
    MMD penalty at ``mmd_lambda`` (0: vanilla); returns ``(model, tokenizer, log_history)``.

    ``rows`` (as from :func:`lab_rows`) and every setting are checked before the backbone
    loads; the trainer then checks the Z bins row by row."""
    columns = rows_columns(
        rows, ("prompt", "chosen", "rejected"), ("z_bin_chosen", "z_bin_rejected")
    )
    check_int("batch_size", batch_size, minimum=1)
    check_number("learning_rate", learning_rate, minimum=0, strict_min=True)
    seed_everything(seed)
    dataset = Dataset.from_dict(columns)
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
        model, tokenizer = load_reward_model(backbone)
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

    @property
    def reward_sd(self) -> float:
        """Standard deviation of the rewards of the de-confounded responses (population):
        the scale the counterfactual gap is measured against; NaN without rewards."""
        if len(self.rewards) < 2:
            return math.nan
        return statistics.pstdev(self.rewards)

    @property
    def margin(self) -> float:
        """Mean r(chosen) − r(rejected) on the de-confounded pairs (chosen rewards come first
        in ``rewards``); NaN without rewards."""
        n = len(self.rewards) // 2
        if n == 0:
            return math.nan
        return statistics.fmean(self.rewards[:n]) - statistics.fmean(self.rewards[n : 2 * n])

    @property
    def normalized_gap(self) -> float:
        """The counterfactual gap in units of the reward's spread, gap / :attr:`reward_sd`: a
        model that shrinks every reward (a collapsing head) shrinks the raw gap too, not this.
        NaN when the rewards do not vary (a constant model says nothing about invariance)."""
        sd = self.reward_sd
        return self.counterfactual_gap / sd if sd > 0 else math.nan

    def __post_init__(self) -> None:
        check_probability("accuracy_iid", self.accuracy_iid)
        check_probability("accuracy_deconfounded", self.accuracy_deconfounded)
        if not (isinstance(self.z_correlation, float) and math.isnan(self.z_correlation)):
            check_number("z_correlation", self.z_correlation, minimum=-1, maximum=1)
        check_number("counterfactual_gap", self.counterfactual_gap, minimum=0)
        check_number("counterfactual_shift", self.counterfactual_shift)
        if len(self.rewards) != len(self.z):
            raise ValueError(
                f"rewards and z must have one length: {len(self.rewards)} vs {len(self.z)}"
            )


@torch.no_grad()
def evaluate_reward_model(model, tokenizer, bias: str, n: int, seed: int) -> RewardModelReport:
    """Measure on fresh data: ``n`` i.i.d. pairs (Z tied as in training), ``n``
    de-confounded pairs and ``n`` counterfactual pairs, all drawn with ``seed``. The
    correlation is NaN, with a warning, if the model gives every response one reward."""
    check_model(model)
    check_tokenizer(tokenizer)
    n = check_int("n", n, minimum=1)

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
    _check_reports(reports)
    variants = list(dict.fromkeys(v for _, v, _ in reports if v != "vanilla"))
    if not variants:
        raise ValueError("reports hold only the vanilla model; add at least one causal variant")
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


def _check_reports(reports: object) -> None:
    """``{(bias, variant, λ): RewardModelReport}``, non-empty; the vanilla model at λ = 0."""
    if not isinstance(reports, Mapping):
        raise TypeError(
            f"reports must be a dict {{(bias, variant, λ): report}}, got {describe(reports)}"
        )
    check_nonempty("reports", reports)
    for key, report in reports.items():
        if not isinstance(key, tuple) or len(key) != 3:
            raise TypeError(f"reports keys must be (bias, variant, λ) tuples, got {describe(key)}")
        check_str(f"bias of reports key {key!r}", key[0])
        check_str(f"variant of reports key {key!r}", key[1])
        lam = check_number(f"λ of reports key {key!r}", key[2], minimum=0)
        if key[1] == "vanilla" and lam != 0:
            raise ValueError(f"reports key {key!r}: the vanilla model is the λ = 0 end; use 0.0")
        if not isinstance(report, RewardModelReport):
            raise TypeError(f"reports[{key!r}] must be a RewardModelReport, got {describe(report)}")


@torch.no_grad()
def sample_reviews(lm, tokenizer, n: int, max_new_tokens: int = 96, seed: int = 0) -> list[str]:
    """``n`` reviews sampled from ``lm`` from scratch (after EOS, as in its training rows);
    EOS plus ``max_new_tokens`` must fit the model's positions."""
    check_model(lm)
    check_tokenizer(tokenizer)
    n = check_int("n", n, minimum=1)
    check_int("max_new_tokens", max_new_tokens, minimum=1)
    check_int("seed", seed, minimum=0)
    check_fits_model(lm, 1 + max_new_tokens, f"a review of max_new_tokens={max_new_tokens}")
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
    """For each prompt, the candidate response the reward model scores highest;
    ``candidates[i]`` is a non-empty list of responses to ``prompts[i]``."""
    prompts = check_texts("prompts", prompts, allow_empty=True)
    if isinstance(candidates, str) or not isinstance(candidates, Sequence):
        raise TypeError(f"candidates must be a list of lists of str, got {describe(candidates)}")
    if len(candidates) != len(prompts):
        raise ValueError(
            f"candidates must hold one list per prompt: {len(candidates)} vs {len(prompts)}"
        )
    groups = [
        check_texts(f"candidates[{i}]", g, allow_empty=True) for i, g in enumerate(candidates)
    ]
    picked = []
    for prompt, group in zip(prompts, groups, strict=True):
        scores = reward_scores(model, tokenizer, [prompt] * len(group), group)
        picked.append(group[int(scores.argmax())])
    return picked


def sentence_count(text: str) -> int:
    """Sentences in a review of the grammar (each ends with '.', '!' or '?')."""
    check_str("text", text, allow_empty=True)
    return sum(text.count(mark) for mark in ".!?")
