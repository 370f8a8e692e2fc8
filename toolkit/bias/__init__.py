"""Implicit bias: association tests on embeddings and log-probabilities, generation and decision
probes, planted biases of known size, and the classic word sets with their provenance.

* :mod:`~toolkit.bias.stats` — effect sizes, seeded permutation p-values, bootstrap intervals
  (:func:`association_test`, :func:`difference_test`).
* :mod:`~toolkit.bias.embeddings` — WEAT and SEAT on any encoder: the packaged MiniLM or a causal
  LM's mean-pooled hidden states (:class:`HiddenStateEncoder`).
* :mod:`~toolkit.bias.logprob` — the IAT on a causal LM's log-probabilities and Bai et al.'s
  word association bias.
* :mod:`~toolkit.bias.generation` — sentiment of what a model writes about each group (VADER
  or the MiniLM probe as scorer).
* :mod:`~toolkit.bias.decision` — order-balanced decision probes.
* :mod:`~toolkit.bias.planted` — corpora with a planted group–negativity association at a set
  rate, the review LM fine-tuned on them (cached in the zoo), and DPO pairs that remove the
  explicit bias; ``PLANTED_GROUP`` and ``REFERENCE_GROUP`` name the groups the notebook uses.
* :mod:`~toolkit.bias.wordsets` — Caliskan et al.'s WEAT word sets and tests, pinned with
  source and licence (``weat_tests``, ``word_sets``, ``provenance``), May et al.'s
  ``SEAT_TEMPLATES``, and the input checks every probe shares.

Everything in ``__all__`` loads on first use. Equations, defaults and deviations:
``docs/methods/implicit_bias.md``.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.bias.decision import DecisionResult, decision_probe
    from toolkit.bias.embeddings import HiddenStateEncoder, embed_words, weat
    from toolkit.bias.generation import (
        GenerationResult,
        ProbeScorer,
        VaderScorer,
        generation_probe,
        group_prompts,
        sample_texts,
    )
    from toolkit.bias.logprob import (
        WordAssociationResult,
        association_matrix,
        continuation_logprobs,
        logprob_iat,
        word_association_bias,
    )
    from toolkit.bias.planted import (
        INTRO_TEMPLATES,
        NEGATIVE_WORDS,
        PLANTED_GROUP,
        POSITIVE_WORDS,
        REFERENCE_GROUP,
        PlantConfig,
        PlantedCorpus,
        debias_rows,
        planted_corpus,
        planted_lm,
        planted_recipe,
    )
    from toolkit.bias.stats import (
        AssociationResult,
        DifferenceResult,
        association_test,
        difference_test,
        effect_size,
    )
    from toolkit.bias.wordsets import (
        SEAT_TEMPLATES,
        WeatTest,
        check_template,
        check_word_sets,
        provenance,
        weat_tests,
        word_sets,
    )

__all__ = [
    "INTRO_TEMPLATES",
    "NEGATIVE_WORDS",
    "PLANTED_GROUP",
    "POSITIVE_WORDS",
    "REFERENCE_GROUP",
    "SEAT_TEMPLATES",
    "AssociationResult",
    "DecisionResult",
    "DifferenceResult",
    "GenerationResult",
    "HiddenStateEncoder",
    "PlantConfig",
    "PlantedCorpus",
    "ProbeScorer",
    "VaderScorer",
    "WeatTest",
    "WordAssociationResult",
    "association_matrix",
    "association_test",
    "check_template",
    "check_word_sets",
    "continuation_logprobs",
    "debias_rows",
    "decision_probe",
    "difference_test",
    "effect_size",
    "embed_words",
    "generation_probe",
    "group_prompts",
    "logprob_iat",
    "planted_corpus",
    "planted_lm",
    "planted_recipe",
    "provenance",
    "sample_texts",
    "weat",
    "weat_tests",
    "word_association_bias",
    "word_sets",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
