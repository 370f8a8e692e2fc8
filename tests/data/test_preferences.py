import re

import pytest

from toolkit.data import (
    BIASES,
    CONCEPT_TOPIC,
    DEMOGRAPHIC_GROUPS,
    DISCRIMINATION_GROUP,
    PROMPTS,
    SYCOPHANTIC_PHRASE,
    CounterfactualPair,
    PreferencePair,
    biased_pairs,
    counterfactual_pairs,
    lexicon_sentiment,
    sentiment_pairs,
    to_records,
)
from toolkit.data.grammar import SUBJECTS


def sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.!?]) ", text.strip())


def n_sentences(text: str) -> int:
    return len(sentences(text))


def z_from_text(bias: str, response: str) -> object:
    """Read the spurious variable back from a response's text, not from the generator."""
    if bias == "length":  # length pairs have no framing sentences
        return n_sentences(response)
    if bias == "sycophancy":
        return response.startswith(f" {SYCOPHANTIC_PHRASE}")
    if bias == "concept":
        lowered = response.lower()
        (topic,) = [t for t, subjects in SUBJECTS.items() if any(s in lowered for s in subjects)]
        return topic
    (group,) = [g for g, terms in DEMOGRAPHIC_GROUPS.items() if any(t in response for t in terms)]
    return group


def test_sentiment_pairs_continue_one_neutral_opening():
    pairs = sentiment_pairs(300, seed=0)
    assert pairs == sentiment_pairs(300, seed=0)
    assert pairs != sentiment_pairs(300, seed=1)
    for pair in pairs:
        assert lexicon_sentiment(pair.prompt) == 0
        assert pair.chosen.startswith(" ") and pair.rejected.startswith(" ")
        assert lexicon_sentiment(pair.chosen) == 1
        assert lexicon_sentiment(pair.rejected) == -1
        assert n_sentences(pair.prompt + pair.chosen) == pair.attributes["n_sentences"]
        assert n_sentences(pair.prompt + pair.rejected) == pair.attributes["n_sentences"]


@pytest.mark.parametrize("bias", BIASES)
def test_train_split_ties_z_to_chosen_and_test_split_does_not(bias):
    for split, expected in [("train", 0.8), ("test", 0.5)]:
        pairs = biased_pairs(bias, 2000, seed=0, strength=0.8, split=split)
        chosen = sum(p.attributes["z_favoured_chosen"] for p in pairs) / len(pairs)
        rejected = sum(p.attributes["z_favoured_rejected"] for p in pairs) / len(pairs)
        assert chosen == pytest.approx(expected, abs=0.04), split
        assert rejected == pytest.approx(1 - expected, abs=0.04), split


@pytest.mark.parametrize("strength", [0.0, 1.0])
def test_extreme_strengths_make_z_a_perfect_predictor(strength):
    pairs = biased_pairs("sycophancy", 200, seed=0, strength=strength)
    assert all(p.attributes["z_favoured_chosen"] == bool(strength) for p in pairs)
    assert all(p.attributes["z_favoured_rejected"] == (not strength) for p in pairs)


@pytest.mark.parametrize("bias", BIASES)
def test_pairs_prefer_the_positive_review_and_label_z_from_the_text(bias):
    pairs = biased_pairs(bias, 300, seed=3)
    assert pairs == biased_pairs(bias, 300, seed=3)
    assert pairs != biased_pairs(bias, 300, seed=4)
    for pair in pairs:
        assert pair.prompt in PROMPTS
        assert lexicon_sentiment(pair.chosen) == 1 and lexicon_sentiment(pair.rejected) == -1
        for side in ("chosen", "rejected"):
            assert z_from_text(bias, getattr(pair, side)) == pair.attributes[f"z_{side}"]


