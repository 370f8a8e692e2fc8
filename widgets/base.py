"""The platform every widget stands on: assets, binary arrays and input checks.

A widget is one ES module plus one CSS file shipped inside this package (no CDN, no
require.js, so it renders offline and in static HTML exports). ``WidgetBase`` loads them
and prepends the shared ``base.js`` / ``base.css``, so a widget reuses, never copies:

- base.js: DOM and SVG element helpers (``h``, ``svg``), controls (``makePicker``,
  ``makeSlider``, ``controlRow``, ``saveTrait``), categorical colors (``categoryColor``)
  and legend entries, axis ticks (``niceStep``, ``stepTicks``, ``niceTicks``), binary
  decoding and value formatting, color scales and their legend, token strips;
- base.css: the theme variables, which map JupyterLab's ``--jp-*`` CSS variables onto the
  widget with fallbacks for pages outside JupyterLab (light and dark), the categorical
  hues ``--rt-category-*`` (kept apart from the sequential scale's green), and the chrome
  of form controls, control rows, panels, SVG axes, keys and token strips.

Numeric arrays travel to the browser as little-endian float32 ``bytes`` (see
``float32_bytes``); ipywidgets sends those as binary buffers, never as JSON lists, and the
ES module reads them back through a ``DataView``.

The ``check_*`` helpers validate user input and raise messages that name the offending
parameter or track and the index of the first bad value: ``TypeError`` for a value of the
wrong type (a str where numbers or a list of str are expected), ``ValueError`` for a wrong
value. Those a trait validator also calls (``check_choice``, ``check_token_index``) raise
``InvalidValue``, which is both a ``ValueError`` and a ``traitlets.TraitError`` (and
``InvalidType`` its ``TypeError`` counterpart).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

import anywidget
import numpy as np
import traitlets

ASSET_DIR = Path(__file__).parent
_NUMERIC_KINDS = "biuf"  # bool, signed int, unsigned int, float
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def bundle(filename: str) -> str:
    """Return ``base.<ext>`` followed by ``filename``, both read from the package directory.

    The concatenation is the whole bundling step: ``base.js`` only declares helpers (no
    imports or exports), so the widget module that follows can use them directly.
    """
    suffix = Path(filename).suffix
    parts = [ASSET_DIR / f"base{suffix}", ASSET_DIR / filename]
    return "\n".join(part.read_text(encoding="utf-8") for part in parts)


class WidgetBase(anywidget.AnyWidget):
    """Base class of every widget in the package.

    A subclass names its assets with ``_asset = "token_strip"``: the ES module
    ``widgets/token_strip.js`` and the stylesheet ``widgets/token_strip.css`` become its
    anywidget ``_esm`` and ``_css`` (each with the shared base prepended).
    """

    title = traitlets.Unicode("", help="Heading shown above the widget.").tag(sync=True)

    def __init_subclass__(cls, **kwargs: object) -> None:
        asset = cls.__dict__.get("_asset")
        if asset:
            cls._esm = bundle(f"{asset}.js")
            cls._css = bundle(f"{asset}.css")
        super().__init_subclass__(**kwargs)


class InvalidValue(traitlets.TraitError, ValueError):
    """A bad value: a ``ValueError`` for the caller, and a ``TraitError`` so that traitlets
    rolls an assignment back when it was made among others (e.g. in
    ``hold_trait_notifications``) instead of keeping the bad value."""


class InvalidType(traitlets.TraitError, TypeError):
    """A value of the wrong type: a ``TypeError`` for the caller, a ``TraitError`` for
    traitlets (see ``InvalidValue``)."""


def check_choice(value: object, options: Collection[str], label: str) -> str:
    """``value``, required to be one of ``options``: "unknown track 'x'; choose one of [...]"."""
    if value not in options:
        raise InvalidValue(f"unknown {label} {value!r}; choose one of {list(options)}")
    return value


def check_token_index(index: int, n_tokens: int, label: str) -> int:
    """``index``, required to be -1 (no token selected) or a token index in [0, n_tokens)."""
    if not -1 <= index < n_tokens:
        raise InvalidValue(
            f"{label} must be -1 (none) or a token index in [0, {n_tokens - 1}], got {index}"
        )
    return index


def check_number(
    value: object,
    label: str,
    *,
    lo: float = -math.inf,
    hi: float = math.inf,
    lo_open: bool = False,
) -> float:
    """One finite real number x with lo <= x <= hi (lo < x when ``lo_open``), as a float.

    The message says the bounds: "dt is 0.0; expected a finite number > 0" (``lo=0,
    lo_open=True``), "accuracy is 1.2; expected a finite number in [0, 1]" (``lo=0, hi=1``).
    """
    array = as_numeric_array(value, label)
    if array.ndim:
        raise ValueError(f"{label} must be one number, got shape {array.shape}")
    number = float(array)
    above = number > lo if lo_open else number >= lo
    if not (math.isfinite(number) and above and number <= hi):
        raise ValueError(f"{label} is {number}; expected a finite number{_bounds(lo, hi, lo_open)}")
    return number


def _bounds(lo: float, hi: float, lo_open: bool) -> str:
    """The bounds in ``check_number``'s message: ' > 0', ' >= 0', ' <= 1', ' in [0, 1]', ''."""
    if hi == math.inf:
        return "" if lo == -math.inf else f" {'>' if lo_open else '>='} {lo:g}"
    if lo == -math.inf:
        return f" <= {hi:g}"
    return f" in {'(' if lo_open else '['}{lo:g}, {hi:g}]"


