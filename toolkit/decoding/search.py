"""DeAL: decoding as a heuristic-guided search (Huang et al., arXiv 2402.06147 §2).

At step ``t`` each of the ``b`` beams ``y`` proposes its top-``k`` next tokens ``a`` (the
actions). Each candidate ``y ⊕ a`` is extended by a lookahead ``z`` of ``l`` tokens (greedy or
sampled) and ranked by

    s(y ⊕ a) = log P(y ⊕ a | x) + λ · h(x, y ⊕ a ⊕ z),

the model's log-probability of the prefix plus λ times the alignment heuristic on the prefix
and its lookahead; the ``b`` best candidates become the beams. A beam that emits EOS is
finished and keeps its score; the search stops when no live beam is among the ``b`` best or
after ``max_new_tokens``. The lookahead never runs past ``max_new_tokens``, so the last
choices are scored on text the output can actually contain. With ``λ = 0`` and ``b = 1`` the
search is greedy decoding, whatever ``k`` and ``l``.

Two implementations give the same outputs under greedy lookahead:

* ``"batched"``: the ``k·b`` candidates and their lookaheads run as one batch on the prefix's
  KV cache (reordered/repeated with the transformers Cache API, cropped back after the
  lookahead, never re-encoding the prefix), and the heuristic is called once per step on all
  candidates;
* ``"reference"``: one candidate at a time, every forward pass on the whole sequence, one
  heuristic call per candidate; kept for the tests and the benchmark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from toolkit._checks import check_choice, check_int, check_number, describe
from toolkit.decoding.heuristics import Heuristic, check_heuristic
from toolkit.lm_metrics import check_model, check_texts, check_tokenizer

IMPLEMENTATIONS = ("batched", "reference")
LOOKAHEAD_MODES = ("greedy", "sample")


@dataclass(frozen=True)
class DeALConfig:
    """Search settings, checked on construction.

    Args:
        top_k: ``k``, actions (next tokens) proposed per beam, >= 1.
        beam_width: ``b``, beams kept per step, ``1 <= b <= k``.
        lookahead: ``l``, tokens of lookahead per candidate, >= 0 (0: score the prefix alone).
        lookahead_mode: ``"greedy"`` or ``"sample"`` (at ``temperature``, seeded).
        lam: ``λ >= 0``, the heuristic's weight (0: the model's own beam search).
        max_new_tokens: end condition, tokens generated at most.
        min_new_tokens: start condition, EOS is not an action before this many tokens.
        temperature: ``τ > 0`` of a sampled lookahead.
        seed: seeds a sampled lookahead (prompt ``i`` uses ``seed + i``).
        impl: ``"batched"`` or ``"reference"`` (see the module docstring).
        trace: keep every step's candidates on the result (for ``SearchTreeView``).
    """

    top_k: int = 4
    beam_width: int = 1
    lookahead: int = 4
    lookahead_mode: str = "greedy"
    lam: float = 1.0
    max_new_tokens: int = 32
    min_new_tokens: int = 0
    temperature: float = 1.0
    seed: int = 0
    impl: str = "batched"
    trace: bool = False

    def __post_init__(self) -> None:
        check_int("top_k", self.top_k, minimum=1)
        check_int("beam_width", self.beam_width, minimum=1)
        if self.beam_width > self.top_k:
            raise ValueError(
                f"beam_width must be <= top_k, got beam_width={self.beam_width} > "
                f"top_k={self.top_k}; raise top_k or lower beam_width"
            )
        check_int("lookahead", self.lookahead, minimum=0)
        check_choice("lookahead_mode", self.lookahead_mode, LOOKAHEAD_MODES)
        check_number("lam", self.lam, minimum=0.0)
        check_int("max_new_tokens", self.max_new_tokens, minimum=1)
        check_int("min_new_tokens", self.min_new_tokens, minimum=0, maximum=self.max_new_tokens)
        check_number("temperature", self.temperature, minimum=0.0, strict_min=True)
        check_int("seed", self.seed)
        check_choice("impl", self.impl, IMPLEMENTATIONS)
        if not isinstance(self.trace, bool):
            raise TypeError(f"trace must be a bool, got {describe(self.trace)}")


@dataclass(frozen=True)
class Candidate:
    """One candidate ``y ⊕ a`` of a step: its beam, action, scores and lookahead text."""

    parent: int  # index of its beam's candidate in the previous step (-1 at the first step)
    token: str  # the action a, decoded
    token_logp: float  # log P(a | x, y)
    logp: float  # log P(y ⊕ a | x)
    heuristic: float  # h(x, y ⊕ a ⊕ z)
    score: float  # logp + λ · heuristic
    lookahead: str  # z, decoded
    chosen: bool  # kept as a beam for the next step


@dataclass
class Generation:
    """The search's output for one prompt: the best finished or final beam."""

    prompt: str
    text: str  # the continuation y (without the prompt or EOS)
    token_ids: list[int]
    logp: float  # log P(y | x)
    score: float  # its last search score
    steps: list[list[Candidate]] = field(default_factory=list)  # with ``config.trace``
    path: list[int] = field(default_factory=list)  # its candidate at each step, with the trace


