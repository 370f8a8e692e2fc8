"""Does a model satisfy the premise of Q-Filters? Measured per layer and head, before any claim.

Q-Filters (Godey et al., arXiv 2503.02812, §3) rest on three observations about real LLMs: in
most heads the queries are **one-sided** along a dominant direction ``v`` (nearly all of them
project on it with the same sign), that direction carries a large share of their **energy**,
and so a key's projection on the filter ``f`` **predicts the attention** it receives from the
average query. A fourth quantity says what no question-agnostic scorer can see: how much more
a needle's answer is attended by the question's own queries than by the average query.

:func:`premise` measures the first three from a :class:`~toolkit.attention.capture.QKCapture`:

* ``one_sided_mass`` ``(n_layers, H)``: the share of the query mass along ``v`` that lies on
  the side the filter's sign picks, ``Σ_{⟨q,v⟩>0} ⟨q,v⟩ / Σ |⟨q,v⟩|`` with ``v`` sign-fixed by
  the majority of queries (as calibration fixes it); 1 means every query points the same way,
  ½ none, below ½ the heavier queries lie on the other side. ``one_sided_count``: the fraction
  of queries on that side (``DominantDirections.query_majority``, ≥ ½).
* ``first_energy`` ``(n_layers, H)``: ``σ₁² / Σ σ_i²`` of the head's (uncentered) queries.
* ``rho_filter`` ``(n_layers, H_kv)``: Spearman ``ρ`` between the filter score ``−⟨f, k⟩`` of the
  given filters (GQA-averaged per KV head) and the exact mean attention ``ā`` each key receives
  (averaged over the group's query heads); ``rho_knorm`` the same for ``−‖k‖``.
* ``rho_head`` ``(n_layers, H)``: Spearman ``ρ`` between a query head's *own* direction score
  ``⟨v_h, k⟩`` and that head's own mean attention: the filter before GQA averaging.
* ``filter_cosine`` ``(n_layers, H)``: cosine between the head's own filter ``−v_h`` and the
  filter ``f`` of its KV group. Near 1: averaging costs nothing; near 0 or negative: the group
  filter is nearly orthogonal to (or opposes) the head's direction, and GQA averaging is
  where the filter weakens.

:func:`answer_attention` measures the fourth on one needle prompt: per layer and query head,
the attention mass the answer tokens receive from the question's queries, from the last query
(the one that predicts the answer), and from the average haystack query that can see them.

Reference picture (the paper's Figures 2–3, Llama-3.1-8B and other pretrained LLMs): in most
heads the first direction is clearly dominant and ``one_sided`` shares are close to 1; the
filter projection correlates positively with the attention keys receive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from toolkit._checks import check_int, check_nonempty, describe
from toolkit.attention.capture import QKCapture
from toolkit.attention.geometry import _check_capture, _spearman_per_head, dominant_direction
from toolkit.attention.scorers import KNormScorer, QFiltersScorer

__all__ = ["AnswerAttention", "Premise", "answer_attention", "premise"]


@dataclass
class Premise:
    """The Q-Filters premise per captured layer and head (module docstring for each field)."""

    one_sided_mass: torch.Tensor  # (n_layers, H)
    one_sided_count: torch.Tensor  # (n_layers, H)
    first_energy: torch.Tensor  # (n_layers, H)
    rho_filter: torch.Tensor  # (n_layers, H_kv)
    rho_knorm: torch.Tensor  # (n_layers, H_kv)
    rho_head: torch.Tensor  # (n_layers, H)
    filter_cosine: torch.Tensor  # (n_layers, H)
    layers: tuple[int, ...]

    def summary(self) -> dict[str, float]:
        """Means over layers and heads (NaN ``ρ`` of constant scores left out), and the share of
        query heads whose queries are strongly one-sided (``one_sided_mass ≥ 0.9``)."""
        return {
            "one_sided_mass": float(self.one_sided_mass.mean()),
            "one_sided_count": float(self.one_sided_count.mean()),
            "strongly_one_sided_heads": float((self.one_sided_mass >= 0.9).float().mean()),
            "first_energy": float(self.first_energy.mean()),
            "rho_filter": float(self.rho_filter.nanmean()),
            "rho_knorm": float(self.rho_knorm.nanmean()),
            "rho_head": float(self.rho_head.nanmean()),
            "filter_cosine": float(self.filter_cosine.mean()),
        }

    def weak_heads(self, one_sided: float = 0.75, cosine: float = 0.5) -> list[tuple[int, int]]:
        """``(layer, query head)`` pairs where GQA averaging can weaken the filter: queries
        barely one-sided (``one_sided_mass < one_sided``) or the group filter nearly orthogonal
        to the head's own (``filter_cosine < cosine``)."""
        weak = (self.one_sided_mass < one_sided) | (self.filter_cosine < cosine)
        return [(self.layers[i], int(h)) for i, h in weak.nonzero().tolist()]


