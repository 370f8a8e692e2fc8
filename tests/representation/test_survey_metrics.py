"""Opinion similarity, order balancing, the survey, the GlobalOpinionQA loader, metrics."""

import csv
import json
import math
import warnings

import pytest
import torch

from toolkit.representation import (
    FILM_SURVEY,
    DistributionWarning,
    Survey,
    SurveyQuestion,
    best_worst_gap,
    check_distribution,
    closest_group,
    continuation_logprobs,
    group_similarity,
    jensen_shannon_distance,
    lm_scorer,
    load_global_opinions,
    model_distribution,
    most_similar_group,
    opinion_similarity,
    option_scores,
    preference_accuracy,
    preference_margins,
    rotations,
    survey_answers,
    survey_in_dialect,
    word_perplexity,
    write_global_opinions,
)
from toolkit.zoo.tiny import tiny_gpt2, tiny_tokenizer

# Jensen–Shannon distance and similarity


def test_identical_distributions_have_similarity_one():
    for p in [(1.0, 0.0), (0.2, 0.3, 0.5), (0.25,) * 4]:
        assert opinion_similarity(p, p) == pytest.approx(1.0, abs=1e-12)
        assert jensen_shannon_distance(p, p) == pytest.approx(0.0, abs=1e-7)


def test_similarity_is_symmetric_and_bounded():
    pairs = [((0.1, 0.9), (0.6, 0.4)), ((0.2, 0.3, 0.5), (0.5, 0.3, 0.2)), ((1, 0, 0), (0, 0, 1))]
    for p, q in pairs:
        assert opinion_similarity(p, q) == pytest.approx(opinion_similarity(q, p), abs=1e-12)
        assert 0.0 <= opinion_similarity(p, q) <= 1.0
    assert opinion_similarity((1, 0), (0, 1)) == pytest.approx(0.0, abs=1e-12)  # disjoint


def test_js_distance_matches_its_definition():
    p, q = (0.1, 0.6, 0.3), (0.3, 0.3, 0.4)
    m = [(a + b) / 2 for a, b in zip(p, q, strict=True)]
    kl = lambda x: sum(a * math.log2(a / c) for a, c in zip(x, m, strict=True))  # noqa: E731
    assert jensen_shannon_distance(p, q) == pytest.approx(math.sqrt((kl(p) + kl(q)) / 2))


