"""Association tests: identical sets give 0, swapping flips the sign, null p-values are uniform,
the same seed gives the same numbers."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from toolkit.bias import association_test, difference_test, effect_size


def _cosines(rng, n=8, p=8, d=16):
    x, y, a, b = (rng.normal(size=(k, d)) for k in (n, n, p, p))
    x, y, a, b = (v / np.linalg.norm(v, axis=1, keepdims=True) for v in (x, y, a, b))
    return x @ a.T, x @ b.T, y @ a.T, y @ b.T


def test_identical_target_sets_give_zero():
    x_a, x_b, _, _ = _cosines(np.random.default_rng(0))
    result = association_test(x_a, x_b, x_a, x_b, n_bootstrap=50)
    assert result.effect_size == 0.0
    assert result.statistic == 0.0


def test_identical_attribute_sets_give_zero():
    x_a, _, y_a, _ = _cosines(np.random.default_rng(1))
    result = association_test(x_a, x_a, y_a, y_a, n_bootstrap=50)
    assert result.effect_size == 0.0 and result.ci_low <= 0.0 <= result.ci_high


def test_swapping_targets_or_attributes_flips_the_sign():
    x_a, x_b, y_a, y_b = _cosines(np.random.default_rng(2))
    base = association_test(x_a, x_b, y_a, y_b, n_bootstrap=0).effect_size
    swapped_targets = association_test(y_a, y_b, x_a, x_b, n_bootstrap=0).effect_size
    swapped_attributes = association_test(x_b, x_a, y_b, y_a, n_bootstrap=0).effect_size
    assert base != 0
    assert swapped_targets == pytest.approx(-base, abs=1e-12)
    assert swapped_attributes == pytest.approx(-base, abs=1e-12)


def test_effect_size_matches_caliskan_formula():
    s_x, s_y = np.array([0.3, 0.1, 0.2]), np.array([-0.1, 0.0, 0.05])
    pooled = np.concatenate([s_x, s_y])
    assert effect_size(s_x, s_y) == pytest.approx((s_x.mean() - s_y.mean()) / pooled.std(ddof=1))


def test_planted_association_is_detected():
    rng = np.random.default_rng(3)
    x_a, x_b, y_a, y_b = _cosines(rng)
    result = association_test(x_a + 0.3, x_b, y_a, y_b + 0.3, n_bootstrap=200)
    assert result.effect_size > 1.5 and result.p_value < 0.01 and result.ci_low > 0


def test_null_p_values_are_uniform_on_random_embeddings():
    p_values = [
        association_test(
            *_cosines(np.random.default_rng(seed)), n_bootstrap=0, n_permutations=2000, seed=seed
        ).p_value
        for seed in range(200)
    ]
    assert scipy_stats.kstest(p_values, "uniform").pvalue > 0.01
    assert 0.02 < np.mean(np.array(p_values) < 0.1) < 0.2


def test_small_sets_use_the_exact_test():
    x_a, x_b, y_a, y_b = _cosines(np.random.default_rng(4), n=4)
    result = association_test(x_a, x_b, y_a, y_b, n_bootstrap=0)
    assert result.exact and result.n_permutations == 70  # C(8, 4)
    assert result.p_value >= 1 / 70


def test_same_seed_same_numbers_other_seed_other_interval():
    matrices = _cosines(np.random.default_rng(5), n=12)
    first = association_test(*matrices, seed=7, n_permutations=500)
    assert association_test(*matrices, seed=7, n_permutations=500) == first
    other = association_test(*matrices, seed=8, n_permutations=500)
    assert other.effect_size == first.effect_size and other.ci_low != first.ci_low


@pytest.mark.parametrize("n", [4, 12])
def test_two_sided_is_symmetric(n):
    """Swapping X and Y gives the same two-sided p: exactly when every partition is enumerated
    (n=4), within Monte Carlo error when partitions are sampled (n=12: other draws)."""
    x_a, x_b, y_a, y_b = _cosines(np.random.default_rng(6), n=n)
    forward = association_test(x_a, x_b, y_a, y_b, alternative="two-sided", n_bootstrap=0)
    backward = association_test(y_a, y_b, x_a, x_b, alternative="two-sided", n_bootstrap=0)
    assert forward.exact == backward.exact == (n == 4)
    p = forward.p_value
    sampling_error = 0.0 if forward.exact else 4 * np.sqrt(2 * p * (1 - p) / forward.n_permutations)
    assert abs(forward.p_value - backward.p_value) <= sampling_error + 1e-12


def test_difference_test():
    rng = np.random.default_rng(0)
    x, y = rng.normal(0.5, 1, 50), rng.normal(0, 1, 50)
    result = difference_test(x, y, n_permutations=2000, seed=1)
    assert result.difference == pytest.approx(x.mean() - y.mean())
    assert result.ci_low < result.difference < result.ci_high
    assert difference_test(x, x, n_bootstrap=10).difference == 0.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_permutations": 0}, ValueError, "n_permutations"),
        ({"n_bootstrap": -1}, ValueError, "n_bootstrap"),
        ({"confidence": 1.0}, ValueError, "confidence"),
        ({"alternative": "less"}, ValueError, "alternative"),
        ({"seed": True}, TypeError, "seed"),
    ],
)
def test_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        association_test(*_cosines(np.random.default_rng(0)), **kwargs)


def test_bad_matrices():
    x_a, x_b, y_a, y_b = _cosines(np.random.default_rng(0))
    with pytest.raises(ValueError, match="one row per X target"):
        association_test(x_a[:3], x_b, y_a, y_b)
    with pytest.raises(ValueError, match="one column per A"):
        association_test(x_a[:, :3], x_b, y_a, y_b)
    bad = x_a.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"x_a has a non-finite value at \[1, 2\]"):
        association_test(bad, x_b, y_a, y_b)
    with pytest.raises(ValueError, match="non-empty 2-D"):
        association_test(np.zeros((0, 3)), x_b, y_a, y_b)
    with pytest.raises(TypeError, match="x_a"):
        association_test("abc", x_b, y_a, y_b)
    with pytest.raises(ValueError, match="at least 2 scores"):
        difference_test([1.0], [2.0, 3.0])
