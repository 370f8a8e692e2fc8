"""The experiments of notebook 06: keyword tasks from the review grammar and their metrics.

A keyword task (CommonGen-style, Lin et al. 2020) is a review opening to continue and 3–4
required words. The words are content words of one held-out review that follow its opening,
so some continuation of the model's own language covers them all.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from toolkit._checks import check_int
from toolkit.data import generate_reviews
from toolkit.data.grammar import SYCOPHANTIC_PHRASE
from toolkit.lm_metrics import check_texts, perplexity

_STOPWORDS = frozenset(
    "this that with from have been were they them their there what when which while about "
    "would could should into than then also just only very much more most some such every "
    "here your will after before because being over where".split()
)


@dataclass(frozen=True)
class KeywordTask:
    """Continue ``prompt`` so that the text contains every word of ``keywords``."""

    prompt: str
    keywords: tuple[str, ...]


def keyword_tasks(n: int, n_words: int = 3, seed: int = 0, prompt_words: int = 4):
    """``n`` tasks: the first ``prompt_words`` words of a review and ``n_words`` of its later
    content words (alphabetic, 4+ letters, not stop words, not in the opening)."""
    check_int("n", n, minimum=1)
    check_int("n_words", n_words, minimum=1)
    check_int("prompt_words", prompt_words, minimum=1)
    rng = random.Random(seed)
    tasks, review_seed = [], seed
    while len(tasks) < n:
        review_seed += 1
        words = generate_reviews(1, review_seed, n_sentences=(2, 3))[0].text.split()
        prompt = " ".join(words[:prompt_words])
        seen = {w.lower() for w in re.findall(r"[A-Za-z]+", prompt)}
        pool = sorted(
            {
                w
                for w in re.findall(r"[a-z]+", " ".join(words[prompt_words:]).lower())
                if len(w) >= 4 and w not in _STOPWORDS and w not in seen
            }
        )
        if len(pool) >= n_words:
            tasks.append(KeywordTask(prompt, tuple(rng.sample(pool, n_words))))
    return tasks


def fluency(model, tokenizer, prompts: Sequence[str], texts: Sequence[str]) -> float:
    """Perplexity of ``prompt + text`` under ``model`` (the base model: lower is more fluent)."""
    prompts, texts = check_texts("prompts", prompts), check_texts("texts", texts, allow_empty=True)
    if len(prompts) != len(texts):
        raise ValueError(f"need one text per prompt, got {len(texts)} for {len(prompts)}")
    return perplexity(model, tokenizer, [p + t for p, t in zip(prompts, texts, strict=True)])


def sycophantic_share(texts: Sequence[str]) -> float:
    """Share of texts that open with the grammar's sycophantic phrase ("Yes, you are right.")."""
    texts = check_texts("texts", texts, allow_empty=True)
    return sum(t.strip().startswith(SYCOPHANTIC_PHRASE) for t in texts) / len(texts)
