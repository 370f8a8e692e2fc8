"""Bad names at the public import surface: an unknown or misspelt name raises AttributeError
(ImportError for ``from … import``) naming the package and the name, and loads nothing."""

import importlib
import pkgutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

LAZY = ["toolkit", "toolkit.alignment", "toolkit.attention", "toolkit.control", "toolkit.music"]


def _unknown(package: str, name: str) -> bool:
    module = importlib.import_module(package)
    submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
    return name not in vars(module) and name not in module.__all__ and name not in submodules


@pytest.mark.parametrize("package", LAZY)
@settings(max_examples=25, deadline=None)
@given(name=st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=30))
def test_unknown_name_raises_attribute_error_naming_it(package, name):
    if not name.isidentifier() or not _unknown(package, name):
        return
    module = importlib.import_module(package)
    with pytest.raises(AttributeError, match=package) as error:
        getattr(module, name)
    assert repr(name) in str(error.value)
    assert name not in vars(module)


@pytest.mark.parametrize(
    ("package", "wrong", "right"),
    [
        ("toolkit.alignment", "TokenPoTrainer", "TokenPOTrainer"),
        ("toolkit.rewards", "CausalRewardTrainr", "CausalRewardTrainer"),
        ("toolkit.attention", "Qfilters", "QFilters"),
    ],
)
def test_misspelt_name_names_the_closest_match(package, wrong, right):
    module = importlib.import_module(package)
    with pytest.raises(AttributeError, match=rf"{wrong}'; did you mean '{right}'"):
        getattr(module, wrong)
    with pytest.raises(ImportError, match=rf"{wrong}.*{package}"):
        exec(f"from {package} import {wrong}", {})
