"""Model loading: built-ins train deterministically, paths load, bad names say what to do."""

import dataclasses
import json

import pytest
import torch

from toolkit import zoo
from toolkit.zoo import cache, tiny_gpt2


@pytest.fixture
def small_spec(tmp_path, monkeypatch):
    """The real tiny-GPT-2 recipe shrunk to seconds, registered under a test name."""
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    recipe = tiny_gpt2.default_recipe()
    recipe.update(
        n_layer=1,
        n_head=2,
        n_embd=32,
        n_positions=256,
        vocab_size=300,
        n_train_texts=300,
        n_heldout_texts=20,
    )
    recipe["train"] = {**recipe["train"], "steps": 4, "batch_size": 4, "block_size": 64}
    spec = dataclasses.replace(tiny_gpt2.SPEC, name="test-tiny-gpt2", recipe=recipe)
    zoo.register(spec)
    yield spec
    zoo.unregister(spec.name)


def state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_builtin_trains_caches_and_loads(small_spec):
    model, tokenizer = zoo.load_causal_lm(small_spec.name)
    assert model.config.n_embd == 32 and not model.training
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    [entry] = [e for e in zoo.list_entries() if e.name == small_spec.name]
    assert entry.status == "ready"
    metrics = entry.manifest["metrics"]
    assert metrics["parameters"] == sum(p.numel() for p in model.parameters())
    assert len(zoo.training_log(small_spec.name)["loss"]) == 4
    again, _ = zoo.load_causal_lm(small_spec.name)  # from the cache: same weights
    assert all(
        torch.equal(a, b) for a, b in zip(state(model).values(), state(again).values(), strict=True)
    )


def test_same_recipe_same_weights(small_spec):
    first = state(zoo.load_causal_lm(small_spec.name)[0])
    zoo.build_builtin(small_spec.name, rebuild=True)
    second = state(zoo.load_causal_lm(small_spec.name)[0])
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_corrupt_weights_are_rebuilt_not_loaded(small_spec):
    path = zoo.build_builtin(small_spec.name)
    weights = path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # a truncated download / disk error
    model, _ = zoo.load_causal_lm(small_spec.name)
    assert cache.read_manifest(path) is not None
    assert model.config.n_embd == 32


def test_local_directory_loads(small_spec, tmp_path):
    model, tokenizer = zoo.load_causal_lm(small_spec.name)
    model.save_pretrained(tmp_path / "mine")
    tokenizer.save_pretrained(tmp_path / "mine")
    mine, mine_tok = zoo.load_causal_lm(tmp_path / "mine")
    assert torch.equal(mine.lm_head.weight, model.lm_head.weight)
    assert mine_tok("a film").input_ids == tokenizer("a film").input_ids


def test_unknown_builtin_name_lists_available():
    with pytest.raises(zoo.ZooError, match="tiny-gpt2-reviews"):
        zoo.load_causal_lm("tiny-gpt-reviews")


def test_directory_without_a_model_says_what_to_do(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(zoo.ZooError, match="pass its path"):
        zoo.load_causal_lm(tmp_path / "empty")


def test_unreachable_hub_id_says_how_to_pass_a_local_path(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # read at import
    with pytest.raises(zoo.ZooError, match="pass its path"):
        zoo.load_causal_lm("no-such-org/no-such-model")


def test_register_rejects_duplicates_and_hub_like_names(small_spec):
    with pytest.raises(ValueError, match="already registered"):
        zoo.register(small_spec)
    with pytest.raises(ValueError, match="cannot contain '/'"):
        zoo.register(dataclasses.replace(small_spec, name="org/model"))


def test_sentence_encoder_loads_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    encoder = zoo.load_sentence_encoder()
    vectors = encoder.encode(["A wonderful film.", "A wonderful movie.", "The tax form is due."])
    assert vectors.shape == (3, 384)
    assert torch.allclose(vectors.norm(dim=-1), torch.ones(3), atol=1e-5)
    similar, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > unrelated + 0.2
    with pytest.raises(TypeError, match="non-empty list"):
        encoder.encode("a bare string")


def test_cli_zoo_list_json(small_spec, capsys):
    from toolkit.cli import main

    zoo.build_builtin(small_spec.name)
    assert main(["zoo", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows[small_spec.name]["cached"] is True
    assert rows["all-MiniLM-L6-v2"]["kind"] == "sentence-encoder"
    assert main(["zoo", "clean", small_spec.name]) == 0
    assert not [e for e in zoo.list_entries() if e.name == small_spec.name]


def test_reward_model_loads_quietly_and_names_missing_backbone_weights(small_spec, tmp_path):
    import warnings

    from safetensors.torch import load_file, save_file

    model, tokenizer = zoo.load_causal_lm(small_spec.name)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the fresh scalar head alone is expected: no warning
        zoo.load_reward_model(tmp_path)
    weights = load_file(tmp_path / "model.safetensors")
    dropped = next(k for k in weights if k.endswith("ln_f.weight"))
    save_file({k: v for k, v in weights.items() if k != dropped}, tmp_path / "model.safetensors")
    with pytest.warns(UserWarning, match="freshly initialized: .*ln_f.weight"):
        zoo.load_reward_model(tmp_path)
