"""An opinion survey with known per-group answers, and how a language model answers it.

A :class:`SurveyQuestion` has options and, per group, the share of that group choosing each
option (``selections``), as in GlobalOpinionQA (Durmus et al., arXiv:2306.16388), where the
groups are countries. :data:`FILM_SURVEY` is this toolkit's survey over the review grammar:
three questions whose per-group answers are *invented* (they describe no real population)
and define the annotator groups' preferences (:mod:`toolkit.representation.groups`).

**A model's answer** is read from option log-probabilities: the prompt shows the question,
the options in some order and a cloze (``"I thought"``), and each option is scored as the
continuation. Language models prefer options by *position* (the first, the last) as well as
by content, so :func:`model_distribution` **balances the order**: it scores the options in
every cyclic rotation (each option once in every position), averages each option's
log-probability over the rotations and normalizes with a softmax. A position bias that adds
``b[k]`` to whatever option sits at position ``k`` adds the same ``mean(b)`` to every
option's average and cancels exactly in the softmax (tested with a planted bias).

:func:`load_global_opinions` reads a local file laid out like GlobalOpinionQA's
``global_opinions.csv`` (columns ``question``, ``selections``, ``options``, ``source``;
``selections`` a Python ``defaultdict`` repr mapping a group to one share per option), or a
JSON-lines file with the same fields; nothing is downloaded.
"""

from __future__ import annotations

import ast
import csv
import json
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from toolkit._checks import check_bool, check_choice, check_path, check_str, describe
from toolkit.data.grammar import SUBJECTS
from toolkit.representation.distributions import DistributionWarning, check_distribution
from toolkit.representation.metrics import (
    continuation_logprobs,
    most_similar_group,
    opinion_similarity,
)

KINDS = ("opinion", "usage")
REQUIRED_FIELDS = ("question", "selections", "options")

# scorer(prompt, continuations) -> the log-probability of each continuation after prompt
OptionScorer = Callable[[str, Sequence[str]], Sequence[float]]


@dataclass(frozen=True)
class SurveyQuestion:
    """A question, its options and each group's answer distribution over them.

    ``cloze`` ends the prompt, so that the options read as its continuation (``"I thought"``
    → ``" the plot"``); ``kind`` is ``"opinion"`` or ``"usage"`` (which word a group uses).
    ``phrasings[option]`` lists the continuations that give that answer (default: the
    option's own text); the option's score is the log of their summed probabilities.
    ``selections[group]`` is checked by the normalize-with-warning policy.
    """

    key: str
    question: str
    options: tuple[str, ...]
    selections: dict[str, tuple[float, ...]] = field(hash=False)
    cloze: str = "Answer:"
    kind: str = "opinion"
    source: str = ""
    phrasings: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    def __post_init__(self):
        check_str("key", self.key)
        check_str("question", self.question)
        if isinstance(self.options, str) or not isinstance(self.options, Sequence):
            raise TypeError(f"options must be a list of option texts, got {describe(self.options)}")
        options = tuple(check_str(f"options[{i}]", o) for i, o in enumerate(self.options))
        if len(options) < 2:
            raise ValueError(f"question {self.key!r} has {len(options)} option(s); give at least 2")
        if len(set(options)) != len(options):
            raise ValueError(f"question {self.key!r} repeats an option: {list(options)}")
        if not isinstance(self.selections, Mapping) or not self.selections:
            raise ValueError(
                f"question {self.key!r}: selections must be a non-empty mapping group -> shares"
            )
        selections = {
            check_str(f"question {self.key!r} selections key", g): check_distribution(
                f"question {self.key!r} selections[{g!r}]", dist, size=len(options)
            )
            for g, dist in self.selections.items()
        }
        check_str("cloze", self.cloze, allow_empty=True)
        check_choice("kind", self.kind, KINDS)
        if not isinstance(self.phrasings, Mapping):
            raise TypeError(
                f"phrasings must map an option to its texts, got {describe(self.phrasings)}"
            )
        phrasings = {}
        for option in options:
            texts = self.phrasings.get(option, (option,))
            if isinstance(texts, str) or not isinstance(texts, Sequence) or not texts:
                raise ValueError(
                    f"question {self.key!r}: phrasings[{option!r}] must be a non-empty list "
                    "of texts"
                )
            phrasings[option] = tuple(check_str(f"phrasings[{option!r}]", t) for t in texts)
        unknown = [o for o in self.phrasings if o not in options]
        if unknown:
            raise ValueError(f"question {self.key!r}: phrasings for unknown option(s) {unknown}")
        object.__setattr__(self, "options", options)
        object.__setattr__(self, "selections", selections)
        object.__setattr__(self, "phrasings", phrasings)

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self.selections)

    def prompt(self, order: Sequence[str] | None = None) -> str:
        """The prompt showing the options in ``order`` (default: as listed)."""
        order = self.options if order is None else tuple(order)
        if sorted(order) != sorted(self.options):
            raise ValueError(f"order must be a permutation of {list(self.options)}, got {order}")
        text = f"{self.question} Options: {', '.join(order)}."
        return f"{text} {self.cloze}" if self.cloze else text

    def distribution(self, group: str) -> tuple[float, ...]:
        """The share of ``group`` choosing each option."""
        check_choice("group", group, self.selections)
        return self.selections[group]


