"""How a reward model ranks, and how much it leans on the spurious variable Z.

* :func:`reward_scores` — r(x, y) for a list of (prompt, response) pairs, tokenized as TRL's
  ``RewardTrainer`` does (prompt + response + EOS).
* :func:`preference_accuracy` — share of pairs with r(chosen) > r(rejected); on an i.i.d.
  split it rewards shortcuts, on a de-confounded split (Z independent of the label) it does not.
* :func:`z_correlation` — Pearson correlation of rewards with Z (a numeric or 0/1 Z); NaN,
  with a warning, when either is constant.
* :func:`counterfactual_gap` — over pairs y, y′ that differ only in Z: the mean |r(y) − r(y′)|
  (0 for a counterfactually invariant model) and the mean signed r(y′) − r(y), the reward
  a model adds for the favoured Z (the Bias@C of the paper's concept experiment).

Rows are dicts (or a ``datasets.Dataset``); a missing column, a non-str text or a pair longer
than the model's positions is refused before any scoring, naming the row.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from toolkit._checks import check_int, check_nonempty, check_str, describe
from toolkit._torch import eval_mode
from toolkit.lm_metrics import check_fits_model, check_model, check_texts, check_tokenizer


def rows_columns(
    rows: Iterable[Mapping], texts: Sequence[str], others: Sequence[str] = ()
) -> dict[str, list]:
    """The columns of ``rows`` (dicts, e.g. a ``datasets.Dataset``): ``{column: values}``.

    Every row must have every column of ``texts`` (each a ``str``, possibly empty) and of
    ``others``; the message names the row, the missing column and the columns it has."""
    needed = [*texts, *others]
    if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
        raise TypeError(f"rows must be a sequence of dicts with {needed}, got {describe(rows)}")
    rows = check_nonempty("rows", list(rows))
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(
                f"rows[{i}] must be a dict with {needed}, got {describe(row)} "
                "(a DataFrame: pass df.to_dict('records'))"
            )
        missing = [column for column in needed if column not in row]
        if missing:
            raise ValueError(
                f"rows[{i}] has no column {missing[0]!r}; it has {sorted(map(str, row))}, "
                f"and every row needs {needed}"
            )
        for column in texts:
            check_str(f"rows[{i}][{column!r}]", row[column], allow_empty=True)
    return {column: [row[column] for row in rows] for column in needed}


@torch.no_grad()
def reward_scores(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    responses: Sequence[str],
    batch_size: int = 32,
) -> torch.Tensor:
    """Rewards (N,) of ``prompt + response + EOS``, right-padded batches, eval mode.

    ``prompts`` and ``responses`` are sequences of ``str`` of one length (a bare ``str`` is
    refused, not read one character at a time). A pair longer than the model's positions is
    refused, naming its index, before any pair is scored."""
    check_model(model)
    check_tokenizer(tokenizer)
    prompts = check_texts("prompts", prompts, allow_empty=True)
    responses = check_texts("responses", responses, allow_empty=True)
    if len(prompts) != len(responses):
        raise ValueError(
            f"prompts and responses must have one length: {len(prompts)} vs {len(responses)}"
        )
    check_int("batch_size", batch_size, minimum=1)
    texts = [p + r + tokenizer.eos_token for p, r in zip(prompts, responses, strict=True)]
    for i, ids in enumerate(tokenizer(texts, add_special_tokens=True)["input_ids"]):
        check_fits_model(model, len(ids), f"pair {i} (prompts[{i}] + responses[{i}])")
    side, tokenizer.padding_side = tokenizer.padding_side, "right"
    try:
        scores = []
        with eval_mode(model):
            for start in range(0, len(texts), batch_size):
                batch = tokenizer(
                    texts[start : start + batch_size],
                    return_tensors="pt",
                    padding=True,
                    add_special_tokens=True,
                )
                batch = batch.to(model.device)
                scores.append(model(**batch).logits[:, 0].float().cpu())
        return torch.cat(scores)
    finally:
        tokenizer.padding_side = side


def preference_accuracy(model, tokenizer, rows: Iterable[Mapping]) -> float:
    """Share of ``rows`` (prompt, chosen, rejected) where r(chosen) > r(rejected)."""
    columns = rows_columns(rows, ("prompt", "chosen", "rejected"))
    chosen = reward_scores(model, tokenizer, columns["prompt"], columns["chosen"])
    rejected = reward_scores(model, tokenizer, columns["prompt"], columns["rejected"])
    return (chosen > rejected).float().mean().item()


def _vector(name: str, values: object) -> torch.Tensor:
    """``values`` as a float64 (N,) tensor of finite numbers."""
    try:
        vector = torch.as_tensor(values, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{name} must be a sequence of numbers, got {describe(values)}") from err
    if vector.ndim != 1:
        shape = tuple(vector.shape)
        raise ValueError(f"{name} must be 1-D (one value per response), got shape {shape}")
    bad = (~torch.isfinite(vector)).nonzero().flatten()
    if len(bad):
        i = int(bad[0])
        raise ValueError(f"{name}[{i}] is {vector[i].item()}; expected a finite number")
    return vector


def z_correlation(rewards: torch.Tensor | Sequence[float], z: Sequence[float]) -> float:
    """Pearson correlation of ``rewards`` (N,) with a numeric or 0/1 Z (N,), both finite.

    The correlation is undefined when either is constant: then a ``RuntimeWarning`` says
    which, and the result is NaN."""
    r, z = _vector("rewards", rewards), _vector("z", z)
    if len(z) != len(r) or len(r) < 2:
        raise ValueError(f"rewards and z must have one length, at least 2: {len(r)} vs {len(z)}")
    constant = [name for name, v in (("rewards", r), ("z", z)) if bool((v == v[0]).all())]
    if constant:
        warnings.warn(
            f"{' and '.join(constant)} {'is' if len(constant) == 1 else 'are'} constant: "
            "the correlation is undefined (NaN)",
            RuntimeWarning,
            stacklevel=2,
        )
        return float("nan")
    return torch.corrcoef(torch.stack([r, z]))[0, 1].item()


def counterfactual_gap(model, tokenizer, rows: Iterable[Mapping]) -> dict[str, float]:
    """Over ``rows`` (prompt, original, counterfactual = the same response with the favoured Z):
    ``{"gap": mean |r(y′) − r(y)|, "shift": mean r(y′) − r(y)}``."""
    columns = rows_columns(rows, ("prompt", "original", "counterfactual"))
    original = reward_scores(model, tokenizer, columns["prompt"], columns["original"])
    flipped = reward_scores(model, tokenizer, columns["prompt"], columns["counterfactual"])
    delta = flipped - original
    return {"gap": delta.abs().mean().item(), "shift": delta.mean().item()}
