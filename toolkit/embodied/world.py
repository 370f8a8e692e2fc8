"""A multi-floor household as a grid graph: rooms, doors, stairs, elevators, receptacles, objects.

Each floor is a ``rows × cols`` grid of square rooms of ``size × size`` tiles. A tile is one node
of the world graph; the agent moves north, south, east or west between tiles of one room, passes
between rooms only through a door (a gap in the wall between two neighbouring rooms) and between
floors only on a stairs or elevator tile (``up``/``down``). Receptacles stand on tiles and hold
up to :data:`MAX_SLOTS` objects; an object has a type and a color (``vocab``).

A :class:`HouseSpec` says all of that in plain numbers and names, so a test can write a world by
hand; :func:`generate_house` draws one from a layout seed (rooms, doors, stairs, receptacles)
and an object seed (which objects lie where). :class:`House` compiles a spec into the arrays the
environment steps with (``move``, ``room_of_tile``, ``rec_at_tile``) and all-pairs shortest path
lengths (``dist``) the planner's heuristic uses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from toolkit._checks import check_int, check_probability, describe
from toolkit.embodied.vocab import COLORS, OBJECTS, RECEPTACLES, ROOM_RECEPTACLES, ROOMS, names

__all__ = [
    "ACTIONS",
    "DOWN",
    "MAX_SLOTS",
    "N_ACTIONS",
    "PICK",
    "PLACE",
    "UP",
    "House",
    "HouseSpec",
    "generate_house",
]

ACTIONS = ("north", "south", "east", "west", "up", "down", "pick 0", "pick 1", "pick 2", "place")
"""Action names by index: four moves, up/down on stairs or an elevator, pick the object in slot
0, 1 or 2 of the receptacle underfoot (slots in object-id order), place the held object."""
N_ACTIONS = len(ACTIONS)
"""How many actions there are (the size of the Gymnasium action space)."""
UP, DOWN, PICK, PLACE = 4, 5, 6, 9
MAX_SLOTS = 3
"""Objects one receptacle holds at most (and pick slots)."""
MAX_FLOORS, MAX_GRID, MAX_SIZE = 3, 3, 4  # what the observation encoding has room for
_STEPS = ((-1, 0), (1, 0), (0, 1), (0, -1))  # (dy, dx) of north, south, east, west
_DIST_CACHE: dict[str, np.ndarray] = {}  # layout signature -> distances
ROOM_NAMES, RECEPTACLE_NAMES = names(ROOMS), names(RECEPTACLES)
OBJECT_NAMES, COLOR_NAMES = names(OBJECTS), names(COLORS)


@dataclass(frozen=True)
class HouseSpec:
    """A household in plain numbers and names (validated on construction).

    Args:
        floors, rows, cols, size: ``floors`` floors of ``rows × cols`` rooms of ``size²`` tiles.
            Room ``i`` is floor ``i // (rows·cols)``, grid cell ``i % (rows·cols)`` (row-major);
            tile ``t`` is floor ``t // (H·W)``, row ``y``, column ``x`` with ``H = rows·size``,
            ``W = cols·size``.
        room_types: one room type (``vocab.ROOMS`` name) per room, distinct.
        doors: ``(room_a, room_b, offset)``: a door between two rooms that share a wall on one
            floor, ``offset`` tiles along that wall.
        links: ``(kind, y, x, floors)``: stairs or an elevator at row ``y``, column ``x`` joining
            consecutive floors of the increasing tuple ``floors``.
        receptacles: ``(type, tile)``, one receptacle per tile at most.
        objects: ``(type, color, receptacle)``; at most ``MAX_SLOTS`` per receptacle.
        start: the agent's start tile.
        layout_seed: the seed the layout was drawn from (None for a hand-made house).
    """

    floors: int
    rows: int
    cols: int
    size: int
    room_types: tuple[str, ...]
    doors: tuple[tuple[int, int, int], ...]
    links: tuple[tuple[str, int, int, tuple[int, ...]], ...]
    receptacles: tuple[tuple[str, int], ...]
    objects: tuple[tuple[str, str, int], ...]
    start: int = 0
    layout_seed: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        check_int("floors", self.floors, minimum=1, maximum=MAX_FLOORS)
        check_int("rows", self.rows, minimum=1, maximum=MAX_GRID)
        check_int("cols", self.cols, minimum=1, maximum=MAX_GRID)
        check_int("size", self.size, minimum=2, maximum=MAX_SIZE)
        n_rooms = self.floors * self.rows * self.cols
        if len(self.room_types) != n_rooms:
            raise ValueError(f"room_types has {len(self.room_types)} names for {n_rooms} rooms")
        for i, kind in enumerate(self.room_types):
            if kind not in ROOM_NAMES:
                raise ValueError(f"room_types[{i}] is {kind!r}; one of {list(ROOM_NAMES)}")
        if len(set(self.room_types)) != n_rooms:
            raise ValueError(f"room_types must be distinct in one house, got {self.room_types}")
        if self.layout_seed is not None:
            check_int("layout_seed", self.layout_seed, minimum=0)
        for i, door in enumerate(self.doors):
            if not isinstance(door, tuple | list) or len(door) != 3:
                raise TypeError(
                    f"doors[{i}] must be (room_a, room_b, offset), got {describe(door)}"
                )
            a, b, offset = door
            check_int(f"doors[{i}] room_a", a)
            check_int(f"doors[{i}] room_b", b)
            if self._shared_wall(a, b) is None:
                raise ValueError(f"doors[{i}] joins rooms {a} and {b}, which share no wall")
            check_int(f"doors[{i}] offset", offset, minimum=0, maximum=self.size - 1)
        for i, (kind, y, x, floors) in enumerate(self.links):
            if kind not in ("stairs", "elevator"):
                raise ValueError(f"links[{i}] kind is {kind!r}; 'stairs' or 'elevator'")
            check_int(f"links[{i}] y", y)
            check_int(f"links[{i}] x", x)
            if not (0 <= y < self.height and 0 <= x < self.width):
                raise ValueError(f"links[{i}] is at ({y}, {x}), outside the floor")
            floors = tuple(floors)
            if len(floors) < 2 or list(floors) != sorted(set(floors)) or floors[-1] >= self.floors:
                raise ValueError(f"links[{i}] floors {floors}: at least two increasing floors")
        check_int("start", self.start, minimum=0, maximum=self.n_tiles - 1)
        tiles = [t for _, t in self.receptacles]
        for i, (kind, tile) in enumerate(self.receptacles):
            if kind not in RECEPTACLE_NAMES:
                raise ValueError(f"receptacles[{i}] is {kind!r}; one of {list(RECEPTACLE_NAMES)}")
            check_int(f"receptacles[{i}] tile", tile, minimum=0, maximum=self.n_tiles - 1)
        if len(set(tiles)) != len(tiles):
            raise ValueError("two receptacles stand on one tile")
        load = [0] * len(self.receptacles)
        for i, (kind, color, rec) in enumerate(self.objects):
            if kind not in OBJECT_NAMES:
                raise ValueError(f"objects[{i}] type {kind!r}; one of {list(OBJECT_NAMES)}")
            if color not in COLOR_NAMES:
                raise ValueError(f"objects[{i}] color {color!r}; one of {list(COLOR_NAMES)}")
            check_int(f"objects[{i}] receptacle", rec, minimum=0, maximum=len(load) - 1)
            load[rec] += 1
            if load[rec] > MAX_SLOTS:
                raise ValueError(f"receptacle {rec} holds more than {MAX_SLOTS} objects")

    @property
    def height(self) -> int:
        return self.rows * self.size

    @property
    def width(self) -> int:
        return self.cols * self.size

    @property
    def n_tiles(self) -> int:
        return self.floors * self.height * self.width

    def _shared_wall(self, a: int, b: int) -> str | None:
        """``"east"`` if room ``b`` is east of ``a`` (one floor), ``"south"`` likewise, or None."""
        per = self.rows * self.cols
        if not (0 <= a < self.floors * per and 0 <= b < self.floors * per) or a // per != b // per:
            return None
        (ra, ca), (rb, cb) = divmod(a % per, self.cols), divmod(b % per, self.cols)
        if ra == rb and cb == ca + 1:
            return "east"
        if ca == cb and rb == ra + 1:
            return "south"
        return None

    def signature(self) -> str:
        """A hash of the layout (rooms, doors, links, receptacles), objects left out."""
        text = repr(
            (
                self.floors,
                self.rows,
                self.cols,
                self.size,
                self.room_types,
                sorted(self.doors),
                sorted(self.links),
                self.receptacles,
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class House:
    """A compiled :class:`HouseSpec`: the arrays the environment and the planner use.

    Attributes:
        spec: the spec.
        move: ``(n_tiles, 6)`` int array, the tile each move action (north … down) leads to, or
            -1 where a wall, a floor edge or the lack of stairs blocks it.
        room_of_tile: ``(n_tiles,)`` room index of each tile.
        rec_at_tile: ``(n_tiles,)`` the receptacle standing on each tile, or -1.
        rec_room: ``(n_receptacles,)`` room of each receptacle.
        rec_local: ``(n_receptacles,)`` index of each receptacle among its room's (tile order).
        obj_type, obj_color: ``(n_objects,)`` indices into ``vocab.OBJECTS`` / ``vocab.COLORS``.
        start_loc: ``(n_objects,)`` the receptacle each object starts on.
        doors: ``{(room, side): (offset, other_room)}`` with side 0..3 = N, S, E, W.
    """

    def __init__(self, spec: HouseSpec) -> None:
        if not isinstance(spec, HouseSpec):
            raise TypeError(f"spec must be a HouseSpec, got {describe(spec)}")
        self.spec = s = spec
        H, W = s.height, s.width
        n = s.n_tiles
        self.n_tiles, self.n_rooms = n, s.floors * s.rows * s.cols
        tile = np.arange(n)
        floor, rest = np.divmod(tile, H * W)
        y, x = np.divmod(rest, W)
        self.tile_floor, self.tile_y, self.tile_x = floor, y, x
        self.room_of_tile = floor * s.rows * s.cols + (y // s.size) * s.cols + (x // s.size)
        self.room_type = np.array([ROOM_NAMES.index(t) for t in s.room_types])
        self.doors: dict[tuple[int, int], tuple[int, int]] = {}
        passages = set()
        for a, b, offset in s.doors:
            ra, ca = divmod(a % (s.rows * s.cols), s.cols)
            f = a // (s.rows * s.cols)
            if s._shared_wall(a, b) == "east":
                ty, tx = ra * s.size + offset, ca * s.size + s.size - 1
                t1 = f * H * W + ty * W + tx
                passages |= {(t1, t1 + 1), (t1 + 1, t1)}
                self.doors[(a, 2)], self.doors[(b, 3)] = (offset, b), (offset, a)
            else:
                ty, tx = ra * s.size + s.size - 1, ca * s.size + offset
                t1 = f * H * W + ty * W + tx
                passages |= {(t1, t1 + W), (t1 + W, t1)}
                self.doors[(a, 1)], self.doors[(b, 0)] = (offset, b), (offset, a)
        move = -np.ones((n, 6), dtype=np.int64)
        for d, (dy, dx) in enumerate(_STEPS):
            ny, nx = y + dy, x + dx
            inside = (ny >= 0) & (ny < H) & (nx >= 0) & (nx < W)
            target = np.where(inside, floor * H * W + ny * W + nx, -1)
            for t in range(n):
                u = target[t]
                if u >= 0 and (self.room_of_tile[u] == self.room_of_tile[t] or (t, u) in passages):
                    move[t, d] = u
        self.link_kind = {}
        for kind, ly, lx, floors in s.links:
            for lo, hi in zip(floors, floors[1:], strict=False):
                a, b = lo * H * W + ly * W + lx, hi * H * W + ly * W + lx
                move[a, UP], move[b, DOWN] = b, a
                self.link_kind[a] = self.link_kind[b] = kind
        self.move = move
        self.rec_type = np.array([RECEPTACLE_NAMES.index(k) for k, _ in s.receptacles], dtype=int)
        self.rec_tile = np.array([t for _, t in s.receptacles], dtype=int)
        self.rec_at_tile = -np.ones(n, dtype=np.int64)
        self.rec_at_tile[self.rec_tile] = np.arange(len(self.rec_tile))
        self.rec_room = self.room_of_tile[self.rec_tile] if len(self.rec_tile) else np.zeros(0, int)
        self.rec_local = np.zeros(len(self.rec_tile), dtype=int)
        for r in range(len(self.rec_tile)):
            self.rec_local[r] = int(np.sum(self.rec_room[:r] == self.rec_room[r]))
        self.obj_type = np.array([OBJECT_NAMES.index(k) for k, _, _ in s.objects], dtype=int)
        self.obj_color = np.array([COLOR_NAMES.index(c) for _, c, _ in s.objects], dtype=int)
        self.start_loc = np.array([r for _, _, r in s.objects], dtype=int)
        self.start_tile = s.start

    @cached_property
    def dist(self) -> np.ndarray:
        """``(n_tiles, n_tiles)`` fewest move actions between tiles (``-1``: unreachable)."""
        key = self.spec.signature()
        if key not in _DIST_CACHE:
            rows, cols = np.nonzero(self.move >= 0)
            graph = csr_matrix(
                (np.ones(len(rows)), (rows, self.move[rows, cols])),
                shape=(self.n_tiles, self.n_tiles),
            )
            d = shortest_path(graph, method="D", unweighted=True)
            if len(_DIST_CACHE) > 512:
                _DIST_CACHE.clear()
            _DIST_CACHE[key] = np.where(np.isinf(d), -1, d).astype(np.int64)
        return _DIST_CACHE[key]

    # names -----------------------------------------------------------------------------------
    def room_name(self, room: int) -> str:
        return self.spec.room_types[room]

    def object_name(self, obj: int) -> str:
        """The object in words, e.g. ``"red mug"``."""
        return f"{COLOR_NAMES[self.obj_color[obj]]} {OBJECT_NAMES[self.obj_type[obj]]}"

    def receptacle_name(self, rec: int) -> str:
        """The receptacle in words, e.g. ``"desk in the bedroom"``."""
        kind = RECEPTACLE_NAMES[self.rec_type[rec]]
        return f"{kind} in the {self.room_name(self.rec_room[rec])}"

    def room_index(self, name: str) -> int | None:
        """The room of type ``name``, or None when this house has none."""
        return self.spec.room_types.index(name) if name in self.spec.room_types else None

    def load(self, loc: np.ndarray) -> np.ndarray:
        """Objects on each receptacle for object locations ``loc`` (-1: held)."""
        return np.bincount(loc[loc >= 0], minlength=len(self.rec_tile))

    def slot_object(self, loc: np.ndarray, rec: int, slot: int) -> int:
        """The object in ``slot`` of receptacle ``rec`` (objects in id order), or -1."""
        on = np.flatnonzero(loc == rec)
        return int(on[slot]) if slot < len(on) else -1

    def __repr__(self) -> str:
        s = self.spec
        return (
            f"House({s.floors} floors of {s.rows}x{s.cols} rooms, "
            f"{len(s.receptacles)} receptacles, {len(s.objects)} objects)"
        )


def _spanning_doors(
    rng: np.random.Generator, floor: int, rows: int, cols: int, size: int, extra: float
) -> list[tuple[int, int, int]]:
    """A random spanning tree of the floor's room grid (every room reachable), plus each other
    neighbouring pair with probability ``extra``."""
    base = floor * rows * cols
    pairs = [
        (base + r * cols + c, base + r * cols + c + 1) for r in range(rows) for c in range(cols - 1)
    ]
    pairs += [
        (base + r * cols + c, base + (r + 1) * cols + c)
        for r in range(rows - 1)
        for c in range(cols)
    ]
    order = rng.permutation(len(pairs))
    parent = {i: i for i in range(base, base + rows * cols)}

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    doors = []
    for k in order:
        a, b = pairs[k]
        if root(a) != root(b):
            parent[root(a)] = root(b)
            doors.append((a, b, int(rng.integers(size))))
        elif rng.random() < extra:
            doors.append((a, b, int(rng.integers(size))))
    return sorted(doors)


def generate_house(
    layout_seed: int,
    objects_seed: int | None = None,
    *,
    floors: int = 2,
    rows: int = 2,
    cols: int = 2,
    size: int = 3,
    n_objects: int = 10,
    elevator: float = 0.5,
) -> House:
    """A random household: the layout from ``layout_seed``, the objects from ``objects_seed``.

    The layout: distinct room types, a spanning tree of doors on each floor plus extra doors,
    stairs joining all floors at one spot and, with probability ``elevator``, an elevator at
    another, one or two receptacles per room (types the room affords, ``vocab.ROOM_RECEPTACLES``).
    The objects: ``n_objects`` of random type and color on random receptacles with room.
    ``objects_seed=None`` uses ``layout_seed``.
    """
    layout_seed = check_int("layout_seed", layout_seed, minimum=0)
    objects_seed = (
        layout_seed if objects_seed is None else check_int("objects_seed", objects_seed, minimum=0)
    )
    check_int("n_objects", n_objects, minimum=1)
    check_int("floors", floors, minimum=1, maximum=MAX_FLOORS)
    check_int("rows", rows, minimum=1, maximum=MAX_GRID)
    check_int("cols", cols, minimum=1, maximum=MAX_GRID)
    check_int("size", size, minimum=2, maximum=MAX_SIZE)
    check_probability("elevator", elevator)
    rng = np.random.default_rng([layout_seed, 7919])
    n_rooms = floors * rows * cols
    if n_rooms > len(ROOM_NAMES):
        raise ValueError(f"{n_rooms} rooms but only {len(ROOM_NAMES)} room types")
    room_types = tuple(ROOM_NAMES[i] for i in rng.permutation(len(ROOM_NAMES))[:n_rooms])
    doors = []
    for f in range(floors):
        doors += _spanning_doors(rng, f, rows, cols, size, extra=0.3)
    H, W = rows * size, cols * size
    spots = [(int(v) // W, int(v) % W) for v in rng.permutation(H * W)]
    links = []
    if floors > 1:
        links.append(("stairs", *spots[0], tuple(range(floors))))
        if rng.random() < elevator:
            links.append(("elevator", *spots[1], tuple(range(floors))))
    link_tiles = {f * H * W + y * W + x for _, y, x, fl in links for f in fl}
    receptacles = []
    for room in range(n_rooms):
        f, cell = divmod(room, rows * cols)
        r0, c0 = divmod(cell, cols)
        free = [
            f * H * W + (r0 * size + dy) * W + c0 * size + dx
            for dy in range(size)
            for dx in range(size)
        ]
        free = [t for t in free if t not in link_tiles]
        afford = ROOM_RECEPTACLES[room_types[room]]
        count = min(int(rng.integers(1, 3)), len(free))
        kinds = [afford[i] for i in rng.permutation(len(afford))[:count]]
        tiles = sorted(int(t) for t in rng.choice(free, size=count, replace=False))
        receptacles += list(zip(kinds, tiles, strict=True))
    rng = np.random.default_rng([objects_seed, 104729])
    capacity = len(receptacles) * MAX_SLOTS
    objects, load = [], [0] * len(receptacles)
    for _ in range(min(n_objects, capacity - len(receptacles))):  # leave room to place
        open_recs = [r for r, k in enumerate(load) if k < MAX_SLOTS - 1] or [
            r for r, k in enumerate(load) if k < MAX_SLOTS
        ]
        rec = int(rng.choice(open_recs))
        load[rec] += 1
        objects.append(
            (
                OBJECT_NAMES[rng.integers(len(OBJECT_NAMES))],
                COLOR_NAMES[rng.integers(len(COLOR_NAMES))],
                rec,
            )
        )
    start = int(rng.integers(floors * H * W))
    spec = HouseSpec(
        floors,
        rows,
        cols,
        size,
        room_types,
        tuple(doors),
        tuple(links),
        tuple(receptacles),
        tuple(objects),
        start,
        layout_seed=layout_seed,
    )
    return House(spec)
