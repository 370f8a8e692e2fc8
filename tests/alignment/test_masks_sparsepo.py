"""SparsePO masks: reference-activation mask (hooks, normalization, alignment) and learned masks."""

import statistics

import pytest
import torch
from torch import nn
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

from toolkit.alignment.masks import (
    SITES,
    LearnedTokenMask,
    SparsePOMasks,
    l1_penalty,
    mask_parameter_groups,
    masked_minmax,
    masked_zscore,
    normalize_activation,
    reference_activation_mask,
    reference_hidden_states,
)

VOCAB = 300


def tiny_gpt2():
    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=VOCAB))


def tiny_llama():
    torch.manual_seed(0)
    config = LlamaConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=VOCAB,
    )
    return LlamaForCausalLM(config)


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def model(request):
    return tiny_gpt2() if request.param == "gpt2" else tiny_llama()


@pytest.fixture
def batch():
    """Two sequences of 9: prompt 0..2; row 0 completion 3..8, row 1 completion 3..6 + 2 pads."""
    ids = torch.randint(0, VOCAB, (2, 9), generator=torch.Generator().manual_seed(1))
    attention = torch.ones(2, 9, dtype=torch.long)
    attention[1, 7:] = 0
    completion = torch.zeros(2, 9, dtype=torch.long)
    completion[0, 3:] = 1
    completion[1, 3:7] = 1
    return ids, attention, completion


def no_hooks(model):
    return all(not m._forward_hooks for m in model.modules())


# ---- normalization ------------------------------------------------------------------------


def test_zscore_and_minmax_match_hand_computation():
    values = torch.tensor([[1.0, 2.0, 4.0, 100.0]])
    mask = torch.tensor([[True, True, True, False]])
    mean, std = 7 / 3, statistics.pstdev([1.0, 2.0, 4.0])
    z = [(v - mean) / std for v in (1.0, 2.0, 4.0)]
    torch.testing.assert_close(masked_zscore(values, mask), torch.tensor([[*z, 0.0]]))
    low, high = min(z), max(z)
    expected = torch.tensor([[(v - low) / (high - low) for v in z] + [0.0]])
    torch.testing.assert_close(masked_minmax(masked_zscore(values, mask), mask), expected)
    # min–max after z-score is min–max of the raw values: (1, 2, 4) -> (0, 1/3, 1)
    torch.testing.assert_close(
        normalize_activation(values, mask), torch.tensor([[0.0, 1 / 3, 1.0, 0.0]])
    )


def test_flat_rows_get_flat_value():
    values = torch.tensor([[3.0, 3.0, 3.0], [5.0, 7.0, 9.0]])
    mask = torch.tensor([[True, True, False], [False, True, False]])  # row 1: a single token
    out = normalize_activation(values, mask, flat_value=0.5)
    torch.testing.assert_close(out, torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.5, 0.0]]))


# ---- reference-activation mask ------------------------------------------------------------


def test_reference_mask_range_zeros_and_no_grad(model, batch):
    ids, attention, completion = batch
    mask = reference_activation_mask(model, ids, attention, completion)
    assert mask.shape == ids.shape and mask.dtype == torch.float32
    assert not mask.requires_grad
    assert ((mask >= 0) & (mask <= 1)).all()
    outside = (completion == 0) | (attention == 0)
    outside[:, 0] = True
    assert (mask[outside] == 0).all()
    assert (mask[~outside] > 0).any()
    assert no_hooks(model)


def test_reference_mask_is_deterministic_and_restores_modes(model, batch):
    model.train()
    model.get_output_embeddings().eval()  # a mixed state, restored module by module
    modes = {name: m.training for name, m in model.named_modules()}
    first = reference_activation_mask(model, *batch)
    second = reference_activation_mask(model, *batch)
    assert torch.equal(first, second)  # dropout was off
    assert {name: m.training for name, m in model.named_modules()} == modes
    model.eval()


def test_logits_site_is_normalized_shifted_logit_mean(model, batch):
    """Entry j of the mask comes from the logits at j − 1, the position predicting token j."""
    ids, attention, completion = batch
    mask = reference_activation_mask(model, ids, attention, completion, sites=("logits",))
    with torch.no_grad():
        mean_logits = model(input_ids=ids, attention_mask=attention).logits.mean(-1)
    predicted = completion.bool().clone()
    predicted[:, 0] = False
    shifted = torch.cat([torch.zeros(2, 1), mean_logits[:, :-1]], dim=1)
    torch.testing.assert_close(mask, normalize_activation(shifted, predicted))


def test_all_sites_average_the_single_site_masks(model, batch):
    single = [reference_activation_mask(model, *batch, sites=(site,)) for site in SITES]
    torch.testing.assert_close(
        reference_activation_mask(model, *batch), torch.stack(single).mean(0)
    )


def test_hooks_removed_when_forward_raises(model, batch):
    ids, attention, completion = batch
    with pytest.raises(IndexError):
        reference_activation_mask(model, ids + VOCAB, attention, completion)  # ids out of range
    assert no_hooks(model)


@pytest.mark.parametrize(
    "sites, match", [(("mlp", "moe"), "moe"), ((), "sites"), (("mlp", "mlp"), "sites")]
)
def test_bad_sites(model, batch, sites, match):
    with pytest.raises(ValueError, match=match):
        reference_activation_mask(model, *batch, sites=sites)


