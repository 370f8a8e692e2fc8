"""Tasks, their instructions, and the seen / held-out splits.

A :class:`Goal` is symbolic: objects to put on receptacles (``placements``) or a room to reach.
:func:`make_task` refuses a goal that cannot be achieved (:class:`ImpossibleTask`: an object
already there, a full receptacle, a tile out of reach, no plan at all), so every task a split
hands out is solvable. :func:`render_instruction` words a goal from the templates and surface
forms of one phrasing split (``vocab``).

The splits (:func:`make_splits`): ``train`` (training layouts, seen phrasings, object/room
combinations other than ``vocab.HELD_OUT_COMBOS``), ``seen`` (new tasks in the training
layouts, seen phrasings), ``held_out_layouts`` (layouts never trained on, with layout
signatures disjoint from the training ones), ``held_out_phrasings`` (held-out templates and
synonyms) and ``held_out_combos`` (object types carried to room types no training task uses).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from toolkit._checks import check_choice, check_int, describe
from toolkit.embodied.vocab import (
    COLORS,
    HELD_OUT_COMBOS,
    OBJECTS,
    RECEPTACLES,
    ROOMS,
    TEMPLATES,
)
from toolkit.embodied.world import MAX_SLOTS, House, generate_house
from toolkit.seeding import stream

__all__ = [
    "HELD_OUT_LAYOUT_BASE",
    "KINDS",
    "PHRASINGS",
    "SPLIT_NAMES",
    "Episode",
    "Goal",
    "ImpossibleTask",
    "Split",
    "Task",
    "make_episodes",
    "make_splits",
    "make_task",
    "render_instruction",
    "sample_episode",
    "sample_task",
]

KINDS = ("place", "place2", "goto")
"""Task kinds: carry one object, carry two, walk to a room."""
PHRASINGS = ("seen", "held_out")
SPLIT_NAMES = ("train", "seen", "held_out_layouts", "held_out_phrasings", "held_out_combos")
HELD_OUT_LAYOUT_BASE = 1_000_000
"""Held-out layouts are drawn from seeds at and above this one."""


class ImpossibleTask(ValueError):
    """A goal that no sequence of actions achieves in its house; the message says why."""


@dataclass(frozen=True)
class Goal:
    """Objects to put on receptacles, ``((object, receptacle), ...)``, or a ``room`` to reach."""

    placements: tuple[tuple[int, int], ...] = ()
    room: int | None = None

    def __post_init__(self) -> None:
        if bool(self.placements) == (self.room is not None):
            raise ValueError("a Goal has either placements or a room, not both or neither")

    def describe(self, house: House) -> str:
        """The goal in words, with canonical names."""
        if self.room is not None:
            return f"be in the {house.room_name(self.room)}"
        return "; ".join(
            f"{house.object_name(o)} → {house.receptacle_name(r)}" for o, r in self.placements
        )


@dataclass(frozen=True)
class Task:
    """A goal in a house and the instruction that asks for it."""

    kind: str
    goal: Goal
    instruction: str = ""
    phrasing: str = "seen"
    template: int = 0


@dataclass(frozen=True)
class Episode:
    """One task in one house: what a reset of the environment starts."""

    house: House = field(repr=False)
    task: Task
    layout_seed: int | None = None
    objects_seed: int | None = None


def _check_goal(house: House, goal: Goal) -> None:
    if not isinstance(house, House):
        raise TypeError(f"house must be a House, got {describe(house)}")
    if not isinstance(goal, Goal):
        raise TypeError(f"goal must be a Goal, got {describe(goal)}")
    n_obj, n_rec = len(house.obj_type), len(house.rec_tile)
    if goal.room is not None:
        check_int("goal.room", goal.room)
        if not 0 <= goal.room < house.n_rooms:
            raise ImpossibleTask(
                f"goal.room is room {goal.room}, not in this house (rooms 0..{house.n_rooms - 1})"
            )
    for i, placement in enumerate(goal.placements):
        if not isinstance(placement, tuple | list) or len(placement) != 2:
            raise TypeError(
                f"goal.placements[{i}] must be (object, receptacle), got {describe(placement)}"
            )
        o, r = placement
        check_int(f"goal.placements[{i}] object", o)
        check_int(f"goal.placements[{i}] receptacle", r)
        if not n_obj or not n_rec:
            raise ImpossibleTask("the house has no objects or no receptacles")
        for what, index, count in (("object", o, n_obj), ("receptacle", r, n_rec)):
            if not 0 <= index < count:
                raise ImpossibleTask(
                    f"goal.placements[{i}] {what} {index} is not in this house, which has "
                    f"{count} {what}s (0..{count - 1})"
                )


def make_task(
    house: House, goal: Goal, *, kind: str | None = None, check_plan: bool = True
) -> Task:
    """A :class:`Task` for ``goal`` after checking it can be done; else :class:`ImpossibleTask`.

    Checked: objects distinct and not already where they should go, room on every receptacle
    for what arrives, every tile the task needs reachable from the start, and (``check_plan``)
    that the planner finds a plan.
    """
    _check_goal(house, goal)
    start = house.start_tile
    if goal.room is not None:
        tiles = np.flatnonzero(house.room_of_tile == goal.room)
        if (house.dist[start, tiles] < 0).all():
            raise ImpossibleTask(f"the {house.room_name(goal.room)} cannot be reached")
        if house.room_of_tile[start] == goal.room:
            raise ImpossibleTask(f"the agent starts in the {house.room_name(goal.room)}")
    objects = [o for o, _ in goal.placements]
    if len(set(objects)) != len(objects):
        raise ImpossibleTask("an object is asked to go to two places")
    load = house.load(house.start_loc).copy()
    for o, r in goal.placements:
        if house.start_loc[o] == r:
            raise ImpossibleTask(
                f"the {house.object_name(o)} is already on the {house.receptacle_name(r)}"
            )
        load[house.start_loc[o]] -= 1
        load[r] += 1
    for r in np.flatnonzero(load > MAX_SLOTS):
        raise ImpossibleTask(f"the {house.receptacle_name(int(r))} has no room left")
    for o, r in goal.placements:
        for what, tile in (
            ("object", house.rec_tile[house.start_loc[o]]),
            ("receptacle", house.rec_tile[r]),
        ):
            if house.dist[start, tile] < 0:
                raise ImpossibleTask(
                    f"the {what} of {house.object_name(o)} → "
                    f"{house.receptacle_name(r)} cannot be reached"
                )
    if kind is None:
        kind = "goto" if goal.room is not None else ("place" if len(objects) == 1 else "place2")
    check_choice("kind", kind, KINDS)
    if check_plan:
        from toolkit.embodied.planner import plan

        plan(house, goal)  # raises ImpossibleTask when there is none
    return Task(kind=kind, goal=goal)


def _form(entities, index: int, phrasing: str, rng: np.random.Generator) -> str:
    forms = entities[index].forms(phrasing)
    return forms[int(rng.integers(len(forms)))]


def render_instruction(
    house: House, goal: Goal, kind: str, phrasing: str, rng: np.random.Generator
) -> tuple[str, int]:
    """``(instruction, template index)`` for ``goal`` worded with ``phrasing``'s templates and
    surface forms."""
    check_choice("phrasing", phrasing, PHRASINGS)
    templates = TEMPLATES[check_choice("kind", kind, KINDS)][phrasing]
    index = int(rng.integers(len(templates)))
    slots: dict[str, str] = {}
    if goal.room is not None:
        slots["room"] = _form(ROOMS, house.room_type[goal.room], phrasing, rng)
    for i, (o, r) in enumerate(goal.placements):
        suffix = "" if i == 0 else str(i + 1)
        color = _form(COLORS, house.obj_color[o], phrasing, rng)
        slots["obj" + suffix] = f"{color} {_form(OBJECTS, house.obj_type[o], phrasing, rng)}"
        src_room = house.rec_room[house.start_loc[o]]
        slots["src" + suffix] = _form(ROOMS, house.room_type[src_room], phrasing, rng)
        slots["rec" + suffix] = _form(RECEPTACLES, house.rec_type[r], phrasing, rng)
        slots["room" + suffix] = _form(ROOMS, house.room_type[house.rec_room[r]], phrasing, rng)
    return templates[index].format(**slots), index


def _unique_objects(house: House) -> list[int]:
    """Objects whose (color, type) no other object in the house shares."""
    keys = list(zip(house.obj_color.tolist(), house.obj_type.tolist(), strict=True))
    return [o for o, key in enumerate(keys) if keys.count(key) == 1]


def _combo(house: House, o: int, r: int) -> bool:
    """Whether object ``o`` carried to receptacle ``r`` is a held-out (type, room) combination."""
    key = (OBJECTS[house.obj_type[o]].name, house.room_name(house.rec_room[r]))
    return key in HELD_OUT_COMBOS


def sample_task(
    house: House,
    rng: np.random.Generator,
    *,
    kind: str = "place",
    phrasing: str = "seen",
    combos: str = "seen",
    attempts: int = 200,
) -> Task:
    """A random solvable task of ``kind`` in ``house``, worded with ``phrasing``.

    Carried objects are the only ones of their color and type in the house, and go to a
    receptacle in another room than the one they start in. ``combos``: "seen" (no held-out
    object/room combination), "held_out" (at least one) or "any". Raises
    :class:`ImpossibleTask` when ``attempts`` draws find none.
    """
    if not isinstance(house, House):
        raise TypeError(f"house must be a House, got {describe(house)}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {describe(rng)}")
    check_choice("kind", kind, KINDS)
    check_choice("phrasing", phrasing, PHRASINGS)
    check_choice("combos", combos, ("seen", "held_out", "any"))
    check_int("attempts", attempts, minimum=1)
    unique = _unique_objects(house)
    n_rec = len(house.rec_tile)
    for _ in range(attempts):
        if kind == "goto":
            goal = Goal(room=int(rng.integers(house.n_rooms)))
        else:
            count = 1 if kind == "place" else 2
            if len(unique) < count or n_rec < 2:
                break
            objs = [int(o) for o in rng.choice(unique, size=count, replace=False)]
            recs = [int(rng.integers(n_rec)) for _ in objs]
            if any(
                house.rec_room[r] == house.rec_room[house.start_loc[o]]
                for o, r in zip(objs, recs, strict=True)
            ):
                continue
            if count == 2 and recs[0] == recs[1]:
                continue
            held = [_combo(house, o, r) for o, r in zip(objs, recs, strict=True)]
            if (combos == "seen" and any(held)) or (combos == "held_out" and not any(held)):
                continue
            goal = Goal(placements=tuple(zip(objs, recs, strict=True)))
        try:
            make_task(house, goal, kind=kind)
        except ImpossibleTask:
            continue
        text, template = render_instruction(house, goal, kind, phrasing, rng)
        return Task(kind, goal, text, phrasing, template)
    raise ImpossibleTask(f"no solvable {kind!r} task with {combos} combinations in {house!r}")


@dataclass(frozen=True)
class Split:
    """Where a split's episodes come from: its layout seeds, phrasing and combinations."""

    name: str
    layouts: tuple[int, ...]
    phrasing: str = "seen"
    combos: str = "seen"
    house: tuple[tuple[str, int], ...] = ()  # generate_house keywords (floors, rows, ...)


