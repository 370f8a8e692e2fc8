"""``CausalRewardTrainer``: TRL's ``RewardTrainer`` with an MMD penalty on the bins of Z.

TRL tokenizes, collates (chosen rows first, then rejected) and computes the Bradley–Terry
loss; this trainer carries the Z bin columns through the collator and adds
``λ · binned_mmd_penalty`` (``toolkit.rewards.mmd``) to the loss, per
``CausalRewardConfig.mmd_variant`` and ``mmd_on``. Logged: ``mmd`` (the penalty before λ).
"""

from __future__ import annotations

import dataclasses

import torch
from trl import RewardTrainer
from trl.trainer.reward_trainer import DataCollatorForPreference

from toolkit.rewards.causal_reward_config import CausalRewardConfig
from toolkit.rewards.mmd import binned_mmd_penalty, median_bandwidth

Z_COLUMNS = ("z_bin_chosen", "z_bin_rejected")
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
    """Every example has integer Z bins on both sides; errors name the example and column."""
    for column in Z_COLUMNS:
        if column not in dataset.column_names:
            raise ValueError(f"the dataset needs a {column!r} column of integer Z bins")
    for i, ex in enumerate(dataset):
        for column in Z_COLUMNS:
            value = ex[column]
            if value is None or isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"example {i}: {column} is {value!r}; expected an integer bin")


def pooled_representation(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the last hidden states over attended tokens, (B, T, H) → (B, H)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)


class CausalRewardTrainer(RewardTrainer):
    """``RewardTrainer`` whose loss adds the counterfactual-invariance MMD penalty."""

    def __init__(self, model, args: CausalRewardConfig | None = None, **kwargs):
        if not isinstance(args, CausalRewardConfig):
            raise ValueError("CausalRewardTrainer needs args=CausalRewardConfig(...)")
        for key in ("train_dataset", "eval_dataset"):
            dataset = kwargs.get(key)
            for part in dataset.values() if isinstance(dataset, dict) else [dataset]:
                if part is not None:
                    validate_z_columns(part)
        super().__init__(model, args=args, **kwargs)
        if type(self.data_collator) is DataCollatorForPreference:
            self.data_collator = ZBinCollator(**dataclasses.asdict(self.data_collator))

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
        if args.mmd_variant == "unconditional":
            penalty = binned_mmd_penalty(values, z, sigma)
        else:
            (v_w, v_l), (z_w, z_l) = values.chunk(2), z.chunk(2)
            penalty = binned_mmd_penalty(v_w, z_w, sigma) + binned_mmd_penalty(v_l, z_l, sigma)
        mode = "train" if self.model.training else "eval"
        self._metrics[mode]["mmd"].append(self.accelerator.gather(penalty.detach()).mean().item())
        loss = loss + args.mmd_lambda * penalty
        return (loss, outputs) if return_outputs else loss


__all__ = ["CausalRewardTrainer", "ZBinCollator", "pooled_representation", "validate_z_columns"]
