"""The platform every widget stands on: assets, binary arrays and input checks.

A widget is one ES module plus one CSS file shipped inside this package (no CDN, no
require.js, so it renders offline and in static HTML exports). ``WidgetBase`` loads them
and prepends the shared ``base.js`` / ``base.css``: the JS helpers (binary decoding, color
scales, value formatting) and the theme variables, which map JupyterLab's ``--jp-*`` CSS
variables onto the widget with fallbacks for pages outside JupyterLab (light and dark).

Numeric arrays travel to the browser as little-endian float32 ``bytes`` (see
``float32_bytes``); ipywidgets sends those as binary buffers, never as JSON lists, and the
ES module reads them back through a ``DataView``.

The ``check_*`` helpers validate user input and raise ``ValueError`` messages that name the
offending parameter or track and the index of the first bad value.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def check_str_list(values: object, label: str, *, kind: str, if_empty: str) -> list[str]:
    """``list(values)``, required to be a non-empty sequence of ``str`` (not one ``str``).

    ``kind`` says what the sequence holds in the one-str message ("a sequence of strings");
    ``if_empty`` tells the user what to pass instead ("pass at least one token").
    """
    if isinstance(values, str):
        raise ValueError(f"{label} must be {kind}, got one str; wrap it in a list")
    values = list(values)
    if not values:
        raise ValueError(f"{label} is empty; {if_empty}")
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise ValueError(f"{label}[{i}] is {type(value).__name__} {value!r}; expected str")
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
        raise ValueError(
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