def make_splits(n_layouts: int = 20, **house_kwargs) -> dict[str, Split]:
    """The five splits (module docstring) over ``n_layouts`` training and as many held-out
    layouts; held-out layout seeds whose signature matches a training layout are skipped.
    ``house_kwargs`` (``floors``, ``rows``, ``cols``, ``size``, ``n_objects``) shape every
    house of every split."""
    check_int("n_layouts", n_layouts, minimum=1)
    train = tuple(range(n_layouts))
    seen_signatures = {generate_house(s, **house_kwargs).spec.signature() for s in train}
    held, seed = [], HELD_OUT_LAYOUT_BASE
    while len(held) < n_layouts:
        if generate_house(seed, **house_kwargs).spec.signature() not in seen_signatures:
            held.append(seed)
        seed += 1
    shape = tuple(sorted(house_kwargs.items()))
    return {
        "train": Split("train", train, house=shape),
        "seen": Split("seen", train, house=shape),
        "held_out_layouts": Split("held_out_layouts", tuple(held), house=shape),
        "held_out_phrasings": Split("held_out_phrasings", train, "held_out", house=shape),
        "held_out_combos": Split("held_out_combos", train, combos="held_out", house=shape),
    }


def _check_kinds(kinds: object) -> tuple[str, ...]:
    """A non-empty sequence of task kinds (``KINDS``), not a bare string."""
    if isinstance(kinds, str) or not isinstance(kinds, Sequence):
        raise TypeError(f"kinds must be a list of task kinds, got {describe(kinds)}")
    if not kinds:
        raise ValueError(f"kinds must not be empty; choose from {KINDS}")
    for kind in kinds:
        check_choice("kinds", kind, KINDS)
    return tuple(kinds)


