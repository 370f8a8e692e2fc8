"""The household world, its tasks and splits, the expert and the planner.

Every generated task is solved by the expert and its demo replays to success through the
environment; held-out splits share nothing with training; the planner's plans are optimal on
hand-made worlds (against an exhaustive breadth-first search); impossible tasks are refused when
they are made.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from embodied_helpers import two_floors, two_rooms

from toolkit.embodied import (
    BatchedHouses,
    Episode,
    Goal,
    House,
    HouseEnv,
    HouseSpec,
    ImpossibleTask,
    expert_demo,
    generate_house,
    goal_reached,
    initial_state,
    make_episodes,
    make_splits,
    make_task,
    plan,
    sample_task,
    step_state,
)
from toolkit.embodied.tasks import TEMPLATES
from toolkit.embodied.vocab import HELD_OUT_COMBOS, OBJECTS
from toolkit.embodied.world import DOWN, N_ACTIONS, PLACE

SPLITS = make_splits(6)


def replay(episode: Episode, actions) -> tuple[bool, int]:
    """Success and refused actions of ``actions`` replayed through the Gymnasium env."""
    env = HouseEnv(max_steps=len(actions) + 5)
    env.reset(seed=0, options={"episode": episode})
    terminated = False
    info = {}
    for t, action in enumerate(actions):
        assert not terminated, f"the episode ended before action {t}"
        _, reward, terminated, truncated, info = env.step(action)
        assert not truncated
    return terminated and info["success"], info["invalid_actions"]


@pytest.mark.parametrize("kind", ["place", "place2", "goto"])
@pytest.mark.parametrize("split", ["train", "held_out_layouts", "held_out_phrasings"])
def test_expert_solves_every_generated_task_and_its_demo_replays(kind, split):
    episodes = make_episodes(SPLITS[split], 25, seed=3, kinds=(kind,))
    demos = [expert_demo(e, noise=0.2, seed=i) for i, e in enumerate(episodes)]
    assert any(d.detours for d in demos), "the expert's noise takes detours"
    for demo in demos:
        ok, refused = replay(demo.episode, demo.actions)
        assert ok and refused == 0, demo.episode.task.instruction
    batch = BatchedHouses([d.episode for d in demos], max_steps=200)
    for t in range(max(len(d.actions) for d in demos)):
        batch.step(np.array([d.actions[t] if t < len(d.actions) else 0 for d in demos]))
    assert batch.success.all() and (batch.steps == [len(d.actions) for d in demos]).all()


def test_held_out_splits_are_disjoint_from_training():
    train_layouts = {generate_house(s).spec.signature() for s in SPLITS["train"].layouts}
    held = {generate_house(s).spec.signature() for s in SPLITS["held_out_layouts"].layouts}
    assert len(held) == len(SPLITS["held_out_layouts"].layouts) and not held & train_layouts
    for kind, table in TEMPLATES.items():
        assert not set(table["seen"]) & set(table["held_out"]), kind
    for entity in OBJECTS:
        assert not set(entity.seen) & set(entity.held_out)
    train = make_episodes(SPLITS["train"], 60, seed=0)
    seen = make_episodes(SPLITS["seen"], 60, seed=0)
    assert {e.task.instruction for e in train} != {e.task.instruction for e in seen}

    def combos(e):
        h = e.house
        return {
            (OBJECTS[h.obj_type[o]].name, h.room_name(h.rec_room[r]))
            for o, r in e.task.goal.placements
        }

    assert all(not combos(e) & HELD_OUT_COMBOS for e in train)
    assert all(combos(e) & HELD_OUT_COMBOS for e in make_episodes(SPLITS["held_out_combos"], 30, 0))
    phrased = make_episodes(SPLITS["held_out_phrasings"], 30, seed=0)
    assert all(e.task.phrasing == "held_out" for e in phrased)
    assert all(e.task.phrasing == "seen" for e in train)


def test_env_is_deterministic_under_a_seed():
    def run(seed):
        env = HouseEnv(SPLITS["train"])
        obs, info = env.reset(seed=seed)
        rng = np.random.default_rng(0)
        trace = [obs]
        for _ in range(30):
            obs, *_ = env.step(int(rng.integers(N_ACTIONS)))
            trace.append(obs)
        return info["instruction"], np.stack(trace)

    a, b, c = run(5), run(5), run(6)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
    assert a[0] != c[0] or not np.array_equal(a[1], c[1])
    assert (
        make_episodes(SPLITS["seen"], 5, 9)[3].task == make_episodes(SPLITS["seen"], 5, 9)[3].task
    )


def test_env_passes_gymnasiums_checker():
    from gymnasium.utils.env_checker import check_env

    env = HouseEnv(SPLITS["train"], render_mode="ansi")
    check_env(env, skip_render_check=False)
    env.reset(seed=1)
    assert "floor" in env.render()


def _bfs_length(house: House, goal: Goal) -> int:
    """Fewest actions by exhaustive breadth-first search over every state and every action
    (any object may be picked)."""
    start = initial_state(house)
    seen, queue = {start: 0}, deque([start])
    while queue:
        state = queue.popleft()
        if goal_reached(house, state, goal):
            return seen[state]
        for action in range(N_ACTIONS):
            nxt, valid = step_state(house, state, action)
            if valid and nxt not in seen:
                seen[nxt] = seen[state] + 1
                queue.append(nxt)
    raise AssertionError("no plan")


def test_planner_is_optimal_on_hand_made_worlds():
    house = House(two_rooms())
    goal = Goal(placements=((0, 1),))
    actions = plan(house, goal)
    assert len(actions) == 8 == _bfs_length(house, goal)
    state = initial_state(house)
    for a in actions:
        state, valid = step_state(house, state, a)
        assert valid
    assert goal_reached(house, state, goal)
    floors = House(two_floors())
    assert plan(floors, Goal(placements=((0, 1),))) == [1, 6, 2, 4, 3, PLACE]  # the elevator
    stairs_only = House(two_floors(links=(("stairs", 0, 0, (0, 1)),)))
    assert len(plan(stairs_only, Goal(placements=((0, 1),)))) == 10
    assert plan(floors, Goal(room=1)) in ([2, 2 + 2, 4], [0, 3, 4], [3, 0, 4], [1, 2, 4], [2, 1, 4])
    # two objects, one receptacle full until the other leaves it
    crowded = House(
        two_rooms(
            objects=(
                ("mug", "red", 0),
                ("book", "blue", 1),
                ("keys", "red", 1),
                ("apple", "green", 1),
            )
        )
    )
    swap = Goal(placements=((0, 1), (1, 0)))
    assert len(plan(crowded, swap)) == _bfs_length(crowded, swap)


@pytest.mark.parametrize("seed", range(6))
def test_planner_matches_exhaustive_search_on_small_generated_houses(seed):
    house = generate_house(seed, seed + 1, floors=2, rows=1, cols=2, size=2, n_objects=2)
    rng = np.random.default_rng(seed)
    task = sample_task(house, rng, combos="any")
    assert len(plan(house, task.goal)) == _bfs_length(house, task.goal)


def test_invalid_actions_are_refused_counted_and_survived():
    house = House(two_rooms())
    episode = Episode(house, make_task(house, Goal(placements=((0, 1),))))
    env = HouseEnv()
    obs, info = env.reset(seed=0, options={"episode": episode})
    for action in (0, 3, DOWN, 6, PLACE, 42, -3, np.int64(8)):  # walls, no stairs, empty hands
        new, reward, terminated, truncated, info = env.step(action)
        assert np.array_equal(new, obs) and reward == 0 and not terminated
    assert info["invalid_actions"] == 8
    _, _, _, _, info = env.step(1)  # south onto the counter: valid
    assert info["invalid_actions"] == 8
    for bad in ("north", 1.5, [1, 2]):
        with pytest.raises(TypeError, match="action must be an int"):
            env.step(bad)
    batch = BatchedHouses([episode, episode], max_steps=3)
    batch.step(np.array([7, 1]))
    batch.step(np.array([9, 8]))
    assert batch.invalid.tolist() == [2, 1] and batch.pos.tolist() == [0, 4]
    batch.step(np.array([0, 0]))
    assert batch.done.all() and not batch.success.any()  # truncated at max_steps


def test_impossible_tasks_are_detected_when_made():
    walled = House(two_rooms(doors=()))
    with pytest.raises(ImpossibleTask, match="cannot be reached"):
        make_task(walled, Goal(placements=((0, 1),)))
    with pytest.raises(ImpossibleTask, match="cannot be reached"):
        make_task(walled, Goal(room=1))
    house = House(two_rooms())
    with pytest.raises(ImpossibleTask, match="already on"):
        make_task(house, Goal(placements=((0, 0),)))
    full = House(
        two_rooms(
            objects=(
                ("mug", "red", 0),
                ("book", "blue", 1),
                ("keys", "red", 1),
                ("apple", "green", 1),
            )
        )
    )
    with pytest.raises(ImpossibleTask, match="no room left"):
        make_task(full, Goal(placements=((0, 1),)))
    with pytest.raises(ImpossibleTask, match="starts in"):
        make_task(house, Goal(room=0))
    twins = House(two_rooms(objects=(("mug", "red", 0), ("mug", "red", 0))))
    with pytest.raises(ImpossibleTask, match="no solvable"):
        sample_task(twins, np.random.default_rng(0))  # no uniquely described object
    with pytest.raises(ValueError, match="either placements or a room"):
        Goal()


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"room_types": ("kitchen", "kitchen")}, "distinct"),
        ({"room_types": ("kitchen", "sauna")}, "room_types\\[1\\]"),
        ({"doors": ((0, 0, 0),)}, "share no wall"),
        ({"receptacles": (("counter", 4), ("desk", 4))}, "one tile"),
        ({"objects": (("mug", "red", 0),) * 4}, "more than 3"),
        ({"objects": (("violin", "red", 0),)}, "objects\\[0\\] type"),
        ({"links": (("stairs", 0, 0, (0, 1)),)}, "increasing floors"),
        ({"start": 99}, "start"),
    ],
)
def test_bad_house_specs_name_the_field(overrides, match):
    with pytest.raises(ValueError, match=match):
        two_rooms(**overrides)


def test_generated_houses_are_connected_and_seeded():
    for seed in range(10):
        house = generate_house(seed)
        assert (house.dist >= 0).all(), "every tile reachable from every other"
        assert house.spec == generate_house(seed).spec
        assert house.spec.signature() == generate_house(seed, 99).spec.signature()
    assert generate_house(0).spec.signature() != generate_house(1).spec.signature()
    assert isinstance(generate_house(2).spec, HouseSpec)
