"""Dialect variants of the review grammar: the same review, word for word, in three varieties.

:func:`to_dialect` rewrites a text of the review grammar (:mod:`toolkit.data.grammar`) into
one of :data:`DIALECTS` by **word-for-word substitution**: every rule replaces one whole word
by one whole word, so a review and its variants have the same number of words, in the same
order, and differ only where a rule applies (:func:`word_alignment` lists those places).
Rendering one :class:`~toolkit.data.Review` in every dialect therefore gives **exact
parallels**: same seed, same attributes, same sentences; only the variety differs. Scores
on parallel texts (per word: :func:`toolkit.representation.word_perplexity`) compare
varieties with the content held fixed.

The rules, with where each kind comes from (the word lists are ours):

* ``"us"`` — American English (:data:`US_WORDS`). Spelling: *marvelous*, *colors* (single *l*
  and *-or*, the
  spellings of Webster's dictionaries). Lexical: *movie(s)* for *film(s)*, *theater* for
  *cinema* (the building).
* ``"gb"`` — British English (:data:`GB_WORDS`). Lexical: *film* for *movie*; spelling:
  *towards* for
  *toward*. The grammar otherwise already writes British spelling (*marvellous*, *colours*).
* ``"sco"`` — Scots, in the spellings of the Dictionaries of the Scots Language
  (dsl.ac.uk): *wis* (was), *o* (of), *tae* (to), *fae* (from), *wi* (with), *aboot*
  (about), *ye* (you), *oot* (out), *maist* (most), *thocht* (thought), *nicht* (night),
  *twa* (two), *toon* (town), *hoose* (house), *wee* (small), *auld* (old), *hame* (home),
  *cannae* (cannot), *dae* (do), *hae* (have), *no* (not), *aye* (yes), *bonnie* (lovely),
  *pictures* for *cinema* ("the pictures") and more (:data:`SCOTS_WORDS`), plus one spelling
  pattern: word-final *-ing* is written *-in* (*watchin*, *gripping* → *grippin*) outside
  :data:`SCOTS_ING_KEEP`.

These are caricatures in the technical sense: real varieties differ in grammar, sound and
usage and vary among their speakers; here only a list of word swaps is kept, because exact
parallels need it. The notebook says so. A rule's capitalization follows the word it
replaces (*From* → *Fae*, *Yes* → *Aye*).

>>> to_dialect("From the first scene, I thought the film was marvellous.", "us")
'From the first scene, I thought the movie was marvelous.'
>>> to_dialect("From the first scene, I thought the film was marvellous.", "sco")
'Fae the first scene, I thocht the film wis marvellous.'
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from toolkit._checks import check_choice, check_int, check_str, describe
from toolkit.data.reviews import Review, generate_reviews

US_WORDS: dict[str, str] = {
    "film": "movie",
    "films": "movies",
    "cinema": "theater",
    "marvellous": "marvelous",
    "colours": "colors",
}

GB_WORDS: dict[str, str] = {
    "movie": "film",
    "toward": "towards",
}

SCOTS_WORDS: dict[str, str] = {
    "was": "wis",
    "of": "o",
    "to": "tae",
    "so": "sae",
    "from": "fae",
    "with": "wi",
    "about": "aboot",
    "you": "ye",
    "out": "oot",
    "most": "maist",
    "mostly": "maistly",
    "my": "ma",
    "very": "gey",
    "every": "ilka",
    "thought": "thocht",
    "right": "richt",
    "night": "nicht",
    "knowing": "kennin",
    "yes": "aye",
    "one": "ane",
    "who": "wha",
    "what": "whit",
    "before": "afore",
    "two": "twa",
    "town": "toon",
    "house": "hoose",
    "small": "wee",
    "old": "auld",
    "home": "hame",
    "go": "gang",
    "long": "lang",
    "nothing": "naethin",
    "not": "no",
    "cannot": "cannae",
    "do": "dae",
    "have": "hae",
    "over": "ower",
    "off": "aff",
    "half": "hauf",
    "good": "guid",
    "after": "efter",
    "all": "aw",
    "should": "shuid",
    "would": "wad",
    "lovely": "bonnie",
    "friend": "pal",
    "friends": "pals",
    "cinema": "pictures",
    "movie": "film",
    "having": "haein",
    "evening": "evenin",
}

# Words ending in -ing whose -ing is no suffix (or that keep it): the -ing -> -in pattern
# leaves them alone.
SCOTS_ING_KEEP: frozenset[str] = frozenset({"thing", "things", "spring", "string", "king", "sing"})

DIALECTS: dict[str, str] = {
    "us": "American English",
    "gb": "British English",
    "sco": "Scots",
}

_WORD_RULES: dict[str, Mapping[str, str]] = {"us": US_WORDS, "gb": GB_WORDS, "sco": SCOTS_WORDS}
_WORD = re.compile(r"[A-Za-z]+")


def check_dialect(name: str, dialect: object) -> str:
    """``dialect`` is a key of :data:`DIALECTS` (the error lists them)."""
    return check_choice(name, dialect, DIALECTS)


def dialect_word(word: str, dialect: str) -> str:
    """The dialect's spelling of one word (letters only), its capital kept; unchanged when no
    rule applies."""
    lower = word.lower()
    target = _WORD_RULES[dialect].get(lower)
    if target is None and dialect == "sco":
        if lower.endswith("ing") and len(lower) > 4 and lower not in SCOTS_ING_KEEP:
            target = lower[:-1]
    if target is None:
        return word
    if word[:1].isupper():
        return target[:1].upper() + target[1:]
    return target


def to_dialect(text: str, dialect: str) -> str:
    """``text`` with every word rewritten by the rules of ``dialect`` (punctuation, spacing and
    every other word left as they are)."""
    check_str("text", text, allow_empty=True)
    check_dialect("dialect", dialect)
    return _WORD.sub(lambda m: dialect_word(m.group(0), dialect), text)


def word_alignment(text: str, dialect: str) -> list[tuple[int, str, str]]:
    """Where ``to_dialect(text, dialect)`` differs from ``text``: ``(word index, word, variant)``
    for each rewritten word (an empty list when the text reads the same in the dialect)."""
    check_str("text", text, allow_empty=True)
    check_dialect("dialect", dialect)
    return [
        (i, w, dialect_word(w, dialect))
        for i, w in enumerate(_WORD.findall(text))
        if dialect_word(w, dialect) != w
    ]


def word_count(text: str) -> int:
    """Words (runs of letters) in ``text``: the same in every dialect variant of a text."""
    return len(_WORD.findall(check_str("text", text, allow_empty=True)))


@dataclass(frozen=True)
class ParallelReview:
    """One review and its exact parallels: ``texts[dialect]`` for every dialect."""

    review: Review
    texts: dict[str, str]


def dialect_variants(review: Review) -> ParallelReview:
    """``review`` rendered in every dialect of :data:`DIALECTS`."""
    if not isinstance(review, Review):
        raise TypeError(f"review must be a Review, got {describe(review)}")
    return ParallelReview(review, {d: to_dialect(review.text, d) for d in DIALECTS})


def parallel_reviews(n: int, seed: int, **attributes: object) -> list[ParallelReview]:
    """``n`` reviews of :func:`toolkit.data.generate_reviews` (``attributes`` go to it), each
    in every dialect."""
    n = check_int("n", n, minimum=0)
    return [dialect_variants(r) for r in generate_reviews(n, seed, **attributes)]


def dialect_corpus(
    n: int, seed: int, shares: Mapping[str, float] | None = None
) -> list[tuple[str, str]]:
    """``n`` ``(dialect, text)`` pairs for language-model training: reviews of
    :func:`toolkit.data.review_corpus`'s kind, each in one dialect.

    ``shares`` (default: equal) gives each dialect's share; the counts are exact up to
    rounding (largest remainders) and the order is shuffled with ``seed``. Every review is
    a different one, so no content repeats across dialects.
    """
    from toolkit.data.reviews import CORPUS_DEMOGRAPHIC_RATE, CORPUS_SYCOPHANCY_RATE
    from toolkit.representation.distributions import normalize_mix, quota_counts

    n = check_int("n", n, minimum=0)
    seed = check_int("seed", seed)
    mix = normalize_mix(
        {d: 1.0 for d in DIALECTS} if shares is None else shares, "shares", DIALECTS
    )
    counts = quota_counts(mix, n)
    labels = [d for d, c in counts.items() for _ in range(c)]
    random.Random(f"dialect-corpus:{seed}").shuffle(labels)
    reviews = generate_reviews(
        n,
        seed,
        sycophancy_rate=CORPUS_SYCOPHANCY_RATE,
        demographic_rate=CORPUS_DEMOGRAPHIC_RATE,
    )
    return [(d, to_dialect(r.text, d)) for d, r in zip(labels, reviews, strict=True)]


def dialect_texts(n: int, seed: int) -> list[str]:
    """The texts of ``dialect_corpus(n, seed)`` (equal shares): the zoo's
    ``tiny-gpt2-dialects`` corpus."""
    return [text for _, text in dialect_corpus(n, seed)]


def check_texts_by_dialect(name: str, texts: object) -> dict[str, list[str]]:
    """A mapping dialect -> non-empty list of str (every key a known dialect)."""
    if not isinstance(texts, Mapping):
        raise TypeError(f"{name} must be a mapping dialect -> list of texts, got {describe(texts)}")
    out = {}
    for key, values in texts.items():
        check_dialect(f"{name} key", key)
        if isinstance(values, str) or not isinstance(values, Sequence) or not values:
            raise ValueError(f"{name}[{key!r}] must be a non-empty list of texts")
        out[key] = [check_str(f"{name}[{key!r}][{i}]", v) for i, v in enumerate(values)]
    return out


__all__ = [
    "DIALECTS",
    "GB_WORDS",
    "SCOTS_ING_KEEP",
    "SCOTS_WORDS",
    "US_WORDS",
    "ParallelReview",
    "check_dialect",
    "dialect_corpus",
    "dialect_texts",
    "dialect_variants",
    "dialect_word",
    "parallel_reviews",
    "to_dialect",
    "word_alignment",
    "word_count",
]
