import copy

import pytest
import torch
from transformers import BertConfig, BertModel, MistralConfig, MistralForCausalLM
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

from toolkit.attention.capture import attention_modules, capture_qk
from toolkit.zoo.tiny import tiny_gpt2, tiny_llama


@pytest.fixture(scope="module")
def gpt2(tokenizer):
    return tiny_gpt2(tokenizer)


def tiny_bert(seed=0):
    config = BertConfig(
        vocab_size=64,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    torch.manual_seed(seed)
    return BertModel(config)


def batch(vocab_size, length=12, pad_from=8, seed=0):
    """Two rows; the second is right-padded from ``pad_from`` on."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, vocab_size, (2, length), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, pad_from:] = 0
    return ids, mask


def eager_attentions(model, ids, mask):
    eager = copy.deepcopy(model).eval()
    eager.set_attn_implementation("eager")
    with torch.no_grad():
        return eager(input_ids=ids, attention_mask=mask, output_attentions=True).attentions


def reference_mean(weights, allowed):
    """Mean over the allowed queries of eager weights ``(B, H, T, T)``; ``allowed`` (B, T, T)."""
    allowed = allowed[:, None].float()
    return (weights * allowed).sum(dim=2) / allowed.sum(dim=2).clamp(min=1)


def hook_count(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def test_llama_post_rope_states_reproduce_eager_attention(llama):
    ids, mask = batch(llama.config.vocab_size)
    capture = capture_qk(llama, ids, mask)
    attentions = eager_attentions(llama, ids, mask)
    assert capture.causal and capture.num_heads == 4 and capture.num_kv_heads == 2
    for layer in capture.layers:
        q, k = capture.queries[layer], capture.keys[layer]
        k = k.repeat_interleave(capture.group_size, dim=1)  # (B, H, T, D)
        allowed = capture.allowed(layer, torch.arange(ids.shape[1]))
        logits = (q @ k.transpose(-1, -2)) * capture.scaling[layer]
        probs = logits.masked_fill(~allowed[:, None], float("-inf")).softmax(-1)
        real = mask.bool()
        torch.testing.assert_close(probs[0], attentions[layer][0], atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(
            probs[1][:, real[1]], attentions[layer][1][:, real[1]], atol=1e-5, rtol=1e-4
        )
        expected = reference_mean(attentions[layer], allowed)
        torch.testing.assert_close(capture.mean_attention(layer), expected, atol=1e-6, rtol=1e-5)


def test_eager_and_sdpa_kernels_receive_the_same_states(llama):
    ids, mask = batch(llama.config.vocab_size)
    eager = copy.deepcopy(llama)
    eager.set_attn_implementation("eager")
    sdpa_capture, eager_capture = capture_qk(llama, ids, mask), capture_qk(eager, ids, mask)
    assert eager.config._attn_implementation == "eager"
    for layer in sdpa_capture.layers:
        torch.testing.assert_close(eager_capture.queries[layer], sdpa_capture.queries[layer])
        torch.testing.assert_close(eager_capture.keys[layer], sdpa_capture.keys[layer])


def test_post_rope_is_rotary_applied_to_pre_rope(llama):
    ids, mask = batch(llama.config.vocab_size)
    capture = capture_qk(llama, ids, mask)
    positions = torch.arange(ids.shape[1])[None].expand(2, -1)
    cos, sin = llama.model.rotary_emb(capture.queries_pre[0], positions)
    for layer in capture.layers:
        q, k = apply_rotary_pos_emb(capture.queries_pre[layer], capture.keys_pre[layer], cos, sin)
        torch.testing.assert_close(capture.queries[layer], q)
        torch.testing.assert_close(capture.keys[layer], k)
        assert not torch.allclose(capture.queries[layer], capture.queries_pre[layer])


def test_grouped_query_shapes_keys_not_repeated(tokenizer):
    model = tiny_llama(tokenizer, hidden_size=48, num_attention_heads=6, num_key_value_heads=2)
    ids, mask = batch(model.config.vocab_size, length=5, pad_from=3)
    capture = capture_qk(model, ids, mask)
    assert capture.queries[1].shape == (2, 6, 5, 8) and capture.keys[1].shape == (2, 2, 5, 8)
    assert capture.queries_pre[1].shape == (2, 6, 5, 8) and capture.keys_pre[1].shape == (
        2,
        2,
        5,
        8,
    )
    assert capture.queries[0].dtype == torch.float32 and capture.group_size == 3
    assert capture.rows(0, "q").shape == (6, 8, 8) and capture.rows(0, "k").shape == (2, 8, 8)
    assert capture.mean_attention(1).shape == (2, 6, 5)


def test_model_left_exactly_as_it_was(llama):
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    ids, mask = batch(llama.config.vocab_size)
    llama.train()
    hooks = hook_count(llama)
    with torch.no_grad():
        before = llama.eval()(input_ids=ids, attention_mask=mask).logits
    llama.train()
    capture_qk(llama, ids, mask)
    assert llama.config._attn_implementation == "sdpa"
    assert all(m.training for m in llama.modules())
    assert hook_count(llama) == hooks
    assert "get_interface" not in vars(ALL_ATTENTION_FUNCTIONS)
    with torch.no_grad():
        after = llama.eval()(input_ids=ids, attention_mask=mask).logits
    assert torch.equal(before, after)


def test_model_restored_when_forward_raises(llama):
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    def fail(*_):
        raise RuntimeError("boom in layer 1")

    llama.eval()
    handle = llama.model.layers[1].mlp.register_forward_hook(fail)
    hooks = hook_count(llama)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            capture_qk(llama, *batch(llama.config.vocab_size))
        assert hook_count(llama) == hooks
    finally:
        handle.remove()
    assert "get_interface" not in vars(ALL_ATTENTION_FUNCTIONS)
    assert llama.config._attn_implementation == "sdpa" and not llama.training


def test_gpt2_has_no_rope_and_matches_eager(gpt2):
    ids, mask = batch(gpt2.config.vocab_size)
    capture = capture_qk(gpt2, ids, mask)
    assert capture.causal and capture.num_heads == capture.num_kv_heads == 2
    attentions = eager_attentions(gpt2, ids, mask)
    for layer in capture.layers:
        assert torch.equal(capture.queries[layer], capture.queries_pre[layer])
        assert torch.equal(capture.keys[layer], capture.keys_pre[layer])
        allowed = capture.allowed(layer, torch.arange(ids.shape[1]))
        expected = reference_mean(attentions[layer], allowed)
        torch.testing.assert_close(capture.mean_attention(layer), expected, atol=1e-6, rtol=1e-5)


def test_bert_encoder_is_bidirectional_and_matches_eager():
    model = tiny_bert()
    ids, mask = batch(64)
    capture = capture_qk(model, ids, mask)
    assert not capture.causal and capture.layers == (0, 1)
    assert model.config._attn_implementation == "sdpa"
    attentions = eager_attentions(model, ids, mask)
    for layer in capture.layers:
        assert torch.equal(capture.queries[layer], capture.queries_pre[layer])
        allowed = capture.allowed(layer, torch.arange(ids.shape[1]))
        assert allowed[0].all()  # every query sees every key
        expected = reference_mean(attentions[layer], allowed)
        torch.testing.assert_close(capture.mean_attention(layer), expected, atol=1e-6, rtol=1e-5)


def test_sliding_window_mask_matches_eager():
    config = MistralConfig(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=4,
        num_key_value_heads=2,
        sliding_window=3,
    )
    torch.manual_seed(0)
    model = MistralForCausalLM(config)
    ids, mask = batch(64, length=10, pad_from=7)
    capture = capture_qk(model, ids, mask)
    assert capture.sliding_window[0] == 3
    allowed = capture.allowed(0, torch.arange(10))
    assert allowed[0].sum(dim=1).tolist() == [1, 2] + [3] * 8
    expected = reference_mean(eager_attentions(model, ids, mask)[0], allowed)
    torch.testing.assert_close(capture.mean_attention(0), expected, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("fixture", ["llama", "gpt2"])
def test_mean_attention_chunked_equals_unchunked_and_rows_sum_to_one(fixture, request):
    model = request.getfixturevalue(fixture)
    ids, mask = batch(model.config.vocab_size, length=40, pad_from=25)
    capture = capture_qk(model, ids, mask)
    full = capture.mean_attention(1, chunk_size=1000)
    for chunk_size in (1, 7):
        torch.testing.assert_close(capture.mean_attention(1, chunk_size=chunk_size), full)
    # Every real query's softmax row sums to 1: Σ_j ā_j · |I_j| = number of real queries.
    counts = capture.allowed(1, torch.arange(40)).sum(dim=1).float()  # (B, T): |I_j|
    totals = (full * counts[:, None]).sum(dim=-1)  # (B, H)
    torch.testing.assert_close(totals, mask.sum(dim=1, keepdim=True).float().expand_as(totals))
    assert (full[1, :, 25:] == 0).all()


def test_layer_selection_and_store_device(llama):
    ids, mask = batch(llama.config.vocab_size)
    full = capture_qk(llama, ids, mask)
    only = capture_qk(llama, ids, mask, layers=[1], pre_rope=False, store_device="cpu")
    assert only.layers == (1,) and only.n_model_layers == 2 and not only.queries_pre
    assert torch.equal(only.queries[1], full.queries[1])
    with pytest.raises(ValueError, match="post_rope"):
        only.rows(1, "q", post_rope=False)


def test_bad_inputs_raise_clear_errors(llama):
    ids, mask = batch(llama.config.vocab_size)
    with pytest.raises(ValueError, match="layers"):
        capture_qk(llama, ids, mask, layers=[2])
    with pytest.raises(ValueError, match="layers"):
        capture_qk(llama, ids, mask, layers=[-1])
    with pytest.raises(ValueError, match="input_ids"):
        capture_qk(llama, ids[0], mask[0])
    with pytest.raises(ValueError, match="attention_mask"):
        capture_qk(llama, ids, mask[:, :5])
    with pytest.raises(ValueError, match="model"):
        capture_qk(torch.nn.Linear(2, 2), ids)
    capture = capture_qk(llama, ids, mask, layers=[0])
    with pytest.raises(ValueError, match="layer"):
        capture.mean_attention(1)
    with pytest.raises(ValueError, match="chunk_size"):
        capture.mean_attention(0, chunk_size=0)
    with pytest.raises(ValueError, match="which"):
        capture.rows(0, "v")


def test_attention_modules_finds_one_per_layer(llama, gpt2):
    assert len(attention_modules(llama)) == 2 and len(attention_modules(gpt2)) == 2
    assert len(attention_modules(tiny_bert())) == 2


def test_keys_and_values_are_what_the_kv_cache_holds(llama):
    ids, mask = batch(llama.config.vocab_size)
    capture = capture_qk(llama, ids, mask)
    with torch.no_grad():
        cache = llama(input_ids=ids, attention_mask=mask, use_cache=True).past_key_values
    for layer in capture.layers:
        torch.testing.assert_close(capture.keys[layer], cache.layers[layer].keys)
        torch.testing.assert_close(capture.values[layer], cache.layers[layer].values)
