"""The MusicGen path: captions → audio with a text-conditioned codec language model.

Spanio et al. (arXiv 2503.02823) fine-tune MusicGen small (facebook/musicgen-small; their
result is csc-unipd/tasty-musicgen-small) on pieces paired with taste captions, with learning
rate 1e-4. MusicGen (Copet et al., 2023) has three parts: a T5 text encoder, an EnCodec audio
codec that turns a waveform into a few parallel streams of codebook tokens (4 codebooks at
50 Hz for musicgen-small, 32 kHz audio), and a decoder that predicts the tokens of all
codebooks at once under a *delay pattern*: codebook ``k`` runs ``k`` steps behind codebook 0.

This module runs that whole path with Hugging Face's ``MusicgenForConditionalGeneration``:

* :func:`tiny_musicgen` builds a tiny randomly initialized model offline (and
  :func:`caption_tokenizer` a matching BPE tokenizer, since T5's sentencepiece model cannot be
  downloaded here). A random tiny model makes noise; its purpose is to exercise the exact
  code path a real checkpoint uses, in seconds on a CPU.
* :func:`load_musicgen` loads a real checkpoint from a local directory or the Hub.
* :func:`audio_codes`, :func:`finetune` and :func:`generate_audio` work with either.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from math import gcd
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy.signal import resample_poly
from tqdm.auto import tqdm
from transformers import (
    AutoTokenizer,
    EncodecConfig,
    GenerationConfig,
    MusicgenConfig,
    MusicgenDecoderConfig,
    MusicgenForConditionalGeneration,
    PreTrainedTokenizerBase,
    T5Config,
)

from toolkit._checks import check_int, check_number, check_str
from toolkit._checks import describe as _shown
from toolkit.music.params import INSTRUMENTS, MODES, MusicParams
from toolkit.music.synth import check_audio
from toolkit.music.taste import TASTES, TasteProfile
from toolkit.music.text import describe
from toolkit.zoo import ZooError
from toolkit.zoo.tokenizer import train_bpe_tokenizer

TINY_SAMPLE_RATE = 8000
TINY_UPSAMPLING = (8, 5, 4)  # EnCodec hop of 160 samples: 50 frames per second, as MusicGen
TINY_CODEBOOKS = 4
TINY_CODEBOOK_SIZE = 64


def caption_corpus() -> list[str]:
    """Captions written by :func:`toolkit.music.text.describe` over every taste (and the
    neutral profile), instrument and three tempi, with mode, articulation, register,
    loudness and consonance drawn with a fixed seed: the text a taste → music model is
    conditioned on."""
    rng = random.Random(0)
    profiles = [TasteProfile.pure(t) for t in TASTES] + [TasteProfile()]
    captions = []
    for profile, instrument, tempo in itertools.product(
        profiles, INSTRUMENTS, (60.0, 100.0, 160.0)
    ):
        params = MusicParams(
            tempo_bpm=tempo,
            instrument=instrument,
            mode=rng.choice(MODES),
            articulation=rng.choice((0.3, 0.7, 0.95)),
            pitch_center=rng.choice((48, 64, 78)),
            loudness=rng.choice((0.2, 0.6, 0.9)),
            consonance=rng.choice((0.2, 0.5, 0.9)),
        )
        captions.append(describe(profile, params))
    return captions


def caption_tokenizer(vocab_size: int = 512) -> PreTrainedTokenizerBase:
    """A byte-level BPE tokenizer trained on :func:`caption_corpus` (any text encodes; the
    vocabulary may come out smaller than ``vocab_size`` — size the model with ``len()``)."""
    vocab_size = check_int("vocab_size", vocab_size, minimum=1)
    return train_bpe_tokenizer(caption_corpus(), vocab_size=vocab_size)


def tiny_musicgen(vocab_size: int, seed: int = 0) -> MusicgenForConditionalGeneration:
    """A randomly initialized MusicGen of ~0.2 M parameters, built offline.

    Same architecture as musicgen-small (T5 encoder d_model 32 → projection → decoder
    hidden 48, 2 layers each; EnCodec with 4 filters at 8 kHz, 50 frames/s, 4 codebooks of
    64 entries) and the same generation settings (sampling, classifier-free guidance 3.0).
    ``vocab_size`` is the text tokenizer's size, e.g. ``len(caption_tokenizer())``. It makes
    noise until trained; it exists to run the code path a real checkpoint uses.
    """
    vocab_size = check_int("vocab_size", vocab_size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    nbits = math.ceil(math.log2(TINY_CODEBOOK_SIZE))
    frame_rate = TINY_SAMPLE_RATE // math.prod(TINY_UPSAMPLING)
    audio = EncodecConfig(
        sampling_rate=TINY_SAMPLE_RATE,
        upsampling_ratios=list(TINY_UPSAMPLING),
        hidden_size=16,
        num_filters=4,
        num_lstm_layers=1,
        codebook_size=TINY_CODEBOOK_SIZE,
        target_bandwidths=[TINY_CODEBOOKS * frame_rate * nbits / 1000],  # kbps for 4 codebooks
    )
    text = T5Config(vocab_size=vocab_size, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4)
    decoder = MusicgenDecoderConfig(
        vocab_size=TINY_CODEBOOK_SIZE,
        hidden_size=48,
        ffn_dim=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_codebooks=TINY_CODEBOOKS,
        max_position_embeddings=512,
        pad_token_id=TINY_CODEBOOK_SIZE,  # the extra embedding row, never predicted
        bos_token_id=TINY_CODEBOOK_SIZE,
    )
    config = MusicgenConfig(text_encoder=text, audio_encoder=audio, decoder=decoder)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = MusicgenForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=TINY_CODEBOOK_SIZE,
        bos_token_id=TINY_CODEBOOK_SIZE,
        pad_token_id=TINY_CODEBOOK_SIZE,
        do_sample=True,
        guidance_scale=3.0,
        max_length=256,
    )
    return model.eval()


_LOCAL_HINT = (
    "If this is a Hub id and you are offline (or the Hub is unreachable), download the model "
    "elsewhere (e.g. 'facebook/musicgen-small' or 'csc-unipd/tasty-musicgen-small'), copy the "
    "directory here and pass its path, e.g. load_musicgen('/path/to/musicgen-small'). For a "
    "model that builds offline use tiny_musicgen(len(caption_tokenizer()))."
)


def load_musicgen(
    name_or_path: str | Path, *, device: str | torch.device | None = None
) -> tuple[MusicgenForConditionalGeneration, PreTrainedTokenizerBase]:
    """``(model in eval mode, text tokenizer)`` from a directory saved with
    ``save_pretrained`` (model and tokenizer in the same place) or a Hub id such as
    ``facebook/musicgen-small``; for csc-unipd/tasty-musicgen-small offline, download it
    elsewhere and pass the directory. The tokenizer is all the text side needs:
    :func:`audio_codes` does the feature extractor's work (mono, resampling) itself.

    Raises:
        ZooError: nothing loadable there (say, offline with nothing cached); the message
            says how to pass a local directory instead.
    """
    if not isinstance(name_or_path, str | Path) or not str(name_or_path).strip():
        raise TypeError(
            "name_or_path must be a directory or a Hub id (str or Path), "
            f"got {_shown(name_or_path)}"
        )
    name = str(name_or_path)
    local = Path(name).expanduser()
    if not local.exists() and (local.is_absolute() or name.startswith((".", "~"))):
        raise ZooError(f"no directory at {name!r}.\n{_LOCAL_HINT}")
    source = local if local.exists() else name
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = MusicgenForConditionalGeneration.from_pretrained(source)
    except (OSError, ValueError) as error:
        raise ZooError(f"could not load {str(source)!r}: {error}\n{_LOCAL_HINT}") from error
    if device is not None:
        model = model.to(device)
    return model.eval(), tokenizer


def resample(audio: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Resample along the last axis by the rational factor ``target/source`` with SciPy's
    polyphase filter (a Kaiser-windowed low-pass FIR, so downsampling does not alias)."""
    source_rate = check_int("source_rate", source_rate, minimum=1)
    target_rate = check_int("target_rate", target_rate, minimum=1)
    if source_rate == target_rate:
        return audio
    common = gcd(int(source_rate), int(target_rate))
    return resample_poly(audio, target_rate // common, source_rate // common, axis=-1)


def audio_codes(
    model: MusicgenForConditionalGeneration, audio: np.ndarray, sample_rate: int
) -> torch.Tensor:
    """EnCodec tokens ``(B, num_codebooks, frames)`` of mono waveforms ``(samples,)`` or
    ``(B, samples)`` in [-1, 1] at ``sample_rate`` (resampled to the codec's rate first).

    Frames: ``ceil(samples / hop)`` at the codec rate, hop = product of its upsampling
    ratios (640 samples = 20 ms for musicgen-small, 160 = 20 ms for the tiny model). Uses
    the codec's default bandwidth, as MusicGen's own audio-prompt path does.

    Raises:
        TypeError: ``audio`` not floating point, or ``sample_rate`` not an int.
        ValueError: ``audio`` not 1-D or 2-D, empty, or with a NaN or infinite sample
            (named by clip and index); ``sample_rate`` not positive.
    """
    audio = _checked_waves(audio)
    sample_rate = check_int("sample_rate", sample_rate, minimum=1)
    if model.config.decoder.audio_channels != 1:
        raise ValueError("only mono MusicGen checkpoints are supported")
    codec_rate = model.config.audio_encoder.sampling_rate
    waves = np.atleast_2d(resample(np.asarray(audio, dtype=np.float32), sample_rate, codec_rate))
    values = torch.from_numpy(np.ascontiguousarray(waves, dtype=np.float32))[:, None]
    with torch.no_grad():
        codes = model.audio_encoder.encode(values.to(model.device)).audio_codes[0]
    if codes.shape[1] != model.decoder.num_codebooks:
        raise ValueError(
            f"codec gave {codes.shape[1]} codebooks, decoder expects {model.decoder.num_codebooks}"
        )
    return codes


def _checked_waves(audio: object) -> np.ndarray:
    """Mono ``(samples,)`` or a batch ``(B, samples)``, every clip checked by ``check_audio``."""
    x = np.asarray(audio) if isinstance(audio, np.ndarray | list | tuple) else audio
    if isinstance(x, np.ndarray) and x.ndim == 2:
        return np.stack([check_audio(row, name=f"audio[{i}]") for i, row in enumerate(x)])
    return check_audio(x)


def delay_pattern(codes: torch.Tensor, pad_token_id: int) -> torch.Tensor:
    """Codes ``(K, T)`` laid out as MusicGen generates them, ``(K, T + K)``: column 0 is the
    start token (``pad_token_id``) and codebook ``k``'s frame ``t`` sits at column
    ``t + k + 1``; the rest is padding. This is the layout ``generate`` builds with
    ``build_delay_pattern_mask`` and removes at the end."""
    if not isinstance(codes, torch.Tensor):
        raise TypeError(f"codes must be a torch.Tensor, got {_shown(codes)}")
    if codes.ndim != 2:
        raise ValueError(f"codes must be (codebooks, frames), got shape {tuple(codes.shape)}")
    num_codebooks, frames = codes.shape
    out = codes.new_full((num_codebooks, frames + num_codebooks), pad_token_id)
    for k in range(num_codebooks):
        out[k, k + 1 : k + 1 + frames] = codes[k]
    return out


def _text_inputs(
    tokenizer: PreTrainedTokenizerBase, captions: Sequence[str], device: torch.device
) -> dict[str, torch.Tensor]:
    """``input_ids`` and ``attention_mask`` of the padded captions, all the T5 encoder takes."""
    batch = tokenizer(list(captions), padding=True, return_tensors="pt")
    return {key: batch[key].to(device) for key in ("input_ids", "attention_mask")}


def finetune(
    model: MusicgenForConditionalGeneration,
    tokenizer: PreTrainedTokenizerBase,
    pairs: Sequence[tuple[str, np.ndarray]],
    sample_rate: int,
    steps: int,
    lr: float = 1e-4,
    batch_size: int = 4,
    seed: int = 0,
    progress: bool = True,
) -> list[float]:
    """Fine-tune on ``(caption, mono waveform)`` pairs with AdamW; returns the loss per step.

    Standard MusicGen training: the target is each clip's EnCodec codes ``(K, T)`` in the
    delay pattern (:func:`delay_pattern`); the decoder reads the sequence without its last
    column and predicts it without its first, with a cross-entropy per codebook averaged over
    codebooks (the model's own loss; padding positions are ignored). The decoder inputs are
    passed explicitly because the model's forward, given only ``labels``, merely shifts them
    right and would not apply the delay pattern. As in MusicGen, the T5 encoder and the codec
    stay frozen; the decoder and the text → decoder projection are trained. Batches are drawn
    from a shuffled pass over the pairs (``seed``). ``lr=1e-4`` is the paper's rate. The
    model is left in eval mode.

    Every argument and pair is checked before the model is touched, so bad input never
    leaves it half-trained.

    Raises:
        TypeError: a non-int ``steps``, ``batch_size``, ``seed`` or ``sample_rate``, a
            non-numeric ``lr``, or a pair that is not ``(str caption, float waveform)``.
        ValueError: ``steps`` or ``batch_size`` < 1, ``lr`` not positive and finite, no
            pairs, or a blank caption or bad waveform (named by pair index).
    """
    steps = check_int("steps", steps, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    lr = check_number("lr", lr, minimum=0.0, strict_min=True)
    seed = check_int("seed", seed, minimum=0)
    if isinstance(pairs, str) or not isinstance(pairs, Sequence):
        raise TypeError(f"pairs must be a sequence of (caption, waveform), got {_shown(pairs)}")
    if not pairs:
        raise ValueError("pairs must not be empty: fine-tuning needs at least one pair")
    for i, pair in enumerate(pairs):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise TypeError(f"pairs[{i}] must be a (caption, waveform) pair, got {_shown(pair)}")
        check_str(f"pairs[{i}] caption", pair[0])
        check_audio(pair[1], name=f"pairs[{i}] waveform")
    pad = model.generation_config.decoder_start_token_id
    captions = [caption for caption, _ in pairs]
    targets = [delay_pattern(audio_codes(model, audio, sample_rate)[0], pad) for _, audio in pairs]
    trainable = [
        p
        for name, p in model.named_parameters()
        if not name.startswith(("text_encoder.", "audio_encoder."))
    ]
    optimizer = torch.optim.AdamW(trainable, lr=lr)
    generator = torch.Generator().manual_seed(seed)
    order = itertools.chain.from_iterable(
        torch.randperm(len(pairs), generator=generator).tolist() for _ in itertools.count()
    )
    model.train()
    model.text_encoder.eval()
    model.audio_encoder.eval()
    losses = []
    for _ in tqdm(range(steps), desc="MusicGen fine-tuning", disable=not progress, leave=False):
        batch = list(itertools.islice(order, batch_size))
        text = _text_inputs(tokenizer, [captions[i] for i in batch], model.device)
        width = max(targets[i].shape[1] for i in batch)
        sequences = torch.stack(
            [F.pad(targets[i], (0, width - targets[i].shape[1]), value=pad) for i in batch]
        ).to(model.device)  # (B, K, L)
        labels = sequences[:, :, 1:].masked_fill(sequences[:, :, 1:] == pad, -100)
        with torch.no_grad():
            encoded = model.text_encoder(**text)
        loss = model(
            encoder_outputs=encoded,
            attention_mask=text["attention_mask"],
            decoder_input_ids=sequences[:, :, :-1].reshape(-1, width - 1),
            labels=labels.transpose(1, 2),  # (B, L - 1, K), as the model expects
        ).loss
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    return losses


def generate_audio(
    model: MusicgenForConditionalGeneration,
    tokenizer: PreTrainedTokenizerBase,
    captions: Sequence[str],
    max_new_tokens: int = 256,
    seed: int = 0,
) -> np.ndarray:
    """Waveforms ``(B, samples)`` at ``model.config.audio_encoder.sampling_rate``, sampled
    with the checkpoint's generation settings (musicgen-small: sampling, guidance 3.0).

    Because of the delay pattern, ``max_new_tokens`` steps give ``max_new_tokens − K + 1``
    codec frames (K codebooks), i.e. that many times the hop in samples: 256 tokens ≈ 5 s
    for musicgen-small. The seed is applied to a forked RNG, leaving the global one alone.

    Raises:
        TypeError: ``captions`` a str or not a sequence of str (wrap one caption in a list),
            or ``max_new_tokens`` / ``seed`` not an int.
        ValueError: no captions, a blank caption (named by index), ``max_new_tokens`` below
            the number of codebooks, or a negative ``seed``.
    """
    if isinstance(captions, str) or not isinstance(captions, Sequence):
        raise TypeError(
            f"captions must be a sequence of str (wrap one caption in a list), "
            f"got {_shown(captions)}"
        )
    if not captions:
        raise ValueError("captions must not be empty")
    for i, caption in enumerate(captions):
        check_str(f"captions[{i}]", caption)
    max_new_tokens = check_int(
        "max_new_tokens", max_new_tokens, minimum=model.decoder.num_codebooks
    )
    seed = check_int("seed", seed, minimum=0)
    text = _text_inputs(tokenizer, captions, model.device)
    devices = [model.device] if model.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        audio = model.generate(**text, max_new_tokens=max_new_tokens)
    return audio[:, 0].float().cpu().numpy()