def rotations(options: Sequence[str]) -> list[tuple[str, ...]]:
    """Every cyclic rotation of ``options``: each option once in each position."""
    options = tuple(options)
    return [options[k:] + options[:k] for k in range(len(options))]


def _softmax(scores: Sequence[float]) -> tuple[float, ...]:
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    total = sum(weights)
    return tuple(w / total for w in weights)


def option_scores(
    scorer: OptionScorer, question: SurveyQuestion, balance: bool = True
) -> tuple[float, ...]:
    """Each option's log-probability as the continuation of the question's prompt (the
    log-sum-exp over its phrasings), averaged over every cyclic order of the options
    (``balance=True``) or in the listed order only."""
    if not callable(scorer):
        raise TypeError(
            f"scorer must be a function (prompt, continuations), got {describe(scorer)}"
        )
    if not isinstance(question, SurveyQuestion):
        raise TypeError(f"question must be a SurveyQuestion, got {describe(question)}")
    check_bool("balance", balance)
    orders = rotations(question.options) if balance else [question.options]
    continuations = [f" {text}" for o in question.options for text in question.phrasings[o]]
    totals = dict.fromkeys(question.options, 0.0)
    for order in orders:
        scores = list(scorer(question.prompt(order), continuations))
        if len(scores) != len(continuations):
            raise ValueError(
                f"scorer returned {len(scores)} scores for {len(continuations)} continuations"
            )
        k = 0
        for option in question.options:
            own = []
            for _ in question.phrasings[option]:
                score = float(scores[k])
                k += 1
                if not math.isfinite(score):
                    raise ValueError(f"scorer gave option {option!r} a non-finite score {score}")
                own.append(score)
            top = max(own)
            totals[option] += (top + math.log(sum(math.exp(x - top) for x in own))) / len(orders)
    return tuple(totals[o] for o in question.options)


def model_distribution(
    scorer: OptionScorer, question: SurveyQuestion, balance: bool = True
) -> tuple[float, ...]:
    """The model's answer distribution: softmax of :func:`option_scores` (order-balanced by
    default)."""
    return _softmax(option_scores(scorer, question, balance))


def lm_scorer(model, tokenizer) -> OptionScorer:
    """An :data:`OptionScorer` from a causal LM: summed log-probability of each continuation
    (:func:`~toolkit.representation.metrics.continuation_logprobs`)."""

    def score(prompt: str, continuations: Sequence[str]) -> list[float]:
        pairs = [(prompt, c) for c in continuations]
        return continuation_logprobs(model, tokenizer, pairs).tolist()

    return score


