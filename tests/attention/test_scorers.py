"""Scorers of toolkit.attention.scorers: exact formulas, orderings and errors."""

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from toolkit.attention.capture import capture_qk
from toolkit.attention.compression import KVCompressor, select_entries
from toolkit.attention.scorers import (
    SCORERS,
    KNormScorer,
    MeanAttentionScorer,
    QFiltersScorer,
    RandomScorer,
    Scorer,
    SnapKVScorer,
    StreamingLLMScorer,
    make_scorer,
)

B, H_KV, L, D = 2, 2, 20, 8


def _keys(seed=0):
    return torch.randn(B, H_KV, L, D, generator=torch.Generator().manual_seed(seed))


def test_qfilters_score_is_minus_inner_product_per_head():
    filters = torch.randn(3, H_KV, D, generator=torch.Generator().manual_seed(1))
    keys = _keys()
    scores = QFiltersScorer(filters).score(keys, keys, None, layer_idx=2)
    for b in range(B):
        for h in range(H_KV):
            torch.testing.assert_close(scores[b, h], -(keys[b, h] @ filters[2, h]))


def test_qfilters_prefers_keys_opposite_to_the_filter():
    f = torch.randn(1, 1, D, generator=torch.Generator().manual_seed(2))
    keys = torch.stack([-f[0, 0], f[0, 0]]).view(1, 1, 2, D)
    scores = QFiltersScorer(SimpleNamespace(filters=f)).score(keys, keys, None, 0)
    assert scores[0, 0, 0] > 0 > scores[0, 0, 1]


def test_qfilters_rejects_filters_of_another_shape(eager_llama):
    keys = _keys()
    with pytest.raises(ValueError, match="filters"):
        QFiltersScorer(torch.randn(2, H_KV, D + 1)).score(keys, keys, None, 0)
    with pytest.raises(ValueError, match="filters"):
        QFiltersScorer(torch.randn(2, H_KV, D)).score(keys, keys, None, layer_idx=2)
    with pytest.raises(ValueError, match="filters"):
        QFiltersScorer(torch.randn(2, 3, 8)).check(eager_llama)
    QFiltersScorer(torch.randn(2, 2, 8)).check(eager_llama)  # (layers, H_kv, D) of tiny_llama
    with pytest.raises(ValueError, match="filters"):
        QFiltersScorer(torch.randn(2, 8))
    with pytest.raises(TypeError, match="filters"):
        QFiltersScorer([[0.0]])


def test_knorm_top_entries_are_the_smallest_norm_keys():
    keys = _keys()
    keep = select_entries(KNormScorer().score(keys, keys, None, 0), 7, window=0)
    expected = keys.norm(dim=-1).argsort(dim=-1)[..., :7].sort(dim=-1).values
    assert torch.equal(keep, expected)


def test_streamingllm_keeps_sinks_then_recent():
    keys = _keys()
    keep = select_entries(StreamingLLMScorer(n_sinks=3).score(keys, keys, None, 0), 8, window=0)
    expected = torch.tensor([0, 1, 2] + list(range(L - 5, L))).expand(B, H_KV, 8)
    assert torch.equal(keep, expected)


def test_random_scores_are_seeded_per_layer():
    keys = _keys()
    a = RandomScorer(seed=3).score(keys, keys, None, 1)
    assert torch.equal(a, RandomScorer(seed=3).score(keys, keys, None, 1))
    assert not torch.equal(a, RandomScorer(seed=3).score(keys, keys, None, 0))
    assert not torch.equal(a, RandomScorer(seed=4).score(keys, keys, None, 1))
    assert a.shape == (B, H_KV, L)


