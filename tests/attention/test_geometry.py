import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from toolkit.attention.capture import QKCapture, capture_qk
from toolkit.attention.geometry import (
    dominant_direction,
    dominant_directions,
    projection_attention_correlation,
    singular_spectra,
)
from toolkit.zoo import load_sentence_encoder


def synthetic(queries, keys, mask=None, causal=False):
    """A one-layer capture from hand-made ``(B, H, T, D)`` queries and ``(B, H_kv, T, D)`` keys."""
    batch, _, length, dim = queries.shape
    return QKCapture(
        queries={0: queries},
        keys={0: keys},
        values={0: torch.zeros_like(keys)},
        queries_pre={},
        keys_pre={},
        attention_mask=torch.ones(batch, length, dtype=torch.bool) if mask is None else mask,
        num_heads=queries.shape[1],
        num_kv_heads=keys.shape[1],
        head_dim=dim,
        causal=causal,
        scaling={0: dim**-0.5},
        sliding_window={0: None},
        model_type="synthetic",
        n_model_layers=1,
    )


def unit(dim, seed):
    v = torch.randn(dim, generator=torch.Generator().manual_seed(seed))
    return v / v.norm()


def planted(direction, n, scale, noise, seed):
    """``n`` rows ``scale·direction + noise`` (``scale`` may vary per row)."""
    generator = torch.Generator().manual_seed(seed)
    scale = torch.as_tensor(scale, dtype=torch.float32).reshape(-1, 1)
    return scale * direction + noise * torch.randn(n, direction.numel(), generator=generator)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_dominant_direction_points_where_the_rows_point(sign):
    d = unit(8, seed=1)
    rows = planted(sign * d, 300, 3.0, 0.5, seed=2)[None]
    direction, sigma = dominant_direction(rows)
    assert torch.dot(direction[0], sign * d) > 0.99
    assert (rows[0] @ direction[0] > 0).float().mean() > 0.5
    assert sigma.shape == (1, 8) and torch.all(sigma[0, :-1] >= sigma[0, 1:])


def test_spectra_match_numpy_svd_and_ignore_padding():
    generator = torch.Generator().manual_seed(0)
    queries = torch.randn(2, 2, 9, 4, generator=generator)
    keys = torch.randn(2, 1, 9, 4, generator=generator)
    mask = torch.ones(2, 9, dtype=torch.bool)
    mask[1, 6:] = False
    spectra = singular_spectra(synthetic(queries, keys, mask))
    queries[1, :, 6:] = 1e6  # padding must not matter
    again = singular_spectra(synthetic(queries, keys, mask))
    torch.testing.assert_close(spectra.values, again.values)
    for head in range(2):
        rows = torch.cat([queries[0, head], queries[1, head, :6]]).numpy()
        sigma = np.linalg.svd(rows.astype(np.float64), compute_uv=False)
        np.testing.assert_allclose(spectra.values[0, head], sigma / sigma.sum(), rtol=1e-5)
        share = sigma[0] ** 2 / (sigma**2).sum()
        assert spectra.first_share[0, head].item() == pytest.approx(share, rel=1e-5)
    assert singular_spectra(synthetic(queries, keys, mask), "k").values.shape == (1, 1, 4)


def test_rank_one_states_have_all_variance_in_the_first_direction():
    d = unit(6, seed=3)
    queries = planted(d, 10, torch.linspace(0.5, 2, 10), 0.0, seed=0).view(1, 1, 10, 6)
    spectra = singular_spectra(synthetic(queries, queries))
    assert spectra.first_share.item() == pytest.approx(1.0, abs=1e-6)
    assert spectra.values[0, 0, 0].item() == pytest.approx(1.0, abs=1e-6)