def test_distributions_not_summing_to_one_are_normalized_with_a_warning():
    with pytest.warns(DistributionWarning, match=r"p sums to 2, not 1; normalized"):
        assert check_distribution("p", [1, 1]) == (0.5, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_distribution("p", [0.5, 0.5 + 1e-9])  # within tolerance: silent
    with pytest.warns(DistributionWarning):
        assert opinion_similarity([2, 2], [0.5, 0.5]) == pytest.approx(1.0)


def test_gap_and_most_similar_group():
    gap = best_worst_gap({"us": 0.9, "gb": 0.7, "sco": 0.4})
    assert (gap.best, gap.worst) == ("us", "sco") and gap.gap == pytest.approx(0.5)
    gap = best_worst_gap({"us": 3.0, "gb": 5.0}, higher_is_better=False)  # perplexity
    assert (gap.best, gap.worst, gap.gap) == ("us", "gb", 2.0)
    assert most_similar_group({"us": 0.6, "gb": 0.8, "sco": 0.8}) == "gb"


# Order balancing


def planted_scorer(true_scores, position_bias):
    """A test model: each option's true log-score plus a bias for the position it is listed
    at in the prompt (read back from the prompt's "Options: a, b, c." list)."""

    def score(prompt, continuations):
        listed = prompt.split("Options: ")[1].split(".")[0].split(", ")
        return [
            true_scores[c.strip()] + position_bias[listed.index(c.strip())] for c in continuations
        ]

    return score


QUESTION = SurveyQuestion(
    key="q", question="Which?", options=("red", "green", "blue", "gold"),
    selections={"a": (0.4, 0.3, 0.2, 0.1)}, cloze="I pick",
)  # fmt: skip


def test_order_balancing_cancels_a_planted_position_bias():
    true = {"red": -1.0, "green": -2.0, "blue": -0.5, "gold": -3.0}
    softmax = torch.tensor(list(true.values()), dtype=torch.float64).softmax(0).tolist()
    bias = [5.0, 0.0, -1.0, 2.5]  # a strong preference for whatever is listed first
    balanced = model_distribution(planted_scorer(true, bias), QUESTION, balance=True)
    assert balanced == pytest.approx(softmax, abs=1e-9)
    unbalanced = model_distribution(planted_scorer(true, bias), QUESTION, balance=False)
    assert unbalanced[0] > 0.9  # without balancing "red", listed first, wins
    unbiased = model_distribution(planted_scorer(true, [0.0] * 4), QUESTION, balance=False)
    assert unbiased == pytest.approx(softmax, abs=1e-9)


def test_rotations_put_every_option_in_every_position_once():
    orders = rotations(QUESTION.options)
    assert len(orders) == 4
    for position in range(4):
        assert sorted(order[position] for order in orders) == sorted(QUESTION.options)
    assert QUESTION.prompt(orders[1]) == "Which? Options: green, blue, gold, red. I pick"


def test_phrasings_add_up_to_their_option():
    question = SurveyQuestion(
        key="q", question="Which?", options=("red", "blue"), selections={"a": (0.5, 0.5)},
        phrasings={"red": ("red", "crimson")},
    )  # fmt: skip
    logp = {" red": math.log(0.2), " crimson": math.log(0.1), " blue": math.log(0.3)}
    scores = option_scores(lambda prompt, conts: [logp[c] for c in conts], question)
    assert scores == pytest.approx([math.log(0.3), math.log(0.3)])
    assert question.phrasings == {"red": ("red", "crimson"), "blue": ("blue",)}
    scots = survey_in_dialect(FILM_SURVEY, "sco")
    assert "the actin" in scots["topic"].phrasings["the acting"]
    assert scots["venue"].phrasings == FILM_SURVEY["venue"].phrasings  # words asked about stay
    assert scots["topic"].prompt().endswith("I thocht")


def test_option_scores_average_over_orders():
    true = {"red": -1.0, "green": -2.0, "blue": -0.5, "gold": -3.0}
    scores = option_scores(planted_scorer(true, [1.0, 2.0, 3.0, 4.0]), QUESTION)
    assert scores == pytest.approx([v + 2.5 for v in true.values()])


# The film survey and group similarity


def test_film_survey_groups_are_permutations_of_one_answer_vector():
    assert FILM_SURVEY.groups == ("us", "gb", "sco")
    for question in FILM_SURVEY:
        vectors = [sorted(question.selections[g]) for g in FILM_SURVEY.groups]
        assert all(v == pytest.approx(vectors[0]) for v in vectors)
        uniform = [1 / len(question.options)] * len(question.options)
        sims = {g: opinion_similarity(uniform, question.selections[g]) for g in FILM_SURVEY.groups}
        assert max(sims.values()) - min(sims.values()) < 1e-12  # uniform is equally far from all


def test_group_similarity_and_closest_group():
    answers = {q.key: q.selections["sco"] for q in FILM_SURVEY}
    sims = group_similarity(answers, FILM_SURVEY)
    assert sims["sco"] == pytest.approx(1.0) and sims["us"] < 1 and sims["gb"] < 1
    assert closest_group(answers, FILM_SURVEY) == "sco"
    only_topic = group_similarity(answers, FILM_SURVEY, keys=["topic"])
    assert only_topic["sco"] == pytest.approx(1.0)


# GlobalOpinionQA-layout files


def write_csv(path, rows, fields=("question", "selections", "options", "source")):
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in fields})
    return path


ROWS = [
    {
        "question": "Do you think the film industry is doing a good job?",
        "selections": "defaultdict(<class 'list'>, {'Belgium': [0.4, 0.5, 0.1], "
        "'Nigeria (Non-national sample)': [0.7, 0.2, 0.1]})",
        "options": "['Good', 'Bad', 'DK/Refused']",
        "source": "GAS",
    },
    {
        "question": "Is religion important?",
        "selections": "defaultdict(<class 'list'>, {'Belgium': [0.3, 0.69]})",
        "options": "['Yes', 'No']",
        "source": "WVS",
    },
]


def test_loader_reads_the_global_opinions_layout(tmp_path):
    path = write_csv(tmp_path / "global_opinions.csv", ROWS)
    with pytest.warns(
        DistributionWarning, match=r"1 answer distribution\(s\).*row 2 'Belgium' \(sum 0.99\)"
    ):
        survey = load_global_opinions(path)
    assert [q.key for q in survey] == ["q1", "q2"]
    first = survey["q1"]
    assert first.options == ("Good", "Bad", "DK/Refused") and first.source == "GAS"
    assert first.selections["Nigeria (Non-national sample)"] == pytest.approx((0.7, 0.2, 0.1))
    assert sum(survey["q2"].selections["Belgium"]) == pytest.approx(1.0)
    assert survey.groups == ("Belgium",)  # the only group answering both


