"""The widget platform's shared pieces: asset bundling, binary encoding, input checks."""

from __future__ import annotations

import re

import numpy as np
import pytest

from widgets.base import (
    ASSET_DIR,
    WidgetBase,
    bundle,
    check_finite,
    check_shape,
    float32_bytes,
    from_float32_bytes,
    validated_float_array,
)


def test_bundle_prepends_the_shared_base():
    js = bundle("token_strip.js")
    base = (ASSET_DIR / "base.js").read_text(encoding="utf-8")
    assert js.startswith(base)
    assert js.endswith((ASSET_DIR / "token_strip.js").read_text(encoding="utf-8"))
    assert not re.search(r"^\s*(import|export)\b", base, re.MULTILINE)  # declarations only


def test_subclass_assets_come_from_package_files():
    class Strip(WidgetBase):
        _asset = "token_strip"

    assert Strip()._esm == bundle("token_strip.js")
    assert Strip()._css == bundle("token_strip.css")


def test_float32_bytes_are_little_endian_and_round_trip():
    values = np.array([1.5, -2.25, 0.1])
    data = float32_bytes(values)
    assert data[:4] == np.float32(1.5).astype("<f4").tobytes()
    np.testing.assert_array_equal(from_float32_bytes(data), values.astype(np.float32))


def test_check_shape_names_the_axis_of_a_multi_dimensional_input():
    with pytest.raises(ValueError, match=r"attention has 8 values along axis 1 for 9 keys"):
        check_shape(np.zeros((9, 8)), (9, 9), "attention", ("queries", "keys"))
    check_shape(np.zeros((3, 9)), (None, 9), "attention", ("heads", "keys"))


def test_check_finite_reports_a_tuple_index_for_2d_inputs():
    values = np.zeros((2, 3))
    values[1, 2] = np.inf
    with pytest.raises(
        ValueError, match=r"scores has a non-finite value \(inf\) at index \(1, 2\)"
    ):
        check_finite(values, "scores")


def test_validated_float_array_returns_float32():
    out = validated_float_array([1, 2, 3], "x", (3,), ("tokens",))
    assert out.dtype == np.float32
    with pytest.raises(ValueError, match="could not be read as an array"):
        validated_float_array([[1, 2], [3]], "x", (2,), ("tokens",))
