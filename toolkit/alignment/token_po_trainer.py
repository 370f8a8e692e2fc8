"""``TokenPOTrainer``: TRL's ``DPOTrainer`` with per-token losses, weights and masks.

TRL computes sequence sums of log-probs inside ``DPOTrainer._compute_loss``; this trainer
keeps everything else (datasets, tokenization, collation, reference model, logging,
``accelerate launch``) and overrides that one method to build a per-token
:class:`~toolkit.alignment.TokenBatch` and call the loss of ``args.method``. What each method
needs (weight columns, KL, masks, full logits, teacher models) and which config fields it
reads is declared in its :mod:`~toolkit.alignment.methods` registry entry, not here.

Per-token weights travel as dataset columns ``chosen_weights`` / ``rejected_weights``: one
float in [0, 10] per token of :meth:`TokenPOTrainer.completion_token_ids` (optionally one more
for the EOS TRL appends); for code pairs, ``toolkit.alignment.masks.error_token_masks`` builds
Target-DPO's ``rejected_weights``. The trainer fills the tokens such a column does not cover
with ``eos_weight`` (1 for weights, 0 for Target-DPO's masks): the EOS, and the end of a prompt
that TRL moves into one completion when the other completion's tokens merge across the prompt
boundary (a prompt ending in a space, for instance; TRL warns that the prompt is not a prefix).

Rows are checked before tokenization, whatever their shape (explicit or implicit prompt, text
or conversational), and errors name the column and the row of the dataset as given. Rows that
TRL drops because their prompt fills ``max_length`` are reported; a row longer than the model's
positions or holding a token id beyond its embedding is refused before training.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings

import torch
from datasets import Dataset, IterableDataset
from trl import DPOTrainer
from trl.data_utils import common_prefix_length
from trl.trainer.dpo_trainer import DataCollatorForPreference

from toolkit._checks import check_str, describe
from toolkit.alignment.checks import model_positions
from toolkit.alignment.losses import TokenBatch, token_kl_from_logits
from toolkit.alignment.losses.core import MAX_TOKEN_WEIGHT
from toolkit.alignment.methods import METHODS, WEIGHT_COLUMNS
from toolkit.alignment.token_po_config import TokenPOConfig

ROW = "source_row"
"""Column the trainer adds: each tokenized row's index in the dataset as given."""
TEXT_FIELDS = ("prompt", "chosen", "rejected")


@dataclasses.dataclass
class TokenWeightCollator(DataCollatorForPreference):
    """TRL's preference collator plus ``token_weights`` (2B, L) aligned with ``input_ids``.

    Prompt and padding positions get 0, completion tokens their weight (1 where the
    example has no weight column). A list one short of its tokens lacks the EOS TRL
    appends, which gets ``eos_weight``: 1 for weights, 0 for masks of error tokens.
    """

    eos_weight: float = 1.0

    def torch_call(self, examples):
        batch = super().torch_call(examples)
        if not any(c in examples[0] for c in WEIGHT_COLUMNS):
            return batch
        rows = []
        for side in ("chosen", "rejected"):
            for ex in examples:
                ids = ex[f"{side}_ids"]
                weights = list(ex.get(f"{side}_weights") or [1.0] * len(ids))
                weights += [self.eos_weight] * (len(ids) - len(weights))
                rows.append([0.0] * len(ex["prompt_ids"]) + weights)
        width = batch["input_ids"].shape[1]
        if self.truncation_mode == "keep_end":
            rows = [row[-width:] for row in rows]
        weights = torch.zeros(len(rows), width)
        for i, row in enumerate(rows):
            row = row[:width]
            weights[i, : len(row)] = torch.tensor(row)
        batch["token_weights"] = weights
        return batch


