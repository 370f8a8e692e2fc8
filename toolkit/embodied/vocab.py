"""What a household holds and how people name it: entities, affordances and instruction templates.

Every entity kind (object types, colors, receptacle types, room types) is a tuple of
:class:`Entity`: a canonical name (the symbol the world and the planner use), the surface forms
of the *seen* phrasings (the training demos' instructions use these) and those of the
*held-out* phrasings (only the held-out-phrasing split uses these). Templates are split the same
way. :data:`HELD_OUT_COMBOS` are (object type, destination room type) pairs that no training
task uses.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "COLORS",
    "DETERMINERS",
    "FUNCTION_WORDS",
    "HELD_OUT_COMBOS",
    "OBJECTS",
    "RECEPTACLES",
    "ROOMS",
    "ROOM_RECEPTACLES",
    "TEMPLATES",
    "Entity",
    "names",
]


@dataclass(frozen=True)
class Entity:
    """One entity value: its canonical ``name``, its ``seen`` surface forms (the name among them)
    and its ``held_out`` surface forms (never in a training instruction)."""

    name: str
    seen: tuple[str, ...]
    held_out: tuple[str, ...]

    def forms(self, phrasing: str) -> tuple[str, ...]:
        """The surface forms of ``phrasing`` ("seen" or "held_out"; the latter falls back to
        the seen forms when the entity has no held-out one)."""
        if phrasing == "held_out" and self.held_out:
            return self.held_out
        return self.seen


OBJECTS = (
    Entity("mug", ("mug", "cup"), ("teacup",)),
    Entity("book", ("book", "novel"), ("textbook",)),
    Entity("apple", ("apple",), ("fruit",)),
    Entity("towel", ("towel",), ("hand towel",)),
    Entity("remote", ("remote", "remote control"), ("tv remote",)),
    Entity("plate", ("plate", "dish"), ("platter",)),
    Entity("pillow", ("pillow", "cushion"), ("throw pillow",)),
    Entity("keys", ("keys", "key ring"), ("house keys",)),
    Entity("bottle", ("bottle",), ("water bottle",)),
    Entity("candle", ("candle",), ("wax candle",)),
)
"""Object types (see :class:`Entity`)."""

COLORS = (
    Entity("red", ("red",), ("cherry red",)),
    Entity("blue", ("blue",), ("sky blue",)),
    Entity("green", ("green",), ("lime green",)),
    Entity("yellow", ("yellow",), ("golden",)),
    Entity("white", ("white",), ("snow white",)),
    Entity("black", ("black",), ("jet black",)),
)
"""Object colors (see :class:`Entity`)."""

RECEPTACLES = (
    Entity("counter", ("counter", "countertop"), ("counter top",)),
    Entity("table", ("table",), ("coffee table",)),
    Entity("shelf", ("shelf", "bookshelf"), ("shelving",)),
    Entity("desk", ("desk",), ("writing desk",)),
    Entity("bed", ("bed",), ("mattress",)),
    Entity("sofa", ("sofa", "couch"), ("loveseat",)),
    Entity("dresser", ("dresser",), ("drawers",)),
    Entity("cabinet", ("cabinet", "cupboard"), ("storage cabinet",)),
    Entity("nightstand", ("nightstand",), ("bedside stand",)),
    Entity("bench", ("bench",), ("wooden bench",)),
)
"""Receptacle types (see :class:`Entity`)."""

ROOMS = (
    Entity("kitchen", ("kitchen",), ("kitchenette",)),
    Entity("living room", ("living room", "lounge"), ("family room",)),
    Entity("bedroom", ("bedroom",), ("master bedroom",)),
    Entity("bathroom", ("bathroom", "washroom"), ("restroom",)),
    Entity("office", ("office", "study"), ("home office",)),
    Entity("dining room", ("dining room",), ("dining area",)),
    Entity("laundry room", ("laundry room", "laundry"), ("laundry area",)),
    Entity("garage", ("garage",), ("carport",)),
    Entity("nursery", ("nursery",), ("playroom",)),
    Entity("library", ("library",), ("reading nook",)),
    Entity("hallway", ("hallway", "corridor"), ("entrance hall",)),
    Entity("pantry", ("pantry",), ("food store",)),
)
"""Room types (see :class:`Entity`)."""

ROOM_RECEPTACLES = {
    "kitchen": ("counter", "table", "cabinet", "shelf"),
    "living room": ("sofa", "table", "shelf", "cabinet"),
    "bedroom": ("bed", "nightstand", "dresser", "desk"),
    "bathroom": ("cabinet", "shelf", "counter"),
    "office": ("desk", "shelf", "cabinet", "sofa"),
    "dining room": ("table", "cabinet", "bench"),
    "laundry room": ("counter", "shelf", "bench"),
    "garage": ("shelf", "bench", "cabinet"),
    "nursery": ("bed", "dresser", "shelf"),
    "library": ("shelf", "desk", "sofa"),
    "hallway": ("bench", "table", "dresser"),
    "pantry": ("shelf", "counter", "cabinet"),
}
"""Which receptacle types each room type may hold."""

HELD_OUT_COMBOS = frozenset(
    {
        ("mug", "bedroom"),
        ("towel", "kitchen"),
        ("book", "garage"),
        ("apple", "office"),
        ("pillow", "dining room"),
        ("keys", "library"),
        ("bottle", "nursery"),
        ("candle", "bathroom"),
        ("plate", "living room"),
        ("remote", "hallway"),
    }
)
"""(object type, destination room type) pairs never used by a training task."""

TEMPLATES = {
    "place": {
        "seen": (
            "bring the {obj} from the {src} to the {rec} in the {room}",
            "go to the {src}, pick up the {obj} and put it on the {rec} in the {room}",
            "take the {obj} in the {src} to the {room} and put it on the {rec}",
            "move the {obj} from the {src} to the {room} {rec}",
            "fetch the {obj} from the {src} and place it on the {rec} in the {room}",
        ),
        "held_out": (
            "could you carry the {obj} out of the {src} over to the {rec} of the {room}",
            "i want the {obj} that is in the {src} sitting on the {room} {rec}",
            "head into the {src}, grab the {obj}, then drop it onto the {rec} in the {room}",
        ),
    },
    "place2": {
        "seen": (
            "bring the {obj} from the {src} to the {rec} in the {room} and then bring the "
            "{obj2} from the {src2} to the {rec2} in the {room2}",
            "move the {obj} from the {src} to the {room} {rec}, then move the {obj2} from "
            "the {src2} to the {room2} {rec2}",
        ),
        "held_out": (
            "could you carry the {obj} out of the {src} over to the {rec} of the {room}, and "
            "after that the {obj2} out of the {src2} over to the {rec2} of the {room2}",
        ),
    },
    "goto": {
        "seen": ("go to the {room}", "walk to the {room}", "navigate to the {room}"),
        "held_out": ("head over to the {room}", "find your way into the {room}"),
    },
}
"""Instruction templates per task kind and phrasing split ("seen" / "held_out")."""

DETERMINERS = frozenset({"the", "a", "an", "my", "your", "our", "that", "this"})
"""Words that open a noun phrase for the grounding parser."""

FUNCTION_WORDS = DETERMINERS | frozenset(
    {
        "to",
        "on",
        "onto",
        "in",
        "into",
        "from",
        "of",
        "out",
        "over",
        "at",
        "by",
        "with",
        "for",
        "and",
        "then",
        "after",
        "it",
        "them",
        "there",
        "here",
        "is",
        "are",
        "be",
        "i",
        "you",
        "me",
        "we",
        "please",
        "could",
        "would",
        "can",
        "will",
        "want",
        "need",
        "up",
        "down",
        "back",
        "next",
        "inside",
        "under",
        "near",
        "as",
        "so",
        "also",
    }
)
"""Closed-class English words: they end a noun phrase and are never grounded."""


def names(entities: tuple[Entity, ...]) -> tuple[str, ...]:
    """The canonical names of ``entities``, in order (an entity's index is its symbol)."""
    return tuple(e.name for e in entities)
