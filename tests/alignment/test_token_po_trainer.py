"""TokenPOTrainer on a tiny GPT-2: agreement with TRL, fused == unfused, clear input errors."""

import copy
import math
import warnings

import pytest
import torch
from datasets import Dataset
from transformers import GPT2Config, GPT2LMHeadModel
from trl import DPOConfig, DPOTrainer

from toolkit.alignment.token_po_config import TokenPOConfig
from toolkit.alignment.token_po_trainer import TokenPOTrainer
from toolkit.data.preferences import sentiment_pairs
from toolkit.zoo.tiny import tiny_gpt2, tiny_tokenizer

COMMON = dict(
    per_device_train_batch_size=4,
    max_steps=2,
    report_to="none",
    use_cpu=True,
    bf16=False,  # DPOConfig defaults to bf16 autocast; exact comparisons need float32
    logging_steps=1,
    save_strategy="no",
    beta=0.1,
    dataloader_num_workers=0,
)


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def models(tokenizer):
    """(policy, reference): the policy is the reference with perturbed weights, no dropout."""
    torch.manual_seed(0)
    reference = tiny_gpt2(tokenizer, dropout=0.0)
    policy = copy.deepcopy(reference)
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return policy, reference


def rows(n=8):
    return [
        {k: r.to_dict()[k] for k in ("prompt", "chosen", "rejected")} for r in sentiment_pairs(n, 0)
    ]


def make(trainer_cls, config_cls, models, tokenizer, tmp_path, data=None, **config):
    policy, reference = models
    warnings.filterwarnings("ignore")
    return trainer_cls(
        copy.deepcopy(policy),
        ref_model=copy.deepcopy(reference),
        args=config_cls(output_dir=str(tmp_path), **COMMON, **config),
        train_dataset=Dataset.from_list(data if data is not None else rows()),
        processing_class=tokenizer,
    )


def loss_on_first_batch(trainer):
    batch = next(iter(trainer.get_train_dataloader()))
    return trainer.compute_loss(trainer.model, batch)


def test_dpo_equals_trl_sigmoid_dpo(models, tokenizer, tmp_path):
    ours = make(TokenPOTrainer, TokenPOConfig, models, tokenizer, tmp_path, method="dpo")
    trl = make(DPOTrainer, DPOConfig, models, tokenizer, tmp_path)
    expected = loss_on_first_batch(trl)
    assert loss_on_first_batch(ours).item() == pytest.approx(expected.item(), abs=1e-5)
    assert abs(expected.item() - 0.6931) > 1e-3, "policy and reference must differ"


@pytest.mark.parametrize("method", ["dpo", "tdpo1", "tdpo2", "sparsepo"])
def test_fused_kernels_give_the_same_loss(models, tokenizer, tmp_path, method):
    extra = {"sparsepo_mask": "ones"} if method == "sparsepo" else {}
    plain = make(TokenPOTrainer, TokenPOConfig, models, tokenizer, tmp_path, method=method, **extra)
    fused = make(
        TokenPOTrainer,
        TokenPOConfig,
        models,
        tokenizer,
        tmp_path,
        method=method,
        use_fused_kernels=True,
        **extra,
    )
    assert loss_on_first_batch(fused).item() == pytest.approx(
        loss_on_first_batch(plain).item(), abs=1e-5
    )


def test_sparsepo_with_unit_masks_equals_tdpo1(models, tokenizer, tmp_path):
    sparse = make(
        TokenPOTrainer,
        TokenPOConfig,
        models,
        tokenizer,
        tmp_path,
        method="sparsepo",
        sparsepo_mask="ones",
    )
    tdpo1 = make(TokenPOTrainer, TokenPOConfig, models, tokenizer, tmp_path, method="tdpo1")
    assert loss_on_first_batch(sparse).item() == pytest.approx(
        loss_on_first_batch(tdpo1).item(), abs=1e-6
    )


def test_learned_masks_start_as_tdpo1_and_train_with_the_policy(models, tokenizer, tmp_path):
    learned = dict(method="sparsepo", sparsepo_mask="learned", sparsepo_mask_init="ones")
    sparse = make(TokenPOTrainer, TokenPOConfig, models, tokenizer, tmp_path, **learned)
    tdpo1 = make(TokenPOTrainer, TokenPOConfig, models, tokenizer, tmp_path, method="tdpo1")
    sparse.model.eval()  # masks ≡ 1 exactly without dropout
    tdpo1.model.eval()
    assert loss_on_first_batch(sparse).item() == pytest.approx(
        loss_on_first_batch(tdpo1).item(), abs=1e-6
    )
    before = [p.detach().clone() for p in sparse.sparsepo_masks.parameters()]
    sparse.train()
    after = list(sparse.sparsepo_masks.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(after, before, strict=True))
    assert "mask/reward_chosen_sparsity" in sparse.state.log_history[0]


