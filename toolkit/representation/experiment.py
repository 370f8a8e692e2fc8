"""The notebook's experiment: align a base LM on an annotator pool, then measure every group.

* :func:`train_sft` — supervised fine-tuning on a pool's chosen responses, with the zoo's
  training loop (:func:`toolkit.zoo.lm_training.train_causal_lm`, texts packed end to end).
* :func:`train_dpo` — DPO with :func:`toolkit.alignment.train_preference` (the toolkit's
  :class:`~toolkit.alignment.TokenPOTrainer`), the SFT model as policy and reference.
* :func:`evaluation_set` / :func:`evaluate_groups` — per group: perplexity per word of
  parallel held-out responses (after their prompts) in the group's dialect, preference
  accuracy on held-out pairs the
  group labelled, reward (the group's agreement with what the model writes to the group's
  prompts) and opinion similarity to the group on the survey (order-balanced).
* :func:`align_and_evaluate` and :func:`run_sweep` — one pool or many mixes end to end;
  :func:`sweep_view_data` turns a sweep into a :class:`~widgets.AnnotatorMixView`'s data.

:data:`METRICS` names the four metrics, :data:`HIGHER_IS_BETTER` their direction and
:data:`METRIC_LABELS` their axis labels.

Preference accuracy uses the plain log-probability margin ``log π(y_w|x) − log π(y_l|x)`` for
every model (base, SFT, DPO), so the stages are comparable: the two responses of a pair are
the same review with another topic and genre, so the margin is the model's preference.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from toolkit._checks import check_int, check_number, describe
from toolkit.representation.distributions import normalize_mix
from toolkit.representation.groups import (
    GROUPS,
    annotator_pool,
    group_prompts,
    parallel_responses,
    preference_pairs,
    reward,
    reweight_pool,
    sft_texts,
)
from toolkit.representation.metrics import (
    Gap,
    best_worst_gap,
    group_perplexity,
    most_similar_group,
    preference_accuracy,
)
from toolkit.representation.survey import (
    FILM_SURVEY,
    Survey,
    group_similarity,
    lm_scorer,
    survey_answers,
)
from toolkit.seeding import seed_everything

METRICS = ("perplexity", "accuracy", "reward", "similarity")
HIGHER_IS_BETTER = {"perplexity": False, "accuracy": True, "reward": True, "similarity": True}
METRIC_LABELS = {
    "perplexity": "perplexity per word (lower is better)",
    "accuracy": "preference accuracy",
    "reward": "reward (agreement with what it writes)",
    "similarity": "opinion similarity (1 − JS distance)",
}


@dataclass(frozen=True)
class EvaluationSet:
    """Held-out data per group: parallel prompts and responses in its dialect (for perplexity),
    pairs it labelled, its viewer questions (for sampling); and the survey."""

    texts: dict[str, list[str]]
    text_prompts: dict[str, list[str]]
    pairs: dict[str, list[dict]]
    prompts: dict[str, list[str]]
    survey: Survey = FILM_SURVEY


def evaluation_set(n_texts: int, n_pairs: int, seed: int) -> EvaluationSet:
    """``n_texts`` held-out prompts and responses, the same ones in every group's dialect
    (exact parallels), and ``n_pairs`` held-out pairs per group (the ``"test"`` stream)."""
    n_texts = check_int("n_texts", n_texts, minimum=1)
    n_pairs = check_int("n_pairs", n_pairs, minimum=1)
    seed = check_int("seed", seed)
    parallels = parallel_responses(n_texts, seed + 10_007)
    texts = {g: [p["response"][GROUPS[g].dialect] for p in parallels] for g in GROUPS}
    text_prompts = {g: [p["prompt"][GROUPS[g].dialect] for p in parallels] for g in GROUPS}
    pairs = {g: preference_pairs(g, n_pairs, seed, split="test") for g in GROUPS}
    prompts = {g: group_prompts(g) for g in GROUPS}
    return EvaluationSet(texts, text_prompts, pairs, prompts)


@dataclass
class GroupReport:
    """Every per-group metric of one model, and its survey answers and samples."""

    perplexity: dict[str, float]
    accuracy: dict[str, float]
    reward: dict[str, float]
    similarity: dict[str, float]
    answers: dict[str, tuple[float, ...]] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def metric(self, name: str) -> dict[str, float]:
        if name not in METRICS:
            raise ValueError(f"metric must be one of {list(METRICS)}, got {name!r}")
        return getattr(self, name)

    def gap(self, name: str) -> Gap:
        """Best group, worst group and the gap of metric ``name``."""
        return best_worst_gap(self.metric(name), HIGHER_IS_BETTER[name])

    @property
    def most_similar(self) -> str:
        return most_similar_group(self.similarity)

    def summary(self) -> dict:
        """Plain numbers: every metric per group and every gap."""
        out = {m: dict(self.metric(m)) for m in METRICS}
        out["gaps"] = {m: self.gap(m).gap for m in METRICS}
        out["most_similar"] = self.most_similar
        out["answers"] = {k: list(v) for k, v in self.answers.items()}
        return out


@torch.no_grad()
def sample_responses(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    n_per_prompt: int,
    *,
    max_new_tokens: int = 40,
    seed: int = 0,
) -> list[str]:
    """``n_per_prompt`` sampled responses (temperature 1, no top-k) to each prompt, in prompt
    order, each prompt read after EOS as in training. One batched call: prompts are padded on
    the left (positions follow the attention mask). The global random state is left as it
    was."""
    from toolkit.lm_metrics import check_texts

    prompts = check_texts("prompts", prompts, allow_empty=True)
    check_int("n_per_prompt", n_per_prompt, minimum=1)
    check_int("max_new_tokens", max_new_tokens, minimum=1)
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    rows = [[eos] + tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    rows = [row for row in rows for _ in range(n_per_prompt)]
    width = max(len(r) for r in rows)
    ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=model.device)
    attention = torch.tensor(
        [[0] * (width - len(r)) + [1] * len(r) for r in rows], device=model.device
    )
    model.eval()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generated = model.generate(
            input_ids=ids,
            attention_mask=attention,
            do_sample=True,
            temperature=1.0,
            top_k=0,
            max_new_tokens=max_new_tokens,
            pad_token_id=pad,
            eos_token_id=eos,
        )
    return tokenizer.batch_decode(generated[:, width:], skip_special_tokens=True)


def evaluate_groups(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    data: EvaluationSet,
    *,
    n_samples: int = 4,
    max_new_tokens: int = 40,
    seed: int = 0,
) -> GroupReport:
    """Every per-group metric of ``model`` on ``data`` (see the module docstring);
    ``n_samples`` responses per prompt for the reward."""
    if not isinstance(data, EvaluationSet):
        raise TypeError(f"data must be an EvaluationSet, got {describe(data)}")
    check_int("n_samples", n_samples, minimum=1)
    model.eval()
    perplexity = group_perplexity(model, tokenizer, data.texts, data.text_prompts)
    accuracy = {g: preference_accuracy(model, tokenizer, data.pairs[g]) for g in data.pairs}
    samples, rewards = {}, {}
    for k, g in enumerate(data.prompts):
        samples[g] = sample_responses(
            model, tokenizer, data.prompts[g], n_samples, max_new_tokens=max_new_tokens,
            seed=seed + k,
        )  # fmt: skip
        rewards[g] = sum(reward(g, s) for s in samples[g]) / len(samples[g])
    answers = survey_answers(lm_scorer(model, tokenizer), data.survey)
    similarity = group_similarity(answers, data.survey)
    return GroupReport(perplexity, accuracy, rewards, similarity, answers, samples)


def train_sft(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    rows: Sequence[Mapping],
    *,
    steps: int,
    learning_rate: float = 1e-3,
    batch_size: int = 16,
    block_size: int = 64,
    seed: int = 0,
) -> PreTrainedModel:
    """A copy of ``model`` fine-tuned on the pool's ``prompt + chosen`` texts (packed, EOS
    between texts) for ``steps`` steps of the zoo's training loop."""
    from toolkit.zoo.lm_training import LMTrainConfig, pack_texts, train_causal_lm

    check_int("steps", steps, minimum=1)
    check_number("learning_rate", learning_rate, minimum=0.0, strict_min=True)
    texts = sft_texts(rows)
    cfg = LMTrainConfig(
        block_size=block_size, batch_size=batch_size, steps=steps, lr=learning_rate,
        warmup_steps=max(1, steps // 10), weight_decay=0.0, seed=seed,
    )  # fmt: skip
    tuned = copy.deepcopy(model)
    packed = pack_texts(texts, tokenizer, cfg.block_size)
    train_causal_lm(tuned, packed, cfg, "SFT")
    return tuned.eval()


def train_dpo(
    policy: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    rows: Sequence[Mapping],
    *,
    steps: int,
    beta: float = 0.1,
    learning_rate: float = 1e-3,
    batch_size: int = 16,
    seed: int = 0,
) -> PreTrainedModel:
    """A copy of ``policy`` trained with DPO on ``rows`` against a frozen copy of itself."""
    from toolkit.alignment import train_preference

    run = train_preference(
        policy, policy, tokenizer,
        [{k: r[k] for k in ("prompt", "chosen", "rejected")} for r in rows],
        method="dpo", beta=beta, steps=steps, batch_size=batch_size,
        learning_rate=learning_rate, seed=seed,
    )  # fmt: skip
    return run.model.eval()


@dataclass
class AlignmentResult:
    """One pool's SFT and DPO models and their group reports."""

    name: str
    mix: dict[str, float]
    pool_shares: dict[str, float]
    reports: dict[str, GroupReport]  # "sft", "dpo"
    models: dict[str, PreTrainedModel] = field(default_factory=dict, repr=False)

    def summary(self) -> dict:
        return {
            "name": self.name,
            "mix": self.mix,
            "pool_shares": self.pool_shares,
            "reports": {stage: r.summary() for stage, r in self.reports.items()},
        }


@dataclass(frozen=True)
class Budget:
    """Sizes of one alignment run: pool size, steps and learning rates, evaluation samples."""

    n_pool: int = 256
    sft_steps: int = 60
    dpo_steps: int = 60
    sft_learning_rate: float = 5e-4
    dpo_learning_rate: float = 2e-4
    beta: float = 0.1
    batch_size: int = 16
    n_samples: int = 4

    def __post_init__(self):
        for name in ("n_pool", "sft_steps", "dpo_steps", "batch_size", "n_samples"):
            check_int(name, getattr(self, name), minimum=1)
        for name in ("sft_learning_rate", "dpo_learning_rate", "beta"):
            check_number(name, getattr(self, name), minimum=0.0, strict_min=True)

    def to_dict(self) -> dict:
        return asdict(self)


def align_and_evaluate(
    base: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    rows: Sequence[Mapping],
    data: EvaluationSet,
    *,
    name: str,
    mix: Mapping[str, float],
    budget: Budget = Budget(),
    seed: int = 0,
    keep_models: bool = False,
) -> AlignmentResult:
    """SFT on ``rows``' chosen responses, then DPO on ``rows``; both stages evaluated."""
    from toolkit.representation.groups import pool_shares

    if not isinstance(budget, Budget):
        raise TypeError(f"budget must be a Budget, got {describe(budget)}")
    seed_everything(seed)
    sft = train_sft(
        base, tokenizer, rows, steps=budget.sft_steps, learning_rate=budget.sft_learning_rate,
        batch_size=budget.batch_size, seed=seed,
    )  # fmt: skip
    dpo = train_dpo(
        sft, tokenizer, rows, steps=budget.dpo_steps, beta=budget.beta,
        learning_rate=budget.dpo_learning_rate, batch_size=budget.batch_size, seed=seed,
    )  # fmt: skip
    reports = {
        stage: evaluate_groups(model, tokenizer, data, n_samples=budget.n_samples, seed=seed)
        for stage, model in (("sft", sft), ("dpo", dpo))
    }
    models = {"sft": sft, "dpo": dpo} if keep_models else {}
    return AlignmentResult(name, normalize_mix(mix), pool_shares(rows), reports, models)


def pool_for(kind: str, mix: Mapping[str, float], n: int, seed: int) -> list[dict]:
    """The training rows of a condition: ``"pool"`` (annotators drawn to ``mix``) or
    ``"reweighted"`` (that pool resampled to equal group shares)."""
    rows = annotator_pool(mix, n, seed)
    if kind == "pool":
        return rows
    if kind == "reweighted":
        return reweight_pool(rows, seed=seed)
    raise ValueError(f"kind must be 'pool' or 'reweighted', got {kind!r}")


def run_sweep(
    base: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    mixes: Sequence[Mapping[str, float]],
    data: EvaluationSet,
    *,
    budget: Budget = Budget(),
    seed: int = 0,
    keep: Sequence[Mapping[str, float]] = (),
    progress: bool = True,
) -> list[AlignmentResult]:
    """:func:`align_and_evaluate` on an annotator pool of each mix (same seed, so pools
    share their pairs group by group); the trained models of the mixes in ``keep`` are kept
    on their results (``result.models``)."""
    from tqdm.auto import tqdm

    mixes = [normalize_mix(m, f"mixes[{i}]") for i, m in enumerate(mixes)]
    kept = [normalize_mix(m, f"keep[{i}]") for i, m in enumerate(keep)]
    results = []
    for mix in tqdm(mixes, desc="annotator mixes", disable=not progress):
        label = "/".join(f"{round(100 * mix[g])}" for g in GROUPS)
        rows = pool_for("pool", mix, budget.n_pool, seed)
        keep_models = any(all(abs(mix[g] - k[g]) < 1e-9 for g in GROUPS) for k in kept)
        results.append(
            align_and_evaluate(
                base,
                tokenizer,
                rows,
                data,
                name=label,
                mix=mix,
                budget=budget,
                seed=seed,
                keep_models=keep_models,
            )  # fmt: skip
        )
    return results


def find_mix(results: Sequence[AlignmentResult], mix: Mapping[str, float]) -> AlignmentResult:
    """The result whose mix equals ``mix`` (to 1e-9)."""
    target = normalize_mix(mix)
    for r in results:
        if all(abs(r.mix[g] - target[g]) < 1e-9 for g in GROUPS):
            return r
    raise ValueError(f"no result at mix {target}; the sweep has {[r.name for r in results]}")


def sweep_view_data(results: Sequence[AlignmentResult], base: GroupReport | None = None) -> dict:
    """Keyword arguments of :class:`widgets.AnnotatorMixView` for a sweep: one run per mix
    and stage with every metric per group, the base model's metrics as the reference."""
    runs = [
        {
            "mix": dict(r.mix),
            "stage": stage,
            "metrics": {m: dict(report.metric(m)) for m in METRICS},
        }
        for r in results
        for stage, report in r.reports.items()
    ]
    out = {
        "runs": runs,
        "groups": list(GROUPS),
        "metric_labels": dict(METRIC_LABELS),
        "higher_is_better": dict(HIGHER_IS_BETTER),
    }
    if base is not None:
        out["reference"] = {m: dict(base.metric(m)) for m in METRICS}
    return out


__all__ = [
    "HIGHER_IS_BETTER",
    "METRICS",
    "METRIC_LABELS",
    "AlignmentResult",
    "Budget",
    "EvaluationSet",
    "GroupReport",
    "align_and_evaluate",
    "evaluate_groups",
    "evaluation_set",
    "find_mix",
    "pool_for",
    "run_sweep",
    "sample_responses",
    "sweep_view_data",
    "train_dpo",
    "train_sft",
]
