"""The grounding parser, both agents, batched rollouts, the experiment helpers and replay data.

The parser's tests on meaning use the real MiniLM (loaded once); the rest use a hashed stand-in
that only finds identical texts similar, so they run in seconds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from embodied_helpers import two_floors, two_rooms

from toolkit.embodied import (
    STOP,
    BCConfig,
    EmbeddingCache,
    EndToEndAgent,
    Episode,
    EpisodeResult,
    Goal,
    GroundingParser,
    House,
    NeuroSymbolicAgent,
    data_to_reach,
    demo_observations,
    episode_frames,
    expert_demos,
    failure_category,
    make_episodes,
    make_splits,
    make_task,
    noun_phrases,
    plan,
    rollout,
    run_curve,
    summarize,
    wilson_interval,
)
from toolkit.embodied.world import ACTIONS

SPLITS = make_splits(4)


def episode(spec_house: House, goal: Goal, instruction: str) -> Episode:
    task = make_task(spec_house, goal)
    return Episode(spec_house, type(task)(task.kind, goal, instruction))


@pytest.fixture(scope="module")
def minilm():
    return EmbeddingCache()


def test_noun_phrases():
    text = "Could you bring the red coffee mug from the kitchen, then put it on the bedroom desk?"
    assert noun_phrases(text) == [
        (3, ["red", "coffee", "mug"]),
        (8, ["kitchen"]),
        (15, ["bedroom", "desk"]),
    ]
    assert noun_phrases("go north") == []


def test_parser_grounds_canonical_names_with_any_encoder(fake_embed):
    house = House(two_rooms())
    parser = GroundingParser(fake_embed)
    parsed = parser.parse("bring the red mug from the kitchen to the desk in the bedroom", house)
    assert parsed.ok and parsed.goal == Goal(placements=((0, 1),))
    assert [(m.kind, m.value) for m in parsed.mentions] == [
        ("color", "red"),
        ("object", "mug"),
        ("room", "kitchen"),
        ("receptacle", "desk"),
        ("room", "bedroom"),
    ]
    assert parser.parse("go to the bedroom", house).goal == Goal(room=1)
    assert parser.parse("walk to the bedroom desk", house).failure.role == "task"


def test_parser_says_what_it_cannot_ground_with_the_closest_candidates(minilm):
    house = House(two_rooms())
    parser = GroundingParser(minilm)
    unknown = parser.parse("bring the violin from the kitchen to the desk in the bedroom", house)
    assert not unknown.ok and unknown.failure.role == "object"
    assert unknown.failure.text == "violin" and unknown.failure.candidates[0][0] == "red mug"
    assert "cannot ground object 'violin'" in str(unknown.failure)
    green = parser.parse("bring the green mug from the kitchen to the desk in the bedroom", house)
    assert green.failure.role == "object" and green.failure.reason == "not in this house"
    garage = parser.parse("bring the red mug from the kitchen to the desk in the garage", house)
    assert garage.failure.role == "room" and garage.failure.candidates
    sauna = parser.parse("go to the sauna", house)
    assert sauna.failure.role == "room" and {c for c, _ in sauna.failure.candidates} == {
        "kitchen",
        "bedroom",
    }


def test_calibration_learns_surface_forms_and_a_threshold(minilm):
    house = House(two_rooms(receptacles=(("counter", 4), ("sofa", 7))))
    goal = Goal(placements=((0, 1),))
    parser = GroundingParser(minilm)
    before = parser.n_anchors()
    stats = parser.calibrate(
        ["fetch the red cup from the kitchen and place it on the couch in the bedroom"],
        [goal],
        [house],
    )
    assert stats["added"] >= 2 and parser.n_anchors() == before + stats["added"]
    anchors = parser.anchors["object"]
    assert ("mug", "cup") in zip(anchors.values, anchors.texts, strict=True)
    assert 0.3 <= parser.threshold <= 0.7
    parsed = parser.parse("move the red cup from the kitchen to the bedroom couch", house)
    assert parsed.goal == goal
    with pytest.raises(ValueError, match="differ in length"):
        parser.calibrate(["x"], [], [])


def test_embedding_cache_embeds_each_text_once_and_saves(tmp_path, fake_embed):
    calls = []

    def counting(texts):
        calls.append(list(texts))
        return fake_embed(texts)

    cache = EmbeddingCache(counting, path=tmp_path / "e.npz")
    a = cache(["a", "b", "a"])
    cache(["b", "c"])
    assert calls == [["a", "b"], ["c"]] and a.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1, rtol=1e-5)
    cache.save()
    again = EmbeddingCache(lambda t: pytest.fail("should not embed"), path=tmp_path / "e.npz")
    np.testing.assert_array_equal(again(["c"]), cache(["c"]))
    with pytest.raises(TypeError):
        cache("one string")


def test_neuro_symbolic_agent_plans_and_stops_when_it_cannot_ground(fake_embed):
    house = House(two_floors())
    good = episode(
        house,
        Goal(placements=((0, 1),)),
        "bring the blue book from the kitchen to the shelf in the bedroom",
    )
    bad = episode(house, Goal(placements=((0, 1),)), "bring the blue violin to the shelf")
    agent = NeuroSymbolicAgent(GroundingParser(fake_embed))
    results = rollout(agent, [good, bad], max_steps=20)
    assert results[0].success and results[0].steps == 6 and results[0].invalid == 0
    assert not results[1].success and results[1].stopped and results[1].steps == 0
    assert failure_category(bad, results[1], agent.parses[1]) == "cannot ground"
    assert agent.act(np.zeros((2, 1))).tolist() == [STOP, STOP]


def test_end_to_end_agent_clones_demos_and_runs_batched(fake_embed):
    episodes = make_episodes(SPLITS["train"], 6, seed=0)
    demos = expert_demos(episodes, noise=0.0)
    observations = demo_observations(demos)
    assert [len(o) for o in observations] == [len(d.actions) for d in demos]
    goto = expert_demos(make_episodes(SPLITS["train"], 3, 1, kinds=("goto",)))
    config = BCConfig(d_model=16, heads=2, layers=1, context=3, steps=30, pretrain_steps=10)
    agent = EndToEndAgent(fake_embed, config).fit(demos, pretrain=goto)
    assert len(agent.log["losses"]) == 30 and len(agent.log["pretrain_losses"]) == 10
    assert agent.log["losses"][-1] < agent.log["losses"][0]
    results = rollout(agent, episodes, max_steps=15)
    assert all(len(r.tiles) == r.steps + 1 == len(r.held) for r in results)
    again = rollout(
        EndToEndAgent(fake_embed, config).fit(demos, pretrain=goto), episodes, max_steps=15
    )
    assert [r.actions for r in results] == [r.actions for r in again], "same seed, same agent"
    with pytest.raises(ValueError, match="multiple of heads"):
        BCConfig(d_model=10, heads=4)


def test_intervals_and_data_to_reach():
    lo, hi = wilson_interval(5, 10)
    assert lo < 0.5 < hi and wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(10, 10)[1] == 1.0
    assert data_to_reach([10, 100], [0.2, 0.8], 0.5) == pytest.approx(math.sqrt(10 * 100))
    assert data_to_reach([10, 100], [0.6, 0.9]) == 10
    assert data_to_reach([10, 100], [0.1, 0.2]) == math.inf
    with pytest.raises(ValueError, match="increasing"):
        data_to_reach([100, 10], [0.1, 0.2])


def test_failure_categories_read_the_trace():
    house = House(two_rooms(objects=(("mug", "red", 0), ("book", "blue", 0))))
    ep = episode(house, Goal(placements=((0, 1),)), "x")

    def result(**kw):
        return EpisodeResult(
            **({"success": False, "steps": 4, "invalid": 0, "stopped": False} | kw)
        )

    assert failure_category(ep, result(success=True)) == "success"
    assert failure_category(ep, result(held=[-1, -1])) == "never picked up"
    assert failure_category(ep, result(held=[-1, 1])) == "wrong object"
    assert failure_category(ep, result(held=[-1, 0, -1])) == "target misplaced"
    assert failure_category(ep, result(invalid=3)) == "refused-action loop"


def test_run_curve_and_summary_on_a_tiny_budget(fake_embed):
    config = BCConfig(d_model=16, heads=2, layers=1, context=2, steps=5, pretrain_steps=5)
    curve = run_curve(
        [2, 4],
        [0, 1],
        SPLITS,
        fake_embed,
        eval_splits=("seen", "held_out_layouts"),
        n_eval=4,
        bc=config,
        pretrain_demos=2,
    )
    assert len(curve.rows) == 2 * 2 * 2 * 2
    assert all(sum(r["outcomes"].values()) == r["episodes"] == 4 for r in curve.rows)
    table = summarize(curve.rows)
    assert len(table) == 8 and all(0 <= t["lo"] <= t["success"] <= t["hi"] <= 1 for t in table)
    assert set(curve.examples) == {
        (a, s) for a in ("end-to-end", "neuro-symbolic") for s in ("seen", "held_out_layouts")
    }
    with pytest.raises(ValueError, match="increasing"):
        run_curve([4, 2], [0], SPLITS, fake_embed)


def test_episode_frames_replay_the_path_and_the_hands():
    house = House(two_floors())
    goal = Goal(placements=((0, 1),))
    ep = episode(house, goal, "bring the blue book to the shelf upstairs")
    actions = plan(house, goal)
    frames = episode_frames(ep, [9, *actions], agent="planner")  # a refused step first
    assert len(frames["tiles"]) == len(actions) + 2 and frames["success"]
    assert frames["refused"][:2] == [False, True] and frames["actions"][1] == ACTIONS[9]
    assert frames["tiles"][0] == [0, 1, 1] and frames["tiles"][-1] == [1, 2, 1]
    assert frames["held"][3] == 0 and frames["object_tiles"][3][0] is None
    assert frames["object_tiles"][-1][0] == [1, 2, 1]
    assert frames["walls"] == [] and len(frames["links"]) == 4
    walls = episode_frames(episode(House(two_rooms()), Goal(room=1), "go"), [])["walls"]
    assert walls == [[0, 2, 1, 2, 2]]  # the shared wall but its door
