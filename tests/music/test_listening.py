import csv
import math

import numpy as np
import pytest
from scipy import stats

from toolkit.music.listening import (
    RATINGS_COLUMNS,
    Rating,
    analyse,
    read_ratings,
    simulate_panel,
    write_template,
)
from toolkit.music.taste import TASTES

PAPER_LIKE = {"sweet": 1.5, "sour": 1.5, "bitter": 1.5, "salty": 0.0}


def write_csv(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def matching_scores(ratings):
    return np.array([r.score for r in ratings if r.prompt_taste == r.rated_taste])


def test_strong_effect_is_significant_with_the_diagonal_maximal():
    ratings = simulate_panel(111, tastes=tuple(PAPER_LIKE), effect=PAPER_LIKE, seed=0)
    report = analyse(ratings)
    assert report.significant and report.p < 1e-6
    assert report.n_listeners == 111 and report.n_matching == 111 * 4
    assert report.labels == ("sweet", "sour", "bitter", "salty")
    significant = {t.taste: t.significant for t in report.per_taste}
    assert significant == {"sweet": True, "sour": True, "bitter": True, "salty": False}
    assert all(report.diagonal_is_max[t] for t in ("sweet", "sour", "bitter"))


def test_no_effect_is_not_significant():
    report = analyse(simulate_panel(111, seed=0))
    assert not report.significant and report.p > 0.05
    assert not any(t.significant for t in report.per_taste)


def test_statistics_match_scipy_and_bonferroni_multiplies_p():
    ratings = simulate_panel(30, tastes=("sweet", "bitter", "sour"), effect={"sweet": 0.8}, seed=1)
    report = analyse(ratings)
    x = matching_scores(ratings)
    expected = stats.wilcoxon(x - 5, alternative="greater", zero_method="wilcox")
    assert report.statistic == pytest.approx(expected.statistic)
    assert report.p == pytest.approx(expected.pvalue)
    assert report.shapiro_p == pytest.approx(stats.shapiro(x).pvalue)
    assert report.normal == (report.shapiro_p >= 0.05)
    assert len(report.per_taste) == 3
    for test in report.per_taste:
        assert test.p_bonferroni == pytest.approx(min(1.0, 3 * test.p))
        assert test.significant == (test.p_bonferroni < 0.05)
    sweet = next(t for t in report.per_taste if t.taste == "sweet")
    scores = np.array([r.score for r in ratings if r.prompt_taste == r.rated_taste == "sweet"])
    assert sweet.p == pytest.approx(stats.wilcoxon(scores - 5, alternative="greater").pvalue)


def test_zero_method_is_passed_to_the_test():
    ratings = [Rating(f"L{i}", "sweet", "sweet", s) for i, s in enumerate([5, 5, 5, 6, 7, 4, 8, 6])]
    x = matching_scores(ratings)
    for method in ("wilcox", "pratt", "zsplit"):
        expected = stats.wilcoxon(x - 5, alternative="greater", zero_method=method).pvalue
        assert analyse(ratings, zero_method=method).p == pytest.approx(expected)
    assert analyse(ratings, zero_method="pratt").statistic != analyse(ratings).statistic


def test_all_neutral_scores():
    report = analyse([Rating(f"L{i}", "sour", "sour", 5) for i in range(5)])
    assert report.statistic == 0.0 and report.p == 1.0 and not report.significant
    assert math.isnan(report.shapiro_p) and not report.normal


def test_heatmap_means_labels_and_diagonal():
    ratings = [
        Rating("a", "sweet", "sweet", 8),
        Rating("b", "sweet", "sweet", 6),
        Rating("a", "sweet", "bitter", 2),
        Rating("a", "bitter", "bitter", 4),
        Rating("b", "bitter", "sweet", 4),
    ]
    report = analyse(ratings)
    assert report.labels == ("sweet", "bitter")
    np.testing.assert_array_equal(report.heatmap, [[7.0, 2.0], [4.0, 4.0]])
    assert report.diagonal_is_max == {"sweet": True, "bitter": False}  # a tie is not a maximum
    with pytest.raises(ValueError):
        report.heatmap[0, 0] = 0.0


def test_heatmap_cell_without_ratings_is_nan():
    ratings = [Rating(f"L{i}", "sweet", "sweet", 7) for i in range(3)]
    ratings.append(Rating("L0", "bitter", "sweet", 3))
    report = analyse(ratings)
    assert report.labels == ("sweet", "bitter")
    assert math.isnan(report.heatmap[0, 1]) and math.isnan(report.heatmap[1, 1])
    assert report.diagonal_is_max == {}  # no prompt has both a matching and another cell


def test_table_rows():
    report = analyse(simulate_panel(20, tastes=("sweet", "salty"), effect={"sweet": 2}, seed=2))
    rows = report.table()
    assert [row["taste"] for row in rows] == ["all", "sweet", "salty"]
    assert all(row.keys() == rows[0].keys() for row in rows)
    assert rows[0]["p"] == report.p and rows[0]["shapiro_p"] == report.shapiro_p
    assert rows[1]["p_bonferroni"] == report.per_taste[0].p_bonferroni
    assert rows[1]["diagonal_is_max"] is True


def test_simulated_panel_shape_and_determinism():
    ratings = simulate_panel(7, tastes=("sweet", "sour"), effect={"sour": 3}, seed=5)
    assert len(ratings) == 7 * 2 * 2
    assert {r.listener for r in ratings} == {f"sim{i}" for i in range(1, 8)}
    assert all(r.score == round(r.score) and 0 <= r.score <= 10 for r in ratings)
    assert ratings == simulate_panel(7, tastes=("sweet", "sour"), effect={"sour": 3}, seed=5)
    assert ratings != simulate_panel(7, tastes=("sweet", "sour"), effect={"sour": 3}, seed=6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_listeners": 0}, "n_listeners"),
        ({"n_listeners": 3, "tastes": ("sweet", "spicy")}, "unknown taste"),
        ({"n_listeners": 3, "tastes": ("sweet", "sweet")}, "distinct"),
        ({"n_listeners": 3, "tastes": ("sweet",), "effect": {"sour": 1}}, "not in tastes"),
        ({"n_listeners": 3, "noise_sd": -1}, "noise_sd"),
    ],
)
def test_simulate_panel_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_panel(**kwargs)