class _Recording(SnapKVScorer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.scores = {}

    def score(self, keys, values, queries, layer_idx):
        self.scores[layer_idx] = super().score(keys, values, queries, layer_idx)
        return self.scores[layer_idx]


def _naive_snapkv(
    attn: torch.Tensor, window: int, kernel: int, n_kv: int, pooling: str = "max"
) -> torch.Tensor:
    """From eager attention weights (B, H, L, L): window mean, group mean, pooling, loops
    (average pooling counts the zero padding, as ``F.avg_pool1d`` and kvpress do)."""
    batch, heads, length, _ = attn.shape
    group = heads // n_kv
    out = torch.empty(batch, n_kv, length)
    for b in range(batch):
        for h in range(n_kv):
            rows = attn[b, h * group : (h + 1) * group, length - window :]  # (G, w, L)
            mean = rows.mean(dim=(0, 1))[: length - window]
            for i in range(length - window):
                lo, hi = max(0, i - kernel // 2), min(length - window, i + kernel // 2 + 1)
                pooled = mean[lo:hi].max() if pooling == "max" else mean[lo:hi].sum() / kernel
                out[b, h, i] = pooled
            out[b, h, length - window :] = float("inf")
    return out


@pytest.mark.parametrize("pooling", ["max", "avg"])
def test_snapkv_equals_naive_computation_from_eager_attention(eager_llama, pooling):
    ids = torch.randint(3, 300, (2, 24), generator=torch.Generator().manual_seed(0))
    scorer = _Recording(window=6, kernel_size=3, pooling=pooling)
    with KVCompressor(scorer, ratio=0.5, window=6).apply(eager_llama), torch.no_grad():
        out = eager_llama(ids, use_cache=True, output_attentions=True)
    for layer, attn in enumerate(out.attentions):
        expected = _naive_snapkv(attn.float(), window=6, kernel=3, n_kv=2, pooling=pooling)
        torch.testing.assert_close(scorer.scores[layer], expected, rtol=1e-5, atol=1e-6)


def test_snapkv_defaults_are_kvpress():
    scorer = SnapKVScorer()
    assert (scorer.window, scorer.kernel_size, scorer.pooling) == (64, 5, "avg")
    with pytest.raises(ValueError, match="pooling"):
        SnapKVScorer(pooling="sum")


def test_mean_attention_oracle_equals_exact_mean_attention_at_prefill(eager_llama):
    """At prefill every position's query is there: the oracle is capture's exact ā_j,
    averaged over each KV head's query heads."""
    ids = torch.randint(3, 300, (2, 20), generator=torch.Generator().manual_seed(1))
    capture = capture_qk(eager_llama, ids)
    scorer = MeanAttentionScorer(chunk_size=7)
    for layer in capture.layers:
        scores = scorer.score(capture.keys[layer], None, capture.queries[layer], layer)
        expected = capture.mean_attention(layer).view(2, H_KV, 2, 20).mean(dim=2)
        torch.testing.assert_close(scores, expected, rtol=1e-5, atol=1e-6)


def test_mean_attention_oracle_with_the_last_queries_only():
    keys = _keys()
    queries = torch.randn(B, 4, 3, D, generator=torch.Generator().manual_seed(5))
    scores = MeanAttentionScorer().score(keys, keys, queries, 0)
    logits = torch.einsum("bgqd,bgld->bgql", queries, keys.repeat_interleave(2, dim=1)) / D**0.5
    causal = torch.arange(L)[None, :] > torch.arange(L - 3, L)[:, None]
    attn = F.softmax(logits.masked_fill(causal, float("-inf")), dim=-1)  # (B, H, 3, L)
    seen_by = torch.tensor([3] * (L - 2) + [2, 1], dtype=torch.float32)
    expected = attn.sum(dim=2).view(B, H_KV, 2, L).mean(dim=2) / seen_by
    torch.testing.assert_close(scores, expected)
    with pytest.raises(ValueError, match="queries"):
        MeanAttentionScorer().score(keys, keys, None, 0)


def test_knorm_keep_high_reverses_the_ranking():
    keys = _keys()
    assert torch.equal(KNormScorer(keep="high").score(keys, keys, None, 0), keys.norm(dim=-1))
    assert torch.equal(KNormScorer().score(keys, keys, None, 0), -keys.norm(dim=-1))
    with pytest.raises(ValueError, match="keep"):
        KNormScorer(keep="middle")


def test_snapkv_needs_queries_and_odd_kernel():
    keys = _keys()
    with pytest.raises(ValueError, match="queries"):
        SnapKVScorer().score(keys, keys, None, 0)
    with pytest.raises(ValueError, match="kernel_size"):
        SnapKVScorer(kernel_size=4)
    with pytest.raises(ValueError, match="window"):
        SnapKVScorer(window=0)


def test_snapkv_window_longer_than_queries_uses_all_queries():
    keys = _keys()
    queries = torch.randn(B, 4, 3, D, generator=torch.Generator().manual_seed(5))
    scores = SnapKVScorer(window=32, kernel_size=1).score(keys, keys, queries, 0)
    assert torch.isinf(scores[..., -3:]).all() and torch.isfinite(scores[..., :-3]).all()
    # kernel 1: plain mean attention of the 3 queries (heads 2h, 2h+1) over keys 0..L−4
    logits = torch.einsum("bgqd,bgld->bgql", queries, keys.repeat_interleave(2, dim=1)) / D**0.5
    causal = torch.arange(L)[None, :] > torch.arange(L - 3, L)[:, None]
    attn = F.softmax(logits.masked_fill(causal, float("-inf")), dim=-1)
    expected = attn.mean(dim=2).view(B, H_KV, 2, L).mean(dim=2)[..., : L - 3]
    torch.testing.assert_close(scores[..., :-3], expected)


def test_make_scorer_builds_each_name_and_lists_names_on_error():
    filters = torch.zeros(2, H_KV, D)
    for name, cls in SCORERS.items():
        scorer = make_scorer(name, filters=filters) if name == "qfilters" else make_scorer(name)
        assert type(scorer) is cls and isinstance(scorer, Scorer)
    assert make_scorer("streamingllm", n_sinks=2).n_sinks == 2
    with pytest.raises(
        ValueError, match="knorm.*mean_attention.*qfilters.*random.*snapkv.*streamingllm"
    ):
        make_scorer("h2o")
