"""Input checks shared by the losses and the mask builders.

Errors name the argument and the rows at fault: a loss's rows are preference *pairs*, a
mask builder's rows are *examples* (sequences).
"""

from __future__ import annotations

import torch

from toolkit._checks import describe

Tensor = torch.Tensor


def rows_text(rows: Tensor, unit: str = "pair") -> str:
    """'pair 3' or 'pairs 3, 5, 8' (``unit`` names the row) for a bool (B,) selection."""
    index = rows.nonzero().flatten().tolist()
    shown = ", ".join(str(i) for i in index[:8]) + (", ..." if len(index) > 8 else "")
    return f"{unit} {shown}" if len(index) == 1 else f"{unit}s {shown}"


def check_finite(name: str, values: Tensor, where: Tensor | None = None, unit: str = "pair"):
    """Raise if ``values`` holds NaN/inf (only where the bool ``where`` is True, if given)."""
    bad = ~torch.isfinite(values)
    if where is not None:
        bad &= where
    if bad.any():
        rows = bad.reshape(bad.shape[0], -1).any(-1)
        place = " at completion tokens" if where is not None else ""
        raise ValueError(f"{rows_text(rows, unit)}: {name} has NaN or inf values{place}")


def as_bool_mask(name: str, mask: Tensor, unit: str = "pair") -> Tensor:
    """A {0, 1} mask (float, int or bool) as a bool tensor; anything else is an error."""
    if mask.dtype == torch.bool:
        return mask
    check_finite(name, mask.float(), unit=unit)
    if not ((mask == 0) | (mask == 1)).all():
        raise ValueError(f"{name} must hold only 0 and 1 (or be a bool tensor)")
    return mask != 0


def model_positions(model) -> int | None:
    """The longest sequence ``model`` embeds (``config.max_position_embeddings``, GPT-2's
    ``n_positions``), or None when its config names no limit (relative positions)."""
    config = getattr(model, "config", None)
    if hasattr(config, "get_text_config"):
        config = config.get_text_config()
    value = getattr(config, "max_position_embeddings", None)
    return value if isinstance(value, int) else None


def check_texts(name: str, texts: object, allow_empty: bool = False) -> list[str]:
    """A sequence of str, non-empty unless ``allow_empty`` (a lone str is refused: iterating it
    gives characters)."""
    if isinstance(texts, str | bytes) or not isinstance(texts, list | tuple):
        raise TypeError(f"{name} must be a list of str, got {describe(texts)}")
    if not texts and not allow_empty:
        raise ValueError(f"{name} must not be empty")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{name}[{i}] must be a str, got {describe(text)}")
    return list(texts)
