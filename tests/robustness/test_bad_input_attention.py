"""Bad input to every public entry point of ``toolkit.attention``: a clear TypeError/ValueError
naming the argument (and the row, position, layer or head where there is one), raised before
the model runs, so neither a cache nor a saved file is touched."""

import copy
import hashlib
import json
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file
from transformers import DynamicCache

from toolkit.attention.capture import capture_qk
from toolkit.attention.compression import (
    KVCompressor,
    StreamingKVCompressor,
    continuation_perplexity,
    select_entries,
)
from toolkit.attention.geometry import (
    dominant_direction,
    dominant_directions,
    key_scores,
    projection_attention_correlation,
    rank_fractions,
    singular_spectra,
)
from toolkit.attention.needle import (
    NeedleRecord,
    NeedleResult,
    accuracy_by_depth,
    answer_positions,
    answers,
    needle_accuracy,
)
from toolkit.attention.qfilters import QFilters, calibrate_qfilters, model_fingerprint
from toolkit.attention.scorers import (
    SCORERS,
    QFiltersScorer,
    RandomScorer,
    SnapKVScorer,
    StreamingLLMScorer,
    make_scorer,
)
from toolkit.data.retrieval import needle_examples
from toolkit.zoo.tiny import tiny_llama, tiny_tokenizer

FAST = settings(max_examples=25, deadline=None)
N_LAYERS, H_KV, D, MAX_POSITIONS, VOCAB = 2, 2, 8, 256, 300
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def llama(tokenizer):
    """2 layers, 4 query heads sharing 2 KV heads of dim 8, 256 positions."""
    return tiny_llama(tokenizer, seed=0, max_position_embeddings=MAX_POSITIONS).eval()


@pytest.fixture(scope="module")
def capture(llama):
    return capture_qk(llama, _ids())


@pytest.fixture(scope="module")
def examples(tokenizer):
    return needle_examples(2, 0, context_tokens=120, tokenizer=tokenizer)


def _ids(batch=1, length=16):
    return torch.randint(3, VOCAB, (batch, length), generator=torch.Generator().manual_seed(0))


def _filters():
    return torch.randn(N_LAYERS, H_KV, D, generator=torch.Generator().manual_seed(1))


def _qfilters(filters=None, **fields):
    defaults = dict(
        model_type="llama",
        n_layers=N_LAYERS,
        num_heads=4,
        num_kv_heads=H_KV,
        head_dim=D,
        n_samples=8,
        n_tokens=16,
        seed=0,
    )
    return QFilters(filters=_filters() if filters is None else filters, **(defaults | fields))


# capture_qk and QKCapture


@pytest.mark.parametrize(
    ("input_ids", "error", "match"),
    [
        (None, TypeError, "input_ids"),
        ([[3, 4, 5]], TypeError, "input_ids"),
        (torch.zeros(1, 0, dtype=torch.long), ValueError, r"`input_ids` is empty"),
        (torch.zeros(2, 0, dtype=torch.long), ValueError, r"`input_ids` is empty"),
        (torch.tensor([3, 4, 5]), ValueError, r"input_ids.*\(B, T\)"),
        (torch.ones(1, 4), TypeError, "input_ids.*integer"),
        (torch.ones(1, 4, dtype=torch.bool), TypeError, "input_ids.*integer"),
        (torch.randint(3, VOCAB, (1, MAX_POSITIONS + 1)), ValueError, "input_ids.*256 positions"),
    ],
)
def test_capture_refuses_bad_input_ids(llama, input_ids, error, match):
    with pytest.raises(error, match=match):
        capture_qk(llama, input_ids)


@FAST
@given(
    row=st.integers(0, 1),
    column=st.integers(0, 7),
    token=st.one_of(st.integers(VOCAB, 10**6), st.integers(-(10**6), -1)),
)
def test_capture_names_the_out_of_vocabulary_id(llama, row, column, token):
    ids = _ids(batch=2, length=8)
    ids[row, column] = token
    with pytest.raises(ValueError, match=rf"`input_ids`\[{row}, {column}\] = {token} .*300"):
        capture_qk(llama, ids)


