"""Seeded two-line Python functions with tests, and one-line bugs: the Target-DPO code task.

Every :class:`CodeTask` is a function of ``x`` and ``y`` that applies two arithmetic steps,
described in words in a comment (the prompt) and written as two lines (the solution)::

    # multiply x by 3, then add y to t            <- prompt: comment + signature (to the colon)
    def f(x, y):
        t = x * 3                                   <- solution: newline, step 1
        return t + y                                <-           step 2

Grammar. A step is ``(operator, operand)`` with operator in :data:`OPERATORS` (``+ - *``)
and operand a constant 1–9 or the other argument; step 1 reads ``x``, step 2 reads ``t``.
The comment says each step with the operator's verb ("add 4 to x", "subtract y from t",
"multiply x by 3"). Tests are three ``assert f(a, b) == value`` lines at seeded inputs
in -9..9, computed from the correct solution.

A bug (:func:`buggy_variant`) changes exactly one line: a wrong operator or a constant off by
one to three; the buggy function fails at least one test (checked by evaluation). So a pair
(chosen = solution, rejected = buggy solution) differs in one line, as in Target-DPO's
(arXiv 2503.02783) CodeFlow pairs, where the rejected code is an earlier failing version.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from toolkit._checks import check_int, describe

OPERATORS = {"+": "add", "-": "subtract", "*": "multiply"}
N_TESTS = 3
_INPUTS = range(-9, 10)


@dataclass(frozen=True)
class Step:
    """One arithmetic step ``target = source <op> operand``."""

    op: str  # a key of OPERATORS
    operand: str  # "1".."9" or the other argument's name

    def words(self, source: str) -> str:
        if self.op == "+":
            return f"add {self.operand} to {source}"
        if self.op == "-":
            return f"subtract {self.operand} from {source}"
        return f"multiply {source} by {self.operand}"

    def code(self, source: str) -> str:
        return f"{source} {self.op} {self.operand}"


@dataclass(frozen=True)
class CodeTask:
    """A function to write: ``prompt`` (comment + signature), ``solution`` (its two lines),
    ``tests`` (assert lines) and the ground-truth steps."""

    steps: tuple[Step, Step]
    inputs: tuple[tuple[int, int], ...]

    @property
    def prompt(self) -> str:
        first, second = self.steps
        return f"# {first.words('x')}, then {second.words('t')}\ndef f(x, y):"

    @property
    def solution(self) -> str:
        return lines_for(self.steps)

    @property
    def tests(self) -> list[str]:
        return [f"assert f({a}, {b}) == {evaluate(self.steps, a, b)}" for a, b in self.inputs]

    @property
    def text(self) -> str:
        """The whole function, as the language model is trained on it."""
        return self.prompt + self.solution


def lines_for(steps: tuple[Step, Step]) -> str:
    """The two body lines of ``steps``, each after its newline and indent.

    The prompt ends at the signature's colon and the solution starts with the newline: a
    byte-level BPE merges a newline with the indent after it, so a prompt ending in a bare
    newline would end on a token the model never saw there."""
    first, second = steps
    return f"\n    t = {first.code('x')}\n    return {second.code('t')}\n"


def evaluate(steps: tuple[Step, Step], x: int, y: int) -> int:
    """The value the function described by ``steps`` returns at ``(x, y)``."""
    env = {"x": x, "y": y}

    def apply(step: Step, value: int) -> int:
        operand = env.get(step.operand)
        operand = int(step.operand) if operand is None else operand
        if step.op == "+":
            return value + operand
        if step.op == "-":
            return value - operand
        return value * operand

    return apply(steps[1], apply(steps[0], x))


def _step(rng: random.Random, other: str) -> Step:
    op = rng.choice(tuple(OPERATORS))
    operand = other if rng.random() < 0.3 else str(rng.randint(1, 9))
    return Step(op, operand)


def generate_code_tasks(n: int, seed: int) -> list[CodeTask]:
    """``n`` seeded tasks: 900 distinct functions (30 steps squared), each with its own inputs."""
    n = check_int("n", n, minimum=0)
    rng = random.Random(check_int("seed", seed))
    tasks = []
    for _ in range(n):
        steps = (_step(rng, "y"), _step(rng, "y"))
        inputs = tuple((rng.choice(_INPUTS), rng.choice(_INPUTS)) for _ in range(N_TESTS))
        tasks.append(CodeTask(steps, inputs))
    return tasks


def buggy_variant(task: CodeTask, seed: int) -> tuple[str, int]:
    """A solution with one wrong line that fails the task's tests, and that line's index
    (0 for the ``t = ...`` line, 1 for ``return``). Deterministic in ``(task, seed)``."""
    _check_task("task", task)
    seed = check_int("seed", seed)
    rng = random.Random(f"{seed}:{task.text}")
    for _ in range(100):
        line = rng.randrange(2)
        step = task.steps[line]
        if step.operand.isdigit() and rng.random() < 0.5:
            value = int(step.operand) + rng.choice((-3, -2, -1, 1, 2, 3))
            wrong = Step(step.op, str(value)) if 1 <= value <= 9 else None
        else:
            wrong = Step(rng.choice([op for op in OPERATORS if op != step.op]), step.operand)
        if wrong is None:
            continue
        steps = tuple(wrong if i == line else s for i, s in enumerate(task.steps))
        if any(evaluate(steps, a, b) != evaluate(task.steps, a, b) for a, b in task.inputs):
            return lines_for(steps), line
    raise ValueError(f"no failing one-line bug found for {task.prompt!r}")


def _check_task(name: str, task: object) -> None:
    if not isinstance(task, CodeTask):
        raise TypeError(f"{name} must be a CodeTask from generate_code_tasks, got {describe(task)}")


def code_corpus(n: int, seed: int) -> list[str]:
    """``n`` correct functions (prompt + solution) for language-model training."""
    return [task.text for task in generate_code_tasks(n, seed)]


def code_preference_rows(tasks: list[CodeTask], seed: int) -> list[dict]:
    """TRL preference rows: prompt, chosen = the solution, rejected = a one-line bug;
    ``bug_line`` and ``tests`` are kept as labels."""
    if not isinstance(tasks, list | tuple):
        raise TypeError(f"tasks must be a list of CodeTask, got {describe(tasks)}")
    for i, task in enumerate(tasks):
        _check_task(f"tasks[{i}]", task)
    seed = check_int("seed", seed)
    rows = []
    for i, task in enumerate(tasks):
        rejected, line = buggy_variant(task, seed + i)
        rows.append(
            {
                "prompt": task.prompt,
                "chosen": task.solution,
                "rejected": rejected,
                "bug_line": line,
                "tests": task.tests,
            }
        )
    return rows
