"""Bins of Z: equal-width, quantile, categorical; missing values are refused."""

import pytest

from toolkit.rewards.binning import categorical_bins, continuous_bins


def test_equal_width_and_quantile_bins():
    values = [0, 1, 2, 3, 4, 5, 6, 7, 8, 100]
    assert continuous_bins(values, 2) == [0] * 9 + [1]  # one far value takes the top half
    assert continuous_bins(values, 2, "quantile") == [0] * 5 + [1] * 5
    with pytest.warns(UserWarning, match="one bin"):
        assert continuous_bins([3, 3, 3], 2) == [0, 0, 0]
    assert max(continuous_bins(list(range(30)), 10)) == 9


def test_categorical_bins_are_sorted_levels():
    bins, levels = categorical_bins(["b", "a", "b", "c"])
    assert levels == ["a", "b", "c"] and bins == [1, 0, 1, 2]


def test_bad_z_is_refused():
    with pytest.raises(ValueError, match=r"example\(s\) \[1\] have no Z"):
        continuous_bins([1.0, None, 2.0], 2)
    with pytest.raises(ValueError, match="empty"):
        categorical_bins([])
    with pytest.raises(ValueError, match="scheme"):
        continuous_bins([1, 2], 2, "log")
    with pytest.raises(ValueError, match="NaN"):
        continuous_bins([1, float("nan")], 2)
    with pytest.raises(ValueError, match="n_bins"):
        continuous_bins([1, 2], 0)
