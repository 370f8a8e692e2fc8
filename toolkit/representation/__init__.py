"""Global representation: who alignment serves.

Annotator groups that write different dialects and hold different opinions, preference data
from pools of those groups in any mix, and per-group measurements of a model before and after
alignment (after Durmus et al., *Towards Measuring the Representation of Subjective Global
Opinions in Language Models*, arXiv:2306.16388).

* :mod:`~toolkit.representation.dialects` — American English, British English and Scots
  variants of the review grammar as exact word-for-word parallels, with the rules documented.
* :mod:`~toolkit.representation.distributions` — the normalize-with-warning policy for
  distributions, annotator mixes and exact quotas.
* :mod:`~toolkit.representation.survey` — survey questions with per-group answer
  distributions (:data:`FILM_SURVEY`), a model's order-balanced answers from option
  log-probabilities, and a loader for GlobalOpinionQA-layout files.
* :mod:`~toolkit.representation.groups` — the annotator groups, their utilities and
  preference pairs, annotator pools and reweighting.
* :mod:`~toolkit.representation.metrics` — per-group perplexity (per word), preference
  accuracy, opinion similarity (1 − Jensen–Shannon distance), best–worst gap.
* :mod:`~toolkit.representation.experiment` — SFT and DPO on a pool and every group's
  metrics; the sweep over mixes behind :class:`widgets.AnnotatorMixView`.

Everything in ``__all__`` loads on first use. Method page: ``docs/methods/representation.md``.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.representation.dialects import (
        DIALECTS,
        GB_WORDS,
        SCOTS_WORDS,
        US_WORDS,
        ParallelReview,
        dialect_corpus,
        dialect_texts,
        dialect_variants,
        parallel_reviews,
        to_dialect,
        word_alignment,
        word_count,
    )
    from toolkit.representation.distributions import (
        DistributionWarning,
        check_distribution,
        normalize_mix,
        quota_counts,
    )
    from toolkit.representation.experiment import (
        HIGHER_IS_BETTER,
        METRIC_LABELS,
        METRICS,
        AlignmentResult,
        Budget,
        EvaluationSet,
        GroupReport,
        align_and_evaluate,
        evaluate_groups,
        evaluation_set,
        find_mix,
        pool_for,
        run_sweep,
        sample_responses,
        sweep_view_data,
        train_dpo,
        train_sft,
    )
    from toolkit.representation.groups import (
        BALANCED_MIX,
        GENRE_SHARES,
        GROUPS,
        SKEWED_MIX,
        TOPIC_SHARES,
        Group,
        annotator_pool,
        expressed,
        group_prompts,
        mix_grid,
        parallel_responses,
        pool_shares,
        preference_pairs,
        reward,
        reweight_pool,
        sft_texts,
        utility,
    )
    from toolkit.representation.metrics import (
        Gap,
        best_worst_gap,
        continuation_logprobs,
        group_perplexity,
        jensen_shannon_distance,
        most_similar_group,
        opinion_similarity,
        preference_accuracy,
        preference_margins,
        word_perplexity,
    )
    from toolkit.representation.survey import (
        FILM_SURVEY,
        Survey,
        SurveyQuestion,
        closest_group,
        group_similarity,
        lm_scorer,
        load_global_opinions,
        model_distribution,
        option_scores,
        rotations,
        survey_answers,
        survey_in_dialect,
        write_global_opinions,
    )

__all__ = [
    "BALANCED_MIX",
    "DIALECTS",
    "FILM_SURVEY",
    "GB_WORDS",
    "GENRE_SHARES",
    "GROUPS",
    "HIGHER_IS_BETTER",
    "METRICS",
    "METRIC_LABELS",
    "SCOTS_WORDS",
    "SKEWED_MIX",
    "TOPIC_SHARES",
    "US_WORDS",
    "AlignmentResult",
    "Budget",
    "DistributionWarning",
    "EvaluationSet",
    "Gap",
    "Group",
    "GroupReport",
    "ParallelReview",
    "Survey",
    "SurveyQuestion",
    "align_and_evaluate",
    "annotator_pool",
    "best_worst_gap",
    "check_distribution",
    "closest_group",
    "continuation_logprobs",
    "dialect_corpus",
    "dialect_texts",
    "dialect_variants",
    "evaluate_groups",
    "evaluation_set",
    "expressed",
    "find_mix",
    "group_perplexity",
    "group_prompts",
    "group_similarity",
    "jensen_shannon_distance",
    "lm_scorer",
    "load_global_opinions",
    "mix_grid",
    "model_distribution",
    "most_similar_group",
    "normalize_mix",
    "opinion_similarity",
    "option_scores",
    "parallel_responses",
    "parallel_reviews",
    "pool_for",
    "pool_shares",
    "preference_accuracy",
    "preference_margins",
    "preference_pairs",
    "quota_counts",
    "reward",
    "reweight_pool",
    "rotations",
    "run_sweep",
    "sample_responses",
    "sft_texts",
    "survey_answers",
    "survey_in_dialect",
    "sweep_view_data",
    "to_dialect",
    "train_dpo",
    "train_sft",
    "utility",
    "word_alignment",
    "word_count",
    "word_perplexity",
    "write_global_opinions",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
