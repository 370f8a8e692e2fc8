"""``CausalRewardTrainer``: TRL's ``RewardTrainer`` with an MMD penalty on the bins of Z.

TRL tokenizes, collates (chosen rows first, then rejected) and computes the Bradley–Terry
loss; this trainer carries the Z bin columns through the collator and adds
``λ · binned_mmd_penalty`` (``toolkit.rewards.mmd``) to the loss, per
``CausalRewardConfig.mmd_variant``, ``mmd_on`` and ``mmd_estimator``. Logged: ``mmd`` (the
penalty before λ).

Datasets are checked before TRL tokenizes them: the Z columns hold integers ≥ 0 and
``chosen`` / ``rejected`` hold texts (or conversations), errors naming the column and row.
TRL drops pairs longer than ``max_length`` tokens; a ``max_length`` above the model's
positions (or None) is lowered to them, so no pair reaches the model longer than it can
read, and a warning says how many pairs were dropped.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings

import torch
from trl import RewardTrainer
from trl.trainer.reward_trainer import DataCollatorForPreference

from toolkit._checks import describe
from toolkit.rewards.causal_reward_config import CausalRewardConfig
from toolkit.rewards.mmd import binned_mmd_penalty, median_bandwidth

Z_COLUMNS = ("z_bin_chosen", "z_bin_rejected")
TEXT_COLUMNS = ("chosen", "rejected")
REWARD_BANDWIDTH = 1.0  # σ on reward scalars when none is given (see CausalRewardConfig)


@dataclasses.dataclass
class ZBinCollator(DataCollatorForPreference):
    """TRL's preference collator plus ``z_bin_chosen`` / ``z_bin_rejected`` (B,) long tensors."""

    def torch_call(self, examples):
        batch = super().torch_call(examples)
        for column in Z_COLUMNS:
            batch[column] = torch.tensor([ex[column] for ex in examples], dtype=torch.long)
        return batch


def validate_z_columns(dataset) -> None:
    """Every example has integer Z bins ≥ 0 on both sides and a chosen and a rejected
    response; errors name the example and column."""
    columns = getattr(dataset, "column_names", None)
    if columns is None:
        raise TypeError(f"the dataset must be a datasets.Dataset, got {describe(dataset)}")
    for column in (*TEXT_COLUMNS, *Z_COLUMNS):
        if column not in columns:
            raise ValueError(f"the dataset needs a {column!r} column; it has {columns}")
    for column in Z_COLUMNS:
        for i, value in enumerate(dataset[column]):
            if value is None or isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"example {i}: {column} is {value!r}; expected an integer bin")
            if value < 0:
                raise ValueError(f"example {i}: {column} is {value}; bins must be >= 0")
    for column in TEXT_COLUMNS:
        for i, value in enumerate(dataset[column]):
            if not isinstance(value, str | list) or not value:
                raise ValueError(
                    f"example {i}: {column} is {describe(value)}; expected a non-empty text "
                    "(or a conversation, a list of messages)"
                )


def pooled_representation(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the last hidden states over attended tokens, (B, T, H) → (B, H)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)


class CausalRewardTrainer(RewardTrainer):
    """``RewardTrainer`` whose loss adds the counterfactual-invariance MMD penalty."""

    def __init__(self, model, args: CausalRewardConfig | None = None, **kwargs):
        if not isinstance(args, CausalRewardConfig):
            raise TypeError(
                f"CausalRewardTrainer needs args=CausalRewardConfig(...), got {describe(args)}"
            )
        datasets = {}
        for key in ("train_dataset", "eval_dataset"):
            dataset = kwargs.get(key)
            for name, part in dataset.items() if isinstance(dataset, dict) else [(key, dataset)]:
                if part is not None:
                    validate_z_columns(part)
                    datasets[name] = len(part)
        positions = getattr(getattr(model, "config", None), "max_position_embeddings", None)
        if positions is not None and (args.max_length is None or args.max_length > positions):
            args.max_length = positions
        super().__init__(model, args=args, **kwargs)
        self._warn_dropped(datasets)
        if type(self.data_collator) is DataCollatorForPreference:
            self.data_collator = ZBinCollator(**dataclasses.asdict(self.data_collator))

    def _warn_dropped(self, sizes: dict[str, int]) -> None:
        """Say how many pairs TRL's ``max_length`` filter dropped; refuse an emptied dataset."""
        kept = {"train_dataset": self.train_dataset}
        if isinstance(self.eval_dataset, dict):
            kept.update(self.eval_dataset)
        else:
            kept["eval_dataset"] = self.eval_dataset
        for name, size in sizes.items():
            left = len(kept[name])
            if left == 0:
                raise ValueError(
                    f"{name}: all {size} pairs are longer than max_length={self.args.max_length} "
                    "tokens (the model's positions at most); shorten the texts"
                )
            if left < size:
                warnings.warn(
                    f"{name}: {size - left} of {size} pairs are longer than "
                    f"max_length={self.args.max_length} tokens and were dropped",
                    stacklevel=3,
                )

    def _set_signature_columns_if_needed(self):
        super()._set_signature_columns_if_needed()
        self._signature_columns = list(dict.fromkeys([*self._signature_columns, *Z_COLUMNS]))

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        z = torch.cat([inputs.pop("z_bin_chosen"), inputs.pop("z_bin_rejected")])  # (2B,)
        args = self.args
        if args.mmd_on == "representation":
            inputs["output_hidden_states"] = True
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True)
        if args.mmd_on == "representation":
            values = pooled_representation(outputs.hidden_states[-1], inputs["attention_mask"])
        else:
            values = outputs.logits.squeeze(-1)  # (2B,) rewards, chosen first
        sigma = args.mmd_bandwidth
        if sigma is None:
            sigma = REWARD_BANDWIDTH if args.mmd_on == "reward" else median_bandwidth(values)
        estimator = args.mmd_estimator
        if args.mmd_variant == "unconditional":
            penalty = binned_mmd_penalty(values, z, sigma, estimator=estimator)
        else:
            (v_w, v_l), (z_w, z_l) = values.chunk(2), z.chunk(2)
            penalty = binned_mmd_penalty(v_w, z_w, sigma, estimator=estimator)
            penalty = penalty + binned_mmd_penalty(v_l, z_l, sigma, estimator=estimator)
        mode = "train" if self.model.training else "eval"
        self._metrics[mode]["mmd"].append(self.accelerator.gather(penalty.detach()).mean().item())
        loss = loss + args.mmd_lambda * penalty
        return (loss, outputs) if return_outputs else loss


__all__ = ["CausalRewardTrainer", "ZBinCollator", "pooled_representation", "validate_z_columns"]
