"""A small, deterministic causal-LM training loop for the zoo's built-in models.

Rows come packed end to end (:func:`pack_texts`) or one document per row
(:func:`document_rows`, which can also mark target tokens such as the answers of retrieval
queries). With marked targets the objective is :func:`weighted_lm_loss`,
``mean NLL + target_weight · mean NLL over the targets``: a dense push on the few tokens that
only a retrieval circuit can predict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from toolkit._checks import check_int, check_number, describe
from toolkit.lm_metrics import check_tokenizer
from toolkit.zoo.tokenizer import check_texts


@dataclass(frozen=True)
class LMTrainConfig:
    block_size: int = 128  # tokens per training row; texts are packed end to end
    batch_size: int = 16  # rows per step (2k tokens): many small steps beat few big ones here
    steps: int = 200  # fixed step count (not a time budget) keeps training deterministic
    lr: float = 6e-3  # tiny models tolerate a high peak learning rate; 200 steps need it
    warmup_steps: int = 20  # linear warm-up, then cosine decay to 10% of lr
    weight_decay: float = 0.1
    seed: int = 0

    def __post_init__(self):
        check_int("block_size", self.block_size, minimum=2)
        check_int("batch_size", self.batch_size, minimum=1)
        check_int("steps", self.steps, minimum=1)
        check_number("lr", self.lr, minimum=0, strict_min=True)
        check_int("warmup_steps", self.warmup_steps, minimum=0)
        check_number("weight_decay", self.weight_decay, minimum=0)
        check_int("seed", self.seed, minimum=0)


def pack_texts(
    texts: Sequence[str], tokenizer: PreTrainedTokenizerBase, block_size: int
) -> torch.Tensor:
    """Concatenate ``EOS text EOS text ...`` and cut it into rows: ``(N, block_size)``."""
    texts = check_texts(texts)
    eos = check_tokenizer(tokenizer).eos_token_id
    check_int("block_size", block_size, minimum=2)
    stream: list[int] = []
    for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        stream.append(eos)
        stream.extend(ids)
    n_rows = len(stream) // block_size
    if n_rows == 0:
        raise ValueError(
            f"texts ({len(texts)}) give {len(stream)} tokens, fewer than block_size={block_size}"
        )
    return torch.tensor(stream[: n_rows * block_size]).view(n_rows, block_size)


def document_rows(
    texts: Sequence[str],
    tokenizer: PreTrainedTokenizerBase,
    block_size: int,
    target_spans: Sequence[Sequence[tuple[int, int]]] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One row per text, ``EOS`` + its first ``block_size - 1`` tokens: ``(N, block_size)``.

    Cutting a text's tail never separates what the kept part refers to, unlike packing.
    ``target_spans[i]`` lists character spans ``[start, end)`` of text ``i``; the returned
    boolean mask marks every token overlapping one (all False without spans). Every text
    must reach ``block_size - 1`` tokens.
    """
    texts = check_texts(texts)
    check_tokenizer(tokenizer)
    check_int("block_size", block_size, minimum=2)
    if target_spans is not None:
        _check_spans(target_spans, texts)
    encoded = tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True)
    rows, masks = [], []
    for i, (ids, offsets) in enumerate(
        zip(encoded["input_ids"], encoded["offset_mapping"], strict=True)
    ):
        if len(ids) < block_size - 1:
            raise ValueError(
                f"texts[{i}] has {len(ids)} tokens, fewer than block_size - 1 = {block_size - 1}; "
                "generate longer texts or lower block_size"
            )
        spans = target_spans[i] if target_spans is not None else ()
        marked = [any(s < end and start < e for s, e in spans) for start, end in offsets]
        rows.append([tokenizer.eos_token_id, *ids[: block_size - 1]])
        masks.append([False, *marked[: block_size - 1]])
    return torch.tensor(rows), torch.tensor(masks)


def _check_spans(target_spans: object, texts: list[str]) -> None:
    """Each ``target_spans[i]`` is a list of ``(start, end)`` with ``0 <= start <= end <=
    len(texts[i])``."""
    if isinstance(target_spans, str) or not isinstance(target_spans, Sequence):
        raise TypeError(f"target_spans must be a list of span lists, got {describe(target_spans)}")
    if len(target_spans) != len(texts):
        raise ValueError(f"target_spans has {len(target_spans)} entries for {len(texts)} texts")
    for i, spans in enumerate(target_spans):
        for j, span in enumerate(spans):
            name = f"target_spans[{i}][{j}]"
            if not isinstance(span, tuple | list) or len(span) != 2:
                raise TypeError(f"{name} must be a (start, end) pair, got {describe(span)}")
            start = check_int(f"{name}[0]", span[0], minimum=0)
            check_int(f"{name}[1]", span[1], minimum=start, maximum=len(texts[i]))


