"""WordAssociationView: precomputed tests travel with the view; custom sets run in the kernel."""

import numpy as np
import pytest

from toolkit.bias import association_test
from widgets import WordAssociationView


def _result(words_x=("rose", "tulip"), words_y=("ant", "wasp"), shift=0.3):
    rng = np.random.default_rng(0)
    n = len(words_x)
    x_a, x_b, y_a, y_b = (rng.normal(size=(n, 3)) for _ in range(4))
    result = association_test(x_a + shift, x_b, y_a, y_b, n_bootstrap=20)
    from dataclasses import replace

    return replace(result, words_x=tuple(words_x), words_y=tuple(words_y))


def test_precomputed_tests_are_plain_data():
    view = WordAssociationView({"weat1": ("Flowers vs insects", _result())}, title="t")
    (entry,) = view.tests
    assert entry["words_x"] == ["rose", "tulip"] and len(entry["associations_y"]) == 2
    assert view.selected == "weat1" and not view.interactive


def test_custom_sets_are_computed_and_selected():
    calls = []

    def compute(x, y, a, b):
        calls.append((x, y, a, b))
        return _result(x, y)

    view = WordAssociationView({"weat1": ("t", _result())}, compute=compute)
    view.submit("lily, daisy", "moth,gnat", "love", "hate")
    assert calls == [(["lily", "daisy"], ["moth", "gnat"], ["love"], ["hate"])]
    assert view.selected == "custom" and view.tests[-1]["words_x"] == ["lily", "daisy"]
    assert view.error == ""


def test_a_failing_computation_is_shown_not_raised():
    def compute(*sets):
        raise ValueError("x and y overlap")

    view = WordAssociationView({"weat1": ("t", _result())}, compute=compute)
    view.submit("a", "a", "b", "c")
    assert "overlap" in view.error and view.selected == "weat1"


def test_bad_input():
    with pytest.raises(ValueError, match="non-empty"):
        WordAssociationView({})
    with pytest.raises(TypeError, match="AssociationResult"):
        WordAssociationView({"t": ("t", 3.0)})
    with pytest.raises(TypeError, match="compute"):
        WordAssociationView({"t": ("t", _result())}, compute="weat")
    with pytest.raises(ValueError, match="unknown test"):
        WordAssociationView({"t": ("t", _result())}, selected="nope")
    view = WordAssociationView({"t": ("t", _result())})
    with pytest.raises(ValueError, match="unknown test"):
        view.selected = "nope"
