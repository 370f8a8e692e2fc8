"""Input checks shared by the mask builders; errors name the argument and the example (row)."""

from __future__ import annotations

import torch

Tensor = torch.Tensor


def examples_text(rows: Tensor) -> str:
    """'example 3' or 'examples 3, 5, 8' for a bool (B,) row selection."""
    index = rows.nonzero().flatten().tolist()
    shown = ", ".join(str(i) for i in index[:8]) + (", ..." if len(index) > 8 else "")
    return f"example {shown}" if len(index) == 1 else f"examples {shown}"


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
    bad = ~torch.isfinite(values)
    if where is not None:
        bad &= where
    if bad.any():
        rows = bad.reshape(bad.shape[0], -1).any(-1)
        place = " at completion tokens" if where is not None else ""
        raise ValueError(f"{examples_text(rows)}: {name} has NaN or inf values{place}")


def bool_mask(name: str, mask: object, like: Tensor | None = None, like_name: str = "") -> Tensor:
    """A {0, 1} (or bool) (B, T) mask as a bool tensor; anything else is an error."""
    mask = check_tokens(name, mask, like, like_name)
    if mask.dtype == torch.bool:
        return mask
    check_finite(name, mask.float())
    if not ((mask == 0) | (mask == 1)).all():
        raise ValueError(f"{name} must hold only 0 and 1 (or be a bool tensor)")
    return mask != 0
