"""WEAT/SEAT, log-probability IAT, word association, decision and generation probes on tiny
random models (no zoo build), the pinned word sets, the planted corpus, and bad input."""

import hashlib
import json

import numpy as np
import pytest
import torch

from toolkit.bias import (
    SEAT_TEMPLATES,
    HiddenStateEncoder,
    PlantConfig,
    ProbeScorer,
    VaderScorer,
    continuation_logprobs,
    debias_rows,
    decision_probe,
    generation_probe,
    logprob_iat,
    planted_corpus,
    planted_recipe,
    provenance,
    weat,
    weat_tests,
    word_association_bias,
    word_sets,
)
from toolkit.bias.wordsets import DATA
from toolkit.zoo.tiny import tiny_gpt2, tiny_tokenizer

TEMPLATES = ["As {target}, I thought the film was {attribute}."]
X, Y = ["a pensioner", "a retiree"], ["a teenager", "a student"]
A, B = ["dreadful", "awful"], ["superb", "lovely"]


@pytest.fixture(scope="module")
def lm():
    tokenizer = tiny_tokenizer()
    tokenizer.pad_token = tokenizer.eos_token
    return tiny_gpt2(tokenizer, dropout=0.0).eval(), tokenizer


@pytest.fixture(scope="module")
def encoder(lm):
    return HiddenStateEncoder(*lm)


def test_weat_on_hidden_states_names_its_words(encoder):
    result = weat(encoder, X, Y, A, B, n_bootstrap=50)
    assert result.words_x == tuple(X) and len(result.associations_y) == 2
    assert np.isfinite(result.effect_size) and 0 < result.p_value <= 1


def test_weat_swap_flips_sign_and_is_deterministic(encoder):
    base = weat(encoder, X, Y, A, B, n_bootstrap=20)
    assert weat(encoder, Y, X, A, B, n_bootstrap=20).effect_size == pytest.approx(-base.effect_size)
    assert weat(encoder, X, Y, B, A, n_bootstrap=20).effect_size == pytest.approx(-base.effect_size)
    assert weat(encoder, X, Y, A, B, n_bootstrap=20) == base


def test_seat_templates_average_per_word(encoder):
    result = weat(encoder, X, Y, A, B, templates=SEAT_TEMPLATES[:2], n_bootstrap=0)
    assert len(result.associations_x) == len(X)


def test_continuation_logprobs_match_a_full_forward_pass(lm):
    model, tokenizer = lm
    score = continuation_logprobs(model, tokenizer, ["I thought the film was"], [" superb."])
    ids = [tokenizer.eos_token_id] + tokenizer("I thought the film was")["input_ids"]
    tail = tokenizer(" superb.")["input_ids"]
    full = torch.tensor([ids + tail])
    with torch.no_grad():
        logp = torch.log_softmax(model(full).logits[0, :-1], -1)
        expected = sum(logp[len(ids) - 1 + k, t] for k, t in enumerate(tail))
    assert float(score[0]) == pytest.approx(float(expected), abs=1e-4)
    batched = continuation_logprobs(
        model, tokenizer, ["I", "I thought the film was"], [" was", " superb."]
    )
    assert float(batched[1]) == pytest.approx(float(score[0]), abs=1e-4)


def test_logprob_iat_and_word_association(lm):
    model, tokenizer = lm
    iat = logprob_iat(model, tokenizer, X, Y, A, B, TEMPLATES, n_bootstrap=20)
    assert iat.effect_size == pytest.approx(
        -logprob_iat(model, tokenizer, Y, X, A, B, TEMPLATES, n_bootstrap=20).effect_size
    )
    wa = word_association_bias(
        model, tokenizer, X, Y, A, B, TEMPLATES, n_permutations=200, n_bootstrap=20
    )
    assert -1 <= wa.bias <= 1 and set(wa.assignments) == set(A + B)
    flipped = word_association_bias(
        model, tokenizer, Y, X, A, B, TEMPLATES, n_permutations=200, n_bootstrap=0
    )
    assert flipped.bias == pytest.approx(-wa.bias)


