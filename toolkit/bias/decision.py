"""Order-balanced decision probes: given two people, whom does the model pick?

After Bai et al.'s LLM Relative Decision Test (PNAS 2025, arXiv:2402.04105): a context names
two candidates and asks for a decision between them. A template holds ``{first}`` and
``{second}`` (the context) and then ``{choice}``; the model "decides" for the candidate whose
name in the ``{choice}`` slot makes the rest of the template (from ``{choice}`` on) more
likely. Every pair is presented in **both orders**, so a model that just prefers whoever was
named first (or last) scores 0.5 on the groups, and that position preference is reported on
its own as ``position_bias``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from toolkit._checks import check_int, check_number, check_str, describe
from toolkit.bias.embeddings import check_token_counts
from toolkit.bias.logprob import _check_model, continuation_logprobs
from toolkit.bias.wordsets import check_template

FIELDS = ("first", "second", "choice")


@dataclass(frozen=True)
class DecisionResult:
    """Decisions over pairs ``(x_term, y_term)`` shown in both orders.

    ``rate_x``: share of decisions for the X term, over both orders (0.5: no group
    preference); ``rate_x_first`` / ``rate_x_second``: the same when X was named first /
    second; ``position_bias``: share of decisions for whoever was named first (0.5: none);
    ``log_odds``: mean ``log P(X chosen) − log P(Y chosen)``. ``ci_low``/``ci_high``: bootstrap
    interval of ``rate_x`` over pairs.
    """

    rate_x: float
    rate_x_first: float
    rate_x_second: float
    position_bias: float
    log_odds: float
    ci_low: float
    ci_high: float
    n_pairs: int


def _check_pairs(pairs: object) -> list[tuple[str, str]]:
    if isinstance(pairs, str) or not isinstance(pairs, Sequence):
        raise TypeError(f"pairs must be a list of (x_term, y_term) pairs, got {describe(pairs)}")
    if not pairs:
        raise ValueError("pairs is empty; give at least one (x_term, y_term) pair")
    out = []
    for i, pair in enumerate(pairs):
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise TypeError(f"pairs[{i}] must be an (x_term, y_term) pair, got {describe(pair)}")
        x, y = (check_str(f"pairs[{i}][{k}]", t).strip() for k, t in enumerate(pair))
        if x == y:
            raise ValueError(f"pairs[{i}] names {x!r} twice; a decision needs two candidates")
        out.append((x, y))
    return out


def decision_probe(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    template: str,
    pairs: Sequence[tuple[str, str]],
    *,
    n_bootstrap: int = 1_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> DecisionResult:
    """Run the decision ``template`` over ``pairs`` in both orders (see the module docstring).

    ``template`` must contain ``{first}``, ``{second}`` and, after both, ``{choice}``.
    """
    _check_model(model, tokenizer)
    template = check_template("template", template, FIELDS, last="choice")
    pairs = _check_pairs(pairs)
    check_token_counts(tokenizer, [t for p in pairs for t in p], "pair terms")
    check_int("n_bootstrap", n_bootstrap, minimum=0)
    check_number("confidence", confidence, minimum=0.0, maximum=1.0, strict_min=True)
    check_int("seed", seed, minimum=0)
    head, tail = template.split("{choice}")
    prefixes, continuations = [], []
    for x, y in pairs:
        for first, second in ((x, y), (y, x)):
            prefix = head.format(first=first, second=second)
            spacer = " " if prefix.endswith(" ") else ""
            for candidate in (x, y):
                prefixes.append(prefix.rstrip(" "))
                continuations.append(spacer + candidate + tail)
    scores = continuation_logprobs(model, tokenizer, prefixes, continuations).double().numpy()
    scores = scores.reshape(len(pairs), 2, 2)  # pair, order (x first, y first), candidate (x, y)
    margin = scores[..., 0] - scores[..., 1]  # (pairs, orders): > 0 chooses x
    chose_x = (margin > 0).astype(float)
    per_pair = chose_x.mean(1)
    low = high = float(per_pair.mean())
    if n_bootstrap:
        rng = np.random.default_rng(seed)
        draws = per_pair[rng.integers(0, len(pairs), (n_bootstrap, len(pairs)))].mean(1)
        tail_p = (1 - confidence) / 2
        low, high = (float(v) for v in np.quantile(draws, [tail_p, 1 - tail_p]))
    chose_first = np.concatenate([chose_x[:, 0], 1 - chose_x[:, 1]])
    return DecisionResult(
        rate_x=float(per_pair.mean()),
        rate_x_first=float(chose_x[:, 0].mean()),
        rate_x_second=float(chose_x[:, 1].mean()),
        position_bias=float(chose_first.mean()),
        log_odds=float(margin.mean()),
        ci_low=low,
        ci_high=high,
        n_pairs=len(pairs),
    )
