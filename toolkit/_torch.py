"""Torch helpers shared by the whole toolkit: argument checks that need torch, eval mode for a
forward pass, and the layers of a transformer.

The checks follow :mod:`toolkit._checks` (``TypeError`` for a wrong type, ``ValueError`` for a
wrong value, the argument named in the message) and return the checked value, converted.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from functools import reduce

import torch
from torch import Tensor, nn

from toolkit._checks import check_choice, check_number, describe

__all__ = [
    "LAYER_PATHS",
    "check_device",
    "check_dtype",
    "check_module",
    "check_positive",
    "decoder_layers",
    "eval_mode",
    "intra_op_threads",
]

LAYER_PATHS = ("layers", "h", "encoder.layer", "decoder.layers")
"""Where a base model keeps its blocks, tried in order: ``layers`` (Llama, Mistral, Qwen, Phi,
GPT-NeoX), ``h`` (GPT-2, GPT-J, BigCode), ``encoder.layer`` (BERT, RoBERTa), ``decoder.layers``
(OPT)."""


def check_device(name: str, value: object, *, allow_none: bool = False) -> torch.device | None:
    """A ``torch.device`` (or its name, or a CUDA index) that exists on this machine; ``None``
    passes through with ``allow_none``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, str | torch.device | int):
        raise TypeError(f"{name} must be a str or torch.device, got {describe(value)}")
    try:
        device = torch.device(value)
    except RuntimeError as error:
        raise ValueError(f"{name} {value!r} is not a torch device: {error}") from None
    count = torch.cuda.device_count()
    if device.type == "cuda" and (device.index or 0) >= count:
        raise ValueError(
            f"{name} {str(device)!r} asked for, but there is no CUDA GPU with index "
            f"{device.index or 0} here (this machine has {count} CUDA devices); use 'cpu'"
        )
    return device


def check_dtype(
    name: str, value: object, options: Collection[torch.dtype] | None = None
) -> torch.dtype:
    """A ``torch.dtype``, one of ``options`` when given."""
    if not isinstance(value, torch.dtype):
        raise TypeError(f"{name} must be a torch.dtype, got {describe(value)}")
    return value if options is None else check_choice(name, value, options)


def check_module(name: str, value: object) -> nn.Module:
    """A torch ``nn.Module`` (e.g. a Hugging Face model)."""
    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {describe(value)}")
    return value


def check_positive(name: str, value: object, *, maximum: float | None = None) -> Tensor | float:
    """A number, or a floating-point tensor, whose entries are finite, ``> 0`` and
    ``< maximum`` when given; the error names the first offending index."""
    if isinstance(value, Tensor):
        if not value.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
        entries = value
    else:
        value = check_number(name, value)
        entries = torch.tensor(value)
    bad = ~torch.isfinite(entries) | (entries <= 0)
    if maximum is not None:
        bad |= entries >= maximum
    if bool(bad.any()):
        index = tuple(bad.nonzero()[0].tolist())
        where = f"{name}[{', '.join(map(str, index))}]" if index else name
        bounds = f"in (0, {maximum})" if maximum is not None else "> 0"
        raise ValueError(f"{where} must be finite and {bounds}, got {entries[index].item()}")
    return value


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """``model.eval()`` inside the block (dropout off); every submodule's own train/eval flag is
    restored after, even if the block raises."""
    flags = [(module, module.training) for module in model.modules()]
    try:
        model.eval()
        yield model
    finally:
        for module, training in flags:
            module.training = training


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    """The blocks ``ℓ = 1..L`` of a transformer, as the ``nn.ModuleList`` that holds them.

    Looked up on the model's ``base_model`` (the model itself when it has none) at
    :data:`LAYER_PATHS`: ``model.model.layers`` of a Llama-style causal LM,
    ``model.transformer.h`` of GPT-2, ``model.bert.encoder.layer`` of BERT. Anything else is a
    ``ValueError`` naming the model's class.
    """
    base = getattr(check_module("model", model), "base_model", model)
    for path in LAYER_PATHS:
        layers = reduce(
            lambda module, attribute: getattr(module, attribute, None), path.split("."), base
        )
        if isinstance(layers, nn.ModuleList) and len(layers) > 0:
            return layers
    raise ValueError(
        f"cannot find the layers of {type(model).__name__}: expected a non-empty nn.ModuleList "
        f"at one of {', '.join(LAYER_PATHS)} of its base model (e.g. model.layers of Llama, "
        "transformer.h of GPT-2, encoder.layer of BERT)"
    )


@contextmanager
def intra_op_threads(threads: int) -> Iterator[None]:
    """Run torch's CPU kernels on ``threads`` intra-op threads inside the block, then restore the
    caller's count. Float sums are split by thread, so the count is part of what makes a training
    run repeat bit for bit; one thread is also the fastest for tiny models on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
