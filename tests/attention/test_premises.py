"""The Q-Filters premise measured per layer and head (toolkit.attention.premises), checked against
direct computations on captured states and on a constructed one-sided head."""

import pytest
import torch
from scipy.stats import spearmanr

from toolkit.attention.capture import capture_qk
from toolkit.attention.geometry import dominant_directions, projection_attention_correlation
from toolkit.attention.premises import answer_attention, premise
from toolkit.attention.qfilters import calibrate_qfilters


def _ids(length=40, seed=0):
    return torch.randint(3, 300, (1, length), generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def capture(llama):
    return capture_qk(llama, _ids())


def test_premise_fields_agree_with_direct_computations(llama, capture):
    filters = calibrate_qfilters(llama, [_ids(60, 1)], progress=False)
    result = premise(capture, filters)
    n_layers, heads, n_kv = len(capture.layers), capture.num_heads, capture.num_kv_heads
    assert result.one_sided_mass.shape == (n_layers, heads)
    assert result.rho_filter.shape == (n_layers, n_kv)
    directions = dominant_directions(capture)
    torch.testing.assert_close(result.one_sided_count, directions.query_majority)
    correlation = projection_attention_correlation(capture, filters)
    torch.testing.assert_close(result.rho_filter, correlation.qfilter.float())
    torch.testing.assert_close(result.rho_knorm, correlation.knorm.float())
    for i, layer in enumerate(capture.layers):
        queries = capture.rows(layer, "q")
        for h in range(heads):
            v = directions.directions[i, h]
            projection = queries[h] @ v
            mass = projection.clamp(min=0).sum() / projection.abs().sum()
            assert result.one_sided_mass[i, h] == pytest.approx(float(mass), rel=1e-5)
            sigma = torch.linalg.svdvals(queries[h])
            energy = sigma[0] ** 2 / (sigma**2).sum()
            assert result.first_energy[i, h] == pytest.approx(float(energy), rel=1e-5)
            own = capture.keys[layer][0, h // capture.group_size] @ v
            attention = capture.mean_attention(layer)[0, h]
            expected = spearmanr(own.double(), attention.double())[0]
            assert result.rho_head[i, h] == pytest.approx(expected, abs=1e-6)
            group_filter = filters.filters[layer, h // capture.group_size]
            cosine = torch.nn.functional.cosine_similarity(-v, group_filter, dim=0)
            assert result.filter_cosine[i, h] == pytest.approx(float(cosine), abs=1e-5)
    summary = result.summary()
    assert summary["one_sided_mass"] == pytest.approx(float(result.one_sided_mass.mean()))
    assert 0 <= summary["strongly_one_sided_heads"] <= 1


def test_without_filters_the_captures_own_directions_are_used(capture):
    result = premise(capture)
    # the group filter is the mean of its heads' own filters: each head leans towards it
    assert (result.filter_cosine > 0).all()


def test_weak_heads_list_barely_one_sided_or_misaligned_heads(capture):
    result = premise(capture)
    result.one_sided_mass[0, 1] = 0.55
    result.filter_cosine[1, 2] = 0.1
    weak = result.weak_heads()
    assert (capture.layers[0], 1) in weak and (capture.layers[1], 2) in weak
    assert result.weak_heads(one_sided=0.0, cosine=-2.0) == []


def test_answer_attention_matches_softmax_rows(eager_llama):
    ids = _ids(30, 3)
    capture = capture_qk(eager_llama, ids)
    with torch.no_grad():
        attentions = eager_llama(ids, output_attentions=True).attentions
    answer, question = [5, 6], [26, 27, 28, 29]
    result = answer_attention(capture, answer, question)
    for i, attn in enumerate(attentions):
        mass = attn[0][:, :, answer].sum(-1)  # (H, T): each query's mass on the answer
        torch.testing.assert_close(
            result.question[i], mass[:, question].mean(-1), atol=1e-5, rtol=1e-4
        )
        torch.testing.assert_close(result.last[i], mass[:, -1], atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(result.haystack[i], mass[:, 6:26].mean(-1), atol=1e-5, rtol=1e-4)
        share = mass[:, question].sum(-1) / mass[:, 6:].sum(-1)
        torch.testing.assert_close(result.share[i], share, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(result.lift, result.question / result.haystack)
    assert set(result.summary()) >= {"question", "last", "haystack", "share", "best_lift"}


def test_answer_attention_refuses_bad_positions(capture):
    with pytest.raises(ValueError, match="after"):
        answer_attention(capture, [10], [5])
    with pytest.raises(ValueError, match="answer"):
        answer_attention(capture, [], [30])
    with pytest.raises(TypeError, match="question"):
        answer_attention(capture, [3], "30")
