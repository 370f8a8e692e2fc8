"""The zoo's catalogue: what each built-in model is and how it is built."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ZooSpec:
    """A built-in model.

    ``recipe`` holds every setting that determines the weights; it is hashed into
    the cache key, so changing any of it builds a new entry. ``build(directory,
    recipe)`` trains the model, saves it there with ``save_pretrained`` (model
    and tokenizer) and returns metrics for the manifest. It may also write
    ``TRAINING_LOG`` (JSON of per-step series such as ``{"loss": [...]}``).
    """

    name: str
    kind: str
    description: str
    recipe: dict
    build: Callable[[Path, dict], dict]


TRAINING_LOG = "training_log.json"

_REGISTRY: dict[str, ZooSpec] = {}


def register(spec: ZooSpec, *, replace: bool = False) -> ZooSpec:
    """Add a built-in model; names are unique unless ``replace=True``."""
    if spec.name in _REGISTRY and not replace:
        raise ValueError(f"a zoo model named {spec.name!r} is already registered")
    if "/" in spec.name:
        raise ValueError(f"built-in names cannot contain '/', got {spec.name!r} (hub ids do)")
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def get_spec(name: str) -> ZooSpec | None:
    return _REGISTRY.get(name)


def builtin_names() -> list[str]:
    return sorted(_REGISTRY)
