"""Bad input to the token-level preference optimization entry points: each gives a TypeError or
ValueError naming the argument, field, column or row, before any training step."""

import copy
import math
import warnings

import pytest
import torch
from datasets import Dataset
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.alignment.code_eval import generate_solutions, passes_tests
from toolkit.alignment.losses import (
    TokenBatch,
    aligndistil_loss,
    dpo_loss,
    tis_dpo_loss,
    token_kl_from_logits,
)
from toolkit.alignment.methods import METHODS, TokenMethod, register_method
from toolkit.alignment.recipes import (
    completion_logps,
    pair_token_tracks,
    tis_weight_columns,
    train_aligndistil,
    train_preference,
)
from toolkit.alignment.sentiment_control import (
    FrontierPoint,
    best_worst_pairs,
    frontier_gap,
    sample_continuations,
)
from toolkit.alignment.token_po_config import TokenPOConfig
from toolkit.alignment.token_po_trainer import TokenPOTrainer
from toolkit.data.code import code_corpus
from toolkit.zoo.tiny import tiny_gpt2, tiny_tokenizer
from toolkit.zoo.tokenizer import train_bpe_tokenizer

FAST = settings(max_examples=25, deadline=None)
COMMON = dict(
    per_device_train_batch_size=2,
    max_steps=1,
    report_to="none",
    use_cpu=True,
    bf16=False,
    save_strategy="no",
    dataloader_num_workers=0,
    disable_tqdm=True,
)
USER = {"role": "user", "content": "hi"}
ROWS = [
    {"prompt": "The movie was", "chosen": " great fun", "rejected": " dull"},
    {"prompt": "The plot felt", "chosen": " fresh", "rejected": " tired and slow"},
]


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def code_tokenizer():
    """Shaped like the zoo's tiny-gpt2-code tokenizer: code BPE, every text starts with EOS."""
    return train_bpe_tokenizer(code_corpus(300, 0), 384, add_bos=True)


@pytest.fixture(scope="module")
def model(tokenizer):
    return tiny_gpt2(tokenizer, dropout=0.0, n_positions=64)


def trainer(model, tokenizer, tmp_path, data, **config):
    warnings.filterwarnings("ignore")
    return TokenPOTrainer(
        copy.deepcopy(model),
        ref_model=copy.deepcopy(model),
        args=TokenPOConfig(output_dir=str(tmp_path), **COMMON, **config),
        train_dataset=data if isinstance(data, Dataset) else Dataset.from_list(data),
        processing_class=tokenizer,
    )


# ---- TokenPOConfig: every field named --------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("beta", 0.0, ValueError),
        ("beta", -1.0, ValueError),
        ("beta", float("nan"), ValueError),
        ("beta", float("inf"), ValueError),
        ("beta", "0.1", TypeError),
        ("method", "ppo", ValueError),
        ("method", None, TypeError),
        ("tdpo_alpha", -0.5, ValueError),
        ("target_rpo_alpha", float("inf"), ValueError),
        ("sparsepo_l1", -1e-3, ValueError),
        ("sparsepo_mask_weight_decay", -0.1, ValueError),
        ("sparsepo_mask", "random", ValueError),
        ("sparsepo_mask_mode", "shared", ValueError),
        ("sparsepo_mask_init", "zeros", ValueError),
        ("tis_token_level", 1, TypeError),
        ("use_fused_kernels", "yes", TypeError),
        ("max_length", 1, ValueError),
        ("max_length", 2.5, TypeError),
        ("label_smoothing", 0.5, ValueError),
        ("label_smoothing", -0.1, ValueError),
    ],
)
def test_config_field_out_of_range(tmp_path, field, value, error):
    with pytest.raises(error, match=field):
        TokenPOConfig(output_dir=str(tmp_path), use_cpu=True, **{field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("loss_type", "ipo"),
        ("loss_type", "hinge"),
        ("loss_type", "robust"),
        ("loss_type", ["sigmoid", "sft"]),
        ("loss_weights", [0.5]),
        ("use_weighting", True),
        ("ld_alpha", 0.5),
        ("f_divergence_type", "js_divergence"),
        ("precompute_ref_log_probs", True),
    ],
)
def test_unimplemented_trl_options_are_refused(tmp_path, field, value):
    with pytest.raises(ValueError, match=field if field != "precompute_ref_log_probs" else "per-"):
        TokenPOConfig(output_dir=str(tmp_path), use_cpu=True, **{field: value})


