"""Text → taste → music: reading a taste profile and explicit musical cues from a description.

Spanio et al. (arXiv 2503.02823) condition MusicGen on captions such as "a sweet, consonant
piece; the tempo is slow". Here text is turned into the toolkit's own representation instead:

* :func:`text_to_taste` embeds the text with all-MiniLM-L6-v2 and compares it (cosine) with a
  few anchor descriptions per taste, literal ("bitter") and not ("like dark chocolate and
  black coffee"), so wording never seen before still lands near the right taste. A set of
  neutral anchors (everyday, non-food sentences) tells unrelated text apart.
* :func:`musical_cues` picks up explicit cues ("slow", "staccato", "violin") as
  :class:`~toolkit.music.params.MusicParams` overrides, ignoring negated ones ("not fast");
  a negated taste word ("not sweet at all") likewise keeps its taste out of
  :func:`text_to_taste`.
* :func:`text_to_params` combines both; :func:`describe` writes a caption back in the
  paper's style, which is also what the MusicGen captions in :mod:`toolkit.music.musicgen` use.
"""

from __future__ import annotations

import bisect
import math
import re
import warnings
import weakref
from collections.abc import Callable
from functools import cache

import torch

from toolkit._checks import check_str
from toolkit._checks import describe as _shown
from toolkit.music.params import MusicParams
from toolkit.music.taste import TASTES, TasteProfile
from toolkit.zoo import SentenceEncoder, load_sentence_encoder

ANCHORS: dict[str, tuple[str, ...]] = {
    "sweet": (
        "sweet",
        "honey and ripe fruit",
        "sugar, candy and caramel",
        "a sweet dessert like cake or ice cream",
        "syrupy and sugary",
    ),
    "sour": (
        "sour",
        "lemon, vinegar, a sharp pucker",
        "tart green apples and sour candy",
        "acidic citrus juice",
        "fermented, tangy yogurt",
    ),
    "bitter": (
        "bitter",
        "like dark chocolate and black coffee",
        "bitter herbs and strong black tea",
        "grapefruit peel and tonic water",
        "an acrid, burnt flavour",
    ),
    "salty": (
        "salty",
        "sea salt, crisp crackers",
        "salted chips and pretzels",
        "briny like olives and sea water",
        "cured ham and anchovies",
    ),
    "umami": (
        "umami",
        "savory broth, mushrooms",
        "soy sauce and parmesan cheese",
        "a rich, meaty, savoury flavour",
        "miso soup and roasted tomatoes",
    ),
}
NEUTRAL_ANCHORS = (
    "a meeting about next year's budget",
    "instructions for setting up a printer",
    "the weather forecast for tomorrow",
    "he walked to the office and sat down",
    "a list of street names and bus stops",
    "she sent the report by email",
)
BASELINE = 0.30  # best taste similarity of unrelated text stays below this (measured on MiniLM)
CEILING = 0.65  # from here on the taste is at full intensity (a close paraphrase of an anchor)
TEMPERATURE = 0.05  # softmax temperature over the five taste similarities

# Words that name a taste outright: negating one ("not sweet", "no salt") drops its taste.
TASTE_WORDS: dict[str, tuple[str, ...]] = {
    "sweet": ("sweet", "sweetness", "sugary", "sugar", "honey", "honeyed", "syrupy", "candy"),
    "sour": ("sour", "sourness", "tart", "tangy", "acidic", "lemony", "vinegary"),
    "bitter": ("bitter", "bitterness", "acrid"),
    "salty": ("salty", "salt", "salted", "saltiness", "briny"),
    "umami": ("umami", "savory", "savoury", "meaty", "brothy"),
}
_TASTE_OF_WORD = {word: taste for taste, words in TASTE_WORDS.items() for word in words}
NEGATORS = frozenset({"not", "no", "never", "without", "nor", "neither", "none", "nothing"})
NEGATION_WINDOW = 3  # a negator governs at most this many following words ...
SCOPE_ENDS = frozenset({"but", "and", "yet", "though", "although", "however", "instead", "while"})
# ... and never past the end of a clause (, ; : . ! ? or a line break) or one of SCOPE_ENDS.

