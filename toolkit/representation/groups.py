"""Annotator groups with defined preferences, their preference pairs, and annotator pools.

Three groups (:data:`GROUPS`), each writing one dialect of
:mod:`toolkit.representation.dialects` and holding the opinions of
:data:`~toolkit.representation.survey.FILM_SURVEY` (invented numbers, no real population).

**Responses.** A response answers a viewer's question (:data:`toolkit.data.PROMPTS`) with a
one-sentence verdict on one topic and a sentence naming the film's genre, e.g. *"I thought
the plot in this movie was truly superb. It is a western."*, in the annotator's dialect.

**Preferences.** A group's utility for a response is its *agreement*:
``u_g(y) = P_g(topic of y) + P_g(genre of y)``, the shares of the group that would pick the
response's topic and genre in the survey (:data:`TOPIC_SHARES`, :data:`GENRE_SHARES`). Group
``g`` prefers the response with the higher
``u_g`` (deterministic labels; pairs whose utilities tie are redrawn). The two responses of
a pair are the same review (same seed, sentiment and template) with a different topic and a
different genre, so a pair differs only where the groups disagree.

**Pools.** :func:`annotator_pool` labels ``n`` pairs, each by a group drawn to an exact quota
(largest remainders) of a mix such as ``{"us": 0.8, "gb": 0.15, "sco": 0.05}``; each group's
pairs come from its own seeded stream, so pools of different mixes share their first pairs.
:func:`reweight_pool` resamples a pool (with replacement, per group) to a target mix:
importance reweighting of the data one has, not new annotators.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from toolkit._checks import check_choice, check_int, check_str, describe
from toolkit.data import PROMPTS
from toolkit.data.grammar import SUBJECTS
from toolkit.data.reviews import SENTIMENTS, counterfactual, render_review
from toolkit.representation.dialects import to_dialect
from toolkit.representation.distributions import normalize_mix, quota_counts
from toolkit.representation.survey import (
    FILM_SURVEY,
    GENRE_OPTIONS,
    TOPIC_OF_OPTION,
    TOPIC_OPTIONS,
    VENUE_OPTIONS,
)


@dataclass(frozen=True)
class Group:
    """An annotator group: a name, the dialect it writes, and a description."""

    name: str
    dialect: str
    description: str


GROUPS: dict[str, Group] = {
    "us": Group("us", "us", "annotators writing American English"),
    "gb": Group("gb", "gb", "annotators writing British English"),
    "sco": Group("sco", "sco", "annotators writing Scots"),
}

SKEWED_MIX = {"us": 0.80, "gb": 0.15, "sco": 0.05}  # the skewed annotator pool of notebook 08
BALANCED_MIX = {"us": 1 / 3, "gb": 1 / 3, "sco": 1 / 3}  # one third each
PREFERENCE_KEYS = ("topic", "genre")  # the survey questions that define the utilities
# group -> topic -> share of the group choosing it in FILM_SURVEY (its utility's topic term)
TOPIC_SHARES = {
    g: dict(
        zip(
            (TOPIC_OF_OPTION[o] for o in TOPIC_OPTIONS),
            FILM_SURVEY["topic"].selections[g],
            strict=True,
        )
    )
    for g in GROUPS
}
# group -> genre -> share of the group choosing it in FILM_SURVEY (its utility's genre term)
GENRE_SHARES = {
    g: dict(zip(GENRE_OPTIONS, FILM_SURVEY["genre"].selections[g], strict=True)) for g in GROUPS
}


def check_group(name: str, group: object) -> str:
    """``group`` is a key of :data:`GROUPS` (the error lists them)."""
    return check_choice(name, group, GROUPS)


def utility(group: str, topic: str, genre: str) -> float:
    """``P_g(topic) + P_g(genre)``: the share of ``group`` agreeing with each choice."""
    check_group("group", group)
    check_choice("topic", topic, TOPIC_SHARES[group])
    check_choice("genre", genre, GENRE_SHARES[group])
    return TOPIC_SHARES[group][topic] + GENRE_SHARES[group][genre]


def response_text(review_text: str, genre: str) -> str:
    """A response: the verdict, then ``It is {genre}.`` (standard text, before any dialect)."""
    check_choice("genre", genre, GENRE_OPTIONS)
    return f"{review_text} It is {genre}."


_SUBJECT_TOPIC = {subject: topic for topic, subjects in SUBJECTS.items() for subject in subjects}
_SUBJECT = re.compile("|".join(sorted(map(re.escape, _SUBJECT_TOPIC), key=len, reverse=True)))
_GENRE = re.compile("|".join(map(re.escape, GENRE_OPTIONS)))
_VENUE = re.compile(r"\b(" + "|".join(VENUE_OPTIONS) + r")\b")


def expressed(text: str) -> dict[str, str | None]:
    """What a (generated) response expresses: its first subject's topic, its first genre of
    :data:`GENRE_OPTIONS` and its first word for the cinema, None where absent. Every
    dialect writes subjects and genres the same (Scots *-in* endings are read back)."""
    check_str("text", text, allow_empty=True)
    standard = re.sub(r"\b(actin|pacin|lightin|editin)\b", lambda m: m.group(1) + "g", text.lower())
    subject, genre, venue = (
        _SUBJECT.search(standard),
        _GENRE.search(standard),
        _VENUE.search(standard),
    )
    return {
        "topic": _SUBJECT_TOPIC[subject.group(0)] if subject else None,
        "genre": genre.group(0) if genre else None,
        "venue": venue.group(1) if venue else None,
    }


def reward(group: str, text: str) -> float:
    """Group ``group``'s agreement with what ``text`` expresses: ``P_g(topic) + P_g(genre)``,
    a missing topic or genre counting 0 (so in [0, 2])."""
    check_group("group", group)
    found = expressed(text)
    topic = TOPIC_SHARES[group].get(found["topic"], 0.0) if found["topic"] else 0.0
    genre = GENRE_SHARES[group].get(found["genre"], 0.0) if found["genre"] else 0.0
    return topic + genre


def group_prompts(group: str) -> list[str]:
    """The viewer questions in the group's dialect."""
    check_group("group", group)
    return [to_dialect(p, GROUPS[group].dialect) for p in PROMPTS]


