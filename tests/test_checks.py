"""The shared argument checks: accepted values come back converted, a wrong type is a
TypeError, a wrong value a ValueError, and every message names the argument."""

import math
from pathlib import Path

import numpy as np
import pytest

from toolkit._checks import (
    check_bool,
    check_choice,
    check_int,
    check_nonempty,
    check_number,
    check_path,
    check_probability,
    check_range_pair,
    check_str,
    check_vector,
    describe,
)


@pytest.mark.parametrize(
    ("check", "given", "expected"),
    [
        (lambda v: check_bool("flag", v), True, True),
        (lambda v: check_bool("flag", v), False, False),
        (lambda v: check_int("n", v, minimum=1, maximum=3), np.int64(3), 3),
        (lambda v: check_number("x", v, minimum=0.0, strict_min=True), 2, 2.0),
        (lambda v: check_number("x", v), np.float32(0.5), 0.5),
        (lambda v: check_number("x", v, allow_inf=True), math.inf, math.inf),
        (lambda v: check_probability("p", v), 1, 1.0),
        (lambda v: check_choice("mode", v, ("a", "b")), "b", "b"),
        (lambda v: check_str("name", v), "x", "x"),
        (lambda v: check_str("name", v, allow_empty=True), "", ""),
        (lambda v: check_nonempty("rows", v), [0], [0]),
        (lambda v: check_range_pair("r", v, minimum=0), [1, 2], (1.0, 2.0)),
        (lambda v: check_vector("gain", v, 3, minimum=0.0), np.array([1, 2, 3]), (1.0, 2.0, 3.0)),
        (lambda v: check_vector("gain", v, 2), [0.5, -1], (0.5, -1.0)),
        (lambda v: check_path("path", v), "a/b.wav", Path("a/b.wav")),
        (lambda v: check_path("path", v), Path("x"), Path("x")),
    ],
)
def test_accepted_values_come_back_converted(check, given, expected):
    out = check(given)
    assert out == expected
    assert type(out) is type(expected)


@pytest.mark.parametrize(
    ("check", "given", "name"),
    [
        (lambda v: check_bool("flag", v), 1, "flag"),
        (lambda v: check_bool("flag", v), None, "flag"),
        (lambda v: check_bool("flag", v), np.bool_(True), "flag"),
        (lambda v: check_int("n", v), True, "n"),
        (lambda v: check_int("n", v), 2.0, "n"),
        (lambda v: check_int("n", v), "2", "n"),
        (lambda v: check_number("x", v), True, "x"),
        (lambda v: check_number("x", v), "1.0", "x"),
        (lambda v: check_number("x", v), None, "x"),
        (lambda v: check_probability("p", v), False, "p"),
        (lambda v: check_str("name", v), b"x", "name"),
        (lambda v: check_str("name", v), None, "name"),
        (lambda v: check_nonempty("rows", v), 3, "rows"),
        (lambda v: check_range_pair("r", v), 1.0, "r"),
        (lambda v: check_range_pair("r", v), (1, 2, 3), "r"),
        (lambda v: check_range_pair("r", v), (True, 2), r"r\[0\]"),
        (lambda v: check_vector("gain", v, 3), "abc", "gain"),
        (lambda v: check_vector("gain", v, 3), 1.0, "gain"),
        (lambda v: check_vector("gain", v, 2), [1.0, True], r"gain\[1\]"),
        (lambda v: check_path("path", v), None, "path"),
        (lambda v: check_path("path", v), 3, "path"),
    ],
)
def test_wrong_types_are_type_errors_naming_the_argument(check, given, name):
    with pytest.raises(TypeError, match=name):
        check(given)


@pytest.mark.parametrize(
    ("check", "given", "match"),
    [
        (lambda v: check_int("n", v, minimum=1), 0, "n must be >= 1, got 0"),
        (lambda v: check_int("n", v, minimum=1, maximum=3), 4, "n must be >= 1 and <= 3"),
        (lambda v: check_int("n", v, maximum=3), 4, "n must be <= 3"),
        (lambda v: check_number("x", v), math.nan, "x must be a finite number"),
        (lambda v: check_number("x", v, allow_inf=True), math.nan, "x must be a finite"),
        (lambda v: check_number("x", v), math.inf, "x must be a finite number"),
        (lambda v: check_number("x", v, minimum=0.0, strict_min=True), 0.0, "x must be > 0.0"),
        (lambda v: check_number("x", v, minimum=0.0), -1e-9, "x must be >= 0.0"),
        (lambda v: check_probability("p", v), 1.5, "p must be >= 0.0 and <= 1.0"),
        (lambda v: check_probability("p", v), math.nan, "p must be a finite"),
        (lambda v: check_choice("mode", v, ("a", "b")), "c", "mode must be one of 'a', 'b'"),
        (lambda v: check_choice("mode", v, {"a"}), ["a"], "mode must be one of"),
        (lambda v: check_str("name", v), "  ", "name must not be empty"),
        (lambda v: check_nonempty("rows", v), [], "rows must not be empty"),
        (lambda v: check_range_pair("r", v), (2, 1), "r must have low <= high"),
        (lambda v: check_range_pair("r", v, minimum=0), (-1, 1), r"r\[0\] must be >= 0"),
        (lambda v: check_range_pair("r", v), (0, math.nan), r"r\[1\] must be a finite"),
        (lambda v: check_vector("gain", v, 3), [1.0, 2.0], "gain must hold 3 numbers, got 2"),
        (lambda v: check_vector("gain", v, 2, minimum=0.0), [1, -1], r"gain\[1\] must be >= 0"),
        (lambda v: check_vector("gain", v, 1, minimum=0, strict_min=True), [0], r"gain\[0\]"),
        (lambda v: check_vector("gain", v, 2), [1.0, math.nan], r"gain\[1\] must be a finite"),
        (lambda v: check_path("path", v), " ", "path must not be empty"),
    ],
)
def test_wrong_values_are_value_errors_saying_what_is_expected(check, given, match):
    with pytest.raises(ValueError, match=match):
        check(given)


def test_describe_shows_the_type_and_shortens_long_values():
    assert describe(2.5) == "2.5 (float)"
    long = describe("x" * 100)
    assert long.endswith("... (str)") and len(long) < 80
