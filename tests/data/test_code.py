"""The code-task grammar: correct solutions pass, one-line bugs fail, everything is seeded."""

import pytest

from toolkit.alignment.code_eval import passes_tests
from toolkit.data.code import (
    CodeTask,
    Step,
    buggy_variant,
    code_corpus,
    code_preference_rows,
    evaluate,
    generate_code_tasks,
)


def test_prompt_and_solution_say_the_same_steps():
    task = CodeTask((Step("*", "3"), Step("+", "y")), ((1, 2),))
    assert task.prompt == "# multiply x by 3, then add y to t\ndef f(x, y):"
    assert task.solution == "\n    t = x * 3\n    return t + y\n"
    assert task.tests == ["assert f(1, 2) == 5"]
    assert evaluate(task.steps, 4, -1) == 11


def test_generation_is_seeded():
    assert code_corpus(20, 3) == code_corpus(20, 3)
    assert code_corpus(20, 3) != code_corpus(20, 4)
    with pytest.raises(ValueError, match="n must be >= 0"):
        generate_code_tasks(-1, 0)


def test_rows_differ_in_exactly_the_bug_line_and_only_the_chosen_passes():
    tasks = generate_code_tasks(12, 5)
    rows = code_preference_rows(tasks, seed=0)
    assert rows == code_preference_rows(tasks, seed=0)
    for task, row in zip(tasks, rows, strict=True):
        chosen, rejected = row["chosen"].splitlines()[1:], row["rejected"].splitlines()[1:]
        differing = [i for i, (a, b) in enumerate(zip(chosen, rejected, strict=True)) if a != b]
        assert differing == [row["bug_line"]]
        assert passes_tests(task.prompt + row["chosen"], row["tests"])
        assert not passes_tests(task.prompt + row["rejected"], row["tests"])


def test_a_bug_that_no_test_can_catch_is_not_offered():
    task = CodeTask((Step("*", "y"), Step("+", "1")), ((0, 0),))  # f(0, 0) = 1 for x*y or x+y
    for seed in range(5):
        rejected, line = buggy_variant(task, seed)
        assert rejected.splitlines()[1 + line] != task.solution.splitlines()[1 + line]
        assert not passes_tests(task.prompt + rejected, task.tests)
