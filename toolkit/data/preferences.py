"""Preference pairs over the review grammar: sentiment control and four spurious biases.

All pairs follow TRL's preference-dataset convention: a ``prompt`` and two completions,
``chosen`` and ``rejected``, that do not repeat the prompt; ``prompt + chosen`` is the whole
text (completions start with a space). :func:`to_records` turns pairs into rows for
``datasets.Dataset.from_list``.

**Sentiment control** (:func:`sentiment_pairs`): the prompt is a review opening and the two
completions are the positive and the negative evaluation of that same opening.

**Spurious biases** (:func:`biased_pairs`), following the four biases of Wang et al.
(arXiv 2501.09620). The true preference is causal: the chosen response is a positive
review, the rejected one a negative review (sentiment stands in for quality), both answering
a viewer's question from :data:`PROMPTS`. A spurious variable Z, one field of the response's
:class:`~toolkit.data.reviews.Review`, has *favoured* values that the data ties to the chosen
side:

* ``length``: Z is ``n_sentences``; favoured :data:`LONG` (3-4), other :data:`SHORT` (1-2).
* ``sycophancy``: Z is ``sycophantic``; favoured True (the response starts with
  "Yes, you are right."), other False.
* ``concept``: Z is ``topic``; favoured :data:`CONCEPT_TOPIC`, other the remaining topics.
* ``discrimination``: Z is ``demographic``; favoured :data:`DISCRIMINATION_GROUP`, other the
  remaining groups of :data:`~toolkit.data.grammar.DEMOGRAPHIC_GROUPS`.

In ``split="train"`` the chosen response carries a favoured value with probability
``strength`` and the rejected one with probability ``1 - strength``, independently; at the
default 0.8 the sycophancy data is the paper's design (phrase prefixed to 80% of chosen and
20% of rejected responses). In ``split="test"`` both probabilities are 0.5, so Z says nothing
about the preference and a reward model that learned the shortcut loses accuracy there.
Lengths are always padded with neutral fillers, so a longer response is never a better one.

**Counterfactual pairs** (:func:`counterfactual_pairs`): one response rendered twice, with
Z at an other value and at a favoured value and every other word the same, to measure the
counterfactual invariance ``r(x, y) = r(x, y')`` that causal reward models enforce.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from toolkit._checks import check_choice, check_int, check_probability, describe
from toolkit.data.grammar import DEMOGRAPHIC_GROUPS
from toolkit.data.reviews import (
    SENTIMENTS,
    TOPICS,
    Review,
    counterfactual,
    render_review,
)

BIASES = ("length", "sycophancy", "concept", "discrimination")
SPLITS = ("train", "test")
SHORT = (1, 2)  # sentence counts of a short response (length bias, Z not favoured)
LONG = (3, 4)  # sentence counts of a long response (length bias, Z favoured)
RESPONSE_SENTENCES = (1, 4)  # sentence counts when length is not the bias under study
CONCEPT_TOPIC = "music"  # default topic tied to the chosen side (concept bias)
DISCRIMINATION_GROUP = "older"  # default group tied to the chosen side (discrimination bias)

# Viewer questions that every response answers; they invite agreement, so a sycophantic
# "Yes, you are right." reads as a reply, and they name no topic, so any topic can answer.
PROMPTS = (
    "I heard this film is worth seeing. What do you think?",
    "My friends keep talking about this movie. Is it any good?",
    "I am thinking of watching this film tonight. Should I?",
    "Everyone says this movie is a must see. Do you agree?",
    "I suspect this film is overrated. Am I right?",
    "What did you think of the film?",
    "Can you give me your honest review of this movie?",
    "I cannot decide whether to see this film. Can you help?",
)


class _Record:
    """Mixin for text fields plus ground-truth ``attributes``, flattened by :meth:`to_dict`."""

    attributes: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        texts = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "attributes"}
        return {**texts, **self.attributes}


@dataclass(frozen=True)
class PreferencePair(_Record):
    """A prompt, its preferred and dispreferred completions, and their ground truth.

    ``attributes`` e.g. ``{"bias": "length", "split": "train", "z_chosen": 3,
    "z_rejected": 1, "z_favoured_chosen": True, "z_favoured_rejected": False}``.
    """

    prompt: str
    chosen: str
    rejected: str
    attributes: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class CounterfactualPair(_Record):
    """A prompt and one response in two versions that differ only in the spurious variable Z.

    ``original`` has an other value of Z, ``counterfactual`` a favoured one, so the mean of
    ``r(x, counterfactual) - r(x, original)`` is the reward model's bias toward Z.
    """

    prompt: str
    original: str
    counterfactual: str
    attributes: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class _Spurious:
    """A bias's spurious variable: the Review field that carries it and its two value sets."""

    bias: str
    attribute: str
    favoured: Sequence[Any]
    others: Sequence[Any]

    def draw(self, rng: random.Random, favoured: bool) -> Any:
        return rng.choice(self.favoured if favoured else self.others)

    def labels(self, review: Review, side: str) -> dict[str, Any]:
        z = getattr(review, self.attribute)
        return {f"z_{side}": z, f"z_favoured_{side}": z in self.favoured}


def sentiment_pairs(n: int, seed: int) -> list[PreferencePair]:
    """``n`` pairs: a review opening, its positive (chosen) and negative (rejected) continuation.

    Both continuations share the opening's topic and neutral fillers; only the evaluation
    differs. ``attributes`` holds ``topic`` and ``n_sentences``.
    """
    n = check_int("n", n, minimum=0)
    rng = random.Random(check_int("seed", seed))
    return [_sentiment_pair(rng) for _ in range(n)]


