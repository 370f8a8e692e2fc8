"""The zoo's catalogue: what each built-in model is and how it is built."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from toolkit._checks import check_str, describe
from toolkit.zoo.cache import check_entry_name, recipe_hash


@dataclass(frozen=True)
class ZooSpec:
    """A built-in model.

    ``recipe`` holds every setting that determines the weights; it is hashed into
    the cache key, so changing any of it builds a new entry. ``build(directory,
    recipe)`` trains the model, saves it there with ``save_pretrained`` (model
    and tokenizer) and returns metrics for the manifest. It may also write
    ``TRAINING_LOG`` (JSON of per-step series such as ``{"loss": [...]}``).
    The code of ``build``'s module (and the toolkit code it imports) is fingerprinted into
    the key as well, so an entry built by other training code is not reused.
    ``check_recipe(recipe)``, when given, raises on a recipe ``build`` cannot use; it runs
    when the spec is made, so a bad recipe fails before any training.
    """

    name: str
    kind: str
    description: str
    recipe: dict
    build: Callable[[Path, dict], dict]
    check_recipe: Callable[[dict], None] | None = None

    def __post_init__(self):
        if isinstance(self.name, str) and "/" in self.name:
            raise ValueError(f"built-in names cannot contain '/', got {self.name!r} (hub ids do)")
        check_entry_name(self.name)
        check_str("kind", self.kind)
        check_str("description", self.description, allow_empty=True)
        recipe_hash(self.recipe)  # a dict of JSON values
        if not callable(self.build):
            raise TypeError(
                f"build must be a function (directory, recipe), got {describe(self.build)}"
            )
        if self.check_recipe is not None:
            self.check_recipe(self.recipe)

    @property
    def code(self) -> tuple[str, ...]:
        """The toolkit module whose code trains the model (its fingerprint joins the recipe in
        the cache key, see :mod:`toolkit.zoo.fingerprint`); none for a builder elsewhere."""
        module = getattr(self.build, "__module__", None) or ""
        return (module,) if module.startswith("toolkit.") else ()


def check_recipe_keys(recipe: dict, required: set[str], optional: set[str] = frozenset()) -> None:
    """``recipe`` has every ``required`` key and no key outside ``required | optional`` (a
    misspelt setting would otherwise be ignored while still changing the cache key)."""
    missing = sorted(required - set(recipe))
    unknown = sorted(set(recipe) - required - set(optional))
    if missing or unknown:
        raise ValueError(
            f"recipe has missing keys {missing} and unknown keys {unknown}; expected the keys "
            f"of the default recipe: {', '.join(sorted(required))}"
        )


TRAINING_LOG = "training_log.json"

_REGISTRY: dict[str, ZooSpec] = {}


def register(spec: ZooSpec, *, replace: bool = False) -> ZooSpec:
    """Add a built-in model; names are unique unless ``replace=True``."""
    if not isinstance(spec, ZooSpec):
        raise TypeError(f"spec must be a ZooSpec, got {describe(spec)}")
    if spec.name in _REGISTRY and not replace:
        raise ValueError(f"a zoo model named {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove the built-in model ``name`` (``ValueError`` if there is none)."""
    check_str("name", name)
    if name not in _REGISTRY:
        raise ValueError(f"no built-in model {name!r}; registered: {', '.join(builtin_names())}")
    del _REGISTRY[name]


def get_spec(name: str) -> ZooSpec | None:
    """The spec of built-in ``name``, or ``None`` if there is no such built-in."""
    check_str("name", name, allow_empty=True)
    return _REGISTRY.get(name)


def builtin_names() -> list[str]:
    """The registered built-in model names, sorted."""
    return sorted(_REGISTRY)
