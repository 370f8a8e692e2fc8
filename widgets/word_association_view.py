"""WordAssociationView: per-word association bars and the effect size of a WEAT-style test.

Notebook 07 (implicit bias; Caliskan et al., Science 2017; Bai et al., arXiv 2402.04105)
measures how close each target word sits to one attribute set rather than the other. The
view shows one test at a time, picked from a menu: a bar per target word (its association
``s(w)``, X words in one color, Y words in another, sorted), and the effect size ``d`` with its
bootstrap interval and permutation p-value. Four text boxes take comma-separated word sets of
the learner's own; "Compute" sends them to the kernel, which runs the injected ``compute``
function and adds the result as the test "custom". Every precomputed test travels with the
view, so the menu and bars also work in a static HTML export (the text boxes then say that
computing needs a running kernel).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import traitlets

from widgets.base import WidgetBase, check_choice, check_number, check_str_list

CUSTOM = "custom"


def _entry(name: str, title: str, result: object) -> dict:
    """One test as plain data, from an ``AssociationResult`` that names its words."""
    for field in ("effect_size", "p_value", "ci_low", "ci_high", "associations_x", "words_x"):
        if not hasattr(result, field):
            raise TypeError(
                f"tests[{name!r}] must be an AssociationResult (toolkit.bias.weat), "
                f"got {type(result).__name__}"
            )
    hint = "run the test with named words"
    words_x = check_str_list(result.words_x, f"{name!r} words_x", kind="words", if_empty=hint)
    words_y = check_str_list(result.words_y, f"{name!r} words_y", kind="words", if_empty=hint)
    values_x = [
        check_number(v, f"tests[{name!r}] associations_x[{i}]")
        for i, v in enumerate(result.associations_x)
    ]  # noqa: E501
    values_y = [
        check_number(v, f"tests[{name!r}] associations_y[{i}]")
        for i, v in enumerate(result.associations_y)
    ]  # noqa: E501
    if len(values_x) != len(words_x) or len(values_y) != len(words_y):
        raise ValueError(f"tests[{name!r}] has one association per word only if sizes match")
    return {
        "name": name,
        "title": str(title),
        "words_x": words_x,
        "words_y": words_y,
        "associations_x": values_x,
        "associations_y": values_y,
        "effect_size": check_number(result.effect_size, f"tests[{name!r}] effect_size"),
        "ci": [check_number(result.ci_low, "ci_low"), check_number(result.ci_high, "ci_high")],
        "p_value": check_number(result.p_value, f"tests[{name!r}] p_value", lo=0, hi=1),
    }


def _split(text: str) -> list[str]:
    return [w.strip() for w in text.split(",") if w.strip()]


class WordAssociationView(WidgetBase):
    """Association bars per target word and the effect size, for a menu of tests.

    Args:
        tests: test name -> ``(title, AssociationResult)`` (from ``toolkit.bias.weat``: the
            result must name its words). Shown in the menu in this order.
        compute: ``compute(x, y, a, b) -> AssociationResult`` for word lists typed by the
            learner (e.g. ``lambda *sets: weat(encoder, *sets)``); None hides the text boxes.
        labels: names of the four sets in the text boxes (default X, Y, A, B).
        selected: the test shown first (default: the first).
        title: heading shown above the view.

    Synced state: ``selected`` (both ways); ``custom_sets`` (the four comma-separated word
    lists) and ``submitted`` (a counter the "Compute" button increments; each change runs
    ``compute``). ``tests`` (list of plain dicts) and ``error`` (the last failed computation's
    message, shown in the view) are read-only.

    Raises:
        TypeError: a test that is not an ``AssociationResult``; a non-callable ``compute``.
        ValueError: no tests; non-finite values; an unknown ``selected`` test.
    """

    _asset = "word_association_view"

    tests = traitlets.List(traitlets.Dict(), read_only=True, help="Tests, menu order.").tag(
        sync=True
    )
    labels = traitlets.List(traitlets.Unicode(), read_only=True).tag(sync=True)
    interactive = traitlets.Bool(False, read_only=True, help="Whether compute is set.").tag(
        sync=True
    )
    selected = traitlets.Unicode(help="Name of the test shown.").tag(sync=True)
    custom_sets = traitlets.List(traitlets.Unicode(), default_value=["", "", "", ""]).tag(sync=True)
    submitted = traitlets.Int(0, help="Counts submissions of custom_sets.").tag(sync=True)
    error = traitlets.Unicode("", read_only=True).tag(sync=True)

    def __init__(
        self,
        tests: Mapping[str, tuple[str, object]],
        *,
        compute: Callable[..., object] | None = None,
        labels: Sequence[str] = ("X", "Y", "A", "B"),
        selected: str = "",
        title: str = "",
    ) -> None:
        if not isinstance(tests, Mapping) or not tests:
            raise ValueError("tests must be a non-empty mapping name -> (title, result)")
        if compute is not None and not callable(compute):
            raise TypeError(
                f"compute must be callable as compute(x, y, a, b), got {type(compute).__name__}"
            )
        entries = [_entry(name, title_, result) for name, (title_, result) in tests.items()]
        labels = check_str_list(labels, "labels", kind="four set names", if_empty="name the sets")
        if len(labels) != 4:
            raise ValueError(f"labels must name 4 sets (X, Y, A, B), got {len(labels)}")
        self._compute = compute
        self.set_trait("tests", entries)
        self.set_trait("labels", labels)
        self.set_trait("interactive", compute is not None)
        names = [e["name"] for e in entries]
        selected = selected or names[0]
        check_choice(selected, names, "test")
        super().__init__(selected=selected, title=title)
        self.observe(self._on_submit, "submitted")

    @traitlets.validate("selected")
    def _validate_selected(self, proposal: traitlets.Bunch) -> str:
        return check_choice(proposal["value"], [e["name"] for e in self.tests], "test")

    def submit(self, x: str, y: str, a: str, b: str) -> None:
        """Compute a test on comma-separated word lists, as the "Compute" button does."""
        self.custom_sets = [x, y, a, b]
        self.submitted += 1

    def _on_submit(self, change: traitlets.Bunch) -> None:
        if self._compute is None:
            self.set_trait("error", "no compute function: this view only shows precomputed tests")
            return
        try:
            sets = [_split(text) for text in self.custom_sets]
            result = self._compute(*sets)
            entry = _entry(CUSTOM, "your word sets", result)
        except Exception as err:  # shown in the view, not raised into the comm
            self.set_trait("error", f"{type(err).__name__}: {err}")
            return
        tests = [e for e in self.tests if e["name"] != CUSTOM] + [entry]
        with self.hold_sync():
            self.set_trait("tests", tests)
            self.set_trait("error", "")
            self.selected = CUSTOM
