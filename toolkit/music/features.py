"""Audio features of a rendered piece, computed from the waveform alone.

:func:`audio_features` turns mono audio into eight numbers that the crossmodal
correspondences of Spanio et al. (arXiv 2503.02823) talk about: brightness, note density,
tempo, register, pitch spread, dissonance, loudness and articulation. No score or MIDI is
used, so the same code measures the rule-based composer, MusicGen or a recording.

Audio is float with full scale 1.0 (divide 16-bit PCM by 32768 first). Every analysis
uses Hann-windowed frames of ``n = 2**round(log2(0.093 · sr))`` samples (2048 at 22.05 kHz
and 16 kHz, 4096 at 44.1 kHz) with a hop of ``n / 4``; the roughness analysis uses frames
of ``2n`` for finer frequency resolution. Frames more than 60 dB below the loudest frame
count as silent and are ignored.

Feature scales (what a notebook plots):

* ``spectral_centroid`` — Hz, ``Σ f·|X(f, t)| / Σ |X(f, t)|`` over all bins of the
  non-silent frames (a magnitude-weighted mean frequency).
* ``onset_rate`` — onsets per second of audio.
* ``tempo`` — BPM in [40, 200]: the fastest strong periodicity of the onset envelope. It
  is the rate of the pulse that the onsets make, so onsets on every eighth note of a
  60-BPM piece give 120; without periodic onsets (a held tone) the value is arbitrary.
* ``pitch_mean``, ``pitch_range`` — MIDI semitones (69 = A4 = 440 Hz): mean and 10th–90th
  percentile span of a YIN f0 estimate on voiced frames. Chords give one f0 per frame
  (their common period), not one per note.
* ``roughness`` — dimensionless in [0, 0.5): 0 for a pure tone, near 0.5 only for many
  equally loud partials all a critical-band fraction apart. Independent of gain.
* ``loudness`` — dBFS of the RMS, ``20·log10(rms)`` with full scale 1.0 (a full-scale sine
  is −3 dBFS).
* ``sustain`` — share in [0, 1] of 20 ms frames whose RMS is within 20 dB of the piece's
  95th-percentile frame: near 1 for legato (notes held into the next), lower for staccato
  (silence between short notes). Onsets alone cannot tell the two apart.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import gaussian_filter1d, median_filter
from scipy.signal import find_peaks, stft

from toolkit._checks import check_number, describe
from toolkit.music.synth import check_audio

FEATURES = (
    "spectral_centroid",
    "onset_rate",
    "tempo",
    "pitch_mean",
    "pitch_range",
    "roughness",
    "loudness",
    "sustain",
)

FRAME_SECONDS = 0.093
MIN_SECONDS = 0.5
SILENT_FRAME_DB = -60.0  # frames this far below the loudest frame are ignored
SILENCE_DBFS = -100.0  # audio whose RMS is below this is rejected as silent
SUSTAIN_FRAME_SECONDS = 0.02
SUSTAIN_WINDOW_DB = 20.0  # a frame "sounds" within this many dB of the 95th-percentile frame
TEMPO_RANGE = (40.0, 200.0)
TEMPO_PEAK_SHARE = 0.8
TEMPO_SMOOTH_SECONDS = 0.025
F0_RANGE = (50.0, 2100.0)

FLUX_FLOOR_DB = -80.0  # log-spectra are floored this far below the global spectral peak
ONSET_MEDIAN_SECONDS = 0.5  # width of the moving median of the adaptive threshold
ONSET_DELTA_RELATIVE = 0.1  # threshold above the median, as a share of the largest flux ...
ONSET_DELTA_DB = 0.5  # ... but at least this many dB of mean rise per bin
ONSET_MIN_GAP_SECONDS = 0.06

YIN_THRESHOLD = 0.15  # first dip of the normalized difference below this is the period
YIN_VOICED = 0.2  # frames whose best dip stays above this are unvoiced

MAX_PARTIALS = 20
PARTIAL_FLOOR = 0.05  # spectral peaks below this share of the frame's largest are ignored
# Sethares' parametrization of the Plomp–Levelt curve.
_D_STAR, _S1, _S2, _B1, _B2 = 0.24, 0.0207, 18.96, 3.5, 5.75
_X_PEAK = math.log(_B2 / _B1) / (_B2 - _B1)
_CURVE_PEAK = math.exp(-_B1 * _X_PEAK) - math.exp(-_B2 * _X_PEAK)


def audio_features(audio: np.ndarray, sample_rate: int) -> dict[str, float]:
    """The eight :data:`FEATURES` of mono ``audio`` sampled at ``sample_rate`` Hz.

    Raises:
        TypeError: ``sample_rate`` not a number, or ``audio`` not floating point.
        ValueError: ``sample_rate`` not positive and finite; ``audio`` not 1-D, empty,
            containing NaN or inf (the message gives the sample index), shorter than
            :data:`MIN_SECONDS` (or one analysis frame), or silent (RMS below
            :data:`SILENCE_DBFS`).
    """
    x, sr = _validated(audio, sample_rate)
    loudness = 10.0 * math.log10(float(np.mean(x**2)) + 1e-300)
    if loudness < SILENCE_DBFS:
        raise ValueError(f"audio is silent (RMS {loudness:.0f} dBFS < {SILENCE_DBFS:.0f} dBFS)")
    n = _frame_length(sr)
    hop = n // 4
    freqs, mag = _spectrogram(x, sr, n, hop)
    active = _active_frames(mag)
    flux = _spectral_flux(_spectrogram(x, sr, n, hop, lead_in=True)[1])
    frame_rate = sr / hop
    pitch_mean, pitch_range = _pitch(x, sr, n, hop, active)
    return {
        "spectral_centroid": float(np.sum(freqs * mag[active]) / np.sum(mag[active])),
        "onset_rate": _onset_count(flux, frame_rate) / (len(x) / sr),
        "tempo": _tempo(flux, frame_rate),
        "pitch_mean": pitch_mean,
        "pitch_range": pitch_range,
        "roughness": _roughness(x, sr, 2 * n),
        "loudness": loudness,
        "sustain": _sustain(x, sr),
    }


def feature_matrix(rows: Sequence[Mapping[str, float]]) -> np.ndarray:
    """Stack feature dicts into an ``(n_pieces, len(FEATURES))`` float array, columns in
    :data:`FEATURES` order. Extra keys are ignored.

    Raises:
        TypeError: ``rows`` not a sequence, a row not a mapping, or a value not a number
            (names the row and the feature).
        ValueError: no rows, a row missing a feature (names the row), or a non-finite value.
    """
    if isinstance(rows, str | Mapping) or not isinstance(rows, Sequence):
        raise TypeError(f"rows must be a sequence of feature dicts, got {describe(rows)}")
    if len(rows) == 0:
        raise ValueError("feature_matrix needs at least one feature dict")
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"feature dict {i} must be a mapping, got {describe(row)}")
        missing = [name for name in FEATURES if name not in row]
        if missing:
            raise ValueError(f"feature dict {i} is missing {missing}")
        for name in FEATURES:
            value = row[name]
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"feature dict {i} has a non-numeric {name}: {describe(value)}")
    matrix = np.array([[float(row[name]) for name in FEATURES] for row in rows])
    bad = np.argwhere(~np.isfinite(matrix))
    if bad.size:
        i, j = bad[0]
        raise ValueError(f"feature dict {i} has non-finite {FEATURES[j]} = {matrix[i, j]}")
    return matrix


def _sustain(x: np.ndarray, sr: float) -> float:
    """Share of short frames within :data:`SUSTAIN_WINDOW_DB` of the 95th-percentile one."""
    size = max(1, round(SUSTAIN_FRAME_SECONDS * sr))
    frames = x[: len(x) // size * size].reshape(-1, size)
    level = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-300)
    return float(np.mean(level >= np.percentile(level, 95) - SUSTAIN_WINDOW_DB))


def _validated(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, float]:
    sr = check_number("sample_rate", sample_rate, minimum=0.0, strict_min=True)
    x = check_audio(audio)
    needed = max(_frame_length(sr), math.ceil(MIN_SECONDS * sr))
    if x.size < needed:
        raise ValueError(
            f"audio has {x.size} samples; features need at least {needed} "
            f"({MIN_SECONDS} s and one analysis frame at {sr:g} Hz)"
        )
    return x, sr


def _frame_length(sr: float) -> int:
    return 2 ** max(6, round(math.log2(FRAME_SECONDS * sr)))


def _spectrogram(
    x: np.ndarray, sr: float, n: int, hop: int, lead_in: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Bin frequencies and ``|X|`` as ``(frames, bins)``; frame k is ``x[k·hop : k·hop + n]``.
    With ``lead_in`` the audio is first preceded by ``n / 2`` zeros, so that the first frame
    is centred on the first sample and sound at the very start can be an onset."""
    if lead_in:
        x = np.concatenate([np.zeros(n // 2), x])
    freqs, _, z = stft(
        x, fs=sr, window="hann", nperseg=n, noverlap=n - hop, boundary=None, padded=False
    )
    return freqs, np.abs(z).T


def _active_frames(mag: np.ndarray) -> np.ndarray:
    energy = np.sum(mag**2, axis=1)
    return energy >= energy.max() * 10.0 ** (SILENT_FRAME_DB / 10.0)


def _spectral_flux(mag: np.ndarray) -> np.ndarray:
    """Onset strength per frame: the mean over bins of the positive rise in dB,
    ``flux[t] = mean_f max(0, L[t, f] − L[t − 1, f])``, ``L = 20·log10 max(|X|, floor)``
    with the floor :data:`FLUX_FLOOR_DB` below the spectrogram's peak and ``L[−1] = floor``
    (the audio is preceded by silence)."""
    floor = mag.max() * 10.0 ** (FLUX_FLOOR_DB / 20.0)
    level = 20.0 * np.log10(np.maximum(mag, floor))
    silence = np.full((1, level.shape[1]), 20.0 * np.log10(floor))
    return np.maximum(np.diff(level, axis=0, prepend=silence), 0.0).mean(axis=1)


def _onset_count(flux: np.ndarray, frame_rate: float) -> int:
    """Peaks of the flux above an adaptive threshold: the moving median over
    :data:`ONSET_MEDIAN_SECONDS` plus ``δ = max(ONSET_DELTA_RELATIVE · max flux,
    ONSET_DELTA_DB)``, at least :data:`ONSET_MIN_GAP_SECONDS` apart."""
    width = max(3, int(round(ONSET_MEDIAN_SECONDS * frame_rate)) | 1)
    delta = max(ONSET_DELTA_RELATIVE * float(flux.max()), ONSET_DELTA_DB)
    threshold = median_filter(flux, size=width, mode="constant") + delta
    gap = max(1, int(round(ONSET_MIN_GAP_SECONDS * frame_rate)))
    # Zero-padded so that a peak in the first or last frame counts too.
    peaks, _ = find_peaks(np.pad(flux, 1), height=np.pad(threshold, 1), distance=gap)
    return int(peaks.size)


def _tempo(flux: np.ndarray, frame_rate: float) -> float:
    """BPM of the fastest strong periodicity of the onset envelope.

    The envelope ``e`` is the flux smoothed by a Gaussian of :data:`TEMPO_SMOOTH_SECONDS`,
    mean removed; its autocorrelation ``R(τ) = Σ_t e[t]·e[t + τ]`` is searched over lags
    ``τ`` (frames) with ``60·frame_rate / τ`` in :data:`TEMPO_RANGE`. Of the local maxima
    of ``R`` there, the shortest lag that reaches :data:`TEMPO_PEAK_SHARE` of the largest
    wins (a period and its multiples correlate about equally well), refined by a parabola
    through its neighbours.
    """
    e = gaussian_filter1d(flux, TEMPO_SMOOTH_SECONDS * frame_rate)
    e = e - e.mean()
    r = np.correlate(e, e, mode="full")[e.size - 1 :]
    lo = math.ceil(60.0 * frame_rate / TEMPO_RANGE[1])
    hi = min(math.floor(60.0 * frame_rate / TEMPO_RANGE[0]), r.size - 2)
    peaks, _ = find_peaks(r[lo - 1 : hi + 2])
    peaks = peaks + lo - 1
    if peaks.size == 0:
        peaks = np.array([lo + int(np.argmax(r[lo : hi + 1]))])
    lag = int(peaks[np.argmax(r[peaks] >= TEMPO_PEAK_SHARE * r[peaks].max())])
    lag += _parabola_offset(r[lag - 1], r[lag], r[lag + 1])
    return float(np.clip(60.0 * frame_rate / lag, *TEMPO_RANGE))


def _parabola_offset(left: float, centre: float, right: float) -> float:
    """Offset in (−0.5, 0.5) of the extremum of the parabola through three equally spaced points."""
    curvature = left - 2.0 * centre + right
    if curvature == 0.0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / curvature, -0.5, 0.5))


def _pitch(x: np.ndarray, sr: float, n: int, hop: int, active: np.ndarray) -> tuple[float, float]:
    """Mean and 10th–90th percentile range, in MIDI semitones, of YIN f0 over voiced frames.

    YIN (de Cheveigné & Kawahara 2002) on each frame with window ``W = n / 2``: the difference
    ``d(τ) = Σ_{j<W} (x_j − x_{j+τ})²``, its cumulative-mean normalization
    ``d'(τ) = d(τ) · τ / Σ_{k=1..τ} d(k)``, the period is the first dip of ``d'`` below
    :data:`YIN_THRESHOLD` (else its minimum) for ``sr / τ`` in :data:`F0_RANGE`, refined by a
    parabola. A frame is voiced when ``d'`` at the period is below :data:`YIN_VOICED`; when
    no frame is, every non-silent frame is used (the piece is unpitched and the values are
    rough). ``midi = 69 + 12·log2(f0 / 440)``.
    """
    frames = sliding_window_view(x, n)[::hop][: active.size][active]
    f0, aperiodicity = _yin(frames, sr)
    voiced = aperiodicity < YIN_VOICED
    if voiced.any():
        f0 = f0[voiced]
    midi = 69.0 + 12.0 * np.log2(f0 / 440.0)
    p10, p90 = np.percentile(midi, [10, 90])
    return float(midi.mean()), float(p90 - p10)


def _yin(frames: np.ndarray, sr: float, chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """f0 (Hz) and ``d'`` at the chosen period for each row of ``frames``."""
    n = frames.shape[1]
    w = n // 2
    tau_min = max(2, int(sr / F0_RANGE[1]))
    tau_max = min(w - 1, int(math.ceil(sr / F0_RANGE[0])))
    f0 = np.empty(len(frames))
    aperiodicity = np.empty(len(frames))
    for start in range(0, len(frames), chunk):
        block = frames[start : start + chunk]
        cmnd = _cumulative_mean_normalized_difference(block, w)
        for i, row in enumerate(cmnd):
            tau = _yin_period(row, tau_min, tau_max)
            offset = _parabola_offset(row[tau - 1], row[tau], row[tau + 1])
            f0[start + i] = sr / (tau + offset)
            aperiodicity[start + i] = row[tau]
    return f0, aperiodicity


def _cumulative_mean_normalized_difference(block: np.ndarray, w: int) -> np.ndarray:
    """``d'(τ)`` for ``τ = 0..w`` of each row; ``d(τ) = e₀ + e_τ − 2 r(τ)`` with the
    correlation ``r`` by FFT and the window energies ``e`` by cumulative sums."""
    n = block.shape[1]
    size = 2 * n
    head = np.fft.rfft(block[:, :w], size)
    full = np.fft.rfft(block, size)
    r = np.fft.irfft(np.conj(head) * full, size)[:, : w + 1]
    c = np.concatenate([np.zeros((len(block), 1)), np.cumsum(block**2, axis=1)], axis=1)
    e_tau = c[:, w : 2 * w + 1] - c[:, : w + 1]
    d = np.maximum(c[:, w : w + 1] + e_tau - 2.0 * r, 0.0)
    d[:, 0] = 0.0
    running = np.cumsum(d[:, 1:], axis=1)
    cmnd = np.ones_like(d)
    tau = np.arange(1, w + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cmnd[:, 1:] = np.where(running > 0, d[:, 1:] * tau / running, 1.0)
    return cmnd


def _yin_period(cmnd: np.ndarray, tau_min: int, tau_max: int) -> int:
    window = cmnd[tau_min : tau_max + 1]
    below = np.flatnonzero(window < YIN_THRESHOLD)
    if below.size == 0:
        return tau_min + int(np.argmin(window))
    tau = tau_min + int(below[0])
    while tau < tau_max and cmnd[tau + 1] < cmnd[tau]:
        tau += 1
    return tau


def _roughness(x: np.ndarray, sr: float, n: int) -> float:
    """Mean over non-silent frames of the Sethares (1993) sensory dissonance of the frame's
    spectral peaks, normalized to be independent of gain and of the curve's units.

    Per frame, the up-to-:data:`MAX_PARTIALS` strongest spectral peaks above
    :data:`PARTIAL_FLOOR` of the largest give partials ``(f_i, a_i)`` with ``Σ a_i = 1``;
    the dissonance is ``Σ_{i<j} a_i a_j D(f_i, f_j) / D_max`` where the Plomp–Levelt curve
    in Sethares' form is ``D = exp(−b₁ s Δf) − exp(−b₂ s Δf)``, ``Δf = |f_j − f_i|``,
    ``s = d* / (s₁ min(f_i, f_j) + s₂)``, ``d* = 0.24, s₁ = 0.0207, s₂ = 18.96, b₁ = 3.5,
    b₂ = 5.75``, and ``D_max`` its peak value (at ``s Δf = ln(b₂/b₁) / (b₂ − b₁)``).
    """
    n = min(n, x.size)
    freqs, mag = _spectrogram(x, sr, n, n // 4)
    active = _active_frames(mag)
    values = [_frame_dissonance(freqs, frame) for frame in mag[active]]
    return float(np.mean(values))


def _frame_dissonance(freqs: np.ndarray, spectrum: np.ndarray) -> float:
    peaks, _ = find_peaks(spectrum, height=PARTIAL_FLOOR * spectrum.max())
    if peaks.size < 2:
        return 0.0
    peaks = peaks[np.argsort(spectrum[peaks])[::-1][:MAX_PARTIALS]]
    log_mag = np.log(spectrum + 1e-300)
    offsets = np.array([_parabola_offset(*log_mag[p - 1 : p + 2]) for p in peaks])
    f = freqs[peaks] + offsets * (freqs[1] - freqs[0])
    a = spectrum[peaks] / spectrum[peaks].sum()
    i, j = np.triu_indices(peaks.size, k=1)
    s = _D_STAR / (_S1 * np.minimum(f[i], f[j]) + _S2)
    spread = s * np.abs(f[j] - f[i])
    curve = np.exp(-_B1 * spread) - np.exp(-_B2 * spread)
    return float(np.sum(a[i] * a[j] * curve) / _CURVE_PEAK)
