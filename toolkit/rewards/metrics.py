"""How a reward model ranks, and how much it leans on the spurious variable Z.

* :func:`reward_scores` — r(x, y) for a list of (prompt, response) pairs, tokenized as TRL's
  ``RewardTrainer`` does (prompt + response + EOS).
* :func:`preference_accuracy` — share of pairs with r(chosen) > r(rejected); on an i.i.d.
  split it rewards shortcuts, on a de-confounded split (Z independent of the label) it does not.
* :func:`z_correlation` — Pearson correlation of rewards with Z (a numeric or 0/1 Z).
* :func:`counterfactual_gap` — over pairs y, y′ that differ only in Z: the mean |r(y) − r(y′)|
  (0 for a counterfactually invariant model) and the mean signed r(y′) − r(y), the reward
  a model adds for the favoured Z (the Bias@C of the paper's concept experiment).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase


@torch.no_grad()
def reward_scores(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    responses: Sequence[str],
    batch_size: int = 32,
) -> torch.Tensor:
    """Rewards (N,) of ``prompt + response + EOS``, right-padded batches, eval mode."""
    if len(prompts) != len(responses) or not prompts:
        raise ValueError(
            f"need as many prompts as responses, at least one: {len(prompts)} vs {len(responses)}"
        )
    was_training = model.training
    model.eval()
    side, tokenizer.padding_side = tokenizer.padding_side, "right"
    try:
        scores = []
        for start in range(0, len(prompts), batch_size):
            texts = [
                p + r + tokenizer.eos_token
                for p, r in zip(
                    prompts[start : start + batch_size],
                    responses[start : start + batch_size],
                    strict=True,
                )
            ]
            batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=True)
            batch = batch.to(model.device)
            scores.append(model(**batch).logits[:, 0].float().cpu())
        return torch.cat(scores)
    finally:
        tokenizer.padding_side = side
        model.train(was_training)


def preference_accuracy(model, tokenizer, rows: Sequence[dict]) -> float:
    """Share of ``rows`` (prompt, chosen, rejected) where r(chosen) > r(rejected)."""
    prompts = [r["prompt"] for r in rows]
    chosen = reward_scores(model, tokenizer, prompts, [r["chosen"] for r in rows])
    rejected = reward_scores(model, tokenizer, prompts, [r["rejected"] for r in rows])
    return (chosen > rejected).float().mean().item()


def z_correlation(rewards: torch.Tensor, z: Sequence[float]) -> float:
    """Pearson correlation of ``rewards`` (N,) with a numeric Z (N,); NaN if either is constant."""
    z = torch.as_tensor(z, dtype=torch.float64)
    r = rewards.to(torch.float64)
    if len(z) != len(r) or len(r) < 2:
        raise ValueError(f"need as many Z values as rewards, at least 2: {len(z)} vs {len(r)}")
    return torch.corrcoef(torch.stack([r, z]))[0, 1].item()


def counterfactual_gap(model, tokenizer, rows: Sequence[dict]) -> dict[str, float]:
    """Over ``rows`` (prompt, original, counterfactual = the same response with the favoured Z):
    ``{"gap": mean |r(y′) − r(y)|, "shift": mean r(y′) − r(y)}``."""
    prompts = [r["prompt"] for r in rows]
    original = reward_scores(model, tokenizer, prompts, [r["original"] for r in rows])
    flipped = reward_scores(model, tokenizer, prompts, [r["counterfactual"] for r in rows])
    delta = flipped - original
    return {"gap": delta.abs().mean().item(), "shift": delta.mean().item()}