def test_label_smoothing_only_with_dpo(tmp_path):
    with pytest.raises(ValueError, match="label_smoothing"):
        TokenPOConfig(output_dir=str(tmp_path), use_cpu=True, method="tdpo2", label_smoothing=0.1)


@FAST
@given(st.floats(allow_nan=True, allow_infinity=True).filter(lambda b: not 0 < b < math.inf))
def test_config_beta_property(beta):
    with pytest.raises(ValueError, match="beta"):
        TokenPOConfig(output_dir="unused", use_cpu=True, beta=beta)


# ---- TokenPOTrainer: datasets and model fit --------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "error", "message"),
    [
        ([dict(ROWS[0]), dict(ROWS[1], chosen=None)], TypeError, "example 1: chosen"),
        ([dict(r, rejected=7) for r in ROWS], TypeError, "example 0: rejected"),
        ([dict(ROWS[0], prompt=None), ROWS[1]], TypeError, "example 0: prompt"),
        ([dict(ROWS[0]), dict(ROWS[1], rejected="\t\n ")], ValueError, "example 1: rejected"),
        ([{"chosen": "The movie was good", "rejected": "The movie was good"}] * 2, ValueError,
         "example 0: chosen == rejected"),
        ([{"chosen": "", "rejected": "x"}] * 2, ValueError, "example 0: chosen is empty"),
        ([{"chosen": "Great film", "rejected": "Dull film"}] * 2, ValueError,
         "example 0: chosen and rejected share no beginning"),
        ([{"chosen": "The film was good", "rejected": "The film was good!"}] * 2, ValueError,
         "example 0: chosen and rejected are one the start"),
        ([{"chosen": [USER, {"role": "assistant", "content": None}],
           "rejected": [USER, {"role": "assistant", "content": "yo"}]}],
         TypeError, "example 0: chosen"),
        ([{"prompt": "Hi", "chosen": [{"role": "assistant", "content": "yo"}], "rejected": "no"}],
         TypeError, "example 0: .*mix text"),
        ([{"prompt": "Hi", "chosen": " a"}], ValueError, "'rejected' column"),
    ],
)  # fmt: skip
def test_malformed_rows_name_the_row_and_column(model, tokenizer, tmp_path, rows, error, message):
    with pytest.raises(error, match=message):
        trainer(model, tokenizer, tmp_path, rows)


def test_empty_dataset_and_wrong_types(model, tokenizer, tmp_path):
    with pytest.raises(ValueError, match="train_dataset is empty"):
        trainer(
            model,
            tokenizer,
            tmp_path,
            Dataset.from_dict({"prompt": [], "chosen": [], "rejected": []}),
        )
    with pytest.raises(TypeError, match="train_dataset must be a datasets.Dataset"):
        TokenPOTrainer(
            model,
            args=TokenPOConfig(output_dir=str(tmp_path), **COMMON),
            train_dataset=ROWS,
            processing_class=tokenizer,
        )
    with pytest.raises(TypeError, match="args must be a TokenPOConfig"):
        TokenPOTrainer(
            model, args=None, train_dataset=Dataset.from_list(ROWS), processing_class=tokenizer
        )
    with pytest.raises(TypeError, match="processing_class"):
        TokenPOTrainer(
            model,
            args=TokenPOConfig(output_dir=str(tmp_path), **COMMON),
            train_dataset=Dataset.from_list(ROWS),
        )


# fmt: skip


def test_completion_longer_than_the_model_is_refused_or_truncated(model, tokenizer, tmp_path):
    long = [dict(ROWS[0], chosen=" great" * 80), ROWS[1]]
    with pytest.raises(
        ValueError, match="example 0 of the train dataset: .* 64 positions.*max_length"
    ):
        trainer(model, tokenizer, tmp_path, long)
    fitted = trainer(model, tokenizer, tmp_path, long, max_length=64)
    fitted.train()
    assert math.isfinite(fitted.state.log_history[-1]["train_loss"])