def test_analyse_errors():
    few = [Rating("a", "sweet", "sweet", 7), Rating("b", "sweet", "sweet", 8)]
    with pytest.raises(ValueError, match="got none"):
        analyse([])
    with pytest.raises(ValueError, match="at least 3 matching"):
        analyse(few + [Rating("a", "sweet", "sour", 1)])
    enough = few + [Rating("c", "sweet", "sweet", 9)]
    with pytest.raises(ValueError, match="alpha"):
        analyse(enough, alpha=1.5)
    with pytest.raises(ValueError, match="zero_method"):
        analyse(enough, zero_method="drop")
    with pytest.raises(TypeError, match="item 3"):
        analyse([*enough, ("a", "sweet", "sweet", 7)])


@pytest.mark.parametrize(
    ("listener", "prompt", "rated", "score", "match"),
    [
        ("", "sweet", "sweet", 5, "listener"),
        ("a", "spicy", "sweet", 5, "prompt_taste"),
        ("a", "sweet", "Sweet", 5, "rated_taste"),
        ("a", "sweet", "sweet", 10.5, r"\[0, 10\]"),
        ("a", "sweet", "sweet", math.nan, r"\[0, 10\]"),
    ],
)
def test_rating_validation(listener, prompt, rated, score, match):
    with pytest.raises(ValueError, match=match):
        Rating(listener, prompt, rated, score)


def test_rating_types():
    with pytest.raises(TypeError, match="score must be a number"):
        Rating("a", "sweet", "sweet", "7")
    with pytest.raises(TypeError, match="listener"):
        Rating(3, "sweet", "sweet", 7)


def test_template_round_trips(tmp_path):
    path = write_template(tmp_path / "ratings.csv")
    with path.open(newline="") as f:
        assert tuple(next(csv.reader(f))) == RATINGS_COLUMNS
    assert read_ratings(path) == [
        Rating("L01", "sweet", "sweet", 8.0),
        Rating("L01", "sweet", "bitter", 2.0),
        Rating("L02", "bitter", "bitter", 7.0),
    ]
    with pytest.raises(FileExistsError):
        write_template(path)
    write_template(path, overwrite=True)


def test_simulated_panel_round_trips_through_csv(tmp_path):
    ratings = simulate_panel(5, effect={"umami": 1}, seed=3)
    path = tmp_path / "panel.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(RATINGS_COLUMNS)
        writer.writerows((r.listener, r.prompt_taste, r.rated_taste, r.score) for r in ratings)
    assert read_ratings(path) == ratings


def test_read_is_lenient_about_order_case_spaces_extra_columns_and_bom(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(
        "\ufeffscore, rated_taste ,listener,prompt_taste,comment\n 6.5 , SWEET ,L9,sweet,ok\n"
    )
    assert read_ratings(path) == [Rating("L9", "sweet", "sweet", 6.5)]


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        ([], "empty file"),
        (["listener,prompt_taste,score"], r":1: missing column\(s\) \['rated_taste'\]"),
        ([",".join(RATINGS_COLUMNS)], "no ratings"),
        ([",".join(RATINGS_COLUMNS), "a,sweet,sweet,7", "a,sweet,sour,abc"], ":3: score 'abc'"),
        ([",".join(RATINGS_COLUMNS), "a,sweet,sweet,11"], r":2: score must be in \[0, 10\]"),
        ([",".join(RATINGS_COLUMNS), "a,sweet,sweet,-1"], r":2: score must be in \[0, 10\]"),
        ([",".join(RATINGS_COLUMNS), "a,sweet,sweet,nan"], r":2: score must be in \[0, 10\]"),
        ([",".join(RATINGS_COLUMNS), "a,sweet,sweet,1", "b,spicy,sweet,2"], ":3: prompt_taste"),
        ([",".join(RATINGS_COLUMNS), "a,sweet,sweet"], r":2: missing value\(s\) for \['score'\]"),
    ],
)
def test_malformed_csv_names_the_line(tmp_path, lines, match):
    path = write_csv(tmp_path / "bad.csv", lines) if lines else tmp_path / "bad.csv"
    if not lines:
        path.write_text("")
    with pytest.raises(ValueError, match=match):
        read_ratings(path)


def test_all_tastes_panel_has_five_labels():
    assert analyse(simulate_panel(10, seed=0)).labels == TASTES
