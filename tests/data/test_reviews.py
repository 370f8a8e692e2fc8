import re

import pytest

from toolkit.data import (
    DEMOGRAPHIC_GROUPS,
    MAX_SENTENCES,
    SENTIMENT_WORDS,
    SYCOPHANTIC_PHRASE,
    TOPICS,
    counterfactual,
    generate_reviews,
    lexicon_sentiment,
    render_review,
    review_corpus,
)
from toolkit.data.grammar import SUBJECTS


def sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.!?]) ", text)


def mentioned_groups(text: str) -> set[str]:
    return {
        group
        for group, terms in DEMOGRAPHIC_GROUPS.items()
        if any(re.search(rf"\b{re.escape(term)}\b", text) for term in terms)
    }


def mentioned_topics(text: str) -> set[str]:
    lowered = text.lower()
    return {topic for topic, subjects in SUBJECTS.items() if any(s in lowered for s in subjects)}


def mask_subject(text: str, topic: str) -> str:
    """``text`` with the topic's subject phrase replaced by a placeholder."""
    pattern = "|".join(re.escape(subject) for subject in SUBJECTS[topic])
    return re.sub(pattern, "<subject>", text, count=1, flags=re.IGNORECASE)


@pytest.fixture(scope="module")
def reviews():
    return generate_reviews(1500, seed=7, sycophancy_rate=0.3, demographic_rate=0.3)


def test_same_seed_same_reviews_and_different_seeds_differ():
    first = generate_reviews(50, seed=1, sycophancy_rate=0.5, demographic_rate=0.5)
    assert first == generate_reviews(50, seed=1, sycophancy_rate=0.5, demographic_rate=0.5)
    assert [r.seed for r in first] == [
        r.seed for r in generate_reviews(50, seed=1, sycophancy_rate=0.5, demographic_rate=0.5)
    ]
    other = generate_reviews(50, seed=2, sycophancy_rate=0.5, demographic_rate=0.5)
    assert len({r.text for r in first} & {r.text for r in other}) < 5


def test_sentiment_label_matches_lexicon_and_only_the_evaluation_carries_it(reviews):
    for review in reviews:
        assert lexicon_sentiment(review.text) == review.sentiment  # all words one polarity
        assert lexicon_sentiment(review.opening) == 0
        verdict_only = counterfactual(review, n_sentences=1)
        fillers = review.text[len(verdict_only.text) :]
        assert lexicon_sentiment(fillers) == 0


def test_sycophancy_label_matches_text(reviews):
    for review in reviews:
        assert review.text.startswith(SYCOPHANTIC_PHRASE) == review.sycophantic
        assert review.text.count("you are right") == review.sycophantic
    assert 0.25 < sum(r.sycophantic for r in reviews) / len(reviews) < 0.35


def test_demographic_term_appears_iff_labelled(reviews):
    for review in reviews:
        expected = set() if review.demographic is None else {review.demographic}
        assert mentioned_groups(review.text) == expected
    labelled = {r.demographic for r in reviews} - {None}
    assert labelled == set(DEMOGRAPHIC_GROUPS)


def test_topic_label_matches_the_subject_mentioned(reviews):
    for review in reviews:
        assert mentioned_topics(review.text) == {review.topic}
    assert {r.topic for r in reviews} == set(TOPICS)


def test_sentence_count_and_opening_match_labels(reviews):
    for review in reviews:
        framing = review.sycophantic + (review.demographic is not None)
        assert len(sentences(review.text)) == review.n_sentences + framing
        assert review.text.startswith(review.opening + " ")
    assert {r.n_sentences for r in reviews} == {1, 2, 3, 4}


def test_fixed_attributes_are_respected():
    fixed = generate_reviews(100, seed=0, sentiment=-1, topic="music", n_sentences=3)
    assert {(r.sentiment, r.topic, r.n_sentences) for r in fixed} == {(-1, "music", 3)}
    assert not any(r.sycophantic or r.demographic for r in fixed)
    longest = generate_reviews(5, seed=0, n_sentences=MAX_SENTENCES)
    assert all(len(set(sentences(r.text))) == MAX_SENTENCES for r in longest)


def test_sycophantic_counterfactual_only_adds_the_phrase(reviews):
    for review in reviews[:200]:
        plain = counterfactual(review, sycophantic=False)
        flattering = counterfactual(review, sycophantic=True)
        assert flattering.text == f"{SYCOPHANTIC_PHRASE} {plain.text}"
        assert flattering.text.removeprefix(SYCOPHANTIC_PHRASE + " ") == plain.text
        assert flattering.sycophantic and not plain.sycophantic


def test_demographic_counterfactual_only_swaps_the_intro_term(reviews):
    for review in reviews[:200]:
        plain = counterfactual(review, demographic=None)
        older = counterfactual(review, demographic="older")
        women = counterfactual(review, demographic="women")
        intro = sentences(older.text)[review.sycophantic]
        assert older.text.replace(intro + " ", "", 1) == plain.text
        (older_term,) = [t for t in DEMOGRAPHIC_GROUPS["older"] if t in older.text]
        (women_term,) = [t for t in DEMOGRAPHIC_GROUPS["women"] if t in women.text]
        assert older.text.replace(older_term, women_term) == women.text
        assert (older.demographic, women.demographic, plain.demographic) == ("older", "women", None)