@dataclass(frozen=True)
class Survey:
    """Questions with unique keys; ``groups`` are those answering every question."""

    questions: tuple[SurveyQuestion, ...]

    def __post_init__(self):
        if isinstance(self.questions, SurveyQuestion) or not isinstance(self.questions, Sequence):
            raise TypeError(
                f"questions must be a list of SurveyQuestion, got {describe(self.questions)}"
            )
        questions = tuple(self.questions)
        if not questions:
            raise ValueError("a survey needs at least one question")
        for i, q in enumerate(questions):
            if not isinstance(q, SurveyQuestion):
                raise TypeError(f"questions[{i}] must be a SurveyQuestion, got {describe(q)}")
        keys = [q.key for q in questions]
        if len(set(keys)) != len(keys):
            raise ValueError(f"question keys repeat: {keys}")
        object.__setattr__(self, "questions", questions)

    def __iter__(self):
        return iter(self.questions)

    def __len__(self) -> int:
        return len(self.questions)

    def __getitem__(self, key: str) -> SurveyQuestion:
        for q in self.questions:
            if q.key == key:
                return q
        raise KeyError(f"no question {key!r}; the keys are {[q.key for q in self.questions]}")

    @property
    def groups(self) -> tuple[str, ...]:
        first = self.questions[0].groups
        return tuple(g for g in first if all(g in q.selections for q in self.questions))


def survey_answers(
    scorer: OptionScorer, survey: Survey, balance: bool = True
) -> dict[str, tuple[float, ...]]:
    """The model's answer distribution for every question, by key."""
    if not isinstance(survey, Survey):
        raise TypeError(f"survey must be a Survey, got {describe(survey)}")
    return {q.key: model_distribution(scorer, q, balance) for q in survey}


def group_similarity(
    answers: Mapping[str, Sequence[float]], survey: Survey, keys: Sequence[str] | None = None
) -> dict[str, float]:
    """Mean over questions (all, or ``keys``) of ``1 − JS distance`` between the model's
    answers and each group's, for every group that answered those questions."""
    if not isinstance(survey, Survey):
        raise TypeError(f"survey must be a Survey, got {describe(survey)}")
    if not isinstance(answers, Mapping):
        raise TypeError(
            f"answers must be a mapping question key -> distribution, got {describe(answers)}"
        )
    questions = list(survey) if keys is None else [survey[k] for k in keys]
    groups = [g for g in survey.groups if all(g in q.selections for q in questions)]
    out = {}
    for group in groups:
        sims = []
        for q in questions:
            if q.key not in answers:
                raise ValueError(f"answers has no question {q.key!r}")
            sims.append(opinion_similarity(answers[q.key], q.selections[group]))
        out[group] = sum(sims) / len(sims)
    return out


def closest_group(answers: Mapping[str, Sequence[float]], survey: Survey) -> str:
    """The group whose answers the model's are most similar to."""
    return most_similar_group(group_similarity(answers, survey))


# The survey of the review world. Options are texts of the grammar (toolkit.data.grammar):
# a verdict's subject per topic, a genre of the filler bank, the word for the cinema. The
# shares are invented; each group's vector is a permutation of the same numbers, so a model
# that answers uniformly is equally far from every group.
TOPIC_OPTIONS = ("the acting", "the plot", "the music", "the cinematography", "the pacing")
TOPIC_OF_OPTION = dict(
    zip(TOPIC_OPTIONS, ("acting", "plot", "music", "visuals", "pacing"), strict=True)
)
GENRE_OPTIONS = ("a crime drama", "a romantic comedy", "a western", "a musical")
VENUE_OPTIONS = ("cinema", "theater", "pictures")

