"""Bins of the spurious variable Z for the MMD penalty.

A continuous Z (length in tokens or sentences) is cut into ``n_bins`` bins, either of equal
width over its range or at its quantiles (equal counts); the paper (arXiv 2501.09620) uses
10, 20 or 30 bins for length without saying which scheme, so both are offered. A
categorical Z (a topic, a demographic group, sycophantic or not) is used as is: one bin per
value, numbered in sorted order.

A Z that takes one value only (a constant, or one category) gives one bin, with a warning:
the MMD penalty needs two bins and is 0 on such data.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Hashable, Sequence

import numpy as np

from toolkit._checks import check_choice, check_int, describe

SCHEMES = ("equal_width", "quantile")


def _check(values: Sequence, name: str) -> list:
    """A non-empty sequence of Z values (not a str), none missing; errors name the rows."""
    if isinstance(values, str | bytes) or not hasattr(values, "__len__"):
        raise TypeError(
            f"{name} must be a sequence of Z values, one per example, got {describe(values)}"
        )
    values = values.tolist() if hasattr(values, "tolist") else list(values)  # arrays, tensors
    if not values:
        raise ValueError(f"{name} is empty: need one Z value per example")
    missing = [i for i, v in enumerate(values) if v is None]
    if missing:
        raise ValueError(f"{name}: example(s) {missing[:10]} have no Z value (None)")
    return values


def _warn_one_bin(name: str, value: object) -> None:
    warnings.warn(
        f"{name}: every example has Z = {value!r}, so there is one bin and the MMD penalty "
        "is 0; check the Z column",
        stacklevel=3,
    )


def continuous_bins(values: Sequence[float], n_bins: int, scheme: str = "equal_width") -> list[int]:
    """Bin ids 0..n_bins−1 of continuous ``values`` (``scheme``: equal_width or quantile);
    ``n_bins`` is at most the number of values (more bins than examples leaves some empty).

    Equal-width bins are ``[e_k, e_{k+1})`` (the maximum in the last); quantile bins are
    ``(q_k, q_{k+1}]``, and where ties make quantiles coincide the distinct bins are
    renumbered 0, 1, ... with a warning (fewer bins than ``n_bins``).
    """
    values = _check(values, "values")
    n_bins = check_int("n_bins", n_bins, minimum=1, maximum=len(values))
    check_choice("scheme", scheme, SCHEMES)
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"values[{i}] must be a number, got {describe(v)}")
        if not math.isfinite(v):
            raise ValueError(f"values[{i}] is {v}: Z must be finite (no NaN or inf)")
    x = np.asarray(values, dtype=float)
    if x.min() == x.max():
        _warn_one_bin("values", values[0])
        return [0] * len(x)
    if scheme == "equal_width":
        inner = np.linspace(x.min(), x.max(), n_bins + 1)[1:-1]
        return np.searchsorted(inner, x, side="right").astype(int).tolist()
    inner = np.quantile(x, np.linspace(0, 1, n_bins + 1))[1:-1]
    ids = np.searchsorted(inner, x, side="left")
    distinct, ids = np.unique(ids, return_inverse=True)
    if len(distinct) < n_bins:
        warnings.warn(
            f"values: ties make quantiles coincide; {len(distinct)} distinct bins instead of "
            f"n_bins={n_bins}",
            stacklevel=2,
        )
    return ids.astype(int).tolist()


def categorical_bins(values: Sequence[Hashable]) -> tuple[list[int], list[object]]:
    """One bin per distinct value: ``(bin ids, the value of each bin)``.

    Values must be hashable, not NaN (NaN is unequal to itself, so each would be a bin of
    its own), and of one kind: mixing ``1`` and ``"1"`` or ``True`` and ``1`` is refused.
    """
    values = _check(values, "values")
    for i, v in enumerate(values):
        if not isinstance(v, Hashable):
            raise TypeError(f"values[{i}] must be a hashable category, got {describe(v)}")
        if isinstance(v, float) and math.isnan(v):
            raise ValueError(f"values[{i}] is NaN: a missing Z needs a category of its own")
    kinds = {type(v) for v in values}
    if len(kinds) > 1 and not all(issubclass(k, numbers.Real) and k is not bool for k in kinds):
        raise TypeError(
            f"values mix kinds of category ({sorted(k.__name__ for k in kinds)}); use one kind"
        )
    levels = sorted(set(values), key=repr)
    if len(levels) == 1:
        _warn_one_bin("values", levels[0])
    index = {v: i for i, v in enumerate(levels)}
    return [index[v] for v in values], levels