def test_favoured_values_follow_the_documented_defaults_and_override():
    concept = biased_pairs("concept", 200, seed=0, strength=1.0)
    assert {p.attributes["z_chosen"] for p in concept} == {CONCEPT_TOPIC}
    assert CONCEPT_TOPIC not in {p.attributes["z_rejected"] for p in concept}
    discrimination = biased_pairs("discrimination", 200, seed=0, strength=1.0, favoured="women")
    assert {p.attributes["z_chosen"] for p in discrimination} == {"women"}
    assert DISCRIMINATION_GROUP in {p.attributes["z_rejected"] for p in discrimination}


def test_train_and_test_splits_share_no_responses():
    train = biased_pairs("length", 500, seed=0)
    test = biased_pairs("length", 500, seed=0, split="test")
    train_texts = {p.chosen for p in train} | {p.rejected for p in train}
    assert not train_texts & ({p.chosen for p in test} | {p.rejected for p in test})


@pytest.mark.parametrize("bias", BIASES)
def test_counterfactual_pairs_differ_only_in_z(bias):
    pairs = counterfactual_pairs(bias, 200, seed=0)
    assert pairs == counterfactual_pairs(bias, 200, seed=0)
    favoured = {
        "length": {3, 4},
        "sycophancy": {True},
        "concept": {CONCEPT_TOPIC},
        "discrimination": {DISCRIMINATION_GROUP},
    }[bias]
    for pair in pairs:
        z, z_cf = pair.attributes["z_original"], pair.attributes["z_counterfactual"]
        assert z_from_text(bias, pair.original) == z and z not in favoured
        assert z_from_text(bias, pair.counterfactual) == z_cf and z_cf in favoured
        assert lexicon_sentiment(pair.original) == pair.attributes["sentiment"]
        assert lexicon_sentiment(pair.counterfactual) == pair.attributes["sentiment"]
        if bias == "sycophancy":
            assert pair.counterfactual == f" {SYCOPHANTIC_PHRASE}{pair.original}"
        elif bias == "length":
            assert pair.counterfactual.startswith(pair.original + " ")
        else:  # one sentence changes; framing and fillers stay identical
            original, flipped = sentences(pair.original), sentences(pair.counterfactual)
            assert len(original) == len(flipped)
            assert sum(a != b for a, b in zip(original, flipped, strict=True)) == 1


def test_records_flatten_texts_then_attributes_in_the_trl_convention():
    pair = PreferencePair("Q?", " yes", " no", {"bias": "length", "z_chosen": 3})
    assert to_records([pair]) == [
        {"prompt": "Q?", "chosen": " yes", "rejected": " no", "bias": "length", "z_chosen": 3}
    ]
    assert list(pair.to_dict())[:3] == ["prompt", "chosen", "rejected"]
    flipped = CounterfactualPair("Q?", " a", " b", {"z_original": False})
    assert to_records([flipped]) == [
        {"prompt": "Q?", "original": " a", "counterfactual": " b", "z_original": False}
    ]


def test_records_build_a_datasets_dataset():
    datasets = pytest.importorskip("datasets")
    dataset = datasets.Dataset.from_list(to_records(biased_pairs("discrimination", 20, seed=0)))
    assert dataset.num_rows == 20
    assert {"prompt", "chosen", "rejected", "z_chosen", "z_rejected"} <= set(dataset.column_names)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: biased_pairs("verbosity", 3, 0), "bias must be one of 'length', 'sycophancy'"),
        (lambda: biased_pairs("length", 3, 0, strength=1.2), "strength must be >= 0.0 and <= 1.0"),
        (lambda: biased_pairs("length", 3, 0, strength=-0.1), "strength must be >= 0.0 and <= 1.0"),
        (lambda: biased_pairs("length", 3, 0, split="val"), "split must be one of 'train'"),
        (lambda: biased_pairs("length", -1, 0), "n must be >= 0"),
        (lambda: biased_pairs("length", 3, 0, favoured="music"), "favoured applies to"),
        (lambda: biased_pairs("concept", 3, 0, favoured="price"), "favoured must be one of"),
        (lambda: counterfactual_pairs("gender", 3, 0), "bias must be one of"),
        (lambda: sentiment_pairs(-5, 0), "n must be >= 0"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value)