def test_rows_emptied_by_truncation_are_reported(model, tokenizer, tmp_path):
    rows = [dict(ROWS[0], prompt="The movie was" * 10), ROWS[1]]
    with pytest.warns(UserWarning, match="1 of 2 rows of the train dataset \\(examples 0\\)"):
        TokenPOTrainer(
            copy.deepcopy(model),
            ref_model=copy.deepcopy(model),
            args=TokenPOConfig(output_dir=str(tmp_path), **COMMON, max_length=20),
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
        )
    with pytest.raises(ValueError, match="2 of 2 rows .*no row is left"):
        trainer(model, tokenizer, tmp_path, [rows[0], rows[0]], max_length=20)


# fmt: skip


def test_tokenizer_beyond_the_model_vocabulary_is_refused(tokenizer, tmp_path):
    small = tiny_gpt2(tokenizer, n_positions=64)
    small.resize_token_embeddings(200)
    with pytest.raises(ValueError, match="example 0 of the train dataset: token id .* 200 rows"):
        trainer(small, tokenizer, tmp_path, ROWS)


def weight_rows(t, value=1.0):
    return [
        dict(r, chosen_weights=[value] * len(t.completion_token_ids(r["prompt"], r["chosen"])),
             rejected_weights=[value] * len(t.completion_token_ids(r["prompt"], r["rejected"])))
        for r in ROWS
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda w: [-0.5] + w[1:], ValueError, "example 1: chosen_weights must lie in \\[0, 10"),
        (lambda w: [1e6] + w[1:], ValueError, "example 1: chosen_weights must lie in \\[0, 10"),
        (lambda w: [float("nan")] + w[1:], ValueError, "example 1: chosen_weights holds NaN"),
        (lambda w: w + [1.0, 1.0], ValueError, "example 1: chosen_weights has"),
    ],
)
def test_bad_weight_columns_name_the_row(model, tokenizer, tmp_path, change, error, message):
    plain = trainer(model, tokenizer, tmp_path, ROWS)
    rows = weight_rows(plain)
    rows[1]["chosen_weights"] = change(rows[1]["chosen_weights"])
    with pytest.raises(error, match=message):
        trainer(model, tokenizer, tmp_path, rows, method="tis_dpo")


def test_weights_that_are_not_numbers_are_type_errors(model, tokenizer, tmp_path):
    rows = weight_rows(trainer(model, tokenizer, tmp_path, ROWS))
    for row in rows:
        row["chosen_weights"] = [str(w) for w in row["chosen_weights"]]
    with pytest.raises(TypeError, match="example 0: chosen_weights must be a list of numbers"):
        trainer(model, tokenizer, tmp_path, rows, method="tis_dpo")


def test_target_masks_must_be_zero_one(model, tokenizer, tmp_path):
    rows = weight_rows(trainer(model, tokenizer, tmp_path, ROWS), value=0.5)
    with pytest.raises(ValueError, match="example 0: rejected_weights must hold only 0 and 1"):
        trainer(model, tokenizer, tmp_path, rows, method="target_dpo")


# ---- completion_token_ids agrees with the trainer's tokenization -----------------------------

PROMPT_ENDS = [
    "The movie was ",
    "The movie was,",
    "The movie was\n",
    "def f(x):\n    ",
    "x = (1 + ",
]
COMPLETIONS = [("the best", " dull"), (" great", "\na joy"), ("!", "really bad"), ("1)", " 2)")]


@pytest.mark.parametrize("which", ["reviews", "code"])
def test_weight_columns_sized_by_completion_token_ids_are_accepted(
    which, tokenizer, code_tokenizer, tmp_path
):
    tok = tokenizer if which == "reviews" else code_tokenizer
    policy = tiny_gpt2(tok, dropout=0.0, n_positions=64)
    rows = [{"prompt": p, "chosen": c, "rejected": r} for p in PROMPT_ENDS for c, r in COMPLETIONS]
    plain = trainer(policy, tok, tmp_path, rows, per_device_eval_batch_size=len(rows))
    weighted = weight_rows_of(plain, rows)
    tis = trainer(policy, tok, tmp_path, weighted, method="tis_dpo")
    moved = [
        len(tis.train_dataset[i][f"{side}_ids"]) - 1 - len(row[f"{side}_weights"])
        for i, row in enumerate(weighted)
        for side in ("chosen", "rejected")
    ]
    assert max(moved) > 0, "some rows must have prompt tokens moved into a completion"
    batch = tis.data_collator([tis.train_dataset[i] for i in range(len(rows))])
    completion = batch["completion_mask"].bool()
    assert torch.equal(batch["token_weights"][completion], torch.ones(int(completion.sum())))
    assert tis.compute_loss(tis.model, batch).item() == pytest.approx(
        plain.compute_loss(plain.model, plain.data_collator(
            [plain.train_dataset[i] for i in range(len(rows))])).item(), abs=1e-6)  # fmt: skip


