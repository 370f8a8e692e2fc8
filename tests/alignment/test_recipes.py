"""Training recipes: snapshots, TIS weight columns, AlignDistil's fixed point, token tracks."""

import copy

import pytest
import torch

from toolkit.alignment.recipes import (
    completion_logps,
    completion_tokens,
    pair_token_tracks,
    swap_preferences,
    tis_weight_columns,
    train_aligndistil,
    train_preference,
)
from toolkit.alignment.token_po_trainer import completion_token_ids
from toolkit.data.preferences import sentiment_pairs
from toolkit.zoo.tiny import tiny_gpt2, tiny_tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def reference(tokenizer):
    return tiny_gpt2(tokenizer, dropout=0.0).eval()


def rows(n=8):
    return [
        {k: r.to_dict()[k] for k in ("prompt", "chosen", "rejected")} for r in sentiment_pairs(n, 0)
    ]


def test_train_preference_keeps_snapshots_and_leaves_inputs_alone(reference, tokenizer):
    before = copy.deepcopy(reference.state_dict())
    run = train_preference(
        reference, reference, tokenizer, rows(), method="dpo", beta=0.1, steps=4,
        batch_size=4, snapshot_steps=(0, 2, 4),
    )  # fmt: skip
    assert sorted(run.snapshots) == [0, 2, 4]
    for k, v in reference.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert all(torch.equal(run.snapshots[0][k], before[k]) for k in before)
    trained = run.model.state_dict()
    assert all(torch.equal(run.snapshots[4][k], trained[k]) for k in trained)
    assert not torch.equal(
        run.snapshots[4]["transformer.wte.weight"], before["transformer.wte.weight"]
    )
    with pytest.raises(ValueError, match="no snapshot at step 3"):
        run.at_step(3)


def test_tis_columns_fit_the_trainer_tokens_and_identical_models_give_the_midpoint(
    reference, tokenizer
):
    data = tis_weight_columns(rows(3), reference, reference, tokenizer)
    for row in data:
        for side in ("chosen", "rejected"):
            n = len(completion_token_ids(tokenizer, row["prompt"], row[side]))
            assert len(row[f"{side}_weights"]) == n + 1  # and EOS
            assert row[f"{side}_weights"] == pytest.approx([1.0] * (n + 1))


def test_completion_logps_match_a_plain_forward(reference, tokenizer):
    prompt, completion = "The film", " was great."
    logps = completion_logps(reference, tokenizer, prompt, completion)
    ids = tokenizer(prompt + completion)["input_ids"] + [tokenizer.eos_token_id]
    with torch.no_grad():
        full = reference(torch.tensor([ids])).logits[0, :-1].log_softmax(-1)
    start = len(ids) - len(logps)
    expected = full[start - 1 :].gather(-1, torch.tensor(ids[start:])[:, None])[:, 0]
    assert torch.allclose(logps, expected, atol=1e-6)
    assert completion_tokens(tokenizer, prompt, completion)[-1] == tokenizer.eos_token


def test_aligndistil_teacher_equal_to_the_policy_gives_zero_loss(reference, tokenizer):
    # DPO model = reference: Theorem 1's teacher is the reference itself, and so is the
    # contrastive teacher when the reverse model is the same one (z_dpo − z_rev = 0)
    run = train_aligndistil(reference, reference, reference, tokenizer, rows(4), steps=1)
    assert run.log[0]["loss"] == pytest.approx(0.0, abs=1e-6)
    contrastive = train_aligndistil(
        reference, reference, reference, tokenizer, rows(4), reverse=reference, steps=1
    )
    assert contrastive.log[0]["loss"] == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="rows must not be empty"):
        train_aligndistil(reference, reference, reference, tokenizer, [], steps=1)


def test_tracks_of_the_reference_against_itself(reference, tokenizer):
    row = rows(1)[0]
    tracks = pair_token_tracks(
        reference, reference, tokenizer, row, extra=lambda side: {"one": [1.0] * 3}
    )
    assert set(tracks) == {"log-ratio", "KL", "activation mask", "one"}
    for side in ("chosen", "rejected"):
        n = len(completion_tokens(tokenizer, row["prompt"], row[side]))
        assert len(tracks["log-ratio"][side]) == n
        assert tracks["log-ratio"][side] == pytest.approx([0.0] * n, abs=1e-5)
        assert tracks["KL"][side] == pytest.approx([0.0] * n, abs=1e-5)
        assert all(0.0 <= m <= 1.0 for m in tracks["activation mask"][side])


def test_swap_preferences_is_an_involution():
    data = rows(3)
    assert swap_preferences(swap_preferences(data)) == data
    assert swap_preferences(data)[0]["chosen"] == data[0]["rejected"]