FILM_SURVEY = Survey(
    (
        SurveyQuestion(
            key="topic",
            question="What matters most to you in a film?",
            options=TOPIC_OPTIONS,
            selections={
                "us": (0.20, 0.50, 0.05, 0.15, 0.10),
                "gb": (0.50, 0.20, 0.05, 0.10, 0.15),
                "sco": (0.10, 0.05, 0.50, 0.20, 0.15),
            },
            cloze="I thought",
            source="invented (toolkit.representation)",
            phrasings={option: SUBJECTS[TOPIC_OF_OPTION[option]] for option in TOPIC_OPTIONS},
        ),
        SurveyQuestion(
            key="genre",
            question="Which kind of film do you enjoy most?",
            options=GENRE_OPTIONS,
            selections={
                "us": (0.55, 0.25, 0.12, 0.08),
                "gb": (0.25, 0.55, 0.08, 0.12),
                "sco": (0.08, 0.12, 0.25, 0.55),
            },
            cloze="It is",
            source="invented (toolkit.representation)",
        ),
        SurveyQuestion(
            key="venue",
            question="What do you call the place where you watch a new film?",
            options=VENUE_OPTIONS,
            selections={
                "us": (0.15, 0.80, 0.05),
                "gb": (0.80, 0.05, 0.15),
                "sco": (0.15, 0.05, 0.80),
            },
            cloze="I left the",
            kind="usage",
            source="invented; the words follow toolkit.representation.dialects",
        ),
    )
)


# GlobalOpinionQA-layout files.


def _parse_literal(text: str, field_name: str, where: str) -> object:
    match = re.fullmatch(r"\s*defaultdict\(\s*<class '\w+'>\s*,\s*(.*)\)\s*", text, re.S)
    if match:
        text = match.group(1)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(f"{where}: field {field_name!r} is not readable: {text[:80]!r}") from None


def _records(path: Path) -> list[dict]:
    if path.suffix.lower() in (".jsonl", ".json"):
        records = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}: line {n} is not JSON: {error}") from None
                if not isinstance(record, dict):
                    raise ValueError(f"{path}: line {n} is not a JSON object")
                records.append(record)
        return records
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None:
            raise ValueError(f"{path} is empty; expected a header with {list(REQUIRED_FIELDS)}")
        missing = [name for name in REQUIRED_FIELDS if name not in reader.fieldnames]
        if missing:
            raise ValueError(
                f"{path} has no {', '.join(map(repr, missing))} column (columns: "
                f"{reader.fieldnames}); a GlobalOpinionQA file has {list(REQUIRED_FIELDS)}"
            )
        return list(reader)


def load_global_opinions(path: str | Path, groups: Sequence[str] | None = None) -> Survey:
    """A :class:`Survey` from a local GlobalOpinionQA-layout file (``.csv`` or ``.jsonl``).

    Each record needs ``question`` (text), ``options`` (a list, or its Python/JSON text) and
    ``selections`` (a mapping group → one share per option, or its text, ``defaultdict``
    repr included); ``source`` is kept when present. ``groups`` keeps only those groups (a
    question answered by none of them is dropped). Keys are ``q1``, ``q2``, ... in file
    order. Shares that do not sum to 1 are normalized, with one
    :class:`~toolkit.representation.distributions.DistributionWarning` for the file.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the row (1 is
    the first record) and the field for a missing or unreadable field, an option list that
    is not a list of str, or a group whose shares do not match the options.
    """
    path = check_path("path", path)
    if not path.is_file():
        raise FileNotFoundError(f"no survey file at {str(path)!r}")
    if groups is not None:
        if isinstance(groups, str) or not isinstance(groups, Sequence):
            raise TypeError(f"groups must be a list of group names, got {describe(groups)}")
        groups = [check_str(f"groups[{i}]", g) for i, g in enumerate(groups)]
    questions, renormalized = [], []
    for n, record in enumerate(_records(path), 1):
        where = f"{path.name}: row {n}"
        missing = [name for name in REQUIRED_FIELDS if record.get(name) in (None, "")]
        if missing:
            raise ValueError(
                f"{where} has no {', '.join(map(repr, missing))} field (fields: {sorted(record)})"
            )
        question = record["question"]
        if not isinstance(question, str):
            raise ValueError(f"{where}: field 'question' must be text, got {describe(question)}")
        options = record["options"]
        if isinstance(options, str):
            options = _parse_literal(options, "options", where)
        if not isinstance(options, list | tuple) or not all(isinstance(o, str) for o in options):
            raise ValueError(
                f"{where}: field 'options' must be a list of str, got {describe(options)}"
            )
        selections = record["selections"]
        if isinstance(selections, str):
            selections = _parse_literal(selections, "selections", where)
        if not isinstance(selections, Mapping):
            raise ValueError(
                f"{where}: field 'selections' must map a group to its shares, got "
                f"{describe(selections)}"
            )
        kept = {}
        for group, shares in selections.items():
            if groups is not None and group not in groups:
                continue
            if not isinstance(shares, list | tuple) or len(shares) != len(options):
                raise ValueError(
                    f"{where}: selections[{group!r}] has {describe(shares)}; expected "
                    f"{len(options)} shares, one per option"
                )
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", DistributionWarning)
                kept[group] = check_distribution(f"{where} selections[{group!r}]", list(shares))
            if caught:
                renormalized.append(f"{where} {group!r} (sum {sum(map(float, shares)):.4g})")
        if not kept:
            continue
        questions.append(
            SurveyQuestion(
                key=f"q{n}",
                question=question.strip(),
                options=tuple(options),
                selections=kept,
                source=str(record.get("source") or ""),
            )
        )
    if renormalized:
        warnings.warn(
            f"{len(renormalized)} answer distribution(s) in {path.name} did not sum to 1 and "
            f"were normalized (first: {renormalized[0]})",
            DistributionWarning,
            stacklevel=2,
        )
    if not questions:
        raise ValueError(f"{path} holds no question answered by {groups or 'any group'}")
    return Survey(tuple(questions))