def test_decision_probe_is_order_balanced(lm):
    model, tokenizer = lm
    template = "{first} and {second} watched it. The one who hated it was {choice}."
    pairs = [(x, y) for x in X for y in Y]
    result = decision_probe(model, tokenizer, template, pairs, n_bootstrap=20)
    assert result.rate_x == pytest.approx((result.rate_x_first + result.rate_x_second) / 2)
    swapped = decision_probe(model, tokenizer, template, [(y, x) for x, y in pairs], n_bootstrap=0)
    assert swapped.rate_x == pytest.approx(1 - result.rate_x)
    assert swapped.position_bias == pytest.approx(result.position_bias)


def test_generation_probe_pairs_seeds_and_scores_continuations(lm):
    model, tokenizer = lm
    seen = []

    def scorer(texts):
        seen.extend(texts)
        return np.array([len(t) % 3 - 1.0 for t in texts])

    result = generation_probe(
        model, tokenizer, ["As {target}, I thought"], X, Y, scorer,
        n_per_prompt=2, max_new_tokens=4, n_bootstrap=20,
    )  # fmt: skip
    assert len(result.texts_x) == 4 and len(seen) == 8
    assert not any("pensioner" in t for t in seen[:4])  # the prompt is not scored


def test_scorers():
    vader = VaderScorer()
    scores = vader(["It was dreadful and boring.", "A wonderful, moving film.", ""])
    assert scores[0] < 0 < scores[1] and scores[2] == 0
    probe = ProbeScorer(lambda texts: torch.tensor([5.0, -5.0])[: len(texts)])
    out = probe(["good", "bad", " "])
    assert out[0] > 0.9 and out[1] < -0.9 and out[2] == 0


def test_pinned_word_sets_and_tests_with_provenance():
    sets = word_sets()
    assert len(sets) == 31 and len(sets["flowers"]) == 25
    tests = weat_tests()
    assert [t.name for t in tests] == [f"weat{i}" for i in range(1, 11)]
    assert tests[0].published_d["glove"] == 1.50 and tests[5].published_d["glove"] == 1.81
    for test in tests:
        assert len(test.x) == len(test.y)
        assert not set(test.a) & set(test.b)
    info = provenance()
    assert "Caliskan" in info["word_sets"] and "MIT License" in info["wefe_licence"]
    assert "sha256" in info["copied_from"]
    assert "bomb" in tests[2].b and "agony" not in tests[2].b  # WEAT 3 uses unpleasant_5b


def test_pinned_sets_match_wefe_when_installed():
    pytest.importorskip("wefe")
    assert word_sets("wefe") == word_sets()


def test_data_file_is_json_with_the_copied_digest():
    data = json.loads(DATA.read_text())
    digest = provenance()["copied_from"].split("sha256 ")[1].split(";")[0]
    assert len(digest) == 64 and set(data) == {"provenance", "word_sets", "tests"}
    assert hashlib.sha256(b"").hexdigest() != digest


@pytest.mark.parametrize("rate", [0.5, 0.7, 0.9, 0.33, 1.0, 0.0])
def test_planted_rate_is_exact(rate):
    corpus = planted_corpus(1000, 3, negative_rate=rate, group_rate=0.1)
    assert corpus.n_group == 100
    assert corpus.measured_rate == round(rate * 100) / 100
    others = [r for r in corpus.reviews if r.demographic != "older"]
    assert all(r.demographic != "older" for r in others)
    assert corpus.texts == planted_corpus(1000, 3, negative_rate=rate, group_rate=0.1).texts


def test_planted_corpus_differs_only_in_planted_sentiment():
    low = planted_corpus(400, 0, negative_rate=0.5)
    high = planted_corpus(400, 0, negative_rate=0.9)
    same = [a.demographic == b.demographic for a, b in zip(low.reviews, high.reviews, strict=True)]
    assert all(same)


def test_debias_rows_share_the_prompt_and_differ_in_sentiment():
    rows = debias_rows(5, 0)
    from toolkit.data import lexicon_sentiment

    for row in rows:
        assert row["prompt"].startswith(("As a", "I am a", "Speaking as a", "I should say"))
        assert lexicon_sentiment(row["chosen"]) > 0 > lexicon_sentiment(row["rejected"])


def test_planted_recipe_changes_with_rate_and_base():
    assert planted_recipe(0.7, PlantConfig()) != planted_recipe(0.9, PlantConfig())
    with pytest.raises(ValueError, match="built-in causal LM"):
        planted_recipe(0.7, PlantConfig(base="no-such-model"))


