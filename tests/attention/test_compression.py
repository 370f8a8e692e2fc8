"""Prefill and streaming KV compression under forward loops and ``llama.generate``.

The strongest check (``test_decode_matches_attention_over_only_the_kept_keys``) rebuilds the
compressed decode by hand: one uncompressed eager forward over prompt + generated tokens in
which every query of every layer and head may only see the entries the compressed cache held
when that query ran. Equal logits mean RoPE positions, masks and gathers are all right.
"""

import math
from fractions import Fraction

import pytest
import torch
import torch.nn.functional as F
from transformers import DynamicCache, StaticCache

from toolkit.attention.compression import (
    CompressedLayer,
    KVCompressor,
    StreamingKVCompressor,
    compression_stats,
    continuation_perplexity,
)
from toolkit.attention.scorers import (
    KNormScorer,
    QFiltersScorer,
    RandomScorer,
    SnapKVScorer,
    StreamingLLMScorer,
)
from toolkit.zoo.tiny import tiny_gpt2

N_LAYERS, H, H_KV, D = 2, 4, 2, 8
FILTERS = torch.randn(N_LAYERS, H_KV, D, generator=torch.Generator().manual_seed(7))


def _ids(batch=2, length=32, seed=0):
    return torch.randint(3, 300, (batch, length), generator=torch.Generator().manual_seed(seed))


def _prefill(llama, ids, compressor=None):
    cache = DynamicCache(config=llama.config)
    with compressor.apply(llama) if compressor else torch.no_grad(), torch.no_grad():
        llama(ids, cache=cache, use_cache=True)
    return cache


def _generate(llama, ids, compressor, **kwargs):
    kwargs = {"max_new_tokens": 8, "do_sample": False, "return_dict_in_generate": True, **kwargs}
    with compressor.apply(llama):
        return llama.generate(ids, attention_mask=torch.ones_like(ids), **kwargs)


def test_ratio_zero_changes_nothing(llama):
    ids = _ids()
    reference = llama.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=8,
        do_sample=False,
        return_dict_in_generate=True,
        output_logits=True,
    )
    out = _generate(llama, ids, KVCompressor(KNormScorer(), ratio=0.0), output_logits=True)
    assert torch.equal(out.sequences, reference.sequences)
    for got, expected in zip(out.logits, reference.logits, strict=True):
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
    assert isinstance(out.past_key_values.layers[0], CompressedLayer)


# ⌊L·(1 − ratio)⌋ with the ratio as the exact decimal; float arithmetic gives one fewer at
# (0.8, 20), (0.9, 10) and (0.3, 90), and refused (0.9, 10) as keeping nothing
@pytest.mark.parametrize(
    ("ratio", "length", "n_keep"),
    [(0.25, 37, 27), (0.5, 37, 18), (0.875, 37, 4), (0.8, 20, 4), (0.9, 10, 1), (0.3, 90, 63)],
)
def test_each_layer_and_head_keeps_floor_of_l_times_one_minus_ratio(llama, ratio, length, n_keep):
    ids = _ids(length=length)
    cache = _prefill(llama, ids, KVCompressor(RandomScorer(), ratio, window=1))
    stats = compression_stats(cache)
    assert torch.equal(stats.kept, torch.full((N_LAYERS, H_KV), n_keep))
    assert stats.seen == [length, length] and cache.get_seq_length() == length
    assert stats.bytes == N_LAYERS * 2 * 2 * H_KV * n_keep * D * 4  # layers × {K, V} × B × …
    assert stats.kept_fraction == pytest.approx(n_keep / length)
    for layer in cache.layers:
        assert layer.keys.shape == layer.values.shape == (2, H_KV, n_keep, D)
        assert layer.positions.shape == (2, H_KV, n_keep)
        assert (layer.positions.diff(dim=-1) > 0).all()  # original order


EXACT_RATIOS = {
    0.1: Fraction(1, 10),
    0.25: Fraction(1, 4),
    0.3: Fraction(3, 10),
    0.5: Fraction(1, 2),
    0.75: Fraction(3, 4),
    0.8: Fraction(4, 5),
    0.9: Fraction(9, 10),
    0.95: Fraction(19, 20),
    31 / 32: Fraction(31, 32),
}


@pytest.mark.parametrize("ratio", EXACT_RATIOS)
def test_prefill_budget_is_exact_for_every_length_up_to_8192(ratio):
    compressor = KVCompressor("knorm", ratio, window=0)
    kept = 1 - EXACT_RATIOS[ratio]
    wrong = []
    for length in range(1, 8193):
        expected = math.floor(length * kept)
        if expected == 0:
            with pytest.raises(ValueError, match="ratio.*keeps no entry"):
                compressor.n_keep(length)
        elif compressor.n_keep(length) != expected:
            wrong.append((length, compressor.n_keep(length), expected))
    assert not wrong, f"(L, n_keep, exact) for ratio {ratio}: {wrong[:5]}"