def prompt_length(tokenizer, prompt: str, completion: str) -> int:
    """Tokens of ``prompt + completion`` that belong to the prompt: where the tokenized prompt
    and the tokenized whole diverge (a token merged across the boundary belongs to the
    completion)."""
    return common_prefix_length(
        tokenizer(prompt)["input_ids"], tokenizer(prompt + completion)["input_ids"]
    )


def completion_token_ids(tokenizer, prompt: str, completion: str) -> list[int]:
    """The completion's token ids as TRL tokenizes ``prompt + completion`` (EOS not included):
    the tokens a weight column covers, one value each."""
    check_str("prompt", prompt, allow_empty=True)
    check_str("completion", completion)
    return tokenizer(prompt + completion)["input_ids"][
        prompt_length(tokenizer, prompt, completion) :
    ]


def _check_text(row: int, column: str, value: object) -> None:
    """One text field: a str (the prompt may be empty) or a non-empty list of messages."""
    where = f"example {row}: {column}"
    if isinstance(value, list):
        if not value:
            raise ValueError(f"{where} is an empty list of messages")
        for message in value:
            if not (isinstance(message, dict) and isinstance(message.get("content"), str)):
                raise TypeError(
                    f"{where} must hold messages {{'role': ..., 'content': str}}, "
                    f"got {describe(message)}"
                )
        return
    if not isinstance(value, str):
        hint = "; decode it to str" if isinstance(value, bytes) else ""
        raise TypeError(f"{where} must be a str or a list of messages, got {describe(value)}{hint}")
    if column != "prompt" and not value.strip():
        raise ValueError(f"{where} is empty (a prompt-only row)")


def validate_text_dataset(dataset) -> None:
    """Before tokenization: every row has two different, non-empty completions, text or
    conversational like its prompt; without a ``prompt`` column (TRL then takes the shared
    beginning of chosen and rejected as the prompt) both must extend a non-empty common start.
    Errors name the example (row) and the column."""
    columns = dataset.column_names
    missing = [c for c in ("chosen", "rejected") if c not in columns]
    if missing:
        raise ValueError(
            f"the dataset has no {' or '.join(map(repr, missing))} column (columns: {columns}); "
            "preference rows need 'chosen' and 'rejected', and a 'prompt' or a shared beginning"
        )
    for i, ex in enumerate(dataset):
        fields = [f for f in TEXT_FIELDS if f in ex]
        for field in fields:
            _check_text(i, field, ex[field])
        if len({isinstance(ex[f], list) for f in fields}) > 1:
            raise TypeError(f"example {i}: {', '.join(fields)} mix text and lists of messages")
        chosen, rejected = ex["chosen"], ex["rejected"]
        if chosen == rejected:
            raise ValueError(f"example {i}: chosen == rejected, the pair carries no preference")
        if "prompt" not in ex:
            shared = common_prefix_length(chosen, rejected)
            if shared == 0 or shared == min(len(chosen), len(rejected)):
                why = "share no beginning" if shared == 0 else "are one the start of the other"
                raise ValueError(
                    f"example {i}: chosen and rejected {why}, so there is no implicit prompt "
                    "with two completions after it; add a 'prompt' column"
                )


def _prompt_ids(tokenizer, prompt) -> list[int]:
    """The prompt alone as TRL tokenizes it (conversational prompts with the generation
    prompt)."""
    if isinstance(prompt, list):
        return tokenizer.apply_chat_template(prompt, tokenize=True, add_generation_prompt=True)
    return tokenizer(prompt)["input_ids"]


