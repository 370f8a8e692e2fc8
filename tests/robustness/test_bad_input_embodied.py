"""Bad input at every public entry point of ``toolkit.embodied``: a ``TypeError`` or
``ValueError`` naming the argument or field (spec entry, config field, demo, agent), an
:class:`ImpossibleTask` when a task asks for something the house does not hold, a parse that
says what it "cannot ground" with the house's closest candidates, and invalid actions refused
and counted (``info["invalid_actions"]``, ``BatchedHouses.invalid``, ``EpisodeResult.invalid``)
without the environment breaking.

Most tests use a hashed stand-in for MiniLM (only identical texts are similar); the closest
candidates are checked for meaning with the real MiniLM, loaded once for the module.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.embodied import (
    N_ACTIONS,
    BatchedHouses,
    BCConfig,
    EmbeddingCache,
    EndToEndAgent,
    Episode,
    Goal,
    GroundingParser,
    House,
    HouseEnv,
    HouseSpec,
    ImpossibleTask,
    NeuroSymbolicAgent,
    data_to_reach,
    demo_observations,
    episode_frames,
    expert_demo,
    expert_demos,
    generate_house,
    make_episodes,
    make_splits,
    make_task,
    mean_interval,
    plan,
    rollout,
    run_curve,
    sample_task,
    wilson_interval,
)

SPLITS = make_splits(2)


def hashed_embed(texts):
    """One random unit vector per distinct text: a fast, deterministic stand-in for MiniLM."""
    out = []
    for text in texts:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
        v = np.random.default_rng(seed).standard_normal(384)
        out.append(v / np.linalg.norm(v))
    return np.array(out, dtype=np.float32)


def spec(**overrides) -> HouseSpec:
    """One floor, a kitchen (west) and a bathroom (east) of 2×2 tiles, a door on the top row;
    a counter on tile 4 holds a red mug, a blue book and a green apple; a shelf on tile 7."""
    fields = dict(
        floors=1,
        rows=1,
        cols=2,
        size=2,
        room_types=("kitchen", "bathroom"),
        doors=((0, 1, 0),),
        links=(),
        receptacles=(("counter", 4), ("shelf", 7)),
        objects=(("mug", "red", 0), ("book", "blue", 0), ("apple", "green", 0)),
        start=0,
    )
    return HouseSpec(**(fields | overrides))


HOUSE = House(spec())
EPISODE = Episode(HOUSE, make_task(HOUSE, Goal(placements=((0, 1),))))


def fresh_env() -> tuple[HouseEnv, np.ndarray]:
    env = HouseEnv(SPLITS["train"], max_steps=500)
    obs, _ = env.reset(seed=0, options={"episode": EPISODE})
    return env, obs


# ------------------------------------------------------------------ house specs and layouts


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        ({"floors": 0}, ValueError, "floors must be >= 1"),
        ({"floors": True}, TypeError, "floors must be an int"),
        ({"rows": -1}, ValueError, "rows must be >= 1"),
        ({"cols": 4}, ValueError, "cols must be >= 1 and <= 3"),
        ({"size": 1}, ValueError, "size must be >= 2"),
        ({"size": 2.0}, TypeError, "size must be an int"),
        ({"room_types": ("kitchen",)}, ValueError, "room_types has 1 names for 2 rooms"),
        ({"room_types": ("kitchen", "sauna")}, ValueError, r"room_types\[1\] is 'sauna'"),
        ({"doors": ((0, 1),)}, TypeError, r"doors\[0\] must be \(room_a, room_b, offset\)"),
        ({"doors": (("kitchen", 1, 0),)}, TypeError, r"doors\[0\] room_a must be an int"),
        ({"doors": ((0, 1, 5),)}, ValueError, r"doors\[0\] offset must be >= 0 and <= 1"),
        ({"links": (("slide", 0, 0, (0, 1)),)}, ValueError, r"links\[0\] kind is 'slide'"),
        ({"links": (("stairs", "a", 0, (0, 1)),)}, TypeError, r"links\[0\] y must be an int"),
        ({"links": (("stairs", 9, 0, (0, 1)),)}, ValueError, r"links\[0\] is at \(9, 0\)"),
        ({"receptacles": (("counter", -1),)}, ValueError, r"receptacles\[0\] tile must be >= 0"),
        ({"receptacles": (("oven", 4),)}, ValueError, r"receptacles\[0\] is 'oven'"),
        ({"objects": (("mug", "red", 2),)}, ValueError, r"objects\[0\] receptacle must be"),
        ({"objects": (("mug", "mauve", 0),)}, ValueError, r"objects\[0\] color 'mauve'"),
        ({"start": -1}, ValueError, "start must be >= 0"),
        ({"start": 1.0}, TypeError, "start must be an int"),
        ({"layout_seed": -1}, ValueError, "layout_seed must be >= 0"),
        ({"layout_seed": "x"}, TypeError, "layout_seed must be an int"),
    ],
)
def test_house_spec_fields(overrides, error, match):
    with pytest.raises(error, match=match):
        spec(**overrides)


def test_house_needs_a_spec():
    with pytest.raises(TypeError, match="spec must be a HouseSpec"):
        House({"floors": 1})


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((-1,), {}, ValueError, "layout_seed must be >= 0"),
        ((1.5,), {}, TypeError, "layout_seed must be an int"),
        ((True,), {}, TypeError, "layout_seed must be an int"),
        (("3",), {}, TypeError, "layout_seed must be an int"),
        ((0, -2), {}, ValueError, "objects_seed must be >= 0"),
        ((0,), {"floors": 0}, ValueError, "floors must be >= 1"),
        ((0,), {"floors": -1}, ValueError, "floors must be >= 1"),
        ((0,), {"rows": 2.0}, TypeError, "rows must be an int"),
        ((0,), {"cols": 4}, ValueError, "cols must be >= 1 and <= 3"),
        ((0,), {"size": 0}, ValueError, "size must be >= 2"),
        ((0,), {"n_objects": 0}, ValueError, "n_objects must be >= 1"),
        ((0,), {"elevator": 2.0}, ValueError, "elevator must be >= 0.0 and <= 1.0"),
        ((0,), {"elevator": math.nan}, ValueError, "elevator must be a finite number"),
        ((0,), {"floors": 3, "rows": 3}, ValueError, "18 rooms but only 12 room types"),
    ],
)
def test_generate_house_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        generate_house(*args, **kwargs)


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(["floors", "rows", "cols", "size"]),
    st.integers(min_value=-(2**40), max_value=2**40),
)
def test_any_house_shape_builds_or_names_the_field(field, value):
    try:
        house = generate_house(0, **{field: value})
    except ValueError as err:
        assert field in str(err) or "rooms but only" in str(err)
        return
    assert getattr(house.spec, field) == value


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: make_splits(0), ValueError, "n_layouts must be >= 1"),
        (lambda: make_splits(2.0), TypeError, "n_layouts must be an int"),
        (lambda: make_splits(2, floors=0), ValueError, "floors must be >= 1"),
        (lambda: make_splits(2, flors=2), TypeError, "flors"),
        (lambda: make_episodes(SPLITS["train"], -1, 0), ValueError, "n must be >= 0"),
        (lambda: make_episodes(SPLITS["train"], 1, -1), ValueError, "seed must be >= 0"),
        (lambda: make_episodes(SPLITS["train"], 1, 0.5), TypeError, "seed must be an int"),
        (lambda: make_episodes(SPLITS["train"], 1, 0, kinds=()), ValueError, "kinds must not"),
        (lambda: make_episodes(SPLITS["train"], 1, 0, kinds="place"), TypeError, "kinds must be"),
        (
            lambda: make_episodes(SPLITS["train"], 1, 0, kinds=("fly",)),
            ValueError,
            "kinds must be one of 'place', 'place2', 'goto'",
        ),
        (lambda: make_episodes("train", 1, 0), TypeError, "split must be a Split"),
    ],
)
def test_splits_and_episodes(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ------------------------------------------------------------------ impossible tasks


@pytest.mark.parametrize(
    ("goal", "match"),
    [
        (Goal(placements=((5, 1),)), r"goal.placements\[0\] object 5 is not in this house"),
        (Goal(placements=((-1, 1),)), r"object -1 is not in this house, which has 3 objects"),
        (Goal(placements=((0, 9),)), r"receptacle 9 is not in this house, which has 2"),
        (Goal(placements=((0, 1), (7, 1))), r"goal.placements\[1\] object 7 is not in this"),
        (Goal(room=2), r"goal.room is room 2, not in this house \(rooms 0..1\)"),
        (Goal(placements=((0, 0),)), "the red mug is already on the counter in the kitchen"),
        (Goal(placements=((0, 1), (0, 1))), "an object is asked to go to two places"),
        (Goal(room=0), "the agent starts in the kitchen"),
    ],
)
def test_impossible_goals_are_refused_when_the_task_is_made(goal, match):
    with pytest.raises(ImpossibleTask, match=match):
        make_task(HOUSE, goal)


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.integers(max_value=-1), st.integers(min_value=3)))
def test_any_absent_object_is_an_impossible_task(obj):
    with pytest.raises(ImpossibleTask, match=f"object {obj} is not in this house"):
        make_task(HOUSE, Goal(placements=((obj, 1),)))


def test_a_house_without_the_object_yields_no_task():
    empty = House(spec(objects=()))
    with pytest.raises(ImpossibleTask, match="the house has no objects or no receptacles"):
        make_task(empty, Goal(placements=((0, 1),)))
    for kind in ("place", "place2"):
        with pytest.raises(ImpossibleTask, match=f"no solvable '{kind}' task"):
            sample_task(empty, np.random.default_rng(0), kind=kind)
    walled = House(spec(doors=()))
    with pytest.raises(ImpossibleTask, match="cannot be reached"):
        make_task(walled, Goal(placements=((0, 1),)))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: make_task(HOUSE, "mug to shelf"), TypeError, "goal must be a Goal"),
        (lambda: make_task("house", Goal(room=1)), TypeError, "house must be a House"),
        (lambda: make_task(HOUSE, Goal(room="bathroom")), TypeError, "goal.room must be an int"),
        (lambda: make_task(HOUSE, Goal(placements=((0,),))), TypeError, "placements\\[0\\]"),
        (lambda: make_task(HOUSE, Goal(placements=((0, 1),)), kind="fly"), ValueError, "kind"),
        (lambda: Goal(), ValueError, "either placements or a room"),
        (lambda: sample_task(HOUSE, 0), TypeError, "rng must be a numpy.random.Generator"),
        (
            lambda: sample_task(HOUSE, np.random.default_rng(0), attempts=0),
            ValueError,
            "attempts must be >= 1",
        ),
        (
            lambda: sample_task(HOUSE, np.random.default_rng(0), phrasing="formal"),
            ValueError,
            "phrasing must be one of 'seen', 'held_out'",
        ),
        (
            lambda: sample_task(HOUSE, np.random.default_rng(0), combos="new"),
            ValueError,
            "combos must be one of",
        ),
    ],
)
def test_task_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ------------------------------------------------------------------ the environment


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"split": "train"}, TypeError, "split must be a Split"),
        ({"kinds": ()}, ValueError, "kinds must not be empty"),
        ({"kinds": "place"}, TypeError, "kinds must be a list of task kinds"),
        ({"kinds": ("place", "fly")}, ValueError, "kinds must be one of"),
        ({"max_steps": 0}, ValueError, "max_steps must be >= 1"),
        ({"max_steps": 1.5}, TypeError, "max_steps must be an int"),
        ({"render_mode": "human"}, ValueError, "render_mode must be None or 'ansi'"),
    ],
)
def test_env_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        HouseEnv(**({"split": SPLITS["train"]} | kwargs))


def test_env_before_reset_and_with_a_bad_episode():
    env = HouseEnv(SPLITS["train"])
    with pytest.raises(RuntimeError, match=r"call reset\(\) first"):
        env.step(0)
    with pytest.raises(TypeError, match=r"options\['episode'\] must be an Episode"):
        env.reset(options={"episode": "kitchen"})


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.integers(max_value=-1),
        st.integers(min_value=N_ACTIONS),
        st.integers(min_value=-(2**63), max_value=2**63 - 1)
        .filter(lambda a: not 0 <= a < N_ACTIONS)
        .map(np.int64),
    )
)
def test_out_of_range_actions_are_refused_and_counted(action):
    env, obs = fresh_env()
    for k in (1, 2):
        new, reward, terminated, truncated, info = env.step(action)
        assert np.array_equal(new, obs) and reward == 0.0 and not terminated and not truncated
        assert info["invalid_actions"] == k
    new, _, _, _, info = env.step(1)  # south onto the counter: still works, not counted
    assert not np.array_equal(new, obs) and info["invalid_actions"] == 2


@pytest.mark.parametrize(
    "action", [math.nan, np.float32("nan"), math.inf, 1.5, np.float64(2.0), "north", None, True]
)
def test_wrong_type_actions_are_refused_without_breaking_the_env(action):
    env, obs = fresh_env()
    env.step(0)  # a wall: refused, counted
    with pytest.raises(TypeError, match="action must be an int"):
        env.step(action)
    new, _, _, _, info = env.step(1)  # the env goes on from where it was
    assert info["invalid_actions"] == 1 and not np.array_equal(new, obs)
    env.render_mode = "ansi"
    assert "1 refused" in env.render()


def test_batched_actions_refused_and_counted_per_episode():
    batch = BatchedHouses([EPISODE, EPISODE], max_steps=10)
    batch.step(np.array([N_ACTIONS, 1]))
    batch.step(np.array([-(2**62), np.iinfo(np.int64).max]))
    assert batch.invalid.tolist() == [2, 1] and batch.pos.tolist() == [0, 4]
    for bad, match in [
        (np.array([np.nan, 1.0]), "actions must be 2 ints"),
        (np.array([1]), "actions must be 2 ints"),
        ([0.5, 1.5], "actions must be 2 ints"),
    ]:
        with pytest.raises(TypeError, match=match):
            batch.step(bad)
    assert batch.invalid.tolist() == [2, 1] and batch.steps.tolist() == [2, 2]
    batch.step(np.array([1, 1]))
    assert batch.steps.tolist() == [3, 3]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: BatchedHouses([]), ValueError, "episodes must not be empty"),
        (lambda: BatchedHouses(EPISODE), TypeError, "episodes must be a list of Episode"),
        (lambda: BatchedHouses([EPISODE, "x"]), TypeError, r"episodes\[1\] must be an Episode"),
        (lambda: BatchedHouses([EPISODE], max_steps=0), ValueError, "max_steps must be >= 1"),
    ],
)
def test_batched_houses_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


class _Agent:
    """An agent that always answers ``value`` (whatever its type)."""

    def __init__(self, value):
        self.value = value

    def begin(self, episodes):
        pass

    def act(self, obs):
        return np.full(len(obs), self.value)


@pytest.mark.parametrize("value", [math.nan, math.inf, 1.5, -3, 99])
def test_rollout_refuses_and_counts_nonsense_actions(value):
    results = rollout(_Agent(value), [EPISODE, EPISODE], max_steps=4)
    assert [(r.invalid, r.steps, r.success) for r in results] == [(4, 4, False)] * 2
    assert all(tiles == [0] * 5 for tiles in (r.tiles for r in results))


def test_rollout_arguments():
    with pytest.raises(TypeError, match=r"agent must have begin\(\) and act\(\) methods"):
        rollout("agent", [EPISODE])
    with pytest.raises(ValueError, match="max_steps must be >= 1"):
        rollout(_Agent(0), [EPISODE], max_steps=0)

    class Short(_Agent):
        def act(self, obs):
            return np.zeros(1, dtype=int)

    with pytest.raises(ValueError, match=r"agent.act must return 2 actions, got shape \(1,\)"):
        rollout(Short(0), [EPISODE, EPISODE])
    with pytest.raises(TypeError, match="agent.act must return ints"):
        rollout(_Agent("north"), [EPISODE])


def test_replay_marks_refused_actions_and_names_the_bad_entry():
    frames = episode_frames(EPISODE, [N_ACTIONS, -1, 1])
    assert frames["refused"] == [False, True, True, False]
    assert frames["actions"][1:] == [f"action {N_ACTIONS}", "action -1", "south"]
    with pytest.raises(TypeError, match=r"actions\[1\] must be an int"):
        episode_frames(EPISODE, [1, "south"])
    with pytest.raises(TypeError, match="episode must be an Episode"):
        episode_frames(HOUSE, [1])


# ------------------------------------------------------------------ the grounding parser


@pytest.mark.parametrize(
    ("instruction", "error", "match"),
    [
        ("", ValueError, "instruction must not be empty or blank"),
        ("   \n\t", ValueError, "instruction must not be empty or blank"),
        (None, TypeError, "instruction must be a str"),
        (b"go to the kitchen", TypeError, "instruction must be a str"),
        (42, TypeError, "instruction must be a str"),
        (["go", "to", "the", "kitchen"], TypeError, "instruction must be a str"),
    ],
)
def test_empty_and_non_text_instructions(instruction, error, match):
    with pytest.raises(error, match=match):
        GroundingParser(hashed_embed).parse(instruction, HOUSE)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_any_text_parses_to_a_goal_or_says_what_it_cannot_ground(text):
    parser = GroundingParser(hashed_embed)
    if not text.strip():
        with pytest.raises(ValueError, match="instruction must not be empty"):
            parser.parse(text, HOUSE)
        return
    parsed = parser.parse(text, HOUSE)
    assert parsed.ok != (parsed.failure is not None)
    if not parsed.ok:
        assert str(parsed.failure).startswith("cannot ground ")


def test_unknown_names_with_any_encoder_list_the_house_candidates():
    parser = GroundingParser(hashed_embed)
    violin = parser.parse("bring the violin from the kitchen to the shelf in the bathroom", HOUSE)
    assert violin.failure.role == "object" and violin.failure.text == "violin"
    assert {c for c, _ in violin.failure.candidates} == {"red mug", "blue book", "green apple"}
    assert "cannot ground object 'violin' (unknown); closest: " in str(violin.failure)
    nothing = parser.parse("go north, then east!", HOUSE)
    assert nothing.failure.role == "task" and "closest: –" in str(nothing.failure)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: GroundingParser("minilm"), TypeError, "embed must be callable"),
        (lambda: GroundingParser(hashed_embed, threshold=math.nan), ValueError, "threshold"),
        (lambda: GroundingParser(hashed_embed, threshold=1.5), ValueError, "threshold"),
        (lambda: GroundingParser(hashed_embed, max_span=0), ValueError, "max_span must be >= 1"),
        (lambda: GroundingParser(hashed_embed, max_span="3"), TypeError, "max_span must be an"),
        (
            lambda: GroundingParser(hashed_embed).parse("go to the kitchen", "house"),
            TypeError,
            "house must be a House",
        ),
        (
            lambda: GroundingParser(hashed_embed).add_anchor("furniture", "sofa", "couch"),
            ValueError,
            "kind must be one of",
        ),
        (
            lambda: GroundingParser(hashed_embed).add_anchor("object", "violin", "fiddle"),
            ValueError,
            "'violin' is not a object",
        ),
        (
            lambda: GroundingParser(hashed_embed).add_anchor("object", "mug", ""),
            ValueError,
            "text must not be empty",
        ),
        (
            lambda: GroundingParser(hashed_embed).calibrate(["go to the kitchen"], [], [HOUSE]),
            ValueError,
            "instructions, goals and houses differ in length: 1, 0, 1",
        ),
    ],
)
def test_parser_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_embedding_cache_arguments(tmp_path):
    with pytest.raises(TypeError, match="encoder must be callable or a SentenceEncoder"):
        EmbeddingCache(encoder=3)
    cache = EmbeddingCache(hashed_embed)
    with pytest.raises(TypeError, match="texts must be a list of str"):
        cache("go to the kitchen")
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str, got None"):
        cache(["kitchen", None])
    with pytest.raises(ValueError, match=r"texts\[0\] must not be empty"):
        cache([" "])
    with pytest.raises(ValueError, match="save needs a path"):
        cache.save()
    junk = tmp_path / "cache.npz"
    junk.write_text("not an npz file")
    with pytest.raises(ValueError, match="is not an embedding cache saved by EmbeddingCache"):
        EmbeddingCache(hashed_embed, path=junk)
    assert junk.read_text() == "not an npz file"


@pytest.fixture(scope="module")
def minilm_parser():
    return GroundingParser(EmbeddingCache())


@pytest.mark.parametrize(
    ("instruction", "role", "reason", "closest"),
    [
        (
            "bring the banana from the kitchen to the shelf in the bathroom",
            "object",
            "unknown",
            ["green apple"],
        ),
        (
            "bring the blue mug from the kitchen to the shelf in the bathroom",
            "object",
            "not in this house",
            ["red mug", "blue book"],
        ),
        (
            "bring the red mug from the kitchen to the sofa in the bathroom",
            "receptacle",
            "not in this house",
            ["shelf in the bathroom"],
        ),
        ("go to the sauna", "room", "unknown", ["bathroom"]),
        ("go to the garage", "room", "not in this house", None),
    ],
)
def test_minilm_names_the_closest_candidates(minilm_parser, instruction, role, reason, closest):
    parsed = minilm_parser.parse(instruction, HOUSE)
    failure = parsed.failure
    assert not parsed.ok and failure.role == role and failure.reason == reason
    names = [name for name, _ in failure.candidates]
    sims = [sim for _, sim in failure.candidates]
    assert sims == sorted(sims, reverse=True) and len(names) == len(set(names)) >= 2
    if closest is not None:
        assert names[: len(closest)] == closest
    message = str(failure)
    assert message.startswith(f"cannot ground {role} {failure.text!r} ({reason}); closest: ")
    for name in names:
        assert name in message


# ------------------------------------------------------------------ agents and training


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"d_model": 0}, ValueError, "d_model must be >= 1"),
        ({"layers": -1}, ValueError, "layers must be >= 1"),
        ({"heads": 0}, ValueError, "heads must be >= 1"),
        ({"heads": 3}, ValueError, r"d_model \(64\) must be a multiple of heads \(3\)"),
        ({"context": 2.0}, TypeError, "context must be an int"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"steps": -1}, ValueError, "steps must be >= 0"),
        ({"pretrain_steps": True}, TypeError, "pretrain_steps must be an int"),
        ({"lr": 0.0}, ValueError, "lr must be > 0"),
        ({"lr": math.inf}, ValueError, "lr must be a finite number"),
        ({"dropout": 1.5}, ValueError, "dropout must be >= 0 and <= 1"),
        ({"weight_decay": -1e-4}, ValueError, "weight_decay must be >= 0"),
        ({"weight_decay": math.nan}, ValueError, "weight_decay must be a finite number"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"seed": 0.5}, TypeError, "seed must be an int"),
        ({"seed": "0"}, TypeError, "seed must be an int"),
    ],
)
def test_bc_config_fields(kwargs, error, match):
    with pytest.raises(error, match=match):
        BCConfig(**kwargs)


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(["d_model", "layers", "heads", "context", "batch_size", "steps"]),
    st.integers(min_value=-(2**40), max_value=0),
)
def test_any_non_positive_size_names_the_field(field, value):
    if field == "steps" and value == 0:
        assert BCConfig(steps=0).steps == 0
        return
    with pytest.raises(ValueError, match=field):
        BCConfig(**{field: value})


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: EndToEndAgent(None), TypeError, "embed must be callable"),
        (lambda: EndToEndAgent(hashed_embed, {"steps": 1}), TypeError, "config must be a BCConfig"),
        (lambda: EndToEndAgent(hashed_embed, greedy=1), TypeError, "greedy must be True or False"),
        (
            lambda: EndToEndAgent(hashed_embed, BCConfig(steps=1)).fit(["bring the mug"]),
            TypeError,
            r"demos\[0\] must be a Demo",
        ),
        (
            lambda: EndToEndAgent(hashed_embed, BCConfig(steps=1)).fit([], pretrain=EPISODE),
            TypeError,
            "pretrain must be a list of Demo",
        ),
        (lambda: NeuroSymbolicAgent(hashed_embed), TypeError, "parser must be a GroundingParser"),
        (
            lambda: NeuroSymbolicAgent(GroundingParser(hashed_embed)).fit([EPISODE]),
            TypeError,
            r"demos\[0\] must be a Demo, got Episode",
        ),
        (lambda: demo_observations("demos"), TypeError, "demos must be a list of Demo"),
    ],
)
def test_agent_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: expert_demo(EPISODE, noise=1.5), ValueError, "noise must be >= 0.0 and <= 1.0"),
        (lambda: expert_demo(EPISODE, noise=math.nan), ValueError, "noise must be a finite"),
        (lambda: expert_demo(EPISODE, seed=-1), ValueError, "seed must be >= 0"),
        (lambda: expert_demo(EPISODE, seed=0.5), TypeError, "seed must be an int"),
        (lambda: expert_demo(EPISODE, max_steps=0), ValueError, "max_steps must be >= 1"),
        (lambda: expert_demo(HOUSE), TypeError, "episode must be an Episode"),
        (lambda: expert_demos([EPISODE], seed=-1), ValueError, "seed must be >= 0"),
        (lambda: plan(HOUSE, "mug to shelf"), TypeError, "goal must be a Goal"),
        (lambda: plan(EPISODE, Goal(room=1)), TypeError, "house must be a House"),
        (
            lambda: plan(HOUSE, Goal(room=1), max_expansions=0),
            ValueError,
            "max_expansions must be >= 1",
        ),
    ],
)
def test_expert_and_planner_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


TINY_BC = BCConfig(d_model=8, heads=2, layers=1, steps=1, pretrain_steps=0)


@pytest.mark.parametrize(
    ("counts", "seeds", "kwargs", "error", "match"),
    [
        ([0, 2], [0], {}, ValueError, r"counts\[0\] \(demos\) must be >= 1, got 0"),
        ([-1, 2], [0], {}, ValueError, r"counts\[0\] \(demos\) must be >= 1, got -1"),
        ([1.5], [0], {}, TypeError, r"counts\[0\] \(demos\) must be an int"),
        ([], [0], {}, ValueError, "counts must not be empty"),
        ([4, 2], [0], {}, ValueError, "counts must be increasing"),
        ([2, 2], [0], {}, ValueError, "counts must be increasing"),
        ([2], [], {}, ValueError, "seeds must not be empty"),
        ([2], [-1], {}, ValueError, r"seeds\[0\] must be >= 0"),
        ([2], [0.5], {}, TypeError, r"seeds\[0\] must be an int"),
        ([2], [0], {"agents": ("gpt",)}, ValueError, "agents: 'gpt' is not one of"),
        ([2], [0], {"agents": "end-to-end"}, TypeError, "agents must be a list of names"),
        ([2], [0], {"agents": ()}, ValueError, "agents must not be empty"),
        ([2], [0], {"eval_splits": "seen"}, TypeError, "eval_splits must be a list"),
        ([2], [0], {"eval_splits": ("test",)}, ValueError, "splits has no 'test' split"),
        ([2], [0], {"n_eval": 0}, ValueError, "n_eval must be >= 1"),
        ([2], [0], {"noise": 2}, ValueError, "noise must be >= 0.0 and <= 1.0"),
        ([2], [0], {"pretrain_demos": -1}, ValueError, "pretrain_demos must be >= 0"),
        ([2], [0], {"max_steps": 0}, ValueError, "max_steps must be >= 1"),
        ([2], [0], {"bc": {"steps": 1}}, TypeError, "bc must be a BCConfig"),
        ([2], [0], {"embed": "minilm"}, TypeError, "embed must be callable"),
        ([2], [0], {"splits": ["train"]}, TypeError, "splits must be a dict of Split"),
        ([2], [0], {"kinds": ("fly",)}, ValueError, "kinds must be one of"),
    ],
)
def test_run_curve_arguments(counts, seeds, kwargs, error, match):
    args = {"splits": SPLITS, "embed": hashed_embed, "n_eval": 1, "bc": TINY_BC} | kwargs
    splits, embed = args.pop("splits"), args.pop("embed")
    with pytest.raises(error, match=match):
        run_curve(counts, seeds, splits, embed, **args)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: wilson_interval(3, 2), ValueError, r"successes \(3\) must be <= n \(2\)"),
        (lambda: wilson_interval(-1, 2), ValueError, "successes must be >= 0"),
        (lambda: wilson_interval(1, 2.0), TypeError, "n must be an int"),
        (lambda: mean_interval([]), ValueError, "values must not be empty"),
        (lambda: mean_interval([0.5, math.nan]), ValueError, r"values\[1\] must be a finite"),
        (lambda: mean_interval([0.5, 0.6], level=1.0), ValueError, "level must be > 0 and < 1"),
        (lambda: mean_interval([0.5, 0.6], level=0), ValueError, "level must be > 0 and < 1"),
        (lambda: data_to_reach([1, 2], [0.2]), ValueError, "counts and rates differ in length"),
        (lambda: data_to_reach([2, 1], [0.2, 0.4]), ValueError, "positive and increasing"),
        (lambda: data_to_reach([0, 1], [0.2, 0.4]), ValueError, "positive and increasing"),
        (lambda: data_to_reach([1, 2], [math.nan, 0.7]), ValueError, r"rates\[0\] must be a"),
        (lambda: data_to_reach([1, 2], [0.2, 1.7]), ValueError, r"rates\[1\] must be >= 0.0"),
        (lambda: data_to_reach([1, 2.5], [0.2, 0.7]), TypeError, r"counts\[1\] must be an int"),
        (lambda: data_to_reach([1, 2], [0.2, 0.7], level=2), ValueError, "level must be"),
    ],
)
def test_experiment_helpers(call, error, match):
    with pytest.raises(error, match=match):
        call()
