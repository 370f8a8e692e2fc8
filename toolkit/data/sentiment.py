"""The review grammar's ground-truth sentiment lexicon.

:data:`SENTIMENT_WORDS` lists every evaluative word the grammar (:mod:`toolkit.data.grammar`)
uses, with its polarity. Sentiment lives only in a review's evaluation, every evaluation
contains at least one of these words, and the grammar never negates one, so
:func:`lexicon_sentiment` recovers the label of any generated review exactly.

This is a *label*, not a measurement: it knows the grammar's words and nothing else.
Experiments that score generated text should use an independent scorer, or a policy
optimized against it would only be rewarded for reproducing this word list.
"""

from __future__ import annotations

import re

from toolkit._checks import check_str

_POSITIVE = (
    # quality and effect adjectives
    "superb", "excellent", "wonderful", "brilliant", "outstanding", "fantastic", "terrific",
    "great", "lovely", "marvellous", "moving", "gripping", "charming", "delightful",
    "memorable", "impressive", "engaging", "thrilling", "touching", "powerful", "refreshing",
    "satisfying",
    # consequences and topic details
    "happily", "smiling", "pleasure", "loved", "recommended", "best", "warmth", "conviction",
    "natural", "clever", "sharp", "surprising", "catchy", "beautifully", "vivid", "rich",
    "stunning", "perfectly", "brisk",
)  # fmt: skip

_NEGATIVE = (
    # quality and effect adjectives
    "dreadful", "awful", "terrible", "poor", "weak", "lousy", "disappointing", "mediocre",
    "abysmal", "bad", "dull", "boring", "tedious", "lifeless", "forgettable", "tiresome",
    "clumsy", "flat", "shallow", "hollow", "annoying", "pointless",
    # consequences and topic details
    "regretted", "waste", "hated", "worst", "wooden", "overdone", "holes", "predictable",
    "confusing", "lazy", "bland", "grating", "badly", "cheap", "intrusive", "dated", "murky",
    "ugly", "headache", "drags", "forever", "sluggish", "rushed", "slow",
)  # fmt: skip

SENTIMENT_WORDS: dict[str, int] = {
    **{word: +1 for word in _POSITIVE},
    **{word: -1 for word in _NEGATIVE},
}

_WORD = re.compile(r"[a-z]+")


def lexicon_sentiment(text: str) -> float:
    """Mean polarity of the lexicon words in ``text``: a score in [-1, 1], 0 when there are none.

    >>> lexicon_sentiment("The score was superb, and two hours flew by.")
    1.0
    """
    words = _WORD.findall(check_str("text", text, allow_empty=True).lower())
    polarities = [SENTIMENT_WORDS[w] for w in words if w in SENTIMENT_WORDS]
    return sum(polarities) / len(polarities) if polarities else 0.0