def _check_weights(row: int, column: str, weights: object, method: str) -> list[float]:
    """A weight column's value: finite numbers in [0, MAX_TOKEN_WEIGHT], {0, 1} for masks."""
    where = f"example {row}: {column}"
    if not isinstance(weights, list | tuple) or not all(
        isinstance(w, numbers.Real) and not isinstance(w, bool) for w in weights
    ):
        raise TypeError(f"{where} must be a list of numbers, got {describe(weights)}")
    if not all(math.isfinite(w) for w in weights):
        raise ValueError(f"{where} holds NaN or inf")
    entry = METHODS[method]
    if entry.masks and column in entry.columns.values() and not set(weights) <= {0, 1}:
        raise ValueError(f"{where} must hold only 0 and 1 (error tokens) for method {method!r}")
    if not all(0 <= w <= MAX_TOKEN_WEIGHT for w in weights):
        raise ValueError(
            f"{where} must lie in [0, {MAX_TOKEN_WEIGHT}], got {min(weights):g}..{max(weights):g}; "
            "rescale raw weights with a transform (toolkit.alignment.masks.TRANSFORMS) first"
        )
    return [float(w) for w in weights]


def align_weight_columns(example: dict, tokenizer, method: str, fill: float) -> dict:
    """One tokenized row's weight columns checked and widened to its completion ids: the
    prompt tokens TRL moved into this completion and the EOS get ``fill``."""
    row = example.get(ROW, 0)
    prompt_ids = _prompt_ids(tokenizer, example["prompt"])
    out = {}
    for column in WEIGHT_COLUMNS:
        if example.get(column) is None:
            continue
        weights = _check_weights(row, column, example[column], method)
        ids = example[f"{column.split('_')[0]}_ids"]
        full = example["prompt_ids"] + ids
        tail = common_prefix_length(prompt_ids, full) - len(example["prompt_ids"])
        if len(weights) not in (len(ids) - tail, len(ids) - tail - 1):
            raise ValueError(
                f"example {row}: {column} has {len(weights)} values for "
                f"{len(ids) - tail - 1} completion tokens; size it with "
                "trainer.completion_token_ids(prompt, completion) (one more for EOS is allowed)"
            )
        out[column] = [fill] * tail + weights + [fill] * (len(ids) - tail - len(weights))
    return out


def validate_token_dataset(dataset, method: str) -> None:
    """After tokenization: the columns ``method`` needs are present in every row and match
    their tokens. Errors name the example (row) and the column."""
    required = set(METHODS[method].columns.values())
    for i, ex in enumerate(dataset):
        row = ex.get(ROW, i)
        for column in WEIGHT_COLUMNS:
            weights = ex.get(column)
            if weights is None:
                if column in required:
                    raise ValueError(
                        f"example {row}: method {method!r} needs the column {column!r}"
                    )
                continue
            _check_weights(row, column, weights, method)
            n_ids = len(ex[f"{column.split('_')[0]}_ids"])
            if len(weights) not in (n_ids, n_ids - 1):
                raise ValueError(
                    f"example {row}: {column} has {len(weights)} values for {n_ids} tokens"
                )


def check_fits_model(dataset, name: str, positions: int | None, vocab: int, max_length) -> None:
    """Every tokenized row fits the model: no longer than its positions once truncated to
    ``max_length``, no token id beyond its embedding."""
    for i, ex in enumerate(dataset):
        row = ex.get(ROW, i)
        for side in ("chosen", "rejected"):
            ids = ex["prompt_ids"] + ex[f"{side}_ids"]
            length = len(ids) if max_length is None else min(len(ids), max_length)
            if positions is not None and length > positions:
                raise ValueError(
                    f"example {row} of the {name} dataset: prompt + {side} is {length} tokens but "
                    f"the model has {positions} positions; set max_length <= {positions} (longer "
                    "rows are then truncated) or shorten the row"
                )
            if ids and max(ids) >= vocab:
                raise ValueError(
                    f"example {row} of the {name} dataset: token id {max(ids)} but the model's "
                    f"embedding has {vocab} rows; processing_class is not the model's tokenizer "
                    "(or call model.resize_token_embeddings(len(tokenizer)))"
                )


