"""KV compression of sliding-window caches (Mistral, Qwen2 with mixed layers) and SnapKV on
GPT-2's fused ``c_attn``, on tiny random models.

As in ``test_compression.py``, the decisive check rebuilds a compressed decode by hand: one
uncompressed eager forward in which every decode query of every layer sees only the entries
its layer held (and, on a sliding layer, only those inside its window) plus itself. Equal
logits mean the held positions, the evictions out of the window and the masks transformers
builds from ``get_mask_sizes`` all agree.
"""

import pytest
import torch
from transformers import (
    DynamicCache,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

from toolkit.attention.capture import capture_qk
from toolkit.attention.compression import (
    CompressedLayer,
    CompressedSlidingLayer,
    KVCompressor,
    StreamingKVCompressor,
    compression_stats,
    continuation_perplexity,
)
from toolkit.attention.needle import needle_accuracy, needle_sweep
from toolkit.attention.scorers import KNormScorer, MeanAttentionScorer, SnapKVScorer
from toolkit.data.retrieval import needle_examples
from toolkit.zoo.tiny import tiny_gpt2

WINDOW, H, H_KV = 12, 4, 2
CONFIG = dict(
    vocab_size=300,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=H,
    num_key_value_heads=H_KV,
    max_position_embeddings=256,
    sliding_window=WINDOW,
)


def _mistral():
    """Every layer a sliding-window layer."""
    torch.manual_seed(0)
    model = MistralForCausalLM(MistralConfig(**CONFIG)).eval()
    model.set_attn_implementation("eager")
    return model


def _qwen2():
    """Layer 0 full attention, layer 1 sliding window (Qwen2's ``max_window_layers``)."""
    torch.manual_seed(1)
    config = Qwen2Config(
        **CONFIG, use_sliding_window=True, layer_types=["full_attention", "sliding_attention"]
    )
    model = Qwen2ForCausalLM(config).eval()
    model.set_attn_implementation("eager")
    return model


MODELS = {"mistral": _mistral, "qwen2": _qwen2}


def _sliding(model) -> list[bool]:
    types = getattr(model.config, "layer_types", None)
    return [t == "sliding_attention" for t in types] if types else [True] * 2


def _ids(length, seed=0):
    return torch.randint(3, 300, (1, length), generator=torch.Generator().manual_seed(seed))


def _decode(model, ids, compressor, steps):
    """Greedy loop; per decode step, the positions each layer's attention saw (new token
    aside), read by hooks that run before the compressor's."""
    cache = DynamicCache(config=model.config)
    seen_now: dict[int, torch.Tensor] = {}

    def record(module, args, kwargs, output):
        layer = kwargs["cache"].layers[module.layer_idx]
        if isinstance(layer, CompressedLayer):
            seen_now[module.layer_idx] = layer.positions[..., :-1].clone()

    attention = [layer.self_attn for layer in model.model.layers]
    handles = [m.register_forward_hook(record, with_kwargs=True) for m in attention]
    logits, held = [], []
    try:
        with compressor.apply(model), torch.no_grad():
            out = model(ids, attention_mask=torch.ones_like(ids), cache=cache, use_cache=True)
            tokens = ids
            for _ in range(steps):
                nxt = out.logits[:, -1].argmax(-1, keepdim=True)
                tokens = torch.cat([tokens, nxt], dim=-1)
                seen_now.clear()
                mask = torch.ones_like(tokens)
                out = model(nxt, attention_mask=mask, cache=cache, use_cache=True)
                held.append([seen_now[i] for i in range(len(attention))])
                logits.append(out.logits[:, -1])
    finally:
        for handle in handles:
            handle.remove()
    return tokens, torch.stack(logits, 1), held, cache


def _masked_reference(model, tokens, prompt_len, held):
    batch, total = tokens.shape
    sliding = _sliding(model)
    i = torch.arange(total)[:, None]
    j = torch.arange(total)[None, :]
    masks = []
    for layer in range(2):
        base = j <= i
        if sliding[layer]:
            base &= i - j < WINDOW
        allowed = base.expand(batch, H_KV, total, total).clone()
        for s, positions in enumerate(held):
            row = torch.zeros(batch, H_KV, total, dtype=torch.bool)
            row.scatter_(-1, positions[layer], True)
            row[..., prompt_len + s] = True
            allowed[:, :, prompt_len + s] = row
        allowed = allowed.repeat_interleave(H // H_KV, dim=1)
        masks.append(torch.zeros(allowed.shape).masked_fill(~allowed, torch.finfo().min))

    def inject(module, args, kwargs):
        kwargs["attention_mask"] = masks[module.layer_idx]
        return args, kwargs

    handles = [
        layer.self_attn.register_forward_pre_hook(inject, with_kwargs=True)
        for layer in model.model.layers
    ]
    try:
        with torch.no_grad():
            logits = model(tokens, use_cache=False).logits
    finally:
        for handle in handles:
            handle.remove()
    return logits[:, prompt_len : prompt_len + len(held)]


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize(
    ("prompt_len", "compressor"),
    [
        (10, KVCompressor(KNormScorer(), 0.5, window=2)),  # the prompt fits the window
        (30, KVCompressor(SnapKVScorer(window=4, kernel_size=3), 0.8, window=2)),  # it does not
        (10, StreamingKVCompressor(KNormScorer(), budget=6, window=2)),
    ],
    ids=["prefill-short", "prefill-long-snapkv", "streaming"],
)
def test_sliding_window_decode_matches_attention_over_held_keys_in_the_window(
    kind, prompt_len, compressor
):
    model = MODELS[kind]()
    prompt = _ids(prompt_len, seed=3)
    steps = 14  # decoding runs past the window: entries leave it while compressed
    tokens, logits, held, cache = _decode(model, prompt, compressor, steps)
    sliding = _sliding(model)
    for layer, is_sliding in zip(cache.layers, sliding, strict=True):
        assert isinstance(layer, CompressedSlidingLayer) == is_sliding
    for positions, is_sliding in zip(held[-1], sliding, strict=True):
        if is_sliding:  # nothing older than the window is ever shown
            assert int(positions.min()) > prompt_len + steps - 1 - WINDOW
    assert held[0][0].shape[-1] < min(prompt_len, WINDOW)  # compressed before decoding
    reference = _masked_reference(model, tokens, prompt_len, held)
    torch.testing.assert_close(logits, reference, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_generate_on_sliding_models_with_ratio_zero_changes_nothing(kind):
    model = MODELS[kind]()
    for length in (8, 30):
        ids = _ids(length, seed=4)
        kwargs = dict(attention_mask=torch.ones_like(ids), max_new_tokens=16, do_sample=False)
        reference = model.generate(ids, **kwargs)
        with KVCompressor("knorm", 0.0, window=2).apply(model):
            out = model.generate(ids, **kwargs)
        assert torch.equal(out, reference)


def test_a_long_forward_crossing_the_window_of_a_compressed_sliding_layer_is_refused():
    model = _mistral()
    cache = DynamicCache(config=model.config)
    with KVCompressor(KNormScorer(), 0.5, window=2).apply(model), torch.no_grad():
        model(_ids(10), cache=cache, use_cache=True)
        assert compression_stats(cache).kept.tolist() == [[5, 5], [5, 5]]
        with pytest.raises(ValueError, match="shorter pieces"):
            model(_ids(8, seed=1), cache=cache, use_cache=True)


def test_chunked_streaming_perplexity_on_a_sliding_model_runs_and_one_token_chunks_agree():
    model = _mistral()
    ids = _ids(40, seed=5)
    compressor = StreamingKVCompressor(KNormScorer(), budget=8, window=2)
    step = continuation_perplexity(model, ids, 4, compressor)
    assert step == pytest.approx(continuation_perplexity(model, ids, 4, compressor, chunk_size=1))
    full = continuation_perplexity(model, ids, 4)
    assert step != pytest.approx(full, rel=1e-4)


def test_snapkv_and_the_oracle_read_gpt2_queries_from_c_attn(tokenizer):
    gpt2 = tiny_gpt2(tokenizer, seed=0).eval()
    ids = _ids(24, seed=6)
    seen = {}

    class Recording(SnapKVScorer):
        def score(self, keys, values, queries, layer_idx):
            seen[layer_idx] = queries
            return super().score(keys, values, queries, layer_idx)

    cache = DynamicCache(config=gpt2.config)
    with KVCompressor(Recording(window=4), 0.5, window=2).apply(gpt2), torch.no_grad():
        gpt2(ids, cache=cache, use_cache=True)
    capture = capture_qk(gpt2, ids)
    for layer in capture.layers:
        torch.testing.assert_close(seen[layer], capture.queries[layer], rtol=1e-5, atol=1e-6)
    assert compression_stats(cache).kept.tolist() == [[12, 12], [12, 12]]
    with KVCompressor(MeanAttentionScorer(), 0.5, window=2).apply(gpt2):
        out = gpt2.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=4)
    assert out.shape == (1, 28)


def test_needle_sweep_equals_needle_accuracy_compressor_by_compressor(llama, tokenizer):
    examples = needle_examples(3, 0, context_tokens=150, tokenizer=tokenizer, style="varied")
    compressors = {
        "full": None,
        "knorm": KVCompressor(KNormScorer(), 0.5, window=2),
        "snapkv": KVCompressor(SnapKVScorer(window=8), 0.75, window=2),
        "oracle": KVCompressor(MeanAttentionScorer(), 0.75, window=2),
        "pinned": lambda example: KVCompressor(KNormScorer(), 0.75, window=2, keep=[0, 1]),
    }
    for question_aware in (False, True):
        swept = needle_sweep(
            llama, tokenizer, examples, compressors, question_aware=question_aware, progress=False
        )
        for name, compressor in compressors.items():
            if compressor is None:
                context = None
            elif isinstance(compressor, KVCompressor):
                context = lambda _e, c=compressor: c.apply(llama)  # noqa: E731
            else:
                context = lambda e, f=compressor: f(e).apply(llama)  # noqa: E731
            one = needle_accuracy(
                llama,
                tokenizer,
                examples,
                context=context,
                compress_context=True,
                question_aware=question_aware,
            )
            assert [r.generated for r in swept[name].records] == [
                r.generated for r in one.records
            ], name
            assert swept[name].accuracy == one.accuracy


def test_question_aware_needs_the_compressed_prefill(llama, tokenizer):
    examples = needle_examples(1, 0, context_tokens=150, tokenizer=tokenizer)
    with pytest.raises(ValueError, match="compress_context"):
        needle_accuracy(llama, tokenizer, examples, question_aware=True)
    with pytest.raises(TypeError, match="compressors"):
        needle_sweep(llama, tokenizer, examples, [KVCompressor("knorm", 0.5)])
