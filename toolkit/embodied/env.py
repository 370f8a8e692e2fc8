"""The household as a Gymnasium environment, one episode at a time or many stepped as one batch.

Observation (a float32 vector of :data:`OBS_DIM` values in [0, 1]): only the **current room** is
seen — the floor, the room's type and grid cell, where the agent stands in it, its doors and the
sign on each (the type of the room behind it), its stairs or elevator, its receptacles (where,
what) and the objects on them (slot by slot: type and color), the held object, and the building
directory (which room types are on each floor). Nothing of other rooms' contents is seen.

Actions: ``world.ACTIONS``. An action that cannot be taken (a wall, no stairs, nothing in that
slot, hands full, nowhere to place, an integer outside the action space) is **refused**: the
state does not change, ``info["invalid_actions"]`` counts it and the episode goes on. Reward 1
on the step that completes the goal, else 0; an episode is truncated after ``max_steps``.

:class:`BatchedHouses` keeps the state of many episodes (different houses too) in padded NumPy
arrays and steps them all with one set of array operations; :class:`HouseEnv` is the
Gymnasium API over a batch of one.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import gymnasium as gym
import numpy as np

from toolkit._checks import check_int, describe
from toolkit.embodied.tasks import Episode, Split, _check_kinds, make_splits, sample_episode
from toolkit.embodied.vocab import COLORS, OBJECTS, RECEPTACLES, ROOMS
from toolkit.embodied.world import (
    DOWN,
    MAX_FLOORS,
    MAX_GRID,
    MAX_SIZE,
    MAX_SLOTS,
    N_ACTIONS,
    PICK,
    PLACE,
    UP,
    House,
)

__all__ = ["MAX_RECS_PER_ROOM", "OBS_DIM", "BatchedHouses", "HouseEnv", "static_features"]

MAX_RECS_PER_ROOM = 3
_NR, _NT, _NO, _NC = len(ROOMS), len(RECEPTACLES), len(OBJECTS), len(COLORS)
_CELL = MAX_SIZE * MAX_SIZE
_DOOR = 1 + MAX_SIZE + _NR
_LINK = _CELL + 3
_REC = _CELL + _NT
STATIC_DIM = (
    MAX_FLOORS
    + _NR
    + 2 * MAX_SIZE
    + MAX_GRID * MAX_GRID
    + 4 * _DOOR
    + 2 * _LINK
    + MAX_RECS_PER_ROOM * _REC
    + MAX_FLOORS * _NR
    + 2
)
_OBJ = _NO + _NC
OBS_DIM = STATIC_DIM + MAX_RECS_PER_ROOM * MAX_SLOTS * _OBJ + _OBJ
"""Length of an observation vector."""


@lru_cache(maxsize=256)
def _static(house: House) -> np.ndarray:
    s = house.spec
    n = house.n_tiles
    out = np.zeros((n, STATIC_DIM), dtype=np.float32)
    directory = np.zeros(MAX_FLOORS * _NR, dtype=np.float32)
    for room in range(house.n_rooms):
        directory[(room // (s.rows * s.cols)) * _NR + house.room_type[room]] = 1
    for t in range(n):
        room = int(house.room_of_tile[t])
        f = int(house.tile_floor[t])
        cell = room % (s.rows * s.cols)
        ly, lx = int(house.tile_y[t]) % s.size, int(house.tile_x[t]) % s.size
        v, i = out[t], 0
        v[i + f] = 1
        i += MAX_FLOORS
        v[i + house.room_type[room]] = 1
        i += _NR
        v[i + ly] = 1
        v[i + MAX_SIZE + lx] = 1
        i += 2 * MAX_SIZE
        v[i + (cell // s.cols) * MAX_GRID + cell % s.cols] = 1
        i += MAX_GRID * MAX_GRID
        for side in range(4):
            door = house.doors.get((room, side))
            if door is not None:
                offset, other = door
                v[i] = 1
                v[i + 1 + offset] = 1
                v[i + 1 + MAX_SIZE + house.room_type[other]] = 1
            i += _DOOR
        room_tiles = np.flatnonzero(house.room_of_tile == room)
        links = [u for u in room_tiles if house.move[u, UP] >= 0 or house.move[u, DOWN] >= 0]
        for k, u in enumerate(links[:2]):
            uy, ux = int(house.tile_y[u]) % s.size, int(house.tile_x[u]) % s.size
            v[i + k * _LINK + uy * MAX_SIZE + ux] = 1
            v[i + k * _LINK + _CELL] = float(house.move[u, UP] >= 0)
            v[i + k * _LINK + _CELL + 1] = float(house.move[u, DOWN] >= 0)
            v[i + k * _LINK + _CELL + 2] = float(house.link_kind.get(int(u)) == "elevator")
        i += 2 * _LINK
        recs = np.flatnonzero(house.rec_room == room)
        for r in recs[:MAX_RECS_PER_ROOM]:
            u = house.rec_tile[r]
            uy, ux = int(house.tile_y[u]) % s.size, int(house.tile_x[u]) % s.size
            base = i + house.rec_local[r] * _REC
            v[base + uy * MAX_SIZE + ux] = 1
            v[base + _CELL + house.rec_type[r]] = 1
        i += MAX_RECS_PER_ROOM * _REC
        v[i : i + MAX_FLOORS * _NR] = directory
        i += MAX_FLOORS * _NR
        v[i] = float(house.move[t, UP] >= 0 or house.move[t, DOWN] >= 0)
        v[i + 1] = float(house.rec_at_tile[t] >= 0)
    return out


def static_features(house: House) -> np.ndarray:
    """``(n_tiles, STATIC_DIM)``: the part of the observation that depends only on the tile."""
    if not isinstance(house, House):
        raise TypeError(f"house must be a House, got {describe(house)}")
    return _static(house)


class BatchedHouses:
    """Many episodes stepped together (module docstring); finished episodes stay as they are.

    Args:
        episodes: the episodes, any mix of houses and tasks.
        max_steps: steps after which an unfinished episode is truncated.

    Attributes (one entry per episode): ``pos`` (tile), ``held`` (object or -1), ``loc``
    (``(E, O)`` receptacle of each object, -1 held, -2 padding), ``steps``, ``invalid``
    (refused actions), ``success``, ``done``.
    """

    def __init__(self, episodes: Sequence[Episode], max_steps: int = 60) -> None:
        if isinstance(episodes, Episode) or not isinstance(episodes, Sequence):
            raise TypeError(f"episodes must be a list of Episode, got {describe(episodes)}")
        if not episodes:
            raise ValueError("episodes must not be empty")
        for i, e in enumerate(episodes):
            if not isinstance(e, Episode):
                raise TypeError(f"episodes[{i}] must be an Episode, got {describe(e)}")
        self.max_steps = check_int("max_steps", max_steps, minimum=1)
        self.episodes = list(episodes)
        E = len(episodes)
        houses = [e.house for e in episodes]
        T = max(h.n_tiles for h in houses)
        R = max(max(len(h.rec_tile) for h in houses), 1)
        O = max(max(len(h.obj_type) for h in houses), 1)  # noqa: E741
        self.move = -np.ones((E, T, 6), dtype=np.int64)
        self.room_of_tile = np.zeros((E, T), dtype=np.int64)
        self.rec_at_tile = -np.ones((E, T), dtype=np.int64)
        self.rec_room = -np.ones((E, R), dtype=np.int64)
        self.rec_local = np.zeros((E, R), dtype=np.int64)
        self.obj_features = np.zeros((E, O, _OBJ), dtype=np.float32)
        self.start_loc = -2 * np.ones((E, O), dtype=np.int64)
        self.static = np.zeros((E, T, STATIC_DIM), dtype=np.float32)
        self.goal_obj = -np.ones((E, 2), dtype=np.int64)
        self.goal_rec = -np.ones((E, 2), dtype=np.int64)
        self.goal_room = -np.ones(E, dtype=np.int64)
        self.start = np.zeros(E, dtype=np.int64)
        for e, (ep, h) in enumerate(zip(episodes, houses, strict=True)):
            n, nr, no = h.n_tiles, len(h.rec_tile), len(h.obj_type)
            self.move[e, :n] = h.move
            self.room_of_tile[e, :n] = h.room_of_tile
            self.rec_at_tile[e, :n] = h.rec_at_tile
            self.rec_room[e, :nr] = h.rec_room
            self.rec_local[e, :nr] = h.rec_local
            self.obj_features[e, np.arange(no), h.obj_type] = 1
            self.obj_features[e, np.arange(no), _NO + h.obj_color] = 1
            self.start_loc[e, :no] = h.start_loc
            self.static[e, :n] = static_features(h)
            self.start[e] = h.start_tile
            goal = ep.task.goal
            if goal.room is not None:
                self.goal_room[e] = goal.room
            for k, (o, r) in enumerate(goal.placements[:2]):
                self.goal_obj[e, k], self.goal_rec[e, k] = o, r
        self._rows = np.arange(E)
        self._lower = np.tril(np.ones((O, O), dtype=bool), -1)  # [i, j]: j < i
        self.reset()

    def __len__(self) -> int:
        return len(self.episodes)

    def reset(self) -> np.ndarray:
        """Every episode back to its start; the observations ``(E, OBS_DIM)``."""
        E = len(self.episodes)
        self.pos = self.start.copy()
        self.held = -np.ones(E, dtype=np.int64)
        self.loc = self.start_loc.copy()
        self.steps = np.zeros(E, dtype=np.int64)
        self.invalid = np.zeros(E, dtype=np.int64)
        self.success = np.zeros(E, dtype=bool)
        self.done = np.zeros(E, dtype=bool)
        return self.observe()

    def _goal_met(self) -> np.ndarray:
        rows = self._rows[:, None]
        placed = (self.goal_obj < 0) | (self.loc[rows, self.goal_obj.clip(0)] == self.goal_rec)
        has_placements = (self.goal_obj >= 0).any(1)
        in_room = self.room_of_tile[self._rows, self.pos] == self.goal_room
        return np.where(has_placements, placed.all(1), in_room)

    def observe(self) -> np.ndarray:
        """``(E, OBS_DIM)`` float32 observations of the current states."""
        E = len(self.episodes)
        rows = self._rows
        static = self.static[rows, self.pos]
        room = self.room_of_tile[rows, self.pos]
        loc = self.loc
        on_rec = loc >= 0
        rec = loc.clip(0)
        in_room = on_rec & (self.rec_room[rows[:, None], rec] == room[:, None])
        same = (loc[:, :, None] == loc[:, None, :]) & self._lower[None]
        rank = same.sum(2)
        local = self.rec_local[rows[:, None], rec]
        show = in_room & (rank < MAX_SLOTS) & (local < MAX_RECS_PER_ROOM)
        dynamic = np.zeros((E, MAX_RECS_PER_ROOM * MAX_SLOTS, _OBJ), dtype=np.float32)
        e_idx, o_idx = np.nonzero(show)
        dynamic[e_idx, local[e_idx, o_idx] * MAX_SLOTS + rank[e_idx, o_idx]] = self.obj_features[
            e_idx, o_idx
        ]
        held = np.where((self.held >= 0)[:, None], self.obj_features[rows, self.held.clip(0)], 0)
        return np.concatenate([static, dynamic.reshape(E, -1), held], axis=1)

    def step(self, actions: object) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Apply one action per episode (ignored for finished ones): ``(observations, rewards,
        terminated, truncated)``; refused actions are counted in ``invalid``."""
        a = np.asarray(actions)
        if a.shape != (len(self.episodes),) or a.dtype.kind not in "iu":
            raise TypeError(f"actions must be {len(self.episodes)} ints, got {describe(actions)}")
        a = a.astype(np.int64)
        live = ~self.done
        rows = self._rows
        known = (a >= 0) & (a < N_ACTIONS)
        valid = np.zeros(len(a), dtype=bool)
        # moves
        is_move = known & (a <= DOWN)
        nxt = self.move[rows, self.pos, a.clip(0, DOWN)]
        ok = is_move & (nxt >= 0)
        valid |= ok
        pos = np.where(ok & live, nxt, self.pos)
        # picks and places
        rec = self.rec_at_tile[rows, self.pos]
        on = self.loc == rec[:, None]
        rank = np.cumsum(on, axis=1) - 1
        slot = a - PICK
        chosen = on & (rank == slot[:, None])
        is_pick = known & (a >= PICK) & (a < PLACE) & (rec >= 0) & (self.held < 0)
        ok = is_pick & chosen.any(1)
        valid |= ok
        picked = chosen.argmax(1)
        do = ok & live
        self.loc[rows[do], picked[do]] = -1
        new_held = np.where(do, picked, self.held)
        is_place = known & (a == PLACE) & (rec >= 0) & (self.held >= 0)
        ok = is_place & (on.sum(1) < MAX_SLOTS)
        valid |= ok
        do = ok & live
        self.loc[rows[do], self.held[do]] = rec[do]
        new_held = np.where(do, -1, new_held)
        self.pos, self.held = pos, new_held
        self.invalid += live & ~valid
        self.steps += live
        met = self._goal_met()
        reward = (live & met & ~self.success).astype(np.float32)
        self.success |= live & met
        terminated = self.success.copy()
        truncated = ~self.success & (self.steps >= self.max_steps)
        self.done |= terminated | truncated
        return self.observe(), reward, terminated, truncated

    def halt(self, mask: object) -> None:
        """End the episodes in ``mask`` now, unsuccessful unless already done (an agent that
        gives up)."""
        self.done |= np.asarray(mask, dtype=bool)


