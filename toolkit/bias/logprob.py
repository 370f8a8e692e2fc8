"""IAT-style association from a causal LM's log-probabilities, and Bai et al.'s word association.

Both read one matrix: ``log P(attribute … | template with the target)`` for every target term,
attribute word and template (:func:`association_matrix`). A template holds ``{target}`` and,
after it, ``{attribute}``; what follows the attribute (a full stop, say) is scored too, and
the matrix is averaged over templates.

* :func:`logprob_iat` treats the matrix as WEAT treats cosines: ``s(t) = mean_a − mean_b``
  log-probability, effect size, permutation p-value and bootstrap interval
  (:func:`~toolkit.bias.stats.association_test`). No embeddings are needed, so it works on
  any causal LM that returns logits.
* :func:`word_association_bias` is Bai, Wang, Sucholutsky & Griffiths' LLM Word Association
  Test score (PNAS 2025, arXiv:2402.04105), with the forced choice "which group goes with this
  word?" answered by the log-probabilities instead of a chat reply: a word goes to the group
  whose terms make it more likely. With ``a``/``b`` the stigmatized-group picks that are
  negative/positive words and ``c``/``d`` the default-group picks that are negative/positive,
  ``bias = a/(a+b) + d/(c+d) − 1`` in [−1, 1] (a ratio whose group got no word counts 0, as
  in the authors' code up to their +0.01 in the denominators).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from toolkit._checks import check_int, check_number, describe
from toolkit.bias.embeddings import check_token_counts, start_ids
from toolkit.bias.stats import AssociationResult, association_test
from toolkit.bias.wordsets import check_templates, check_word_sets, check_words


@torch.no_grad()
def continuation_logprobs(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prefixes: Sequence[str],
    continuations: Sequence[str],
    *,
    batch_size: int = 64,
) -> torch.Tensor:
    """``(N,)`` summed ``log P(continuation | prefix)``, each text starting a new document.

    Prefix and continuation are tokenized separately (so every continuation is scored on the
    same tokens whatever the prefix) and joined after the document-start token.
    """
    if len(prefixes) != len(continuations):
        raise ValueError(
            f"prefixes ({len(prefixes)}) and continuations ({len(continuations)}) must pair up"
        )
    check_int("batch_size", batch_size, minimum=1)
    start = start_ids(tokenizer)
    rows, starts = [], []
    for i, (prefix, cont) in enumerate(zip(prefixes, continuations, strict=True)):
        head = start + tokenizer(prefix, add_special_tokens=False)["input_ids"]
        tail = tokenizer(cont, add_special_tokens=False)["input_ids"]
        if not head or not tail:
            raise ValueError(
                f"pair {i}: prefix {prefix!r} and continuation {cont!r} must each give a token"
            )
        rows.append(head + tail)
        starts.append(len(head))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    model.eval()
    out = []
    for lo in range(0, len(rows), batch_size):
        chunk, chunk_starts = rows[lo : lo + batch_size], starts[lo : lo + batch_size]
        width = max(len(r) for r in chunk)
        ids = torch.full((len(chunk), width), pad, dtype=torch.long)
        attention = torch.zeros_like(ids)
        scored = torch.zeros(len(chunk), width - 1, dtype=torch.bool)
        for i, (row, s) in enumerate(zip(chunk, chunk_starts, strict=True)):
            ids[i, : len(row)] = torch.tensor(row)
            attention[i, : len(row)] = 1
            scored[i, s - 1 : len(row) - 1] = True
        device = model.device
        logits = model(input_ids=ids.to(device), attention_mask=attention.to(device)).logits
        logp = torch.log_softmax(logits[:, :-1].float(), -1)
        token_logp = logp.gather(-1, ids[:, 1:].to(device)[..., None])[..., 0].cpu()
        out.append(torch.where(scored, token_logp, 0.0).sum(-1))
    return torch.cat(out)


def association_matrix(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    targets: Sequence[str],
    attributes: Sequence[str],
    templates: Sequence[str],
    *,
    batch_size: int = 64,
) -> np.ndarray:
    """``(len(targets), len(attributes))``: ``log P(attribute and the rest | template up to
    it, with the target)`` averaged over ``templates`` (each with ``{target}`` then
    ``{attribute}``)."""
    _check_model(model, tokenizer)
    targets = check_words("targets", targets)
    attributes = check_words("attributes", attributes)
    templates = check_templates("templates", templates, ("target", "attribute"), last="attribute")
    check_token_counts(tokenizer, targets, "targets")
    check_token_counts(tokenizer, attributes, "attributes")
    prefixes, continuations = [], []
    for template in templates:
        head, tail = template.split("{attribute}")
        for target in targets:
            for attribute in attributes:
                prefixes.append(head.format(target=target).rstrip(" "))
                spacer = " " if head.endswith(" ") else ""
                continuations.append(spacer + attribute + tail)
    scores = continuation_logprobs(model, tokenizer, prefixes, continuations, batch_size=batch_size)
    shape = (len(templates), len(targets), len(attributes))
    return scores.view(shape).mean(0).double().numpy()


def logprob_iat(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    x: Sequence[str],
    y: Sequence[str],
    a: Sequence[str],
    b: Sequence[str],
    templates: Sequence[str],
    *,
    n_permutations: int = 10_000,
    n_bootstrap: int = 1_000,
    confidence: float = 0.95,
    seed: int = 0,
    alternative: str = "greater",
) -> AssociationResult:
    """The IAT on log-probabilities: ``d > 0`` means the model finds ``a`` words likelier
    after ``x`` terms (relative to ``b`` words) than after ``y`` terms."""
    x, y, a, b = check_word_sets(x, y, a, b)
    matrix = association_matrix(model, tokenizer, x + y, a + b, templates)
    n, p = len(x), len(a)
    result = association_test(
        matrix[:n, :p],
        matrix[:n, p:],
        matrix[n:, :p],
        matrix[n:, p:],
        n_permutations=n_permutations,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
        alternative=alternative,
    )
    return replace(result, words_x=x, words_y=y)


@dataclass(frozen=True)
class WordAssociationResult:
    """Bai et al.'s word association bias in [−1, 1] (0: no stereotyped pairing), a one-sided
    permutation p-value (valence labels of the words shuffled), a bootstrap interval (words
    resampled within each valence) and the group each word went to."""

    bias: float
    p_value: float
    ci_low: float
    ci_high: float
    assignments: dict  # word -> "stigma" or "default"
    margins: dict  # word -> mean log P(word | stigma terms) − mean log P(word | default terms)


def _bias_score(to_stigma: np.ndarray, negative: np.ndarray) -> float:
    a = int((to_stigma & negative).sum())
    b = int((to_stigma & ~negative).sum())
    c = int((~to_stigma & negative).sum())
    d = int((~to_stigma & ~negative).sum())
    first = a / (a + b) if a + b else 0.0
    second = d / (c + d) if c + d else 0.0
    return first + second - 1.0


def word_association_bias(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    stigma_terms: Sequence[str],
    default_terms: Sequence[str],
    negative_words: Sequence[str],
    positive_words: Sequence[str],
    templates: Sequence[str],
    *,
    n_permutations: int = 10_000,
    n_bootstrap: int = 1_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> WordAssociationResult:
    """Bai et al.'s word association bias with log-probability choices (module docstring).

    > 0 means negative words go to the stigmatized group and positive words to the default
    group more often than the other way round.
    """
    stigma, default, neg, pos = check_word_sets(
        stigma_terms,
        default_terms,
        negative_words,
        positive_words,
        names=("stigma_terms", "default_terms", "negative_words", "positive_words"),
    )
    check_int("n_permutations", n_permutations, minimum=1)
    check_int("n_bootstrap", n_bootstrap, minimum=0)
    check_number("confidence", confidence, minimum=0.0, maximum=1.0, strict_min=True)
    check_int("seed", seed, minimum=0)
    words = neg + pos
    matrix = association_matrix(model, tokenizer, stigma + default, words, templates)
    margin = matrix[: len(stigma)].mean(0) - matrix[len(stigma) :].mean(0)  # (W,)
    to_stigma = margin > 0
    negative = np.arange(len(words)) < len(neg)
    observed = _bias_score(to_stigma, negative)
    rng = np.random.default_rng(seed)
    permuted = np.array(
        [_bias_score(to_stigma, rng.permutation(negative)) for _ in range(n_permutations)]
    )
    p_value = (1 + int((permuted >= observed - 1e-12).sum())) / (1 + n_permutations)
    low = high = observed
    if n_bootstrap:
        i_neg, i_pos = np.arange(len(neg)), np.arange(len(neg), len(words))
        draws = []
        for _ in range(n_bootstrap):
            pick = np.concatenate([rng.choice(i_neg, len(neg)), rng.choice(i_pos, len(pos))])
            draws.append(_bias_score(to_stigma[pick], negative[pick]))
        tail = (1 - confidence) / 2
        low, high = (float(v) for v in np.quantile(draws, [tail, 1 - tail]))
    return WordAssociationResult(
        bias=observed,
        p_value=p_value,
        ci_low=low,
        ci_high=high,
        assignments={
            w: "stigma" if s else "default" for w, s in zip(words, to_stigma, strict=True)
        },
        margins={w: float(m) for w, m in zip(words, margin, strict=True)},
    )


def _check_model(model: object, tokenizer: object) -> None:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a Hugging Face causal LM, got {describe(model)}")
    if not isinstance(tokenizer, PreTrainedTokenizerBase):
        raise TypeError(f"tokenizer must be a Hugging Face tokenizer, got {describe(tokenizer)}")
