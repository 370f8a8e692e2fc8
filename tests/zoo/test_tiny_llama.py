import copy
import dataclasses

import pytest
from transformers import LlamaForCausalLM

from toolkit import zoo
from toolkit.zoo import cache, tiny_llama
from toolkit.zoo.lm_training import LMTrainConfig


@pytest.fixture
def small_spec(tmp_path, monkeypatch):
    """The real recipe shrunk to seconds, registered under a test name."""
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    recipe = copy.deepcopy(tiny_llama.default_recipe())
    recipe.update(hidden_size=32, intermediate_size=64, head_dim=8, vocab_size=400)
    recipe.update(tokenizer_texts=20, n_heldout_texts=2, heldout_words=260, needle_examples=2)
    recipe["needle_context_tokens"] = 100
    for phase, block in zip(recipe["curriculum"], (32, 64, 96), strict=True):
        phase.update(context_words=260, n_texts=8)
        phase["train"] = dataclasses.asdict(
            LMTrainConfig(block_size=block, batch_size=2, steps=2, warmup_steps=1)
        )
    spec = dataclasses.replace(tiny_llama.SPEC, name="test-tiny-llama", recipe=recipe)
    zoo.register(spec)
    yield spec
    zoo.unregister(spec.name)


def test_builds_a_gqa_llama_with_its_metrics(small_spec):
    model, tokenizer = zoo.load_causal_lm(small_spec.name)
    assert isinstance(model, LlamaForCausalLM) and not model.training
    config = model.config
    assert config.num_key_value_heads < config.num_attention_heads
    assert config.max_position_embeddings >= 8192
    assert tokenizer("a")["input_ids"][0] == tokenizer.bos_token_id
    manifest = cache.read_manifest(zoo.build_builtin(small_spec.name))
    metrics = manifest["metrics"]
    assert 0.0 <= metrics["needle_accuracy"] <= 1.0
    assert metrics["heldout_perplexity"] > 1 and metrics["parameters"] > 0
    assert len(zoo.training_log(small_spec.name)["loss"]) == 6  # three phases of two steps


def test_real_recipes_train_on_2048_token_rows_and_are_registered():
    for name in zoo.RETRIEVAL_LLAMAS:
        recipe = tiny_llama.default_recipe(name)
        assert recipe["curriculum"][-1]["train"]["block_size"] >= 2048
        assert recipe["needle_context_tokens"] >= 2048
        assert recipe["num_key_value_heads"] < recipe["num_attention_heads"]
        assert name in zoo.builtin_names()
    assert zoo.RETRIEVAL_LLAMAS[0] == "tiny-llama-retrieval"


def test_the_family_grows_in_depth_and_width_and_shares_corpus_and_curriculum():
    recipes = [tiny_llama.default_recipe(name) for name in zoo.RETRIEVAL_LLAMAS]
    layers = [r["num_hidden_layers"] for r in recipes]
    widths = [r["hidden_size"] for r in recipes]
    assert layers == sorted(layers) and len(set(layers)) == len(layers)
    assert widths == sorted(widths)
    shared = ("corpus_style", "corpus_fingerprint", "vocab_size", "needle_context_tokens")
    assert len({tuple(r[k] for k in shared) for r in recipes}) == 1
    with pytest.raises(ValueError, match="sizes"):
        tiny_llama.default_recipe("tiny-llama-retrieval-9l")