def premise(capture: QKCapture, filters=None, chunk_size: int = 256) -> Premise:
    """The premise measured on ``capture`` (module docstring). ``filters``: calibrated
    Q-Filters (a :class:`~toolkit.attention.qfilters.QFilters` or an ``(n_layers, H_kv, D)``
    tensor indexed by model layer); ``None`` derives them from the captured queries themselves
    (``−v_h`` averaged over each KV group, as calibration would)."""
    _check_capture(capture)
    check_int("chunk_size", chunk_size, minimum=1)
    group = capture.group_size
    own_filters: dict[int, torch.Tensor] = {}
    directions: dict[int, torch.Tensor] = {}
    attentions: dict[int, torch.Tensor] = {}
    mass, count, energy, rho_head, cosine = [], [], [], [], []
    for layer in capture.layers:
        queries = capture.rows(layer, "q")  # (H, N, D)
        v, sigma = dominant_direction(queries)  # (H, D) sign-fixed
        projection = torch.einsum("hnd,hd->hn", queries, v)
        mass.append(projection.clamp(min=0).sum(-1) / projection.abs().sum(-1).clamp(min=1e-30))
        count.append((projection > 0).float().mean(-1))
        squared = sigma.square()
        energy.append(squared[:, 0] / squared.sum(-1))
        own_filters[layer] = (-v).view(capture.num_kv_heads, group, -1).mean(1)  # (H_kv, D)
        directions[layer] = v
        keys = capture.keys[layer]  # (B, H_kv, T, D)
        attention = attentions[layer] = capture.mean_attention(layer, chunk_size)  # (B, H, T)
        head_keys = keys.repeat_interleave(group, dim=1)  # (B, H, T, D)
        head_score = torch.einsum("bhtd,hd->bht", head_keys, v)  # ⟨v_h, k⟩ = −⟨−v_h, k⟩
        real = capture.attention_mask.to(keys.device)
        rho_head.append(_spearman_per_head(head_score, attention, real))
    if filters is None:
        table = torch.zeros(
            capture.n_model_layers, capture.num_kv_heads, capture.head_dim, dtype=torch.float32
        )
        for layer, value in own_filters.items():
            table[layer] = value
        filters = table
    scorer, knorm = QFiltersScorer(filters), KNormScorer()
    rho_filter, rho_knorm = [], []
    for layer in capture.layers:
        keys = capture.keys[layer]
        batch, n_kv, length, _ = keys.shape
        target = attentions[layer].view(batch, n_kv, group, length).mean(dim=2)
        real = capture.attention_mask.to(keys.device)
        rho_filter.append(_spearman_per_head(scorer.score(keys, None, None, layer), target, real))
        rho_knorm.append(_spearman_per_head(knorm.score(keys, None, None, layer), target, real))
        f = scorer.filters[layer].float().repeat_interleave(group, dim=0)  # (H, D)
        cosine.append(torch.nn.functional.cosine_similarity(-directions[layer], f, dim=-1))
    return Premise(
        one_sided_mass=torch.stack(mass),
        one_sided_count=torch.stack(count),
        first_energy=torch.stack(energy),
        rho_filter=torch.tensor(rho_filter),
        rho_knorm=torch.tensor(rho_knorm),
        rho_head=torch.tensor(rho_head),
        filter_cosine=torch.stack(cosine),
        layers=capture.layers,
    )


