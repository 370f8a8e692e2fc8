"""Distributions over options and annotator mixes: checks, the normalization policy, quotas.

**Policy for a distribution that does not sum to 1** (survey answers, a model's option
probabilities): it is *normalized with a warning*. Survey files report rounded shares that
sum to 0.99 or 1.01, and shares that leave out "don't know" answers; refusing them would
refuse real data, and silently rescaling would hide a file that is wrong in a bigger way. So
:func:`check_distribution` rescales any finite, non-negative vector with a positive sum and
emits a :class:`DistributionWarning` (a ``UserWarning``) naming the field and its sum when
the sum is off by more than :data:`SUM_TOLERANCE`. Negative, NaN or infinite entries, an
all-zero vector and a wrong length are refused (``ValueError``, naming the field).

**An annotator mix** (:func:`normalize_mix`) is relative weights, so ``{"us": 80, "gb": 15,
"sco": 5}`` and ``{"us": 0.8, ...}`` are the same mix and no warning is given. Unknown group
names, negative or non-finite weights and an all-zero mix are refused.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Collection, Mapping, Sequence

from toolkit._checks import describe

SUM_TOLERANCE = 1e-6  # |sum - 1| beyond this is normalized with a DistributionWarning


class DistributionWarning(UserWarning):
    """A distribution did not sum to 1 and was rescaled (the message names the field)."""


def _finite_nonnegative(name: str, values: Sequence[object]) -> list[float]:
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{name}[{i}] must be a number, got {describe(v)}")
        v = float(v)
        if not math.isfinite(v):
            raise ValueError(f"{name}[{i}] must be a finite number, got {v}")
        if v < 0:
            raise ValueError(f"{name}[{i}] is {v}; a probability must be >= 0")
        out.append(v)
    return out


def check_distribution(name: str, values: object, size: int | None = None) -> tuple[float, ...]:
    """``values`` as a probability vector (a tuple of floats summing to 1).

    A sum off by more than :data:`SUM_TOLERANCE` is rescaled with a
    :class:`DistributionWarning`; see the module docstring for what is refused.
    """
    if hasattr(values, "tolist"):
        values = values.tolist()
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of probabilities, got {describe(values)}")
    if size is not None and len(values) != size:
        raise ValueError(f"{name} has {len(values)} values for {size} options")
    if not values:
        raise ValueError(f"{name} is empty; give one probability per option")
    probs = _finite_nonnegative(name, values)
    total = sum(probs)
    if total <= 0:
        raise ValueError(f"{name} is all zero; give at least one option a positive probability")
    if abs(total - 1) > SUM_TOLERANCE:
        warnings.warn(
            f"{name} sums to {total:.6g}, not 1; normalized (divided by its sum)",
            DistributionWarning,
            stacklevel=3,
        )
    return tuple(p / total for p in probs)


def normalize_mix(
    mix: object, name: str = "mix", groups: Collection[str] | None = None
) -> dict[str, float]:
    """A mapping group -> weight as shares that sum to 1 (relative weights: no warning).

    ``groups`` lists the known names (default: :data:`toolkit.representation.GROUPS`);
    groups left out have share 0.
    """
    if groups is None:
        from toolkit.representation.groups import GROUPS

        groups = tuple(GROUPS)
    if not isinstance(mix, Mapping):
        raise TypeError(
            f"{name} must be a mapping group -> weight, e.g. {{'us': 0.8, 'gb': 0.15, "
            f"'sco': 0.05}}, got {describe(mix)}"
        )
    if not mix:
        raise ValueError(f"{name} is empty; give a weight to at least one of {list(groups)}")
    unknown = [g for g in mix if g not in groups]
    if unknown:
        raise ValueError(f"{name} names unknown group(s) {unknown}; the groups are {list(groups)}")
    weights = []
    for g, w in mix.items():
        if isinstance(w, bool) or not isinstance(w, numbers.Real):
            raise TypeError(f"{name}[{g!r}] must be a number, got {describe(w)}")
        w = float(w)
        if not math.isfinite(w) or w < 0:
            raise ValueError(f"{name}[{g!r}] is {w}; a mix weight must be a finite number >= 0")
        weights.append(w)
    total = sum(weights)
    if total <= 0:
        raise ValueError(
            f"{name} is all zero ({dict(mix)}); give at least one group a positive weight"
        )
    shares = dict(zip(mix, weights, strict=True))
    return {g: shares.get(g, 0.0) / total for g in groups}


def quota_counts(shares: Mapping[str, float], n: int) -> dict[str, int]:
    """``n`` split by ``shares`` (summing to 1) into whole counts: floors, then the largest
    remainders (ties in key order), so each count is within 1 of ``share * n``."""
    exact = {k: s * n for k, s in shares.items()}
    counts = {k: math.floor(v) for k, v in exact.items()}
    left = n - sum(counts.values())
    order = sorted(exact, key=lambda k: -(exact[k] - counts[k]))
    for k in order[:left]:
        counts[k] += 1
    return counts


__all__ = [
    "SUM_TOLERANCE",
    "DistributionWarning",
    "check_distribution",
    "normalize_mix",
    "quota_counts",
]