def check_str_list(values: object, label: str, *, kind: str, if_empty: str) -> list[str]:
    """``list(values)``, required to be a non-empty sequence of ``str`` (not one ``str``).

    ``kind`` says what the sequence holds in the one-str message ("a sequence of strings");
    ``if_empty`` tells the user what to pass instead ("pass at least one token").
    """
    if isinstance(values, str):
        raise TypeError(f"{label} must be {kind}, got one str; wrap it in a list")
    if not isinstance(values, Iterable) or isinstance(values, Mapping):
        raise TypeError(f"{label} must be {kind}, got {type(values).__name__}")
    values = list(values)
    if not values:
        raise ValueError(f"{label} is empty; {if_empty}")
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise TypeError(f"{label}[{i}] is {type(value).__name__} {value!r}; expected str")
    return values


def as_numeric_array(values: object, label: str) -> np.ndarray:
    """``np.asarray(values)``, required to hold real numbers (bool, int or float).

    ``label`` names the input in messages, e.g. ``"track 'loss'"``.
    """
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as err:  # ragged nested sequences
        raise ValueError(f"{label} could not be read as an array of numbers: {err}") from err
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(
            f"{label} must hold real numbers (bool, int or float), got dtype {array.dtype}; "
            "convert it first, e.g. np.asarray(values, dtype=float)"
        )
    return array


def check_shape(
    array: np.ndarray, expected: tuple[int | None, ...], label: str, axes: Sequence[str]
) -> None:
    """Require ``array.shape == expected`` (``None`` matches any size).

    ``axes`` names each axis for the message: a 1-D track checked against
    ``(9,)`` with ``axes=("tokens",)`` fails with "track 'x' has 7 values for 9 tokens".
    """
    if array.ndim != len(expected):
        raise ValueError(
            f"{label} must be {len(expected)}-D with axes ({', '.join(axes)}), "
            f"got shape {array.shape}"
        )
    for axis, (size, want, name) in enumerate(zip(array.shape, expected, axes, strict=True)):
        if want is not None and size != want:
            where = "" if array.ndim == 1 else f" along axis {axis}"
            raise ValueError(f"{label} has {size} values{where} for {want} {name}")


def _first_index(mask: np.ndarray) -> int | tuple[int, ...] | None:
    """Index of the first ``True`` in ``mask``: an int for 1-D arrays, else a tuple."""
    hits = np.argwhere(mask)
    if not hits.size:
        return None
    index = tuple(int(i) for i in hits[0])
    return index[0] if len(index) == 1 else index


def check_finite(array: np.ndarray, label: str) -> None:
    """Require every value to be finite; name the first NaN/inf and its index."""
    index = _first_index(~np.isfinite(array))
    if index is not None:
        raise ValueError(
            f"{label} has a non-finite value ({array[index]}) at index {index}; "
            "replace NaN/inf first, e.g. with np.nan_to_num"
        )


def check_nonnegative(array: np.ndarray, label: str, why: str) -> None:
    """Require every value to be >= 0; name the first negative one, its index and ``why``
    ("singular values are >= 0")."""
    index = _first_index(array < 0)
    if index is not None:
        raise ValueError(f"{label} has a negative value ({array[index]}) at index {index}; {why}")


def check_float32_range(array: np.ndarray, label: str) -> None:
    """Require every value to fit in float32, the type the browser receives."""
    index = _first_index(np.abs(array) > _FLOAT32_MAX)
    if index is not None:
        raise ValueError(
            f"{label} value {array[index]} at index {index} does not fit in float32 "
            f"(|value| <= {_FLOAT32_MAX:.3e}); rescale it first"
        )


def validated_float_array(
    values: object, label: str, expected: tuple[int | None, ...], axes: Sequence[str]
) -> np.ndarray:
    """Run every check above and return the values as a float32 array."""
    array = as_numeric_array(values, label)
    check_shape(array, expected, label, axes)
    array = array.astype(np.float64)
    check_finite(array, label)
    check_float32_range(array, label)
    return array.astype(np.float32)


def float32_bytes(array: np.ndarray) -> bytes:
    """Little-endian float32 bytes of ``array`` (C order): one binary buffer for the browser."""
    return np.ascontiguousarray(array, dtype="<f4").tobytes()


def from_float32_bytes(data: bytes | memoryview) -> np.ndarray:
    """Inverse of ``float32_bytes`` for 1-D arrays: a fresh, writable float32 array."""
    return np.frombuffer(data, dtype="<f4").astype(np.float32)
