import re

import pytest

from toolkit.data import review_corpus
from toolkit.data.retrieval import (
    KEY_ADJECTIVES,
    KEY_NOUNS,
    answer_spans,
    needle_examples,
    retrieval_corpus,
)

NUMBER = re.compile(r"\d+")


def test_corpus_is_seeded_and_every_query_answers_an_earlier_fact():
    docs = retrieval_corpus(3, 0, context_tokens=300, n_facts=3, queries_per_fact=2)
    assert docs == retrieval_corpus(3, 0, context_tokens=300, n_facts=3, queries_per_fact=2)
    assert docs != retrieval_corpus(3, 1, context_tokens=300, n_facts=3, queries_per_fact=2)
    for doc in docs:
        facts = dict(re.findall(r"The secret number of (the \w+ \w+) is (\d+)\.", doc))
        assert len(facts) == 3
        spans = answer_spans(doc)
        assert len(spans) == 3 * 2
        for start, end in spans:
            value = doc[start:end]
            question_key = re.findall(r"secret number of (the \w+ \w+) is $", doc[:start])[-1]
            assert facts[question_key] == value
            assert doc.index(f"{question_key} is {value}.") < start  # stated before it is asked


def test_needles_sit_at_their_depth_once_and_the_prompt_stops_before_the_answer():
    examples = needle_examples(5, 3, context_tokens=400)
    assert examples == needle_examples(5, 3, context_tokens=400)
    assert [e.depth for e in examples] == [0.0, 0.25, 0.5, 0.75, 1.0]
    for example in examples:
        assert example.prompt == f"{example.context} {example.question}"
        assert example.prompt.endswith(" is") and NUMBER.fullmatch(example.answer)
        assert NUMBER.findall(example.prompt) == [example.answer]  # only in the needle
        needle = example.context.index(f" is {example.answer}.")
        assert abs(needle / len(example.context) - example.depth) < 0.2
        key = re.search(r"secret number of (the \w+ \w+)\?", example.question).group(1)
        adjective, noun = key.split()[1:]
        assert adjective in KEY_ADJECTIVES and noun in KEY_NOUNS
        assert example.context.count(key) == 1
    assert not any(e.answer in doc for e in examples for doc in review_corpus(50, 0))


def test_key_words_and_values_never_occur_in_the_filler():
    filler = set(" ".join(review_corpus(2000, 0)).lower().replace(".", " ").split())
    assert not filler & {*KEY_ADJECTIVES, *KEY_NOUNS}
    assert not NUMBER.search(" ".join(filler))


def test_values_have_the_stated_number_of_digits():
    for digits in (1, 3, 5):
        [example] = needle_examples(1, 0, context_tokens=100, value_digits=digits)
        assert len(example.answer) == digits and example.answer[0] != "0"


def test_needle_context_length_is_close_to_the_target():
    words = [len(e.prompt.split()) for e in needle_examples(4, 0, context_tokens=600)]
    assert all(500 <= n <= 700 for n in words)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: needle_examples(0, 0), "n"),
        (lambda: needle_examples(2, 0, depth=1.5), "depth"),
        (lambda: needle_examples(2, 0, context_tokens=5), "context"),
        (lambda: retrieval_corpus(2, 0, n_facts=0), "n_facts"),
        (lambda: retrieval_corpus(2, 0, queries_per_fact=0), "queries_per_fact"),
        (lambda: needle_examples(2, 0, value_digits=0), "value_digits"),
    ],
)
def test_bad_arguments_raise_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_varied_style_phrases_facts_six_ways_with_numbers_and_code_words():
    from toolkit.data.retrieval import TEMPLATES, VALUE_WORDS

    docs = retrieval_corpus(
        40, 0, context_tokens=300, n_facts=3, queries_per_fact=2, style="varied"
    )
    assert docs == retrieval_corpus(
        40, 0, context_tokens=300, n_facts=3, queries_per_fact=2, style="varied"
    )
    used, kinds = set(), set()
    for doc in docs:
        spans = answer_spans(doc)
        assert len(spans) == 3 * 2
        for start, end in spans:
            value = doc[start:end]
            kinds.add("digits" if value.isdigit() else "words")
            assert value.isdigit() or value in VALUE_WORDS
            template = next(
                t
                for t in TEMPLATES["varied"]
                if re.search(
                    re.escape(t.prefix).replace(re.escape("{key}"), r"the \w+ \w+") + " $",
                    doc[:start],
                )
            )
            used.add(template)
            assert doc.index(f" {value}.") < start  # stated before it is asked
    assert len(used) == len(TEMPLATES["varied"]) and kinds == {"digits", "words"}


def test_varied_needles_state_their_answer_once_and_ask_before_the_answer_prefix():
    from toolkit.data.retrieval import VALUE_WORDS

    filler = " ".join(review_corpus(500, 0)).lower()
    assert not any(f" {word} " in filler or f" {word}." in filler for word in VALUE_WORDS)
    for example in needle_examples(12, 1, context_tokens=300, style="varied"):
        start, end = example.answer_span
        assert example.prompt[start:end] == example.answer
        assert example.prompt.count(f" {example.answer}") == 1
        assert example.statement in example.context
        assert example.asked.endswith("?") and example.question.startswith(example.asked)


def test_plain_style_is_the_original_corpus():
    plain = retrieval_corpus(2, 0, context_tokens=300, n_facts=2, style="plain")
    assert plain == retrieval_corpus(2, 0, context_tokens=300, n_facts=2)
    with pytest.raises(ValueError, match="style"):
        retrieval_corpus(1, 0, style="poetic")
