"""Seeded synthetic corpora with labelled ground truth.

* :mod:`~toolkit.data.grammar` — the documented review grammar (word banks and templates).
* :mod:`~toolkit.data.reviews` — :class:`Review`, generation and counterfactual re-rendering.
* :mod:`~toolkit.data.sentiment` — the grammar's sentiment lexicon (labels, not a scorer).
* :mod:`~toolkit.data.preferences` — sentiment-control and spurious-bias preference pairs;
  ``BIASES`` names the four spurious variables of the bias lab.
* :mod:`~toolkit.data.retrieval` — key–value facts in review filler, and needle-in-a-haystack
  prompts.
* :mod:`~toolkit.data.code` — two-line Python functions with tests and one-line bugs (the
  Target-DPO code task).

Everything in ``__all__`` loads on first use; the word banks stay in
:mod:`~toolkit.data.grammar`.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.data.code import (
        CodeTask,
        buggy_variant,
        code_corpus,
        code_preference_rows,
        generate_code_tasks,
    )
    from toolkit.data.grammar import DEMOGRAPHIC_GROUPS, SYCOPHANTIC_PHRASE
    from toolkit.data.preferences import (
        BIASES,
        CONCEPT_TOPIC,
        DISCRIMINATION_GROUP,
        PROMPTS,
        CounterfactualPair,
        PreferencePair,
        biased_pairs,
        counterfactual_pairs,
        sentiment_pairs,
        to_records,
    )
    from toolkit.data.retrieval import NeedleExample, needle_examples, retrieval_corpus
    from toolkit.data.reviews import (
        MAX_SENTENCES,
        TOPICS,
        Review,
        counterfactual,
        generate_reviews,
        render_review,
        review_corpus,
    )
    from toolkit.data.sentiment import SENTIMENT_WORDS, lexicon_sentiment

__all__ = [
    "BIASES",
    "CONCEPT_TOPIC",
    "DEMOGRAPHIC_GROUPS",
    "DISCRIMINATION_GROUP",
    "MAX_SENTENCES",
    "PROMPTS",
    "SENTIMENT_WORDS",
    "SYCOPHANTIC_PHRASE",
    "TOPICS",
    "CodeTask",
    "CounterfactualPair",
    "NeedleExample",
    "PreferencePair",
    "Review",
    "biased_pairs",
    "buggy_variant",
    "code_corpus",
    "code_preference_rows",
    "counterfactual",
    "counterfactual_pairs",
    "generate_code_tasks",
    "generate_reviews",
    "lexicon_sentiment",
    "needle_examples",
    "render_review",
    "retrieval_corpus",
    "review_corpus",
    "sentiment_pairs",
    "to_records",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
