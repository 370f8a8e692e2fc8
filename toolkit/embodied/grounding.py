"""Instruction → symbolic goal: a nearest-anchor grounding parser on MiniLM sentence embeddings.

The parser reads an instruction in three steps:

1. **Noun phrases.** The words after a determiner ("the", "a", …) up to the next closed-class
   word or punctuation (``vocab.FUNCTION_WORDS``): "bring the red mug from the kitchen to the
   bedroom desk" → "red mug", "kitchen", "bedroom desk".
2. **Grounding.** Each span of one to three words of a phrase is embedded with MiniLM and
   compared (cosine) with the *anchors*: surface forms known for each entity value of each kind
   (object type, color, receptacle type, room type). Greedily, the best (span, value) pair above
   the threshold ``τ`` becomes a mention; a phrase names one thing, with at most a color for an
   object or a room for a receptacle ("red mug", "bedroom desk" → room bedroom, receptacle
   desk). A phrase with no mention is *unknown*.
3. **Resolution against the house.** Object mentions pick the house's objects of that type and
   color; the receptacle and room mentions that follow an object name its destination (a room
   that is the object's own room is its source, not its destination). Anything that does not
   resolve to exactly one object and one receptacle gives :class:`Ungrounded`: the role, the
   words, and the house's closest candidates ("cannot ground 'violin'; closest: red mug, …").

With no demos the anchors are the canonical names alone. :meth:`GroundingParser.calibrate`
learns from demos' instructions and goals: it aligns each goal value with the span most like it,
adds that span as an anchor of the value ("couch" → sofa), and sets ``τ`` to the similarity that
best separates aligned spans from the other words. More demos, more surface forms known.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit._checks import check_int, check_number, check_str, describe
from toolkit._torch import intra_op_threads
from toolkit.embodied.tasks import Goal
from toolkit.embodied.vocab import (
    COLORS,
    DETERMINERS,
    FUNCTION_WORDS,
    OBJECTS,
    RECEPTACLES,
    ROOMS,
    names,
)
from toolkit.embodied.world import House

__all__ = [
    "ENTITY_KINDS",
    "EmbeddingCache",
    "GroundingParser",
    "Mention",
    "Parse",
    "Ungrounded",
    "noun_phrases",
]

ENTITY_KINDS = {"object": OBJECTS, "color": COLORS, "receptacle": RECEPTACLES, "room": ROOMS}
"""The entity kinds the parser grounds, and their values (``vocab``)."""
# the kinds one noun phrase may name together: "red mug", "bedroom desk"
_TOGETHER = {
    "object": {"color"},
    "color": {"object"},
    "receptacle": {"room"},
    "room": {"receptacle"},
}
_TOKEN = re.compile(r"[a-z]+|[,.;:!?]")


class EmbeddingCache:
    """Unit-norm sentence embeddings, each text embedded once.

    Args:
        encoder: ``texts -> (N, d)`` array-like, or a ``toolkit.zoo.SentenceEncoder``; default:
            all-MiniLM-L6-v2 from the zoo, loaded on first use.
        path: an ``.npz`` file to load embeddings from (when it exists) and :meth:`save` to.
    """

    def __init__(self, encoder: Callable | None = None, path: str | Path | None = None) -> None:
        if encoder is not None and not callable(encoder) and not hasattr(encoder, "encode"):
            raise TypeError(
                f"encoder must be callable or a SentenceEncoder, got {describe(encoder)}"
            )
        self._encoder = encoder
        self.path = None if path is None else Path(path)
        self._vectors: dict[str, np.ndarray] = {}
        if self.path is not None and self.path.is_file():
            try:
                with np.load(self.path) as data:
                    self._vectors = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
            except (OSError, ValueError, KeyError) as err:
                raise ValueError(
                    f"path {str(self.path)!r} is not an embedding cache saved by "
                    f"EmbeddingCache.save ({err})"
                ) from err

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self._encoder is None:
            from toolkit.zoo import load_sentence_encoder

            self._encoder = load_sentence_encoder()
        encode = getattr(self._encoder, "encode", self._encoder)
        with intra_op_threads(1):  # short texts: one thread is faster than two contending
            out = np.asarray(encode(texts), dtype=np.float32)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def __len__(self) -> int:
        return len(self._vectors)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), d)`` float32 unit vectors."""
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise TypeError(f"texts must be a list of str, got {describe(texts)}")
        for i, text in enumerate(texts):
            check_str(f"texts[{i}]", text)
        new = sorted({t for t in texts if t not in self._vectors})
        if new:
            self._vectors.update(zip(new, self._encode(new), strict=True))
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])

    def save(self, path: str | Path | None = None) -> Path:
        """Write every embedding to ``path`` (default: the cache's ``path``) as ``.npz``."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("save needs a path (none was given to the cache)")
        target.parent.mkdir(parents=True, exist_ok=True)
        texts = sorted(self._vectors)
        np.savez(target, texts=np.array(texts), vectors=np.stack([self._vectors[t] for t in texts]))
        return target


def noun_phrases(text: str) -> list[tuple[int, list[str]]]:
    """``[(position, words), ...]``: each noun phrase of ``text`` (module docstring, step 1)."""
    tokens = _TOKEN.findall(check_str("text", text).lower())
    phrases, current, opened = [], None, False
    for i, token in enumerate(tokens):
        if token in DETERMINERS:
            if current:
                phrases.append(current)
            current, opened = (i, []), True
        elif token in FUNCTION_WORDS or not token.isalpha():
            if current and current[1]:
                phrases.append(current)
            current, opened = None, False
        elif opened and current is not None:
            current[1].append(token)
    if current and current[1]:
        phrases.append(current)
    return [(i, words) for i, words in phrases if words]


def content_words(text: str) -> list[str]:
    """The words of ``text`` that are not closed-class words."""
    return [t for t in _TOKEN.findall(text.lower()) if t.isalpha() and t not in FUNCTION_WORDS]


@dataclass(frozen=True)
class Mention:
    """A grounded span: ``kind`` and canonical ``value``, the ``text``, the ``phrase`` index,
    and the cosine ``similarity`` to the value's nearest anchor."""

    kind: str
    value: str
    text: str
    phrase: int
    similarity: float


