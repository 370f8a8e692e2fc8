"""A small, deterministic causal-LM training loop for the zoo's built-in models."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase


@dataclass(frozen=True)
class LMTrainConfig:
    block_size: int = 128  # tokens per training row; texts are packed end to end
    batch_size: int = 16  # rows per step (2k tokens): many small steps beat few big ones here
    steps: int = 200  # fixed step count (not a time budget) keeps training deterministic
    lr: float = 6e-3  # tiny models tolerate a high peak learning rate; 200 steps need it
    warmup_steps: int = 20  # linear warm-up, then cosine decay to 10% of lr
    weight_decay: float = 0.1
    seed: int = 0


def pack_texts(
    texts: Sequence[str], tokenizer: PreTrainedTokenizerBase, block_size: int
) -> torch.Tensor:
    """Concatenate ``EOS text EOS text ...`` and cut it into rows: ``(N, block_size)``."""
    eos = tokenizer.eos_token_id
    stream: list[int] = []
    for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        stream.append(eos)
        stream.extend(ids)
    n_rows = len(stream) // block_size
    if n_rows == 0:
        raise ValueError(f"{len(texts)} texts give fewer than block_size={block_size} tokens")
    return torch.tensor(stream[: n_rows * block_size]).view(n_rows, block_size)


def _lr_at(step: int, cfg: LMTrainConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train_causal_lm(
    model: PreTrainedModel, rows: torch.Tensor, cfg: LMTrainConfig, desc: str = "training"
) -> list[float]:
    """Train ``model`` in place on packed ``rows`` with AdamW; returns the loss per step.

    Batches are drawn with a generator seeded from ``cfg.seed``, so the same
    config, rows and initial weights give the same model.
    """
    generator = torch.Generator().manual_seed(cfg.seed)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay}],
        lr=cfg.lr,
        betas=(0.9, 0.95),
    )
    model.train()
    losses = []
    for step in (bar := tqdm(range(cfg.steps), desc=desc, leave=False)):
        for group in optimizer.param_groups:
            group["lr"] = _lr_at(step, cfg)
        batch = rows[torch.randint(len(rows), (cfg.batch_size,), generator=generator)]
        loss = model(input_ids=batch, labels=batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if step % 20 == 0:
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
    model.eval()
    return losses