def weight_rows_of(t, rows):
    return [
        dict(r, chosen_weights=[1.0] * len(t.completion_token_ids(r["prompt"], r["chosen"])),
             rejected_weights=[1.0] * len(t.completion_token_ids(r["prompt"], r["rejected"])))
        for r in rows
    ]  # fmt: skip


# ---- losses ----------------------------------------------------------------------------------


def batch(b=2, t=3):
    logps = -torch.rand(b, t) - 0.1
    mask = torch.ones(b, t)
    return TokenBatch(logps, logps - 0.2, logps - 0.1, logps, mask, mask)


def test_losses_on_an_empty_batch_are_errors():
    empty = torch.zeros(0, 3)
    with pytest.raises(ValueError, match="chosen_mask .*B >= 1"):
        TokenBatch(empty, empty, empty, empty, empty, empty)
    with pytest.raises(ValueError, match="policy_logits .*B >= 1"):
        aligndistil_loss(torch.zeros(0, 3, 5), torch.zeros(0, 3, 5), torch.zeros(0, 3))


def test_logits_passed_as_logps_are_refused():
    logps = torch.rand(2, 3) + 0.5
    mask = torch.ones(2, 3)
    with pytest.raises(ValueError, match="pairs 0, 1: policy_chosen_logps holds values > 0"):
        TokenBatch(logps, -logps, -logps, -logps, mask, mask)


@FAST
@given(st.one_of(st.floats(max_value=0.0), st.just(math.inf), st.just(math.nan)))
def test_loss_beta_property(beta):
    with pytest.raises(ValueError, match="beta"):
        dpo_loss(batch(), beta=beta)


@FAST
@given(st.floats(-1e30, 1e30).filter(lambda w: w < -1e-3 or w > 10.01))  # float32-exact
def test_tis_weights_out_of_range_property(w):
    weights = torch.ones(2, 3)
    weights[1, 2] = w
    with pytest.raises(ValueError, match="pair 1: rejected_weights must lie in"):
        tis_dpo_loss(batch(), chosen_weights=torch.ones(2, 3), rejected_weights=weights)


def test_non_tensor_inputs_are_type_errors():
    with pytest.raises(TypeError, match="chosen_weights must be a torch.Tensor"):
        tis_dpo_loss(batch(), chosen_weights=[[1.0] * 3] * 2, rejected_weights=torch.ones(2, 3))
    with pytest.raises(TypeError, match="beta must be a number"):
        dpo_loss(batch(), beta="0.1")


# ---- generation and evaluation helpers -------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda m, t: sample_continuations(m, t, "The movie was", 2), TypeError, "prompts"),
        (lambda m, t: sample_continuations(m, t, [], 2), ValueError, "prompts"),
        (lambda m, t: sample_continuations(m, t, ["a", None], 2), TypeError, "prompts\\[1\\]"),
        (lambda m, t: sample_continuations(m, t, ["a"], 0), ValueError, "n_per_prompt"),
        (lambda m, t: sample_continuations(m, t, ["a"], 2, temperature=0.0), ValueError,
         "temperature"),
        (lambda m, t: sample_continuations(m, t, ["a"], 2, max_new_tokens=2.5), TypeError,
         "max_new_tokens"),
        (lambda m, t: generate_solutions(m, t, "def f(x):"), TypeError, "prompts"),
        (lambda m, t: generate_solutions(m, t, ["def f(x):"], batch_size=0), ValueError,
         "batch_size"),
        (lambda m, t: passes_tests("x = 1", "assert x == 1"), TypeError, "tests"),
        (lambda m, t: passes_tests("x = 1", ["assert x == 1"], timeout=-1), ValueError, "timeout"),
        (lambda m, t: passes_tests(b"x = 1", ["assert x == 1"]), TypeError, "program"),
    ],
)  # fmt: skip
def test_generation_helpers_name_the_argument(model, tokenizer, call, error, name):
    with pytest.raises(error, match=name):
        call(model, tokenizer)


