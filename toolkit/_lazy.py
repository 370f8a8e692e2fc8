"""Lazy package exports (PEP 562): a package names its public API, each name loads on first use.

A package's ``__init__`` lists what it exports twice, as plain imports under
``if TYPE_CHECKING:`` (read by type checkers, IDEs and the API reference) and in ``__all__``,
then hands both to :func:`lazy_exports`::

    if TYPE_CHECKING:
        from toolkit.alignment.token_po_trainer import TokenPOTrainer

    __all__ = ["TokenPOTrainer"]
    __getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)

``import toolkit.alignment`` then imports nothing heavy; the first read of
``toolkit.alignment.TokenPOTrainer`` imports its module (and TRL) and keeps the value on the
package, so later reads are plain attribute lookups.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def _type_checking_imports(init_file: str) -> dict[str, str]:
    """``{name: module}`` for every ``from module import name`` under ``if TYPE_CHECKING:``."""
    tree = ast.parse(Path(init_file).read_text(encoding="utf-8"))
    owners = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom):
                    for alias in statement.names:
                        owners[alias.asname or alias.name] = statement.module
    return owners


def lazy_exports(
    package: str, init_file: str, names: Sequence[str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, exporting ``names`` lazily.

    ``names`` (the package's ``__all__``) must be the names imported under
    ``if TYPE_CHECKING:`` in ``init_file`` plus any the package defines eagerly; a mismatch is
    a bug in the package and raises ``ImportError`` naming the names at fault.
    """
    owners = _type_checking_imports(init_file)
    unknown = set(names) - set(owners) - set(vars(sys.modules[package]))
    unlisted = set(owners) - set(names)
    if unknown or unlisted:
        raise ImportError(
            f"{package}: __all__ names {sorted(unknown)} that are neither defined nor imported "
            f"under TYPE_CHECKING, and omits {sorted(unlisted)} that are"
        )

    def __getattr__(name: str) -> object:
        if name not in owners:
            hint = difflib.get_close_matches(name, owners, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            raise AttributeError(
                f"module {package!r} has no attribute {name!r}{suggestion} "
                f"(its public names are listed in {package}.__all__)"
            )
        value = getattr(importlib.import_module(owners[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(owners))

    return __getattr__, __dir__
