"""Alignment heuristics ``h(x, y)`` for decoding-time alignment (DeAL, arXiv 2402.06147 §2).

A heuristic scores continuations: ``score(prompts, texts) → (N,)`` float tensor, where
``texts[i]`` is the text generated after ``prompts[i]`` (during the search: the prefix ``y``
followed by its lookahead). Heuristics compose as weighted sums, ``h = Σ_i w_i R_i``::

    h = KeywordCoverage(["acting", "plot"]) + 0.5 * SentimentHeuristic(reward)

Programmatic heuristics (keywords, length) are exact; model heuristics score the whole batch
in one call. :func:`check_scores` is what the search applies to every heuristic's output.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import torch

from toolkit._checks import check_int, check_nonempty, check_number, check_str, describe


class Heuristic:
    """The interface: subclasses implement :meth:`score`; ``+`` and ``*`` build weighted sums."""

    name = "heuristic"

    def score(self, prompts: Sequence[str], texts: Sequence[str]) -> torch.Tensor:
        """``h(x_i, y_i)`` for each pair, a float tensor of shape ``(len(texts),)``."""
        raise NotImplementedError

    def __call__(self, prompts: Sequence[str], texts: Sequence[str]) -> torch.Tensor:
        return check_scores(self.name, self.score(prompts, texts), len(texts))

    def __add__(self, other: Heuristic) -> WeightedSum:
        return WeightedSum.of(self) + other

    def __mul__(self, weight: float) -> WeightedSum:
        return WeightedSum([(check_number("weight", weight), self)])

    __rmul__ = __mul__


def check_heuristic(name: str, value: object) -> Heuristic:
    """``value`` if it is a :class:`Heuristic`; a plain callable is refused with the fix."""
    if isinstance(value, Heuristic):
        return value
    hint = "; wrap a function in CallableHeuristic(fn)" if callable(value) else ""
    raise TypeError(f"{name} must be a Heuristic, got {describe(value)}{hint}")


def check_scores(name: str, scores: object, n: int) -> torch.Tensor:
    """A heuristic's output as a float64 CPU tensor of shape ``(n,)``, every value finite."""
    if not isinstance(scores, torch.Tensor):
        try:
            scores = torch.as_tensor(scores, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(
                f"heuristic {name!r} must return a tensor of {n} scores, got {describe(scores)}"
            ) from None
    if tuple(scores.shape) != (n,):
        raise ValueError(
            f"heuristic {name!r} returned shape {tuple(scores.shape)}; expected ({n},), one "
            "score per text"
        )
    scores = scores.detach().to("cpu", torch.float64)
    bad = (~torch.isfinite(scores)).nonzero()
    if len(bad):
        i = int(bad[0])
        raise ValueError(
            f"heuristic {name!r} returned {float(scores[i])} for text {i}; scores must be finite"
        )
    return scores


class WeightedSum(Heuristic):
    """``h = Σ_i w_i R_i``: each term scored once per call, on the whole batch."""

    def __init__(self, terms: Sequence[tuple[float, Heuristic]]):
        check_nonempty("terms", terms)
        self.terms = [
            (check_number(f"terms[{i}] weight", w), check_heuristic(f"terms[{i}]", h))
            for i, (w, h) in enumerate(terms)
        ]
        self.name = " + ".join(f"{w:g}·{h.name}" for w, h in self.terms)

    @classmethod
    def of(cls, heuristic: Heuristic) -> WeightedSum:
        return heuristic if isinstance(heuristic, WeightedSum) else cls([(1.0, heuristic)])

    def __add__(self, other: Heuristic) -> WeightedSum:
        return WeightedSum(self.terms + WeightedSum.of(check_heuristic("other", other)).terms)

    def __mul__(self, weight: float) -> WeightedSum:
        weight = check_number("weight", weight)
        return WeightedSum([(weight * w, h) for w, h in self.terms])

    __rmul__ = __mul__

    def score(self, prompts, texts):
        return sum(w * h(prompts, texts) for w, h in self.terms)


def _word_pattern(word: str) -> re.Pattern[str]:
    """``word`` and its regular inflections: -s, -es, -ed, -d, -ing, -er(s), with a final e
    dropped (love → loving) or a final consonant doubled (plot → plotting)."""
    stem = re.escape(word[:-1] if word.endswith("e") and len(word) > 2 else word)
    double = re.escape(word[-1])
    return re.compile(
        rf"\b(?:{re.escape(word)}|{stem}){double}?(?:s|es|ed|d|ing|ings|er|ers)?\b",
        re.IGNORECASE,
    )


class KeywordCoverage(Heuristic):
    """Fraction of the required words that occur in ``y`` (inflections count): ``h ∈ [0, 1]``."""

    name = "keywords"

    def __init__(self, keywords: Sequence[str]):
        if isinstance(keywords, str):
            raise TypeError("keywords must be a list of words, got one str; wrap it in a list")
        check_nonempty("keywords", keywords)
        self.keywords = [check_str(f"keywords[{i}]", w).strip() for i, w in enumerate(keywords)]
        self._patterns = [_word_pattern(w) for w in self.keywords]

    def covered(self, text: str) -> list[str]:
        """The required words found in ``text``."""
        return [w for w, p in zip(self.keywords, self._patterns, strict=True) if p.search(text)]

    def score(self, prompts, texts):
        return torch.tensor([len(self.covered(t)) / len(self.keywords) for t in texts])


class LengthInRange(Heuristic):
    """``h = −(words below low + words above high) / high``: 0 inside ``[low, high]`` words."""

    name = "length"

    def __init__(self, low: int, high: int):
        self.low = check_int("low", low, minimum=0)
        self.high = check_int("high", high, minimum=max(self.low, 1))

    def score(self, prompts, texts):
        n = torch.tensor([len(t.split()) for t in texts], dtype=torch.float64)
        return -((self.low - n).clamp(min=0) + (n - self.high).clamp(min=0)) / self.high


class SentimentHeuristic(Heuristic):
    """A text-only reward, e.g. the sentiment probe ``SentimentReward`` (logit P(positive | y))."""

    name = "sentiment"

    def __init__(self, reward: Callable[[Sequence[str]], torch.Tensor]):
        if not callable(reward):
            raise TypeError(f"reward must be callable on a list of texts, got {describe(reward)}")
        self.reward = reward

    def score(self, prompts, texts):
        return self.reward([t if t.strip() else "." for t in texts])


class RewardModelHeuristic(Heuristic):
    """A sequence-classification reward model ``r(x, y)`` (the vanilla or causal models of the
    reward lab), scored on ``x + y + EOS`` in batches.

    ``question`` is the ``x`` the reward model sees when it differs from the decoding prompt
    (the lab's reward models judge a review as the answer to a question; the language model
    writes the review from its start).
    """

    name = "reward model"

    def __init__(
        self, model, tokenizer, batch_size: int = 64, name: str = "", question: str | None = None
    ):
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a reward model (torch module), got {describe(model)}")
        self.model, self.tokenizer = model, tokenizer
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.name = check_str("name", name) if name else self.name
        self.question = None if question is None else check_str("question", question)

    def score(self, prompts, texts):
        from toolkit.rewards.metrics import reward_scores

        questions = list(prompts) if self.question is None else [self.question] * len(texts)
        return reward_scores(self.model, self.tokenizer, questions, list(texts), self.batch_size)


class CallableHeuristic(Heuristic):
    """A user's function ``fn(prompts, texts) → (N,)`` scores, checked like any heuristic."""

    def __init__(self, fn: Callable[[Sequence[str], Sequence[str]], object], name: str = ""):
        if not callable(fn):
            raise TypeError(f"fn must be callable as fn(prompts, texts), got {describe(fn)}")
        self.fn = fn
        self.name = check_str("name", name) if name else getattr(fn, "__name__", "callable")

    def score(self, prompts, texts):
        return self.fn(list(prompts), list(texts))


def keyword_coverage(keywords: Sequence[str], texts: Sequence[str]) -> float:
    """Mean coverage of ``keywords`` over ``texts`` (the keyword experiment's metric)."""
    texts = check_nonempty("texts", list(texts))
    return float(KeywordCoverage(keywords)([""] * len(texts), texts).mean())
