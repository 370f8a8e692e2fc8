"""Training recipes over the loss family: one preference run, TIS-DPO weights, AlignDistil.

What the token-level notebook composes: :func:`train_preference` runs
:class:`~toolkit.alignment.token_po_trainer.TokenPOTrainer` for a few hundred steps and keeps
weight snapshots for the checkpoint slider; :func:`tis_weight_columns` turns a DPO /
reverse-DPO pair into TIS-DPO's per-token weight columns; :func:`train_aligndistil`
distils a policy towards AlignDistil's teacher through the same trainer
(``method="aligndistil"``); :func:`pair_token_tracks` computes the per-token quantities a
:class:`~widgets.TokenWeightView` shows.

Every recipe checks its rows before any work (a list of dicts with str ``prompt``,
``chosen``, ``rejected``; errors name ``rows[i]`` and the key) and refuses a sequence longer
than the model's positions, naming it.
"""

from __future__ import annotations

import copy
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from datasets import Dataset
from transformers import (
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PrinterCallback,
    TrainerCallback,
)

from toolkit._checks import check_int, check_nonempty, check_number, check_str, describe
from toolkit.alignment.checks import model_positions
from toolkit.alignment.losses import token_kl_from_logits
from toolkit.alignment.masks import contrastive_token_weights, reference_activation_mask
from toolkit.alignment.token_po_config import TokenPOConfig
from toolkit.alignment.token_po_trainer import (
    TokenPOTrainer,
    completion_token_ids,
    prompt_length,
)
from toolkit.notebook_training import quiet_cpu_args, quiet_datasets
from toolkit.seeding import seed_everything

StateDict = dict[str, torch.Tensor]
PAIR_KEYS = ("prompt", "chosen", "rejected")
COLUMNS = (*PAIR_KEYS, "chosen_weights", "rejected_weights")


@dataclass
class PreferenceRun:
    """A trained policy, its log history and weight snapshots by training step."""

    method: str
    beta: float
    model: PreTrainedModel
    log: list[dict] = field(default_factory=list)
    snapshots: dict[int, StateDict] = field(default_factory=dict)

    def at_step(self, step: int) -> PreTrainedModel:
        """A copy of the policy with the weights it had after ``step`` training steps."""
        if step not in self.snapshots:
            raise ValueError(f"no snapshot at step {step}; have {sorted(self.snapshots)}")
        model = copy.deepcopy(self.model)
        model.load_state_dict(self.snapshots[step])
        return model.eval()


def _state(model: torch.nn.Module) -> StateDict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class _Snapshots(TrainerCallback):
    """Copies the policy's weights at the given global steps (step 0 before training)."""

    def __init__(self, steps: Sequence[int], store: dict[int, StateDict]):
        self.steps, self.store = set(steps), store

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if 0 in self.steps:
            self.store[0] = _state(model)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step in self.steps:
            self.store[state.global_step] = _state(model)


def check_rows(rows: object, keys: Sequence[str] = PAIR_KEYS) -> list[dict]:
    """A non-empty list of dicts holding str ``keys`` (the prompt may be empty); errors name
    ``rows[i]`` and the key."""
    if isinstance(rows, str | bytes | dict) or not isinstance(rows, Sequence):
        raise TypeError(f"rows must be a list of dicts, got {describe(rows)}")
    check_nonempty("rows", rows)
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise TypeError(f"rows[{i}] must be a dict, got {describe(row)}")
        missing = [k for k in keys if k not in row]
        if missing:
            raise ValueError(
                f"rows[{i}] has no {', '.join(map(repr, missing))} (keys: {list(row)})"
            )
        for key in keys:
            check_str(f"rows[{i}][{key!r}]", row[key], allow_empty=key == "prompt")
    return list(rows)


