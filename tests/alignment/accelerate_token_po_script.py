"""Run by test_token_po_accelerate.py under `accelerate launch` with two CPU processes.

Trains a tiny GPT-2 for two steps of the method configured by the JSON in argv[2] and
writes, per rank, checksums of the policy's weights (and of learned SparsePO masks) and the
logged losses to the directory in argv[1].
"""

import copy
import json
import sys
from pathlib import Path

import torch
from datasets import Dataset

from toolkit import seed_everything
from toolkit.alignment.token_po_config import TokenPOConfig
from toolkit.alignment.token_po_trainer import TokenPOTrainer
from toolkit.data.preferences import sentiment_pairs
from toolkit.zoo.tiny import tiny_gpt2, tiny_tokenizer

out = Path(sys.argv[1])
seed_everything(0)
tokenizer = tiny_tokenizer()
policy = tiny_gpt2(tokenizer)
initial = sum(p.double().sum().item() for p in policy.parameters())
data = [
    {k: r.to_dict()[k] for k in ("prompt", "chosen", "rejected")} for r in sentiment_pairs(16, 0)
]
args = TokenPOConfig(
    output_dir=str(out / "run"),
    **json.loads(sys.argv[2]),
    per_device_train_batch_size=2,
    max_steps=2,
    learning_rate=1e-3,
    use_cpu=True,
    bf16=False,
    report_to="none",
    save_strategy="no",
    logging_steps=1,
    seed=0,
)
trainer = TokenPOTrainer(
    policy,
    ref_model=copy.deepcopy(policy),
    args=args,
    train_dataset=Dataset.from_list(data),
    processing_class=tokenizer,
)
trainer.train()
model = trainer.accelerator.unwrap_model(trainer.model)
rank = trainer.accelerator.process_index
result = {
    "world_size": trainer.accelerator.num_processes,
    "initial": initial,
    "checksum": sum(p.double().sum().item() for p in model.parameters()),
    "mask_checksum": None
    if trainer.sparsepo_masks is None
    else sum(p.double().sum().item() for p in trainer.sparsepo_masks.parameters()),
    "losses": [h["loss"] for h in trainer.state.log_history if "loss" in h],
}
(out / f"rank{rank}.json").write_text(json.dumps(result))
if torch.distributed.is_initialized():
    torch.distributed.barrier()