@FAST
@given(
    value=st.one_of(st.floats(allow_nan=True).filter(lambda v: v not in (0, 1)), NON_FINITE),
    column=st.integers(0, 15),
)
def test_capture_names_the_entry_of_a_mask_that_is_not_0_or_1(llama, value, column):
    mask = torch.ones(1, 16, dtype=torch.float64)
    mask[0, column] = value
    with pytest.raises(ValueError, match=rf"`attention_mask`\[0, {column}\]"):
        capture_qk(llama, _ids(), mask)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"attention_mask": torch.ones(1, 5)}, ValueError, "attention_mask.*shape"),
        ({"attention_mask": [[1] * 16]}, TypeError, "attention_mask"),
        ({"layers": "0"}, TypeError, "layers"),
        ({"layers": 0}, TypeError, "layers"),
        ({"layers": []}, ValueError, "layers"),
        ({"layers": [0, 0]}, ValueError, "layers.*twice"),
        ({"layers": [1.0]}, TypeError, r"layers\[0\]"),
        ({"layers": [0, -1]}, ValueError, r"layers\[1\]"),
        ({"layers": [5]}, ValueError, "layers.*2 attention layers"),
        ({"pre_rope": "yes"}, TypeError, "pre_rope"),
        ({"store_device": "gpu0"}, ValueError, "store_device"),
        ({"store_device": 3.0}, TypeError, "store_device"),
    ],
)
def test_capture_refuses_bad_options(llama, kwargs, error, match):
    with pytest.raises(error, match=match):
        capture_qk(llama, _ids(), **kwargs)


def test_capture_refuses_an_all_padding_row_and_a_non_model(llama):
    mask = torch.ones(2, 16)
    mask[1] = 0
    with pytest.raises(ValueError, match="`attention_mask` row 1 is all padding"):
        capture_qk(llama, _ids(batch=2), mask)
    with pytest.raises(TypeError, match="model"):
        capture_qk("llama", _ids())


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda c: c.rows("0"), TypeError, "layer"),
        (lambda c: c.rows(7), ValueError, "layer.*not captured"),
        (lambda c: c.rows(0, "v"), ValueError, "which"),
        (lambda c: c.rows(0, "q", post_rope=1), TypeError, "post_rope"),
        (lambda c: c.mean_attention(0, chunk_size=2.5), TypeError, "chunk_size"),
        (lambda c: c.mean_attention(0, chunk_size=0), ValueError, "chunk_size"),
        (lambda c: c.allowed(0, torch.tensor([0, 16])), ValueError, "query_positions"),
        (lambda c: c.allowed(0, torch.tensor([0.5])), TypeError, "query_positions"),
        (lambda c: c.allowed(0, [0, 1]), TypeError, "query_positions"),
    ],
)
def test_capture_methods_refuse_bad_arguments(capture, call, error, match):
    with pytest.raises(error, match=match):
        call(capture)


# KVCompressor, StreamingKVCompressor, select_entries, continuation_perplexity


@FAST
@given(
    ratio=st.one_of(
        st.floats(max_value=0, exclude_max=True, allow_infinity=False),
        st.floats(min_value=1, allow_infinity=False),
        NON_FINITE,
    )
)
def test_kv_compressor_refuses_a_ratio_outside_0_1(ratio):
    with pytest.raises(ValueError, match="ratio"):
        KVCompressor("knorm", ratio)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"ratio": "0.5"}, TypeError, "ratio"),
        ({"ratio": True}, TypeError, "ratio"),
        ({"ratio": None}, TypeError, "ratio"),
        ({"ratio": 0.5, "window": -1}, ValueError, "window"),
        ({"ratio": 0.5, "window": 2.0}, TypeError, "window"),
        ({"ratio": 0.5, "keep": 3}, TypeError, "keep"),
        ({"ratio": 0.5, "keep": "012"}, TypeError, "keep"),
        ({"ratio": 0.5, "keep": [0, 1.5]}, TypeError, r"keep\[1\]"),
        ({"ratio": 0.5, "keep": [0, -2]}, ValueError, r"keep\[1\]"),
        ({"ratio": 0.5, "keep": [4, 2, 4]}, ValueError, r"keep.*\[4\] more than once"),
    ],
)
def test_kv_compressor_refuses_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        KVCompressor("knorm", **kwargs)


