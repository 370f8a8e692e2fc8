"""Bad arguments to the corpus and preference-pair builders: a TypeError for a wrong type, a
ValueError for a wrong value, each naming the argument."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.data.code import buggy_variant, code_preference_rows, generate_code_tasks
from toolkit.data.preferences import (
    biased_pairs,
    counterfactual_pairs,
    sentiment_pairs,
    to_records,
)
from toolkit.data.retrieval import answer_spans, needle_examples, retrieval_corpus
from toolkit.data.reviews import counterfactual, generate_reviews, render_review
from toolkit.data.sentiment import lexicon_sentiment


def review(**changes):
    return render_review(0, **{"sentiment": 1, "topic": "plot", **changes})


FAST = settings(max_examples=25, deadline=None)
NOT_AN_INT = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)

COUNT_BUILDERS = {
    "sentiment_pairs": lambda n: sentiment_pairs(n, 0),
    "biased_pairs": lambda n: biased_pairs("length", n, 0),
    "counterfactual_pairs": lambda n: counterfactual_pairs("concept", n, 0),
    "generate_reviews": lambda n: generate_reviews(n, 0),
    "generate_code_tasks": lambda n: generate_code_tasks(n, 0),
    "retrieval_corpus": lambda n: retrieval_corpus(n, 0),
    "needle_examples": lambda n: needle_examples(n, 0),
}
SEEDED_BUILDERS = {
    "sentiment_pairs": lambda s: sentiment_pairs(1, s),
    "biased_pairs": lambda s: biased_pairs("length", 1, s),
    "counterfactual_pairs": lambda s: counterfactual_pairs("concept", 1, s),
    "generate_reviews": lambda s: generate_reviews(1, s),
    "render_review": lambda s: render_review(s, sentiment=1, topic="plot"),
    "generate_code_tasks": lambda s: generate_code_tasks(1, s),
    "retrieval_corpus": lambda s: retrieval_corpus(1, s, context_tokens=300, n_facts=1),
    "needle_examples": lambda s: needle_examples(1, s, context_tokens=60),
}


@pytest.mark.parametrize("builder", COUNT_BUILDERS.values(), ids=COUNT_BUILDERS)
@FAST
@given(n=NOT_AN_INT)
def test_counts_of_the_wrong_type_name_n(builder, n):
    with pytest.raises(TypeError, match="n must be an int"):
        builder(n)


@pytest.mark.parametrize("builder", COUNT_BUILDERS.values(), ids=COUNT_BUILDERS)
@FAST
@given(n=st.integers(max_value=-1))
def test_negative_counts_name_n(builder, n):
    with pytest.raises(ValueError, match="n must be >="):
        builder(n)


@pytest.mark.parametrize("builder", SEEDED_BUILDERS.values(), ids=SEEDED_BUILDERS)
@FAST
@given(seed=NOT_AN_INT)
def test_seeds_must_be_ints(builder, seed):
    """A None, float or str seed used to pass silently (None: a different draw every call)."""
    with pytest.raises(TypeError, match="seed must be an int"):
        builder(seed)


@FAST
@given(
    rate=st.one_of(
        st.floats(min_value=1.0, exclude_min=True),
        st.floats(max_value=0.0, exclude_max=True),
        st.just(math.nan),
    )
)
def test_probabilities_out_of_range_name_the_parameter(rate):
    for name, call in (
        ("strength", lambda: biased_pairs("length", 1, 0, strength=rate)),
        ("sycophancy_rate", lambda: generate_reviews(1, 0, sycophancy_rate=rate)),
        ("demographic_rate", lambda: generate_reviews(1, 0, demographic_rate=rate)),
        ("depth", lambda: needle_examples(1, 0, depth=rate)),
    ):
        with pytest.raises(ValueError, match=name):
            call()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: biased_pairs("length", 1, 0, strength="0.5"), TypeError, "strength"),
        (lambda: biased_pairs("Length", 1, 0), ValueError, "bias must be one of 'length'"),
        (lambda: biased_pairs(["length"], 1, 0), ValueError, "bias must be one of"),
        (lambda: biased_pairs("length", 1, 0, split="val"), ValueError, "split must be one of"),
        (lambda: biased_pairs("concept", 1, 0, favoured=["music"]), ValueError, "favoured"),
        (lambda: biased_pairs("length", 1, 0, favoured="music"), ValueError, "favoured applies"),
        (lambda: generate_reviews(1, 0, sentiment=True), TypeError, "sentiment must be an int"),
        (lambda: generate_reviews(1, 0, sentiment=1.0), TypeError, "sentiment must be an int"),
        (lambda: generate_reviews(1, 0, sentiment=0), ValueError, "sentiment must be one of"),
        (lambda: generate_reviews(1, 0, topic="Music"), ValueError, "topic must be one of"),
        (lambda: generate_reviews(1, 0, n_sentences=True), TypeError, "n_sentences"),
        (lambda: generate_reviews(1, 0, n_sentences=[1, 2]), TypeError, "n_sentences"),
        (lambda: generate_reviews(1, 0, n_sentences=(1, 2.5)), TypeError, "n_sentences"),
        (lambda: generate_reviews(1, 0, n_sentences=(3, 1)), ValueError, "n_sentences"),
        (lambda: generate_reviews(1, 0, n_sentences=0), ValueError, "n_sentences"),
        (lambda: generate_reviews(1, 0, sycophancy_rate="high"), TypeError, "sycophancy_rate"),
        (lambda: review(n_sentences=1.0), TypeError, "n_sentences"),
        (lambda: review(n_sentences=99), ValueError, "n_sentences"),
        (lambda: review(sycophantic="no"), TypeError, "sycophantic"),
        (lambda: review(demographic="aliens"), ValueError, "demographic"),
        (lambda: review(topic=["plot"]), ValueError, "topic"),
        (lambda: counterfactual("a review", topic="plot"), TypeError, "review must be a Review"),
        (lambda: counterfactual(review(), mood=1), ValueError, "can change"),
        (lambda: to_records(None), TypeError, "pairs must be a list"),
        (lambda: to_records([{"prompt": "p"}]), TypeError, r"pairs\[0\]"),
        (lambda: buggy_variant("def f(x, y):", 0), TypeError, "task must be a CodeTask"),
        (lambda: buggy_variant(generate_code_tasks(1, 0)[0], "0"), TypeError, "seed"),
        (lambda: code_preference_rows(None, 0), TypeError, "tasks must be a list"),
        (lambda: code_preference_rows(["code"], 0), TypeError, r"tasks\[0\]"),
        (lambda: retrieval_corpus(1, 0, context_tokens=100.0), TypeError, "context_tokens"),
        (lambda: retrieval_corpus(1, 0, context_tokens=-5), ValueError, "context_tokens"),
        (lambda: retrieval_corpus(1, 0, context_tokens=10), ValueError, "context_tokens=10 leaves"),
        (lambda: retrieval_corpus(1, 0, n_facts=0), ValueError, "n_facts"),
        (lambda: retrieval_corpus(1, 0, n_facts=1000), ValueError, "n_facts"),
        (lambda: retrieval_corpus(1, 0, queries_per_fact=0), ValueError, "queries_per_fact"),
        (lambda: retrieval_corpus(1, 0, value_digits=0), ValueError, "value_digits"),
        (lambda: retrieval_corpus(1, 0, value_digits=400), ValueError, "value_digits"),
        (lambda: retrieval_corpus(1, 0, value_digits=1, n_facts=20), ValueError, "digits=1 gives"),
        (lambda: retrieval_corpus(1, 0, tokenizer="gpt2"), TypeError, "tokenizer"),
        (lambda: needle_examples(1, 0, depth="deep"), TypeError, "depth"),
        (lambda: needle_examples(1, 0, context_tokens=5), ValueError, "context_tokens"),
        (lambda: answer_spans(None), TypeError, "text must be a str"),
        (lambda: lexicon_sentiment(None), TypeError, "text must be a str"),
        (lambda: lexicon_sentiment(b"superb"), TypeError, "text must be a str"),
    ],
)  # fmt: skip
def test_bad_arguments_name_themselves(call, error, match):
    with pytest.raises(error, match=match):
        call()


@FAST
@given(text=st.text(max_size=40))
def test_lexicon_sentiment_of_any_text_is_a_bounded_score(text):
    assert -1.0 <= lexicon_sentiment(text) <= 1.0
    assert answer_spans(text) == []  # no question of the retrieval grammar in random text
