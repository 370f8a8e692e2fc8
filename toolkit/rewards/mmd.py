"""Maximum mean discrepancy between the reward distributions of the bins of a spurious Z.

Wang et al. (arXiv 2501.09620, §3) regularize a reward model towards counterfactual
invariance through its necessary condition ``f(T) ⊥ Z``: with Z split into bins
``m = 1..M``, the penalty is ``Σ_{m<m'} MMD(p_m, p_m')`` between the distributions of f in
each pair of bins. The paper names a Gaussian kernel without a bandwidth; the default here
is the median heuristic (the median pairwise distance of the pooled samples, detached), and
``bandwidth=`` fixes one. :func:`binned_mmd_penalty` takes one σ for all its bin pairs, from
every value it is given: a σ from each pair's own samples would follow the spread inside
the bins, and when that spread is small (chosen rewards alike) the kernel turns so sharp
that the penalty's gradient swamps the preference loss.

Two estimators of MMD² (Gretton et al. 2012, eqs. 3 and 5), with ``k̄_xx`` the mean of
``k(x_i, x_j)`` over ``i ≠ j`` and ``k̄_xy`` the mean over all pairs:

* unbiased (U-statistic, the default): ``k̄_xx + k̄_yy − 2 k̄_xy``. Within-sample means leave
  out the diagonal ``k(x_i, x_i) = 1``, so for two samples of one distribution it is 0 in
  expectation and *negative* about half the time: it is an estimate of a quantity ≥ 0, not
  a squared norm. A loss with this penalty can therefore go below the preference loss.
* biased (V-statistic): ``‖μ̂_x − μ̂_y‖² ≥ 0`` in the kernel's feature space, the means over
  all pairs, diagonal included. It equals the unbiased estimate plus
  ``(1 − k̄_xx)/n + (1 − k̄_yy)/m``, a positive bias of order ``1/n`` that does not vanish
  when the distributions agree. It needs one sample per side, the unbiased one two.

Both are invariant to the order of each sample and differentiable in the samples.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from toolkit._checks import check_choice, check_int, check_number, describe

ESTIMATORS = ("unbiased", "biased")
MIN_SAMPLES = {"unbiased": 2, "biased": 1}


def _as_samples(name: str, x: Tensor, minimum: int = 2) -> Tensor:
    """(n,) or (n, d) floating tensor → (n, d); at least ``minimum`` finite samples, d ≥ 1."""
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {_tensor_text(x)}")
    if x.dim() not in (1, 2) or (x.dim() == 2 and x.shape[1] == 0):
        raise ValueError(f"{name} must be a (n,) or (n, d ≥ 1) tensor, got {tuple(x.shape)}")
    x = x[:, None] if x.dim() == 1 else x
    if x.shape[0] < minimum:
        raise ValueError(f"{name} has {x.shape[0]} sample(s); this MMD² needs at least {minimum}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} holds NaN or inf")
    return x


def _tensor_text(x: object) -> str:
    return f"a {x.dtype} tensor" if isinstance(x, Tensor) else describe(x)


def _check_bandwidth(bandwidth: Tensor | float | None) -> None:
    """None, a finite number > 0, or a one-element tensor holding one (what
    :func:`median_bandwidth` returns)."""
    if bandwidth is None:
        return
    if isinstance(bandwidth, Tensor):
        if bandwidth.numel() != 1 or not bandwidth.is_floating_point():
            raise TypeError(f"bandwidth must be a number, got {_tensor_text(bandwidth)}")
        bandwidth = bandwidth.item()
    check_number("bandwidth", bandwidth, minimum=0.0, strict_min=True)


def median_bandwidth(*samples: Tensor) -> Tensor:
    """σ = median of the pairwise Euclidean distances of the pooled samples (no gradient);
    1 when they are all equal, so the kernel stays defined."""
    if not samples:
        raise ValueError("median_bandwidth needs at least one sample tensor")
    pooled = torch.cat(
        [_as_samples(f"sample {i}", x, minimum=1) for i, x in enumerate(samples)]
    ).detach()
    if len(pooled) < 2:
        return pooled.new_ones(())
    distances = torch.cdist(pooled, pooled)
    upper = distances[torch.triu_indices(len(pooled), len(pooled), 1).unbind()]
    sigma = upper.median()
    return torch.where(sigma > 0, sigma, torch.ones_like(sigma))


def gaussian_kernel(a: Tensor, b: Tensor, bandwidth: Tensor | float) -> Tensor:
    """k(a_i, b_j) = exp(−‖a_i − b_j‖² / (2σ²)); (n, d) × (m, d) → (n, m). No checks: the
    MMD functions check σ > 0 and the samples once."""
    return torch.exp(-torch.cdist(a, b).square() / (2 * torch.as_tensor(bandwidth) ** 2))


def _mmd2(a: Tensor, b: Tensor, sigma: Tensor | float, estimator: str) -> Tensor:
    """MMD² of checked (n, d) and (m, d) samples (see the module docstring)."""
    k_xx, k_yy = gaussian_kernel(a, a, sigma), gaussian_kernel(b, b, sigma)
    cross = 2 * gaussian_kernel(a, b, sigma).mean()
    if estimator == "biased":
        return (k_xx.mean() + k_yy.mean() - cross).clamp(min=0)  # ≥ 0 up to rounding
    n, m = len(a), len(b)
    within_x = (k_xx.sum() - k_xx.diagonal().sum()) / (n * (n - 1))
    within_y = (k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return within_x + within_y - cross


def _checked_mmd2(x: Tensor, y: Tensor, bandwidth, estimator: str) -> Tensor:
    a = _as_samples("x", x, MIN_SAMPLES[estimator])
    b = _as_samples("y", y, MIN_SAMPLES[estimator])
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x has dimension {a.shape[1]} and y {b.shape[1]}; they must match")
    if a.dtype != b.dtype or a.device != b.device:
        raise ValueError(
            f"x is {a.dtype} on {a.device} and y {b.dtype} on {b.device}; they must match"
        )
    _check_bandwidth(bandwidth)
    sigma = median_bandwidth(a, b) if bandwidth is None else bandwidth
    return _mmd2(a, b, sigma, estimator)


def mmd2_unbiased(x: Tensor, y: Tensor, bandwidth: Tensor | float | None = None) -> Tensor:
    """Unbiased MMD² between samples ``x`` (n,)/(n, d) and ``y`` (m,)/(m, d), n, m ≥ 2:

        1/(n(n−1)) Σ_{i≠j} k(x_i, x_j) + 1/(m(m−1)) Σ_{i≠j} k(y_i, y_j) − 2/(nm) Σ_{i,j} k(x_i, y_j)

    with a Gaussian kernel of ``bandwidth`` (default: :func:`median_bandwidth`). Can be
    negative (see the module docstring); :func:`mmd2_biased` cannot.
    """
    return _checked_mmd2(x, y, bandwidth, "unbiased")


def mmd2_biased(x: Tensor, y: Tensor, bandwidth: Tensor | float | None = None) -> Tensor:
    """Biased (V-statistic) MMD² between samples ``x`` (n,)/(n, d) and ``y`` (m,)/(m, d):

        1/n² Σ_{i,j} k(x_i, x_j) + 1/m² Σ_{i,j} k(y_i, y_j) − 2/(nm) Σ_{i,j} k(x_i, y_j)

    over all pairs, diagonal included: ``‖μ̂_x − μ̂_y‖² ≥ 0``, defined from n, m ≥ 1.
    """
    return _checked_mmd2(x, y, bandwidth, "biased")


def binned_mmd_penalty(
    values: Tensor,
    bins: Tensor,
    bandwidth: Tensor | float | None = None,
    min_count: int = 2,
    estimator: str = "unbiased",
) -> Tensor:
    """``Σ_{m<m'} MMD²(f | Z=m, f | Z=m')`` over the bins present in ``bins``.

    Args:
        values: f per example, (N,) rewards or (N, d) representations.
        bins: (N,) integer bin of Z per example, ≥ 0.
        bandwidth: kernel bandwidth, or None for the median heuristic over all ``values``
            (one σ shared by every bin pair).
        min_count: bins with fewer examples are skipped, with a warning naming them (a
            mini-batch often misses some bins); at least 2 for the unbiased estimator.
        estimator: ``"unbiased"`` (can be negative) or ``"biased"`` (≥ 0); see the module
            docstring.

    Returns:
        A scalar, 0 (with a warning) when fewer than two bins are usable.
    """
    check_choice("estimator", estimator, ESTIMATORS)
    min_count = check_int("min_count", min_count, minimum=MIN_SAMPLES[estimator])
    samples = _as_samples("values", values, minimum=0)
    if not isinstance(bins, Tensor):
        raise TypeError(f"bins must be a (N,) integer tensor, got {describe(bins)}")
    if bins.dtype.is_floating_point or bins.dtype.is_complex or bins.dtype == torch.bool:
        raise TypeError(f"bins must hold integer bin ids, got dtype {bins.dtype}")
    if bins.dim() != 1 or len(bins) != len(values):
        raise ValueError(
            f"bins must be (N,) with N = {len(values)} (one per value), got {tuple(bins.shape)}"
        )
    if len(bins) and int(bins.min()) < 0:
        row = int((bins < 0).nonzero()[0])
        raise ValueError(f"bins[{row}] = {int(bins[row])}: bin ids must be >= 0")
    _check_bandwidth(bandwidth)
    ids, counts = bins.unique(return_counts=True)
    small = [int(i) for i, c in zip(ids, counts, strict=True) if c < min_count]
    if small:
        warnings.warn(
            f"MMD penalty: bins {small} have fewer than {min_count} examples here; skipped",
            stacklevel=2,
        )
    usable = [int(i) for i, c in zip(ids, counts, strict=True) if c >= min_count]
    total = values.new_zeros(())
    if len(usable) < 2:
        warnings.warn(
            f"MMD penalty: {len(usable)} usable bin(s) ({usable}); the penalty is 0 "
            "(all examples in one bin carry no independence signal)",
            stacklevel=2,
        )
        return total
    if bandwidth is None:
        bandwidth = median_bandwidth(samples)
    groups = [samples[bins == i] for i in usable]
    for i in range(len(groups)):
        for j in range(i + 1, len(groups)):
            total = total + _mmd2(groups[i], groups[j], bandwidth, estimator)
    return total