@FAST
@given(name=st.text(max_size=12).filter(lambda n: n.strip() and n not in SCORERS))
def test_unknown_scorer_names_are_refused_listing_the_names(name):
    with pytest.raises(ValueError, match="name.*knorm.*streamingllm"):
        KVCompressor(name, 0.5)


@pytest.mark.parametrize("scorer", [None, 3, ["knorm"], lambda k: k])
def test_kv_compressor_refuses_a_scorer_of_the_wrong_type(scorer):
    with pytest.raises(TypeError, match="scorer|name"):
        KVCompressor(scorer, 0.5)


def _prefill(llama, ids, compressor):
    cache = DynamicCache(config=llama.config)
    with compressor.apply(llama), torch.no_grad():
        llama(ids, cache=cache, use_cache=True)
    return cache


def _untouched(cache) -> bool:
    return cache.get_seq_length() == 0 and not any(layer.is_initialized for layer in cache.layers)


@FAST
@given(beyond=st.lists(st.integers(16, 10**6), min_size=1, max_size=3, unique=True))
def test_keep_positions_past_the_prompt_are_refused_before_the_cache_is_written(llama, beyond):
    cache = DynamicCache(config=llama.config)
    compressor = KVCompressor("knorm", 0.5, window=2, keep=[0, *beyond])
    with pytest.raises(ValueError, match=rf"`keep` positions \[{sorted(beyond)[0]}.*16-token"):
        with compressor.apply(llama), torch.no_grad():
            llama(_ids(), cache=cache, use_cache=True)
    assert _untouched(cache)


def test_unfit_prompts_are_refused_before_the_cache_is_written(llama):
    for compressor, match in [
        (KVCompressor("knorm", 0.9, window=0), "ratio.*keeps no entry of a 4-token"),
        (KVCompressor("knorm", 0.5, window=4), "window.*do not fit in the 2 entries"),
    ]:
        cache = DynamicCache(config=llama.config)
        with pytest.raises(ValueError, match=match), compressor.apply(llama), torch.no_grad():
            llama(_ids(length=4), cache=cache, use_cache=True)
        assert _untouched(cache)


def test_empty_prompt_under_compression_is_refused(llama):
    for compressor in (KVCompressor("knorm", 0.5), StreamingKVCompressor("knorm", 16)):
        cache = DynamicCache(config=llama.config)
        with pytest.raises(ValueError, match="`input_ids` is empty"):
            with compressor.apply(llama), torch.no_grad():
                llama(torch.zeros(1, 0, dtype=torch.long), cache=cache, use_cache=True)
        assert _untouched(cache)


