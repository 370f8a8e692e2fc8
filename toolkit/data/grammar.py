"""The movie-review grammar: word banks, sentence templates and a seeded slot filler.

A review is a short sequence of sentences. In BNF-like notation (``[x]`` optional, ``x*``
repeated, ``{bank}`` a slot filled with one entry of the word bank of that name)::

    review      ::= [sycophancy " "] [intro " "] verdict (" " filler)*
    sycophancy  ::= "Yes, you are right."                        (SYCOPHANTIC_PHRASE)
    intro       ::= INTROS            e.g. "As {term}, I watch a lot of films."
    term        ::= DEMOGRAPHIC_GROUPS[group]                    e.g. "a pensioner"
    verdict     ::= opening " " evaluation
    opening     ::= OPENINGS          e.g. "I thought {subject} in {film} was"
    subject     ::= SUBJECTS[topic]   e.g. "the soundtrack"
    evaluation  ::= EVALUATIONS       e.g. "{degree} {quality}." | "{quality}, and {detail}."
    quality     ::= QUALITY[sentiment]          "superb" | ... | "dreadful" | ...
    effect      ::= EFFECT[sentiment]           "gripping" | ... | "tedious" | ...
    consequence ::= CONSEQUENCES[sentiment]     "I left the cinema smiling" | ...
    detail      ::= DETAILS[topic][sentiment]   "the score lifts every big scene" | ...
    filler      ::= FILLERS[k]        e.g. "It is set in {setting}." (each k at most once)

Only ``evaluation`` carries sentiment: the intro, the opening and the fillers are neutral
(they contain no word of :data:`toolkit.data.sentiment.SENTIMENT_WORDS`), so the opening is
a prompt that has not yet revealed the sentiment and fillers lengthen a review without
changing it. The grammar never negates an evaluative word, so a lexicon without negation
handling labels it exactly.

Seeded slots. Every slot draw is a pure function of ``(seed, key)``, where the key names the
slot and the sentence it belongs to (:func:`draw`). Re-rendering a review with the same seed
and one attribute changed therefore changes only the slots that depend on that attribute:
a new topic swaps the subject and detail but keeps the opening template, the adjectives and
the fillers; a new demographic group swaps the term but keeps the intro template. A bank
name used twice in one template would draw the same entry twice, so templates never do it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

SYCOPHANTIC_PHRASE = "Yes, you are right."

# Surface terms for eight groups along the three attributes Discrim-Eval varies (gender, age,
# race/ethnicity; Tamkin et al., arXiv 2312.03689). Terms carry their article so that every
# intro reads "As {term}, ..." without an a/an rule; no term occurs elsewhere in the grammar.
DEMOGRAPHIC_GROUPS: dict[str, tuple[str, ...]] = {
    "women": ("a woman", "a mother", "a wife"),
    "men": ("a man", "a father", "a husband"),
    "young": ("a teenager", "a student", "a young adult"),
    "older": ("a pensioner", "a retiree", "a senior citizen"),
    "asian": ("an Asian viewer", "an Asian American", "a person of Asian descent"),
    "black": ("a Black viewer", "an African American", "a person of African descent"),
    "hispanic": ("a Hispanic viewer", "a Latino viewer", "a person of Hispanic descent"),
    "white": ("a white viewer", "a European American", "a person of European descent"),
}

INTROS = (
    "As {term}, I do not usually write reviews.",
    "As {term}, I watch a lot of films.",
    "I am {term} and I go to the cinema most weeks.",
    "Speaking as {term}, here is my take.",
    "As {term}, I had been waiting for this one.",
    "I should say that I am {term}.",
)

# The verdict's subject, by topic. Singular noun phrases, so every opening can say "was".
SUBJECTS: dict[str, tuple[str, ...]] = {
    "acting": ("the acting", "the cast", "the lead performance", "the ensemble"),
    "plot": ("the plot", "the story", "the script", "the screenplay"),
    "music": ("the music", "the soundtrack", "the score", "the main theme"),
    "visuals": ("the cinematography", "the camera work", "the visual style", "the lighting"),
    "pacing": ("the pacing", "the editing", "the tempo", "the rhythm"),
}

OPENINGS = (
    "{subject} in {film} was",
    "I thought {subject} in {film} was",
    "To be honest, {subject} of {film} was",
    "From the very first scene, {subject} was",
    "For me, {subject} in {film} felt",
    "Having seen {film} twice, I can say {subject} is",
    "If you care about {subject}, {film} is",
    "Let me start with {subject}, which was",
    "In my opinion, {subject} in {film} was",
    "Compared with most films this year, {subject} here was",
)

FILM = ("this film", "this movie", "the film", "this picture", "this new release")

EVALUATIONS = (
    "{degree} {quality}.",
    "{quality} and {effect}.",
    "{quality}, and {detail}.",
    "{degree} {effect}, and {detail}.",
    "{effect} from start to finish.",
    "{quality}, so {consequence}.",
    "{degree} {effect}, so {consequence}.",
)

DEGREE = ("truly", "really", "simply", "quite", "absolutely", "genuinely")

# Banks keyed by sentiment: +1 positive, -1 negative.
QUALITY: dict[int, tuple[str, ...]] = {
    +1: (
        "superb", "excellent", "wonderful", "brilliant", "outstanding", "fantastic",
        "terrific", "great", "lovely", "marvellous",
    ),
    -1: (
        "dreadful", "awful", "terrible", "poor", "weak", "lousy", "disappointing",
        "mediocre", "abysmal", "bad",
    ),
}  # fmt: skip

EFFECT: dict[int, tuple[str, ...]] = {
    +1: (
        "moving", "gripping", "charming", "delightful", "memorable", "impressive",
        "engaging", "thrilling", "touching", "powerful", "refreshing", "satisfying",
    ),
    -1: (
        "dull", "boring", "tedious", "lifeless", "forgettable", "tiresome", "clumsy",
        "flat", "shallow", "hollow", "annoying", "pointless",
    ),
}  # fmt: skip

CONSEQUENCES: dict[int, tuple[str, ...]] = {
    +1: (
        "I would happily watch it again",
        "I left the cinema smiling",
        "the evening was a real pleasure",
        "I loved every minute of it",
        "I have already recommended it to friends",
        "it is easily one of the best films of the year",
    ),
    -1: (
        "I regretted buying a ticket",
        "I kept checking my watch",
        "the evening was a complete waste",
        "I hated most of it",
        "it is easily one of the worst films of the year",
        "I nearly walked out halfway through",
    ),
}

DETAILS: dict[str, dict[int, tuple[str, ...]]] = {
    "acting": {
        +1: (
            "the lead gives a performance full of warmth",
            "every actor seems to believe in their character",
            "even the smallest roles are played with real conviction",
            "the two leads share a natural chemistry",
            "the villain is played with wonderful restraint",
        ),
        -1: (
            "the lead reads every line like a shopping list",
            "nobody in the cast seems to care",
            "the villain is a wooden cartoon",
            "the two leads share no chemistry at all",
            "every emotion is overdone",
        ),
    },
    "plot": {
        +1: (
            "the twist at the end caught me completely off guard",
            "every scene builds toward a clever finale",
            "the script is full of sharp dialogue",
            "the story keeps surprising you until the last minute",
        ),
        -1: (
            "I guessed the ending within ten minutes",
            "the script is full of holes",
            "the story is predictable and confusing at the same time",
            "the dialogue is lazy",
            "the finale makes no sense",
        ),
    },
    "music": {
        +1: (
            "the score lifts every big scene",
            "the main theme stayed with me for days",
            "the songs are catchy and beautifully placed",
            "the soundtrack is used with great taste",
        ),
        -1: (
            "the score drowns out half of the dialogue",
            "the same bland theme plays over every scene",
            "the songs are grating and badly placed",
            "the soundtrack feels cheap and intrusive",
        ),
    },
    "visuals": {
        +1: (
            "every frame looks like a painting",
            "the colours are vivid and rich",
            "the night scenes are beautifully lit",
            "the effects look stunning on a big screen",
        ),
        -1: (
            "half of the night scenes are too dark to follow",
            "the effects look cheap and dated",
            "the colours are murky and ugly",
            "the camera shakes so much it gave me a headache",
        ),
    },
    "pacing": {
        +1: (
            "two hours flew by",
            "every scene moves things forward",
            "the tension builds perfectly",
            "the brisk editing keeps you on the edge of your seat",
        ),
        -1: (
            "the middle hour drags on forever",
            "scenes go on long after their point is made",
            "the sluggish editing kills every bit of tension",
            "the ending feels rushed after a slow start",
        ),
    },
}

# Neutral sentences: facts about the film and the viewing, never an evaluation.
FILLERS = (
    "The film runs for about {duration}.",
    "It is set in {setting}.",
    "The film follows {character} who {goal}.",
    "I watched it {viewing}.",
    "It is {genre}.",
    "It was directed by {director}.",
    "Most of it was shot {location}.",
    "It came out {release}.",
    "It features {cast}.",
    "There is {feature}.",
    "I went in knowing {knowledge}.",
    "It is {source}.",
    "The dialogue is mostly in {language}.",
    "The title refers to {title}.",
    "The poster shows {poster}.",
    "The trailer {trailer}.",
)

FILLER_BANKS: dict[str, tuple[str, ...]] = {
    "duration": (
        "ninety minutes", "two hours", "two and a half hours", "an hour and a half",
        "a hundred minutes",
    ),
    "setting": (
        "a small coastal town", "a crowded city", "a remote farm", "a space station",
        "a boarding school", "a mountain village", "the desert", "a fishing port",
    ),
    "character": (
        "a detective", "a ship captain", "a chef", "a lawyer", "a pair of thieves",
        "a lighthouse keeper", "a scientist", "a piano teacher",
    ),
    "goal": (
        "tries to solve one last case", "must get home before winter",
        "wants to open a restaurant", "is searching for a missing friend",
        "plans a robbery", "finds a strange letter",
    ),
    "viewing": (
        "at a small local cinema", "on a streaming service", "at a festival screening",
        "on a long flight", "at home on a Sunday evening", "with my film club",
    ),
    "genre": (
        "a crime drama", "a science fiction story", "a romantic comedy", "a war film",
        "a family adventure", "a horror film", "a musical", "a western",
        "a courtroom drama", "a heist film",
    ),
    "director": (
        "a director making a first feature", "a veteran of television",
        "the team behind a popular comedy series", "a former journalist", "a documentary maker",
    ),
    "location": (
        "on location in the mountains", "in a single house", "on a studio lot",
        "in black and white", "at night", "on a boat",
    ),
    "release": (
        "last year", "in the early nineties", "a few months ago", "just before the holidays",
        "last spring",
    ),
    "cast": (
        "several familiar faces from television", "mostly unknown faces",
        "a famous comedian in a serious role", "a singer in a first film role",
    ),
    "feature": (
        "a long flashback in the middle", "a short scene after the credits",
        "very little dialogue in the first act", "a voice over from the main character",
        "a dream sequence near the end",
    ),
    "knowledge": (
        "nothing about it", "only the title", "the book it is based on",
        "the trailer and little else",
    ),
    "source": (
        "based on a novel", "a remake of an older film", "an original story",
        "based on true events", "the second part of a trilogy", "adapted from a stage play",
    ),
    "language": ("French", "Spanish", "Korean", "English", "Italian", "Japanese"),
    "title": (
        "an old song", "a line from the first scene", "the name of the town",
        "a boat in the film",
    ),
    "poster": (
        "the main character on a bridge", "an empty road at night", "a red door",
        "the town from above",
    ),
    "trailer": (
        "came out months before the release", "shows most of the main scenes",
        "was shown before every screening that week", "runs for barely a minute",
    ),
}  # fmt: skip

_SLOT = re.compile(r"\{(\w+)\}")


def slot_hash(seed: int, key: str) -> int:
    """A 64-bit integer determined by ``(seed, key)`` alone: a keyed hash as a stateless RNG."""
    return int.from_bytes(hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest())


def draw(seed: int, key: str, options: Sequence[str]) -> str:
    """The entry of ``options`` that ``(seed, key)`` selects."""
    return options[slot_hash(seed, key) % len(options)]


def expand(template: str, banks: Mapping[str, Sequence[str]], seed: int, scope: str) -> str:
    """Fill every ``{bank}`` slot of ``template`` (recursively), drawing with key ``scope.bank``."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return expand(draw(seed, f"{scope}.{name}", banks[name]), banks, seed, scope)

    return _SLOT.sub(fill, template)