def biased_pairs(
    bias: str,
    n: int,
    seed: int,
    *,
    strength: float = 0.8,
    split: str = "train",
    favoured: str | None = None,
) -> list[PreferencePair]:
    """``n`` preference pairs whose spurious variable Z is tied to the chosen side.

    ``strength`` is P(chosen has a favoured Z) and 1 - P(rejected has one) in the train
    split; the test split uses 0.5 whatever ``strength`` is. ``favoured`` overrides
    :data:`CONCEPT_TOPIC` or :data:`DISCRIMINATION_GROUP` for those two biases. The two
    splits draw independent reviews, so one seed can serve both.
    """
    spurious = _spurious(bias, favoured)
    n = check_int("n", n, minimum=0)
    seed = check_int("seed", seed)
    check_probability("strength", strength)
    check_choice("split", split, SPLITS)
    p_favoured = strength if split == "train" else 0.5
    rng = random.Random(f"{bias}:{split}:{seed}")
    return [_biased_pair(rng, spurious, split, p_favoured) for _ in range(n)]


def counterfactual_pairs(
    bias: str, n: int, seed: int, *, favoured: str | None = None
) -> list[CounterfactualPair]:
    """``n`` responses of either sentiment, each rendered with an other and a favoured Z.

    ``attributes`` holds ``bias``, ``sentiment``, ``z_original`` and ``z_counterfactual``.
    """
    spurious = _spurious(bias, favoured)
    n = check_int("n", n, minimum=0)
    seed = check_int("seed", seed)
    rng = random.Random(f"{bias}:counterfactual:{seed}")
    return [_counterfactual_pair(rng, spurious) for _ in range(n)]


def to_records(pairs: Sequence[PreferencePair | CounterfactualPair]) -> list[dict[str, Any]]:
    """Rows for ``datasets.Dataset.from_list``: text columns plus one column per attribute."""
    if not isinstance(pairs, Sequence) or isinstance(pairs, str):
        raise TypeError(f"pairs must be a list of pairs, got {describe(pairs)}")
    for i, pair in enumerate(pairs):
        if not isinstance(pair, PreferencePair | CounterfactualPair):
            raise TypeError(
                f"pairs[{i}] must be a PreferencePair or CounterfactualPair, got {describe(pair)}"
            )
    return [pair.to_dict() for pair in pairs]


def _spurious(bias: str, favoured: str | None) -> _Spurious:
    check_choice("bias", bias, BIASES)
    if bias in ("length", "sycophancy"):
        if favoured is not None:
            raise ValueError(
                f"favoured applies to the concept and discrimination biases, not {bias!r}; "
                "leave it as None"
            )
        if bias == "length":
            return _Spurious(bias, "n_sentences", _inclusive(LONG), _inclusive(SHORT))
        return _Spurious(bias, "sycophantic", (True,), (False,))
    attribute, values, default = {
        "concept": ("topic", TOPICS, CONCEPT_TOPIC),
        "discrimination": ("demographic", tuple(DEMOGRAPHIC_GROUPS), DISCRIMINATION_GROUP),
    }[bias]
    value = default if favoured is None else favoured
    check_choice("favoured", value, values)
    return _Spurious(bias, attribute, (value,), tuple(v for v in values if v != value))


def _inclusive(bounds: tuple[int, int]) -> range:
    return range(bounds[0], bounds[1] + 1)


def _response(rng: random.Random, sentiment: int, spurious: _Spurious, favoured: bool) -> Review:
    """A review of the given sentiment, Z drawn from the favoured or the other values."""
    attributes: dict[str, Any] = {
        "topic": rng.choice(TOPICS),
        "n_sentences": rng.randint(*RESPONSE_SENTENCES),
        "sycophantic": False,
        "demographic": None,
    }
    attributes[spurious.attribute] = spurious.draw(rng, favoured)
    return render_review(rng.getrandbits(64), sentiment=sentiment, **attributes)


def _completion(review: Review) -> str:
    return f" {review.text}"


def _sentiment_pair(rng: random.Random) -> PreferencePair:
    positive = render_review(
        rng.getrandbits(64),
        sentiment=+1,
        topic=rng.choice(TOPICS),
        n_sentences=rng.randint(*RESPONSE_SENTENCES),
    )
    negative = counterfactual(positive, sentiment=-1)
    prompt = positive.opening
    return PreferencePair(
        prompt=prompt,
        chosen=positive.text[len(prompt) :],
        rejected=negative.text[len(prompt) :],
        attributes={"topic": positive.topic, "n_sentences": positive.n_sentences},
    )


def _biased_pair(
    rng: random.Random, spurious: _Spurious, split: str, p_favoured: float
) -> PreferencePair:
    prompt = rng.choice(PROMPTS)
    chosen = _response(rng, +1, spurious, favoured=rng.random() < p_favoured)
    rejected = _response(rng, -1, spurious, favoured=rng.random() < 1 - p_favoured)
    return PreferencePair(
        prompt=prompt,
        chosen=_completion(chosen),
        rejected=_completion(rejected),
        attributes={
            "bias": spurious.bias,
            "split": split,
            **spurious.labels(chosen, "chosen"),
            **spurious.labels(rejected, "rejected"),
        },
    )


def _counterfactual_pair(rng: random.Random, spurious: _Spurious) -> CounterfactualPair:
    prompt = rng.choice(PROMPTS)
    original = _response(rng, rng.choice(SENTIMENTS), spurious, favoured=False)
    flipped = counterfactual(original, **{spurious.attribute: spurious.draw(rng, True)})
    return CounterfactualPair(
        prompt=prompt,
        original=_completion(original),
        counterfactual=_completion(flipped),
        attributes={
            "bias": spurious.bias,
            "sentiment": original.sentiment,
            "z_original": getattr(original, spurious.attribute),
            "z_counterfactual": getattr(flipped, spurious.attribute),
        },
    )