@pytest.mark.parametrize(
    ("length", "error", "match"),
    [(0, ValueError, "length"), (2.0, TypeError, "length"), (None, TypeError, "length")],
)
def test_n_keep_refuses_a_bad_length(length, error, match):
    with pytest.raises(error, match=match):
        KVCompressor("knorm", 0.5, window=0).n_keep(length)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"budget": 16.0}, TypeError, "budget"),
        ({"budget": 0}, ValueError, "budget"),
        ({"budget": 8, "window": 8}, ValueError, "budget.*window"),
        ({"budget": 10, "window": 8, "keep": range(3)}, ValueError, "keep"),
        ({"budget": 16, "keep": [1, 1]}, ValueError, "keep"),
    ],
)
def test_streaming_compressor_refuses_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        StreamingKVCompressor("knorm", **kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((torch.randn(1, 2, 4), 5, 0), {}, ValueError, "n_keep"),
        ((torch.randn(1, 2, 4), 0, 0), {}, ValueError, "n_keep"),
        ((torch.randn(1, 2, 4), 2, 3), {}, ValueError, "window"),
        (([0.1, 0.2], 1, 0), {}, TypeError, "scores"),
        ((torch.tensor([[[0.1, math.nan, 0.3]]]), 2, 0), {}, ValueError, r"scores.*NaN.*0, 0, 1"),
        ((torch.randn(1, 1, 4), 2, 1), {"pinned": torch.ones(1, 1, 4)}, TypeError, "pinned"),
        (
            (torch.randn(1, 1, 4), 2, 1),
            {"pinned": torch.ones(1, 1, 3, dtype=torch.bool)},
            ValueError,
            "pinned",
        ),
        (
            (torch.randn(1, 1, 4), 2, 1),
            {"pinned": torch.tensor([[[True, True, False, False]]])},
            ValueError,
            "force 3 entries",
        ),
    ],
)
def test_select_entries_refuses_bad_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        select_entries(*args, **kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((_ids(), 4, "knorm"), {}, TypeError, "compressor"),
        ((_ids(), 4), {"token_by_token": "yes"}, TypeError, "token_by_token"),
        ((_ids(), 4.0), {}, TypeError, "prefix_len"),
        ((_ids(), 0), {}, ValueError, "prefix_len"),
        ((torch.zeros(1, 0, dtype=torch.long), 1), {}, ValueError, "input_ids"),
        ((_ids().float(), 4), {}, TypeError, "input_ids"),
        ((_ids() + VOCAB, 4), {}, ValueError, r"input_ids`\[0, 0\]"),
    ],
)
def test_continuation_perplexity_refuses_bad_arguments(llama, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        continuation_perplexity(llama, *args, **kwargs)


# Scorers


@FAST
@given(layer=st.integers(0, N_LAYERS - 1), head=st.integers(0, H_KV - 1), bad=NON_FINITE)
def test_non_finite_filters_are_refused_naming_layer_and_head(layer, head, bad):
    filters = _filters()
    filters[layer, head, 3] = bad
    match = rf"`filters`\[{layer}, {head}\] \(layer {layer}, KV head {head}\)"
    with pytest.raises(ValueError, match=match):
        QFiltersScorer(filters)
    with pytest.raises(ValueError, match=match):
        _qfilters(filters)


@pytest.mark.parametrize(
    ("filters", "error", "match"),
    [
        (torch.zeros(2, 2, 8, dtype=torch.long), TypeError, "filters.*floating"),
        (torch.zeros(2, 2, 8, dtype=torch.complex64), TypeError, "filters.*floating"),
        (torch.zeros(2, 8), ValueError, "filters.*shape"),
        (torch.zeros(0, 2, 8), ValueError, "filters.*empty"),
        ([[[0.0]]], TypeError, "filters"),
        (None, TypeError, "filters"),
    ],
)
def test_qfilters_scorer_refuses_bad_filters(filters, error, match):
    with pytest.raises(error, match=match):
        QFiltersScorer(filters)


def test_qfilters_scorer_refuses_other_layers_and_shapes(llama):
    scorer = QFiltersScorer(_filters())
    keys = torch.randn(1, H_KV, 5, D)
    for layer_idx, error in ((-1, ValueError), (N_LAYERS, ValueError), (0.0, TypeError)):
        with pytest.raises(error, match="layer_idx"):
            scorer.score(keys, keys, None, layer_idx)
    with pytest.raises(ValueError, match="filters.*layer_idx"):
        scorer.score(torch.randn(1, H_KV, 5, D + 1), None, None, 0)
    with pytest.raises(TypeError, match="keys"):
        scorer.score(keys[0], None, None, 0)
    with pytest.raises(ValueError, match=r"filters.*\(2, 2, 8\)"):
        QFiltersScorer(torch.randn(3, H_KV, D)).check(llama)


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: StreamingLLMScorer(-1), ValueError, "n_sinks"),
        (lambda: StreamingLLMScorer(2.0), TypeError, "n_sinks"),
        (lambda: SnapKVScorer(window=0), ValueError, "window"),
        (lambda: SnapKVScorer(window=None), TypeError, "window"),
        (lambda: SnapKVScorer(kernel_size=4), ValueError, "kernel_size.*odd"),
        (lambda: SnapKVScorer(kernel_size=3.0), TypeError, "kernel_size"),
        (lambda: RandomScorer(-1), ValueError, "seed"),
        (lambda: RandomScorer(2**64), ValueError, "seed"),
        (lambda: RandomScorer("0"), TypeError, "seed"),
        (lambda: make_scorer(None), TypeError, "name"),
        (lambda: make_scorer(["knorm"]), TypeError, "name"),
        (lambda: make_scorer("KNorm"), ValueError, "name.*knorm"),
        (lambda: make_scorer(" "), ValueError, "name"),
        (lambda: make_scorer("knorm", window=3), TypeError, "KNormScorer"),
    ],
)
def test_scorers_refuse_bad_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_snapkv_refuses_missing_or_mismatched_queries():
    keys = torch.randn(1, H_KV, 6, D)
    with pytest.raises(ValueError, match="queries"):
        SnapKVScorer().score(keys, keys, None, 0)
    with pytest.raises(ValueError, match="queries.*3 heads"):
        SnapKVScorer().score(keys, keys, torch.randn(1, 3, 6, D), 0)