def test_bad_masks_name_argument_and_example(model, batch):
    ids, attention, completion = batch
    with pytest.raises(ValueError, match="completion_mask has shape"):
        reference_activation_mask(model, ids, attention, completion[:, :5])
    on_padding = completion.clone()
    on_padding[1, 8] = 1
    with pytest.raises(ValueError, match="example 1: completion_mask marks positions"):
        reference_activation_mask(model, ids, attention, on_padding)
    empty = completion.clone()
    empty[1] = 0
    empty[1, 0] = 1  # position 0 is predicted by nothing
    with pytest.raises(ValueError, match="example 1: completion_mask has no completion token"):
        reference_activation_mask(model, ids, attention, empty)
    with pytest.raises(ValueError, match="attention_mask must hold only 0 and 1"):
        reference_activation_mask(model, ids, attention * 2, completion)


def test_unknown_architecture_is_named(batch):
    class Bag(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(4, 4)])

    with pytest.raises(ValueError, match="decoder layers of Bag"):
        reference_activation_mask(Bag(), *batch)


# ---- learned masks ------------------------------------------------------------------------


def test_reference_hidden_states_are_shifted_layer_outputs(model, batch):
    ids, attention, _ = batch
    states = reference_hidden_states(model, ids, attention)
    config = model.config
    assert states.shape == (config.num_hidden_layers, 2, 9, config.hidden_size)
    assert not states.requires_grad
    with torch.no_grad():
        hidden = model(input_ids=ids, attention_mask=attention, output_hidden_states=True)
    torch.testing.assert_close(states[-1, :, 1:], hidden.hidden_states[-1][:, :-1])
    assert (states[:, :, 0] == 0).all()


def test_learned_mask_shape_nonnegative_and_zero_outside(model, batch):
    ids, attention, completion = batch
    states = reference_hidden_states(model, ids, attention)
    torch.manual_seed(0)
    masks = LearnedTokenMask.from_config(model.config, init_std=1.0).eval()
    out = masks(states, completion)
    assert out.shape == (2, 9)
    assert (out >= 0).all() and (out[completion == 0] == 0).all()
    assert torch.equal(masks(list(states), completion), out)  # a list of L tensors works too


def test_ones_init_starts_at_one():
    masks = LearnedTokenMask(3, 8, init="ones").eval()
    out = masks(torch.randn(3, 2, 5, 8))
    torch.testing.assert_close(out, torch.ones(2, 5))


def test_gradients_reach_mask_parameters_not_reference(model, batch):
    ids, attention, completion = batch
    states = reference_hidden_states(model, ids, attention)
    torch.manual_seed(0)
    masks = SparsePOMasks.from_config(model.config, mode="independent", init_std=1.0).eval()
    m_u, m_d = masks(states, completion)
    (m_u.sum() + 2 * m_d.sum()).backward()
    assert all(p.grad is not None for p in masks.parameters())
    assert all(p.grad.abs().sum() > 0 for p in masks.kl_mask.mixer.parameters())
    assert all(p.grad is None for p in model.parameters())


def test_common_and_independent_modes():
    states = torch.randn(2, 3, 4, 8)
    common = SparsePOMasks(2, 8, mode="common", init_std=1.0)
    m_u, m_d = common(states)
    assert m_u is m_d
    torch.manual_seed(0)
    independent = SparsePOMasks(2, 8, mode="independent", init_std=1.0).eval()
    m_u, m_d = independent(states)
    assert not torch.equal(m_u, m_d)  # two differently initialised networks
    n_common = sum(p.numel() for p in common.parameters())
    assert sum(p.numel() for p in independent.parameters()) == 2 * n_common
    assert all("mask" in name for name, _ in independent.named_parameters())
    with pytest.raises(ValueError, match="mode"):
        SparsePOMasks(2, 8, mode="shared")


def test_learned_mask_rejects_bad_states():
    masks = LearnedTokenMask(2, 8)
    with pytest.raises(ValueError, match="hidden_states must be"):
        masks(torch.randn(3, 2, 4, 8))
    states = torch.randn(2, 2, 4, 8)
    states[1, 1, 2, 0] = float("nan")
    with pytest.raises(ValueError, match="example 1: hidden_states has NaN"):
        masks(states)
    with pytest.raises(ValueError, match="init"):
        LearnedTokenMask(2, 8, init="zeros")


def test_l1_penalty_hand_value():
    mask = torch.tensor([[0.5, -0.25, 2.0], [1.0, 1.0, 9.0]])
    completion = torch.tensor([[1, 1, 0], [1, 1, 1]])
    torch.testing.assert_close(l1_penalty(mask, completion), torch.tensor([0.75, 11.0]))


def test_parameter_groups_separate_decay():
    masks = SparsePOMasks(2, 8, mode="independent", share_norm=False)
    decay, no_decay = mask_parameter_groups(masks, weight_decay=0.05)
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    linear_weights = {id(m.weight) for m in masks.modules() if isinstance(m, nn.Linear)}
    assert {id(p) for p in decay["params"]} == linear_weights
    everything = {id(p) for p in masks.parameters()}
    assert {id(p) for p in no_decay["params"]} == everything - linear_weights
    torch.optim.AdamW([decay, no_decay], lr=1e-3)  # a valid optimizer spec
    with pytest.raises(ValueError, match="weight_decay"):
        mask_parameter_groups(masks, weight_decay=-1.0)
