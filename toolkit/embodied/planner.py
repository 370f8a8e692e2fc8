"""Symbolic search over the world graph, the noisy scripted expert, and demos that replay.

A :data:`State` is ``(tile, held object or -1, location of every object)`` (a location is a
receptacle, or -1 while held). :func:`step_state` is the transition function, the same one the
environment applies (tests replay every demo through the environment to hold the two together).

:func:`plan` is A* over states with the move operators (north … down) and the pick and place
operators, unit costs, and an admissible heuristic: for every unfinished placement the tiles
still to walk (to the object, then to its receptacle, from the all-pairs distances of the world
graph), of which the largest counts, plus one pick and one place per unfinished placement. Only
the goal's objects are picked, so its plans are the shortest among those that leave the other
objects alone. A goal to reach a room is a breadth-first search.

:func:`expert_demo` is a scripted expert with noise: at each step, with probability ``noise``,
it takes a random move that is not blocked (a detour), then replans from where it is; it always
finishes the task (it replans to the end).
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from dataclasses import dataclass

import numpy as np

from toolkit._checks import check_int, check_probability, describe
from toolkit.embodied.tasks import Episode, Goal, ImpossibleTask
from toolkit.embodied.world import DOWN, MAX_SLOTS, PICK, PLACE, House

__all__ = [
    "Demo",
    "State",
    "expert_demo",
    "expert_demos",
    "goal_reached",
    "initial_state",
    "plan",
    "step_state",
]

State = tuple[int, int, tuple[int, ...]]
"""``(tile, held object or -1, receptacle of each object or -1 while held)``."""


def initial_state(house: House) -> State:
    """Where an episode starts: the start tile, empty hands, the objects where they lie."""
    return (int(house.start_tile), -1, tuple(int(r) for r in house.start_loc))


def step_state(house: House, state: State, action: int) -> tuple[State, bool]:
    """``(next state, valid)``; an invalid action (a wall, no stairs, nothing to pick, nowhere to
    place, an unknown action) leaves the state as it was."""
    tile, held, loc = state
    if 0 <= action <= DOWN:
        nxt = int(house.move[tile, action])
        return ((nxt, held, loc), True) if nxt >= 0 else (state, False)
    rec = int(house.rec_at_tile[tile])
    if PICK <= action < PLACE:
        if rec < 0 or held >= 0:
            return state, False
        obj = house.slot_object(np.array(loc), rec, action - PICK)
        if obj < 0:
            return state, False
        loc = loc[:obj] + (-1,) + loc[obj + 1 :]
        return (tile, obj, loc), True
    if action == PLACE:
        if rec < 0 or held < 0 or sum(1 for r in loc if r == rec) >= MAX_SLOTS:
            return state, False
        loc = loc[:held] + (rec,) + loc[held + 1 :]
        return (tile, -1, loc), True
    return state, False


def goal_reached(house: House, state: State, goal: Goal) -> bool:
    """Whether ``state`` satisfies ``goal``."""
    if goal.room is not None:
        return int(house.room_of_tile[state[0]]) == goal.room
    return all(state[2][o] == r for o, r in goal.placements)


def _heuristic(house: House, state: State, goal: Goal) -> float:
    tile, held, loc = state
    dist = house.dist
    walk, ops = 0, 0
    for o, r in goal.placements:
        target = house.rec_tile[r]
        if loc[o] == r:
            continue
        if held == o:
            d, k = dist[tile, target], 1
        else:
            if loc[o] < 0:  # another object is in hand: it gets placed first
                return float("inf")
            at = house.rec_tile[loc[o]]
            d1, d2 = dist[tile, at], dist[at, target]
            d, k = (-1, 2) if d1 < 0 or d2 < 0 else (d1 + d2, 2)
        if d < 0:
            return float("inf")
        walk, ops = max(walk, int(d)), ops + k
    return walk + ops


def _room_path(house: House, state: State, room: int) -> list[int]:
    start = state[0]
    parent = {start: (None, None)}
    queue = deque([start])
    while queue:
        t = queue.popleft()
        if house.room_of_tile[t] == room:
            path = []
            while parent[t][0] is not None:
                t, a = parent[t]
                path.append(a)
            return path[::-1]
        for a, u in enumerate(house.move[t]):
            if u >= 0 and int(u) not in parent:
                parent[int(u)] = (t, a)
                queue.append(int(u))
    raise ImpossibleTask(f"the {house.room_name(room)} cannot be reached")


def plan(
    house: House, goal: Goal, state: State | None = None, *, max_expansions: int = 200_000
) -> list[int]:
    """The shortest action sequence from ``state`` (default: the start) that achieves ``goal``
    (A*, see the module docstring). Raises :class:`ImpossibleTask` when there is none."""
    if not isinstance(house, House):
        raise TypeError(f"house must be a House, got {describe(house)}")
    if not isinstance(goal, Goal):
        raise TypeError(f"goal must be a Goal, got {describe(goal)}")
    check_int("max_expansions", max_expansions, minimum=1)
    state = initial_state(house) if state is None else state
    if goal.room is not None:
        return _room_path(house, state, goal.room)
    goal_objects = {o for o, _ in goal.placements}
    tie = itertools.count()
    h0 = _heuristic(house, state, goal)
    if h0 == float("inf"):
        raise ImpossibleTask(f"no plan: {goal.describe(house)} (something is out of reach)")
    frontier = [(h0, 0, next(tie), state)]
    parent: dict[State, tuple[State | None, int]] = {state: (None, -1)}
    best = {state: 0}
    expansions = 0
    while frontier:
        _, g, _, current = heapq.heappop(frontier)
        if g > best[current]:
            continue
        if goal_reached(house, current, goal):
            actions = []
            while parent[current][0] is not None:
                current, a = parent[current]
                actions.append(a)
            return actions[::-1]
        expansions += 1
        if expansions > max_expansions:
            break
        tile, held, loc = current
        candidates = [a for a in range(DOWN + 1) if house.move[tile, a] >= 0]
        rec = int(house.rec_at_tile[tile])
        if rec >= 0:
            if held < 0:
                on = [o for o, r in enumerate(loc) if r == rec]
                candidates += [PICK + k for k, o in enumerate(on) if o in goal_objects]
            else:
                candidates.append(PLACE)
        for a in candidates:
            nxt, valid = step_state(house, current, a)
            if not valid or best.get(nxt, 1 << 30) <= g + 1:
                continue
            h = _heuristic(house, nxt, goal)
            if h == float("inf"):
                continue
            best[nxt], parent[nxt] = g + 1, (current, a)
            heapq.heappush(frontier, (g + 1 + h, g + 1, next(tie), nxt))
    raise ImpossibleTask(f"no plan: {goal.describe(house)}")


@dataclass(frozen=True)
class Demo:
    """An episode and the actions the expert took in it (``detours``: how many were noise)."""

    episode: Episode
    actions: tuple[int, ...]
    detours: int = 0


def expert_demo(
    episode: Episode, *, noise: float = 0.1, seed: int = 0, max_steps: int = 200
) -> Demo:
    """The noisy scripted expert's demo of ``episode`` (module docstring): it reaches the goal
    in at most ``max_steps`` steps; detours are never taken in the last third of them."""
    if not isinstance(episode, Episode):
        raise TypeError(f"episode must be an Episode, got {describe(episode)}")
    check_probability("noise", noise)
    check_int("seed", seed, minimum=0)
    check_int("max_steps", max_steps, minimum=1)
    house, goal = episode.house, episode.task.goal
    rng = np.random.default_rng(seed)
    state = initial_state(house)
    actions, queue, detours = [], [], 0
    while not goal_reached(house, state, goal):
        if len(actions) >= max_steps:
            raise RuntimeError(f"the expert did not finish in {max_steps} steps")
        moves = [a for a in range(DOWN + 1) if house.move[state[0], a] >= 0]
        if rng.random() < noise and len(actions) < 2 * max_steps // 3 and moves:
            action = int(rng.choice(moves))
            queue, detours = [], detours + 1
        else:
            if not queue:
                queue = plan(house, goal, state)
            action = queue.pop(0)
        state, valid = step_state(house, state, action)
        assert valid, "the expert took an invalid action"
        actions.append(action)
    return Demo(episode, tuple(actions), detours)


def expert_demos(episodes: list[Episode], *, noise: float = 0.1, seed: int = 0) -> list[Demo]:
    """One :func:`expert_demo` per episode, each with its own noise seed."""
    check_int("seed", seed, minimum=0)
    return [expert_demo(e, noise=noise, seed=seed * 100_003 + i) for i, e in enumerate(episodes)]
