"""DeAL search: batched vs reference, reductions to greedy, what heuristics see, edge cases."""

import pytest
import torch

from toolkit.decoding import (
    CallableHeuristic,
    DeALConfig,
    KeywordCoverage,
    LengthInRange,
    deal_generate,
    greedy_generate,
)
from toolkit.zoo import load_causal_lm
from toolkit.zoo.tiny import tiny_llama, tiny_tokenizer

PROMPTS = ["The acting in this film", "I watched this movie", "The soundtrack"]


@pytest.fixture(scope="module")
def lm():
    return load_causal_lm("tiny-gpt2-reviews")


@pytest.fixture(scope="module")
def llama():
    tokenizer = tiny_tokenizer()
    return tiny_llama(tokenizer).eval(), tokenizer


def _run(model, tokenizer, heuristic, prompts=PROMPTS, **fields):
    return deal_generate(model, tokenizer, prompts, heuristic, DeALConfig(**fields))


@pytest.mark.parametrize(
    "fields",
    [
        dict(top_k=4, beam_width=2, lookahead=4, lam=5.0),
        dict(top_k=3, beam_width=3, lookahead=0, lam=1.0),
        dict(top_k=2, beam_width=1, lookahead=8, lam=20.0, min_new_tokens=5),
    ],
)
def test_batched_and_reference_give_identical_outputs(lm, fields):
    heuristic = KeywordCoverage(["music", "plot", "boring"]) + 0.1 * LengthInRange(8, 14)
    runs = [
        _run(*lm, heuristic, max_new_tokens=16, impl=impl, **fields)
        for impl in ("batched", "reference")
    ]
    for batched, reference in zip(*runs, strict=True):
        assert batched.token_ids == reference.token_ids
        assert batched.text == reference.text
        assert batched.logp == pytest.approx(reference.logp, abs=1e-4)


def test_batched_and_reference_agree_on_a_llama(llama):
    heuristic = KeywordCoverage(["film"])
    runs = [
        _run(
            *llama,
            heuristic,
            PROMPTS[:2],
            top_k=3,
            beam_width=2,
            lookahead=3,
            impl=impl,
            max_new_tokens=10,
        )
        for impl in ("batched", "reference")
    ]
    assert [g.token_ids for g in runs[0]] == [g.token_ids for g in runs[1]]


@pytest.mark.parametrize("fields", [dict(top_k=1, lam=3.0), dict(top_k=5, lam=0.0)])
def test_k1_or_lambda0_with_one_beam_is_greedy_decoding(lm, fields):
    greedy = greedy_generate(*lm, PROMPTS, max_new_tokens=20)
    deal = _run(
        *lm, KeywordCoverage(["music"]), beam_width=1, lookahead=4, max_new_tokens=20, **fields
    )
    assert [g.text for g in deal] == greedy


def test_an_impossible_keyword_does_not_break_decoding(lm):
    out = _run(
        *lm,
        KeywordCoverage(["xylophonequasar"]),
        top_k=4,
        beam_width=2,
        lam=10.0,
        max_new_tokens=12,
    )
    assert all(g.text.strip() for g in out)
    assert all(len(g.token_ids) <= 12 for g in out)


def test_heuristics_receive_prompt_and_prefix_plus_lookahead(lm):
    model, tokenizer = lm
    calls = []

    def record(prompts, texts):
        calls.append((list(prompts), list(texts)))
        return torch.zeros(len(texts))

    config = DeALConfig(top_k=3, beam_width=2, lookahead=3, lam=1.0, max_new_tokens=6, trace=True)
    (out,) = deal_generate(model, tokenizer, PROMPTS[:1], CallableHeuristic(record), config)
    assert len(calls) == len(out.steps)
    prefixes = []
    for t, ((prompts, texts), step) in enumerate(zip(calls, out.steps, strict=True)):
        assert prompts == [PROMPTS[0]] * len(step)
        assert len(step) == 3 * len({c.parent for c in step})
        prefixes.append([(prefixes[-1][c.parent] if t else "") + c.token for c in step])
        assert texts == [y + c.lookahead for y, c in zip(prefixes[-1], step, strict=True)]
        assert all(len(tokenizer(c.lookahead)["input_ids"]) <= min(3, 6 - t - 1) for c in step)
    assert prefixes[len(out.path) - 1][out.path[-1]] == out.text


def test_trace_marks_the_chosen_path_and_scores(lm):
    (out,) = _run(
        *lm,
        KeywordCoverage(["music"]),
        PROMPTS[:1],
        top_k=3,
        beam_width=2,
        lam=2.0,
        max_new_tokens=8,
        trace=True,
    )
    for t, (step, node) in enumerate(zip(out.steps, out.path, strict=False)):
        assert step[node].chosen and (t == 0 or step[node].parent == out.path[t - 1])
        for c in step:
            assert c.score == pytest.approx(c.logp + 2.0 * c.heuristic)
            assert c.token_logp <= 0


def test_sampled_lookahead_is_seeded(lm):
    fields = dict(top_k=3, lookahead=4, lookahead_mode="sample", lam=5.0, max_new_tokens=10)
    a = _run(*lm, KeywordCoverage(["music"]), seed=3, **fields)
    b = _run(*lm, KeywordCoverage(["music"]), seed=3, **fields)
    assert [g.token_ids for g in a] == [g.token_ids for g in b]


def test_min_new_tokens_forbids_an_early_end(lm):
    out = _run(*lm, LengthInRange(0, 1), top_k=4, lam=50.0, min_new_tokens=6, max_new_tokens=10)
    assert all(len(g.token_ids) >= 6 for g in out)
