"""Which taste was a piece written for? A classifier on :mod:`toolkit.music.features`.

If the crossmodal rules leave a trace in the audio, a plain linear model recovers the
intended taste from the seven features well above chance. Human listeners are the yardstick:
Wang et al. (2016) report that people matched sweet music to sweet 56.9 % of the time and
bitter to bitter 31.4 %, against a chance of 25 % with four tastes to choose from
(:data:`HUMAN_RECOGNITION`, :data:`CHANCE`).

The model is ``StandardScaler → LogisticRegression`` (multinomial, L2 with strength
``1 / C``): ``p(taste | x) = softmax(W·z + b)`` with ``z`` the standardized feature vector.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from toolkit._checks import check_int, check_number, describe
from toolkit.music.features import feature_matrix
from toolkit.music.taste import TASTES

HUMAN_RECOGNITION = {"sweet": 0.569, "bitter": 0.314}
CHANCE = 1 / 4  # Wang et al. (2016) offered four tastes: sweet, sour, bitter, salty


class TasteClassifier:
    """Predicts a taste from a feature dict of :func:`toolkit.music.features.audio_features`.

    Args:
        seed: ``random_state`` of the logistic regression (results are deterministic).
        C: inverse L2 regularization strength, a finite number > 0.

    Raises:
        TypeError: ``seed`` not an int or ``C`` not a number.
        ValueError: a negative ``seed``, or ``C`` not positive and finite.
    """

    def __init__(self, seed: int = 0, C: float = 1.0) -> None:
        self.seed = check_int("seed", seed, minimum=0, maximum=2**32 - 1)
        self.C = check_number("C", C, minimum=0.0, strict_min=True)
        self._model: Pipeline | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        """Tastes seen in :meth:`fit`, in :data:`~toolkit.music.taste.TASTES` order."""
        classes = set(self._fitted().classes_)
        return tuple(t for t in TASTES if t in classes)

    def fit(
        self, features: Sequence[Mapping[str, float]], tastes: Sequence[str]
    ) -> TasteClassifier:
        """Fit on one feature dict per piece and the taste each was written for.

        A failed fit leaves an earlier fitted model as it was.

        Raises:
            TypeError: ``tastes`` not a sequence of str, or malformed ``features`` (see
                :func:`~toolkit.music.features.feature_matrix`).
            ValueError: lengths differ, an unknown taste, or fewer than two distinct tastes.
        """
        x, y = _checked(features, tastes)
        if len(set(y)) < 2:
            raise ValueError(f"fit needs at least two distinct tastes, got {sorted(set(y))}")
        model = make_pipeline(
            StandardScaler(),
            LogisticRegression(C=self.C, max_iter=1000, random_state=self.seed),
        )
        self._model = model.fit(x, y)
        return self

    def predict(self, features: Sequence[Mapping[str, float]]) -> list[str]:
        return [str(t) for t in self._fitted().predict(feature_matrix(features))]

    def score(self, features: Sequence[Mapping[str, float]], tastes: Sequence[str]) -> float:
        """Accuracy: the share of pieces whose predicted taste is the intended one."""
        x, y = _checked(features, tastes)
        return float(np.mean(self._fitted().predict(x) == np.asarray(y)))

    def confusion(
        self, features: Sequence[Mapping[str, float]], tastes: Sequence[str]
    ) -> tuple[np.ndarray, tuple[str, ...]]:
        """Row-normalized confusion matrix and its labels (:attr:`labels`, both axes).

        ``matrix[i, j]`` is the share of pieces written for ``labels[i]`` that were predicted
        as ``labels[j]``; each row with pieces sums to 1, a row with none is NaN. The
        diagonal is the per-taste recognition rate, comparable with
        :data:`HUMAN_RECOGNITION`.

        Raises:
            ValueError: as :meth:`score`, or a taste the classifier was not fitted on.
        """
        x, y = _checked(features, tastes)
        labels = self.labels
        unseen = sorted(set(y) - set(labels))
        if unseen:
            raise ValueError(f"taste(s) {unseen} were not among the fitted tastes {labels}")
        index = {t: i for i, t in enumerate(labels)}
        counts = np.zeros((len(labels), len(labels)))
        for true, predicted in zip(y, self._fitted().predict(x), strict=True):
            counts[index[true], index[str(predicted)]] += 1
        totals = counts.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore"):
            return counts / totals, labels

    def _fitted(self) -> Pipeline:
        if self._model is None:
            raise ValueError("TasteClassifier is not fitted; call fit first")
        return self._model


def _checked(
    features: Sequence[Mapping[str, float]], tastes: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    x = feature_matrix(features)
    if isinstance(tastes, str) or not isinstance(tastes, Sequence):
        raise TypeError(f"tastes must be a sequence of taste names, got {describe(tastes)}")
    if len(x) != len(tastes):
        raise ValueError(f"{len(x)} feature dicts but {len(tastes)} tastes")
    for i, taste in enumerate(tastes):
        if taste not in TASTES:
            raise ValueError(f"unknown taste {taste!r} at tastes[{i}]; choose from {TASTES}")
    return x, list(tastes)