@dataclass
class AnswerAttention:
    """Attention mass on the needle's answer tokens, per captured layer and query head
    ``(n_layers, H)``: ``question`` — mean over the question's queries; ``last`` — the last
    query (the one that predicts the answer); ``haystack`` — mean over the haystack queries
    that can see the answer (those after it, before the question): what a mean-attention
    scorer sees. ``lift = question / haystack``; ``share`` — the fraction of all the attention
    the answer receives (summed over every query that sees it) that comes from the question's
    queries."""

    question: torch.Tensor
    last: torch.Tensor
    haystack: torch.Tensor
    share: torch.Tensor
    layers: tuple[int, ...]

    @property
    def lift(self) -> torch.Tensor:
        return self.question / self.haystack

    def summary(self) -> dict[str, float]:
        """Means over layers and heads; ``best_lift``: the largest per-head lift (the head
        that retrieves), ``max_question``: the largest per-head question mass."""
        lift = self.lift
        finite = lift[torch.isfinite(lift)]
        return {
            "question": float(self.question.mean()),
            "last": float(self.last.mean()),
            "haystack": float(self.haystack.nanmean()),
            "share": float(self.share.nanmean()),
            "max_question": float(self.question.max()),
            "best_lift": float(finite.max()) if finite.numel() else float("nan"),
        }


def _check_positions(name: str, positions: object, length: int) -> list[int]:
    if isinstance(positions, str | bytes) or not isinstance(positions, Sequence | range):
        raise TypeError(
            f"`{name}` must be a sequence of token positions, got {describe(positions)}"
        )
    return [
        check_int(f"{name}[{i}]", p, minimum=0, maximum=length - 1)
        for i, p in enumerate(check_nonempty(name, list(positions)))
    ]


def answer_attention(
    capture: QKCapture, answer: Sequence[int], question: Sequence[int]
) -> AnswerAttention:
    """:class:`AnswerAttention` of one prompt (``capture`` of a single sequence): ``answer``
    are the positions of the answer's tokens where the haystack states it
    (:func:`~toolkit.attention.needle.answer_positions`), ``question`` the positions of the
    question's tokens (all after the answer)."""
    _check_capture(capture)
    if capture.attention_mask.shape[0] != 1:
        raise ValueError(f"`capture` must hold one sequence, got {capture.attention_mask.shape[0]}")
    length = capture.attention_mask.shape[1]
    answer = _check_positions("answer", answer, length)
    question = _check_positions("question", question, length)
    if min(question) <= max(answer):
        raise ValueError("`question` positions must all come after the `answer` positions")
    rows = torch.arange(max(answer), length)  # every query that sees the whole answer
    results = {"question": [], "last": [], "haystack": [], "share": []}
    for layer in capture.layers:
        q = capture.queries[layer][0]  # (H, T, D)
        k = capture.keys[layer][0].repeat_interleave(capture.group_size, dim=0)  # (H, T, D)
        allowed = capture.allowed(layer, rows)[0]  # (R, T)
        logits = torch.einsum("hrd,htd->hrt", q[:, rows], k) * capture.scaling[layer]
        weights = logits.masked_fill(~allowed, float("-inf")).softmax(dim=-1)
        on_answer = weights[..., answer].sum(-1)  # (H, R)
        in_question = torch.isin(rows, torch.tensor(question))
        haystack = ~in_question
        results["question"].append(on_answer[:, in_question].mean(-1))
        results["last"].append(on_answer[:, -1])
        results["haystack"].append(
            on_answer[:, haystack].mean(-1)
            if bool(haystack.any())
            else torch.full((q.shape[0],), float("nan"))
        )
        results["share"].append(on_answer[:, in_question].sum(-1) / on_answer.sum(-1))
    return AnswerAttention(
        **{name: torch.stack(values) for name, values in results.items()}, layers=capture.layers
    )
