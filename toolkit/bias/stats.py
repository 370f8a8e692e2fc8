"""Effect sizes, seeded permutation p-values and bootstrap intervals for association tests.

Every probe of :mod:`toolkit.bias` reduces to one of two shapes:

* an **association test** (WEAT, SEAT, the log-probability IAT): a score for each target
  item against each attribute, as four matrices ``x_a`` ``(n, p)``, ``x_b`` ``(n, q)``,
  ``y_a`` ``(m, p)``, ``y_b`` ``(m, q)``. Each target's association is
  ``s(w) = mean_a score(w, a) − mean_b score(w, b)``; the effect size is Caliskan et al.'s
  ``d = (mean_x s − mean_y s) / std_{x ∪ y} s`` (sample standard deviation), and the test
  statistic ``Σ_x s − Σ_y s`` is compared with its value over re-partitions of ``X ∪ Y`` into
  sets of the original sizes (:func:`association_test`);
* a **difference of means** of per-sample scores, e.g. the sentiment of generations for two
  groups (:func:`difference_test`).

p-values are exact when the partitions number at most ``n_permutations`` and otherwise
estimated from ``n_permutations`` seeded random partitions, as ``(1 + hits) / (1 + N)``, which
is never 0 and keeps the test valid. Confidence intervals are percentile bootstraps, seeded:
targets are resampled within ``X`` and ``Y`` and attributes within ``A`` and ``B``, so the
interval reflects the choice of words as well as the model. When every association is the
same the effect size is 0 (not 0/0).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from toolkit._checks import check_choice, check_int, check_number, describe

ALTERNATIVES = ("greater", "two-sided")
_TIE = 1e-9  # relative tolerance when a permuted statistic ties the observed one


@dataclass(frozen=True)
class AssociationResult:
    """One association test: effect size ``d``, its p-value and bootstrap interval.

    ``associations_x`` / ``associations_y`` hold ``s(w)`` of each target item (in the order
    given; ``words_x`` / ``words_y`` name them where the caller knows the words).
    ``exact`` says whether the p-value enumerated every partition; ``n_permutations`` is how
    many partitions it used.
    """

    effect_size: float
    p_value: float
    ci_low: float
    ci_high: float
    statistic: float
    associations_x: tuple[float, ...]
    associations_y: tuple[float, ...]
    exact: bool
    n_permutations: int
    alternative: str = "greater"
    words_x: tuple[str, ...] = field(default=())
    words_y: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        """Plain JSON values (for widgets and claims)."""
        return {
            "effect_size": self.effect_size,
            "p_value": self.p_value,
            "ci": [self.ci_low, self.ci_high],
            "associations_x": list(self.associations_x),
            "associations_y": list(self.associations_y),
            "words_x": list(self.words_x),
            "words_y": list(self.words_y),
        }


@dataclass(frozen=True)
class DifferenceResult:
    """``mean_x − mean_y`` of per-sample scores, a two-sided permutation p-value and a
    percentile bootstrap interval."""

    difference: float
    mean_x: float
    mean_y: float
    p_value: float
    ci_low: float
    ci_high: float


def _matrix(name: str, value: object) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 2-D array of numbers, got {describe(value)}") from None
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {array.shape}")
    if not np.isfinite(array).all():
        row, col = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(f"{name} has a non-finite value at [{row}, {col}]")
    return array


def _scores(name: str, value: object) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 1-D array of numbers, got {describe(value)}") from None
    if array.ndim != 1 or array.size < 2:
        raise ValueError(f"{name} must hold at least 2 scores, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(
            f"{name} has a non-finite value at index {int(np.argmax(~np.isfinite(array)))}"
        )
    return array


def effect_size(s_x: np.ndarray, s_y: np.ndarray) -> float:
    """Caliskan et al.'s ``d``: difference of mean associations over their pooled sample
    standard deviation; 0 when every association is the same."""
    pooled = np.concatenate([s_x, s_y])
    numerator = float(s_x.mean() - s_y.mean())
    spread = float(pooled.std(ddof=1))
    if spread <= 1e-12 * max(1.0, float(np.abs(pooled).max())):
        return 0.0
    return numerator / spread


def _partitions(n_total: int, n_x: int, n_permutations: int, rng: np.random.Generator):
    """Boolean masks ``(K, n_total)`` marking the X side of each partition, and whether they
    are all of them."""
    count = math.comb(n_total, n_x)
    if count <= n_permutations:
        masks = np.zeros((count, n_total), dtype=bool)
        for k, chosen in enumerate(itertools.combinations(range(n_total), n_x)):
            masks[k, list(chosen)] = True
        return masks, True
    keys = rng.random((n_permutations, n_total))
    order = np.argsort(keys, axis=1)[:, :n_x]
    masks = np.zeros((n_permutations, n_total), dtype=bool)
    np.put_along_axis(masks, order, True, axis=1)
    return masks, False


def _p_value(observed: float, permuted: np.ndarray, exact: bool, alternative: str) -> float:
    tol = _TIE * max(1.0, abs(observed))
    if alternative == "greater":
        hits = int((permuted >= observed - tol).sum())
    else:
        hits = int((np.abs(permuted) >= abs(observed) - tol).sum())
    if exact:
        return hits / len(permuted)
    return (1 + hits) / (1 + len(permuted))


def _check_common(n_permutations, n_bootstrap, confidence, seed, alternative):
    check_int("n_permutations", n_permutations, minimum=1)
    check_int("n_bootstrap", n_bootstrap, minimum=0)
    check_number("confidence", confidence, minimum=0.0, maximum=1.0, strict_min=True)
    if confidence >= 1.0:
        raise ValueError(f"confidence must be < 1, got {confidence}")
    check_int("seed", seed, minimum=0)
    check_choice("alternative", alternative, ALTERNATIVES)


def association_test(
    x_a: object,
    x_b: object,
    y_a: object,
    y_b: object,
    *,
    n_permutations: int = 10_000,
    n_bootstrap: int = 1_000,
    confidence: float = 0.95,
    seed: int = 0,
    alternative: str = "greater",
) -> AssociationResult:
    """The association test on score matrices (see the module docstring).

    ``x_a[i, j]`` is the score of target ``x_i`` with attribute ``a_j`` (a cosine similarity
    for WEAT, a log-probability for the IAT probe), and so on. ``alternative="greater"`` is
    Caliskan et al.'s one-sided test (X more associated with A than Y is); ``"two-sided"``
    compares ``|statistic|``. Deterministic for a given ``seed``.
    """
    x_a, x_b = _matrix("x_a", x_a), _matrix("x_b", x_b)
    y_a, y_b = _matrix("y_a", y_a), _matrix("y_b", y_b)
    if x_a.shape[0] != x_b.shape[0] or y_a.shape[0] != y_b.shape[0]:
        raise ValueError(
            f"x_a and x_b must have one row per X target (got {x_a.shape[0]} and "
            f"{x_b.shape[0]}), y_a and y_b one per Y target (got {y_a.shape[0]} and {y_b.shape[0]})"
        )
    if x_a.shape[1] != y_a.shape[1] or x_b.shape[1] != y_b.shape[1]:
        raise ValueError(
            f"x_a and y_a must have one column per A attribute (got {x_a.shape[1]} and "
            f"{y_a.shape[1]}), x_b and y_b one per B attribute (got {x_b.shape[1]} and "
            f"{y_b.shape[1]})"
        )
    _check_common(n_permutations, n_bootstrap, confidence, seed, alternative)
    n_x, n_y = x_a.shape[0], y_a.shape[0]
    if n_x + n_y < 3:
        raise ValueError(f"need at least 3 targets in X and Y together, got {n_x + n_y}")
    rng = np.random.default_rng(seed)
    s_x = x_a.mean(1) - x_b.mean(1)
    s_y = y_a.mean(1) - y_b.mean(1)
    pooled = np.concatenate([s_x, s_y])
    statistic = float(s_x.sum() - s_y.sum())
    masks, exact = _partitions(n_x + n_y, n_x, n_permutations, rng)
    total = pooled.sum()
    permuted = 2 * (masks @ pooled) - total  # Σ_X' s − Σ_Y' s for each partition X'
    p_value = _p_value(statistic, permuted, exact, alternative)
    d = effect_size(s_x, s_y)

    low = high = d
    if n_bootstrap:
        a_cols = np.concatenate([x_a, y_a])  # (n_x + n_y, p)
        b_cols = np.concatenate([x_b, y_b])
        draws = np.empty(n_bootstrap)
        for k in range(n_bootstrap):
            ix = rng.integers(0, n_x, n_x)
            iy = n_x + rng.integers(0, n_y, n_y)
            ja = rng.integers(0, a_cols.shape[1], a_cols.shape[1])
            jb = rng.integers(0, b_cols.shape[1], b_cols.shape[1])
            s = a_cols[:, ja].mean(1) - b_cols[:, jb].mean(1)
            draws[k] = effect_size(s[ix], s[iy])
        tail = (1 - confidence) / 2
        low, high = (float(v) for v in np.quantile(draws, [tail, 1 - tail]))
    return AssociationResult(
        effect_size=d,
        p_value=p_value,
        ci_low=low,
        ci_high=high,
        statistic=statistic,
        associations_x=tuple(float(v) for v in s_x),
        associations_y=tuple(float(v) for v in s_y),
        exact=exact,
        n_permutations=len(permuted),
        alternative=alternative,
    )


def difference_test(
    scores_x: object,
    scores_y: object,
    *,
    n_permutations: int = 10_000,
    n_bootstrap: int = 1_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> DifferenceResult:
    """``mean(scores_x) − mean(scores_y)`` with a two-sided permutation p-value (labels
    shuffled, seeded) and a percentile bootstrap interval (each side resampled)."""
    x, y = _scores("scores_x", scores_x), _scores("scores_y", scores_y)
    _check_common(n_permutations, n_bootstrap, confidence, seed, "two-sided")
    rng = np.random.default_rng(seed)
    observed = float(x.mean() - y.mean())
    pooled = np.concatenate([x, y])
    masks, exact = _partitions(len(pooled), len(x), n_permutations, rng)
    permuted = (masks @ pooled) / len(x) - ((~masks) @ pooled) / len(y)
    p_value = _p_value(observed, permuted, exact, "two-sided")
    low = high = observed
    if n_bootstrap:
        bx = x[rng.integers(0, len(x), (n_bootstrap, len(x)))].mean(1)
        by = y[rng.integers(0, len(y), (n_bootstrap, len(y)))].mean(1)
        tail = (1 - confidence) / 2
        low, high = (float(v) for v in np.quantile(bx - by, [tail, 1 - tail]))
    return DifferenceResult(observed, float(x.mean()), float(y.mean()), p_value, low, high)
