"""Seeded key–value retrieval text: facts stated inside review filler and queried later.

The needle-in-a-haystack test of Q-Filters (Godey et al., arXiv 2503.02812, §4) asks a model
for a fact stated once, far back in a long context. This module writes that text::

    fact      ::= "The secret number of " key " is " value "."
    question  ::= "What is the secret number of " key "? The secret number of " key " is"
    query     ::= question " " value "."
    key       ::= "the " adjective " " noun        e.g. "the silver harbor"  (KEY_ADJECTIVES,
                                                    KEY_NOUNS: no word of the review grammar)
    value     ::= a uniformly random number in [100, 999] (``value_digits=3``)

The question restates the key right before the value, so a copying ("induction") head that
matches ``key is`` with its earlier occurrence retrieves the value; nothing else can, since
values are random.

That is the ``"plain"`` style. The ``"varied"`` style (``style="varied"``, :data:`TEMPLATES`)
phrases each fact in one of six templates — "The code word for the silver harbor is falcon.",
"Remember that the guest at the amber tower is called otter.", "A note says the locker number
at … is 412.", … — with numbers or code words (:data:`VALUE_WORDS`) as values; each question
is the question proper (``NeedleExample.asked``, through its ``?``) followed by an answer
prefix that restates the key just before the value. Filler is the toolkit's review corpus
(:func:`toolkit.data.review_corpus`),
which has no digits and no key word, so the value occurs in a prompt only where it is stated.

Lengths (``context_tokens``) are counted in the tokens of ``tokenizer`` when one is given and in
whitespace-separated words otherwise (a 1,024-entry byte-level BPE gives about 1.4 tokens a word on
this text). Both are approximate: text is assembled from whole sentences.

* :func:`retrieval_corpus` — training documents, each with several facts, every fact queried
  once at a uniformly drawn distance after it.
* :func:`answer_spans` — where the answers of a document's queries are (training targets).
* :func:`needle_examples` — evaluation prompts, one fact (the needle) in a haystack of filler at
  relative depth ``depth`` (0 = first sentence, 1 = just before the question), ending just
  before the answer.

The two draw from differently named random streams, so held-out needles never repeat
training documents for any pair of seeds.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from toolkit._checks import check_choice, check_int, check_probability, check_str, describe
from toolkit.data.reviews import review_corpus

KEY_ADJECTIVES: tuple[str, ...] = (
    "silver", "amber", "crimson", "golden", "frozen", "hidden", "northern", "copper",
    "velvet", "marble", "misty", "sunken", "ancient", "emerald", "scarlet", "lunar",
)  # fmt: skip
KEY_NOUNS: tuple[str, ...] = (
    "harbor", "tower", "garden", "valley", "forest", "castle", "island", "river",
    "temple", "market", "lantern", "meadow", "canyon", "orchard", "glacier", "lagoon",
)  # fmt: skip

# Code words of the "varied" style's word-valued facts: no word of the review grammar, of the
# keys or of the templates, so a value occurs in a prompt only where it is stated.
VALUE_WORDS: tuple[str, ...] = (
    "falcon", "tulip", "cobalt", "pepper", "walrus", "saffron", "juniper", "quartz",
    "raven", "willow", "nectar", "pebble", "thistle", "comet", "otter", "lilac",
    "hazel", "ember", "badger", "cedar", "kestrel", "mango", "puffin", "sorrel",
    "tundra", "violet", "zephyr", "bramble", "dingo", "fennel", "gecko", "heron",
    "iris", "jasper", "koala", "lemur", "magpie", "nutmeg", "ocelot", "panda",
    "quince", "rhubarb", "sparrow", "tapir", "urchin", "viper", "wombat", "yak",
    "zebra", "acorn", "basil", "clover", "daisy", "eagle", "fig", "ginger",
    "hornet", "ivy", "jackal", "kiwi", "lotus", "moth", "newt", "olive",
)  # fmt: skip


@dataclass(frozen=True)
class FactTemplate:
    """How a fact is stated and asked: ``statement`` holds ``{key}`` and ``{value}``; the
    question is ``ask + " " + prefix`` (both with ``{key}``), ``prefix`` ending just before the
    value; ``values`` is ``"digits"`` (a random number) or ``"words"`` (one of
    :data:`VALUE_WORDS`)."""

    statement: str
    ask: str
    prefix: str
    values: str = "digits"


PLAIN = FactTemplate(
    "The secret number of {key} is {value}.",
    "What is the secret number of {key}?",
    "The secret number of {key} is",
)
TEMPLATES: dict[str, tuple[FactTemplate, ...]] = {
    "plain": (PLAIN,),
    "varied": (
        PLAIN,
        FactTemplate(
            "The code word for {key} is {value}.",
            "Which code word goes with {key}?",
            "The code word for {key} is",
            "words",
        ),
        FactTemplate(
            "Remember that the guest at {key} is called {value}.",
            "Who is the guest at {key}?",
            "The guest at {key} is called",
            "words",
        ),
        FactTemplate(
            "A note says the locker number at {key} is {value}.",
            "What locker number is at {key}?",
            "The locker number at {key} is",
        ),
        FactTemplate(
            "I wrote down that the password of {key} was {value}.",
            "What was the password of {key}?",
            "The password of {key} was",
            "words",
        ),
        FactTemplate(
            "The label on the box from {key} reads {value}.",
            "What does the label on the box from {key} read?",
            "The label on the box from {key} reads",
        ),
    ),
}
STYLES = tuple(TEMPLATES)
STATEMENT = PLAIN.statement
QUESTION = f"{PLAIN.ask} {PLAIN.prefix}"
_KEY = r"the [a-z]+ [a-z]+"
_ANSWERS = [
    re.compile(
        re.escape(f"{t.ask} {t.prefix}").replace(re.escape("{key}"), _KEY) + r" (\d+|[a-z]+)\."
    )
    for t in TEMPLATES["varied"]
]

_CORPUS_STREAM = "retrieval-corpus"
_NEEDLE_STREAM = "needle"
_REVIEWS_PER_DRAW = 16
MAX_VALUE_DIGITS = 18  # values stay below 10**18, well inside a machine integer


@dataclass(frozen=True)
class Fact:
    """A key (``"the silver harbor"``) bound to a value (``"481"``), stated and asked with
    ``template``."""

    key: str
    value: str
    template: FactTemplate = PLAIN

    @property
    def statement(self) -> str:
        return self.template.statement.format(key=self.key, value=self.value)

    @property
    def question(self) -> str:
        """The query up to (not including) the value: a prompt ending just before the answer."""
        return f"{self.template.ask} {self.template.prefix}".format(key=self.key)

    @property
    def query(self) -> str:
        return f"{self.question} {self.value}."


@dataclass(frozen=True)
class NeedleExample:
    """A haystack prompt with one fact in it, the fact's value, and the fact's relative depth.

    ``prompt`` ends with the question, just before the answer (no trailing space): a correct
    greedy continuation is ``" " + answer + "."``. ``question`` is that last part, so
    ``prompt == context + " " + question`` with ``context`` the haystack holding the needle.
    ``statement`` is the needle as the haystack states it (empty: the plain template's).
    """

    prompt: str
    answer: str
    depth: float
    question: str
    statement: str = ""

    @property
    def asked(self) -> str:
        """The question proper, through its ``?`` (the question without the answer prefix that
        restates the key); the whole question if it has no ``?``."""
        end = self.question.find("?")
        return self.question if end < 0 else self.question[: end + 1]

    @property
    def context(self) -> str:
        """The haystack before the question (no trailing space)."""
        return self.prompt[: len(self.prompt) - len(self.question) - 1]

    @property
    def answer_span(self) -> tuple[int, int]:
        """Character span ``[start, end)`` in ``prompt`` of the answer the needle states."""
        stated = self.statement or STATEMENT.split("{key}")[1].format(value=self.answer)
        start = self.context.find(stated)  # the plain template: " is 481."
        if start < 0 or self.answer not in stated:
            raise ValueError(f"example at depth {self.depth} does not state its answer")
        start += stated.rindex(self.answer)
        return start, start + len(self.answer)


def _length(text: str, tokenizer: PreTrainedTokenizerBase | None) -> int:
    if tokenizer is None:
        return len(text.split())
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _facts(rng: random.Random, n: int, value_digits: int, style: str = "plain") -> list[Fact]:
    """``n`` facts with distinct keys and distinct values: ``value_digits``-digit numbers, and
    for the ``"varied"`` style code words too, each fact with a template drawn uniformly."""
    pairs = rng.sample([(a, b) for a in KEY_ADJECTIVES for b in KEY_NOUNS], n)
    numbers = rng.sample(range(10 ** (value_digits - 1), 10**value_digits), n)
    if style == "plain":  # the draws of the original corpus, unchanged
        templates = [PLAIN] * n
        values = [str(v) for v in numbers]
    else:
        templates = [rng.choice(TEMPLATES[style]) for _ in range(n)]
        words = iter(rng.sample(VALUE_WORDS, n))
        digits = iter(numbers)
        values = [str(next(digits)) if t.values == "digits" else next(words) for t in templates]
    return [
        Fact(f"the {a} {b}", v, t) for (a, b), v, t in zip(pairs, values, templates, strict=True)
    ]


def _filler(
    rng: random.Random, budget: int, tokenizer: PreTrainedTokenizerBase | None
) -> tuple[list[str], list[int]]:
    """Reviews (and their lengths) totalling at least ``budget``, at least one review."""
    texts: list[str] = []
    lengths: list[int] = []
    while not texts or sum(lengths) < budget:
        for text in review_corpus(_REVIEWS_PER_DRAW, rng.getrandbits(64)):
            texts.append(text)
            lengths.append(_length(text, tokenizer))
            if sum(lengths) >= budget:
                break
    return texts, lengths


def _check_context(context_tokens: int, fixed: int, what: str) -> int:
    """The filler budget left by ``fixed`` tokens of facts and questions; positive or an error."""
    if context_tokens <= fixed:
        raise ValueError(
            f"context_tokens={context_tokens} leaves no room for filler: {what} alone take "
            f"{fixed}; use context_tokens of at least {fixed + 1}"
        )
    return context_tokens - fixed


def _check_common(
    n, seed, context_tokens, value_digits, tokenizer, n_facts: int = 1, style: str = "plain"
) -> None:
    """Arguments shared by :func:`retrieval_corpus` and :func:`needle_examples`."""
    check_choice("style", check_str("style", style), STYLES)
    if style != "plain" and n_facts > len(VALUE_WORDS):
        raise ValueError(
            f"n_facts={n_facts} exceeds the {len(VALUE_WORDS)} code words of style {style!r}"
        )
    check_int("n", n, minimum=1)
    check_int("seed", seed)
    check_int("context_tokens", context_tokens, minimum=1)
    check_int("value_digits", value_digits, minimum=1, maximum=MAX_VALUE_DIGITS)
    if 9 * 10 ** (value_digits - 1) < n_facts:
        raise ValueError(
            f"value_digits={value_digits} gives {9 * 10 ** (value_digits - 1)} distinct values, "
            f"fewer than n_facts={n_facts}; use more digits or fewer facts"
        )
    if tokenizer is not None and not isinstance(tokenizer, PreTrainedTokenizerBase):
        raise TypeError(
            f"tokenizer must be None (count words) or a transformers tokenizer, "
            f"got {describe(tokenizer)}"
        )


def _document(
    rng: random.Random,
    context_tokens: int,
    n_facts: int,
    queries_per_fact: int,
    value_digits: int,
    tokenizer: PreTrainedTokenizerBase | None,
    style: str = "plain",
) -> str:
    """Filler reviews with ``n_facts`` facts and their queries inserted between reviews.

    A fact's first query lies ``d`` review slots after it, ``d`` uniform over ``[0, slots]``,
    so retrieval distances are uniform up to the whole document; its later queries fall
    uniformly between the first query and the end (copies at shorter range). The fact's
    slot is uniform over what leaves room for its farthest query.
    """
    facts = _facts(rng, n_facts, value_digits, style)
    fixed = sum(
        _length(f.statement, tokenizer) + queries_per_fact * _length(f.query, tokenizer)
        for f in facts
    )
    budget = _check_context(context_tokens, fixed, "the facts and queries")
    reviews, _ = _filler(rng, budget, tokenizer)
    slots = len(reviews)
    inserts: list[tuple[int, int, str]] = []
    for fact in facts:
        first = rng.randint(0, slots)
        distances = [first] + [rng.randint(first, slots) for _ in range(queries_per_fact - 1)]
        start = rng.randint(0, slots - max(distances))
        inserts.append((start, 0, fact.statement))
        inserts += [(start + d, 1, fact.query) for d in distances]
    inserts.sort(key=lambda item: (item[0], item[1]))
    pieces: list[str] = []
    queue = iter(inserts)
    pending = next(queue, None)
    for slot in range(slots + 1):
        while pending is not None and pending[0] == slot:
            pieces.append(pending[2])
            pending = next(queue, None)
        if slot < slots:
            pieces.append(reviews[slot])
    return " ".join(pieces)


def retrieval_corpus(
    n: int,
    seed: int,
    *,
    context_tokens: int = 1024,
    n_facts: int = 8,
    queries_per_fact: int = 1,
    value_digits: int = 3,
    tokenizer: PreTrainedTokenizerBase | None = None,
    style: str = "plain",
) -> list[str]:
    """``n`` training documents of about ``context_tokens`` each, with ``n_facts`` facts apiece.

    Every fact is stated once and queried ``queries_per_fact`` times later (first query
    distance uniform over the document), so each document gives copy targets at every range
    up to ``context_tokens``. Keys within a document are distinct but may share an adjective
    or a noun, so retrieving needs the whole key. ``style``: ``"plain"`` (every fact a secret
    number) or ``"varied"`` (:data:`TEMPLATES`: six phrasings, numbers and code words).
    """
    check_int("n_facts", n_facts, minimum=1, maximum=len(KEY_ADJECTIVES) * len(KEY_NOUNS))
    check_int("queries_per_fact", queries_per_fact, minimum=1)
    _check_common(n, seed, context_tokens, value_digits, tokenizer, n_facts, style)
    rng = random.Random(f"{_CORPUS_STREAM}:{seed}")
    return [
        _document(rng, context_tokens, n_facts, queries_per_fact, value_digits, tokenizer, style)
        for _ in range(n)
    ]


def answer_spans(text: str) -> list[tuple[int, int]]:
    """Character spans ``[start, end)``, in order, of every query's answer (the value after a
    question of any template in :data:`TEMPLATES`).

    These are the tokens only retrieval can predict; :func:`toolkit.zoo.lm_training.document_rows`
    turns them into a target mask for training.
    """
    text = check_str("text", text, allow_empty=True)
    return sorted(match.span(1) for answer in _ANSWERS for match in answer.finditer(text))


def _depths(n: int, depth: float | None) -> list[float]:
    if depth is None:
        return [i / (n - 1) for i in range(n)] if n > 1 else [0.5]
    return [check_probability("depth", depth)] * n


def needle_examples(
    n: int,
    seed: int,
    *,
    context_tokens: int = 1024,
    depth: float | None = None,
    value_digits: int = 3,
    tokenizer: PreTrainedTokenizerBase | None = None,
    style: str = "plain",
) -> list[NeedleExample]:
    """``n`` needle-in-a-haystack prompts of about ``context_tokens`` (question included).

    The needle (one fact statement) goes between the filler reviews at the boundary closest
    to a fraction ``depth`` of the filler; ``depth=None`` spreads the examples evenly over
    [0, 1] (``i / (n - 1)``). Each prompt ends with the question, just before the answer.
    ``style`` as in :func:`retrieval_corpus`.
    """
    _check_common(n, seed, context_tokens, value_digits, tokenizer, style=style)
    depths = _depths(n, depth)
    rng = random.Random(f"{_NEEDLE_STREAM}:{seed}")
    examples = []
    for target in depths:
        [fact] = _facts(rng, 1, value_digits, style)
        fixed = _length(fact.statement, tokenizer) + _length(fact.question, tokenizer)
        budget = _check_context(context_tokens, fixed, "the needle and the question")
        reviews, lengths = _filler(rng, budget, tokenizer)
        before = [0]
        for length in lengths:
            before.append(before[-1] + length)
        slot = min(range(len(before)), key=lambda i: abs(before[i] - target * before[-1]))
        haystack = [*reviews[:slot], fact.statement, *reviews[slot:]]
        prompt = " ".join([*haystack, fact.question])
        statement = "" if style == "plain" else fact.statement
        examples.append(NeedleExample(prompt, fact.value, target, fact.question, statement))
    return examples
