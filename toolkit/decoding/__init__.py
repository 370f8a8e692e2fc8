"""Decoding-time alignment: DeAL (Huang et al., arXiv 2402.06147), decoding as a search.

* :mod:`~toolkit.decoding.search` — :func:`deal_generate` and :class:`DeALConfig`: top-``k``
  actions, ``b`` beams, an ``l``-token lookahead, candidates ranked by
  ``log P(y ⊕ a | x) + λ·h(x, y ⊕ a ⊕ z)``; a batched implementation on the prefix's KV cache
  and a one-candidate-at-a-time reference with the same outputs.
* :mod:`~toolkit.decoding.heuristics` — the ``score(prompts, texts) → (N,)`` interface and its
  heuristics (keyword coverage, length range, the sentiment probe, reward models, a user's
  function), composable as weighted sums ``h = Σ w_i R_i``.
* :mod:`~toolkit.decoding.baselines` — greedy, beam search, sampling and best-of-N reranking.
* :mod:`~toolkit.decoding.experiments` — notebook 06's keyword tasks (CommonGen-style, from the
  review grammar), fluency under the base model and the share of sycophantic openings.

Everything in ``__all__`` loads on first use. Equations and defaults:
``docs/methods/decoding.md``.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.decoding.baselines import (
        beam_generate,
        best_of_n,
        greedy_generate,
        sample_generate,
    )
    from toolkit.decoding.experiments import (
        KeywordTask,
        fluency,
        keyword_tasks,
        sycophantic_share,
    )
    from toolkit.decoding.heuristics import (
        CallableHeuristic,
        Heuristic,
        KeywordCoverage,
        LengthInRange,
        RewardModelHeuristic,
        SentimentHeuristic,
        WeightedSum,
        keyword_coverage,
    )
    from toolkit.decoding.search import Candidate, DeALConfig, Generation, deal_generate

__all__ = [
    "CallableHeuristic",
    "Candidate",
    "DeALConfig",
    "Generation",
    "Heuristic",
    "KeywordCoverage",
    "KeywordTask",
    "LengthInRange",
    "RewardModelHeuristic",
    "SentimentHeuristic",
    "WeightedSum",
    "beam_generate",
    "best_of_n",
    "deal_generate",
    "fluency",
    "greedy_generate",
    "keyword_coverage",
    "keyword_tasks",
    "sample_generate",
    "sycophantic_share",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
