"""CausalRewardTrainer on tiny models: λ = 0 is TRL's reward loss, the penalty is added
exactly, both variants and targets train, and bad Z or λ are refused before training."""

import warnings

import pytest
import torch
from datasets import Dataset
from transformers import GPT2Config, GPT2ForSequenceClassification
from trl import RewardConfig, RewardTrainer

from toolkit.data.preferences import biased_pairs
from toolkit.rewards.causal_reward_config import CausalRewardConfig
from toolkit.rewards.causal_reward_trainer import CausalRewardTrainer
from toolkit.rewards.metrics import (
    counterfactual_gap,
    preference_accuracy,
    reward_scores,
    z_correlation,
)
from toolkit.rewards.mmd import binned_mmd_penalty
from toolkit.zoo import load_reward_model
from toolkit.zoo.tiny import tiny_tokenizer

COMMON = dict(
    per_device_train_batch_size=4,
    max_steps=2,
    report_to="none",
    use_cpu=True,
    bf16=False,
    logging_steps=1,
    save_strategy="no",
    dataloader_num_workers=0,
)


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


def reward_model(tokenizer):
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_embd=32, n_layer=2, n_head=2, n_positions=256,
        num_labels=1, pad_token_id=tokenizer.pad_token_id,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    )  # fmt: skip
    return GPT2ForSequenceClassification(config)


def rows(n=8):
    out = []
    for pair in biased_pairs("sycophancy", n, 0):
        d = pair.to_dict()
        out.append(
            {
                "prompt": d["prompt"],
                "chosen": d["chosen"],
                "rejected": d["rejected"],
                "z_bin_chosen": int(d["z_chosen"]),  # sycophantic opening or not
                "z_bin_rejected": int(d["z_rejected"]),
            }
        )
    return out


def make(trainer_cls, config_cls, tokenizer, tmp_path, data=None, **config):
    warnings.filterwarnings("ignore")
    return trainer_cls(
        reward_model(tokenizer),
        args=config_cls(output_dir=str(tmp_path), **COMMON, **config),
        train_dataset=Dataset.from_list(data if data is not None else rows()),
        processing_class=tokenizer,
    )


def first_batch(trainer):
    return next(iter(trainer.get_train_dataloader()))


def test_lambda_zero_equals_trl_reward_loss(tokenizer, tmp_path):
    ours = make(CausalRewardTrainer, CausalRewardConfig, tokenizer, tmp_path, mmd_lambda=0.0)
    plain = [{k: r[k] for k in ("prompt", "chosen", "rejected")} for r in rows()]
    trl = make(RewardTrainer, RewardConfig, tokenizer, tmp_path, data=plain)
    expected = trl.compute_loss(trl.model, first_batch(trl)).item()
    assert ours.compute_loss(ours.model, first_batch(ours)).item() == pytest.approx(
        expected, abs=1e-6
    )


@pytest.mark.parametrize("variant", ["unconditional", "conditional"])
@pytest.mark.parametrize(("bandwidth", "sigma"), [(None, 1.0), (0.5, 0.5)])
def test_penalty_is_added_with_its_weight(tokenizer, tmp_path, variant, bandwidth, sigma):
    """The default σ on rewards is 1 (logit units), one σ for both sides."""
    base = make(CausalRewardTrainer, CausalRewardConfig, tokenizer, tmp_path, mmd_lambda=0.0)
    reg = make(
        CausalRewardTrainer, CausalRewardConfig, tokenizer, tmp_path,
        mmd_lambda=10.0, mmd_variant=variant, mmd_bandwidth=bandwidth,
    )  # fmt: skip
    batch = first_batch(reg)
    z = torch.cat([batch["z_bin_chosen"], batch["z_bin_rejected"]])
    with torch.no_grad():
        rewards = reg.model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).logits[:, 0]
    if variant == "unconditional":
        penalty = binned_mmd_penalty(rewards, z, sigma)
    else:
        penalty = sum(
            binned_mmd_penalty(r, b, sigma)
            for r, b in zip(rewards.chunk(2), z.chunk(2), strict=True)
        )
    plain = base.compute_loss(base.model, first_batch(base)).item()
    assert reg.compute_loss(reg.model, batch).item() == pytest.approx(
        plain + 10.0 * penalty.item(), abs=1e-5
    )


@pytest.mark.parametrize("target", ["reward", "representation"])
def test_training_logs_the_penalty(tokenizer, tmp_path, target):
    trainer = make(CausalRewardTrainer, CausalRewardConfig, tokenizer, tmp_path, mmd_on=target)
    trainer.train()
    assert "mmd" in trainer.state.log_history[0]


def test_bad_z_and_lambda_are_refused(tokenizer, tmp_path):
    data = rows()
    data[3]["z_bin_rejected"] = None
    with pytest.raises(ValueError, match="example 3: z_bin_rejected is None"):
        make(CausalRewardTrainer, CausalRewardConfig, tokenizer, tmp_path, data=data)
    no_z = [{k: r[k] for k in ("prompt", "chosen", "rejected")} for r in rows()]
    with pytest.raises(ValueError, match="'z_bin_chosen' column"):
        make(CausalRewardTrainer, CausalRewardConfig, tokenizer, tmp_path, data=no_z)
    with pytest.raises(ValueError, match="mmd_lambda must be >= 0"):
        CausalRewardConfig(output_dir=str(tmp_path), mmd_lambda=-1.0, use_cpu=True)
    with pytest.raises(ValueError, match="mmd_variant"):
        CausalRewardConfig(output_dir=str(tmp_path), mmd_variant="both", use_cpu=True)


def test_metrics_on_a_reward_model(tokenizer):
    model = reward_model(tokenizer)
    data = rows(6)
    scores = reward_scores(
        model, tokenizer, [r["prompt"] for r in data], [r["chosen"] for r in data]
    )
    alone = reward_scores(model, tokenizer, [data[0]["prompt"]], [data[0]["chosen"]])
    assert scores.shape == (6,) and scores[0].item() == pytest.approx(alone.item(), abs=1e-5)
    assert 0.0 <= preference_accuracy(model, tokenizer, data) <= 1.0
    assert z_correlation(torch.tensor([1.0, 2.0, 3.0]), [2, 4, 6]) == pytest.approx(1.0)
    same = [
        {"prompt": r["prompt"], "original": r["chosen"], "counterfactual": r["chosen"]}
        for r in data
    ]
    assert counterfactual_gap(model, tokenizer, same) == {"gap": 0.0, "shift": 0.0}


def test_the_packaged_encoder_becomes_a_reward_model():
    model, tokenizer = load_reward_model("all-MiniLM-L6-v2")
    assert model.config.num_labels == 1 and tokenizer.eos_token == tokenizer.sep_token
    scores = reward_scores(
        model, tokenizer, ["The film", "The film"], [" was great.", " was dull."]
    )
    assert scores.shape == (2,) and torch.isfinite(scores).all()
