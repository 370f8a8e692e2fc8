"""Attention geometry and KV-cache compression (Godey et al., arXiv 2503.02812, Q-Filters).

* :mod:`~toolkit.attention.capture` — post-RoPE queries and keys of any Hugging Face model.
* :mod:`~toolkit.attention.geometry` — per-head singular spectra, the dominant direction and
  how well the projection on it predicts attention.
* :mod:`~toolkit.attention.premises` — the premise of Q-Filters per layer and head (one-sided
  queries, first-direction energy, filter–attention correlation, GQA averaging) and how much
  of a needle's attention comes from the question.
* :mod:`~toolkit.attention.qfilters` — Q-Filters calibration, saved beside the model's cache.
* :mod:`~toolkit.attention.scorers` — key scorers: Q-Filters, K-norm, StreamingLLM, SnapKV,
  the exact mean-attention oracle, random; ``SCORERS`` maps their names to classes and
  :func:`make_scorer` builds one by name.
* :mod:`~toolkit.attention.compression` — KV-cache compressors for ``model.generate``
  (full-attention and sliding-window cache layers).
* :mod:`~toolkit.attention.needle` — needle-in-a-haystack accuracy, one compressor at a time
  or many per prefill (:func:`needle_sweep`).

Everything in ``__all__`` loads on first use. Equations and conventions:
``docs/methods/qfilters.md``.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.attention.capture import QKCapture, attention_modules, capture_qk
    from toolkit.attention.compression import (
        CacheStats,
        CompressedLayer,
        CompressedSlidingLayer,
        KVCompressor,
        StreamingKVCompressor,
        compression_stats,
        continuation_perplexity,
        select_entries,
    )
    from toolkit.attention.geometry import (
        Correlations,
        DominantDirections,
        Spectra,
        dominant_direction,
        dominant_directions,
        key_scores,
        projection_attention_correlation,
        rank_fractions,
        singular_spectra,
    )
    from toolkit.attention.needle import (
        NeedleRecord,
        NeedleResult,
        accuracy_by_depth,
        answer_positions,
        answers,
        needle_accuracy,
        needle_sweep,
    )
    from toolkit.attention.premises import AnswerAttention, Premise, answer_attention, premise
    from toolkit.attention.qfilters import (
        QFilters,
        calibrate_qfilters,
        model_fingerprint,
        qfilters_dir,
    )
    from toolkit.attention.scorers import (
        SCORERS,
        KNormScorer,
        MeanAttentionScorer,
        QFiltersScorer,
        RandomScorer,
        Scorer,
        SnapKVScorer,
        StreamingLLMScorer,
        check_filters,
        make_scorer,
    )

__all__ = [
    "SCORERS",
    "AnswerAttention",
    "CacheStats",
    "CompressedLayer",
    "CompressedSlidingLayer",
    "Correlations",
    "DominantDirections",
    "KNormScorer",
    "KVCompressor",
    "MeanAttentionScorer",
    "NeedleRecord",
    "NeedleResult",
    "Premise",
    "QFilters",
    "QFiltersScorer",
    "QKCapture",
    "RandomScorer",
    "Scorer",
    "SnapKVScorer",
    "Spectra",
    "StreamingKVCompressor",
    "StreamingLLMScorer",
    "accuracy_by_depth",
    "answer_attention",
    "answer_positions",
    "answers",
    "attention_modules",
    "calibrate_qfilters",
    "capture_qk",
    "check_filters",
    "compression_stats",
    "continuation_perplexity",
    "dominant_direction",
    "dominant_directions",
    "key_scores",
    "make_scorer",
    "model_fingerprint",
    "needle_accuracy",
    "needle_sweep",
    "premise",
    "projection_attention_correlation",
    "qfilters_dir",
    "rank_fractions",
    "select_entries",
    "singular_spectra",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
