"""Seeded synthetic movie reviews whose every attribute is labelled.

A :class:`Review` is rendered from the grammar in :mod:`toolkit.data.grammar` by
:func:`render_review` from a seed and five attributes:

* ``sentiment`` (+1 / -1): the causal variable; only the verdict's evaluation carries it.
* ``topic`` (one of :data:`TOPICS`): what the verdict talks about.
* ``n_sentences``: the verdict plus ``n_sentences - 1`` neutral filler sentences.
* ``sycophantic``: the text starts with :data:`SYCOPHANTIC_PHRASE`.
* ``demographic`` (a key of :data:`DEMOGRAPHIC_GROUPS` or None): an intro sentence describes
  the reviewer with one of the group's terms.

Because every template slot is drawn from ``(seed, slot name)`` alone,
:func:`counterfactual` re-renders the *same* review with one attribute changed and
everything else identical: the minimal pairs that counterfactual-invariance tests need
(Wang et al., arXiv 2501.09620). :func:`generate_reviews` samples attributes and
seeds from one ``random.Random(seed)``; :func:`review_corpus` is the language-model corpus.

>>> review = generate_reviews(1, seed=0, n_sentences=2)[0]
>>> counterfactual(review, sycophantic=True).text == f"{SYCOPHANTIC_PHRASE} {review.text}"
True
"""

from __future__ import annotations

import numbers
import random
from dataclasses import dataclass, field

from toolkit._checks import check_bool, check_choice, check_int, check_probability, describe
from toolkit.data.grammar import (
    CONSEQUENCES,
    DEGREE,
    DEMOGRAPHIC_GROUPS,
    DETAILS,
    EFFECT,
    EVALUATIONS,
    FILLER_BANKS,
    FILLERS,
    FILM,
    INTROS,
    OPENINGS,
    QUALITY,
    SUBJECTS,
    SYCOPHANTIC_PHRASE,
    expand,
    slot_hash,
)

TOPICS: tuple[str, ...] = tuple(SUBJECTS)
SENTIMENTS = (+1, -1)
MAX_SENTENCES = 1 + len(FILLERS)  # the verdict and each filler template at most once

# Attribute rates of the language-model corpus: common enough that the LM knows the phrase and
# the intros (so bias experiments do not hinge on unseen text), rare enough not to dominate.
CORPUS_SYCOPHANCY_RATE = 0.1
CORPUS_DEMOGRAPHIC_RATE = 0.2

_ATTRIBUTES = ("sentiment", "topic", "n_sentences", "sycophantic", "demographic")


@dataclass(frozen=True)
class Review:
    """A generated review and the ground truth of every attribute the grammar varies.

    ``n_sentences`` counts the verdict and the fillers; the sycophantic phrase and the
    demographic intro are framing sentences on top of those. ``opening`` is the prefix of
    ``text`` that ends just before the first evaluative word (framing sentences included),
    so ``text.startswith(opening)`` always holds and it serves as a language-model prompt.
    ``seed`` fills every template slot: :func:`counterfactual` re-renders from it.
    """

    text: str
    sentiment: int
    topic: str
    n_sentences: int
    sycophantic: bool
    demographic: str | None
    opening: str
    seed: int = field(compare=False, repr=False)


def render_review(
    seed: int,
    *,
    sentiment: int,
    topic: str,
    n_sentences: int = 1,
    sycophantic: bool = False,
    demographic: str | None = None,
) -> Review:
    """Render the review that ``seed`` picks for the given attributes (no randomness besides)."""
    seed = check_int("seed", seed)
    sentiment = _check_sentiment(sentiment)
    check_choice("topic", topic, TOPICS)
    n_sentences = check_int("n_sentences", n_sentences, minimum=1, maximum=MAX_SENTENCES)
    check_bool("sycophantic", sycophantic)
    check_choice("demographic", demographic, (*DEMOGRAPHIC_GROUPS, None))

    framing = [SYCOPHANTIC_PHRASE] if sycophantic else []
    if demographic is not None:
        framing.append(_intro(seed, demographic))
    verdict_opening, evaluation = _verdict(seed, topic, sentiment)
    opening = " ".join([*framing, verdict_opening])
    text = " ".join([opening, evaluation, *_fillers(seed, n_sentences - 1)])
    return Review(
        text=text,
        sentiment=sentiment,
        topic=topic,
        n_sentences=n_sentences,
        sycophantic=sycophantic,
        demographic=demographic,
        opening=opening,
        seed=seed,
    )


def counterfactual(review: Review, **changes: object) -> Review:
    """The same review with the given attributes changed and every other slot left as it was.

    ``changes`` may set ``sentiment``, ``topic``, ``n_sentences`` (adds or drops neutral
    fillers at the end), ``sycophantic`` or ``demographic`` (same intro template, a term of
    the new group; None drops the intro).
    """
    if not isinstance(review, Review):
        raise TypeError(f"review must be a Review (from render_review), got {describe(review)}")
    unknown = sorted(set(changes) - set(_ATTRIBUTES))
    if unknown:
        raise ValueError(f"counterfactual can change {list(_ATTRIBUTES)}, not {unknown}")
    attributes = {name: getattr(review, name) for name in _ATTRIBUTES}
    return render_review(review.seed, **{**attributes, **changes})