_anchor_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@cache
def _default_encoder() -> SentenceEncoder:
    return load_sentence_encoder()


def _anchor_embeddings(encoder: SentenceEncoder) -> tuple[torch.Tensor, torch.Tensor]:
    """``(taste anchors (5, n, d), neutral anchors (m, d))``, embedded once per encoder."""
    if encoder.model not in _anchor_cache:
        per_taste = torch.stack([encoder.encode(list(ANCHORS[t])) for t in TASTES])
        _anchor_cache[encoder.model] = (per_taste, encoder.encode(list(NEUTRAL_ANCHORS)))
    return _anchor_cache[encoder.model]


def _checked_encoder(encoder: SentenceEncoder | None) -> SentenceEncoder:
    if encoder is None:
        return _default_encoder()
    if not isinstance(encoder, SentenceEncoder):
        raise TypeError(
            f"encoder must be a SentenceEncoder (or None for MiniLM), got {_shown(encoder)}"
        )
    return encoder


def taste_similarities(text: str, encoder: SentenceEncoder | None = None) -> dict[str, float]:
    """Cosine similarity of ``text`` to its closest anchor of each taste, and of ``"neutral"``.

    A text too long for the encoder is read up to its limit only, and the encoder warns.

    Raises:
        TypeError: ``text`` not a str, or ``encoder`` not a ``SentenceEncoder``.
    """
    check_str("text", text, allow_empty=True)
    encoder = _checked_encoder(encoder)
    per_taste, neutral = _anchor_embeddings(encoder)
    vector = encoder.encode([text])[0]
    scores = dict(zip(TASTES, (per_taste @ vector).amax(dim=1).tolist(), strict=True))
    scores["neutral"] = float((neutral @ vector).max())
    return scores


def _tagged_words(text: str) -> list[tuple[str, bool]]:
    """The words of ``text`` in lower case, each with whether a negator governs it.

    A negator (one of :data:`NEGATORS`, or a word ending in "n't") governs the
    :data:`NEGATION_WINDOW` words after it, up to the end of the clause or a word of
    :data:`SCOPE_ENDS`; "not sweet at all", "isn't fast" and "no sugar" are all negated.
    """
    tagged = []
    for clause in re.split(r"[,;:.!?\n]", text.lower().replace("\u2019", "'")):
        scope = 0
        for word in re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", clause):
            negator = word in NEGATORS or word.endswith("n't")
            tagged.append((word, scope > 0 and not negator))
            scope = 0 if word in SCOPE_ENDS else NEGATION_WINDOW if negator else max(scope - 1, 0)
    return tagged


def _lookup(table: dict[str, object], word: str) -> object | None:
    """``table[word]``, or of the word without a plural "s" ("violins", "sweets")."""
    return table.get(word) or table.get(word.removesuffix("s"))


def negated_tastes(text: str) -> set[str]:
    """Tastes whose words (:data:`TASTE_WORDS`) occur in ``text`` only negated."""
    check_str("text", text, allow_empty=True)
    said, negated = set(), set()
    for word, is_negated in _tagged_words(text):
        taste = _lookup(_TASTE_OF_WORD, word)
        if taste is not None:
            (negated if is_negated else said).add(taste)
    return negated - said


