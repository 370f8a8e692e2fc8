"""The widget platform's shared pieces: asset bundling, shared JS/CSS, binary encoding and
input checks."""

from __future__ import annotations

import colorsys
import re

import numpy as np
import pytest
import traitlets

import widgets
from widgets.base import (
    ASSET_DIR,
    InvalidValue,
    WidgetBase,
    bundle,
    check_choice,
    check_finite,
    check_nonnegative,
    check_number,
    check_shape,
    check_token_index,
    float32_bytes,
    from_float32_bytes,
    validated_float_array,
)

WIDGETS = [getattr(widgets, name) for name in widgets.__all__]
# A top-level declaration in an ES module: `function f`, `const X`, `let y`, `class C`.
DECLARATION = re.compile(r"^(?:async\s+)?(?:function\*?|const|let|var|class)\s+(\w+)", re.MULTILINE)
# A CSS block, and in it the sequential scale's "R G B" and each categorical hue.
BLOCK = re.compile(r"\{([^{}]*)\}")
SEQUENTIAL = re.compile(r"--rt-sequential:\s*(\d+) (\d+) (\d+);")
CATEGORY = re.compile(r"--rt-category-(\d+):\s*#([0-9a-f]{6});")


def read_asset(name: str) -> str:
    return (ASSET_DIR / name).read_text(encoding="utf-8")


def hue_degrees(rgb: tuple[int, int, int]) -> float:
    return 360 * colorsys.rgb_to_hsv(*(c / 255 for c in rgb))[0]


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


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda cls: cls.__name__)
def test_each_widget_ships_its_own_files_after_the_shared_base(widget: type) -> None:
    asset = widget._asset
    assert widget._esm == bundle(f"{asset}.js")
    assert widget._css == bundle(f"{asset}.css")
    assert re.search(r"^export default \{ render \};$", read_asset(f"{asset}.js"), re.MULTILINE)
    assert f".rt-{asset.replace('_', '-')} " in read_asset(f"{asset}.css")  # its own root class
    assert "var(--jp-ui-font-color1" in widget._css  # theme-aware, from base.css
    # Offline and deterministic: no URL but the SVG namespace, no require/import, no Math.random.
    assert not re.search(
        r"https?://(?!www\.w3\.org/2000/svg\b)|require\(|\bimport\b|Math\.random", widget._esm
    )


def test_widget_modules_reuse_base_helpers_instead_of_declaring_them_again():
    """bundle() puts base.js and a widget in one module, where a second declaration of a
    name is a SyntaxError the browser reports only when the widget fails to render."""
    base = DECLARATION.findall(read_asset("base.js"))
    assert {"svg", "niceStep", "niceTicks", "stepTicks", "categoryColor", "makePicker"} <= set(base)
    assert len(base) == len(set(base))
    for widget in WIDGETS:
        again = set(DECLARATION.findall(read_asset(f"{widget._asset}.js"))) & set(base)
        assert not again, f"{widget._asset}.js declares {sorted(again)}, which base.js declares"


def test_category_hues_stay_apart_from_the_sequential_scale_in_every_theme():
    """TrajectoryView colors tracks by category and their segments by error (sequential):
    each categorical hue is at least 45 degrees of hue away from the sequential one."""
    blocks = [b for b in BLOCK.findall(read_asset("base.css")) if SEQUENTIAL.search(b)]
    assert len(blocks) == 3  # light, JupyterLab dark, the browser's dark scheme
    count = int(re.search(r"const CATEGORY_COLORS = (\d+);", read_asset("base.js")).group(1))
    for block in blocks:
        sequential = hue_degrees(tuple(map(int, SEQUENTIAL.search(block).groups())))
        categories = dict(CATEGORY.findall(block))
        assert sorted(map(int, categories)) == list(range(count))
        for index, color in categories.items():
            hue = hue_degrees(tuple(bytes.fromhex(color)))
            apart = abs((hue - sequential + 180) % 360 - 180)
            assert apart >= 45, f"--rt-category-{index} #{color} is {apart:.0f} degrees away"


@pytest.mark.parametrize(
    ("kwargs", "value", "message"),
    [
        ({}, np.inf, r"x is inf; expected a finite number$"),
        ({"lo": 0}, -1, r"x is -1.0; expected a finite number >= 0$"),
        ({"lo": 0, "lo_open": True}, 0, r"x is 0.0; expected a finite number > 0$"),
        ({"lo": 0, "hi": 1}, 1.5, r"x is 1.5; expected a finite number in \[0, 1\]$"),
        ({"lo": 0, "hi": 1, "lo_open": True}, 0, r"expected a finite number in \(0, 1\]$"),
        ({"hi": 2.5}, 3, r"x is 3.0; expected a finite number <= 2.5$"),
        ({}, [1.0], r"x must be one number, got shape \(1,\)"),
    ],
)
def test_check_number_names_the_bounds_it_wants(kwargs: dict, value: object, message: str):
    with pytest.raises(ValueError, match=message):
        check_number(value, "x", **kwargs)


@pytest.mark.parametrize("value", ["a", None, b"1", 1j])
def test_check_number_refuses_a_non_number_as_a_type_error(value: object):
    with pytest.raises(TypeError, match="x must hold real numbers"):
        check_number(value, "x")


def test_check_number_returns_a_float_on_the_bounds():
    assert check_number(np.float32(0.5), "x", lo=0, hi=1) == 0.5
    assert type(check_number(1, "x", lo=1, hi=1)) is float
    assert check_number(np.array(-3), "x") == -3.0


def test_choice_and_token_index_checks_raise_for_callers_and_trait_validators():
    assert check_choice("kl", ["loss", "kl"], "track") == "kl"
    assert check_choice("q", {"q": 1}, "scorer") == "q"  # a mapping's keys are the options
    with pytest.raises(InvalidValue, match=r"unknown track 'x'; choose one of \['loss', 'kl'\]"):
        check_choice("x", ["loss", "kl"], "track")
    assert issubclass(InvalidValue, ValueError) and issubclass(InvalidValue, traitlets.TraitError)
    assert [check_token_index(i, 3, "selected") for i in (-1, 0, 2)] == [-1, 0, 2]
    for index in (-2, 3):
        with pytest.raises(
            InvalidValue,
            match=rf"selected must be -1 \(none\) or a token index "
            rf"in \[0, 2\], got {index}",
        ):
            check_token_index(index, 3, "selected")


def test_check_nonnegative_names_the_first_negative_value():
    check_nonnegative(np.zeros((2, 2)), "s", "singular values are >= 0")
    values = np.array([[0.0, 1.0], [-0.5, -2.0]])
    with pytest.raises(ValueError, match=r"s has a negative value \(-0.5\) at index \(1, 0\); why"):
        check_nonnegative(values, "s", "why")


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