def test_recent_window_is_always_kept(llama):
    cache = _prefill(llama, _ids(length=40), KVCompressor(RandomScorer(seed=1), 0.8, window=5))
    for layer in cache.layers:
        assert torch.equal(layer.positions[..., -5:], torch.arange(35, 40).expand(2, H_KV, 5))


def test_kept_entries_are_the_top_scored_ones(llama):
    ids = _ids(length=30)
    full = _prefill(llama, ids)
    cache = _prefill(llama, ids, KVCompressor(QFiltersScorer(FILTERS), 0.6, window=3))
    n_keep = int(30 * 0.4)
    for idx, (kept, layer) in enumerate(zip(cache.layers, full.layers, strict=True)):
        for b in range(2):
            for h in range(H_KV):
                scores = [-float(layer.keys[b, h, i] @ FILTERS[idx, h]) for i in range(30)]
                top = sorted(range(27), key=lambda i: -scores[i])[: n_keep - 3]
                expected = sorted(top) + [27, 28, 29]
                assert kept.positions[b, h].tolist() == expected
                torch.testing.assert_close(kept.keys[b, h], layer.keys[b, h, expected])
                torch.testing.assert_close(kept.values[b, h], layer.values[b, h, expected])


def test_keep_positions_are_never_evicted(llama):
    keep = (0, 5, 11)
    cache = _prefill(
        llama, _ids(length=40), KVCompressor(RandomScorer(seed=2), 0.8, window=2, keep=keep)
    )
    for layer in cache.layers:
        assert all(
            torch.isin(torch.tensor(keep), row).all() for row in layer.positions.flatten(0, 1)
        )
    streaming = StreamingKVCompressor(KNormScorer(), budget=12, window=4, keep=range(3))
    out = _generate(llama, _ids(length=10), streaming, max_new_tokens=20)
    for layer in out.past_key_values.layers:
        assert layer.keys.shape[-2] == 12
        assert torch.equal(layer.positions[..., :3], torch.arange(3).expand(2, H_KV, 3))


def test_streamingllm_keeps_sinks_and_recent(llama):
    cache = _prefill(llama, _ids(length=32), KVCompressor(StreamingLLMScorer(4), 0.75, window=2))
    expected = torch.tensor([0, 1, 2, 3, 28, 29, 30, 31]).expand(2, H_KV, 8)
    assert all(torch.equal(layer.positions, expected) for layer in cache.layers)


def test_knorm_keeps_the_smallest_norm_keys(llama):
    ids = _ids(length=24)
    full = _prefill(llama, ids)
    cache = _prefill(llama, ids, KVCompressor(KNormScorer(), 0.5, window=0))
    for kept, layer in zip(cache.layers, full.layers, strict=True):
        smallest = layer.keys.norm(dim=-1).argsort(dim=-1)[..., :12].sort(dim=-1).values
        assert torch.equal(kept.positions, smallest)


def _decode(llama, ids, compressor, steps):
    """Greedy manual loop (prefill, then one token at a time with a growing 2-D all-ones mask,
    no positions passed). Returns the tokens, the logits of every step and, per step, the
    positions each layer held before it."""
    cache = DynamicCache(config=llama.config)
    logits, held = [], []
    with compressor.apply(llama), torch.no_grad():
        mask = torch.ones_like(ids)
        out = llama(ids, attention_mask=mask, past_key_values=cache, use_cache=True)
        step_logits, tokens = out.logits[:, -1], ids
        for _ in range(steps):
            logits.append(step_logits)
            held.append([layer.positions.clone() for layer in cache.layers])
            nxt = step_logits.argmax(-1, keepdim=True)
            tokens = torch.cat([tokens, nxt], dim=-1)
            mask = torch.ones_like(tokens)
            out = llama(nxt, attention_mask=mask, past_key_values=cache, use_cache=True)
            step_logits = out.logits[:, -1]
    return tokens, torch.stack(logits, 1), held