def text_to_taste(text: str, encoder: SentenceEncoder | None = None) -> TasteProfile:
    """The taste profile a description evokes.

    With ``s_t`` the cosine similarity to the closest anchor of taste ``t`` and ``s*`` the
    largest of them:

    * strength ``= clip((s* − BASELINE) / (CEILING − BASELINE), 0, 1)``: how far the text is
      from being unrelated to taste at all;
    * intensity of ``t`` ``= strength · exp((s_t − s*) / TEMPERATURE)``, i.e. a softmax over
      the tastes divided by its maximum: the best taste gets ``strength``, a taste 0.1 less
      similar about 14 % of it.

    Negation: a taste whose words (:data:`TASTE_WORDS`) occur only negated ("not sweet at
    all", "no sugar", "isn't bitter"; see :func:`negated_tastes`) is left out — intensity 0
    — and ``s*`` is the best of the other tastes. Only these simple forms are caught: the
    negation must come at most :data:`NEGATION_WINDOW` words before the taste word in the
    same clause, descriptions without a taste word ("nothing like honey") are not, and
    sarcasm, double negation ("not unsweet") or "not only sweet" are read literally.

    Empty text, text whose best taste similarity is at most ``BASELINE``, or text closer to a
    neutral anchor than to every taste anchor gives the neutral profile (all 0) and a
    ``UserWarning`` saying why. ``encoder`` defaults to the packaged MiniLM (loaded once);
    anchor embeddings are cached per encoder.

    Raises:
        TypeError: ``text`` not a str (None included), or ``encoder`` not a
            ``SentenceEncoder``.
    """
    check_str("text", text, allow_empty=True)
    if not text.strip():
        warnings.warn("empty text: returning the neutral taste profile", stacklevel=2)
        return TasteProfile()
    scores = taste_similarities(text, encoder)
    candidates = [t for t in TASTES if t not in negated_tastes(text)]
    if not candidates:
        warnings.warn(
            f"every taste is negated in {text!r}; returning the neutral taste profile",
            stacklevel=2,
        )
        return TasteProfile()
    best = max(candidates, key=scores.__getitem__)
    if scores[best] <= BASELINE or scores["neutral"] >= scores[best]:
        warnings.warn(
            f"no taste recognized in {text!r}: closest taste {best!r} at cosine "
            f"{scores[best]:.2f} (needs > {BASELINE}), closest neutral anchor at "
            f"{scores['neutral']:.2f}; returning the neutral taste profile",
            stacklevel=2,
        )
        return TasteProfile()
    strength = min(1.0, (scores[best] - BASELINE) / (CEILING - BASELINE))
    return TasteProfile(
        **{t: strength * math.exp((scores[t] - scores[best]) / TEMPERATURE) for t in candidates}
    )


CUE_WORDS: dict[str, dict[object, tuple[str, ...]]] = {
    "tempo_bpm": {
        60.0: ("slow", "slowly", "adagio", "largo", "lento", "calm", "peaceful", "relaxed"),
        90.0: ("moderate", "andante", "moderato", "walking"),
        150.0: ("fast", "quick", "allegro", "presto", "lively", "energetic", "upbeat", "brisk"),
    },
    "articulation": {
        0.3: ("staccato", "short", "detached", "choppy", "plucked", "bouncy"),
        0.95: ("legato", "smooth", "flowing", "sustained", "connected"),
    },
    "pitch_center": {
        48: ("low", "deep", "dark", "bass"),
        76: ("high", "bright", "treble"),
    },
    "loudness": {
        0.25: ("soft", "softly", "quiet", "quietly", "gentle", "gently", "delicate", "hushed"),
        0.9: ("loud", "loudly", "powerful", "forceful", "intense", "booming"),
    },
    "mode": {"major": ("major",), "minor": ("minor",)},
    "consonance": {
        0.9: ("consonant", "harmonious"),
        0.15: ("dissonant", "harsh", "clashing", "discordant"),
    },
    "instrument": {
        "piano": ("piano", "keyboard"),
        "strings": ("strings", "string", "violin", "viola", "cello", "fiddle"),
        "brass": ("brass", "trumpet", "trombone", "horn", "tuba"),
        "marimba": ("marimba", "xylophone", "vibraphone", "mallet"),
        "flute": ("flute", "piccolo", "recorder", "woodwind"),
    },
}
_CUE_OF_WORD = {
    word: (param, value)
    for param, table in CUE_WORDS.items()
    for value, words in table.items()
    for word in words
}


