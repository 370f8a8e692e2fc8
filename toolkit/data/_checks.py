"""Argument checks shared by the corpus builders: each error names the parameter and the fix."""

from __future__ import annotations

from collections.abc import Collection


def check_count(name: str, value: int) -> None:
    """``value`` must be a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def check_choice(name: str, value: object, allowed: Collection[object]) -> None:
    """``value`` must be one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


def check_probability(name: str, value: float) -> None:
    """``value`` must be a number in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
