"""Executing generated code: passing, failing, crashing and hanging programs."""

from toolkit.alignment.code_eval import generate_solutions, pass_rate, passes_tests
from toolkit.data.code import generate_code_tasks
from toolkit.zoo.tiny import tiny_gpt2, tiny_tokenizer


def test_exit_status_decides():
    assert passes_tests("def f(x):\n    return x + 1\n", ["assert f(1) == 2"])
    assert not passes_tests("def f(x):\n    return x\n", ["assert f(1) == 2"])
    assert not passes_tests("def f(x)\n", ["assert f(1) == 2"])  # syntax error
    assert not passes_tests("import time\ntime.sleep(10)\n", [], timeout=0.5)


def test_programs_do_not_see_the_callers_environment(monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "x")
    assert passes_tests("import os\n", ["assert 'SECRET_TOKEN' not in os.environ"])


def test_pass_rate_of_a_random_model_is_a_fraction():
    tokenizer = tiny_tokenizer()
    model = tiny_gpt2(tokenizer).eval()
    tasks = generate_code_tasks(3, 0)
    solutions = generate_solutions(model, tokenizer, [t.prompt for t in tasks], max_new_tokens=4)
    assert len(solutions) == 3 and tokenizer.padding_side == "right"
    assert pass_rate(model, tokenizer, tasks, max_new_tokens=4) == 0.0