def musical_cues(text: str) -> dict[str, object]:
    """Explicit musical cues in ``text`` as ``MusicParams`` overrides, e.g.
    ``"slow staccato piano"`` → ``{"tempo_bpm": 60.0, "articulation": 0.3, "instrument":
    "piano"}``. Vocabulary and values: ``CUE_WORDS`` (a plural "s" is dropped: "violins").

    Negation is simple: a cue is ignored when a negator governs it — one of ``NEGATORS``
    or a word ending in "n't" at most ``NEGATION_WINDOW`` words before it, in the same
    clause (clauses end at , ; : . ! ? and a line break) and not past a word of
    ``SCOPE_ENDS`` — so "not too fast", "I don't want it loud" and "without dissonant
    chords" set nothing, while "not fast but loud" sets loudness. When a parameter is named
    more than once the last cue wins.

    Raises:
        TypeError: ``text`` not a str.
    """
    check_str("text", text, allow_empty=True)
    overrides: dict[str, object] = {}
    for word, negated in _tagged_words(text):
        cue = _lookup(_CUE_OF_WORD, word)
        if cue is not None and not negated:
            overrides[cue[0]] = cue[1]
    return overrides


def text_to_params(
    text: str,
    encoder: SentenceEncoder | None = None,
    base: Callable[[TasteProfile], MusicParams] | None = None,
) -> tuple[TasteProfile, MusicParams]:
    """``(profile, params)``: the taste the text evokes, mapped to parameters by ``base``
    (default :func:`toolkit.music.mapping.params_from_taste`), then overridden by the text's
    explicit cues — "a sweet piece on a slow trumpet" keeps the sweet mapping except tempo
    and instrument. Negated tastes and cues count for nothing (see :func:`text_to_taste`
    and :func:`musical_cues`).

    Raises:
        TypeError: ``text`` not a str, ``encoder`` not a ``SentenceEncoder``, ``base`` not
            callable or not returning ``MusicParams``.
    """
    check_str("text", text, allow_empty=True)
    if base is None:
        from toolkit.music.mapping import params_from_taste

        base = params_from_taste
    if not callable(base):
        raise TypeError(f"base must map a TasteProfile to MusicParams, got {_shown(base)}")
    profile = text_to_taste(text, encoder)
    params = base(profile)
    if not isinstance(params, MusicParams):
        raise TypeError(f"base must return MusicParams, got {_shown(params)}")
    return profile, params.with_overrides(**musical_cues(text))


def _level(value: float, thresholds: tuple[float, ...], words: tuple[str, ...]) -> str:
    """``words[i]`` where ``i`` counts the thresholds ``value`` reaches."""
    return words[bisect.bisect_right(thresholds, value)]


def describe(profile: TasteProfile, params: MusicParams) -> str:
    """A caption in the paper's style, e.g. "A sweet, consonant piece in a major key for
    piano. The tempo is slow and peaceful, with smooth, connected notes. The melody sits in a
    high register and is played softly."

    Tastes at no less than half the strongest one are named (two at most); the neutral
    profile names none.

    Raises:
        TypeError: ``profile`` not a ``TasteProfile`` or ``params`` not ``MusicParams``.
    """
    if not isinstance(profile, TasteProfile):
        raise TypeError(f"profile must be a TasteProfile, got {_shown(profile)}")
    if not isinstance(params, MusicParams):
        raise TypeError(f"params must be MusicParams, got {_shown(params)}")
    values = profile.as_dict()
    top = max(values.values())
    named = [t for t in TASTES if top > 0 and values[t] >= top / 2]
    tastes = " and ".join(sorted(named, key=values.get, reverse=True)[:2])
    harmony = _level(params.consonance, (0.35, 0.65), ("dissonant", "", "consonant"))
    head = " ".join((", ".join(a for a in (tastes, harmony) if a), "piece")).lstrip()
    article = "An" if head[0] in "aeiou" else "A"
    tempo = _level(
        params.tempo_bpm,
        (72, 108, 144),
        ("slow and peaceful", "moderate", "lively", "fast and energetic"),
    )
    notes = _level(
        params.articulation,
        (0.45, 0.85),
        (", with short, detached notes", "", ", with smooth, connected notes"),
    )
    register = _level(params.pitch_center, (55, 74), ("low", "middle", "high"))
    dynamics = _level(params.loudness, (0.35, 0.75), ("softly", "at a moderate volume", "loudly"))
    return (
        f"{article} {head} in a {params.mode} key for {params.instrument}. "
        f"The tempo is {tempo}{notes}. "
        f"The melody sits in a {register} register and is played {dynamics}."
    )