# QFilters: construction, save, load, calibration


@pytest.mark.parametrize(
    ("fields", "error", "match"),
    [
        ({"model_type": ""}, ValueError, "model_type"),
        ({"model_type": None}, TypeError, "model_type"),
        ({"num_kv_heads": 0}, ValueError, "num_kv_heads"),
        ({"n_layers": "2"}, TypeError, "n_layers"),
        ({"n_samples": 0}, ValueError, "n_samples"),
        ({"n_tokens": 4}, ValueError, "n_tokens"),
        ({"seed": -1}, ValueError, "seed"),
        ({"num_heads": 3}, ValueError, "num_heads"),
        ({"head_dim": 4}, ValueError, "filters.*shape"),
    ],
)
def test_qfilters_refuses_bad_fields(fields, error, match):
    with pytest.raises(error, match=match):
        _qfilters(**fields)


def test_saving_bad_filters_leaves_the_saved_ones_untouched(tmp_path):
    good = _qfilters()
    good.save(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    broken = _qfilters()
    broken.filters[1, 0, 0] = math.nan
    with pytest.raises(ValueError, match=r"`filters`\[1, 0\]"):
        broken.save(tmp_path)
    broken.filters = torch.zeros(N_LAYERS, H_KV, D, dtype=torch.float64)
    with pytest.raises(TypeError, match="filters"):
        broken.save(tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    torch.testing.assert_close(QFilters.load(tmp_path).filters, good.filters)


@pytest.mark.parametrize(("directory", "error"), [(None, TypeError), ("", ValueError)])
def test_save_and_load_refuse_a_bad_directory(directory, error):
    with pytest.raises(error, match="directory"):
        _qfilters().save(directory)
    with pytest.raises(error, match="directory"):
        QFilters.load(directory)


def test_load_refuses_broken_metadata_and_non_finite_filters(tmp_path):
    _qfilters().save(tmp_path)
    meta_path = tmp_path / "qfilters.json"
    meta = json.loads(meta_path.read_text())
    for text, match in [("{not json", "not JSON"), ("[1, 2]", "not a JSON object")]:
        meta_path.write_text(text)
        with pytest.raises(ValueError, match=f"`filters` metadata.*{match}"):
            QFilters.load(tmp_path)
    meta_path.write_text(json.dumps(meta | {"n_layers": "2"}))
    with pytest.raises(TypeError, match="n_layers"):
        QFilters.load(tmp_path)
    # an infinite filter written with a matching checksum (not through save) is still refused
    filters = _filters()
    filters[0, 1, 2] = math.inf
    tensor_path = tmp_path / "qfilters.safetensors"
    save_file({"filters": filters}, str(tensor_path))
    meta["sha256"] = hashlib.sha256(tensor_path.read_bytes()).hexdigest()
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"`filters`\[0, 1\] \(layer 0, KV head 1\)"):
        QFilters.load(tmp_path)


@pytest.mark.parametrize(
    ("batches", "kwargs", "error", "match"),
    [
        (None, {}, TypeError, "batches"),
        (5, {}, TypeError, "batches"),
        (["a review", "   "], {}, ValueError, r"batches\[1\]"),
        (["a review", 3], {}, TypeError, r"batches\[1\]"),
        (["a review"], {"tokenizer": 5}, TypeError, "tokenizer"),
        ([torch.zeros(1, 0, dtype=torch.long)], {}, ValueError, r"`batches\[0\]` is empty"),
        ([_ids(), _ids() + VOCAB], {}, ValueError, r"`batches\[1\]`\[0, 0\]"),
        ([[3, 4, 5]], {}, TypeError, r"batches\[0\]"),
        ([{"input_ids": _ids(), "attention_mask": 2 * torch.ones(1, 16)}], {}, ValueError, "mask"),
        ([{"ids": _ids()}], {}, ValueError, "input_ids"),
        ([_ids()], {"n_samples": 2.5}, TypeError, "n_samples"),
        ([_ids()], {"batch_size": 0}, ValueError, "batch_size"),
        ([_ids()], {"max_length": None}, TypeError, "max_length"),
        ([_ids()], {"seed": 2**70}, ValueError, "seed"),
        ([_ids()], {"progress": None}, TypeError, "progress"),
    ],
)
def test_calibrate_qfilters_refuses_bad_input(llama, tokenizer, batches, kwargs, error, match):
    kwargs = {"tokenizer": tokenizer, "progress": False} | kwargs
    with pytest.raises(error, match=match):
        calibrate_qfilters(llama, batches, **kwargs)


@pytest.mark.parametrize("model", [None, "llama", torch.nn.Linear(2, 2)])
def test_model_arguments_refuse_what_is_not_a_transformers_model(model):
    with pytest.raises(TypeError, match="model"):
        calibrate_qfilters(model, [_ids()], progress=False)
    with pytest.raises(TypeError, match="model"):
        model_fingerprint(model)
    with pytest.raises(TypeError, match="model"):
        QFiltersScorer(_filters()).check(model)


# Geometry


@pytest.mark.parametrize(
    ("rows", "error", "match"),
    [
        ([[[1.0]]], TypeError, "rows"),
        (torch.ones(2, 3, 4, dtype=torch.long), TypeError, "rows"),
        (torch.ones(2, 0, 4), ValueError, "rows.*empty"),
        (torch.ones(3, 4), ValueError, "rows"),
    ],
)
def test_dominant_direction_refuses_bad_rows(rows, error, match):
    with pytest.raises(error, match=match):
        dominant_direction(rows)


@FAST
@given(head=st.integers(0, 2), row=st.integers(0, 4), bad=NON_FINITE)
def test_dominant_direction_names_the_head_of_a_non_finite_row(head, row, bad):
    rows = torch.randn(3, 5, 4)
    rows[head, row, 1] = bad
    with pytest.raises(ValueError, match=rf"`rows` of head {head} .*row {row}"):
        dominant_direction(rows)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda c: singular_spectra(None), TypeError, "capture"),
        (lambda c: singular_spectra(c, "v"), ValueError, "which"),
        (lambda c: singular_spectra(c, "q", post_rope="no"), TypeError, "post_rope"),
        (lambda c: dominant_directions({"queries": {}}), TypeError, "capture"),
        (lambda c: dominant_directions(c, post_rope=0), TypeError, "post_rope"),
        (lambda c: key_scores(c, "knorm"), TypeError, "scorer"),
        (lambda c: key_scores(None, make_scorer("knorm")), TypeError, "capture"),
        (lambda c: projection_attention_correlation(c, _filters(), 0), ValueError, "chunk_size"),
        (lambda c: projection_attention_correlation(c, torch.randn(2, 2, 4)), ValueError, "filt"),
    ],
)
def test_geometry_refuses_bad_arguments(capture, call, error, match):
    with pytest.raises(error, match=match):
        call(capture)