def report_dropped(given, prepared, name: str, max_length) -> None:
    """TRL drops the rows whose prompt alone fills ``max_length``: an error when none is
    left, a warning naming them otherwise."""
    kept = set(prepared[ROW])
    dropped = [i for i in given[ROW] if i not in kept]
    if not dropped:
        return
    why = (
        f"{len(dropped)} of {len(given)} rows of the {name} dataset (examples "
        f"{', '.join(map(str, dropped[:8]))}{', ...' if len(dropped) > 8 else ''}) have a "
        f"prompt of max_length={max_length} tokens or more, which leaves no "
        "completion token"
    )
    if not kept:
        raise ValueError(f"{why}: no row is left; raise max_length or shorten the prompts")
    warnings.warn(f"{why}; TRL drops them", stacklevel=3)


def check_not_empty(dataset, name: str) -> None:
    """A ``Dataset`` with at least one row (an ``IterableDataset`` is not read ahead)."""
    if isinstance(dataset, Dataset) and len(dataset) == 0:
        raise ValueError(f"{name} is empty; give at least one preference row")


def _parts(dataset) -> list:
    """A dataset, or the values of a dict of datasets, as a list (empty for None)."""
    if dataset is None:
        return []
    return list(dataset.values()) if isinstance(dataset, dict) else [dataset]