# ---- per-position KL, recipes, frontier helpers, method registry -----------------------------


def test_token_kl_names_the_input_and_position_of_nan_logits():
    logits = torch.randn(2, 4, 5)
    bad = logits.clone()
    bad[1, 2, 3] = float("nan")
    with pytest.raises(ValueError, match="ref_logits has NaN or inf values at row 1, position 2"):
        token_kl_from_logits(logits, bad)
    with pytest.raises(ValueError, match="policy_logits has NaN .* row 1, position 2"):
        token_kl_from_logits(bad, logits, "reverse")
    padding = torch.ones(2, 4, dtype=torch.bool)
    padding[1, 2] = False  # NaN at a padded position is let through
    assert torch.isfinite(token_kl_from_logits(logits, bad, mask=padding)[padding]).all()


def long_row(side):
    return dict(ROWS[0], **{side: " great" * 80})


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m, t: train_preference(m, m, t, ROWS[0], method="dpo", beta=0.1, steps=1),
         TypeError, "rows must be a list of dicts"),
        (lambda m, t: train_preference(m, m, t, [], method="dpo", beta=0.1, steps=1),
         ValueError, "rows must not be empty"),
        (lambda m, t: train_preference(m, m, t, [ROWS[0], {"prompt": "a", "chosen": " b"}],
                                       method="dpo", beta=0.1, steps=1),
         ValueError, "rows\\[1\\] has no 'rejected'"),
        (lambda m, t: train_preference(m, m, t, [dict(ROWS[0], chosen=None)], method="dpo",
                                       beta=0.1, steps=1),
         TypeError, "rows\\[0\\]\\['chosen'\\] must be a str"),
        (lambda m, t: train_preference(m, m, t, ROWS, method="dpo", beta=0.1, steps=2.0),
         TypeError, "steps must be an int"),
        (lambda m, t: train_preference(m, m, t, ROWS, method="dpo", beta=0.1, steps=1,
                                       batch_size=0),
         ValueError, "batch_size must be >= 1"),
        (lambda m, t: train_preference(m, m, t, ROWS, method="dpo", beta=0.1, steps=1,
                                       learning_rate=-1e-3),
         ValueError, "learning_rate must be > 0"),
        (lambda m, t: train_preference(m, m, t, ROWS, method="dpo", beta=0.1, steps=2,
                                       snapshot_steps=(3,)),
         ValueError, "snapshot_steps\\[i\\] must be >= 0 and <= 2"),
        (lambda m, t: train_preference(m, m, t, [long_row("chosen")], method="dpo", beta=0.1,
                                       steps=1),
         ValueError, "example 0 .* prompt \\+ chosen is \\d+ tokens but the model has 64"),
        (lambda m, t: tis_weight_columns([{"prompt": "a"}], m, m, t), ValueError,
         "rows\\[0\\] has no 'chosen', 'rejected'"),
        (lambda m, t: tis_weight_columns([ROWS[0], long_row("rejected")], m, m, t), ValueError,
         "rows\\[1\\]: prompt \\+ rejected is \\d+ tokens with EOS but the model has 64"),
        (lambda m, t: completion_logps(m, t, "a", " great" * 80), ValueError,
         "prompt \\+ completion is \\d+ tokens"),
        (lambda m, t: completion_logps(m, t, None, " b"), TypeError, "prompt must be a str"),
        (lambda m, t: pair_token_tracks(m, m, t, long_row("chosen")), ValueError,
         "row: prompt \\+ chosen is \\d+ tokens"),
        (lambda m, t: pair_token_tracks(m, m, t, {"prompt": "a", "chosen": " b"}), ValueError,
         "has no 'rejected'"),
        (lambda m, t: train_aligndistil(m, m, m, t, [{"prompt": "a", "rejected": " b"}], steps=1),
         ValueError, "rows\\[0\\] has no 'chosen'"),
        (lambda m, t: train_aligndistil(m, m, m, t, ROWS, steps=1, batch_size=0), ValueError,
         "batch_size must be >= 1"),
        (lambda m, t: train_aligndistil(m, m, m, t, ROWS, steps=1, beta2=0.0), ValueError,
         "aligndistil_beta2 must be > 0"),
    ],
)  # fmt: skip
def test_recipes_check_rows_and_lengths_before_work(model, tokenizer, call, error, match):
    with pytest.raises(error, match=match):
        call(model, tokenizer)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: best_worst_pairs(["a", "b"], [[" x", " y"]], [torch.ones(2)]), ValueError,
         "continuations must hold one entry per prompt \\(2\\)"),
        (lambda: best_worst_pairs(["a"], [[" x", " y"]], [torch.ones(2), torch.ones(2)]),
         ValueError, "rewards must hold one entry per prompt"),
        (lambda: best_worst_pairs(["a"], [[" x", " y"]], [torch.ones(3)]), ValueError,
         "rewards\\[0\\] must be a tensor of 2 scores"),
        (lambda: best_worst_pairs(["a"], [[" x", " y"]], [torch.tensor([1.0, math.nan])]),
         ValueError, "rewards\\[0\\] holds NaN"),
        (lambda: best_worst_pairs("a", [[" x"]], [torch.ones(1)]), TypeError, "prompts"),
        (lambda: FrontierPoint(math.nan, 0.1), ValueError, "reward must be a finite number"),
        (lambda: FrontierPoint(1.0, "0.1"), TypeError, "kl must be a number"),
        (lambda: frontier_gap([(1.0, 0.1)], [FrontierPoint(0.5, 0.1)], FrontierPoint(0, 0)),
         TypeError, "points\\[0\\] must be a FrontierPoint"),
        (lambda: frontier_gap([FrontierPoint(1.0, 0.1)], [FrontierPoint(0.5, 0.1)], None),
         TypeError, "origin must be a FrontierPoint"),
    ],
)  # fmt: skip
def test_frontier_helpers_name_the_bad_value(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    ("config", "error", "match"),
    [
        (dict(tis_alpha=-0.5), ValueError, "tis_alpha must be >= 0"),
        (dict(aligndistil_beta2=0.0), ValueError, "aligndistil_beta2 must be > 0"),
        (dict(method_kwargs=[("margin", 1.0)]), TypeError, "method_kwargs must be a dict"),
        (dict(method="tdpo2", method_kwargs={"alpha": 0.3}), ValueError,
         "method_kwargs \\['alpha'\\] are not parameters of method 'tdpo2'.*takes none"),
        (dict(method="aligndistil", use_fused_kernels=True), ValueError,
         "use_fused_kernels=True computes no B×T×V logits, which method 'aligndistil' needs"),
        (dict(method="TDPO2"), ValueError, "method must be one of 'dpo', .*'aligndistil'"),
    ],
)  # fmt: skip
def test_registry_driven_config_checks(tmp_path, config, error, match):
    with pytest.raises(error, match=match):
        TokenPOConfig(output_dir=str(tmp_path), use_cpu=True, **config)