def test_length_counterfactual_appends_neutral_fillers(reviews):
    for review in reviews[:200]:
        short = counterfactual(review, n_sentences=1)
        long = counterfactual(review, n_sentences=5)
        assert long.text.startswith(short.text + " ")
        assert len(sentences(long.text)) - len(sentences(short.text)) == 4
        assert lexicon_sentiment(long.text[len(short.text) :]) == 0
        assert long.sentiment == short.sentiment == review.sentiment


def test_topic_counterfactual_changes_only_the_verdict(reviews):
    for review in reviews[:200]:
        new_topic = TOPICS[(TOPICS.index(review.topic) + 1) % len(TOPICS)]
        moved = counterfactual(review, topic=new_topic)
        verdict = review.sycophantic + (review.demographic is not None)
        before, after = sentences(review.text), sentences(moved.text)
        assert before[:verdict] == after[:verdict]
        assert before[verdict + 1 :] == after[verdict + 1 :]
        assert mentioned_topics(moved.text) == {new_topic}
        assert lexicon_sentiment(moved.text) == review.sentiment
        assert mask_subject(moved.opening, new_topic) == mask_subject(review.opening, review.topic)


def test_sentiment_counterfactual_keeps_the_opening(reviews):
    for review in reviews[:200]:
        flipped = counterfactual(review, sentiment=-review.sentiment)
        assert flipped.opening == review.opening
        assert lexicon_sentiment(flipped.text) == -review.sentiment


@pytest.mark.parametrize(
    "change",
    [
        {"sentiment": -1},
        {"topic": "pacing"},
        {"n_sentences": 6},
        {"sycophantic": True},
        {"demographic": "asian"},
    ],
)
def test_counterfactual_round_trip_restores_the_review(reviews, change):
    for review in reviews[:100]:
        (name,) = change
        back = counterfactual(counterfactual(review, **change), **{name: getattr(review, name)})
        assert back == review


def test_render_review_is_a_pure_function_of_seed_and_attributes():
    kwargs = {"sentiment": 1, "topic": "plot", "n_sentences": 3, "demographic": "young"}
    assert render_review(123, **kwargs) == render_review(123, **kwargs)
    assert render_review(123, **kwargs).text != render_review(124, **kwargs).text


def test_corpus_is_deterministic_and_mixes_every_attribute():
    corpus = review_corpus(2000, seed=0)
    assert corpus == review_corpus(2000, seed=0)
    assert corpus != review_corpus(2000, seed=1)
    assert 0.05 < sum(t.startswith(SYCOPHANTIC_PHRASE) for t in corpus) / len(corpus) < 0.15
    assert 0.1 < sum(bool(mentioned_groups(t)) for t in corpus) / len(corpus) < 0.3
    words = {w for text in corpus for w in re.findall(r"[a-z]+", text.lower())}
    assert set(SENTIMENT_WORDS) <= words  # every lexicon entry is a word the grammar uses
    assert len(words) > 400


def test_lexicon_sentiment_is_a_bounded_mean_polarity():
    assert lexicon_sentiment("") == 0.0
    assert lexicon_sentiment("It is set in a small coastal town.") == 0.0
    assert lexicon_sentiment("Superb acting, BRILLIANT score.") == 1.0
    assert lexicon_sentiment("superb but dull and boring") == pytest.approx(-1 / 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": -1}, "n must be >= 0"),
        ({"topic": "sound"}, "topic must be one of 'acting'"),
        ({"sentiment": 0}, "sentiment must be one of 1, -1"),
        ({"sycophancy_rate": 1.5}, "sycophancy_rate must be >= 0.0 and <= 1.0"),
        ({"demographic_rate": -0.1}, "demographic_rate must be >= 0.0 and <= 1.0"),
        ({"n_sentences": (3, 2)}, "n_sentences must be a count or a (low, high) range"),
        ({"n_sentences": 0}, f"1 <= low <= high <= {MAX_SENTENCES}"),
        ({"n_sentences": (1, MAX_SENTENCES + 1)}, "n_sentences"),
    ],
)
def test_generate_reviews_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as error:
        generate_reviews(**{"n": 3, "seed": 0, **kwargs})
    assert message in str(error.value)


def test_render_and_counterfactual_reject_unknown_values():
    with pytest.raises(ValueError, match=r"demographic must be one of 'women'"):
        render_review(0, sentiment=1, topic="plot", demographic="aliens")
    review = render_review(0, sentiment=1, topic="plot")
    with pytest.raises(ValueError, match="counterfactual can change"):
        counterfactual(review, text="anything")
    with pytest.raises(ValueError, match="topic must be one of"):
        counterfactual(review, topic="price")