class _Beam:
    """A partial output: its tokens, ``log P(y | x)``, last score, whether it ended, and the
    candidate it was (``step``, ``node``: its index among that step's candidates)."""

    __slots__ = ("ids", "logp", "score", "done", "step", "node")

    def __init__(self, ids, logp: float, score: float, done: bool, step: int, node: int):
        self.ids, self.logp, self.score, self.done = ids, logp, score, done
        self.step, self.node = step, node


def _pick(logits: torch.Tensor, config: DeALConfig, generator: torch.Generator) -> torch.Tensor:
    """The next lookahead token of each row: argmax, or a draw at ``config.temperature``."""
    if config.lookahead_mode == "greedy":
        return logits.argmax(-1)
    probs = torch.softmax(logits.float() / config.temperature, -1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


class _Batched:
    """Beams as rows of one KV cache; candidates and lookaheads as one batch per step."""

    def __init__(self, model, prompt_ids: torch.Tensor):
        self.model = model
        out = model(prompt_ids, use_cache=True)
        self.cache, self.logits = out.cache, out.logits[:, -1]

    def logprobs(self) -> torch.Tensor:
        return torch.log_softmax(self.logits.float(), -1)

    def _step(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model(tokens[:, None], cache=self.cache, use_cache=True).logits[:, -1]

    def extend(self, parents, tokens, n_lookahead, pick) -> torch.Tensor:
        """Rows ``parents`` followed by ``tokens``; returns their lookaheads ``(N, l)``."""
        self.cache.reorder_cache(parents)
        self.logits = self._step(tokens)
        lookahead = [pick(self.logits)] if n_lookahead else []
        for _ in range(1, n_lookahead):
            lookahead.append(pick(self._step(lookahead[-1])))
        if n_lookahead > 1:
            self.cache.crop(1 - n_lookahead)  # drop the lookahead's keys and values
        return torch.stack(lookahead, 1) if lookahead else tokens.new_zeros(len(tokens), 0)

    def keep(self, rows: torch.Tensor) -> None:
        self.cache.reorder_cache(rows)
        self.logits = self.logits[rows]


class _Reference:
    """Each beam and candidate on its own, every forward pass on the whole sequence."""

    def __init__(self, model, prompt_ids: torch.Tensor):
        self.model, self.rows = model, [prompt_ids[0]]

    def _last_logits(self, ids: torch.Tensor) -> torch.Tensor:
        return self.model(ids[None], use_cache=False).logits[:, -1]

    def logprobs(self) -> torch.Tensor:
        return torch.cat([torch.log_softmax(self._last_logits(r).float(), -1) for r in self.rows])

    def extend(self, parents, tokens, n_lookahead, pick) -> torch.Tensor:
        self.rows = [
            torch.cat([self.rows[p], t[None]]) for p, t in zip(parents, tokens, strict=True)
        ]
        lookaheads = []
        for row in self.rows:
            ids = row
            for _ in range(n_lookahead):
                ids = torch.cat([ids, pick(self._last_logits(ids))])
            lookaheads.append(ids[len(row) :])
        return torch.stack(lookaheads)

    def keep(self, rows: torch.Tensor) -> None:
        self.rows = [self.rows[i] for i in rows.tolist()]


def _until_eos(ids: list[int], eos: int) -> list[int]:
    return ids[: ids.index(eos)] if eos in ids else ids


def _score(heuristic, prompt: str, texts: list[str], one_at_a_time: bool) -> torch.Tensor:
    if one_at_a_time:
        return torch.cat([heuristic([prompt], [text]) for text in texts])
    return heuristic([prompt] * len(texts), texts)


def _trace(tokenizer, pool, parents, live, token_logp, h, ahead, best) -> list[Candidate]:
    """The step's candidates (the first ``len(ahead)`` of ``pool``) as the trace shows them."""
    return [
        Candidate(
            parent=live[int(parents[i])].node,
            token=tokenizer.decode([pool[i].ids[-1]]),
            token_logp=float(token_logp[i]),
            logp=pool[i].logp,
            heuristic=float(h[i]),
            score=pool[i].score,
            lookahead=tokenizer.decode(ahead[i]),
            chosen=i in best,
        )
        for i in range(len(ahead))
    ]


def _path(steps: list[list[Candidate]], beam: _Beam) -> list[int]:
    """The candidate index at each step from the first to ``beam``'s, following parents."""
    path = [beam.node]
    for step in range(beam.step, 0, -1):
        path.append(steps[step][path[-1]].parent)
    return path[::-1]


@torch.inference_mode()
def _search(model, tokenizer, prompt: str, heuristic: Heuristic, config: DeALConfig, seed: int):
    eos = tokenizer.eos_token_id
    device = next(model.parameters()).device
    prompt_ids = tokenizer(prompt, return_tensors="pt")["input_ids"].to(device)
    generator = torch.Generator(device=device).manual_seed(seed)
    impl = (_Batched if config.impl == "batched" else _Reference)(model, prompt_ids)
    live, finished, steps = [_Beam([], 0.0, 0.0, False, -1, -1)], [], []
    for t in range(config.max_new_tokens):
        logprobs = impl.logprobs()
        if t < config.min_new_tokens:
            logprobs[:, eos] = -torch.inf
        prefix_logp = torch.tensor([b.logp for b in live], dtype=torch.float64)
        token_logp, tokens = logprobs.topk(config.top_k, -1)
        parents = torch.arange(len(live)).repeat_interleave(config.top_k)
        tokens, token_logp = tokens.flatten(), token_logp.flatten().double()
        logp = prefix_logp[parents] + token_logp
        n_lookahead = min(config.lookahead, config.max_new_tokens - t - 1)
        lookahead = impl.extend(
            parents.to(device), tokens, n_lookahead, lambda x: _pick(x, config, generator)
        )
        ids = [live[p].ids + [a] for p, a in zip(parents.tolist(), tokens.tolist(), strict=True)]
        ahead = [
            _until_eos([a, *z], eos)[1:]
            for a, z in zip(tokens.tolist(), lookahead.tolist(), strict=True)
        ]
        texts = [
            tokenizer.decode(_until_eos(y + z, eos), skip_special_tokens=True)
            for y, z in zip(ids, ahead, strict=True)
        ]
        h = _score(heuristic, prompt, texts, config.impl == "reference")
        score = logp + config.lam * h
        pool = [
            _Beam(y, float(p), float(s), y[-1] == eos, t, i)
            for i, (y, p, s) in enumerate(zip(ids, logp, score, strict=True))
        ] + finished
        order = torch.sort(torch.tensor([b.score for b in pool]), descending=True, stable=True)
        best = order.indices[: config.beam_width].tolist()
        if config.trace:
            steps.append(_trace(tokenizer, pool, parents, live, token_logp, h, ahead, best))
        rows = [i for i in best if i < len(ids) and not pool[i].done]
        finished = [pool[i] for i in best if pool[i].done]
        live = [pool[i] for i in rows]
        if not live:
            break
        impl.keep(torch.tensor(rows, device=device))
    top = max(live + finished, key=lambda b: b.score)
    ids = _until_eos(top.ids, eos)
    return Generation(
        prompt=prompt,
        text=tokenizer.decode(ids, skip_special_tokens=True),
        token_ids=ids,
        logp=top.logp,
        score=top.score,
        steps=steps,
        path=_path(steps, top) if steps else [],
    )


def check_prompts_fit(model, tokenizer, prompts: list[str], max_new_tokens: int) -> None:
    """Refuse, before any decoding, a prompt whose tokens plus ``max_new_tokens`` exceed the
    model's positions."""
    from toolkit.alignment.checks import model_positions

    context = model_positions(model)
    if context is None:
        return
    for i, prompt in enumerate(prompts):
        n = len(tokenizer(prompt)["input_ids"])
        if n + max_new_tokens > context:
            raise ValueError(
                f"prompts[{i}] has {n} tokens; with max_new_tokens={max_new_tokens} that is more "
                f"than the model's context of {context}; shorten the prompt or max_new_tokens"
            )


def deal_generate(
    model,
    tokenizer,
    prompts: Sequence[str],
    heuristics: Heuristic,
    config: DeALConfig | None = None,
) -> list[Generation]:
    """Continue each prompt by the DeAL search (module docstring) ranked by ``heuristics``.

    Args:
        model: a Hugging Face causal LM (GPT-2, Llama, a user's model), put in eval mode.
        tokenizer: its tokenizer (needs an EOS token).
        prompts: the texts ``x`` to continue.
        heuristics: ``h``, one :class:`~toolkit.decoding.heuristics.Heuristic` (combine
            several with ``+`` and ``*``).
        config: :class:`DeALConfig` (default: ``k=4, b=1, l=4, λ=1``, greedy lookahead).

    Returns:
        One :class:`Generation` per prompt.
    """
    model = check_model(model)
    tokenizer = check_tokenizer(tokenizer)
    prompts = check_texts("prompts", prompts)
    heuristic = check_heuristic("heuristics", heuristics)
    config = DeALConfig() if config is None else config
    if not isinstance(config, DeALConfig):
        raise TypeError(f"config must be a DeALConfig, got {describe(config)}")
    check_prompts_fit(model, tokenizer, prompts, config.max_new_tokens)
    model.eval()
    return [
        _search(model, tokenizer, prompt, heuristic, config, config.seed + i)
        for i, prompt in enumerate(prompts)
    ]
