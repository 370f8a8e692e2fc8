"""Generation probes: what a model writes about each group, scored by a sentiment scorer.

:func:`generation_probe` samples continuations of prompts that name group X and of prompts
that name group Y (same templates, same seeds), scores **the continuations only** (the group
term in the prompt cannot sway the scorer) and reports the difference of mean sentiment with
a permutation p-value and a bootstrap interval (:func:`~toolkit.bias.stats.difference_test`).

Scorers map texts to numbers in [−1, 1]:

* :class:`VaderScorer` — VADER's compound score (Hutto & Gilbert, ICWSM 2014; PyPI
  ``vaderSentiment``, MIT), a lexicon and rules, independent of every model here;
* :class:`ProbeScorer` — ``2 · P(positive) − 1`` from the toolkit's MiniLM sentiment probe
  (:class:`toolkit.alignment.SentimentReward`), fitted on labelled synthetic reviews.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from toolkit._checks import check_int, check_number, describe
from toolkit.bias.stats import difference_test
from toolkit.bias.wordsets import check_templates, check_words
from toolkit.zoo.tokenizer import check_texts


class VaderScorer:
    """VADER's compound sentiment in [−1, 1] (``vaderSentiment``; no model, no download)."""

    def __init__(self):
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError as error:  # a dependency of the toolkit; say how to get it
            raise ImportError(
                "VaderScorer needs vaderSentiment: pip install vaderSentiment"
            ) from error
        self._analyzer = SentimentIntensityAnalyzer()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """Compound scores ``(N,)``; an empty text scores 0."""
        return np.array([self._analyzer.polarity_scores(t)["compound"] for t in check_texts(texts)])


@dataclass
class ProbeScorer:
    """``2 · P(positive) − 1`` from a logistic probe on sentence embeddings: wrap
    ``SentimentReward.fit(zoo.load_sentence_encoder())``."""

    reward: Callable[[Sequence[str]], torch.Tensor]

    def __post_init__(self):
        if not callable(self.reward):
            raise TypeError(f"reward must map texts to logits, got {describe(self.reward)}")

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """Scores ``(N,)`` in [−1, 1]; empty texts score 0."""
        texts = check_texts(texts)
        out = np.zeros(len(texts))
        keep = [i for i, t in enumerate(texts) if t.strip()]
        if keep:
            logits = torch.as_tensor(self.reward([texts[i] for i in keep])).float()
            out[keep] = (2 * torch.sigmoid(logits) - 1).numpy()
        return out


@dataclass(frozen=True)
class GenerationResult:
    """Mean sentiment of continuations for X prompts minus Y prompts, with its p-value and
    interval, and every sample (``texts_*`` and ``scores_*`` in prompt order)."""

    gap: float
    mean_x: float
    mean_y: float
    p_value: float
    ci_low: float
    ci_high: float
    texts_x: tuple[str, ...]
    texts_y: tuple[str, ...]
    scores_x: tuple[float, ...]
    scores_y: tuple[float, ...]


def group_prompts(templates: Sequence[str], terms: Sequence[str]) -> list[str]:
    """Every template (with one ``{target}``) filled with every term, template-major."""
    templates = check_templates("templates", templates, ("target",))
    terms = check_words("terms", terms)
    return [t.format(target=term) for t in templates for term in terms]


@torch.no_grad()
def sample_texts(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    n_per_prompt: int,
    *,
    max_new_tokens: int = 24,
    temperature: float = 1.0,
    seed: int = 0,
) -> list[str]:
    """``n_per_prompt`` sampled continuations of each prompt (prompt-major), each prompt
    starting a document; prompt ``i`` is sampled with seed ``seed + i``, so the same prompt
    index gets the same random stream in every group."""
    from toolkit.bias.embeddings import start_ids

    check_int("n_per_prompt", n_per_prompt, minimum=1)
    check_int("max_new_tokens", max_new_tokens, minimum=1)
    check_number("temperature", temperature, minimum=0.0, strict_min=True)
    check_int("seed", seed, minimum=0)
    model.eval()
    out = []
    for i, prompt in enumerate(prompts):
        ids = start_ids(tokenizer) + tokenizer(prompt, add_special_tokens=False)["input_ids"]
        batch = torch.tensor([ids] * n_per_prompt, device=model.device)
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(seed + i)
        generated = model.generate(
            input_ids=batch,
            attention_mask=torch.ones_like(batch),
            do_sample=True,
            temperature=temperature,
            top_k=0,
            max_new_tokens=max_new_tokens,
            pad_token_id=tokenizer.pad_token_id,
        )
        torch.random.set_rng_state(generator_state)
        out += tokenizer.batch_decode(generated[:, len(ids) :], skip_special_tokens=True)
    return out


def generation_probe(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    templates: Sequence[str],
    x_terms: Sequence[str],
    y_terms: Sequence[str],
    scorer: Callable[[Sequence[str]], np.ndarray],
    *,
    n_per_prompt: int = 4,
    max_new_tokens: int = 24,
    n_permutations: int = 10_000,
    n_bootstrap: int = 1_000,
    seed: int = 0,
) -> GenerationResult:
    """Sentiment gap ``mean(X continuations) − mean(Y continuations)`` (negative: the model
    writes more negatively after X terms). ``x_terms`` and ``y_terms`` have the same size, so
    prompt ``i`` of X and of Y come from the same template and share a sampling seed."""
    if not callable(scorer):
        raise TypeError(f"scorer must map texts to scores, got {describe(scorer)}")
    x_terms, y_terms = check_words("x_terms", x_terms), check_words("y_terms", y_terms)
    if len(x_terms) != len(y_terms):
        raise ValueError(
            f"x_terms has {len(x_terms)} terms and y_terms {len(y_terms)}; give both groups "
            "the same number so every prompt has a counterpart"
        )
    if set(x_terms) & set(y_terms):
        raise ValueError(f"x_terms and y_terms overlap: {sorted(set(x_terms) & set(y_terms))}")
    prompts_x, prompts_y = group_prompts(templates, x_terms), group_prompts(templates, y_terms)
    texts = {}
    for side, prompts in (("x", prompts_x), ("y", prompts_y)):
        texts[side] = sample_texts(
            model, tokenizer, prompts, n_per_prompt, max_new_tokens=max_new_tokens, seed=seed
        )
    scores = {side: np.asarray(scorer(texts[side]), dtype=np.float64) for side in texts}
    for side in scores:
        if scores[side].shape != (len(texts[side]),):
            raise ValueError(
                f"scorer returned shape {scores[side].shape} for {len(texts[side])} texts"
            )
    test = difference_test(
        scores["x"], scores["y"], n_permutations=n_permutations, n_bootstrap=n_bootstrap, seed=seed
    )
    return GenerationResult(
        gap=test.difference,
        mean_x=test.mean_x,
        mean_y=test.mean_y,
        p_value=test.p_value,
        ci_low=test.ci_low,
        ci_high=test.ci_high,
        texts_x=tuple(texts["x"]),
        texts_y=tuple(texts["y"]),
        scores_x=tuple(float(v) for v in scores["x"]),
        scores_y=tuple(float(v) for v in scores["y"]),
    )
