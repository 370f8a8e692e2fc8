"""``TokenPOTrainer``: TRL's ``DPOTrainer`` with per-token losses, weights and masks.

TRL computes sequence sums of log-probs inside ``DPOTrainer._compute_loss``; this trainer
keeps everything else (datasets, tokenization, collation, reference model, logging,
``accelerate launch``) and overrides that one method to build a per-token
:class:`~toolkit.alignment.TokenBatch` and call the loss named by ``args.method``.

Per-token weights travel as dataset columns ``chosen_weights`` / ``rejected_weights``: one
float per completion token as the trainer tokenizes ``prompt + completion`` (TRL appends
EOS; a list one shorter gets ``TokenWeightCollator.eos_weight`` for it).
:meth:`TokenPOTrainer.completion_token_ids` gives a user those tokens; for code pairs,
``toolkit.alignment.masks.error_token_masks`` builds Target-DPO's ``rejected_weights``.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from trl import DPOTrainer
from trl.trainer.dpo_trainer import DataCollatorForPreference

from toolkit.alignment.losses import TokenBatch, compute_loss, token_kl_from_logits
from toolkit.alignment.token_po_config import KL_METHODS, TokenPOConfig

WEIGHT_COLUMNS = ("chosen_weights", "rejected_weights")
NEEDS_WEIGHTS = {
    "tis_dpo": WEIGHT_COLUMNS,
    "target_dpo": WEIGHT_COLUMNS[1:],
    "target_rpo": WEIGHT_COLUMNS[1:],
}


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
    and the tokenized whole diverge, as TRL's ``DPOTrainer`` splits them (a token merged
    across the boundary belongs to the completion)."""
    prompt_ids = tokenizer(prompt)["input_ids"]
    full = tokenizer(prompt + completion)["input_ids"]
    n = 0
    while n < min(len(prompt_ids), len(full)) and prompt_ids[n] == full[n]:
        n += 1
    return n


def completion_token_ids(tokenizer, prompt: str, completion: str) -> list[int]:
    """The completion's token ids as TRL tokenizes ``prompt + completion`` (EOS not included)."""
    return tokenizer(prompt + completion)["input_ids"][
        prompt_length(tokenizer, prompt, completion) :
    ]


def validate_text_dataset(dataset) -> None:
    """Before tokenization: every row has a prompt and two different, non-empty completions."""
    for i, ex in enumerate(dataset):
        for field in ("chosen", "rejected"):
            if not isinstance(ex.get(field), str) or not ex[field].strip():
                raise ValueError(f"example {i}: {field} is empty (a prompt-only row)")
        if ex["chosen"] == ex["rejected"]:
            raise ValueError(f"example {i}: chosen == rejected, the pair carries no preference")


