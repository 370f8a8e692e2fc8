"""Which code built a cached model: a change to it builds a new entry instead of reusing one.

A zoo entry is keyed by its recipe, but the weights also depend on the code that trains
them (the training loop, the corpus generators, the tokenizer trainer). An entry built by an
earlier version of that code under the same recipe would be loaded as if it were current,
and every number measured on it would silently drift. :func:`code_fingerprint` digests that
code so that it joins the recipe in the cache key.

The code is the toolkit modules reachable from the builder's module through ``import``
statements (at module level or inside functions), each read as its syntax tree without
docstrings: comments, formatting and documentation do not change the fingerprint; a change
to what the code does does.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from toolkit._checks import check_str, describe

PACKAGE = "toolkit"


def _source_path(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        raise ValueError(f"cannot fingerprint {module!r}: no Python source found for it")
    return Path(spec.origin)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _imported(module: str, path: Path, tree: ast.Module) -> set[str]:
    """The toolkit modules ``module`` imports (``from pkg import name`` counts ``pkg.name``
    when that is a module, else ``pkg``)."""
    package = module if _is_package(path) else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            for alias in node.names:
                if _is_submodule(f"{base}.{alias.name}"):
                    found.add(f"{base}.{alias.name}")
    return {m for m in found if m == PACKAGE or m.startswith(PACKAGE + ".")}


def _is_submodule(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _strip_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return tree


def source_digest(source: str) -> str:
    """Digest of Python ``source`` as a syntax tree without docstrings: comments, layout and
    documentation do not change it."""
    return hashlib.sha256(ast.dump(_strip_docstrings(ast.parse(source))).encode()).hexdigest()


@cache
def _module_digest(module: str) -> tuple[str, frozenset[str]]:
    """(:func:`source_digest` of the module, the toolkit modules it imports)."""
    path = _source_path(module)
    source = path.read_text(encoding="utf-8")
    imports = frozenset(_imported(module, path, ast.parse(source, filename=str(path))))
    return source_digest(source), imports


def code_modules(roots: Iterable[str]) -> list[str]:
    """The toolkit modules reachable from ``roots`` through imports, sorted."""
    seen: set[str] = set()
    todo = []
    for root in roots:
        if not (root == PACKAGE or root.startswith(PACKAGE + ".")):
            raise ValueError(f"code must name {PACKAGE} modules, got {root!r}")
        todo.append(root)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(_module_digest(module)[1] - seen)
    return sorted(seen)


def code_fingerprint(roots: Iterable[str]) -> str:
    """A 12-character digest of the code reachable from the modules ``roots`` (``""`` for
    none)."""
    if isinstance(roots, str) or not isinstance(roots, Iterable):
        raise TypeError(f"code must be a list of module names, got {describe(roots)}")
    modules = code_modules(check_str("module name", r) for r in roots)
    if not modules:
        return ""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(f"{module}\0{_module_digest(module)[0]}\n".encode())
    return digest.hexdigest()[:12]
