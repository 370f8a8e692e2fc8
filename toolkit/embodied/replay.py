"""An episode as plain data for a top-down replay: floors, rooms, walls, doors, stairs,
receptacles, objects, and the agent's path and hands at every step.

:func:`episode_frames` replays the actions through :func:`~toolkit.embodied.planner.step_state`
(the environment's own transition) and returns lists and numbers only, ready for the
``EpisodeReplayView`` widget or any plot.
"""

from __future__ import annotations

from collections.abc import Sequence

from toolkit._checks import check_int, describe
from toolkit.embodied.planner import goal_reached, initial_state, step_state
from toolkit.embodied.tasks import Episode
from toolkit.embodied.world import ACTIONS, COLOR_NAMES, DOWN, UP

__all__ = ["episode_frames"]


def episode_frames(episode: Episode, actions: Sequence[int], *, agent: str = "") -> dict:
    """Everything a replay shows (coordinates in tiles; ``frames`` has one entry per step plus
    the start):

    ``floors``, ``height``, ``width``, ``size``; ``rooms`` (name, floor, row, col of each room);
    ``tile_room``; ``walls`` (``[floor, x1, y1, x2, y2]`` segments between rooms, doors left
    open); ``links`` (``[floor, y, x, kind]``); ``receptacles`` (``[floor, y, x, name]``);
    ``objects`` (name, color); ``instruction``, ``goal``, ``agent``; per step ``tiles``
    (``[floor, y, x]``), ``held`` (object or -1), ``object_tiles`` (``[floor, y, x]`` or None
    while held), ``actions`` (names, "start" first), ``refused`` (bool), ``success``.
    """
    if not isinstance(episode, Episode):
        raise TypeError(f"episode must be an Episode, got {describe(episode)}")
    actions = [check_int(f"actions[{i}]", a) for i, a in enumerate(actions)]
    house = episode.house
    s = house.spec
    W, H = s.width, s.height

    def where(tile: int) -> list[int]:
        return [int(house.tile_floor[tile]), int(house.tile_y[tile]), int(house.tile_x[tile])]

    walls = []
    for t in range(house.n_tiles):
        f, y, x = where(t)
        for side, (dy, dx) in ((2, (0, 1)), (1, (1, 0))):  # east and south edges
            ny, nx = y + dy, x + dx
            if ny >= H or nx >= W:
                continue
            u = f * H * W + ny * W + nx
            if house.room_of_tile[u] != house.room_of_tile[t] and house.move[t, side] != u:
                walls.append([f, nx, y, nx, y + 1] if dx else [f, x, ny, x + 1, ny])
    links = [
        [*where(t), kind]
        for t, kind in sorted(house.link_kind.items())
        if house.move[t, UP] >= 0 or house.move[t, DOWN] >= 0
    ]
    rooms = []
    for r in range(house.n_rooms):
        f, cell = divmod(r, s.rows * s.cols)
        rooms.append([house.room_name(r), f, *divmod(cell, s.cols)])
    state = initial_state(house)
    tiles, held, objects, refused, names = [], [], [], [], ["start"]

    def record(st) -> None:
        tiles.append(where(st[0]))
        held.append(int(st[1]))
        objects.append([where(int(house.rec_tile[r])) if r >= 0 else None for r in st[2]])

    record(state)
    refused.append(False)
    for a in actions:
        state, valid = step_state(house, state, a)
        record(state)
        refused.append(not valid)
        names.append(ACTIONS[a] if 0 <= a < len(ACTIONS) else f"action {a}")
    return {
        "floors": s.floors,
        "height": H,
        "width": W,
        "size": s.size,
        "rooms": rooms,
        "tile_room": [int(r) for r in house.room_of_tile],
        "walls": walls,
        "links": links,
        "receptacles": [
            [*where(int(t)), house.receptacle_name(r).split(" in the ")[0]]
            for r, t in enumerate(house.rec_tile)
        ],
        "objects": [
            [house.object_name(o), COLOR_NAMES[house.obj_color[o]]]
            for o in range(len(house.obj_type))
        ],
        "instruction": episode.task.instruction,
        "goal": episode.task.goal.describe(house),
        "agent": agent,
        "tiles": tiles,
        "held": held,
        "object_tiles": objects,
        "actions": names,
        "refused": refused,
        "success": goal_reached(house, state, episode.task.goal),
    }