@dataclass(frozen=True)
class Ungrounded:
    """Why a parse failed: the ``role`` ("object", "receptacle", "room" or "task") that could not
    be grounded, the ``text`` it came from, and the house's closest ``candidates`` (name,
    similarity), best first."""

    role: str
    text: str
    candidates: tuple[tuple[str, float], ...] = ()
    reason: str = "unknown"

    def __str__(self) -> str:
        close = ", ".join(f"{name} ({sim:.2f})" for name, sim in self.candidates)
        return f"cannot ground {self.role} {self.text!r} ({self.reason}); closest: {close or '–'}"


@dataclass(frozen=True)
class Parse:
    """A parser's reading: the ``goal`` (None when it failed), the ``mentions``, the ``unknown``
    phrases, and ``failure`` when something could not be grounded."""

    goal: Goal | None
    mentions: tuple[Mention, ...] = ()
    unknown: tuple[str, ...] = ()
    failure: Ungrounded | None = None

    @property
    def ok(self) -> bool:
        return self.goal is not None


@dataclass
class _Anchors:
    values: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


class GroundingParser:
    """The nearest-anchor grounding parser (module docstring).

    Args:
        embed: an :class:`EmbeddingCache` (or any ``texts -> unit vectors`` callable).
        threshold: ``τ``, the least cosine similarity a mention needs (calibration resets it).
        max_span: longest span in words.
    """

    def __init__(self, embed: Callable, *, threshold: float = 0.5, max_span: int = 3) -> None:
        if not callable(embed):
            raise TypeError(f"embed must be callable (an EmbeddingCache), got {describe(embed)}")
        self.embed = embed
        self.threshold = check_number("threshold", threshold, minimum=-1.0, maximum=1.0)
        self.max_span = check_int("max_span", max_span, minimum=1)
        self.anchors = {kind: _Anchors() for kind in ENTITY_KINDS}
        self._anchor_vectors: dict[str, tuple[int, np.ndarray]] = {}
        for kind, entities in ENTITY_KINDS.items():
            for name in names(entities):
                self.add_anchor(kind, name, name)
        self.calibration: dict = {"demos": 0, "added": 0, "threshold": self.threshold}

    def add_anchor(self, kind: str, value: str, text: str) -> bool:
        """Know ``text`` as a surface form of ``value``; False when it was already known."""
        if kind not in ENTITY_KINDS:
            raise ValueError(f"kind must be one of {list(ENTITY_KINDS)}, got {kind!r}")
        if value not in names(ENTITY_KINDS[kind]):
            raise ValueError(f"{value!r} is not a {kind}; one of {list(names(ENTITY_KINDS[kind]))}")
        a = self.anchors[kind]
        if any(v == value and t == text for v, t in zip(a.values, a.texts, strict=True)):
            return False
        a.values.append(value)
        a.texts.append(check_str("text", text))
        return True

    def n_anchors(self) -> int:
        """How many surface forms are known, all kinds together."""
        return sum(len(a.texts) for a in self.anchors.values())

    # similarity ------------------------------------------------------------------------------
    def _value_similarity(self, spans: list[str], kind: str) -> tuple[np.ndarray, list[str]]:
        """``(len(spans), n_values)`` best similarity of each span to each value's anchors."""
        a = self.anchors[kind]
        values = list(names(ENTITY_KINDS[kind]))
        cached = self._anchor_vectors.get(kind)
        if cached is None or cached[0] != len(a.texts):
            cached = self._anchor_vectors[kind] = (len(a.texts), self.embed(a.texts))
        sims = self.embed(spans) @ cached[1].T
        out = np.full((len(spans), len(values)), -1.0, dtype=np.float32)
        index = np.array([values.index(v) for v in a.values])
        for j in range(len(values)):
            cols = np.flatnonzero(index == j)
            if len(cols):
                out[:, j] = sims[:, cols].max(1)
        return out, values

    def _spans(self, words: list[str]) -> list[tuple[int, int]]:
        n = len(words)
        return [(i, j) for i in range(n) for j in range(i + 1, min(n, i + self.max_span) + 1)]

    def ground_phrase(self, words: list[str], phrase: int = 0) -> list[Mention]:
        """The mentions in one noun phrase (module docstring, step 2)."""
        spans = self._spans(words)
        texts = [" ".join(words[i:j]) for i, j in spans]
        pairs = []
        for kind in ENTITY_KINDS:
            sims, values = self._value_similarity(texts, kind)
            for s, row in enumerate(sims):
                v = int(row.argmax())
                pairs.append((float(row[v]), (spans[s][1] - spans[s][0]), s, kind, values[v]))
        pairs.sort(key=lambda p: (-p[0], -p[1]))
        taken, kinds, mentions = set(), set(), []
        for sim, _, s, kind, value in pairs:
            if sim < self.threshold:
                break
            i, j = spans[s]
            if kind in kinds or taken & set(range(i, j)):
                continue
            if kinds and kind not in _TOGETHER[next(iter(kinds))]:
                continue
            taken |= set(range(i, j))
            kinds.add(kind)
            mentions.append(Mention(kind, value, texts[s], phrase, sim))
        return sorted(mentions, key=lambda m: words.index(m.text.split()[0]))

    def _closest(self, text: str, names_: list[str]) -> tuple[tuple[str, float], ...]:
        if not text or not names_:
            return ()
        sims = (self.embed([text]) @ self.embed(names_).T)[0]
        order = np.argsort(-sims, kind="stable")[:3]
        return tuple((names_[i], round(float(sims[i]), 3)) for i in order)

    # parsing ---------------------------------------------------------------------------------
    def parse(self, instruction: str, house: House) -> Parse:
        """The goal ``instruction`` asks for in ``house``, or why it cannot be grounded."""
        check_str("instruction", instruction)
        if not isinstance(house, House):
            raise TypeError(f"house must be a House, got {describe(house)}")
        phrases = noun_phrases(instruction)
        self.embed([" ".join(w[i:j]) for _, w in phrases for i, j in self._spans(w)] or ["."])
        mentions, unknown = [], []
        for p, (_, words) in enumerate(phrases):
            found = self.ground_phrase(words, p)
            mentions += found
            if not found:
                unknown.append((p, " ".join(words)))
        result = self._resolve(house, mentions, unknown)
        if isinstance(result, Ungrounded):
            return Parse(None, tuple(mentions), tuple(u for _, u in unknown), result)
        return Parse(result, tuple(mentions), tuple(u for _, u in unknown))

    def _resolve(self, house: House, mentions: list[Mention], unknown: list) -> Goal | Ungrounded:
        objects_named = [house.object_name(o) for o in range(len(house.obj_type))]
        rooms_named = list(house.spec.room_types)
        recs_named = [house.receptacle_name(r) for r in range(len(house.rec_tile))]
        objs = [m for m in mentions if m.kind == "object"]
        recs = [m for m in mentions if m.kind == "receptacle"]
        rooms = [m for m in mentions if m.kind == "room"]
        if not objs:
            if unknown and recs:
                text = unknown[0][1]
                return Ungrounded("object", text, self._closest(text, objects_named))
            if rooms and not recs:
                room = house.room_index(rooms[-1].value)
                if room is None:
                    return Ungrounded(
                        "room",
                        rooms[-1].text,
                        self._closest(rooms[-1].text, rooms_named),
                        "not in this house",
                    )
                return Goal(room=room)
            if unknown:
                text = unknown[-1][1]
                return Ungrounded("room", text, self._closest(text, rooms_named))
            return Ungrounded("task", " ".join(m.text for m in mentions), (), "no object or room")
        placements = []
        for i, m in enumerate(objs[:2]):
            end = objs[i + 1].phrase if i + 1 < len(objs[:2]) else 1 << 30
            color = next((c for c in mentions if c.kind == "color" and c.phrase == m.phrase), None)
            cands = [
                o
                for o in range(len(house.obj_type))
                if OBJECTS[house.obj_type[o]].name == m.value
                and (color is None or COLORS[house.obj_color[o]].name == color.value)
            ]
            text = f"{color.text} {m.text}" if color else m.text
            seg_rooms = [r for r in rooms if m.phrase <= r.phrase < end]
            seg_recs = [r for r in recs if m.phrase < r.phrase < end]
            seg_unknown = [u for p, u in unknown if m.phrase < p < end]
            if len(cands) > 1:
                cands = [
                    o
                    for o in cands
                    if house.room_name(house.rec_room[house.start_loc[o]])
                    in {r.value for r in seg_rooms}
                ] or cands
            if len(cands) != 1:
                reason = "not in this house" if not cands else "ambiguous"
                return Ungrounded("object", text, self._closest(text, objects_named), reason)
            o = cands[0]
            src = house.room_name(house.rec_room[house.start_loc[o]])
            for r in seg_rooms:
                if house.room_index(r.value) is None:
                    return Ungrounded(
                        "room", r.text, self._closest(r.text, rooms_named), "not in this house"
                    )
            dest_rooms = [r for r in seg_rooms if r.value != src] or seg_rooms
            if not seg_recs:
                text = seg_unknown[0] if seg_unknown else text
                return Ungrounded("receptacle", text, self._closest(text, recs_named), "none named")
            scored = []
            for rm in seg_recs:
                for r in range(len(house.rec_tile)):
                    if RECEPTACLES[house.rec_type[r]].name != rm.value or r == house.start_loc[o]:
                        continue
                    room = house.room_name(house.rec_room[r])
                    if dest_rooms:
                        near = [abs(rm.phrase - x.phrase) for x in dest_rooms if x.value == room]
                        if near:
                            scored.append((min(near), r))
                    else:
                        scored.append((0, r))
            if not scored:
                where = " in the " + dest_rooms[0].text if dest_rooms else ""
                text = seg_recs[0].text + where
                return Ungrounded(
                    "receptacle", text, self._closest(text, recs_named), "not in this house"
                )
            best = min(s for s, _ in scored)
            winners = sorted({r for s, r in scored if s == best})
            if len(winners) > 1:
                if seg_unknown:
                    t = seg_unknown[0]
                    return Ungrounded("room", t, self._closest(t, rooms_named))
                text = seg_recs[0].text
                return Ungrounded("receptacle", text, self._closest(text, recs_named), "ambiguous")
            placements.append((o, winners[0]))
        if len({o for o, _ in placements}) != len(placements):
            return Ungrounded("object", objs[1].text, (), "named twice")
        return Goal(placements=tuple(placements))

    # calibration -----------------------------------------------------------------------------
    @staticmethod
    def _gold(house: House, goal: Goal) -> list[tuple[str, str]]:
        if goal.room is not None:
            return [("room", house.room_name(goal.room))]
        gold = []
        for o, r in goal.placements:
            gold += [
                ("object", OBJECTS[house.obj_type[o]].name),
                ("color", COLORS[house.obj_color[o]].name),
                ("receptacle", RECEPTACLES[house.rec_type[r]].name),
                ("room", house.room_name(house.rec_room[r])),
                ("room", house.room_name(house.rec_room[house.start_loc[o]])),
            ]
        return list(dict.fromkeys(gold))

    def calibrate(
        self, instructions: Sequence[str], goals: Sequence[Goal], houses: Sequence[House]
    ) -> dict:
        """Learn surface forms and ``τ`` from demos (module docstring); returns a summary
        (``demos``, ``added`` anchors, ``threshold``, ``positives``, ``negatives``)."""
        if not (len(instructions) == len(goals) == len(houses)):
            raise ValueError(
                f"instructions, goals and houses differ in length: "
                f"{len(instructions)}, {len(goals)}, {len(houses)}"
            )
        positives, negatives, added = [], [], 0
        for text, goal, house in zip(instructions, goals, houses, strict=True):
            phrases = noun_phrases(text)
            spans = [
                (p, i, j, " ".join(words[i:j]))
                for p, (_, words) in enumerate(phrases)
                for i, j in self._spans(words)
            ]
            if not spans:
                continue
            texts = [s[3] for s in spans]
            gold = self._gold(house, goal)
            pairs = []
            for g, (kind, value) in enumerate(gold):
                sims, values = self._value_similarity(texts, kind)
                col = sims[:, values.index(value)]
                pairs += [(float(col[s]), g, s) for s in range(len(spans))]
            pairs.sort(key=lambda x: -x[0])
            used_gold, covered = set(), set()
            chosen = []
            for sim, g, s in pairs:
                p, i, j, span = spans[s]
                cells = {(p, k) for k in range(i, j)}
                if g in used_gold or cells & covered:
                    continue
                used_gold.add(g)
                covered |= cells
                positives.append(sim)
                chosen.append((g, p, i, j))
            for g, p, i, j in chosen:  # grow over neighbouring words no value took
                words = phrases[p][1]
                while i > 0 and (p, i - 1) not in covered:
                    i -= 1
                    covered.add((p, i))
                while j < len(words) and (p, j) not in covered:
                    covered.add((p, j))
                    j += 1
                added += self.add_anchor(*gold[g], " ".join(words[i:j]))
            leftovers = [
                w
                for p, (_, words) in enumerate(phrases)
                for k, w in enumerate(words)
                if (p, k) not in covered
            ]
            np_words = {w for _, words in phrases for w in words}
            leftovers += [w for w in content_words(text) if w not in np_words]
            if leftovers:
                best = np.max(
                    [self._value_similarity(leftovers, k)[0].max(1) for k in ENTITY_KINDS], axis=0
                )
                negatives += best.tolist()
        if positives and negatives:
            grid = np.round(np.arange(0.30, 0.71, 0.01), 2)
            pos, neg = np.array(positives), np.array(negatives)
            score = [((pos >= t).mean() + (neg < t).mean()) / 2 for t in grid]
            top = max(score)
            chosen = [t for t, s in zip(grid, score, strict=True) if s >= top - 1e-9]
            self.threshold = float(chosen[0])  # the most permissive of the best
        self.calibration = {
            "demos": self.calibration["demos"] + len(instructions),
            "added": self.calibration["added"] + added,
            "threshold": self.threshold,
            "positives": positives,
            "negatives": negatives,
        }
        return self.calibration