def test_loader_filters_groups_and_reads_jsonl(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DistributionWarning)
        survey = load_global_opinions(
            write_csv(tmp_path / "g.csv", ROWS), groups=["Nigeria (Non-national sample)"]
        )
    assert len(survey) == 1 and survey.groups == ("Nigeria (Non-national sample)",)
    lines = [
        json.dumps({"question": "Q?", "options": ["a", "b"], "selections": {"X": [0.25, 0.75]}}),
        "",
        json.dumps({"question": "R?", "options": "['c', 'd']", "selections": "{'X': [1, 0]}"}),
    ]
    (tmp_path / "g.jsonl").write_text("\n".join(lines))
    survey = load_global_opinions(tmp_path / "g.jsonl")
    assert survey["q1"].selections["X"] == (0.25, 0.75) and survey["q2"].options == ("c", "d")


def test_write_then_load_round_trips_the_film_survey(tmp_path):
    path = write_global_opinions(FILM_SURVEY, tmp_path / "film.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        survey = load_global_opinions(path)
    for original, loaded in zip(FILM_SURVEY, survey, strict=True):
        assert loaded.options == original.options and loaded.question == original.question
        for g in original.selections:
            assert loaded.selections[g] == pytest.approx(original.selections[g])


def test_missing_options_field_is_named(tmp_path):
    no_column = write_csv(tmp_path / "a.csv", ROWS, fields=("question", "selections", "source"))
    with pytest.raises(ValueError, match=r"has no 'options' column"):
        load_global_opinions(no_column)
    empty_cell = write_csv(tmp_path / "b.csv", [ROWS[0], {**ROWS[1], "options": ""}])
    with pytest.raises(ValueError, match=r"row 2 has no 'options' field"):
        load_global_opinions(empty_cell)
    with pytest.raises(FileNotFoundError, match="no survey file"):
        load_global_opinions(tmp_path / "missing.csv")


# Metrics on a tiny model


@pytest.fixture(scope="module")
def lm():
    tokenizer = tiny_tokenizer()
    return tiny_gpt2(tokenizer, dropout=0.0).eval(), tokenizer


@torch.no_grad()
def test_continuation_logprobs_match_one_by_one_and_ignore_batching(lm):
    model, tokenizer = lm
    pairs = [("I thought", " the plot"), ("", "It is a western."), ("A long prompt here", " x")]
    batched = continuation_logprobs(model, tokenizer, pairs, batch_size=2)
    for (prompt, completion), value in zip(pairs, batched, strict=True):
        ids = [tokenizer.eos_token_id] + tokenizer(prompt)["input_ids"]
        tail = tokenizer(completion)["input_ids"]
        logps = model(torch.tensor([ids + tail])).logits[0, :-1].log_softmax(-1)
        expected = sum(logps[len(ids) - 1 + j, t] for j, t in enumerate(tail))
        assert float(value) == pytest.approx(float(expected), abs=1e-4)


def test_word_perplexity_is_exp_nll_per_word(lm):
    model, tokenizer = lm
    texts = ["I thought the plot was superb.", "It is a western."]
    nll = -continuation_logprobs(model, tokenizer, [("", t) for t in texts], add_eos=True).sum()
    assert word_perplexity(model, tokenizer, texts) == pytest.approx(math.exp(float(nll) / 10))


def test_preference_accuracy_counts_margins(lm):
    model, tokenizer = lm
    rows = [{"prompt": "Q?", "chosen": " a b", "rejected": " a b"}]  # a tie counts half
    assert preference_accuracy(model, tokenizer, rows) == 0.5
    swapped = [{"prompt": "Q?", "chosen": " It is a western.", "rejected": " It is a musical."}]
    margin = preference_margins(model, tokenizer, swapped)
    back = preference_margins(
        model,
        tokenizer,
        [{**swapped[0], "chosen": swapped[0]["rejected"], "rejected": swapped[0]["chosen"]}],
    )
    assert float(margin[0]) == pytest.approx(-float(back[0]))
    assert float(preference_margins(model, tokenizer, swapped, reference=model)[0]) == 0.0


def test_survey_answers_of_a_model_are_distributions(lm):
    model, tokenizer = lm
    answers = survey_answers(lm_scorer(model, tokenizer), FILM_SURVEY)
    for question in FILM_SURVEY:
        assert len(answers[question.key]) == len(question.options)
        assert sum(answers[question.key]) == pytest.approx(1.0)
    assert set(group_similarity(answers, FILM_SURVEY)) == {"us", "gb", "sco"}


def test_survey_rejects_bad_questions():
    with pytest.raises(ValueError, match="repeats an option"):
        SurveyQuestion(key="k", question="Q?", options=("a", "a"), selections={"g": (0.5, 0.5)})
    with pytest.raises(ValueError, match=r"selections\['g'\] has 3 values for 2 options"):
        SurveyQuestion(
            key="k", question="Q?", options=("a", "b"), selections={"g": (0.2, 0.3, 0.5)}
        )
    with pytest.raises(ValueError, match="question keys repeat"):
        Survey((QUESTION, QUESTION))
