"""Every subpackage exports its public API from its ``__init__``, lazily, documented.

For each package: ``__all__`` names only names that import and carry a docstring (functions
and classes their own; constants a mention in their package's or module's docstring, or an
attribute docstring), ``dir()`` lists them, importing the package pulls in neither TRL nor
torch, and the names the notebooks import are reachable at package level.
"""

import functools
import importlib
import inspect
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import griffe
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(
    ["toolkit", "widgets"]
    + [
        info.name
        for info in pkgutil.walk_packages([str(ROOT / "toolkit")], prefix="toolkit.")
        if info.ispkg
    ]
)
LAZY = [p for p in PACKAGES if "__getattr__" in vars(importlib.import_module(p))]
EXPORTS = [
    (package, name) for package in PACKAGES for name in importlib.import_module(package).__all__
]


@functools.cache
def _static(package: str) -> griffe.Module:
    return griffe.load(package, search_paths=[str(ROOT)])


def _is_data(value: object) -> bool:
    return not (inspect.isclass(value) or inspect.isroutine(value) or callable(value))


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_sorted_out_and_listed_by_dir(package):
    module = importlib.import_module(package)
    assert len(module.__all__) == len(set(module.__all__)), f"{package}.__all__ has duplicates"
    assert set(module.__all__) <= set(dir(module))


@pytest.mark.parametrize(("package", "name"), EXPORTS)
def test_export_imports_and_has_a_docstring(package, name):
    value = getattr(importlib.import_module(package), name)
    if not _is_data(value):
        assert inspect.getdoc(value), f"{package}.{name} has no docstring"
        return
    member = _static(package)[name]
    target = member.final_target if member.is_alias else member
    mentioned = rf"\b{name}\b"
    documented = (
        target.docstring is not None
        or "#" in target.module.lines[target.lineno - 1]
        or re.search(mentioned, importlib.import_module(package).__doc__ or "")
        or re.search(mentioned, target.module.docstring.value if target.module.docstring else "")
    )
    assert documented, f"constant {package}.{name} is documented nowhere"


@pytest.mark.parametrize("package", LAZY)
def test_no_lazy_export_is_shadowed_by_a_submodule(package):
    module = importlib.import_module(package)
    submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
    assert not submodules & set(module.__all__)


@pytest.mark.parametrize(
    "package", ["toolkit", "toolkit.alignment", "toolkit.rewards", "toolkit.attention"]
)
def test_import_is_lazy(package):
    code = (
        f"import sys, {package}; "
        "print(sorted(m for m in ('torch', 'trl', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _notebook_imports() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            source = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
            for module, names in re.findall(
                r"^from ((?:toolkit|widgets)[\w.]*) import \(?([^)]*?)\)?$", source, re.M | re.S
            ):
                found += [(module, n.strip()) for n in names.split(",") if n.strip()]
    return found


@pytest.mark.parametrize(("module", "name"), _notebook_imports())
def test_what_the_notebooks_import_is_reachable_at_package_level(module, name):
    imported = importlib.import_module(module)
    namespace = {}
    exec(f"from {module} import {name}", namespace)  # as the notebook writes it
    value = namespace[name]
    parent = module.rsplit(".", 1)[0]
    if inspect.ismodule(value) or hasattr(imported, "__path__") or parent in ("toolkit", module):
        return  # a submodule, a package, or a module of the top-level package (toolkit.lm_metrics)
    package = importlib.import_module(parent)
    assert getattr(package, name) is value, f"from {package.__name__} import {name} fails"


@pytest.mark.parametrize("package", ["toolkit.alignment", "toolkit.music", "widgets"])
def test_a_misspelt_name_is_named_with_the_closest_match(package):
    module = importlib.import_module(package)
    wrong = module.__all__[0][:-1]
    with pytest.raises(AttributeError, match=rf"{re.escape(wrong)}.*did you mean"):
        getattr(module, wrong)