def test_correlation_refuses_non_finite_filters(capture):
    filters = _filters()
    filters[1, 1, 0] = math.nan
    with pytest.raises(ValueError, match=r"`filters`\[1, 1\]"):
        projection_attention_correlation(capture, filters)


@FAST
@given(position=st.one_of(st.integers(max_value=-1), st.integers(min_value=6)))
def test_rank_fractions_refuses_positions_outside_the_scores(position):
    with pytest.raises(ValueError, match=r"positions\[1\]"):
        rank_fractions(torch.randn(2, 6), [0, position])


@pytest.mark.parametrize(
    ("scores", "positions", "error", "match"),
    [
        (torch.randn(6), [1.0], TypeError, r"positions\[0\]"),
        (torch.randn(6), [True], TypeError, r"positions\[0\]"),
        (torch.randn(6), [], ValueError, "positions"),
        (torch.randn(6), 2, TypeError, "positions"),
        (torch.randn(6), "12", TypeError, "positions"),
        (torch.tensor([0.5, math.nan, 0.1]), [0], ValueError, "scores.*NaN"),
        (torch.randn(2, 0), [0], ValueError, "scores"),
        ([0.5, 0.1], [0], TypeError, "scores"),
    ],
)
def test_rank_fractions_refuses_bad_arguments(scores, positions, error, match):
    with pytest.raises(error, match=match):
        rank_fractions(scores, positions)


