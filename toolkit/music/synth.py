"""Render a composed piece to audio: FluidSynth when installed, else a numpy synthesizer.

The built-in synthesizer is additive (sums of sine partials) with one recipe per instrument,
chosen so the timbres differ in ways audio features can see:

* piano — stretched harmonics that decay, the upper ones faster;
* strings — sawtooth-like harmonics, slow attack, sustained, with a delayed vibrato;
* brass — many harmonics whose upper partials grow with velocity (brighter when louder);
* marimba — three inharmonic partials (1 : 3.9 : 9.2, near a tuned bar's 1 : 4 : 10) that
  die away quickly;
* flute — nearly a sine, with a little breath noise and vibrato.

Each note gets an ADSR envelope (attack, decay, sustain, release) and an amplitude
proportional to its velocity. Voices are mixed with a fixed gain, so a softer piece renders
quieter; only a mix that would exceed full scale is scaled down to fit.

With ``backend="auto"`` the MIDI goes through the ``fluidsynth`` program and a General-MIDI
soundfont when both exist (``TOOLKIT_SOUNDFONT``, ``/usr/share/sounds/sf2/FluidR3_GM.sf2``
or ``/usr/share/soundfonts/default.sf2``); otherwise the built-in synthesizer is used and a
notice says so once per process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
import wave
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from toolkit._checks import check_choice, check_int, check_path, check_str, describe
from toolkit.music.composer import Note, Piece

if TYPE_CHECKING:
    from IPython.display import Audio

BACKENDS = ("auto", "builtin", "fluidsynth")
SOUNDFONT_ENV = "TOOLKIT_SOUNDFONT"
SOUNDFONT_PATHS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/soundfonts/default.sf2")
INSTALL_HINT = (
    "install it with `apt-get install fluidsynth fluid-soundfont-gm` "
    f"(or point {SOUNDFONT_ENV} at a General-MIDI .sf2 file)"
)
TAIL_SECONDS = 0.3  # rendered after the piece's end so the last release is not cut
MASTER_GAIN = 0.3  # fixed, so softer pieces render quieter; leaves headroom for chords
VOICE_GAIN = {"melody": 1.0, "harmony": 0.45, "bass": 0.7}
PEAK = 0.99
MIN_SAMPLE_RATE = 1000
MAX_SAMPLE_RATE = 384_000

_notified = False

# (attack, decay, sustain level, release) in seconds / share of the peak.
ENVELOPES = {
    "piano": (0.005, 0.05, 0.9, 0.15),
    "strings": (0.12, 0.1, 0.9, 0.25),
    "brass": (0.05, 0.08, 0.8, 0.12),
    "marimba": (0.002, 0.02, 1.0, 0.05),
    "flute": (0.08, 0.05, 0.9, 0.1),
}


def check_audio(audio: object, *, stereo: bool = False, name: str = "audio") -> np.ndarray:
    """``audio`` as a float64 array of finite samples with full scale 1.0.

    Mono audio is 1-D ``(samples,)``; with ``stereo`` a 2-D ``(samples, channels)`` array of
    one or two channels is accepted too.

    Raises:
        TypeError: not an array of floating-point numbers (integer PCM must be divided by
            its full scale first, e.g. 32768 for 16-bit).
        ValueError: the wrong shape, no samples, or a NaN or infinite sample (the message
            gives its index).
    """
    if audio is None or isinstance(audio, str | bytes):
        raise TypeError(f"{name} must be an array of float samples, got {describe(audio)}")
    try:
        x = np.asarray(audio)
    except ValueError as error:
        raise ValueError(f"{name} must be a rectangular array of samples: {error}") from None
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{name} must be floating point with full scale 1.0, got dtype {x.dtype} "
            "(divide 16-bit PCM by 32768)"
        )
    layouts = "of shape (samples,) or (samples, 1 or 2 channels)" if stereo else "mono 1-D"
    if not (x.ndim == 1 or (stereo and x.ndim == 2 and x.shape[1] in (1, 2))):
        hint = "; pass audio.T if channels come first" if x.ndim == 2 and stereo else ""
        raise ValueError(f"{name} must be {layouts}, got shape {x.shape}{hint}")
    if x.size == 0:
        raise ValueError(f"{name} is empty: it has no samples")
    bad = np.argwhere(~np.isfinite(x))
    if bad.size:
        where = f"sample {bad[0][0]}" + (f", channel {bad[0][1]}" if x.ndim == 2 else "")
        raise ValueError(
            f"{name} has a non-finite value {x[tuple(bad[0])]} at {where}; "
            "audio must be finite to be written or analysed"
        )
    return x.astype(np.float64)


def _adsr(t: np.ndarray, sounding: float, shape: tuple[float, float, float, float]) -> np.ndarray:
    """Envelope over times ``t`` for a note held ``sounding`` seconds, then released."""
    attack, decay, sustain, release = shape
    corners, levels = [0.0, attack, attack + decay], [0.0, 1.0, sustain]
    held = np.interp(t, corners, levels)
    at_release = np.interp(sounding, corners, levels)
    fading = at_release * np.clip(1.0 - (t - sounding) / release, 0.0, 1.0)
    return np.where(t < sounding, held, fading)


def _phase(t: np.ndarray, freq: float, sr: int, vibrato: float = 0.0) -> np.ndarray:
    """Running phase (radians) of ``freq``; ``vibrato`` is a relative depth at 5.5 Hz, faded
    in over 0.3 s after the first 0.2 s."""
    if not vibrato:
        return 2 * np.pi * freq * t
    fade = np.clip((t - 0.2) / 0.3, 0.0, 1.0)
    inst = freq * (1.0 + vibrato * fade * np.sin(2 * np.pi * 5.5 * t))
    return 2 * np.pi * np.cumsum(inst) / sr


def _recipe(instrument: str, velocity: float, freq: float) -> tuple[np.ndarray, ...]:
    """Partials as (frequency ratios, amplitudes, decay rates per second)."""
    k = np.arange(1, 17, dtype=float)
    if instrument == "piano":
        ratios = k * np.sqrt(1 + 2e-4 * k**2)  # stiff strings: slightly stretched
        return ratios, k**-1.4, 1.2 * np.sqrt(freq / 262) * (1 + 0.6 * (k - 1))
    if instrument == "strings":
        return k, 1 / k, np.zeros_like(k)
    if instrument == "brass":
        return k, k ** -(2.0 - 1.6 * velocity), np.zeros_like(k)
    if instrument == "marimba":
        return np.array([1.0, 3.9, 9.2]), np.array([1.0, 0.35, 0.12]), np.array([5.0, 14.0, 30.0])
    return np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.12, 0.04]), np.zeros(3)


def _note_samples(note: Note, instrument: str, sr: int, rng: np.random.Generator) -> np.ndarray:
    """One note, release included, amplitude proportional to ``velocity / 127``."""
    sounding = note.end - note.start
    shape = ENVELOPES[instrument]
    t = np.arange(int(np.ceil((sounding + shape[3]) * sr))) / sr
    freq = 440.0 * 2.0 ** ((note.pitch - 69) / 12)
    velocity = note.velocity / 127
    ratios, amps, rates = _recipe(instrument, velocity, freq)
    keep = ratios * freq < 0.45 * sr
    # Unit power per note (a full-scale sine's), so timbres at one velocity are equally loud.
    amps = amps[keep] / np.sqrt(2 * np.sum(amps[keep] ** 2))
    ratios, rates = ratios[keep], rates[keep]
    vibrato = {"strings": 0.004, "flute": 0.003}.get(instrument, 0.0)
    phase = _phase(t, freq, sr, vibrato)
    weights = amps[:, None] * np.exp(-rates[:, None] * t[None, :]) if rates.any() else amps[:, None]
    signal = (weights * np.sin(ratios[:, None] * phase[None, :])).sum(axis=0)
    if instrument == "flute":  # breath: smoothed noise, strongest while the note speaks
        breath = np.convolve(rng.standard_normal(len(t)), np.ones(8) / 8, mode="same")
        signal += breath * (0.02 + 0.1 * np.exp(-t / 0.06))
    return velocity * _adsr(t, sounding, shape) * signal


def _builtin(piece: Piece, sr: int) -> np.ndarray:
    out = np.zeros(int(round((piece.duration + TAIL_SECONDS) * sr)))
    rng = np.random.default_rng(piece.seed)
    for note in piece.notes:
        samples = _note_samples(note, piece.params.instrument, sr, rng)
        start = int(round(note.start * sr))
        samples = samples[: max(len(out) - start, 0)]
        out[start : start + len(samples)] += VOICE_GAIN[note.voice] * samples
    return MASTER_GAIN * out


def _soundfont() -> Path | None:
    candidates = [os.environ.get(SOUNDFONT_ENV, ""), *SOUNDFONT_PATHS]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def fluidsynth_available() -> tuple[str, Path] | None:
    """``(fluidsynth executable, soundfont)`` when both are installed, else None."""
    executable, soundfont = shutil.which("fluidsynth"), _soundfont()
    return (executable, soundfont) if executable and soundfont else None


def _fluidsynth(piece: Piece, sr: int, executable: str, soundfont: Path) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        midi, wav = Path(tmp) / "piece.mid", Path(tmp) / "piece.wav"
        piece.to_midi(midi)
        command = [executable, "-ni", "-g", "0.5", "-r", str(sr), "-T", "wav", "-O", "s16"]
        command += ["-F", str(wav), str(soundfont), str(midi)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not wav.is_file():
            raise RuntimeError(f"fluidsynth failed ({result.returncode}): {result.stderr.strip()}")
        audio, _ = read_wav(wav)
    length = int(round((piece.duration + TAIL_SECONDS) * sr))
    return np.pad(audio[:length], (0, max(length - len(audio), 0)))


def render(piece: Piece, sample_rate: int = 22050, backend: str = "auto") -> np.ndarray:
    """Audio of ``piece``: mono float32 in [-1, 1], ``duration + TAIL_SECONDS`` long.

    Args:
        piece: from :func:`toolkit.music.composer.compose`.
        sample_rate: samples per second.
        backend: ``"builtin"`` (numpy synthesizer), ``"fluidsynth"`` (error when missing) or
            ``"auto"`` (FluidSynth when installed, else builtin with a one-time notice).

    Raises:
        TypeError: ``piece`` is not a :class:`~toolkit.music.composer.Piece`, or
            ``sample_rate`` is not an int, or ``backend`` not a str.
        ValueError: unknown backend, or a sample rate outside [1000, 384000] Hz.
        RuntimeError: ``backend="fluidsynth"`` without FluidSynth or a soundfont (the message
            says what to install), or FluidSynth failing.
    """
    global _notified
    if not isinstance(piece, Piece):
        raise TypeError(f"piece must be a Piece from compose(), got {describe(piece)}")
    sample_rate = check_int(
        "sample_rate", sample_rate, minimum=MIN_SAMPLE_RATE, maximum=MAX_SAMPLE_RATE
    )
    check_choice("backend", check_str("backend", backend), BACKENDS)
    found = None if backend == "builtin" else fluidsynth_available()
    if backend == "fluidsynth" and found is None:
        raise RuntimeError(
            f"backend='fluidsynth' needs the fluidsynth program and a soundfont: {INSTALL_HINT}"
        )
    if found is not None:
        audio = _fluidsynth(piece, sample_rate, *found)
    else:
        if backend == "auto" and not _notified:
            _notified = True
            warnings.warn(
                f"FluidSynth not found, using the built-in synthesizer; {INSTALL_HINT}",
                stacklevel=2,
            )
        audio = _builtin(piece, sample_rate)
    peak = float(np.max(np.abs(audio), initial=0.0))
    if peak > PEAK:
        audio = audio * (PEAK / peak)
    return audio.astype(np.float32)


def write_wav(audio: np.ndarray, path: str | Path, sample_rate: int) -> Path:
    """Write audio in [-1, 1] as 16-bit PCM (values beyond are clipped); returns the path.

    ``audio`` is mono ``(samples,)`` or ``(samples, channels)`` with one or two channels.
    Everything is checked before the file is touched, and the file is written under a
    temporary name and then renamed, so a failure never leaves a partial or empty file (nor
    replaces an existing one).

    Raises:
        TypeError: ``audio`` is not floating point (see :func:`check_audio`), ``path`` is not
            a path, or ``sample_rate`` is not an int.
        ValueError: ``audio`` empty, of the wrong shape, or with a NaN or infinite sample
            (named by index); ``sample_rate`` outside [1, 384000].
        FileNotFoundError: the directory of ``path`` does not exist.
    """
    x = check_audio(audio, stereo=True)
    path = check_path("path", path)
    sample_rate = check_int("sample_rate", sample_rate, minimum=1, maximum=MAX_SAMPLE_RATE)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"path: directory {path.parent} does not exist")
    pcm = np.round(np.clip(x, -1.0, 1.0) * 32767).astype("<i2")
    tmp = tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False)
    try:
        with tmp, wave.open(tmp, "wb") as f:
            f.setnchannels(1 if x.ndim == 1 else x.shape[1])
            f.setsampwidth(2)
            f.setframerate(sample_rate)
            f.writeframes(pcm.tobytes())
        os.replace(tmp.name, path)
    except BaseException:
        Path(tmp.name).unlink(missing_ok=True)
        raise
    return path


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """A 16- or 32-bit PCM wav as mono float32 in [-1, 1] (channels averaged), and its rate.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not a PCM wav (the message names the file), or uses
            another sample width.
    """
    path = check_path("path", path)
    try:
        with wave.open(str(path), "rb") as f:
            width, channels, rate = f.getsampwidth(), f.getnchannels(), f.getframerate()
            frames = f.readframes(f.getnframes())
    except (wave.Error, EOFError) as error:
        raise ValueError(f"{path}: not a PCM wav file ({error or 'truncated'})") from None
    if width not in (2, 4):
        raise ValueError(f"{path}: only 16- and 32-bit PCM is supported, got {8 * width}-bit")
    data = np.frombuffer(frames, dtype=f"<i{width}").astype(np.float64) / 2 ** (8 * width - 1)
    return data.reshape(-1, channels).mean(axis=1).astype(np.float32), rate


def audio_player(audio: np.ndarray, sample_rate: int) -> Audio:
    """An ``IPython.display.Audio`` widget playing mono ``audio`` as is (no normalization);
    checked as :func:`write_wav` checks it."""
    from IPython.display import Audio

    x = check_audio(audio)
    sample_rate = check_int("sample_rate", sample_rate, minimum=1, maximum=MAX_SAMPLE_RATE)
    return Audio(x, rate=sample_rate, normalize=False)