def train_preference(
    policy: PreTrainedModel,
    reference: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    rows: Sequence[dict],
    *,
    method: str,
    beta: float,
    steps: int,
    batch_size: int = 8,
    learning_rate: float = 5e-4,
    seed: int = 0,
    snapshot_steps: Sequence[int] = (),
    dpo_model: PreTrainedModel | None = None,
    reverse_model: PreTrainedModel | None = None,
    **config,
) -> PreferenceRun:
    """Train a copy of ``policy`` against ``reference`` with ``method`` for ``steps`` steps.

    ``rows`` are TRL preference rows (``prompt``, ``chosen``, ``rejected``, and the weight
    columns where the method needs them); ``config`` goes to :class:`TokenPOConfig` (the
    learning rate is constant after a warmup of ``steps // 10`` steps unless it says
    otherwise); ``dpo_model`` / ``reverse_model`` are the teacher models of the methods that
    need them. The inputs are left untouched. Weights are snapshotted at ``snapshot_steps``.
    """
    rows = check_rows(rows)
    check_int("steps", steps, minimum=1)
    check_int("batch_size", batch_size, minimum=1)
    check_number("learning_rate", learning_rate, minimum=0.0, strict_min=True)
    check_int("seed", seed)
    for step in snapshot_steps:
        check_int("snapshot_steps[i]", step, minimum=0, maximum=steps)
    config = {
        "lr_scheduler_type": "constant_with_warmup",
        "warmup_steps": max(1, steps // 10),
        **config,
    }
    seed_everything(seed)
    snapshots: dict[int, StateDict] = {}
    dataset = Dataset.from_list([{k: r[k] for k in COLUMNS if k in r} for r in rows])
    with tempfile.TemporaryDirectory() as out, warnings.catch_warnings(), quiet_datasets():
        warnings.simplefilter("ignore")
        args = TokenPOConfig(
            output_dir=out,
            method=method,
            beta=beta,
            per_device_train_batch_size=batch_size,
            learning_rate=learning_rate,
            seed=seed,
            **quiet_cpu_args(steps),
            **config,
        )
        trainer = TokenPOTrainer(
            copy.deepcopy(policy),
            ref_model=copy.deepcopy(reference),
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            callbacks=[_Snapshots(snapshot_steps, snapshots)],
            dpo_model=dpo_model,
            reverse_model=reverse_model,
        )
        trainer.remove_callback(PrinterCallback)  # the log stays in run.log
        trainer.train()
    model = trainer.model.eval()
    return PreferenceRun(method, beta, model, list(trainer.state.log_history), snapshots)


def swap_preferences(rows: Sequence[dict]) -> list[dict]:
    """The reverse-DPO data of TIS-DPO and AlignDistil: chosen and rejected swapped."""
    return [dict(r, chosen=r["rejected"], rejected=r["chosen"]) for r in rows]


def _completion_batch(tokenizer, pairs: Sequence[tuple[str, str]], model, names: Sequence[str]):
    """Right-padded ``prompt + completion`` ids (B, L) on ``model``'s device and the completion
    mask of the labels ``ids[:, 1:]`` (B, L − 1), tokenized as the trainer does (TRL appends
    EOS). A sequence longer than ``model``'s positions is refused under its name in ``names``."""
    positions = model_positions(model)
    sequences, starts = [], []
    for (prompt, completion), name in zip(pairs, names, strict=True):
        sequence = tokenizer(prompt + completion)["input_ids"] + [tokenizer.eos_token_id]
        if positions is not None and len(sequence) > positions:
            raise ValueError(
                f"{name} is {len(sequence)} tokens with EOS but the model has {positions} "
                "positions; shorten it"
            )
        sequences.append(sequence)
        starts.append(prompt_length(tokenizer, prompt, completion))
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), tokenizer.pad_token_id, dtype=torch.long)
    attention = torch.zeros_like(ids)
    mask = torch.zeros(len(sequences), width - 1, dtype=torch.bool)
    for i, (seq, start) in enumerate(zip(sequences, starts, strict=True)):
        ids[i, : len(seq)] = torch.tensor(seq)
        attention[i, : len(seq)] = 1
        mask[i, start - 1 : len(seq) - 1] = True
    return ids.to(model.device), attention.to(model.device), mask.to(model.device)


def _logits(model, ids, attention) -> torch.Tensor:
    """Next-token logits at every labelled position, (B, L − 1, V) float32."""
    return model(input_ids=ids, attention_mask=attention).logits[:, :-1].float()


def _completion_logps(model, tokenizer, prompt: str, completion: str, name: str) -> torch.Tensor:
    ids, attention, mask = _completion_batch(tokenizer, [(prompt, completion)], model, [name])
    logps = _logits(model, ids, attention).log_softmax(-1)
    logps = logps.gather(-1, ids[:, 1:, None])[..., 0]
    return logps[mask].cpu()


@torch.no_grad()
def completion_logps(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompt: str, completion: str
) -> torch.Tensor:
    """log π(y_t | x, y<t) of each completion token as the trainer tokenizes it, EOS last."""
    check_str("prompt", prompt, allow_empty=True)
    check_str("completion", completion)
    return _completion_logps(model, tokenizer, prompt, completion, "prompt + completion")


def tis_weight_columns(
    rows: Sequence[dict],
    dpo: PreTrainedModel,
    reverse: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    transform: str = "rank_based",
    **transform_params,
) -> list[dict]:
    """``rows`` with TIS-DPO's ``chosen_weights`` / ``rejected_weights`` (arXiv 2410.04350):
    per-token ``log π_dpo − log π_rev`` (sign flipped on the rejected side), transformed by
    ``transform`` (``toolkit.alignment.masks.TRANSFORMS``). One weight per completion token
    and one for EOS."""
    out = []
    for i, row in enumerate(check_rows(rows)):
        weights = {}
        for side in ("chosen", "rejected"):
            name = f"rows[{i}]: prompt + {side}"
            logps = [
                _completion_logps(m, tokenizer, row["prompt"], row[side], name)
                for m in (dpo, reverse)
            ]
            mask = torch.ones(1, len(logps[0]), dtype=torch.bool)
            w = contrastive_token_weights(
                logps[0][None], logps[1][None], mask, side == "chosen", transform,
                **transform_params,
            )  # fmt: skip
            weights[f"{side}_weights"] = w[0].tolist()
        out.append(dict(row, **weights))
    return out