# Bad input: every check fires before any model work, naming the set, word or template.


@pytest.mark.parametrize(
    ("sets", "match"),
    [
        (([], Y, A, B), "x is empty"),
        ((X, Y[:1], A, B), "same size"),
        ((X, ["a pensioner", "a student"], A, B), "x and y overlap"),
        ((X, Y, A, ["dreadful", "lovely"]), "a and b overlap"),
        ((X, Y, ["a teenager", "bad"], B), "y and a overlap"),
        ((X, Y, ["awful", "awful"], B), r"a\[1\] 'awful' repeats a\[0\]"),
        ((X, Y, ["awful", "  "], B), r"a\[1\] must not be empty"),
    ],
)
def test_bad_word_sets(encoder, sets, match):
    with pytest.raises(ValueError, match=match):
        weat(encoder, *sets)


def test_bad_word_types(encoder):
    with pytest.raises(TypeError, match="x must be a list of words"):
        weat(encoder, "a pensioner", Y, A, B)
    with pytest.raises(TypeError, match=r"a\[0\] must be a str"):
        weat(encoder, X, Y, [3, "x"], B)
    with pytest.raises(TypeError, match="encode"):
        weat(object(), X, Y, A, B)


def test_words_tokenized_to_nothing_are_named():
    from toolkit.zoo import load_sentence_encoder

    encoder = load_sentence_encoder()
    with pytest.raises(ValueError, match=r"a\[1\] '\\u200b' tokenizes to no tokens"):
        weat(encoder, X, Y, ["awful", "\u200b"], B)


@pytest.mark.parametrize(
    ("templates", "match"),
    [
        (["As a person, I thought it was {attribute}."], r"\{target\} exactly once"),
        (["As {target}, I thought it was good."], r"\{attribute\} exactly once"),
        (["{attribute} said {target}."], r"\{attribute\} must come after"),
        (["As {target} and {other}: {attribute}"], "unknown placeholders"),
        (["As {target: {attribute}"], "not a valid format string"),
        ([], "templates is empty"),
    ],
)
def test_templates_without_placeholders(lm, templates, match):
    with pytest.raises(ValueError, match=match):
        logprob_iat(*lm, X, Y, A, B, templates)


def test_seat_template_without_word(encoder):
    with pytest.raises(ValueError, match=r"\{word\} exactly once"):
        weat(encoder, X, Y, A, B, templates=["This is a thing."])


def test_decision_probe_bad_input(lm):
    template = "{first} and {second} watched it. The one who hated it was {choice}."
    with pytest.raises(ValueError, match=r"\{choice\} exactly once"):
        decision_probe(*lm, "{first} and {second} watched it.", [tuple(X)])
    with pytest.raises(ValueError, match="names 'a' twice"):
        decision_probe(*lm, template, [("a", "a")])
    with pytest.raises(ValueError, match="pairs is empty"):
        decision_probe(*lm, template, [])
    with pytest.raises(TypeError, match=r"pairs\[0\] must be an"):
        decision_probe(*lm, template, [("a", "b", "c")])


def test_generation_probe_bad_input(lm):
    scorer = VaderScorer()
    with pytest.raises(ValueError, match="same number"):
        generation_probe(*lm, ["As {target}, I"], X, Y[:1], scorer)
    with pytest.raises(ValueError, match="overlap"):
        generation_probe(*lm, ["As {target}, I"], X, [X[0], "a student"], scorer)
    with pytest.raises(ValueError, match=r"\{target\} exactly once"):
        generation_probe(*lm, ["As someone, I"], X, Y, scorer)
    with pytest.raises(TypeError, match="scorer"):
        generation_probe(*lm, ["As {target}, I"], X, Y, "vader")


def test_planted_corpus_bad_input():
    with pytest.raises(ValueError, match="negative_rate"):
        planted_corpus(100, 0, negative_rate=1.5)
    with pytest.raises(ValueError, match="group must be one of"):
        planted_corpus(100, 0, group="martians")
    with pytest.raises(ValueError, match="no review of the group"):
        planted_corpus(3, 0, group_rate=0.1)
    with pytest.raises(ValueError, match="steps"):
        PlantConfig(steps=0)