def validate_token_dataset(dataset, method: str) -> None:
    """After tokenization: weight columns match their tokens, are finite, and are present
    when the method needs them. Errors name the example and the column."""
    required = NEEDS_WEIGHTS.get(method, ())
    for i, ex in enumerate(dataset):
        for column in WEIGHT_COLUMNS:
            side = column.split("_")[0]
            weights = ex.get(column)
            if weights is None:
                if column in required:
                    raise ValueError(f"example {i}: method {method!r} needs the column {column!r}")
                continue
            n_ids = len(ex[f"{side}_ids"])
            if len(weights) not in (n_ids, n_ids - 1):
                raise ValueError(
                    f"example {i}: {column} has {len(weights)} values for {n_ids} {side} tokens"
                )
            if not all(math.isfinite(w) for w in weights):
                raise ValueError(f"example {i}: {column} holds NaN or inf")


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

    Logged per step: ``rewards/*`` and ``logps/*`` as TRL does, ``kl/chosen`` /
    ``kl/rejected`` (sequence KL(πref‖πθ) summed over tokens), ``mask/*`` sparsity and the
    method's own terms.
    """

    def __init__(self, model, ref_model=None, args: TokenPOConfig | None = None, **kwargs):
        if not isinstance(args, TokenPOConfig):
            raise ValueError("TokenPOTrainer needs args=TokenPOConfig(...)")
        for key in ("train_dataset", "eval_dataset"):
            for part in _parts(kwargs.get(key)):
                if part.column_names and "prompt" in part.column_names:
                    validate_text_dataset(part)
        super().__init__(model, ref_model=ref_model, args=args, **kwargs)
        if type(self.data_collator) is DataCollatorForPreference:
            self.data_collator = TokenWeightCollator(
                **dataclasses.asdict(self.data_collator),
                eos_weight=0.0 if args.method in ("target_dpo", "target_rpo") else 1.0,
            )
        self._check_reference_vocab()
        self.sparsepo_masks = None
        if args.method == "sparsepo" and args.sparsepo_mask == "learned":
            from toolkit.alignment.masks import SparsePOMasks

            reference = self.accelerator.unwrap_model(self.ref_model or self.model)
            self.sparsepo_masks = SparsePOMasks.from_config(
                reference.config, args.sparsepo_mask_mode, init=args.sparsepo_mask_init
            ).to(self.accelerator.device)
        for dataset in (self.train_dataset, self.eval_dataset):
            for part in _parts(dataset):
                validate_token_dataset(part, args.method)

    def _check_reference_vocab(self) -> None:
        policy = self.model.get_output_embeddings().weight.shape[0]
        if self.ref_model is not None:
            ref = self.accelerator.unwrap_model(self.ref_model).get_output_embeddings().weight
            if ref.shape[0] != policy:
                raise ValueError(
                    f"the reference model's vocabulary ({ref.shape[0]}) differs from the "
                    f"policy's ({policy}): they must share one tokenizer"
                )

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
        """The completion's token ids as this trainer tokenizes ``prompt + completion``."""
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

    def _token_quantities(self, model, inputs):
        """Per-token log-probs of policy and reference, and KL_t if the method needs it."""
        from toolkit.kernels import token_kl, token_logprobs

        labels = inputs["input_ids"][:, 1:]
        mask = inputs["completion_mask"][:, 1:].bool()
        policy, policy_head = self._forward(model, inputs, grad=True)
        ref_model = self.ref_model if self.ref_model is not None else model
        ref, ref_head = self._forward(ref_model, inputs, grad=False)
        needs_kl = self.args.method in KL_METHODS or self.args.tis_token_level
        kl = None
        if self.args.use_fused_kernels:
            masked = labels.masked_fill(~mask, -100)
            policy_logps = token_logprobs(policy, policy_head, masked)
            ref_logps = token_logprobs(ref.detach(), ref_head.detach(), masked)
            if needs_kl:
                kl = token_kl(policy, ref.detach(), policy_head, ref_head.detach(), mask)
        else:
            policy_logps = _selected_logps(policy, labels)
            ref_logps = _selected_logps(ref.detach(), labels)
            if needs_kl:
                kl = token_kl_from_logits(policy.float(), ref.float())
        return policy_logps, ref_logps, kl, mask

    def _method_kwargs(self, inputs, batch: TokenBatch, ref_model) -> dict:
        args, method = self.args, self.args.method
        kwargs = {"beta": args.beta}
        weights = inputs.get("token_weights")
        if weights is not None:
            chosen_w, rejected_w = weights[:, 1:].chunk(2, dim=0)
        if method == "dpo":
            kwargs["label_smoothing"] = args.label_smoothing
        elif method == "tdpo2":
            kwargs["alpha"] = args.tdpo_alpha
        elif method == "tis_dpo":
            kwargs.update(
                chosen_weights=chosen_w,
                rejected_weights=rejected_w,
                alpha=args.tdpo_alpha,
                token_level=args.tis_token_level,
            )
        elif method in ("target_dpo", "target_rpo"):
            kwargs["rejected_diff_mask"] = rejected_w
            if method == "target_rpo":
                kwargs["alpha"] = args.target_rpo_alpha
        elif method == "sparsepo" and args.sparsepo_mask != "ones":
            reward_mask, kl_mask = self._sparsepo_masks(inputs, ref_model)
            reward_c, reward_r = reward_mask[:, 1:].chunk(2, dim=0)
            kl_c, kl_r = kl_mask[:, 1:].chunk(2, dim=0)
            kwargs.update(
                reward_mask_chosen=reward_c,
                reward_mask_rejected=reward_r,
                kl_mask_chosen=kl_c,
                kl_mask_rejected=kl_r,
                l1_reward=args.sparsepo_l1,
                l1_kl=args.sparsepo_l1,
            )
        return kwargs

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
        policy_logps, ref_logps, kl, mask = self._token_quantities(model, inputs)
        pc, pr = policy_logps.chunk(2, dim=0)  # batch is [chosen; rejected]
        rc, rr = ref_logps.chunk(2, dim=0)
        mc, mr = mask.chunk(2, dim=0)
        kc, kr = kl.chunk(2, dim=0) if kl is not None else (None, None)
        batch = TokenBatch(pc, pr, rc, rr, mc, mr, chosen_kl=kc, rejected_kl=kr)
        ref_model = self.ref_model if self.ref_model is not None else model
        out = compute_loss(self.args.method, batch, **self._method_kwargs(inputs, batch, ref_model))
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