def _pair(rng: random.Random, group: str) -> dict[str, Any]:
    dialect = GROUPS[group].dialect
    topics = list(TOPIC_SHARES[group])
    while True:
        seed = rng.getrandbits(64)
        sentiment = rng.choice(SENTIMENTS)
        prompt = rng.choice(PROMPTS)
        t1, t2 = rng.sample(topics, 2)
        g1, g2 = rng.sample(GENRE_OPTIONS, 2)
        u1, u2 = utility(group, t1, g1), utility(group, t2, g2)
        if abs(u1 - u2) > 1e-9:
            break
    first = render_review(seed, sentiment=sentiment, topic=t1, n_sentences=1)
    second = counterfactual(first, topic=t2)
    a = {"text": response_text(first.text, g1), "topic": t1, "genre": g1, "utility": u1}
    b = {"text": response_text(second.text, g2), "topic": t2, "genre": g2, "utility": u2}
    chosen, rejected = (a, b) if u1 > u2 else (b, a)
    return {
        "prompt": to_dialect(prompt, dialect),
        "chosen": " " + to_dialect(chosen["text"], dialect),
        "rejected": " " + to_dialect(rejected["text"], dialect),
        "group": group,
        "dialect": dialect,
        "topic_chosen": chosen["topic"],
        "topic_rejected": rejected["topic"],
        "genre_chosen": chosen["genre"],
        "genre_rejected": rejected["genre"],
        "utility_chosen": chosen["utility"],
        "utility_rejected": rejected["utility"],
        "sentiment": sentiment,
    }


def parallel_responses(n: int, seed: int) -> list[dict[str, str]]:
    """``n`` prompts with a response each, written in every dialect: ``{"prompt": {dialect:
    text}, "response": {dialect: text}}`` (responses start with a space). Exact parallels:
    one standard prompt and response, rewritten by each dialect's rules."""
    from toolkit.representation.dialects import DIALECTS

    n = check_int("n", n, minimum=0)
    seed = check_int("seed", seed)
    rng = random.Random(f"representation:parallel:{seed}")
    out = []
    for _ in range(n):
        review = render_review(
            rng.getrandbits(64), sentiment=rng.choice(SENTIMENTS),
            topic=rng.choice(list(TOPIC_SHARES["us"])),
            n_sentences=1,
        )  # fmt: skip
        prompt, response = (
            rng.choice(PROMPTS),
            response_text(review.text, rng.choice(GENRE_OPTIONS)),
        )
        out.append(
            {
                "prompt": {d: to_dialect(prompt, d) for d in DIALECTS},
                "response": {d: " " + to_dialect(response, d) for d in DIALECTS},
            }
        )
    return out


def preference_pairs(group: str, n: int, seed: int, split: str = "train") -> list[dict]:
    """``n`` pairs labelled by ``group``, in its dialect, as TRL preference rows (``prompt``,
    ``chosen``, ``rejected``; completions start with a space) plus ground-truth columns.
    The first ``k`` pairs are the same for every ``n >= k``; the ``"test"`` split is an
    independent stream."""
    check_group("group", group)
    n = check_int("n", n, minimum=0)
    seed = check_int("seed", seed)
    check_choice("split", split, ("train", "test"))
    rng = random.Random(f"representation:{group}:{split}:{seed}")
    return [_pair(rng, group) for _ in range(n)]