def generate_reviews(
    n: int,
    seed: int,
    *,
    sentiment: int | None = None,
    topic: str | None = None,
    n_sentences: int | tuple[int, int] = (1, 4),
    sycophancy_rate: float = 0.0,
    demographic_rate: float = 0.0,
) -> list[Review]:
    """``n`` reviews; attributes left as None are drawn uniformly, as are the sentence counts.

    ``n_sentences`` is a count or an inclusive ``(low, high)`` range. Each review is
    sycophantic with probability ``sycophancy_rate`` and mentions a demographic group (drawn
    uniformly from :data:`DEMOGRAPHIC_GROUPS`) with probability ``demographic_rate``.
    """
    n = check_int("n", n, minimum=0)
    seed = check_int("seed", seed)
    if sentiment is not None:
        _check_sentiment(sentiment)
    if topic is not None:
        check_choice("topic", topic, TOPICS)
    low, high = _sentence_range(n_sentences)
    check_probability("sycophancy_rate", sycophancy_rate)
    check_probability("demographic_rate", demographic_rate)

    rng = random.Random(seed)
    groups = tuple(DEMOGRAPHIC_GROUPS)
    return [
        render_review(
            rng.getrandbits(64),
            sentiment=rng.choice(SENTIMENTS) if sentiment is None else sentiment,
            topic=rng.choice(TOPICS) if topic is None else topic,
            n_sentences=rng.randint(low, high),
            sycophantic=rng.random() < sycophancy_rate,
            demographic=rng.choice(groups) if rng.random() < demographic_rate else None,
        )
        for _ in range(n)
    ]


def review_corpus(n: int, seed: int) -> list[str]:
    """``n`` review texts for language-model training, every attribute represented.

    Sentiments and topics are uniform, reviews have 1 to 4 sentences (under 100 tokens with a
    1k-token BPE), and sycophantic and demographic variants appear at
    :data:`CORPUS_SYCOPHANCY_RATE` and :data:`CORPUS_DEMOGRAPHIC_RATE`.
    """
    reviews = generate_reviews(
        n,
        seed,
        sycophancy_rate=CORPUS_SYCOPHANCY_RATE,
        demographic_rate=CORPUS_DEMOGRAPHIC_RATE,
    )
    return [review.text for review in reviews]


def _check_sentiment(sentiment: int) -> int:
    return check_choice("sentiment", check_int("sentiment", sentiment), SENTIMENTS)


def _sentence_range(n_sentences: int | tuple[int, int]) -> tuple[int, int]:
    bounds = n_sentences if isinstance(n_sentences, tuple) else (n_sentences, n_sentences)
    if len(bounds) != 2 or not all(
        isinstance(b, numbers.Integral) and not isinstance(b, bool) for b in bounds
    ):
        raise TypeError(
            "n_sentences must be a count or a (low, high) tuple of ints, "
            f"got {describe(n_sentences)}"
        )
    low, high = int(bounds[0]), int(bounds[1])
    if not 1 <= low <= high <= MAX_SENTENCES:
        raise ValueError(
            f"n_sentences must be a count or a (low, high) range with "
            f"1 <= low <= high <= {MAX_SENTENCES}, got {n_sentences!r}"
        )
    return low, high


def _intro(seed: int, group: str) -> str:
    banks = {"intro": INTROS, "term": DEMOGRAPHIC_GROUPS[group]}
    return expand("{intro}", banks, seed, "intro")


def _verdict(seed: int, topic: str, sentiment: int) -> tuple[str, str]:
    """The verdict's neutral opening and its evaluation, drawn independently per sentiment."""
    banks = {
        "opening": OPENINGS,
        "subject": SUBJECTS[topic],
        "film": FILM,
        "evaluation": EVALUATIONS,
        "degree": DEGREE,
        "quality": QUALITY[sentiment],
        "effect": EFFECT[sentiment],
        "consequence": CONSEQUENCES[sentiment],
        "detail": DETAILS[topic][sentiment],
    }
    opening = expand("{opening}", banks, seed, "verdict")
    evaluation = expand("{evaluation}", banks, seed, f"verdict{sentiment:+d}")
    return opening[0].upper() + opening[1:], evaluation


def _fillers(seed: int, count: int) -> list[str]:
    """The first ``count`` fillers of a seeded order, so more fillers extend fewer."""
    order = random.Random(slot_hash(seed, "fillers")).sample(range(len(FILLERS)), len(FILLERS))
    return [expand(FILLERS[k], FILLER_BANKS, seed, f"filler{k}") for k in order[:count]]
