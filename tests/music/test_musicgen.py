import math

import huggingface_hub.constants
import numpy as np
import pytest
import torch

from toolkit.music import musicgen
from toolkit.zoo import ZooError

RATE = 16_000  # the clips' rate; audio_codes resamples to the tiny codec's 8 kHz
CAPTIONS = [
    "A sweet, consonant piece for flute.",
    "A sour, dissonant piece for marimba.",
    "A bitter piece in a minor key for strings.",
    "A salty piece with short, detached notes.",
    "An umami piece for brass, played loudly.",
    "A sweet and sour piece for piano.",
    "The tempo is slow and peaceful.",
    "The tempo is fast and energetic.",
]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread when the CPU cores are shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tokenizer():
    return musicgen.caption_tokenizer()


@pytest.fixture
def model(tokenizer):
    return musicgen.tiny_musicgen(len(tokenizer), seed=0)


def sine(i: int, seconds: float = 0.5) -> np.ndarray:
    """Half a second at a pitch that depends on the caption's index."""
    t = np.arange(int(RATE * seconds)) / RATE
    return 0.5 * np.sin(2 * np.pi * 220.0 * 2 ** (i / 4) * t)


def test_tiny_model_builds_offline_and_is_tiny(model, tokenizer):
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    assert model.config.text_encoder.vocab_size == len(tokenizer)
    assert model.config.audio_encoder.frame_rate == 50
    assert all(len(tokenizer(c).input_ids) > 0 for c in musicgen.caption_corpus())


def test_audio_codes_shape(model):
    codes = musicgen.audio_codes(model, np.stack([sine(0), sine(1)]), RATE)
    frames = math.ceil(0.5 * model.config.audio_encoder.frame_rate)
    assert codes.shape == (2, musicgen.TINY_CODEBOOKS, frames)
    assert codes.dtype == torch.long
    assert 0 <= codes.min() and codes.max() < musicgen.TINY_CODEBOOK_SIZE
    assert musicgen.audio_codes(model, sine(2), RATE).shape == (1, musicgen.TINY_CODEBOOKS, frames)


def test_delay_pattern_matches_the_one_generate_builds(model):
    codes = musicgen.audio_codes(model, sine(3), RATE)[0]
    k, t = codes.shape
    pad = model.generation_config.decoder_start_token_id
    prompt = torch.cat([torch.full((k, 1), pad), codes], dim=1)
    _, mask = model.decoder.build_delay_pattern_mask(prompt, pad, max_length=t + k)
    assert torch.equal(musicgen.delay_pattern(codes, pad), mask)


def test_finetune_lowers_the_loss(model, tokenizer):
    pairs = [(caption, sine(i)) for i, caption in enumerate(CAPTIONS)]
    before = [p.clone() for p in model.text_encoder.parameters()]
    # lr 1e-3, ten times the paper's 1e-4, so that 30 steps show a clear drop
    losses = musicgen.finetune(
        model, tokenizer, pairs, RATE, steps=30, lr=1e-3, batch_size=4, seed=0, progress=False
    )
    assert len(losses) == 30 and all(math.isfinite(x) for x in losses)
    assert np.mean(losses[-3:]) < np.mean(losses[:3]) - 0.5
    assert all(
        torch.equal(a, b) for a, b in zip(before, model.text_encoder.parameters(), strict=True)
    )
    assert not model.training


def test_generate_returns_audio_of_the_expected_length(model, tokenizer):
    max_new_tokens = 20
    audio = musicgen.generate_audio(model, tokenizer, CAPTIONS[:2], max_new_tokens, seed=0)
    frames = max_new_tokens - musicgen.TINY_CODEBOOKS + 1  # the delay pattern's cost
    assert audio.shape == (2, frames * model.config.audio_encoder.hop_length)
    assert np.isfinite(audio).all()
    again = musicgen.generate_audio(model, tokenizer, CAPTIONS[:2], max_new_tokens, seed=0)
    assert np.array_equal(audio, again)


def test_missing_or_empty_directory_says_how_to_pass_one(tmp_path):
    with pytest.raises(ZooError, match="(?s)no directory at '/nonexistent'.*pass its path"):
        musicgen.load_musicgen("/nonexistent")
    with pytest.raises(ZooError, match="(?s)could not load .*pass its path"):
        musicgen.load_musicgen(tmp_path)


def test_unreachable_hub_id_says_how_to_pass_a_local_path(monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # read at import
    with pytest.raises(ZooError, match="load_musicgen\\('/path/to/musicgen-small'\\)"):
        musicgen.load_musicgen("no-such-org/no-such-musicgen")


def test_save_and_load_round_trip(model, tokenizer, tmp_path):
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded, loaded_tokenizer = musicgen.load_musicgen(tmp_path)
    assert not loaded.training
    expected = musicgen.generate_audio(model, tokenizer, CAPTIONS[:1], 12, seed=3)
    actual = musicgen.generate_audio(loaded, loaded_tokenizer, CAPTIONS[:1], 12, seed=3)
    np.testing.assert_array_equal(actual, expected)
