"""Bins of the spurious variable Z for the MMD penalty.

A continuous Z (length in tokens or sentences) is cut into ``n_bins`` bins, either of equal
width over its range or at its quantiles (equal counts); the paper (arXiv 2501.09620) uses
10, 20 or 30 bins for length without saying which scheme, so both are offered. A
categorical Z (a topic, a demographic group, sycophantic or not) is used as is: one bin per
value, numbered in sorted order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SCHEMES = ("equal_width", "quantile")


def _check(values: Sequence, name: str) -> list:
    values = list(values)
    if not values:
        raise ValueError(f"{name} is empty: need one Z value per example")
    missing = [i for i, v in enumerate(values) if v is None]
    if missing:
        raise ValueError(f"{name}: example(s) {missing[:10]} have no Z value (None)")
    return values


def continuous_bins(values: Sequence[float], n_bins: int, scheme: str = "equal_width") -> list[int]:
    """Bin ids 0..n_bins−1 of continuous ``values`` (``scheme``: equal_width or quantile)."""
    values = _check(values, "values")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    x = np.asarray(values, dtype=float)
    if not np.isfinite(x).all():
        raise ValueError("values hold NaN or inf")
    if x.min() == x.max():
        return [0] * len(x)  # a constant Z is one bin
    if scheme == "equal_width":
        edges = np.linspace(x.min(), x.max(), n_bins + 1)
    else:
        edges = np.quantile(x, np.linspace(0, 1, n_bins + 1))
    inner = edges[1:-1]
    return np.searchsorted(inner, x, side="right").astype(int).tolist()


def categorical_bins(values: Sequence[object]) -> tuple[list[int], list[object]]:
    """One bin per distinct value: ``(bin ids, the value of each bin)``."""
    values = _check(values, "values")
    levels = sorted(set(values), key=repr)
    index = {v: i for i, v in enumerate(levels)}
    return [index[v] for v in values], levels
