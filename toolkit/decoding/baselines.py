"""The decoders a user would pick instead of DeAL: greedy, beam search, sampling, best-of-N.

Each continues every prompt on its own with ``model.generate`` (no padding, so outputs do not
depend on which prompts share a batch) and returns the continuations, without the prompt.
Best-of-N samples ``n`` continuations and keeps the one the heuristic scores highest: the
same heuristic as DeAL, applied once to whole outputs instead of guiding each step.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from toolkit._checks import check_int, check_number
from toolkit.decoding.heuristics import Heuristic, check_heuristic
from toolkit.decoding.search import check_prompts_fit
from toolkit.lm_metrics import check_model, check_texts, check_tokenizer


def _checked(model, tokenizer, prompts, max_new_tokens):
    model, tokenizer = check_model(model), check_tokenizer(tokenizer)
    prompts = check_texts("prompts", prompts)
    check_int("max_new_tokens", max_new_tokens, minimum=1)
    check_prompts_fit(model, tokenizer, prompts, max_new_tokens)
    model.eval()
    return model, tokenizer, prompts


@torch.no_grad()
def _generate(model, tokenizer, prompt: str, n: int, max_new_tokens: int, **options) -> list[str]:
    inputs = tokenizer([prompt] * n, return_tensors="pt").to(model.device)
    out = model.generate(
        **inputs,
        max_new_tokens=max_new_tokens,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **options,
    )
    return tokenizer.batch_decode(out[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)


def greedy_generate(
    model, tokenizer, prompts: Sequence[str], max_new_tokens: int = 32
) -> list[str]:
    """The most likely next token at every step."""
    model, tokenizer, prompts = _checked(model, tokenizer, prompts, max_new_tokens)
    return [_generate(model, tokenizer, p, 1, max_new_tokens, do_sample=False)[0] for p in prompts]


def beam_generate(
    model, tokenizer, prompts: Sequence[str], num_beams: int = 4, max_new_tokens: int = 32
) -> list[str]:
    """Beam search for the most likely continuation (``num_beams`` beams)."""
    num_beams = check_int("num_beams", num_beams, minimum=1)
    model, tokenizer, prompts = _checked(model, tokenizer, prompts, max_new_tokens)
    return [
        _generate(model, tokenizer, p, 1, max_new_tokens, do_sample=False, num_beams=num_beams)[0]
        for p in prompts
    ]


def sample_generate(
    model,
    tokenizer,
    prompts: Sequence[str],
    n: int = 1,
    max_new_tokens: int = 32,
    temperature: float = 1.0,
    seed: int = 0,
) -> list[list[str]]:
    """``n`` continuations per prompt sampled at ``temperature`` (full vocabulary), seeded."""
    n = check_int("n", n, minimum=1)
    temperature = check_number("temperature", temperature, minimum=0.0, strict_min=True)
    seed = check_int("seed", seed)
    model, tokenizer, prompts = _checked(model, tokenizer, prompts, max_new_tokens)
    torch.manual_seed(seed)
    return [
        _generate(
            model, tokenizer, p, n, max_new_tokens, do_sample=True, top_k=0, temperature=temperature
        )
        for p in prompts
    ]


def best_of_n(
    model,
    tokenizer,
    prompts: Sequence[str],
    heuristics: Heuristic,
    n: int = 8,
    max_new_tokens: int = 32,
    temperature: float = 1.0,
    seed: int = 0,
) -> list[str]:
    """Of ``n`` sampled continuations per prompt, the one with the highest ``h(x, y)``."""
    heuristic = check_heuristic("heuristics", heuristics)
    samples = sample_generate(model, tokenizer, prompts, n, max_new_tokens, temperature, seed)
    return [
        group[int(heuristic([prompt] * len(group), group).argmax())]
        for prompt, group in zip(prompts, samples, strict=True)
    ]