# Needle


def test_needle_refuses_empty_and_too_long_prompts_before_decoding(llama, tokenizer, examples):
    empty = copy.copy(examples[1])
    object.__setattr__(empty, "prompt", "")  # past any check of the example itself
    with pytest.raises(ValueError, match=r"`examples\[1\].prompt` is empty"):
        needle_accuracy(llama, tokenizer, [examples[0], empty], max_new_tokens=1)
    long = needle_examples(1, 0, context_tokens=400, tokenizer=tokenizer)
    with pytest.raises(ValueError, match=r"`examples\[0\].prompt` has \d+ tokens plus 1 .*256"):
        needle_accuracy(llama, tokenizer, long, max_new_tokens=1)


@pytest.mark.parametrize(
    ("examples_", "kwargs", "error", "match"),
    [
        ([], {}, ValueError, "examples"),
        ("prompt", {}, TypeError, "examples"),
        (iter([]), {}, TypeError, "examples"),
        (["a prompt"], {}, TypeError, r"examples\[0\]"),
        (None, {"max_new_tokens": 0}, ValueError, "max_new_tokens"),
        (None, {"max_new_tokens": 1.5}, TypeError, "max_new_tokens"),
        (None, {"context": 5}, TypeError, "context"),
        (None, {"compress_context": "yes"}, TypeError, "compress_context"),
    ],
)
def test_needle_accuracy_refuses_bad_arguments(
    llama, tokenizer, examples, examples_, kwargs, error, match
):
    with pytest.raises(error, match=match):
        needle_accuracy(llama, tokenizer, examples if examples_ is None else examples_, **kwargs)


def test_needle_accuracy_refuses_a_non_model_or_tokenizer(llama, tokenizer, examples):
    with pytest.raises(TypeError, match="model"):
        needle_accuracy(None, tokenizer, examples)
    with pytest.raises(TypeError, match="tokenizer"):
        needle_accuracy(llama, None, examples)
    with pytest.raises(TypeError, match="tokenizer"):
        answer_positions("tokenizer", examples[0])
    with pytest.raises(TypeError, match="example"):
        answer_positions(tokenizer, examples[0].prompt)


@FAST
@given(expected=st.text(alphabet=" \t\n\u00a0\u2003", max_size=4), generated=st.text(max_size=8))
def test_answers_refuses_a_blank_expected_answer(expected, generated):
    with pytest.raises(ValueError, match="expected"):
        answers(generated, expected)


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: answers(None, "481"), TypeError, "generated"),
        (lambda: answers(" 481", 481), TypeError, "expected"),
        (lambda: NeedleRecord(math.nan, "1", "1", True), ValueError, "depth"),
        (lambda: NeedleRecord(1.5, "1", "1", True), ValueError, "depth"),
        (lambda: NeedleRecord(0.5, "1", "1", 1), TypeError, "correct"),
        (lambda: NeedleResult(1.2, ()), ValueError, "accuracy"),
        (lambda: NeedleResult(0.5, [NeedleRecord(0.5, "1", "1", True)]), TypeError, "records"),
        (lambda: NeedleResult(0.5, ("record",)), TypeError, r"records\[0\]"),
        (lambda: accuracy_by_depth(NeedleResult(0.0, ()), bins=2.0), TypeError, "bins"),
        (lambda: accuracy_by_depth(NeedleResult(0.0, ()), bins=0), ValueError, "bins"),
        (lambda: accuracy_by_depth({"accuracy": 1.0}), TypeError, "result"),
    ],
)
def test_needle_results_refuse_bad_values(build, error, match):
    with pytest.raises(error, match=match):
        build()
