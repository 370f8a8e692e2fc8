"""Hand-made houses for the embodied tests (imported by the test modules)."""

from __future__ import annotations

from toolkit.embodied import HouseSpec


def two_rooms(**overrides) -> HouseSpec:
    """One floor, a kitchen (west) and a bedroom (east) of 2×2 tiles, a door on the top row.

    Tiles (row-major, width 4): kitchen 0 1 / 4 5, bedroom 2 3 / 6 7; the door joins 1 and 2.
    A counter on tile 4 holds a red mug; a desk stands on tile 7.
    """
    spec = dict(
        floors=1,
        rows=1,
        cols=2,
        size=2,
        room_types=("kitchen", "bedroom"),
        doors=((0, 1, 0),),
        links=(),
        receptacles=(("counter", 4), ("desk", 7)),
        objects=(("mug", "red", 0),),
        start=0,
    )
    spec.update(overrides)
    return HouseSpec(**spec)


def two_floors(**overrides) -> HouseSpec:
    """Two floors of one 3×3 room each (kitchen below, bedroom above), stairs at (0, 0) and an
    elevator at (2, 2). A counter on tile 7 (ground floor, bottom middle) holds a blue book; a
    shelf stands on tile 16 (upper floor, bottom middle). The agent starts on tile 4 (centre)."""
    spec = dict(
        floors=2,
        rows=1,
        cols=1,
        size=3,
        room_types=("kitchen", "bedroom"),
        doors=(),
        links=(("stairs", 0, 0, (0, 1)), ("elevator", 2, 2, (0, 1))),
        receptacles=(("counter", 7), ("shelf", 16)),
        objects=(("book", "blue", 0),),
        start=4,
    )
    spec.update(overrides)
    return HouseSpec(**spec)