def test_dominant_directions_measure_planted_joint_anisotropy():
    # Two KV groups of two query heads each; queries point along +d_g, keys along −d_g.
    directions = [unit(8, seed=10), unit(8, seed=11)]
    queries = torch.stack(
        [planted(directions[h // 2], 50, 3.0, 0.3, seed=h) for h in range(4)]
    ).view(1, 4, 50, 8)
    keys = torch.stack([planted(-d, 50, 2.0, 0.3, seed=20 + g) for g, d in enumerate(directions)])
    found = dominant_directions(synthetic(queries, keys.view(1, 2, 50, 8)))
    assert found.directions.shape == (1, 4, 8)
    for h in range(4):
        assert torch.dot(found.directions[0, h], directions[h // 2]) > 0.99
    assert torch.equal(found.query_majority, torch.ones(1, 4))
    assert torch.equal(found.key_opposite, torch.ones(1, 4))
    assert (found.alignment > 0.99).all()


def aligned_keys_capture(seed=0):
    """Queries along ``d``; keys with a random signed amount ``a_j`` of ``d``."""
    d = unit(8, seed=seed)
    amount = torch.linspace(-2, 2, 40)[
        torch.randperm(40, generator=torch.Generator().manual_seed(1))
    ]
    queries = planted(d, 40, 2.0, 0.2, seed=2).view(1, 1, 40, 8)
    keys = planted(d, 40, amount, 0.2, seed=3).view(1, 1, 40, 8)
    return synthetic(queries, keys), d


def test_qfilter_score_ranks_keys_aligned_with_the_queries_first():
    capture, d = aligned_keys_capture()
    filters = -d.view(1, 1, 8)  # f = −svd_sign·v: score −⟨f, k⟩ = ⟨v, k⟩
    result = projection_attention_correlation(capture, filters)
    assert result.qfilter.shape == (1, 1) and result.qfilter.item() > 0.95
    flipped = projection_attention_correlation(capture, -filters)
    assert flipped.qfilter.item() == pytest.approx(-result.qfilter.item(), abs=1e-6)


def test_correlations_agree_with_a_reference_computation():
    generator = torch.Generator().manual_seed(4)
    queries = torch.randn(2, 4, 12, 8, generator=generator)
    keys = torch.randn(2, 2, 12, 8, generator=generator)
    mask = torch.ones(2, 12, dtype=torch.bool)
    mask[0, 9:] = False
    capture = synthetic(queries, keys, mask, causal=True)
    filters = torch.randn(1, 2, 8, generator=generator)
    result = projection_attention_correlation(capture, filters)
    # Reference: full softmax with the causal/padding mask, mean over allowed real queries.
    causal = torch.ones(12, 12).tril().bool()
    allowed = causal[None] & mask[:, :, None] & mask[:, None, :]  # (B, T_q, T_k)
    logits = queries @ keys.repeat_interleave(2, dim=1).transpose(-1, -2) / 8**0.5
    probs = logits.masked_fill(~allowed[:, None], float("-inf")).softmax(-1).nan_to_num()
    mean = probs.sum(2) / allowed.sum(1)[:, None].clamp(min=1)  # (B, H, T)
    target = mean.view(2, 2, 2, 12).mean(2)  # (B, H_kv, T)
    for g in range(2):
        q_score = -(keys[:, g] @ filters[0, g])
        k_score = -keys[:, g].norm(dim=-1)
        rho_q = spearmanr(q_score[mask].numpy(), target[:, g][mask].numpy())[0]
        rho_k = spearmanr(k_score[mask].numpy(), target[:, g][mask].numpy())[0]
        assert result.qfilter[0, g].item() == pytest.approx(rho_q, abs=1e-5)
        assert result.knorm[0, g].item() == pytest.approx(rho_k, abs=1e-5)


def test_bad_inputs_raise_clear_errors():
    capture, _ = aligned_keys_capture()
    with pytest.raises(ValueError, match="filters"):
        projection_attention_correlation(capture, torch.zeros(1, 2, 8))
    with pytest.raises(ValueError, match="which"):
        singular_spectra(capture, which="v")
    with pytest.raises(ValueError, match="rows"):
        dominant_direction(torch.zeros(3, 8))


def test_minilm_capture_and_spectra_shapes():
    encoder = load_sentence_encoder()
    inputs = encoder.tokenizer(["The cat sat on the mat."], return_tensors="pt")
    capture = capture_qk(encoder.model, inputs["input_ids"], inputs["attention_mask"])
    assert not capture.causal and capture.layers == tuple(range(6))
    assert encoder.model.config._attn_implementation == "sdpa"
    spectra = singular_spectra(capture)
    assert spectra.values.shape == (6, 12, 32) and spectra.first_share.shape == (6, 12)
    assert ((spectra.first_share > 0) & (spectra.first_share <= 1)).all()
    torch.testing.assert_close(spectra.values.sum(-1), torch.ones(6, 12))
    assert dominant_directions(capture).directions.shape == (6, 12, 32)


def test_key_scores_are_the_scorers_scores_of_every_layer():
    from toolkit.attention.geometry import key_scores
    from toolkit.attention.scorers import KNormScorer, SnapKVScorer

    queries, keys = torch.randn(1, 4, 12, 8), torch.randn(1, 2, 12, 8)
    capture = synthetic(queries, keys, causal=True)
    scores = key_scores(capture, KNormScorer())
    assert scores.shape == (1, 1, 2, 12)
    torch.testing.assert_close(scores[0], -keys.norm(dim=-1))
    snap = SnapKVScorer(window=4, kernel_size=3)
    torch.testing.assert_close(key_scores(capture, snap)[0], snap.score(keys, None, queries, 0))


def test_rank_fractions_decide_what_a_compressor_keeps():
    from toolkit.attention.compression import select_entries
    from toolkit.attention.geometry import rank_fractions

    scores = torch.tensor([[0.5, 3.0, -1.0, 2.0, 2.0]])
    assert (rank_fractions(scores, [1, 3, 4, 2]) * 5).tolist() == [[0.0, 1.0, 1.0, 4.0]]
    random = torch.randn(2, 3, 64, generator=torch.Generator().manual_seed(0))
    fractions = rank_fractions(random, range(64))
    kept = select_entries(random, 16, window=0)
    assert torch.equal(
        fractions.lt(1 / 4), torch.zeros_like(random, dtype=torch.bool).scatter(-1, kept, True)
    )
    for bad in ([], [5]):
        with pytest.raises(ValueError, match="positions"):
            rank_fractions(scores, bad)