def test_unit_token_weights_reduce_tis_dpo_to_dpo(models, tokenizer, tmp_path):
    data = [dict(r, chosen_weights=[1.0] * 200, rejected_weights=[1.0] * 200) for r in rows()]
    dpo = make(TokenPOTrainer, TokenPOConfig, models, tokenizer, tmp_path, method="dpo")
    with pytest.raises(ValueError, match="example 0: chosen_weights has 200 values"):
        make(
            TokenPOTrainer, TokenPOConfig, models, tokenizer, tmp_path, data=data, method="tis_dpo"
        )
    trainer = make(TokenPOTrainer, TokenPOConfig, models, tokenizer, tmp_path, method="dpo")
    fitted = []
    for r in rows():
        n_w = len(trainer.completion_token_ids(r["prompt"], r["chosen"]))
        n_l = len(trainer.completion_token_ids(r["prompt"], r["rejected"]))
        fitted.append(dict(r, chosen_weights=[1.0] * n_w, rejected_weights=[1.0] * n_l))
    tis = make(
        TokenPOTrainer, TokenPOConfig, models, tokenizer, tmp_path, data=fitted, method="tis_dpo"
    )
    assert loss_on_first_batch(tis).item() == pytest.approx(
        loss_on_first_batch(dpo).item(), abs=1e-6
    )


def test_training_logs_token_level_metrics(models, tokenizer, tmp_path):
    trainer = make(TokenPOTrainer, TokenPOConfig, models, tokenizer, tmp_path, method="tdpo2")
    trainer.train()
    logged = trainer.state.log_history[0]
    for key in ("loss", "rewards/margins", "kl/chosen", "kl/rejected", "logps/chosen"):
        assert key in logged, key


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: dict(r, chosen=""), "example 2: chosen is empty"),
        (lambda r: dict(r, rejected="   "), "example 2: rejected is empty"),
        (lambda r: dict(r, rejected=r["chosen"]), "example 2: chosen == rejected"),
    ],
)
def test_bad_rows_fail_before_training(models, tokenizer, tmp_path, change, message):
    data = rows()
    data[2] = change(data[2])
    with pytest.raises(ValueError, match=message):
        make(TokenPOTrainer, TokenPOConfig, models, tokenizer, tmp_path, data=data, method="dpo")


def test_missing_or_nan_weights_are_refused(models, tokenizer, tmp_path):
    with pytest.raises(ValueError, match="needs the column 'rejected_weights'"):
        make(TokenPOTrainer, TokenPOConfig, models, tokenizer, tmp_path, method="target_dpo")
    trainer = make(TokenPOTrainer, TokenPOConfig, models, tokenizer, tmp_path, method="dpo")
    data = []
    for r in rows():
        n = len(trainer.completion_token_ids(r["prompt"], r["rejected"]))
        data.append(dict(r, rejected_weights=[1.0] * n))
    data[5]["rejected_weights"][0] = float("nan")
    with pytest.raises(ValueError, match="example 5: rejected_weights holds NaN"):
        make(
            TokenPOTrainer,
            TokenPOConfig,
            models,
            tokenizer,
            tmp_path,
            data=data,
            method="target_dpo",
        )


def test_reference_with_another_vocabulary_is_refused(models, tokenizer, tmp_path):
    policy, _ = models
    other = GPT2LMHeadModel(
        GPT2Config(vocab_size=len(tokenizer) + 7, n_embd=32, n_layer=1, n_head=2)
    )
    with pytest.raises(ValueError, match="vocabulary"):
        TokenPOTrainer(
            copy.deepcopy(policy),
            ref_model=other,
            args=TokenPOConfig(output_dir=str(tmp_path), **COMMON),
            train_dataset=Dataset.from_list(rows()),
            processing_class=tokenizer,
        )


def test_config_rejects_unknown_method_and_precomputed_reference(tmp_path):
    with pytest.raises(ValueError, match="method must be one of"):
        TokenPOConfig(output_dir=str(tmp_path), method="ppo", use_cpu=True)
    with pytest.raises(ValueError, match="per-token log-probs"):
        TokenPOConfig(output_dir=str(tmp_path), precompute_ref_log_probs=True, use_cpu=True)


def test_sparsepo_with_reference_mask_trains(models, tokenizer, tmp_path):
    trainer = make(TokenPOTrainer, TokenPOConfig, models, tokenizer, tmp_path, method="sparsepo")
    trainer.train()
    logged = trainer.state.log_history[0]
    assert math.isfinite(logged["loss"])
    assert any(key.startswith("mask/") for key in logged), sorted(logged)


def test_target_dpo_with_error_token_masks_trains(models, tokenizer, tmp_path):
    from toolkit.alignment.masks import error_token_masks

    data = [
        {
            "prompt": "def add(a, b):\n",
            "chosen": "    return a + b\n",
            "rejected": "    return a - b\n",
        },
        {
            "prompt": "def neg(x):\n",
            "chosen": "    y = x\n    return -y\n",
            "rejected": "    y = x\n    return y\n",
        },
    ] * 4
    masks = error_token_masks(
        tokenizer,
        [d["rejected"] for d in data],
        [d["chosen"] for d in data],
        prompts=[d["prompt"] for d in data],
    )
    assert sum(masks[1]) < len(masks[1]), "the unchanged first line is not an error token"
    rows_ = [dict(d, rejected_weights=m) for d, m in zip(data, masks, strict=True)]
    trainer = make(
        TokenPOTrainer, TokenPOConfig, models, tokenizer, tmp_path, data=rows_, method="target_rpo"
    )
    batch = next(iter(trainer.get_train_dataloader()))
    eos_weights = batch["token_weights"][4:][batch["completion_mask"][4:].bool()]
    assert set(eos_weights.tolist()) <= {0.0, 1.0}
    trainer.train()
    assert "nll/chosen" in trainer.state.log_history[0]