def weighted_lm_loss(
    logits: torch.Tensor, input_ids: torch.Tensor, targets: torch.Tensor, target_weight: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(objective, mean NLL)`` for next-token prediction on ``input_ids`` ``(B, T)``.

    ``objective = mean NLL + target_weight · mean NLL over tokens marked in ``targets``
    (a boolean ``(B, T)`` mask of predicted tokens; the second term is 0 if none is marked).
    """
    if logits.dim() != 3 or input_ids.dim() != 2 or logits.shape[:2] != input_ids.shape:
        raise ValueError(
            f"logits must be (B, T, V) and input_ids (B, T) with the same B, T; got "
            f"{tuple(logits.shape)} and {tuple(input_ids.shape)}"
        )
    if targets.shape != input_ids.shape:
        raise ValueError(
            f"targets has shape {tuple(targets.shape)}, input_ids {tuple(input_ids.shape)}"
        )
    check_number("target_weight", target_weight, minimum=0)
    nll = torch.nn.functional.cross_entropy(
        logits[:, :-1].flatten(0, 1).float(), input_ids[:, 1:].flatten(), reduction="none"
    ).view(input_ids.shape[0], -1)  # (B, T-1)
    marked = targets[:, 1:].to(nll.dtype)
    target_nll = (nll * marked).sum() / marked.sum().clamp(min=1)
    mean_nll = nll.mean()
    return mean_nll + target_weight * target_nll, mean_nll


def _lr_at(step: int, cfg: LMTrainConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def _check_rows(rows: object, model: PreTrainedModel) -> None:
    """``rows`` is a non-empty ``(N, T)`` tensor of token ids the model can embed and place."""
    if not isinstance(rows, torch.Tensor) or rows.dtype not in (torch.long, torch.int):
        raise TypeError(f"rows must be an integer tensor of token ids, got {describe(rows)}")
    if rows.dim() != 2 or rows.numel() == 0:
        raise ValueError(f"rows must be a non-empty (N, T) tensor, got shape {tuple(rows.shape)}")
    vocab = model.get_input_embeddings().num_embeddings
    if rows.min() < 0 or rows.max() >= vocab:
        raise ValueError(
            f"rows hold token ids in [{rows.min()}, {rows.max()}], outside the model's "
            f"vocabulary [0, {vocab}); tokenize with the model's own tokenizer"
        )
    positions = getattr(model.config, "max_position_embeddings", None)
    if positions is not None and rows.shape[1] > positions:
        raise ValueError(
            f"rows are {rows.shape[1]} tokens long, more than the model's {positions} positions; "
            "lower block_size"
        )


def train_causal_lm(
    model: PreTrainedModel,
    rows: torch.Tensor,
    cfg: LMTrainConfig,
    desc: str = "training",
    *,
    targets: torch.Tensor | None = None,
    target_weight: float = 0.0,
) -> list[float]:
    """Train ``model`` in place on ``rows`` with AdamW; returns the mean NLL per step.

    Batches are drawn with a generator seeded from ``cfg.seed``, so the same
    config, rows and initial weights give the same model. With a boolean ``targets`` mask
    (shaped like ``rows``) the objective is :func:`weighted_lm_loss`; without, the model's
    own loss.
    """
    if not isinstance(cfg, LMTrainConfig):
        raise TypeError(f"cfg must be an LMTrainConfig, got {describe(cfg)}")
    _check_rows(rows, model)
    if targets is not None and (
        not isinstance(targets, torch.Tensor) or targets.dtype != torch.bool
    ):
        raise TypeError(f"targets must be a boolean tensor, got {describe(targets)}")
    if targets is not None and targets.shape != rows.shape:
        raise ValueError(f"targets has shape {tuple(targets.shape)}, rows {tuple(rows.shape)}")
    check_number("target_weight", target_weight, minimum=0)
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
        index = torch.randint(len(rows), (cfg.batch_size,), generator=generator)
        batch = rows[index]
        if targets is None:
            loss = mean_nll = model(input_ids=batch, labels=batch).loss
        else:
            logits = model(input_ids=batch).logits
            loss, mean_nll = weighted_lm_loss(logits, batch, targets[index], target_weight)
        if not torch.isfinite(loss):
            raise ValueError(
                f"training diverged at step {step} (loss {loss.item()}); lower cfg.lr={cfg.lr}"
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(mean_nll.item())
        if step % 20 == 0:
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
    model.eval()
    return losses
