"""Sentiment control, the SparsePO/DPO IMDB setup at small scale (arXiv 2410.05102 §4.1).

A policy continues review openings; a sentiment reward that does not share the corpus
generator's lexicon scores the continuations; preference pairs are the best and worst
continuation of each prompt; a trained policy is judged by its mean reward and its
sequence KL to the reference on held-out prompts (the reward–KL frontier).

The reward here is a logistic-regression probe on MiniLM sentence embeddings, fitted on
held-out labelled reviews: it sees embeddings, never the grammar's sentiment words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from toolkit._checks import check_int, check_number, describe
from toolkit.alignment.checks import check_texts
from toolkit.data import generate_reviews
from toolkit.zoo.encoder import SentenceEncoder


@dataclass
class SentimentReward:
    """r(y) = logit P(positive | MiniLM(y)): a linear probe on frozen sentence embeddings."""

    encoder: SentenceEncoder
    weight: torch.Tensor  # (d,)
    bias: torch.Tensor  # ()

    @classmethod
    def fit(cls, encoder: SentenceEncoder, n: int = 400, seed: int = 12_345, steps: int = 300):
        """Fit the probe on ``n`` labelled reviews drawn with ``seed`` (full-batch Adam)."""
        reviews = generate_reviews(n, seed)
        x = encoder.encode([r.text for r in reviews])  # (n, d)
        y = torch.tensor([float(r.sentiment > 0) for r in reviews])
        generator = torch.Generator().manual_seed(seed)
        weight = (0.01 * torch.randn(x.shape[1], generator=generator)).requires_grad_()
        bias = torch.zeros((), requires_grad=True)
        optimizer = torch.optim.Adam([weight, bias], lr=0.05)
        for _ in range(steps):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ weight + bias, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return cls(encoder, weight.detach(), bias.detach())

    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        """Rewards (N,) for ``texts``; positive means positive sentiment."""
        return self.encoder.encode(check_texts("texts", texts)) @ self.weight + self.bias


@torch.no_grad()
def sample_continuations(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    n_per_prompt: int,
    *,
    max_new_tokens: int = 24,
    temperature: float = 1.0,
    seed: int = 0,
) -> list[list[str]]:
    """``n_per_prompt`` sampled continuations (text after the prompt) for each prompt."""
    prompts = check_texts("prompts", prompts)
    check_int("n_per_prompt", n_per_prompt, minimum=1)
    check_int("max_new_tokens", max_new_tokens, minimum=1)
    check_number("temperature", temperature, minimum=0.0, strict_min=True)
    torch.manual_seed(seed)
    out = []
    for prompt in prompts:
        inputs = tokenizer([prompt] * n_per_prompt, return_tensors="pt").to(model.device)
        generated = model.generate(
            **inputs,
            do_sample=True,
            temperature=temperature,
            top_k=0,
            max_new_tokens=max_new_tokens,
            pad_token_id=tokenizer.pad_token_id,
        )
        new = generated[:, inputs["input_ids"].shape[1] :]
        out.append(tokenizer.batch_decode(new, skip_special_tokens=True))
    return out


def best_worst_pairs(
    prompts: Sequence[str], continuations: Sequence[Sequence[str]], rewards: Sequence[torch.Tensor]
) -> list[dict]:
    """One TRL preference row per prompt: its highest-reward vs lowest-reward continuation.

    Prompts whose best and worst continuations are the same text are skipped. The three
    sequences run in parallel (one entry per prompt); ``rewards[i]`` holds one finite score
    per continuation in ``continuations[i]``.
    """
    prompts = check_texts("prompts", prompts)
    for name, values in (("continuations", continuations), ("rewards", rewards)):
        if not isinstance(values, Sequence) or len(values) != len(prompts):
            raise ValueError(
                f"{name} must hold one entry per prompt ({len(prompts)}), got {describe(values)}"
            )
    for i, (texts, scores) in enumerate(zip(continuations, rewards, strict=True)):
        texts = check_texts(f"continuations[{i}]", texts)
        if not isinstance(scores, torch.Tensor) or scores.shape != (len(texts),):
            raise ValueError(
                f"rewards[{i}] must be a tensor of {len(texts)} scores, one per continuation, "
                f"got {describe(scores)}"
            )
        if not torch.isfinite(scores).all():
            raise ValueError(f"rewards[{i}] holds NaN or inf")
    rows = []
    for prompt, texts, scores in zip(prompts, continuations, rewards, strict=True):
        best, worst = int(scores.argmax()), int(scores.argmin())
        if texts[best] != texts[worst]:
            rows.append(
                {
                    "prompt": prompt,
                    "chosen": texts[best],
                    "rejected": texts[worst],
                    "reward_chosen": float(scores[best]),
                    "reward_rejected": float(scores[worst]),
                }
            )
    return rows


@torch.no_grad()
def sequence_kl(
    policy: PreTrainedModel,
    reference: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompt: str,
    continuations: Sequence[str],
) -> torch.Tensor:
    """Monte-Carlo KL(π‖πref) per sample: Σ_t log π(y_t) − log πref(y_t) over y ~ π, (N,)."""
    prompt_len = len(tokenizer(prompt)["input_ids"])
    batch = tokenizer([prompt + c for c in continuations], return_tensors="pt", padding=True)
    batch = batch.to(policy.device)
    labels = batch["input_ids"][:, 1:]
    mask = batch["attention_mask"][:, 1:].bool()
    mask[:, : prompt_len - 1] = False

    def logps(model):
        logits = model(**batch).logits[:, :-1].float()
        return torch.log_softmax(logits, -1).gather(-1, labels[..., None])[..., 0]

    return torch.where(mask, logps(policy) - logps(reference), 0).sum(-1)


@dataclass(frozen=True)
class FrontierPoint:
    """Where one policy lands: mean reward and mean sequence KL to the reference (finite
    numbers; the KL is a Monte-Carlo estimate and may come out slightly negative)."""

    reward: float
    kl: float

    def __post_init__(self) -> None:
        for name in ("reward", "kl"):
            object.__setattr__(self, name, check_number(name, getattr(self, name)))


def evaluate_policy(
    policy: PreTrainedModel,
    reference: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    reward: SentimentReward,
    *,
    n_per_prompt: int = 4,
    max_new_tokens: int = 24,
    seed: int = 0,
) -> FrontierPoint:
    """Sample from ``policy`` on held-out ``prompts``; average the reward and KL(π‖πref)."""
    samples = sample_continuations(
        policy, tokenizer, prompts, n_per_prompt, max_new_tokens=max_new_tokens, seed=seed
    )
    rewards = torch.cat(
        [reward([p + c for c in cs]) for p, cs in zip(prompts, samples, strict=True)]
    )
    kls = torch.cat(
        [
            sequence_kl(policy, reference, tokenizer, p, cs)
            for p, cs in zip(prompts, samples, strict=True)
        ]
    )
    return FrontierPoint(reward=rewards.mean().item(), kl=kls.mean().item())


def frontier(points: Sequence[FrontierPoint], origin: FrontierPoint) -> list[FrontierPoint]:
    """The reward–KL frontier of ``points``: the best reward reached at KL ≤ k, as a
    piecewise-linear curve from ``origin`` (the reference policy, KL 0) through the points
    that raise it, sorted by KL. Dominated points (more KL, no more reward) drop out."""
    curve = [origin]
    for point in sorted(points, key=lambda p: p.kl):
        if point.reward > curve[-1].reward:
            curve.append(point)
    return curve


def frontier_reward(curve: Sequence[FrontierPoint], kl: float) -> float:
    """The frontier's reward at ``kl``: linear between its points, flat beyond the last."""
    for left, right in zip(curve, curve[1:], strict=False):
        if kl <= right.kl:
            t = (kl - left.kl) / (right.kl - left.kl) if right.kl > left.kl else 1.0
            return left.reward + max(0.0, t) * (right.reward - left.reward)
    return curve[-1].reward


def frontier_gap(
    points: Sequence[FrontierPoint], baseline: Sequence[FrontierPoint], origin: FrontierPoint
) -> float:
    """Mean reward of ``points`` above ``baseline``'s frontier at the same KL: > 0 means
    ``points`` get more reward for the KL they spend (SparsePO's claim against DPO)."""
    if not points or not baseline:
        raise ValueError("frontier_gap needs at least one point on each side")
    named = [("origin", origin)]
    named += [(f"{side}[{i}]", p) for side, ps in (("points", points), ("baseline", baseline))
              for i, p in enumerate(ps)]  # fmt: skip
    for name, point in named:
        if not isinstance(point, FrontierPoint):
            raise TypeError(f"{name} must be a FrontierPoint, got {describe(point)}")
    curve = frontier(baseline, origin)
    return sum(p.reward - frontier_reward(curve, p.kl) for p in points) / len(points)