def write_global_opinions(survey: Survey, path: str | Path) -> Path:
    """Write ``survey`` as a GlobalOpinionQA-layout CSV (``selections`` as a
    ``defaultdict`` repr, like the original); :func:`load_global_opinions` reads it back."""
    if not isinstance(survey, Survey):
        raise TypeError(f"survey must be a Survey, got {describe(survey)}")
    path = check_path("path", path)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["question", "selections", "options", "source"])
        writer.writeheader()
        for q in survey:
            selections = {g: list(d) for g, d in q.selections.items()}
            writer.writerow(
                {
                    "question": q.question,
                    "selections": f"defaultdict(<class 'list'>, {selections!r})",
                    "options": repr(list(q.options)),
                    "source": q.source,
                }
            )
    return path


def survey_in_dialect(survey: Survey, dialect: str) -> Survey:
    """``survey`` asked in ``dialect``: its questions, clozes and option phrasings rewritten
    by the dialect's rules (:func:`~toolkit.representation.dialects.to_dialect`); the option
    names stay as they are, so answers remain comparable. Word-use questions keep their
    phrasings: their words are what is asked about."""
    from toolkit.representation.dialects import to_dialect

    if not isinstance(survey, Survey):
        raise TypeError(f"survey must be a Survey, got {describe(survey)}")
    return Survey(
        tuple(
            SurveyQuestion(
                key=q.key,
                question=to_dialect(q.question, dialect),
                options=q.options,
                selections=q.selections,
                cloze=to_dialect(q.cloze, dialect),
                kind=q.kind,
                source=q.source,
                phrasings=q.phrasings
                if q.kind == "usage"
                else {
                    o: tuple(to_dialect(t, dialect) for t in ts) for o, ts in q.phrasings.items()
                },
            )  # fmt: skip
            for q in survey
        )
    )


__all__ = [
    "FILM_SURVEY",
    "GENRE_OPTIONS",
    "KINDS",
    "TOPIC_OF_OPTION",
    "TOPIC_OPTIONS",
    "VENUE_OPTIONS",
    "OptionScorer",
    "Survey",
    "SurveyQuestion",
    "closest_group",
    "group_similarity",
    "lm_scorer",
    "load_global_opinions",
    "model_distribution",
    "option_scores",
    "rotations",
    "survey_answers",
    "survey_in_dialect",
    "write_global_opinions",
]
