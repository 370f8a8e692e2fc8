"""The unbiased MMD² estimator and the binned penalty."""

import pytest
import torch

from toolkit.rewards.mmd import binned_mmd_penalty, median_bandwidth, mmd2_unbiased


def test_zero_in_expectation_for_one_distribution():
    g = torch.Generator().manual_seed(0)
    values = [
        mmd2_unbiased(torch.randn(40, generator=g), torch.randn(40, generator=g))
        for _ in range(200)
    ]
    values = torch.stack(values)
    assert abs(values.mean().item()) < 3 * values.std().item() / 200**0.5
    assert (values < 0).any(), "unbiased: it goes negative for identical distributions"


def test_grows_with_the_mean_shift():
    g = torch.Generator().manual_seed(1)
    x, noise = torch.randn(200, generator=g), torch.randn(200, generator=g)
    shifts = [mmd2_unbiased(x, noise + s, bandwidth=1.0).item() for s in (0.0, 0.5, 1.0, 2.0)]
    assert shifts == sorted(shifts) and shifts[-1] > 0.3


def test_permutation_invariant_and_matches_the_definition():
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(7, 3, generator=g), torch.randn(5, 3, generator=g) + 1
    value = mmd2_unbiased(x, y, bandwidth=0.7)
    shuffled = mmd2_unbiased(x[torch.randperm(7, generator=g)], y.flip(0), 0.7)
    assert value.item() == pytest.approx(shuffled.item(), rel=1e-5)  # float32 sums in any order

    def k(a, b):
        return torch.exp(-((a - b) ** 2).sum() / (2 * 0.7**2))

    xx = sum(k(x[i], x[j]) for i in range(7) for j in range(7) if i != j) / 42
    yy = sum(k(y[i], y[j]) for i in range(5) for j in range(5) if i != j) / 20
    xy = sum(k(x[i], y[j]) for i in range(7) for j in range(5)) / 35
    assert value.item() == pytest.approx((xx + yy - 2 * xy).item(), rel=1e-5)


def test_gradient_flows_and_median_bandwidth_is_detached():
    x = torch.randn(6, requires_grad=True)
    y = torch.randn(6) + 2
    assert not median_bandwidth(x, y).requires_grad
    mmd2_unbiased(x, y).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="at least 2"):
        mmd2_unbiased(torch.randn(1), torch.randn(4))
    with pytest.raises(ValueError, match="NaN"):
        mmd2_unbiased(torch.tensor([0.0, float("nan")]), torch.randn(4))
    with pytest.raises(ValueError, match="dimension"):
        mmd2_unbiased(torch.randn(3, 2), torch.randn(3, 4))
    with pytest.raises(ValueError, match="bandwidth"):
        mmd2_unbiased(torch.randn(3), torch.randn(3), bandwidth=0.0)


def test_penalty_sums_bin_pairs_and_warns_on_thin_bins():
    g = torch.Generator().manual_seed(3)
    values = torch.randn(9, generator=g)
    bins = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2])
    expected = sum(
        mmd2_unbiased(values[bins == a], values[bins == b], 1.0)
        for a, b in ((0, 1), (0, 2), (1, 2))
    )
    assert binned_mmd_penalty(values, bins, 1.0).item() == pytest.approx(expected.item())
    with pytest.warns(UserWarning, match=r"bins \[3\] have fewer than 2"):
        thin = binned_mmd_penalty(
            torch.cat([values, torch.zeros(1)]), torch.cat([bins, torch.tensor([3])]), 1.0
        )
    assert thin.item() == pytest.approx(expected.item())
    with pytest.warns(UserWarning, match="penalty is 0"):
        assert binned_mmd_penalty(values, torch.zeros(9, dtype=torch.long)).item() == 0.0
    with pytest.raises(TypeError, match="integer bin ids"):
        binned_mmd_penalty(values, bins.float())
    with pytest.raises(ValueError, match="one per value"):
        binned_mmd_penalty(values, bins[:5])


def test_binned_penalty_shares_one_median_bandwidth_over_all_values():
    torch.manual_seed(3)
    values = torch.cat([torch.randn(6) * 0.01, torch.randn(6) * 0.01 + 0.02, torch.randn(6) + 5])
    bins = torch.tensor([0] * 6 + [1] * 6 + [2] * 6)
    sigma = median_bandwidth(values)
    groups = [values[bins == b] for b in range(3)]
    expected = sum(
        mmd2_unbiased(groups[i], groups[j], bandwidth=sigma)
        for i in range(3)
        for j in range(i + 1, 3)
    )
    assert binned_mmd_penalty(values, bins).item() == pytest.approx(expected.item(), rel=1e-6)
