"""Annotator groups: utilities, preference pairs, pools whose skew matches the mix, reweighting."""

import pytest

from toolkit.data import PROMPTS
from toolkit.representation import (
    BALANCED_MIX,
    FILM_SURVEY,
    GROUPS,
    SKEWED_MIX,
    annotator_pool,
    expressed,
    group_prompts,
    mix_grid,
    pool_shares,
    preference_pairs,
    reward,
    reweight_pool,
    sft_texts,
    to_dialect,
    utility,
    word_alignment,
)
from toolkit.representation.groups import TOPIC_SHARES


def test_utility_is_the_survey_share_of_topic_and_genre():
    topic = FILM_SURVEY["topic"]
    genre = FILM_SURVEY["genre"]
    assert utility("us", "plot", "a crime drama") == pytest.approx(
        topic.selections["us"][topic.options.index("the plot")]
        + genre.selections["us"][genre.options.index("a crime drama")]
    )
    favourite = {g: max(TOPIC_SHARES[g], key=TOPIC_SHARES[g].get) for g in GROUPS}
    assert favourite == {"us": "plot", "gb": "acting", "sco": "music"}


@pytest.mark.parametrize("group", list(GROUPS))
def test_pairs_follow_the_group_and_differ_only_where_groups_disagree(group):
    pairs = preference_pairs(group, 200, seed=0)
    assert pairs == preference_pairs(group, 200, seed=0)
    assert pairs[:50] == preference_pairs(group, 50, seed=0)  # nested streams
    assert pairs[:5] != preference_pairs(group, 5, seed=0, split="test")
    dialect = GROUPS[group].dialect
    for row in pairs:
        assert row["group"] == group and row["dialect"] == dialect
        assert row["utility_chosen"] > row["utility_rejected"]
        assert row["utility_chosen"] == pytest.approx(
            utility(group, row["topic_chosen"], row["genre_chosen"])
        )
        assert (
            row["topic_chosen"] != row["topic_rejected"]
            and row["genre_chosen"] != row["genre_rejected"]
        )
        assert row["chosen"].startswith(" ") and row["prompt"] in group_prompts(group)
        # written in the group's dialect: rewriting again changes nothing
        assert to_dialect(row["chosen"], dialect) == row["chosen"]
        for side in ("chosen", "rejected"):
            found = expressed(row[side])
            assert (found["topic"], found["genre"]) == (row[f"topic_{side}"], row[f"genre_{side}"])
            assert reward(group, row[side]) == pytest.approx(row[f"utility_{side}"])


def test_group_prompts_are_the_viewer_questions_in_dialect():
    assert group_prompts("gb") == [to_dialect(p, "gb") for p in PROMPTS]
    assert any(word_alignment(p, "sco") for p in PROMPTS)


@pytest.mark.parametrize("n", [20, 64, 100, 257])
@pytest.mark.parametrize("mix", [SKEWED_MIX, BALANCED_MIX, {"us": 1.0}, {"gb": 2, "sco": 1}])
def test_pool_skew_matches_the_mix(mix, n):
    rows = annotator_pool(mix, n, seed=0)
    assert len(rows) == n
    shares = pool_shares(rows)
    total = sum(mix.values())
    for group in GROUPS:
        assert abs(shares[group] - mix.get(group, 0) / total) <= 1 / n + 1e-12
    for row in rows:  # each row labelled by its own group, in its dialect
        assert row["dialect"] == GROUPS[row["group"]].dialect


def test_pools_of_different_mixes_share_pairs():
    skewed = annotator_pool(SKEWED_MIX, 100, seed=0)
    balanced = annotator_pool(BALANCED_MIX, 100, seed=0)
    first_us = preference_pairs("us", 5, seed=0)
    for rows in (skewed, balanced):
        assert all(row in rows for row in first_us)


def test_reweighting_reaches_the_target_with_the_pool_s_own_pairs():
    rows = annotator_pool(SKEWED_MIX, 100, seed=0)
    reweighted = reweight_pool(rows, seed=0)
    assert len(reweighted) == 100
    assert pool_shares(reweighted) == pytest.approx({"us": 0.34, "gb": 0.33, "sco": 0.33})
    originals = [r["chosen"] for r in rows]
    assert all(r["chosen"] in originals for r in reweighted)
    assert len({r["chosen"] for r in reweighted if r["group"] == "sco"}) <= 5  # 5 pairs, repeated
    assert (
        reweight_pool(rows, {"us": 1}, seed=0)
        and pool_shares(reweight_pool(rows, {"us": 1}))["us"] == 1
    )


def test_sft_texts_and_mix_grid():
    rows = annotator_pool(SKEWED_MIX, 10, seed=0)
    assert sft_texts(rows) == [r["prompt"] + r["chosen"] for r in rows]
    grid = mix_grid(0.25)
    assert len(grid) == 17  # 15 grid points + the skewed and the balanced mix
    assert all(abs(sum(m.values()) - 1) < 1e-9 for m in grid)
    assert SKEWED_MIX in grid and BALANCED_MIX in grid
    assert grid[0] == {"us": 1.0, "gb": 0.0, "sco": 0.0}