def test_teacher_models_are_required_by_aligndistil_only(model, tokenizer, tmp_path):
    with pytest.raises(TypeError, match="method 'aligndistil' needs dpo_model="):
        trainer(model, tokenizer, tmp_path, ROWS, method="aligndistil")
    with pytest.raises(ValueError, match="method 'dpo' uses no dpo_model"):
        TokenPOTrainer(
            copy.deepcopy(model),
            ref_model=copy.deepcopy(model),
            args=TokenPOConfig(output_dir=str(tmp_path), **COMMON),
            train_dataset=Dataset.from_list(ROWS),
            processing_class=tokenizer,
            dpo_model=model,
        )


def test_registering_a_method_checks_its_entry():
    with pytest.raises(ValueError, match="already registered"):
        register_method("dpo", METHODS["dpo"])
    with pytest.raises(TypeError, match="method must be a TokenMethod"):
        register_method("mine", dpo_loss)
    with pytest.raises(ValueError, match="unknown input 'logps'"):
        TokenMethod(dpo_loss, inputs=("logps",))
    with pytest.raises(ValueError, match="columns\\['w'\\] must be one of chosen_weights"):
        TokenMethod(dpo_loss, columns={"w": "weights"})
    with pytest.raises(TypeError, match="params\\['margin'\\] must be a Param"):
        TokenMethod(dpo_loss, params={"margin": 1.0})
    assert "mine" not in METHODS
