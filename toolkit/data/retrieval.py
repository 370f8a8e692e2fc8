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
values are random. Filler is the toolkit's review corpus (:func:`toolkit.data.review_corpus`),
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

from toolkit._checks import check_int, check_probability, check_str, describe
from toolkit.data.reviews import review_corpus

KEY_ADJECTIVES: tuple[str, ...] = (
    "silver", "amber", "crimson", "golden", "frozen", "hidden", "northern", "copper",
    "velvet", "marble", "misty", "sunken", "ancient", "emerald", "scarlet", "lunar",
)  # fmt: skip
KEY_NOUNS: tuple[str, ...] = (
    "harbor", "tower", "garden", "valley", "forest", "castle", "island", "river",
    "temple", "market", "lantern", "meadow", "canyon", "orchard", "glacier", "lagoon",
)  # fmt: skip

STATEMENT = "The secret number of {key} is {value}."
QUESTION = "What is the secret number of {key}? The secret number of {key} is"
_ANSWER = re.compile(
    re.escape(QUESTION).replace(re.escape("{key}"), r"the [a-z]+ [a-z]+") + r" (\d+)\."
)

_CORPUS_STREAM = "retrieval-corpus"
_NEEDLE_STREAM = "needle"
_REVIEWS_PER_DRAW = 16
MAX_VALUE_DIGITS = 18  # values stay below 10**18, well inside a machine integer


@dataclass(frozen=True)
class Fact:
    """A key (``"the silver harbor"``) bound to a value (``"481"``)."""

    key: str
    value: str

    @property
    def statement(self) -> str:
        return STATEMENT.format(key=self.key, value=self.value)

    @property
    def question(self) -> str:
        """The query up to (not including) the value: a prompt ending just before the answer."""
        return QUESTION.format(key=self.key)

    @property
    def query(self) -> str:
        return f"{self.question} {self.value}."


@dataclass(frozen=True)
class NeedleExample:
    """A haystack prompt with one fact in it, the fact's value, and the fact's relative depth.

    ``prompt`` ends with the question, just before the answer (no trailing space): a correct
    greedy continuation is ``" " + answer + "."``. ``question`` is that last part, so
    ``prompt == context + " " + question`` with ``context`` the haystack holding the needle.
    """

    prompt: str
    answer: str
    depth: float
    question: str

    @property
    def context(self) -> str:
        """The haystack before the question (no trailing space)."""
        return self.prompt[: len(self.prompt) - len(self.question) - 1]

    @property
    def answer_span(self) -> tuple[int, int]:
        """Character span ``[start, end)`` in ``prompt`` of the answer the needle states."""
        stated = STATEMENT.split("{key}")[1].format(value=self.answer)  # " is 481."
        start = self.context.find(stated)
        if start < 0:
            raise ValueError(f"example at depth {self.depth} does not state its answer")
        start += stated.index(self.answer)
        return start, start + len(self.answer)


def _length(text: str, tokenizer: PreTrainedTokenizerBase | None) -> int:
    if tokenizer is None:
        return len(text.split())
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _facts(rng: random.Random, n: int, value_digits: int) -> list[Fact]:
    """``n`` facts with distinct keys and distinct ``value_digits``-digit values."""
    pairs = rng.sample([(a, b) for a in KEY_ADJECTIVES for b in KEY_NOUNS], n)
    values = rng.sample(range(10 ** (value_digits - 1), 10**value_digits), n)
    return [Fact(f"the {a} {b}", str(v)) for (a, b), v in zip(pairs, values, strict=True)]


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


def _check_common(n, seed, context_tokens, value_digits, tokenizer, n_facts: int = 1) -> None:
    """Arguments shared by :func:`retrieval_corpus` and :func:`needle_examples`."""
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
) -> str:
    """Filler reviews with ``n_facts`` facts and their queries inserted between reviews.

    A fact's first query lies ``d`` review slots after it, ``d`` uniform over ``[0, slots]``,
    so retrieval distances are uniform up to the whole document; its later queries fall
    uniformly between the first query and the end (copies at shorter range). The fact's
    slot is uniform over what leaves room for its farthest query.
    """
    facts = _facts(rng, n_facts, value_digits)
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
) -> list[str]:
    """``n`` training documents of about ``context_tokens`` each, with ``n_facts`` facts apiece.

    Every fact is stated once and queried once later (query distance uniform over the
    document), so each document gives ``n_facts`` copy targets at every range up to
    ``context_tokens``. Keys within a document are distinct but may share an adjective or
    a noun, so retrieving needs the whole key.
    """
    check_int("n_facts", n_facts, minimum=1, maximum=len(KEY_ADJECTIVES) * len(KEY_NOUNS))
    check_int("queries_per_fact", queries_per_fact, minimum=1)
    _check_common(n, seed, context_tokens, value_digits, tokenizer, n_facts)
    rng = random.Random(f"{_CORPUS_STREAM}:{seed}")
    return [
        _document(rng, context_tokens, n_facts, queries_per_fact, value_digits, tokenizer)
        for _ in range(n)
    ]


def answer_spans(text: str) -> list[tuple[int, int]]:
    """Character spans ``[start, end)`` of every query's answer (the value after a question).

    These are the tokens only retrieval can predict; :func:`toolkit.zoo.lm_training.document_rows`
    turns them into a target mask for training.
    """
    return [match.span(1) for match in _ANSWER.finditer(check_str("text", text, allow_empty=True))]


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
) -> list[NeedleExample]:
    """``n`` needle-in-a-haystack prompts of about ``context_tokens`` (question included).

    The needle (one fact statement) goes between the filler reviews at the boundary closest
    to a fraction ``depth`` of the filler; ``depth=None`` spreads the examples evenly over
    [0, 1] (``i / (n - 1)``). Each prompt ends with the question, just before the answer.
    """
    _check_common(n, seed, context_tokens, value_digits, tokenizer)
    depths = _depths(n, depth)
    rng = random.Random(f"{_NEEDLE_STREAM}:{seed}")
    examples = []
    for target in depths:
        [fact] = _facts(rng, 1, value_digits)
        fixed = _length(fact.statement, tokenizer) + _length(fact.question, tokenizer)
        budget = _check_context(context_tokens, fixed, "the needle and the question")
        reviews, lengths = _filler(rng, budget, tokenizer)
        before = [0]
        for length in lengths:
            before.append(before[-1] + length)
        slot = min(range(len(before)), key=lambda i: abs(before[i] - target * before[-1]))
        haystack = [*reviews[:slot], fact.statement, *reviews[slot:]]
        prompt = " ".join([*haystack, fact.question])
        examples.append(NeedleExample(prompt, fact.value, target, fact.question))
    return examples
