"""Word sets with provenance: Caliskan et al.'s WEAT tests, SEAT templates, input checks.

``toolkit/bias/data/weat.json`` pins all 31 word sets of Caliskan, Bryson & Narayanan
(Science 2017) as WEFE 1.0.1 ships them (MIT; the file records the source, its sha256, the
licence notice and where each list comes from), the ten WEAT tests built from them and the
effect sizes the paper published for GloVe and word2vec. :func:`weat_tests` returns the
tests; :func:`word_sets` every set, from the pinned copy or, with ``source="wefe"``, from an
installed ``wefe`` (``pip install -e ".[bias]"``: heavy and pins old NumPy and SciPy, so it is
an optional extra).

:data:`SEAT_TEMPLATES` are the semantically bleached sentence templates of May et al.
(NAACL 2019, SEAT) for single words. :func:`check_word_sets` and :func:`check_template`
hold the bad-input policy every probe shares: empty sets, duplicate or overlapping words,
target sets of unequal size and templates without their placeholder raise ``ValueError``
naming the set, word or template.
"""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from toolkit._checks import check_choice, check_str, describe

DATA = Path(__file__).parent / "data" / "weat.json"

# May et al. (2019), SEAT: bleached templates that add no meaning to the word they carry.
SEAT_TEMPLATES: tuple[str, ...] = (
    "This is {word}.",
    "That is {word}.",
    "There is {word}.",
    "Here is {word}.",
    "{word} is here.",
    "{word} is there.",
    "It is {word}.",
)


@dataclass(frozen=True)
class WeatTest:
    """One WEAT test: targets ``x`` and ``y``, attributes ``a`` and ``b`` (word tuples), their
    set names, and the effect sizes Caliskan et al. published (``published_d``: model name ->
    d; GloVe Common Crawl and word2vec Google News)."""

    name: str
    title: str
    x: tuple[str, ...]
    y: tuple[str, ...]
    a: tuple[str, ...]
    b: tuple[str, ...]
    set_names: tuple[str, str, str, str]
    published_d: dict
    source: str


@cache
def _data() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def provenance() -> dict:
    """Where the pinned word sets come from: papers, the copied file and its sha256, licence."""
    return dict(_data()["provenance"])


def word_sets(source: str = "pinned") -> dict[str, tuple[str, ...]]:
    """All 31 WEAT word sets by name. ``source="pinned"`` reads the copy in
    ``toolkit/bias/data``; ``"wefe"`` asks an installed ``wefe`` (the ``[bias]`` extra)."""
    check_choice("source", source, ("pinned", "wefe"))
    if source == "wefe":
        try:
            from wefe.datasets import load_weat
        except ImportError as error:
            raise ImportError(
                "source='wefe' needs the optional wefe package: pip install -e '.[bias]' "
                "(or use the pinned copy, source='pinned')"
            ) from error
        return {name: tuple(words) for name, words in load_weat().items()}
    return {name: tuple(words) for name, words in _data()["word_sets"].items()}


def weat_tests(source: str = "pinned") -> list[WeatTest]:
    """Caliskan et al.'s ten WEAT tests in order (WEAT 1 … 10), each with its word sets."""
    sets = word_sets(source)
    tests = []
    for spec in _data()["tests"]:
        names = (spec["x"], spec["y"], spec["a"], spec["b"])
        tests.append(
            WeatTest(
                name=spec["name"],
                title=spec["title"],
                x=sets[names[0]],
                y=sets[names[1]],
                a=sets[names[2]],
                b=sets[names[3]],
                set_names=names,
                published_d=dict(spec["published_d"]),
                source=spec["source"],
            )
        )
    return tests


def check_words(name: str, words: object) -> tuple[str, ...]:
    """A non-empty sequence of distinct, non-blank words (surrounding spaces stripped)."""
    if isinstance(words, str) or not isinstance(words, Sequence):
        raise TypeError(f"{name} must be a list of words, got {describe(words)}")
    if not words:
        raise ValueError(f"{name} is empty; give at least one word")
    out = []
    for i, word in enumerate(words):
        out.append(check_str(f"{name}[{i}]", word).strip())
    seen: dict[str, int] = {}
    for i, word in enumerate(out):
        if word in seen:
            raise ValueError(
                f"{name}[{i}] {word!r} repeats {name}[{seen[word]}]; list each word once"
            )
        seen[word] = i
    return tuple(out)


def check_word_sets(
    x: object, y: object, a: object, b: object, *, names: Sequence[str] = ("x", "y", "a", "b")
) -> tuple[tuple[str, ...], ...]:
    """Targets ``x``, ``y`` and attributes ``a``, ``b`` for an association test.

    Each is a non-empty list of distinct words; ``x`` and ``y`` have the same size (the
    permutation test splits ``x ∪ y`` into halves of their sizes, as Caliskan et al. do); no
    word is in two sets (a word in both targets, or in a target and an attribute, would be
    compared with itself).
    """
    sets = tuple(check_words(n, s) for n, s in zip(names, (x, y, a, b), strict=True))
    if len(sets[0]) != len(sets[1]):
        raise ValueError(
            f"target sets must have the same size: {names[0]} has {len(sets[0])} words and "
            f"{names[1]} has {len(sets[1])}; drop words from the larger one"
        )
    for i in range(4):
        for j in range(i + 1, 4):
            shared = sorted(set(sets[i]) & set(sets[j]))
            if shared:
                raise ValueError(
                    f"{names[i]} and {names[j]} overlap: {shared}; each word may be in one set only"
                )
    return sets


def template_fields(template: str) -> list[str]:
    """The ``{field}`` names of ``template`` in order (``str.format`` syntax)."""
    try:
        return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as error:
        raise ValueError(f"template {template!r} is not a valid format string: {error}") from None


def check_template(
    name: str, template: object, required: Sequence[str], *, last: str | None = None
) -> str:
    """``template`` contains each ``{field}`` of ``required`` exactly once and no other field;
    with ``last``, that field comes after all the others."""
    template = check_str(name, template)
    fields = template_fields(template)
    for field_name in required:
        if fields.count(field_name) != 1:
            raise ValueError(
                f"{name} {template!r} must contain the placeholder {{{field_name}}} exactly once "
                f"(found {fields.count(field_name)})"
            )
    unknown = sorted(set(fields) - set(required))
    if unknown:
        raise ValueError(
            f"{name} {template!r} has unknown placeholders {unknown}; allowed: {list(required)}"
        )
    if last is not None and fields[-1] != last:
        raise ValueError(f"{name} {template!r}: {{{last}}} must come after every other placeholder")
    return template


def check_templates(
    name: str, templates: object, required: Sequence[str], *, last: str | None = None
) -> tuple[str, ...]:
    """A non-empty list of templates, each checked by :func:`check_template`."""
    if isinstance(templates, str) or not isinstance(templates, Sequence):
        raise TypeError(f"{name} must be a list of templates, got {describe(templates)}")
    if not templates:
        raise ValueError(f"{name} is empty; give at least one template")
    return tuple(
        check_template(f"{name}[{i}]", t, required, last=last) for i, t in enumerate(templates)
    )
