"""Pass rate of generated code: greedy completions executed against their tests.

Each program runs in its own ``python -I -S`` subprocess (isolated mode, no site packages,
empty environment, a scratch working directory) under a wall-clock timeout; it passes when
the subprocess exits 0 after its ``assert`` lines. The programs are the model's completions
of the toolkit's arithmetic tasks (:mod:`toolkit.data.code`), so a sandbox beyond process
isolation is not needed; do not point this at untrusted code.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Sequence

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from toolkit._checks import check_int, check_number, check_str
from toolkit.alignment.checks import check_texts
from toolkit.data.code import CodeTask


def passes_tests(program: str, tests: Sequence[str], timeout: float = 5.0) -> bool:
    """Whether ``program`` followed by ``tests`` runs to completion (exit status 0)."""
    check_str("program", program, allow_empty=True)
    tests = check_texts("tests", tests, allow_empty=True)
    check_number("timeout", timeout, minimum=0.0, strict_min=True)
    source = program.rstrip("\n") + "\n\n" + "\n".join(tests) + "\n"
    with tempfile.TemporaryDirectory() as scratch:
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-S", "-c", source],
                cwd=scratch,
                env={},
                capture_output=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return False
    return done.returncode == 0


@torch.no_grad()
def generate_solutions(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    max_new_tokens: int = 32,
    batch_size: int = 32,
) -> list[str]:
    """Greedy completions of ``prompts`` (left-padded batches), up to EOS."""
    prompts = check_texts("prompts", prompts)
    check_int("max_new_tokens", max_new_tokens, minimum=1)
    check_int("batch_size", batch_size, minimum=1)
    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    try:
        out = []
        for start in range(0, len(prompts), batch_size):
            chunk = list(prompts[start : start + batch_size])
            inputs = tokenizer(chunk, return_tensors="pt", padding=True).to(model.device)
            generated = model.generate(
                **inputs,
                do_sample=False,
                max_new_tokens=max_new_tokens,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
            new = generated[:, inputs["input_ids"].shape[1] :]
            out.extend(tokenizer.batch_decode(new, skip_special_tokens=True))
        return out
    finally:
        tokenizer.padding_side = side


def pass_rate(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    tasks: Sequence[CodeTask],
    max_new_tokens: int = 32,
) -> float:
    """Fraction of ``tasks`` whose greedy solution passes all of the task's tests."""
    if not tasks:
        raise ValueError("pass_rate needs at least one task")
    solutions = generate_solutions(model, tokenizer, [t.prompt for t in tasks], max_new_tokens)
    passed = [passes_tests(t.prompt + s, t.tests) for t, s in zip(tasks, solutions, strict=True)]
    return sum(passed) / len(passed)
