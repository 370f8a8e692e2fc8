"""Error-token masks for code preference pairs: Target-DPO / IterPref (Wu et al., arXiv 2503.02783).

IterPref pairs a failing program y⁻ with its fixed version y⁺ and puts the rejected side of
the DPO margin on the *error tokens* only, K⁻ = Σ_{t ∈ diff(y⁻)} lr_t (the loss is
``toolkit.alignment.target_dpo_loss``). diff(y⁻) comes from a line-level ``difflib`` diff,
as in the authors' ``scripts/diff_lib.py`` (JieWu02/Target-DPO, ``get_line_masks``):

* ``difflib.ndiff(y⁺ lines, y⁻ lines)``; lines of y⁻ that y⁺ replaced or deleted ("+ ") are
  error lines; lines y⁺ inserted mark nothing in y⁻ (a fix that only adds a line gives an
  all-zero mask, K⁻ = 0), as in the reference code.
* A line spans its characters *and* its line terminator (``splitlines(keepends=True)``).

Mapping lines to tokens: a token is marked when its character span overlaps a marked line.
That holds for any whitespace handling: a token merging a newline with the next line's
indentation (byte-level BPE's "\\n    ") or a newline with the line before (Metaspace's
"):\\n") belongs to every line it touches, while a token that only holds the newline of an
unchanged line stays 0. Spans come from the tokenizer's offset mapping when it is fast; a slow
tokenizer falls back to re-tokenizing prefixes, as the authors do (exact for tokenizers whose
tokens cover the text without gaps; tokens after dropped whitespace absorb that whitespace).

Masks cover the completion tokens exactly as TRL's ``DPOTrainer`` tokenizes them:
``tokenizer(prompt + code)`` after its common prefix with ``tokenizer(prompt)``. TRL then
appends an EOS token, so the mask is one token short of TRL's ids; ``TokenWeightCollator``
gives that EOS weight 1 (part of K⁻) unless a 0 is appended, which is what the authors' code
does (it strips EOS before diffing).
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


def changed_lines(rejected_code: str, chosen_code: str) -> tuple[set[int], set[int]]:
    """Line indices (0-based, ``str.splitlines``) that differ: (lines of y⁻ replaced or deleted
    by the fix, lines of y⁺ that replace or insert), from ``difflib.ndiff(y⁺, y⁻)``."""
    rejected_changed: set[int] = set()
    chosen_changed: set[int] = set()
    rejected_line = chosen_line = 0
    for entry in difflib.ndiff(chosen_code.splitlines(), rejected_code.splitlines()):
        tag = entry[:2]
        if tag == "  ":
            chosen_line += 1
            rejected_line += 1
        elif tag == "- ":  # only in y⁺
            chosen_changed.add(chosen_line)
            chosen_line += 1
        elif tag == "+ ":  # only in y⁻
            rejected_changed.add(rejected_line)
            rejected_line += 1
        # "? " entries are ndiff's intraline hints, not lines
    return rejected_changed, chosen_changed


def _checked_changed_lines(
    rejected_code: object, chosen_code: object, context_lines: object, prompt: object
) -> tuple[set[int], set[int]]:
    """Validate the arguments of the mask builders, then :func:`changed_lines`."""
    for name, code in (("rejected_code", rejected_code), ("chosen_code", chosen_code)):
        if not isinstance(code, str) or not code.strip():
            raise ValueError(f"{name} must be a non-empty string of code, got {code!r:.60}")
    if isinstance(context_lines, bool) or not isinstance(context_lines, int) or context_lines < 0:
        raise ValueError(f"context_lines must be an int >= 0, got {context_lines!r}")
    if not isinstance(prompt, str):
        raise ValueError(f"prompt must be a string, got {type(prompt).__name__}")
    return changed_lines(rejected_code, chosen_code)


def _line_spans(code: str) -> list[tuple[int, int]]:
    """[start, end) character span of each line, its terminator included."""
    spans, start = [], 0
    for line in code.splitlines(keepends=True):
        spans.append((start, start + len(line)))
        start += len(line)
    return spans


def _common_prefix_length(ids: Sequence[int], other: Sequence[int]) -> int:
    """Number of leading tokens ``ids`` and ``other`` share."""
    shared = min(len(ids), len(other))
    return next((i for i in range(shared) if ids[i] != other[i]), shared)


def completion_token_spans(
    tokenizer: PreTrainedTokenizerBase, completion: str, prompt: str = ""
) -> list[tuple[int, int]]:
    """[start, end) character span in ``completion`` of each completion token, the tokens
    being TRL's: ``tokenizer(prompt + completion)`` after its common prefix with
    ``tokenizer(prompt)``. A token that straddles the prompt boundary starts at 0; special
    tokens get an empty span."""
    fast = getattr(tokenizer, "is_fast", False)
    full = tokenizer(prompt + completion, return_offsets_mapping=True) if fast else None
    ids = full["input_ids"] if fast else tokenizer(prompt + completion)["input_ids"]
    start = _common_prefix_length(tokenizer(prompt)["input_ids"], ids)
    if not fast:
        return _prefix_spans(tokenizer, prompt, completion, ids, start)
    shift = len(prompt)
    return [(max(a - shift, 0), max(b - shift, 0)) for a, b in full["offset_mapping"][start:]]


def _prefix_spans(
    tokenizer: PreTrainedTokenizerBase, prompt: str, completion: str, ids: list[int], start: int
) -> list[tuple[int, int]]:
    """Token spans without offsets, exact to the line rather than to the character.

    Count the tokens of ``prompt + completion[:c]`` that agree with the full tokenization at
    each line's start, last character and end c (about three tokenizer calls per line, like
    the authors' per-line prefix re-tokenization). Token k ends at the first such c by which
    k + 1 tokens are complete and starts where token k − 1 ended (one character before its end
    when both end within one interval, which then lies inside a single line). When tokens
    cover the text without gaps, each span touches the same lines as the true one; special
    tokens get an empty span.
    """
    bounds = sorted(
        {0, len(completion)} | {c for s, e in _line_spans(completion) for c in (s, e - 1, e)}
    )
    complete, most = [], 0
    for c in bounds:
        agree = _common_prefix_length(tokenizer(prompt + completion[:c])["input_ids"], ids) - start
        most = max(most, agree)  # keep the count monotone
        complete.append(most)
    special = set(getattr(tokenizer, "all_special_ids", ()))
    spans, previous = [], 0
    for k, token in enumerate(ids[start:]):
        if token in special:
            spans.append((previous, previous))
            continue
        index = bisect_left(complete, k + 1)
        end = bounds[index] if index < len(bounds) else len(completion)
        spans.append((min(previous, max(end - 1, 0)), end))
        previous = end
    return spans


def _line_mask(
    tokenizer: PreTrainedTokenizerBase, code: str, lines: set[int], context_lines: int, prompt: str
) -> list[int]:
    """1 on the tokens of ``code`` overlapping ``lines`` or their ``context_lines`` neighbours."""
    spans = _line_spans(code)
    marked = bytearray(len(code))
    for line in lines:
        for neighbour in range(
            max(line - context_lines, 0), min(line + context_lines + 1, len(spans))
        ):
            start, end = spans[neighbour]
            marked[start:end] = b"\x01" * (end - start)
    return [int(any(marked[a:b])) for a, b in completion_token_spans(tokenizer, code, prompt)]


def error_token_mask(
    tokenizer: PreTrainedTokenizerBase,
    rejected_code: str,
    chosen_code: str,
    context_lines: int = 0,
    *,
    prompt: str = "",
) -> list[int]:
    """Target-DPO's diff(y⁻): 1 on the tokens of the failing code y⁻ whose lines the fix y⁺
    replaced or deleted, 0 elsewhere (see the module docstring for the rules).

    Identical programs (or programs differing only by inserted lines) give all zeros: valid
    for this function, though a pair with chosen == rejected carries no preference and
    ``validate_text_dataset`` rejects it before training.

    Args:
        tokenizer: the policy's tokenizer.
        rejected_code: y⁻, the completion whose tokens the mask covers.
        chosen_code: y⁺, the fixed version.
        context_lines: also mark this many lines before and after each error line (the
            paper's ablation, which it reports hurts; the authors' code draws 1–2 lines at
            random, this is a fixed, deterministic count).
        prompt: the prompt the trainer puts before the completion, for TRL's tokenization.

    Returns:
        One {0, 1} per completion token of ``prompt + rejected_code`` (no EOS), a list ready
        for the trainer's ``rejected_weights`` column.
    """
    lines, _ = _checked_changed_lines(rejected_code, chosen_code, context_lines, prompt)
    return _line_mask(tokenizer, rejected_code, lines, context_lines, prompt)


def chosen_diff_mask(
    tokenizer: PreTrainedTokenizerBase,
    rejected_code: str,
    chosen_code: str,
    context_lines: int = 0,
    *,
    prompt: str = "",
) -> list[int]:
    """The paper's "mask y⁺ too" ablation: 1 on the tokens of the fixed code y⁺ on lines that
    replace lines of y⁻ or are inserted, over the completion tokens of ``prompt +
    chosen_code``. Same arguments, in the same order, as :func:`error_token_mask`."""
    _, lines = _checked_changed_lines(rejected_code, chosen_code, context_lines, prompt)
    return _line_mask(tokenizer, chosen_code, lines, context_lines, prompt)


def error_token_masks(
    tokenizer: PreTrainedTokenizerBase,
    rejected_codes: Iterable[str],
    chosen_codes: Iterable[str],
    *,
    prompts: Iterable[str] | None = None,
    context_lines: int = 0,
) -> list[list[int]]:
    """:func:`error_token_mask` over a dataset's columns; errors name the example index."""
    rejected_codes, chosen_codes = list(rejected_codes), list(chosen_codes)
    prompts = [""] * len(rejected_codes) if prompts is None else list(prompts)
    if not len(rejected_codes) == len(chosen_codes) == len(prompts):
        raise ValueError(
            f"rejected_codes, chosen_codes and prompts have {len(rejected_codes)}, "
            f"{len(chosen_codes)} and {len(prompts)} entries; they must match"
        )
    masks = []
    for i, (rejected, chosen, prompt) in enumerate(
        zip(rejected_codes, chosen_codes, prompts, strict=True)
    ):
        try:
            masks.append(
                error_token_mask(tokenizer, rejected, chosen, context_lines, prompt=prompt)
            )
        except ValueError as err:
            raise ValueError(f"example {i}: {err}") from err
    return masks