def sample_episode(
    split: Split, rng: np.random.Generator, *, kinds: Sequence[str] = ("place",), **house_kwargs
) -> Episode:
    """One episode of ``split``: a layout of the split, fresh objects, a task of one of
    ``kinds`` (layouts where none can be had are redrawn)."""
    if not isinstance(split, Split):
        raise TypeError(f"split must be a Split, got {describe(split)}")
    _check_kinds(kinds)
    for _ in range(100):
        layout = split.layouts[int(rng.integers(len(split.layouts)))]
        objects_seed = int(rng.integers(2**31))
        house = generate_house(layout, objects_seed, **(dict(split.house) | house_kwargs))
        kind = kinds[int(rng.integers(len(kinds)))]
        try:
            task = sample_task(house, rng, kind=kind, phrasing=split.phrasing, combos=split.combos)
        except ImpossibleTask:
            continue
        return Episode(house, task, layout, objects_seed)
    raise ImpossibleTask(f"split {split.name!r} yields no {list(kinds)} task in 100 houses")


def make_episodes(
    split: Split, n: int, seed: int, *, kinds: Sequence[str] = ("place",), **house_kwargs
) -> list[Episode]:
    """``n`` episodes of ``split``, the same for the same ``seed`` (one stream per split
    name, so the ``train`` and ``seen`` splits share layouts but not episodes)."""
    if not isinstance(split, Split):
        raise TypeError(f"split must be a Split, got {describe(split)}")
    check_int("n", n, minimum=0)
    _check_kinds(kinds)
    rng = np.random.default_rng(stream(seed, f"embodied:{split.name}"))
    return [sample_episode(split, rng, kinds=kinds, **house_kwargs) for _ in range(n)]
