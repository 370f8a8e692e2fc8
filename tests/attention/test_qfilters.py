import dataclasses
import json

import pytest
import torch

from toolkit.attention.capture import capture_qk
from toolkit.attention.geometry import dominant_direction
from toolkit.attention.qfilters import (
    QFilters,
    calibrate_qfilters,
    model_fingerprint,
    qfilters_dir,
)
from toolkit.data import review_corpus
from toolkit.zoo.tiny import tiny_gpt2, tiny_llama


@pytest.fixture(scope="module")
def texts():
    return review_corpus(12, 5)


def id_batches(vocab_size, n=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randint(3, vocab_size, (2, 10), generator=generator) for _ in range(n)]


def test_filters_point_against_planted_query_direction(tokenizer):
    # GPT-2 has no RoPE: a large query bias b_h = 4·d_h makes every query ≈ 4·d_h.
    model = tiny_gpt2(tokenizer, n_embd=32, n_head=2)
    n_embd, head_dim = 32, 16
    directions = torch.nn.functional.normalize(
        torch.randn(2, 2, head_dim, generator=torch.Generator().manual_seed(0)), dim=-1
    )  # (layer, head, D)
    with torch.no_grad():
        for layer, block in enumerate(model.transformer.h):
            block.attn.c_attn.weight[:, :n_embd] *= 0.01
            block.attn.c_attn.bias[:n_embd] = 4 * directions[layer].reshape(-1)
    qfilters = calibrate_qfilters(model, id_batches(len(tokenizer)), progress=False)
    assert qfilters.filters.shape == (2, 2, head_dim)
    cosine = torch.nn.functional.cosine_similarity(qfilters.filters, directions, dim=-1)
    assert (cosine < -0.99).all()  # f = −svd_sign·v ∝ −d
    # Keys along the queries' direction score high: s(k) = −⟨f, k⟩.
    assert ((-(qfilters.filters * directions).sum(-1)) > 0.99).all()


def test_grouped_query_filters_average_the_query_heads(llama, texts, tokenizer):
    qfilters = calibrate_qfilters(
        llama, texts, tokenizer=tokenizer, n_samples=10**6, progress=False
    )
    encoded = tokenizer(texts, padding=True, return_tensors="pt")
    capture = capture_qk(llama, encoded["input_ids"], encoded["attention_mask"])
    assert qfilters.n_samples == qfilters.n_tokens == int(encoded["attention_mask"].sum())
    for layer in capture.layers:
        per_head = -dominant_direction(capture.rows(layer, "q"))[0]  # (H, D)
        expected = per_head.view(2, 2, -1).mean(dim=1)  # mean within each KV group, no renorm
        torch.testing.assert_close(qfilters.filters[layer], expected, atol=1e-5, rtol=1e-4)
    assert qfilters.fingerprint() == model_fingerprint(llama)
    assert qfilters.fingerprint() == {
        "model_type": "llama",
        "n_layers": 2,
        "num_heads": 4,
        "num_kv_heads": 2,
        "head_dim": 8,
    }


def test_tensor_mapping_and_text_batches_agree(llama, texts, tokenizer):
    from_texts = calibrate_qfilters(llama, texts, tokenizer=tokenizer, batch_size=4, progress=False)
    encoded = [
        dict(tokenizer(texts[i : i + 4], padding=True, return_tensors="pt"))
        for i in range(0, len(texts), 4)
    ]
    from_mappings = calibrate_qfilters(llama, encoded, progress=False)
    torch.testing.assert_close(from_texts.filters, from_mappings.filters)
    single = [torch.tensor(tokenizer(text)["input_ids"]) for text in texts[:2]]
    assert calibrate_qfilters(llama, single, progress=False).n_tokens == sum(map(len, single))