def annotator_pool(mix: Mapping[str, float], n: int, seed: int) -> list[dict]:
    """``n`` training pairs labelled by an annotator pool with group shares ``mix`` (relative
    weights; exact quotas by largest remainders), shuffled with ``seed``."""
    shares = normalize_mix(mix, "mix")
    n = check_int("n", n, minimum=1)
    seed = check_int("seed", seed)
    counts = quota_counts(shares, n)
    rows = [row for g, c in counts.items() for row in preference_pairs(g, c, seed)]
    random.Random(f"pool:{seed}").shuffle(rows)
    return rows


def pool_shares(rows: Sequence[Mapping]) -> dict[str, float]:
    """Each group's share of ``rows`` (by their ``group`` column), every group listed."""
    if isinstance(rows, str | bytes) or not isinstance(rows, Sequence) or not rows:
        raise TypeError(f"rows must be a non-empty list of pool rows, got {describe(rows)}")
    counts = Counter()
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping) or "group" not in row:
            raise ValueError(f"rows[{i}] has no 'group' column; rows come from annotator_pool")
        counts[check_group(f"rows[{i}]['group']", row["group"])] += 1
    return {g: counts[g] / len(rows) for g in GROUPS}


def reweight_pool(
    rows: Sequence[Mapping], target: Mapping[str, float] | None = None, seed: int = 0
) -> list[dict]:
    """``rows`` resampled to the group shares ``target`` (default: equal), as many rows as
    given: each group's quota is drawn with replacement from its own rows, so a group of 5%
    at target 1/3 has each of its pairs repeated about 6.7 times. A group with a positive
    target but no rows is refused (reweighting cannot invent annotators)."""
    shares = pool_shares(rows)
    target = normalize_mix(BALANCED_MIX if target is None else target, "target")
    seed = check_int("seed", seed)
    empty = [g for g in GROUPS if target[g] > 0 and shares[g] == 0]
    if empty:
        raise ValueError(
            f"target gives group(s) {empty} a positive share but rows have none of their "
            "pairs; reweighting can only reuse pairs that exist"
        )
    rng = random.Random(f"reweight:{seed}")
    by_group = {g: [dict(r) for r in rows if r["group"] == g] for g in GROUPS}
    counts = quota_counts(target, len(rows))
    out = [dict(rng.choice(by_group[g])) for g, c in counts.items() for _ in range(c)]
    rng.shuffle(out)
    return out


def sft_texts(rows: Sequence[Mapping]) -> list[str]:
    """Supervised fine-tuning texts of a pool: each prompt followed by its chosen response."""
    if isinstance(rows, str | bytes) or not isinstance(rows, Sequence) or not rows:
        raise TypeError(f"rows must be a non-empty list of pool rows, got {describe(rows)}")
    return [
        check_str(f"rows[{i}]['prompt']", r["prompt"]) + r["chosen"] for i, r in enumerate(rows)
    ]


def mix_grid(step: float = 0.25) -> list[dict[str, float]]:
    """Every mix of the three groups on a grid of ``step`` (which must divide 1), plus the
    skewed 80/15/5 mix and the balanced mix, majority (``us``) share descending."""
    if isinstance(step, bool) or not isinstance(step, int | float) or not 0 < step <= 1:
        raise ValueError(f"step must be a number in (0, 1], got {describe(step)}")
    k = round(1 / step)
    if abs(k * step - 1) > 1e-9:
        raise ValueError(f"step must divide 1 (1/2, 1/4, 1/5, ...), got {step}")
    names = list(GROUPS)
    mixes = [
        {names[0]: i / k, names[1]: j / k, names[2]: (k - i - j) / k}
        for i in range(k + 1)
        for j in range(k + 1 - i)
    ]
    for extra in (SKEWED_MIX, BALANCED_MIX):
        if not any(all(abs(m[g] - extra[g]) < 1e-9 for g in names) for m in mixes):
            mixes.append(dict(extra))
    return sorted(mixes, key=lambda m: (-m[names[0]], -m[names[1]]))


__all__ = [
    "BALANCED_MIX",
    "GENRE_SHARES",
    "GROUPS",
    "PREFERENCE_KEYS",
    "SKEWED_MIX",
    "TOPIC_SHARES",
    "Group",
    "annotator_pool",
    "check_group",
    "expressed",
    "group_prompts",
    "mix_grid",
    "parallel_responses",
    "pool_shares",
    "preference_pairs",
    "response_text",
    "reward",
    "reweight_pool",
    "sft_texts",
    "utility",
]
