"""Argument checks shared by the whole toolkit: one home, one policy.

Every public entry point validates its arguments with these before it does any work, so a
mistake surfaces where it was made, in words that name the argument:

* a value of the wrong *type* raises ``TypeError`` ("N must be an int, got 2.5 (float)");
* a value of the right type but out of range, non-finite, empty or not among the options
  raises ``ValueError`` ("mass must be > 0, got -1.0").

``bool`` is never accepted where a number is expected (``True`` is an ``int`` in Python, but
``n_steps=True`` is a mistake, not a one). Each check returns the value it checked, converted
to the plain Python type, so it can be used inline: ``self.n = check_int("n", n, minimum=1)``.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Collection, Sized
from pathlib import Path

__all__ = [
    "describe",
    "check_bool",
    "check_int",
    "check_number",
    "check_probability",
    "check_choice",
    "check_str",
    "check_nonempty",
    "check_range_pair",
    "check_vector",
    "check_path",
]


def describe(value: object) -> str:
    """``repr`` of ``value`` with its type, shortened: what an error message shows."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _bounds_text(minimum, maximum, strict_min: bool) -> str:
    low = f"> {minimum}" if strict_min else f">= {minimum}"
    if minimum is not None and maximum is not None:
        return f"{low} and <= {maximum}"
    if minimum is not None:
        return low
    return f"<= {maximum}"


def check_bool(name: str, value: object) -> bool:
    """``True`` or ``False`` (not 0/1, not None, not a NumPy bool)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {describe(value)}")
    return value


def check_int(
    name: str, value: object, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """An integer (Python or NumPy, not bool) in ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {describe(value)}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {_bounds_text(minimum, maximum, False)}, got {value}")
    return value


def check_number(
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
    allow_inf: bool = False,
) -> float:
    """A finite real number (not bool) with ``minimum <= value <= maximum``.

    ``strict_min=True`` asks for ``value > minimum`` (for scales, masses, step sizes);
    ``allow_inf=True`` lets ``±inf`` through (NaN never is).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {describe(value)}")
    value = float(value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(f"{name} must be a finite number, got {value}")
    too_low = minimum is not None and (value <= minimum if strict_min else value < minimum)
    if too_low or (maximum is not None and value > maximum):
        raise ValueError(
            f"{name} must be {_bounds_text(minimum, maximum, strict_min)}, got {value}"
        )
    return value


def check_probability(name: str, value: object) -> float:
    """A number in ``[0, 1]``."""
    return check_number(name, value, minimum=0.0, maximum=1.0)


def check_choice(name: str, value: object, options: Collection[object]) -> object:
    """``value`` is one of ``options``; the error lists them."""
    try:
        known = value in options
    except TypeError:  # an unhashable value looked up in a set or dict
        known = False
    if not known:
        listed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {listed}; got {describe(value)}")
    return value


def check_str(name: str, value: object, *, allow_empty: bool = False) -> str:
    """A ``str`` (not bytes, not None); non-blank unless ``allow_empty``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {describe(value)}")
    if not allow_empty and not value.strip():
        raise ValueError(f"{name} must not be empty or blank, got {value!r}")
    return value


def check_nonempty(name: str, value: Sized) -> Sized:
    """A sized collection with at least one element."""
    if not isinstance(value, Sized):
        raise TypeError(f"{name} must be a sequence, got {describe(value)}")
    if len(value) == 0:
        raise ValueError(f"{name} must not be empty")
    return value


def check_range_pair(name: str, value: object, *, minimum: float | None = None) -> tuple:
    """A ``(low, high)`` pair of finite numbers with ``low <= high`` (a randomization range)."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise TypeError(f"{name} must be a (low, high) pair, got {describe(value)}")
    low = check_number(f"{name}[0]", value[0], minimum=minimum)
    high = check_number(f"{name}[1]", value[1], minimum=minimum)
    if low > high:
        raise ValueError(f"{name} must have low <= high, got ({low}, {high})")
    return (low, high)


def check_vector(
    name: str, value: object, size: int, *, minimum: float | None = None, strict_min: bool = False
) -> tuple[float, ...]:
    """``size`` finite numbers (a sequence, or a 1-D array or tensor), each ``>= minimum``
    (``> minimum`` with ``strict_min``), as a tuple of floats; errors name the entry."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, str) or not isinstance(value, Sized):
        raise TypeError(f"{name} must be a sequence of {size} numbers, got {describe(value)}")
    if len(value) != size:
        raise ValueError(f"{name} must hold {size} numbers, got {len(value)}")
    return tuple(
        check_number(f"{name}[{i}]", v, minimum=minimum, strict_min=strict_min)
        for i, v in enumerate(value)
    )


def check_path(name: str, value: object) -> Path:
    """A file path (``str`` or ``os.PathLike``, not blank) as a ``Path``."""
    if not isinstance(value, str | os.PathLike):
        raise TypeError(f"{name} must be a file path (str or pathlib.Path), got {describe(value)}")
    if not str(value).strip():
        raise ValueError(f"{name} must not be empty or blank, got {value!r}")
    return Path(value)