class HouseEnv(gym.Env):
    """One household episode behind the Gymnasium API (module docstring).

    Args:
        split: where ``reset`` draws episodes from (default: ``make_splits()["train"]``).
        kinds: task kinds to draw (``tasks.KINDS``).
        max_steps: truncation.
        render_mode: None or "ansi" (a text map of the agent's floor).

    ``reset(seed=..., options={"episode": episode})`` starts a given episode instead of drawing
    one (:attr:`episode` is the one being played). ``info`` carries ``instruction``,
    ``invalid_actions``, ``success``, ``held`` (object or -1) and ``goal`` (in words).
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(
        self,
        split: Split | None = None,
        *,
        kinds: Sequence[str] = ("place",),
        max_steps: int = 60,
        render_mode: str | None = None,
    ) -> None:
        self.split = make_splits(4)["train"] if split is None else split
        if not isinstance(self.split, Split):
            raise TypeError(f"split must be a Split, got {describe(split)}")
        self.kinds = _check_kinds(kinds)
        self.max_steps = check_int("max_steps", max_steps, minimum=1)
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0.0, 1.0, (OBS_DIM,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(N_ACTIONS)
        self._batch: BatchedHouses | None = None

    @property
    def episode(self) -> Episode:
        """The episode being played."""
        if self._batch is None:
            raise RuntimeError("call reset() first")
        return self._batch.episodes[0]

    def _info(self) -> dict:
        b = self._batch
        return {
            "instruction": self.episode.task.instruction,
            "invalid_actions": int(b.invalid[0]),
            "success": bool(b.success[0]),
            "held": int(b.held[0]),
            "goal": self._goal_text,
        }

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        episode = (options or {}).get("episode")
        if episode is None:
            episode = sample_episode(self.split, self.np_random, kinds=self.kinds)
        elif not isinstance(episode, Episode):
            raise TypeError(f"options['episode'] must be an Episode, got {describe(episode)}")
        self._batch = BatchedHouses([episode], self.max_steps)
        self._goal_text = episode.task.goal.describe(episode.house)
        return self._batch.observe()[0], self._info()

    def step(self, action):
        if self._batch is None:
            raise RuntimeError("call reset() first")
        if isinstance(action, bool) or not isinstance(action, int | np.integer):
            arr = np.asarray(action)
            if arr.shape != () or arr.dtype.kind not in "iu":
                raise TypeError(f"action must be an int, got {describe(action)}")
            action = int(arr)
        if not 0 <= action < N_ACTIONS:  # refused and counted, however far outside (no overflow)
            action = -1
        obs, reward, terminated, truncated = self._batch.step(np.array([int(action)]))
        return obs[0], float(reward[0]), bool(terminated[0]), bool(truncated[0]), self._info()

    def render(self) -> str | None:
        if self.render_mode != "ansi" or self._batch is None:
            return None
        house, b = self.episode.house, self._batch
        s = house.spec
        pos = int(b.pos[0])
        f = int(house.tile_floor[pos])
        lines = [f"floor {f}: {self.episode.task.instruction}"]
        for y in range(s.height):
            row = ""
            for x in range(s.width):
                t = f * s.height * s.width + y * s.width + x
                row += (
                    "@"
                    if t == pos
                    else "R"
                    if house.rec_at_tile[t] >= 0
                    else "S"
                    if house.move[t, UP] >= 0 or house.move[t, DOWN] >= 0
                    else "."
                )
            lines.append(row)
        held = int(b.held[0])
        lines.append(
            f"holding: {house.object_name(held) if held >= 0 else 'nothing'}; "
            f"step {int(b.steps[0])}, {int(b.invalid[0])} refused"
        )
        return "\n".join(lines)
