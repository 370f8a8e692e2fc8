"""Input checks shared by the mask builders; errors name the argument and the example (row)."""

from __future__ import annotations

from toolkit.alignment.checks import Tensor, as_bool_mask, rows_text
from toolkit.alignment.checks import check_finite as shared_check_finite


def examples_text(rows: Tensor) -> str:
    """'example 3' or 'examples 3, 5, 8' for a bool (B,) row selection."""
    return rows_text(rows, "example")


def check_tokens(
    name: str, tensor: object, like: Tensor | None = None, like_name: str = ""
) -> Tensor:
    """A (B, T) tensor, of the same shape as ``like`` when given."""
    if not isinstance(tensor, Tensor) or tensor.dim() != 2:
        shape = tuple(tensor.shape) if isinstance(tensor, Tensor) else type(tensor).__name__
        raise ValueError(f"{name} must be a (B, T) tensor, got {shape}")
    if like is not None and tensor.shape != like.shape:
        raise ValueError(
            f"{name} has shape {tuple(tensor.shape)} but {like_name} has shape {tuple(like.shape)}"
        )
    return tensor


def check_finite(name: str, values: Tensor, where: Tensor | None = None) -> None:
    """Raise if ``values`` holds NaN or inf (only where the bool ``where`` is True, if given)."""
    shared_check_finite(name, values, where, unit="example")


def bool_mask(name: str, mask: object, like: Tensor | None = None, like_name: str = "") -> Tensor:
    """A {0, 1} (or bool) (B, T) mask as a bool tensor; anything else is an error."""
    return as_bool_mask(name, check_tokens(name, mask, like, like_name), unit="example")
