"""TIS-DPO token weights: contrastive sign convention, transforms, padding, bad input."""

import pytest
import torch

from toolkit.alignment.masks import (
    TRANSFORMS,
    binary,
    contrastive_token_weights,
    rank_based,
    threshold_and_scale,
    transform_token_weights,
)

MASK = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]])


def logps(seed):
    return -torch.rand(2, 6, generator=torch.Generator().manual_seed(seed)) * 4


@pytest.mark.parametrize("transform", [None, *TRANSFORMS])
def test_identical_models_give_constant_weights(transform):
    same = logps(0)
    weights = contrastive_token_weights(same, same.clone(), MASK, True, transform)
    real = MASK.bool()
    assert (weights[~real] == 0).all()
    for row in range(2):
        assert torch.unique(weights[row][real[row]]).numel() == 1
    expected = {None: 0.0, "rank_based": 1.0, "threshold_and_scale": 1.0, "binary": 0.0}
    assert weights[real][0].item() == pytest.approx(expected[transform])


def test_chosen_is_the_sign_flip_of_rejected():
    dpo, rev = logps(0), logps(1)
    chosen = contrastive_token_weights(dpo, rev, MASK, is_chosen=True)
    rejected = contrastive_token_weights(dpo, rev, MASK, is_chosen=False)
    real = MASK.bool()
    torch.testing.assert_close(rejected[real], (rev - dpo)[real])
    torch.testing.assert_close(chosen, -rejected)


def test_threshold_and_scale_clips_and_maps_to_range():
    weights = torch.tensor([[-10.0, -1.5, 0.0, 0.75, 10.0, 99.0]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 0]])
    out = threshold_and_scale(weights, mask)
    torch.testing.assert_close(out, torch.tensor([[0.7, 0.7, 1.0, 1.15, 1.3, 0.0]]))
    custom = threshold_and_scale(weights, mask, min_val=-1, max_val=1, min_scale=0, max_scale=2)
    torch.testing.assert_close(custom, torch.tensor([[0.0, 0.0, 1.0, 1.75, 2.0, 0.0]]))


def test_rank_based_preserves_order_in_range():
    weights = logps(3)
    out = rank_based(weights, MASK)
    real = MASK.bool()
    assert (out[~real] == 0).all()
    for row in range(2):
        values, ranked = weights[row][real[row]], out[row][real[row]]
        assert torch.equal(values.argsort(), ranked.argsort())
        assert ranked.min().item() == pytest.approx(0.7)
        assert ranked.max().item() == pytest.approx(1.3)
    torch.testing.assert_close(
        out[0, :4], torch.tensor([0.7, 0.9, 1.1, 1.3])[weights[0, :4].argsort().argsort()]
    )


def test_rank_based_ties_and_single_tokens():
    weights = torch.tensor([[2.0, 1.0, 2.0, 0.0], [5.0, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 0, 0, 0]])
    out = rank_based(weights, mask, min_scale=0.0, max_scale=3.0)
    torch.testing.assert_close(out, torch.tensor([[2.5, 1.0, 2.5, 0.0], [1.5, 0.0, 0.0, 0.0]]))


def test_binary_top_percent():
    weights = torch.tensor([[0.3, -1.0, 2.0, 0.1, 9.0], [1.0, 1.0, 1.0, 0.0, 0.0]])
    mask = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]])
    out = binary(weights, mask)  # row 0: top 2 of 4; row 1: the tie of three straddles k = 2
    torch.testing.assert_close(out, torch.tensor([[1.0, 0.0, 1.0, 0.0, 0.0], [0.0] * 5]))
    assert set(binary(weights, mask, top_percent=75).unique().tolist()) <= {0.0, 1.0}
    assert (binary(weights, mask, top_percent=100)[mask.bool()] == 1).all()


def test_transforms_are_deterministic_and_dispatch_by_name():
    weights = logps(4)
    for name, fn in TRANSFORMS.items():
        first = transform_token_weights(weights, MASK, name)
        assert torch.equal(first, transform_token_weights(weights, MASK, name))
        assert torch.equal(first, fn(weights, MASK))
    via_contrastive = contrastive_token_weights(logps(0), logps(1), MASK, False, "rank_based")
    raw = contrastive_token_weights(logps(0), logps(1), MASK, False)
    assert torch.equal(via_contrastive, rank_based(raw, MASK))


def test_padding_may_hold_nan_but_tokens_may_not():
    dpo, rev = logps(0), logps(1)
    dpo[0, 5] = float("nan")  # padding
    assert torch.isfinite(contrastive_token_weights(dpo, rev, MASK, True)).all()
    dpo[1, 2] = float("inf")
    with pytest.raises(ValueError, match="example 1: logps_dpo has NaN or inf"):
        contrastive_token_weights(dpo, rev, MASK, True)


def test_bad_input_names_the_argument():
    dpo, rev = logps(0), logps(1)
    with pytest.raises(ValueError, match="logps_rev has shape"):
        contrastive_token_weights(dpo, rev[:, :4], MASK, True)
    with pytest.raises(ValueError, match="mask has shape"):
        contrastive_token_weights(dpo, rev, MASK[:, :4], True)
    with pytest.raises(ValueError, match="is_chosen"):
        contrastive_token_weights(dpo, rev, MASK, "chosen")
    with pytest.raises(ValueError, match="unknown transform 'rank'"):
        contrastive_token_weights(dpo, rev, MASK, True, "rank")
    with pytest.raises(ValueError, match="unknown transform 'origin'"):
        transform_token_weights(dpo, MASK, "origin")
    with pytest.raises(ValueError, match="min_scale"):
        rank_based(dpo, MASK, min_scale=1.3, max_scale=0.7)
    with pytest.raises(ValueError, match="min_val"):
        threshold_and_scale(dpo, MASK, min_val=1.0, max_val=1.0)
    with pytest.raises(ValueError, match="top_percent"):
        binary(dpo, MASK, top_percent=120)