def test_sampling_is_deterministic_under_a_seed(llama):
    batches = id_batches(llama.config.vocab_size, n=4)
    first = calibrate_qfilters(llama, batches, n_samples=20, seed=3, progress=False)
    again = calibrate_qfilters(llama, iter(batches), n_samples=20, seed=3, progress=False)
    other = calibrate_qfilters(llama, batches, n_samples=20, seed=4, progress=False)
    assert first.n_samples == 20 and first.n_tokens == 80
    assert torch.equal(first.filters, again.filters)
    assert not torch.allclose(first.filters, other.filters)


def test_save_load_round_trip_is_exact(llama, tmp_path):
    qfilters = calibrate_qfilters(llama, id_batches(llama.config.vocab_size), progress=False)
    directory = qfilters.save(qfilters_dir(tmp_path / "model"))
    assert directory == tmp_path / "model" / "qfilters"
    assert sorted(p.name for p in directory.iterdir()) == ["qfilters.json", "qfilters.safetensors"]
    loaded = QFilters.load(directory, model=llama)
    assert torch.equal(loaded.filters, qfilters.filters)
    for field in dataclasses.fields(QFilters):
        if field.name != "filters":
            assert getattr(loaded, field.name) == getattr(qfilters, field.name), field.name


def test_load_rejects_another_models_filters(llama, tokenizer, tmp_path):
    qfilters = calibrate_qfilters(llama, id_batches(llama.config.vocab_size), progress=False)
    qfilters.save(tmp_path)
    wider = tiny_llama(tokenizer, hidden_size=32, num_attention_heads=4, num_key_value_heads=4)
    with pytest.raises(ValueError, match=r"`filters`.*num_kv_heads=2.*num_kv_heads=4"):
        QFilters.load(tmp_path, model=wider)
    with pytest.raises(ValueError, match=r"`filters`.*model_type='llama'.*'gpt2'"):
        QFilters.load(tmp_path, model=tiny_gpt2(tokenizer, n_embd=32, n_head=4))


def test_load_checks_the_files(llama, tmp_path):
    qfilters = calibrate_qfilters(llama, id_batches(llama.config.vocab_size), progress=False)
    qfilters.save(tmp_path)
    with pytest.raises(FileNotFoundError, match="qfilters"):
        QFilters.load(tmp_path / "elsewhere")
    tensor_file = tmp_path / "qfilters.safetensors"
    data = bytearray(tensor_file.read_bytes())
    data[-1] ^= 0xFF
    tensor_file.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum"):
        QFilters.load(tmp_path)
    qfilters.save(tmp_path)
    meta = json.loads((tmp_path / "qfilters.json").read_text())
    meta["num_kv_heads"] = 4
    (tmp_path / "qfilters.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="`filters` has shape"):
        QFilters.load(tmp_path)


def test_bad_inputs_raise_clear_errors(llama, texts):
    batches = id_batches(llama.config.vocab_size)
    with pytest.raises(ValueError, match="tokenizer"):
        calibrate_qfilters(llama, texts, progress=False)
    with pytest.raises(TypeError, match="batches"):
        calibrate_qfilters(llama, "one text", progress=False)
    with pytest.raises(TypeError, match=r"`batches\[1\]`"):
        calibrate_qfilters(llama, [batches[0], batches[1].float()], progress=False)
    with pytest.raises(ValueError, match="n_samples"):
        calibrate_qfilters(llama, batches, n_samples=0, progress=False)
    with pytest.raises(ValueError, match="batches"):
        calibrate_qfilters(llama, [], progress=False)
    with pytest.raises(ValueError, match="filters"):
        QFilters(torch.zeros(2, 3, 8), "llama", 2, 4, 2, 8, 1, 1, 0)
    with pytest.raises(TypeError, match="filters"):
        QFilters(torch.zeros(2, 2, 8, dtype=torch.float64), "llama", 2, 4, 2, 8, 1, 1, 0)


def test_progress_bar_over_batches(llama, capsys):
    calibrate_qfilters(llama, id_batches(llama.config.vocab_size, n=2), progress=True)
    assert "Q-Filters calibration" in capsys.readouterr().err
