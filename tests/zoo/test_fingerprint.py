"""An entry built by other training code under the same recipe is never reused."""

import pytest

from toolkit.zoo import cache, fingerprint, get_spec

SOURCE = '''
"""A module."""

def train(x):
    """Train."""
    # one step
    return x + 1
'''


def write_files(directory):
    (directory / "weights.bin").write_bytes(b"\x00\x01" * 10)
    return {}


def test_comments_docstrings_and_layout_do_not_change_the_digest():
    reworded = SOURCE.replace('"""Train."""', '"""Train it, better documented."""').replace(
        "# one step", "# a single step"
    )
    relaid = SOURCE.replace("return x + 1", "return (x +\n            1)")
    assert fingerprint.source_digest(reworded) == fingerprint.source_digest(SOURCE)
    assert fingerprint.source_digest(relaid) == fingerprint.source_digest(SOURCE)


def test_a_change_to_what_the_code_does_changes_the_digest():
    assert fingerprint.source_digest(SOURCE.replace("x + 1", "x + 2")) != (
        fingerprint.source_digest(SOURCE)
    )


def test_the_code_of_a_zoo_model_reaches_its_training_loop_and_corpus():
    spec = get_spec("tiny-llama-retrieval")
    assert spec.code == ("toolkit.zoo.tiny_llama",)
    modules = fingerprint.code_modules(spec.code)
    for needed in ("toolkit.zoo.tiny_llama", "toolkit.zoo.lm_training", "toolkit.data.retrieval"):
        assert needed in modules
    assert all(m.startswith("toolkit.") for m in modules)
    assert fingerprint.code_fingerprint(spec.code) == fingerprint.code_fingerprint(spec.code)
    assert len(fingerprint.code_fingerprint(spec.code)) == 12


def test_no_code_keeps_the_recipe_alone_as_the_key(tmp_path):
    assert fingerprint.code_fingerprint([]) == ""
    plain = cache.entry_path("toy", {"a": 1}, tmp_path)
    assert cache.entry_path("toy", {"a": 1}, tmp_path, "") == plain
    assert cache.entry_path("toy", {"a": 1}, tmp_path, "abc") != plain
    assert cache.entry_path("toy", {"a": 1}, tmp_path, "abc") != (
        cache.entry_path("toy", {"a": 1}, tmp_path, "abd")
    )


def test_changed_training_code_builds_a_new_entry(tmp_path, monkeypatch):
    calls = []

    def build(directory):
        calls.append(directory)
        return write_files(directory)

    code = ["toolkit.zoo.lm_training"]
    first = cache.ensure_entry("toy", {"a": 1}, build, root=tmp_path, code=code)
    assert cache.ensure_entry("toy", {"a": 1}, build, root=tmp_path, code=code) == first
    assert len(calls) == 1
    assert cache.read_manifest(first)["code_fingerprint"] == fingerprint.code_fingerprint(code)

    monkeypatch.setattr(cache, "code_fingerprint", lambda roots: "edited-code")
    second = cache.ensure_entry("toy", {"a": 1}, build, root=tmp_path, code=code)
    assert second != first and len(calls) == 2
    assert cache.read_manifest(first) is not None  # the old entry is left, not overwritten
    assert cache.read_manifest(second)["code_fingerprint"] == "edited-code"


@pytest.mark.parametrize(
    ("code", "error", "match"),
    [
        ("toolkit.zoo.lm_training", TypeError, "list of module names"),
        (["numpy"], ValueError, "toolkit modules"),
        (["toolkit.no_such_module"], ValueError, "no Python source"),
        ([""], ValueError, "empty"),
    ],
)
def test_bad_code_is_refused_before_any_build(tmp_path, code, error, match):
    calls = []
    with pytest.raises(error, match=match):
        cache.ensure_entry("toy", {"a": 1}, lambda d: calls.append(d), root=tmp_path, code=code)
    assert not calls and not any(tmp_path.iterdir())
