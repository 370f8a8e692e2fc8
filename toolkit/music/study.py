"""The notebook 03 experiments as functions: pieces per taste, the direction table, and
the audio-only taste classifier.

Spanio et al. (arXiv 2503.02823) ask whether music made for a taste is heard as that taste.
At small scale, without listeners, the question becomes: does the audio of a piece composed
for a taste move its features the way the crossmodal literature predicts
(:func:`toolkit.music.mapping.expected_directions`), and can a classifier that only hears
the audio tell the intended taste?
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from toolkit._checks import check_int, check_number, check_probability, check_str
from toolkit._checks import describe as _shown
from toolkit.music.classifier import TasteClassifier
from toolkit.music.composer import Piece, compose
from toolkit.music.features import audio_features
from toolkit.music.mapping import expected_directions, params_from_taste
from toolkit.music.synth import render
from toolkit.music.taste import TASTES, TasteProfile
from toolkit.music.text import describe, text_to_params

NEUTRAL = "neutral"
MIN_EFFECT = 0.5  # |Cohen's d| a direction needs to count as moved (a "medium" effect)


@dataclass(frozen=True)
class TastePiece:
    """One composed, rendered and measured piece: ``taste`` is a name in ``TASTES`` (at
    ``intensity``) or ``"neutral"`` (all intensities 0)."""

    taste: str
    seed: int
    intensity: float
    piece: Piece
    audio: np.ndarray
    features: dict[str, float]


def profile_of(taste: str, intensity: float = 1.0) -> TasteProfile:
    """The pure profile of ``taste``, or the neutral one for ``"neutral"``."""
    return TasteProfile() if taste == NEUTRAL else TasteProfile.pure(taste, intensity)


def taste_pieces(
    tastes: Sequence[str],
    seeds: Sequence[int],
    *,
    intensity: float = 1.0,
    bars: int = 8,
    sample_rate: int = 16000,
    progress: bool = True,
) -> list[TastePiece]:
    """Compose, render (built-in synth) and measure one piece per (taste, seed), each taste
    at ``intensity``.

    Raises:
        TypeError: ``tastes`` or ``seeds`` a str or not a sequence, a seed not an int,
            ``intensity`` not a number (``bars`` and ``sample_rate`` as in ``compose`` and
            ``render``).
        ValueError: no tastes or seeds, an unknown taste or negative seed (named by index),
            or ``intensity`` outside [0, 1].
    """
    for name, values in (("tastes", tastes), ("seeds", seeds)):
        if isinstance(values, str) or not isinstance(values, Sequence):
            raise TypeError(f"{name} must be a sequence, got {_shown(values)}")
    if not tastes or not seeds:
        raise ValueError("need at least one taste and one seed")
    for i, taste in enumerate(tastes):
        if taste != NEUTRAL and taste not in TASTES:
            raise ValueError(
                f"unknown taste {taste!r} at tastes[{i}]; choose from {TASTES} or 'neutral'"
            )
    for i, seed in enumerate(seeds):
        check_int(f"seeds[{i}]", seed, minimum=0)
    intensity = check_probability("intensity", intensity)
    jobs = [(t, s) for t in tastes for s in seeds]
    out = []
    for taste, seed in tqdm(jobs, desc="pieces", disable=not progress):
        piece = compose(params_from_taste(profile_of(taste, intensity)), seed=seed, bars=bars)
        audio = render(piece, sample_rate=sample_rate, backend="builtin")
        features = audio_features(audio, sample_rate)
        out.append(TastePiece(taste, seed, intensity, piece, audio, features))
    return out


def cohens_d(a: Sequence[float], b: Sequence[float]) -> float:
    """(mean a − mean b) / pooled standard deviation; ±inf when both samples are constant
    and differ, 0 when they are equal.

    Raises:
        TypeError: a value that is not a number.
        ValueError: fewer than two values in a group, or a NaN or infinite value (named by
            group and index).
    """
    a, b = _finite_values("a", a), _finite_values("b", b)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("Cohen's d needs at least two values per group")
    diff = a.mean() - b.mean()
    pooled = math.sqrt(
        ((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2)
    )
    if pooled == 0:
        return 0.0 if diff == 0 else math.copysign(math.inf, diff)
    return float(diff / pooled)


def _finite_values(name: str, values: Sequence[float]) -> np.ndarray:
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
        raise TypeError(f"{name} must be a sequence of numbers, got {_shown(values)}")
    return np.array([check_number(f"{name}[{i}]", v) for i, v in enumerate(values)])


def direction_table(pieces: Sequence[TastePiece], min_effect: float = MIN_EFFECT) -> list[dict]:
    """Each literature prediction against the audio: the taste's pieces vs the neutral ones.

    A prediction *holds* when the measured effect (Cohen's d, taste minus neutral, over
    seeds) has the predicted sign and ``|d| ≥ min_effect``. Predictions for tastes without
    pieces are left out.

    Raises:
        TypeError: an item of ``pieces`` that is not a :class:`TastePiece` (named by index).
        ValueError: ``min_effect`` negative or not finite, or no neutral pieces.
    """
    min_effect = check_number("min_effect", min_effect, minimum=0.0)
    for i, p in enumerate(pieces):
        if not isinstance(p, TastePiece):
            raise TypeError(f"pieces[{i}] must be a TastePiece, got {_shown(p)}")
    by_taste: dict[str, list[TastePiece]] = {}
    for p in pieces:
        by_taste.setdefault(p.taste, []).append(p)
    if NEUTRAL not in by_taste:
        raise ValueError("direction_table needs pieces of the 'neutral' profile as baseline")
    rows = []
    for taste, feature, sign, citation in expected_directions():
        if taste not in by_taste:
            continue
        values = [p.features[feature] for p in by_taste[taste]]
        baseline = [p.features[feature] for p in by_taste[NEUTRAL]]
        d = cohens_d(values, baseline)
        rows.append(
            {
                "taste": taste,
                "feature": feature,
                "expected": "+" if sign > 0 else "−",
                "neutral_mean": float(np.mean(baseline)),
                "taste_mean": float(np.mean(values)),
                "cohens_d": d,
                "holds": bool(d * sign >= min_effect),
                "source": citation,
            }
        )
    return rows


@dataclass(frozen=True)
class ClassifierResult:
    """Accuracy of the audio-only classifier on held-out seeds and its confusion matrix
    (rows: intended taste, columns: predicted; row-normalized)."""

    accuracy: float
    per_taste: dict[str, float]
    confusion: np.ndarray
    labels: list[str]


def classify_tastes(
    train: Sequence[TastePiece], test: Sequence[TastePiece], seed: int = 0
) -> ClassifierResult:
    """Fit :class:`TasteClassifier` on ``train`` features, score it on ``test`` (whose
    seeds should not overlap, so the classifier must generalize across compositions)."""
    overlap = {p.seed for p in train} & {p.seed for p in test}
    if overlap:
        raise ValueError(f"train and test share seeds {sorted(overlap)}; hold seeds out")
    model = TasteClassifier(seed=seed).fit([p.features for p in train], [p.taste for p in train])
    features, tastes = [p.features for p in test], [p.taste for p in test]
    matrix, labels = model.confusion(features, tastes)
    return ClassifierResult(
        accuracy=model.score(features, tastes),
        per_taste={label: float(matrix[i, i]) for i, label in enumerate(labels)},
        confusion=matrix,
        labels=list(labels),
    )


def taste_pipeline(
    profile: TasteProfile, text: str, seed: int, *, bars: int = 4, sample_rate: int = 16000
) -> dict:
    """Everything ``widgets.TastePlayground`` shows for one state: ``text`` (when given)
    sets the profile and its musical cues override the parameters; otherwise ``profile``
    is used as is.

    Raises:
        TypeError: ``text`` not a str (an empty one means "use ``profile``"); the rest as in
            :func:`~toolkit.music.mapping.params_from_taste` and ``compose``.
    """
    if check_str("text", text, allow_empty=True).strip():
        profile, params = text_to_params(text)
    else:
        params = params_from_taste(profile)
    piece = compose(params, seed=seed, bars=bars)
    audio = render(piece, sample_rate=sample_rate, backend="builtin")
    return {
        "profile": profile,
        "notes": [(n.pitch, n.start, n.end, n.velocity, n.voice) for n in piece.notes],
        "audio": audio,
        "sample_rate": sample_rate,
        "features": audio_features(audio, sample_rate),
        "caption": describe(profile, params),
    }
