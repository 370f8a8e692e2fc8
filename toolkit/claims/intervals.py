"""Uncertainty of a claim measured over seeds: the mean and a confidence interval.

A claim measured once per seed (a training seed, a PPO seed, a data seed) records the
per-seed values; the record keeps them, their mean, and an interval for the mean:

* ``"t"`` (the default): ``mean ± t_{(1+c)/2, n−1} · s / √n``, Student's t with the sample
  standard deviation ``s``; exact for normal per-seed values, honest (wide) for few seeds.
* ``"bootstrap"``: the percentile interval of the means of ``resamples`` resamples with
  replacement, drawn from a generator seeded with ``seed`` (the same samples always give
  the same interval). With 3–5 seeds it is narrower than the t interval: it cannot see
  spread it was not shown.

One sample gives no interval: its bounds are −inf and +inf (nothing is known about the
spread), and a claim whose ``holds_if`` needs them is *not testable here* (see
:func:`toolkit.claims.evaluate`). A non-finite sample makes the mean and both bounds NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from toolkit._checks import check_choice, check_int, check_number, describe
from toolkit.claims.jsonlines import measurement

METHODS = ("t", "bootstrap")
DEFAULT_CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 10_000


@dataclass(frozen=True)
class Interval:
    """The mean of ``samples`` and a ``confidence`` interval ``[lo, hi]`` for it."""

    mean: float
    lo: float
    hi: float
    n: int
    method: str
    confidence: float
    samples: tuple[float, ...]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["samples"] = list(self.samples)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Interval:
        return cls(**{**data, "samples": tuple(data["samples"])})

    def text(self) -> str:
        """``0.81 [0.52, 1.10]`` (bounds to 3 significant figures), ``0.81 [n = 1]`` alone."""
        if self.n < 2:
            return f"{self.mean:.4g} [n = 1: no interval]"
        return f"{self.mean:.4g} [{self.lo:.3g}, {self.hi:.3g}]"

    def describe(self) -> str:
        """``95% t interval over 3 seeds``."""
        return f"{self.confidence:.0%} {self.method} interval over {self.n} seed(s)"


def check_samples(name: str, samples: object) -> tuple[float, ...]:
    """A non-empty sequence of numbers (NaN and ±inf pass: they make the claim invalid)."""
    if isinstance(samples, str | bytes | dict) or not isinstance(samples, Sequence | np.ndarray):
        raise TypeError(f"{name} must be a list of per-seed numbers, got {describe(samples)}")
    values = tuple(measurement(f"{name}[{i}]", v) for i, v in enumerate(samples))
    if not values:
        raise ValueError(f"{name} must hold at least one per-seed value")
    return values


def interval(
    samples: Sequence[float],
    method: str = "t",
    confidence: float = DEFAULT_CONFIDENCE,
    *,
    seed: int = 0,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> Interval:
    """The mean of per-seed ``samples`` and its ``confidence`` interval by ``method``.

    >>> interval([1.0, 2.0, 3.0]).text()
    '2 [-0.484, 4.48]'
    """
    values = check_samples("samples", samples)
    check_choice("method", method, METHODS)
    check_number("confidence", confidence, minimum=0.0, maximum=1.0, strict_min=True)
    if confidence >= 1.0:
        raise ValueError(f"confidence must be below 1, got {confidence}")
    check_int("seed", seed, minimum=0)
    check_int("resamples", resamples, minimum=100)
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    if not np.isfinite(x).all():
        nan = float("nan")
        return Interval(nan, nan, nan, n, method, confidence, values)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, -math.inf, math.inf, n, method, confidence, values)
    if method == "t":
        from scipy import stats

        half = float(stats.t.ppf((1 + confidence) / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
        lo, hi = mean - half, mean + half
    else:
        rng = np.random.default_rng(seed)
        means = x[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
        lo, hi = (
            float(q) for q in np.quantile(means, [(1 - confidence) / 2, (1 + confidence) / 2])
        )
    return Interval(mean, lo, hi, n, method, confidence, values)