def _masked_reference(llama, tokens, prompt_len, held):
    """One uncompressed eager forward over ``tokens`` where decode query ``prompt_len + s`` of
    layer ``l``, head ``h`` sees only ``held[s][l]`` of its KV head plus itself."""
    batch, total = tokens.shape
    masks = []
    for layer in range(N_LAYERS):
        allowed = torch.ones(batch, H_KV, total, total).tril().bool()
        for s, positions in enumerate(held):
            row = torch.zeros(batch, H_KV, total, dtype=torch.bool)
            row.scatter_(-1, positions[layer], True)
            row[..., prompt_len + s] = True
            allowed[:, :, prompt_len + s] = row
        allowed = allowed.repeat_interleave(H // H_KV, dim=1)  # query head → its KV head
        masks.append(torch.zeros(allowed.shape).masked_fill(~allowed, torch.finfo().min))

    def inject(module, args, kwargs):
        kwargs["attention_mask"] = masks[module.layer_idx]
        return args, kwargs

    attn = [layer.self_attn for layer in llama.model.layers]
    handles = [m.register_forward_pre_hook(inject, with_kwargs=True) for m in attn]
    try:
        with torch.no_grad():
            logits = llama(tokens, use_cache=False).logits
    finally:
        for handle in handles:
            handle.remove()
    return logits[:, prompt_len - 1 : prompt_len - 1 + len(held)]


@pytest.mark.parametrize(
    "compressor",
    [
        KVCompressor(QFiltersScorer(FILTERS), 0.5, window=4),
        KVCompressor(SnapKVScorer(window=4, kernel_size=3), 0.75, window=2),
        StreamingKVCompressor(RandomScorer(seed=2), budget=14, window=3),
    ],
    ids=["prefill-qfilters", "prefill-snapkv", "streaming-random"],
)
def test_decode_matches_attention_over_only_the_kept_keys(eager_llama, compressor):
    prompt = _ids(length=20, seed=3)
    tokens, logits, held = _decode(eager_llama, prompt, compressor, steps=8)
    assert held[0][0].shape[-1] < 20  # the cache was compressed before decoding
    reference = _masked_reference(eager_llama, tokens, 20, held)
    torch.testing.assert_close(logits, reference, rtol=1e-4, atol=1e-5)
    uncompressed = eager_llama(tokens, use_cache=False).logits[:, 19:27]
    assert not torch.allclose(logits, uncompressed, atol=1e-3)  # eviction does change attention


def test_generate_keeps_positions_masks_and_seq_length_consistent(eager_llama):
    ids = _ids(length=24, seed=4)
    records = []

    def model_hook(module, args, kwargs):
        cache = kwargs["cache"]
        mask = kwargs.get("attention_mask")  # generate drops an all-ones mask
        records.append(
            dict(
                width=None if mask is None else mask.shape[-1],
                positions=kwargs["position_ids"].clone(),
                seq_length=cache.get_seq_length(),
                q=kwargs["input_ids"].shape[1],
            )
        )

    def attn_hook(module, args, kwargs):
        layer = kwargs["cache"].layers[module.layer_idx]
        held = layer.keys.shape[-2] if layer.is_initialized else 0
        records[-1].setdefault("mask_vs_keys", []).append(
            (kwargs["attention_mask"].shape[-1], held + kwargs["hidden_states"].shape[1])
        )

    handles = [eager_llama.register_forward_pre_hook(model_hook, with_kwargs=True)]
    for layer in eager_llama.model.layers:
        handles.append(layer.self_attn.register_forward_pre_hook(attn_hook, with_kwargs=True))
    try:
        out = _generate(eager_llama, ids, KVCompressor(KNormScorer(), 0.5, window=4))
    finally:
        for handle in handles:
            handle.remove()
    assert [r["q"] for r in records] == [24] + [1] * 7
    for step, r in enumerate(records[1:]):
        seen = 24 + step
        assert r["seq_length"] == seen and r["width"] in (None, seen + 1)
        assert torch.equal(r["positions"], torch.full((2, 1), seen))
        assert r["mask_vs_keys"] == [(12 + step + 1, 12 + step + 1)] * N_LAYERS
    assert out.past_key_values.get_seq_length() == 31


def test_streaming_keeps_every_layer_within_budget(llama):
    sizes = []

    def after(module, args, kwargs, output):
        sizes.append(kwargs["cache"].layers[module.layer_idx].keys.shape[-2])

    compressor = StreamingKVCompressor(KNormScorer(), budget=16, window=4)
    handles = [
        layer.self_attn.register_forward_hook(after, with_kwargs=True)
        for layer in llama.model.layers
    ]
    try:
        out = _generate(llama, _ids(length=10), compressor, max_new_tokens=20)
    finally:
        for handle in handles:
            handle.remove()
    # hooks registered before apply() run first, so they see each layer before compression
    assert max(sizes) == 17 and sizes[-1] == 17
    stats = compression_stats(out.past_key_values)
    assert torch.equal(stats.kept, torch.full((N_LAYERS, H_KV), 16)) and stats.seen == [29, 29]
    for layer in out.past_key_values.layers:
        assert torch.equal(layer.positions[..., -4:], torch.arange(25, 29).expand(2, H_KV, 4))


def _hook_counts(llama):
    attn = [len(layer.self_attn._forward_hooks) for layer in llama.model.layers]
    return attn, len(llama._forward_pre_hooks)


def test_hooks_are_removed_after_exceptions(llama):
    before = _hook_counts(llama)
    compressor = KVCompressor(KNormScorer(), 0.5, window=4)
    with pytest.raises(RuntimeError, match="boom"), compressor.apply(llama):
        assert _hook_counts(llama) != before
        raise RuntimeError("boom")
    assert _hook_counts(llama) == before
    with pytest.raises(ValueError, match="window"):  # raised by a hook, before the forward
        _prefill(llama, _ids(length=10), KVCompressor(KNormScorer(), 0.8, window=4))
    assert _hook_counts(llama) == before


def test_continuation_perplexity_reductions(llama):
    ids = _ids(length=30, seed=5)
    with torch.no_grad():
        logits = llama(ids).logits[:, 11:-1]
    expected = F.cross_entropy(logits.flatten(0, 1), ids[:, 12:].flatten()).exp().item()
    assert continuation_perplexity(llama, ids, 12) == pytest.approx(expected, rel=1e-5)
    lossless = KVCompressor(QFiltersScorer(FILTERS), 0.0, window=4)
    assert continuation_perplexity(llama, ids, 12, lossless) == pytest.approx(expected, rel=1e-5)
    lossy = KVCompressor(QFiltersScorer(FILTERS), 0.5, window=4)
    one_forward = continuation_perplexity(llama, ids, 12, lossy)
    step_by_step = continuation_perplexity(llama, ids, 12, lossy, token_by_token=True)
    assert one_forward == pytest.approx(step_by_step, rel=1e-5)
    assert one_forward != pytest.approx(expected, rel=1e-4)


def test_bad_input_raises_naming_the_parameter(llama):
    for ratio in (-0.1, 1.0):
        with pytest.raises(ValueError, match="ratio"):
            KVCompressor(KNormScorer(), ratio)
    with pytest.raises(TypeError, match="ratio"):
        KVCompressor(KNormScorer(), "0.5")
    with pytest.raises(ValueError, match="ratio"):
        _prefill(llama, _ids(length=4), KVCompressor(KNormScorer(), 0.8, window=0))
    with pytest.raises(ValueError, match="window"):
        KVCompressor(KNormScorer(), 0.5, window=-1)
    with pytest.raises(ValueError, match="budget"):
        StreamingKVCompressor(KNormScorer(), budget=8, window=8)
    with pytest.raises(ValueError, match="keep"):
        KVCompressor(KNormScorer(), 0.5, keep=(-1,))
    for keep in (("0",), (True,)):
        with pytest.raises(TypeError, match="keep"):
            KVCompressor(KNormScorer(), 0.5, keep=keep)
    with pytest.raises(ValueError, match="keep"):
        StreamingKVCompressor(KNormScorer(), budget=10, window=8, keep=range(3))
    with pytest.raises(ValueError, match="keep"):
        _prefill(llama, _ids(length=16), KVCompressor(KNormScorer(), 0.75, window=2, keep=range(3)))
    with pytest.raises(TypeError, match="scorer"):
        KVCompressor(lambda k: k, 0.5)
    with (
        pytest.raises(ValueError, match="filters"),
        KVCompressor(QFiltersScorer(torch.randn(4, H_KV, D)), 0.5).apply(llama),
    ):
        pass
    padded = torch.ones(2, 16, dtype=torch.long)
    padded[0, :3] = 0
    with pytest.raises(ValueError, match="attention_mask"), KVCompressor("knorm", 0.5).apply(llama):
        llama.generate(_ids(length=16), attention_mask=padded, max_new_tokens=2)
    static = StaticCache(config=llama.config, max_cache_len=32)
    with pytest.raises(TypeError, match="cache"), KVCompressor("knorm", 0.5).apply(llama):
        llama(_ids(length=16), cache=static, use_cache=True)
    with pytest.raises(ValueError, match="prefix_len"):
        continuation_perplexity(llama, _ids(length=8), 8)
    with pytest.raises(TypeError, match="model"):
        with KVCompressor("knorm", 0.5).apply(torch.nn.Linear(2, 2)):
            pass


def test_gpt2_without_rope_is_compressed_too(tokenizer):
    gpt2 = tiny_gpt2(tokenizer, seed=0).eval()
    ids = _ids(length=24)
    reference = gpt2.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=6)
    out = _generate(gpt2, ids, KVCompressor("knorm", 0.0, window=2), max_new_tokens=6)
    assert torch.equal(out.sequences, reference)
    cache = _prefill(gpt2, ids, KVCompressor("knorm", 0.5, window=2))
    assert torch.equal(compression_stats(cache).kept, torch.full((2, 2), 12))
    cache = _prefill(gpt2, ids, KVCompressor(SnapKVScorer(window=4), 0.5, window=2))
    assert torch.equal(compression_stats(cache).kept, torch.full((2, 2), 12))