def _selected_logps(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """log softmax(logits)[label] per position, (N, T, V) × (N, T) → (N, T)."""
    return torch.log_softmax(logits.float(), dim=-1).gather(-1, labels[..., None])[..., 0]


class TokenPOTrainer(DPOTrainer):
    """``DPOTrainer`` whose loss is one of the token-level methods (``args.method``).

    ``dpo_model`` and ``reverse_model`` are the teacher models of the methods that need
    ``teacher_logits`` (AlignDistil: a DPO model, and a reverse-DPO one for the contrastive
    teacher); they stay frozen. Logged per step: ``rewards/*`` and ``logps/*`` as TRL does,
    ``kl/chosen`` / ``kl/rejected`` (sequence KL(πref‖πθ) summed over tokens), ``mask/*``
    sparsity and the method's own terms.
    """

    def __init__(
        self,
        model,
        ref_model=None,
        args: TokenPOConfig | None = None,
        *,
        dpo_model=None,
        reverse_model=None,
        **kwargs,
    ):
        if not isinstance(args, TokenPOConfig):
            raise TypeError(f"args must be a TokenPOConfig(...), got {describe(args)}")
        for key in ("train_dataset", "eval_dataset"):
            for part in _parts(kwargs.get(key)):
                if not isinstance(part, Dataset | IterableDataset):
                    raise TypeError(
                        f"{key} must be a datasets.Dataset (e.g. Dataset.from_list(rows)), "
                        f"got {describe(part)}"
                    )
                check_not_empty(part, key)
        if kwargs.get("processing_class") is None:
            raise TypeError("processing_class must be the policy's tokenizer, got None")
        super().__init__(model, ref_model=ref_model, args=args, **kwargs)
        if type(self.data_collator) is DataCollatorForPreference:
            self.data_collator = TokenWeightCollator(
                **dataclasses.asdict(self.data_collator), eos_weight=METHODS[args.method].fill
            )
        self._check_reference_vocab()
        self.teachers = self._prepare_teachers(args, dpo_model, reverse_model)
        if getattr(self, "aux_loss_enabled", False):
            raise ValueError(
                "router_aux_loss_coef: the token-level losses do not add the MoE router's "
                "auxiliary loss; set router_aux_loss_coef=0.0"
            )
        self.sparsepo_masks = None
        if args.method == "sparsepo" and args.sparsepo_mask == "learned":
            from toolkit.alignment.masks import SparsePOMasks

            reference = self.accelerator.unwrap_model(self.ref_model or self.model)
            self.sparsepo_masks = SparsePOMasks.from_config(
                reference.config, args.sparsepo_mask_mode, init=args.sparsepo_mask_init
            ).to(self.accelerator.device)
        self._check_datasets()

    def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
        """TRL's tokenization, with the rows checked first (whatever their shape), the rows TRL
        drops reported, and the weight columns checked and aligned to the completion ids."""
        if not isinstance(dataset, Dataset):  # an IterableDataset is not read ahead
            return super()._prepare_dataset(dataset, processing_class, args, dataset_name)
        check_not_empty(dataset, dataset_name)
        validate_text_dataset(dataset)
        if ROW not in dataset.column_names:
            dataset = dataset.add_column(ROW, list(range(len(dataset))))
        prepared = super()._prepare_dataset(dataset, processing_class, args, dataset_name)
        report_dropped(dataset, prepared, dataset_name, args.max_length)
        if any(c in prepared.column_names for c in WEIGHT_COLUMNS):
            prepared = prepared.map(
                align_weight_columns,
                fn_kwargs={
                    "tokenizer": self._tokenizer,
                    "method": args.method,
                    "fill": METHODS[args.method].fill,
                },
                desc=f"Aligning token weights of the {dataset_name} dataset",
            )
        return prepared

    def _check_datasets(self) -> None:
        """The weight columns the method needs, the model's positions and vocabulary."""
        policy = self.accelerator.unwrap_model(self.model)
        limits = [model_positions(policy)]
        if self.ref_model is not None:
            limits.append(model_positions(self.accelerator.unwrap_model(self.ref_model)))
        positions = min((p for p in limits if p is not None), default=None)
        vocab = policy.get_input_embeddings().weight.shape[0]
        pad = self._tokenizer.pad_token_id
        if pad is not None and pad >= vocab:
            raise ValueError(
                f"processing_class.pad_token_id={pad} is beyond the model's {vocab} embedding "
                "rows; the tokenizer is not the model's (or resize the model's embeddings)"
            )
        datasets = [("train", self.train_dataset)]
        if isinstance(self.eval_dataset, dict):
            datasets += list(self.eval_dataset.items())
        elif self.eval_dataset is not None:
            datasets.append(("eval", self.eval_dataset))
        for name, dataset in datasets:
            if not isinstance(dataset, Dataset):
                continue
            unused = [c for c in WEIGHT_COLUMNS if c in dataset.column_names]
            unused = [c for c in unused if c not in METHODS[self.args.method].columns.values()]
            if unused:
                warnings.warn(
                    f"method {self.args.method!r} does not use the column(s) {unused} of the "
                    f"{name} dataset",
                    stacklevel=3,
                )
            validate_token_dataset(dataset, self.args.method)
            check_fits_model(dataset, name, positions, vocab, self.args.max_length)

    def _check_reference_vocab(self) -> None:
        if self.ref_model is not None:
            self._check_vocab("the reference model", self.ref_model)

    def _check_vocab(self, name: str, other) -> None:
        policy = self.model.get_output_embeddings().weight.shape[0]
        rows = self.accelerator.unwrap_model(other).get_output_embeddings().weight.shape[0]
        if rows != policy:
            raise ValueError(
                f"{name}'s vocabulary ({rows}) differs from the policy's ({policy}): they must "
                "share one tokenizer"
            )

    def _prepare_teachers(self, args, dpo_model, reverse_model) -> dict:
        """``{"dpo": model, "reverse": model or None}`` when the method needs
        ``teacher_logits`` (frozen, on the device), else ``{}``; teacher models given to a
        method that takes none are refused."""
        if "teacher_logits" not in METHODS[args.method].needs(args):
            given = [
                n
                for n, m in (("dpo_model", dpo_model), ("reverse_model", reverse_model))
                if m is not None
            ]
            if given:
                raise ValueError(f"method {args.method!r} uses no {' or '.join(given)}")
            return {}
        if dpo_model is None:
            raise TypeError(f"method {args.method!r} needs dpo_model=, the teacher's DPO model")
        teachers = {"dpo": dpo_model, "reverse": reverse_model}
        for name, teacher in teachers.items():
            if teacher is not None:
                self._check_vocab(f"{name}_model", teacher)
                teachers[name] = self.accelerator.prepare_model(teacher, evaluation_mode=True)
        return teachers

    def create_optimizer(self, *args, **kwargs):
        """TRL's optimizer, plus the learned SparsePO masks with their own weight decay."""
        optimizer = super().create_optimizer(*args, **kwargs)
        if self.sparsepo_masks is not None:
            from toolkit.alignment.masks import mask_parameter_groups

            decay = self.args.sparsepo_mask_weight_decay
            for group in mask_parameter_groups(self.sparsepo_masks, decay):
                optimizer.add_param_group(group)
        return optimizer

    def training_step(self, model, inputs, *args, **kwargs):
        """TRL's step; with learned SparsePO masks under several processes, their gradients
        are averaged across ranks as DDP does for the policy's (the masks live outside it)."""
        loss = super().training_step(model, inputs, *args, **kwargs)
        if self.sparsepo_masks is not None and self.accelerator.num_processes > 1:
            for p in self.sparsepo_masks.parameters():
                grad = p.grad if p.grad is not None else torch.zeros_like(p)
                p.grad = self.accelerator.reduce(grad, reduction="mean")
        return loss

    def _set_signature_columns_if_needed(self):
        super()._set_signature_columns_if_needed()
        self._signature_columns = list(dict.fromkeys([*self._signature_columns, *WEIGHT_COLUMNS]))

    def completion_token_ids(self, prompt: str, completion: str) -> list[int]:
        """The completion's token ids as this trainer tokenizes ``prompt + completion``: size
        a ``chosen_weights`` / ``rejected_weights`` entry with one value per id (optionally
        one more for EOS). Any tokens TRL adds to the completion beyond these (see the module
        docstring) get ``eos_weight``."""
        return completion_token_ids(self._tokenizer, prompt, completion)

    # ---- per-token quantities -------------------------------------------------------------

    def _forward(self, model, inputs, grad: bool):
        kwargs = {
            "input_ids": inputs["input_ids"],
            "attention_mask": inputs["attention_mask"],
            "use_cache": False,
        }
        if self.args.use_fused_kernels:
            kwargs.update(output_hidden_states=True, logits_to_keep=1)
        with torch.set_grad_enabled(grad):
            outputs = model(**kwargs)
        if self.args.use_fused_kernels:
            head = self.accelerator.unwrap_model(model).get_output_embeddings().weight
            return outputs.hidden_states[-1][:, :-1], head
        return outputs.logits[:, :-1], None

    def _token_quantities(self, model, inputs, needs: frozenset[str]):
        """Per-token log-probs of policy and reference, KL_t if ``needs`` it, the completion
        mask, and the full logits of policy and reference (None with fused kernels)."""
        from toolkit.kernels import token_kl, token_logprobs

        labels = inputs["input_ids"][:, 1:]
        mask = inputs["completion_mask"][:, 1:].bool()
        policy, policy_head = self._forward(model, inputs, grad=True)
        ref_model = self.ref_model if self.ref_model is not None else model
        ref, ref_head = self._forward(ref_model, inputs, grad=False)
        ref = ref.detach()
        kl = None
        if self.args.use_fused_kernels:
            masked = labels.masked_fill(~mask, -100)
            policy_logps = token_logprobs(policy, policy_head, masked)
            ref_logps = token_logprobs(ref, ref_head.detach(), masked)
            if "kl" in needs:
                kl = token_kl(policy, ref, policy_head, ref_head.detach(), mask)
            return policy_logps, ref_logps, kl, mask, None, None
        policy_logps = _selected_logps(policy, labels)
        ref_logps = _selected_logps(ref, labels)
        if "kl" in needs:
            kl = token_kl_from_logits(policy.float(), ref.float(), mask=mask)
        return policy_logps, ref_logps, kl, mask, policy, ref

    def _method_inputs(self, needs, inputs, logits, ref_model) -> dict:
        """The loss keywords of the inputs in ``needs`` besides KL (which is in the batch)."""
        kwargs = {}
        if "sparsepo_masks" in needs and self.args.sparsepo_mask != "ones":
            reward_mask, kl_mask = self._sparsepo_masks(inputs, ref_model)
            for kind, values in (("reward", reward_mask), ("kl", kl_mask)):
                chosen, rejected = values[:, 1:].chunk(2, dim=0)
                kwargs.update({f"{kind}_mask_chosen": chosen, f"{kind}_mask_rejected": rejected})
        policy, ref = logits
        if "policy_logits" in needs:
            kwargs["policy_logits"] = policy.float()
        if "ref_logits" in needs:
            kwargs["ref_logits"] = ref.float()
        if "teacher_logits" in needs:
            for name, teacher in self.teachers.items():
                if teacher is not None:
                    kwargs[f"{name}_logits"] = self._forward(teacher, inputs, grad=False)[0].float()
        return kwargs

    def _column_inputs(self, columns, inputs) -> dict:
        """Loss keyword → (B, T) values of the weight column it reads, on one side's labels."""
        if not columns:
            return {}
        sides = dict(
            zip(WEIGHT_COLUMNS, inputs["token_weights"][:, 1:].chunk(2, dim=0), strict=True)
        )
        return {keyword: sides[column] for keyword, column in columns.items()}

    def _sparsepo_masks(self, inputs, ref_model) -> tuple[torch.Tensor, torch.Tensor]:
        """(m^u, m^d) over the input positions (2B, L): reference-derived or learned."""
        from toolkit.alignment.masks import reference_activation_mask, reference_hidden_states

        reference = self.accelerator.unwrap_model(ref_model)
        ids, attention, completion = (
            inputs[k] for k in ("input_ids", "attention_mask", "completion_mask")
        )
        if self.sparsepo_masks is None:
            mask = reference_activation_mask(reference, ids, attention, completion)
            return mask, mask
        self.sparsepo_masks.train(self.model.training)
        states = reference_hidden_states(reference, ids, attention)  # (L, 2B, T, H)
        return self.sparsepo_masks(states, completion)

    def _compute_loss(self, model, inputs, return_outputs):
        mode = "train" if self.model.training else "eval"
        method = METHODS[self.args.method]
        needs = method.needs(self.args)
        policy_logps, ref_logps, kl, mask, *logits = self._token_quantities(model, inputs, needs)
        pc, pr = policy_logps.chunk(2, dim=0)  # batch is [chosen; rejected]
        rc, rr = ref_logps.chunk(2, dim=0)
        mc, mr = mask.chunk(2, dim=0)
        kc, kr = kl.chunk(2, dim=0) if kl is not None else (None, None)
        batch = TokenBatch(pc, pr, rc, rr, mc, mr, chosen_kl=kc, rejected_kl=kr)
        ref_model = self.ref_model if self.ref_model is not None else model
        out = method.loss(
            batch,
            beta=self.args.beta,
            **method.param_values(self.args),
            **self._column_inputs(method.columns, inputs),
            **self._method_inputs(needs, inputs, logits, ref_model),
        )
        loss = out.losses.mean()
        for key, values in out.metrics.items():
            self._metrics[mode][key].append(self.accelerator.gather(values).float().mean().item())
        if kl is not None and "kl/chosen" not in out.metrics:
            for side, values, side_mask in (("chosen", kc, mc), ("rejected", kr, mr)):
                seq_kl = torch.where(side_mask, values, 0).sum(-1).detach()
                self._metrics[mode][f"kl/{side}"].append(
                    self.accelerator.gather(seq_kl).mean().item()
                )
        return (loss, None) if return_outputs else loss


__all__ = [
    "TokenPOTrainer",
    "completion_token_ids",
    "prompt_length",
    "TokenWeightCollator",
    "validate_text_dataset",
    "validate_token_dataset",
]
