"""Dialect variants are exact word-for-word parallels under the documented rules."""

import re

import pytest

from toolkit.data import generate_reviews
from toolkit.representation import (
    DIALECTS,
    GB_WORDS,
    SCOTS_WORDS,
    US_WORDS,
    dialect_corpus,
    dialect_variants,
    parallel_reviews,
    to_dialect,
    word_alignment,
    word_count,
)
from toolkit.representation.dialects import SCOTS_ING_KEEP, dialect_word

WORD = re.compile(r"[A-Za-z]+")
RULES = {"us": US_WORDS, "gb": GB_WORDS, "sco": SCOTS_WORDS}


def expected_word(word: str, dialect: str) -> str:
    """The documented rules, applied independently of the implementation's regex."""
    lower = word.lower()
    target = RULES[dialect].get(lower)
    if target is None and dialect == "sco" and lower.endswith("ing") and len(lower) > 4:
        target = None if lower in SCOTS_ING_KEEP else lower[:-1]
    if target is None:
        return word
    return target[0].upper() + target[1:] if word[0].isupper() else target


@pytest.fixture(scope="module")
def parallels():
    return parallel_reviews(
        300, seed=0, n_sentences=(1, 4), sycophancy_rate=0.2, demographic_rate=0.3
    )


def test_variants_are_parallel_word_for_word(parallels):
    for parallel in parallels:
        base = parallel.review.text
        base_words = WORD.findall(base)
        skeleton = WORD.sub("#", base)  # punctuation and spacing
        for dialect, text in parallel.texts.items():
            words = WORD.findall(text)
            assert len(words) == len(base_words) == word_count(text)
            assert WORD.sub("#", text) == skeleton  # nothing but words changed
            for old, new in zip(base_words, words, strict=True):
                assert new == expected_word(old, dialect), (dialect, old, new)


def test_variants_keep_the_review_and_its_attributes(parallels):
    for parallel in parallels[:20]:
        again = dialect_variants(parallel.review)
        assert again.texts == parallel.texts and set(again.texts) == set(DIALECTS)
    reviews = generate_reviews(5, seed=3)
    assert [p.review for p in parallel_reviews(5, seed=3)] == reviews


def test_every_rule_fires_on_the_grammar():
    """No dead rule: each one rewrites some word of the reviews or the viewer questions."""
    fired = {d: set() for d in DIALECTS}
    more = parallel_reviews(
        3000, seed=1, n_sentences=(1, 4), sycophancy_rate=0.2, demographic_rate=0.5
    )
    for parallel in more:
        for dialect in DIALECTS:
            fired[dialect] |= {
                w.lower() for _, w, _ in word_alignment(parallel.review.text, dialect)
            }
    from toolkit.data import PROMPTS

    for prompt in PROMPTS:
        for dialect in DIALECTS:
            fired[dialect] |= {w.lower() for _, w, _ in word_alignment(prompt, dialect)}
    for dialect, rules in RULES.items():
        assert set(rules) <= fired[dialect], (dialect, sorted(set(rules) - fired[dialect]))


def test_capitals_and_examples():
    assert (
        to_dialect("From the cinema. Yes, you are right.", "sco")
        == "Fae the pictures. Aye, ye are richt."
    )
    assert (
        to_dialect("The film, the films and the cinema.", "us")
        == "The movie, the movies and the theater."
    )
    assert (
        to_dialect("This movie builds toward a finale.", "gb")
        == "This film builds towards a finale."
    )
    assert dialect_word("thing", "sco") == "thing" and dialect_word("gripping", "sco") == "grippin"
    assert word_alignment("I thought so.", "sco") == [(1, "thought", "thocht"), (2, "so", "sae")]
    assert word_alignment("", "us") == []


def test_dialect_corpus_shares_are_exact():
    corpus = dialect_corpus(90, seed=0)
    counts = {d: sum(1 for x, _ in corpus if x == d) for d in DIALECTS}
    assert counts == {"us": 30, "gb": 30, "sco": 30}
    skewed = dialect_corpus(100, seed=0, shares={"us": 8, "gb": 1.5, "sco": 0.5})
    assert sum(1 for x, _ in skewed if x == "sco") == 5
    assert corpus == dialect_corpus(90, seed=0) and corpus != dialect_corpus(90, seed=1)