def train_aligndistil(
    policy: PreTrainedModel,
    reference: PreTrainedModel,
    dpo: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    rows: Sequence[dict],
    *,
    reverse: PreTrainedModel | None = None,
    beta: float = 0.1,
    beta2: float = 10.0,
    tvd: str = "authors",
    steps: int = 100,
    batch_size: int = 8,
    learning_rate: float = 5e-4,
    seed: int = 0,
) -> PreferenceRun:
    """Distil a copy of ``policy`` towards AlignDistil's teacher (arXiv 2503.02832), off-policy
    on the preference responses (chosen and rejected alike).

    With ``reverse`` the teacher is the contrastive one, ``z* = z_dpo + w_t (z_dpo − z_rev)``
    with token-adaptive ``w_t = β₂·Σ|p_dpo − p_rev| + 1e-3`` (``tvd="authors"``, their code's
    convention; ``"standard"`` halves the sum, so β₂ = 10 there is their 5); without it, Theorem 1's
    ``z* = (β/β₂) z_dpo + (1 − β/β₂) z_ref``. The loss is ``aligndistil_loss``, length-normalized,
    trained by :class:`TokenPOTrainer` (``method="aligndistil"``) at a constant learning rate:
    each step takes ⌈batch_size / 2⌉ pairs, that is ``batch_size`` responses (one more when
    odd).
    """
    check_int("batch_size", batch_size, minimum=1)
    return train_preference(
        policy, reference, tokenizer, rows, method="aligndistil", beta=beta, steps=steps,
        batch_size=(batch_size + 1) // 2, learning_rate=learning_rate, seed=seed,
        dpo_model=dpo, reverse_model=reverse, aligndistil_beta2=beta2, aligndistil_tvd=tvd,
        lr_scheduler_type="constant", warmup_steps=0,
    )  # fmt: skip


@torch.no_grad()
def pair_token_tracks(
    policy: PreTrainedModel,
    reference: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    row: dict,
    extra: Callable[[str], dict[str, Sequence[float]]] | None = None,
) -> dict[str, dict[str, list[float]]]:
    """Per-token quantities of one pair for a :class:`~widgets.TokenWeightView` snapshot:
    ``log-ratio`` (log πθ − log πref), ``KL`` (KL_t(πref‖πθ)) and the SparsePO reference
    ``activation mask``, each ``{"chosen": [...], "rejected": [...]}`` over the completion
    tokens and EOS. ``extra(side)`` may add tracks of its own (e.g. TIS weights)."""
    row = check_rows([row])[0]
    tracks: dict[str, dict[str, list[float]]] = {}
    for side in ("chosen", "rejected"):
        ids, attention, mask = _completion_batch(
            tokenizer, [(row["prompt"], row[side])], policy, [f"row: prompt + {side}"]
        )
        z_pi, z_ref = _logits(policy, ids, attention), _logits(reference, ids, attention)
        labels = ids[:, 1:, None]
        ratio = z_pi.log_softmax(-1).gather(-1, labels) - z_ref.log_softmax(-1).gather(-1, labels)
        completion = torch.cat([torch.zeros_like(mask[:, :1]), mask], dim=1)
        activation = reference_activation_mask(reference, ids, attention, completion)[:, 1:]
        values = {
            "log-ratio": ratio[..., 0],
            "KL": token_kl_from_logits(z_pi, z_ref),
            "activation mask": activation,
        }
        for name, v in values.items():
            tracks.setdefault(name, {})[side] = v[mask].tolist()
        for name, v in (extra(side) if extra else {}).items():
            tracks.setdefault(name, {})[side] = list(v)
    return tracks


def completion_tokens(
    tokenizer: PreTrainedTokenizerBase, prompt: str, completion: str
) -> list[str]:
    """The completion's tokens as text, as the trainer tokenizes them, EOS last."""
    ids = completion_token_ids(tokenizer, prompt, completion) + [tokenizer.eos_token_id]
    return [tokenizer.decode([i]) for i in ids]


__all__ = [
    "PreferenceRun",
    "completion_logps",
    "completion_tokens",
    "pair_token_tracks",
    "swap_preferences",
    "tis_weight_columns",
    "train_aligndistil",
    "train_preference",
]
