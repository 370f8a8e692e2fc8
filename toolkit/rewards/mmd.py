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

The estimator is the unbiased MMD² of Gretton et al. (2012, eq. 3): within-sample kernel
means exclude the diagonal, so for two samples of one distribution it is 0 in expectation
(and can be slightly negative), and it is invariant to the order of each sample.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor


def _as_samples(name: str, x: Tensor) -> Tensor:
    """(n,) or (n, d) → (n, d); at least two finite samples."""
    if not isinstance(x, Tensor) or x.dim() not in (1, 2):
        raise ValueError(f"{name} must be a (n,) or (n, d) tensor, got {getattr(x, 'shape', x)}")
    x = x[:, None] if x.dim() == 1 else x
    if x.shape[0] < 2:
        raise ValueError(f"{name} has {x.shape[0]} sample(s); the unbiased MMD² needs at least 2")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} holds NaN or inf")
    return x


def median_bandwidth(*samples: Tensor) -> Tensor:
    """σ = median of the pairwise Euclidean distances of the pooled samples (no gradient);
    1 when they are all equal, so the kernel stays defined."""
    pooled = torch.cat([_as_samples(f"sample {i}", x) for i, x in enumerate(samples)]).detach()
    distances = torch.cdist(pooled, pooled)
    upper = distances[torch.triu_indices(len(pooled), len(pooled), 1).unbind()]
    sigma = upper.median()
    return torch.where(sigma > 0, sigma, torch.ones_like(sigma))


def gaussian_kernel(a: Tensor, b: Tensor, bandwidth: Tensor | float) -> Tensor:
    """k(a_i, b_j) = exp(−‖a_i − b_j‖² / (2σ²)); (n, d) × (m, d) → (n, m)."""
    return torch.exp(-torch.cdist(a, b).square() / (2 * torch.as_tensor(bandwidth) ** 2))


def mmd2_unbiased(x: Tensor, y: Tensor, bandwidth: float | None = None) -> Tensor:
    """Unbiased MMD² between samples ``x`` (n,)/(n, d) and ``y`` (m,)/(m, d):

        1/(n(n−1)) Σ_{i≠j} k(x_i, x_j) + 1/(m(m−1)) Σ_{i≠j} k(y_i, y_j) − 2/(nm) Σ_{i,j} k(x_i, y_j)

    with a Gaussian kernel of ``bandwidth`` (default: :func:`median_bandwidth`).
    Differentiable in ``x`` and ``y``.
    """
    a, b = _as_samples("x", x), _as_samples("y", y)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x has dimension {a.shape[1]} and y {b.shape[1]}; they must match")
    if bandwidth is not None and not bandwidth > 0:
        raise ValueError(f"bandwidth must be > 0, got {bandwidth}")
    sigma = median_bandwidth(a, b) if bandwidth is None else bandwidth
    n, m = len(a), len(b)
    k_xx = gaussian_kernel(a, a, sigma)
    k_yy = gaussian_kernel(b, b, sigma)
    within_x = (k_xx.sum() - k_xx.diagonal().sum()) / (n * (n - 1))
    within_y = (k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return within_x + within_y - 2 * gaussian_kernel(a, b, sigma).mean()


def binned_mmd_penalty(
    values: Tensor, bins: Tensor, bandwidth: float | None = None, min_count: int = 2
) -> Tensor:
    """``Σ_{m<m'} MMD²(f | Z=m, f | Z=m')`` over the bins present in ``bins``.

    Args:
        values: f per example, (N,) rewards or (N, d) representations.
        bins: (N,) integer bin of Z per example.
        bandwidth: kernel bandwidth, or None for the median heuristic over all ``values``
            (one σ shared by every bin pair).
        min_count: bins with fewer examples are skipped, with a warning naming them (a
            mini-batch often misses some bins; the unbiased estimator needs 2 per bin).

    Returns:
        A scalar, 0 (with a warning) when fewer than two bins are usable.
    """
    if bins.dim() != 1 or len(bins) != len(values):
        raise ValueError(
            f"bins must be (N,) with N = {len(values)} (one per value), got {tuple(bins.shape)}"
        )
    if bins.dtype.is_floating_point or bins.dtype == torch.bool:
        raise ValueError(f"bins must hold integer bin ids, got dtype {bins.dtype}")
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
        bandwidth = median_bandwidth(values)
    groups = [values[bins == i] for i in usable]
    for i in range(len(groups)):
        for j in range(i + 1, len(groups)):
            total = total + mmd2_unbiased(groups[i], groups[j], bandwidth)
    return total
