"""Bad input to the model zoo: a clear ValueError/TypeError naming the argument, never a
silent wrong result, a hang, or a cache entry (with the user's files) lost."""

import dataclasses
import json
import os

import huggingface_hub.constants
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import zoo
from toolkit.zoo import cache, tiny_gpt2, tiny_llama
from toolkit.zoo.encoder import SentenceEncoder
from toolkit.zoo.lm_training import (
    LMTrainConfig,
    document_rows,
    pack_texts,
    train_causal_lm,
    weighted_lm_loss,
)
from toolkit.zoo.tiny import tiny_gpt2 as make_gpt2
from toolkit.zoo.tiny import tiny_llama as make_llama
from toolkit.zoo.tiny import tiny_tokenizer
from toolkit.zoo.tokenizer import train_bpe_tokenizer

FEW = settings(max_examples=25, deadline=None)
RECIPE = {"size": 3}


def write_weights(directory):
    (directory / "weights.bin").write_bytes(b"w" * 64)
    return {"score": 1.0}


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def saved_model(tokenizer, tmp_path_factory):
    """A tiny GPT-2 saved with save_pretrained: a local model directory."""
    directory = tmp_path_factory.mktemp("model")
    make_gpt2(tokenizer, n_positions=32).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


# --- names and paths: load_causal_lm / load_sentence_encoder / load_reward_model ---


@pytest.mark.parametrize("name", [None, 3, 2.5, b"tiny-gpt2-reviews", ["tiny-gpt2-reviews"]])
@pytest.mark.parametrize(
    "load", [zoo.load_causal_lm, zoo.load_sentence_encoder, zoo.load_reward_model]
)
def test_name_of_wrong_type(load, name):
    with pytest.raises(TypeError, match="name_or_path"):
        load(name)


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_empty_name_is_not_the_working_directory(name):
    with pytest.raises(ValueError, match="name_or_path"):
        zoo.load_causal_lm(name)


@FEW
@given(
    st.text(st.characters(whitelist_categories=("Ll", "Nd")), min_size=1, max_size=12),
    st.sampled_from(["\x00", "\u200b", "\u202e", "\n", "\x7f", " "]),
    st.booleans(),
)
def test_names_with_invisible_or_control_characters(name, odd, at_start):
    with pytest.raises(ValueError, match="name_or_path"):
        zoo.load_causal_lm(odd + name if at_start else name + odd)


@pytest.mark.parametrize("path", ["./my_model", "/tmp/does/not/exist", "~/no-such-model-dir"])
def test_missing_local_path_says_no_such_directory(path):
    with pytest.raises(zoo.ZooError, match="no such directory"):
        zoo.load_causal_lm(path)


def test_missing_directory_under_an_existing_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    with pytest.raises(ValueError, match="no such directory: 'models/mine'"):
        zoo.load_causal_lm("models/mine")


def test_a_file_is_not_a_model_directory(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(ValueError, match="is a file, not a directory"):
        zoo.load_causal_lm(tmp_path / "weights.bin")


def test_unknown_builtin_lists_the_builtins():
    with pytest.raises(ValueError, match="tiny-gpt2-reviews"):
        zoo.load_causal_lm("tiny-gpt2-review")


@pytest.mark.parametrize("hub_id", ["org/na me", "org/-bad-", "org/a--b", "org/" + "n" * 100])
def test_malformed_hub_id(hub_id):
    with pytest.raises(ValueError, match="not a valid Hugging Face Hub id"):
        zoo.load_causal_lm(hub_id)


def test_hub_id_offline_says_so(monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(zoo.ZooError, match="HF_HUB_OFFLINE is set.*not in the local"):
        zoo.load_causal_lm("no-such-org/no-such-model")


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / "config.json").unlink(),
        lambda d: (d / "config.json").write_text("{not json"),
        lambda d: (d / "model.safetensors").write_bytes(b"truncated"),
        lambda d: (d / "config.json").write_text(json.dumps({"model_type": "no-such-arch"})),
    ],
    ids=["no-config", "config-not-json", "truncated-weights", "unknown-architecture"],
)
def test_damaged_model_directory(saved_model, tmp_path, damage):
    import shutil

    copy = shutil.copytree(saved_model, tmp_path / "copy")
    damage(copy)
    with pytest.raises(zoo.ZooError, match="pass its path"):
        zoo.load_causal_lm(copy)


@pytest.mark.parametrize(
    ("device", "error"),
    [("gpu", ValueError), ("cuda:x", ValueError), (1.5, TypeError), (True, TypeError)],
)
def test_bad_device(device, error):
    with pytest.raises(error, match="device"):
        zoo.load_causal_lm("tiny-gpt2-reviews", device=device)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_device_without_a_gpu():
    with pytest.raises(ValueError, match="no CUDA GPU"):
        zoo.load_sentence_encoder(device="cuda")


@pytest.mark.parametrize("dtype", ["float16", 16, np.float16])
def test_bad_dtype(dtype):
    with pytest.raises(TypeError, match="dtype"):
        zoo.load_causal_lm("tiny-gpt2-reviews", dtype=dtype)


# --- built-ins and the registry ---


@pytest.mark.parametrize(
    ("name", "error"), [(None, TypeError), ("", ValueError), ("no-such-model", ValueError)]
)
@pytest.mark.parametrize("entry", [zoo.build_builtin, zoo.training_log])
def test_builtin_names(entry, name, error):
    with pytest.raises(error, match="name|no-such-model"):
        entry(name)


def test_build_builtin_rebuild_must_be_a_bool():
    with pytest.raises(TypeError, match="rebuild"):
        zoo.build_builtin("tiny-gpt2-reviews", rebuild="yes")


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"name": "org/model"}, ValueError, "cannot contain '/'"),
        ({"name": "../escape"}, ValueError, "name"),
        ({"name": "caf\u00e9"}, ValueError, "name"),
        ({"name": None}, TypeError, "name"),
        ({"kind": ""}, ValueError, "kind"),
        ({"recipe": ["not", "a", "dict"]}, TypeError, "recipe"),
        ({"recipe": {"lr": float("nan")}}, ValueError, "recipe"),
        ({"build": "train.py"}, TypeError, "build"),
    ],
)
def test_zoo_spec_fields(change, error, match):
    with pytest.raises(error, match=match):
        dataclasses.replace(tiny_gpt2.SPEC, **change)


@pytest.mark.parametrize(
    ("spec", "edit", "error", "match"),
    [
        (tiny_gpt2.SPEC, lambda r: r.pop("n_layer"), ValueError, "missing keys \\['n_layer'\\]"),
        (tiny_gpt2.SPEC, lambda r: r.update(n_layers=2), ValueError, "unknown keys"),
        (tiny_gpt2.SPEC, lambda r: r.update(corpus="wiki"), ValueError, "corpus"),
        (tiny_gpt2.SPEC, lambda r: r["train"].update(lr=-1.0), ValueError, "lr"),
        (tiny_llama.SPEC, lambda r: r.update(curriculum=[]), ValueError, "curriculum"),
        (tiny_llama.SPEC, lambda r: r["curriculum"][0].pop("n_facts"), ValueError, "n_facts"),
        (
            tiny_llama.SPEC,
            lambda r: r["curriculum"][1]["train"].update(steps=0),
            ValueError,
            "steps",
        ),
    ],
)
def test_builtin_recipes_are_checked_before_training(spec, edit, error, match):
    recipe = json.loads(json.dumps(spec.recipe))
    edit(recipe)
    with pytest.raises(error, match=match):
        dataclasses.replace(spec, recipe=recipe)


def test_corpus_fingerprint_of_an_unknown_corpus():
    with pytest.raises(ValueError, match="corpus must be one of"):
        tiny_gpt2.corpus_fingerprint(0, corpus="toolkit.data.wiki")


def test_register_and_unregister():
    with pytest.raises(TypeError, match="spec"):
        zoo.register({"name": "x"})
    with pytest.raises(ValueError, match="no-such-model"):
        zoo.unregister("no-such-model")


# --- the cache: ensure_entry / remove_entries / lock ---


@FEW
@given(
    st.one_of(
        st.sampled_from(["../x", "a/b", ".hidden", "-dash", "x" * 101, "tiny\u200bgpt2", "é"]),
        st.text(min_size=1, max_size=8).map(lambda s: "../" + s),
    )
)
def test_entry_names_that_are_not_plain_directory_names(tmp_path_factory, name):
    root = tmp_path_factory.getbasetemp() / "names"
    with pytest.raises(ValueError, match="name"):
        cache.ensure_entry(name, RECIPE, write_weights, root=root)
    assert not root.exists()


@pytest.mark.parametrize(
    ("recipe", "error"),
    [
        (None, TypeError),
        ([1], TypeError),
        ({"x": float("inf")}, ValueError),
        ({"x": {1}}, TypeError),
    ],
    ids=["None", "list", "inf", "set"],
)
def test_recipe_must_be_a_dict_of_json_values(tmp_path, recipe, error):
    with pytest.raises(error, match="recipe"):
        cache.ensure_entry("toy", recipe, write_weights, root=tmp_path)


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        ("not callable", TypeError, "build must be a function"),
        (lambda d: None, ValueError, "wrote no files"),
        (lambda d: [write_weights(d)], TypeError, "dict of metrics"),
        (lambda d: {"when": write_weights(d) and object()}, TypeError, "JSON"),
    ],
    ids=["not-callable", "no-files", "metrics-not-dict", "metrics-not-json"],
)
def test_bad_build_leaves_the_previous_entry_untouched(tmp_path, build, error, match):
    entry = cache.ensure_entry("toy", RECIPE, write_weights, root=tmp_path)
    with pytest.raises(error, match=match):
        cache.ensure_entry("toy", RECIPE, build, root=tmp_path, rebuild=True)
    assert cache.read_manifest(entry) is not None
    assert not any((tmp_path / ".tmp").iterdir())


def test_user_files_survive_a_rebuild_of_a_corrupt_entry(tmp_path):
    entry = cache.ensure_entry("toy", RECIPE, write_weights, root=tmp_path)
    (entry / "qfilters").mkdir()
    (entry / "qfilters" / "qfilters.safetensors").write_bytes(b"mine")
    assert cache.read_manifest(entry) is not None  # the user's file does not make it partial
    (entry / cache.MANIFEST).write_text("{corrupt")
    assert cache.ensure_entry("toy", RECIPE, write_weights, root=tmp_path) == entry
    assert cache.read_manifest(entry) is not None
    assert (entry / "qfilters" / "qfilters.safetensors").read_bytes() == b"mine"


def test_manifest_pointing_outside_the_entry_is_not_trusted(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    entry = cache.ensure_entry("toy", RECIPE, write_weights, root=tmp_path / "zoo")
    manifest = json.loads((entry / cache.MANIFEST).read_text())
    manifest["files"]["../../outside.txt"] = "0" * 64
    (entry / cache.MANIFEST).write_text(json.dumps(manifest))
    assert cache.read_manifest(entry) is None
    cache.ensure_entry("toy", RECIPE, write_weights, root=tmp_path / "zoo")
    assert outside.read_text() == "keep" and cache.read_manifest(entry) is not None


def test_an_entry_path_that_is_a_file_is_not_deleted(tmp_path):
    path = cache.entry_path("toy", RECIPE, tmp_path)
    tmp_path.mkdir(exist_ok=True)
    path.write_text("someone's file")
    with pytest.raises(FileExistsError, match="is a file"):
        cache.ensure_entry("toy", RECIPE, write_weights, root=tmp_path)
    assert path.read_text() == "someone's file"


def test_cache_setting_that_is_a_file(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "file"))
    with pytest.raises(ValueError, match="TOOLKIT_CACHE=.* is a file"):
        zoo.list_models()


@pytest.mark.parametrize("entry", [cache.list_entries, cache.remove_entries])
def test_cache_root_of_wrong_type(entry):
    with pytest.raises(TypeError, match="root"):
        entry(root=3)


def test_blank_cache_setting_means_the_default(monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, "   ")
    assert cache.cache_root().parent.name == "research-toolkit"


@pytest.mark.parametrize(
    ("name", "error", "match"),
    [
        ("no-such-model", ValueError, "no-such-model.*known names: .*tiny-gpt2-reviews.*toy"),
        ("../toy", ValueError, "name"),
        ("", ValueError, "name"),
        (3, TypeError, "name"),
    ],
)
def test_clean_of_an_unknown_name(tmp_path, name, error, match):
    cache.ensure_entry("toy", RECIPE, write_weights, root=tmp_path)
    with pytest.raises(error, match=match):
        cache.remove_entries(name, root=tmp_path)
    assert [e.status for e in cache.list_entries(tmp_path)] == ["ready"]


def test_clean_of_a_builtin_that_is_not_cached_removes_nothing(tmp_path):
    assert cache.remove_entries("tiny-gpt2-reviews", root=tmp_path) == []


def test_clean_keeps_the_users_files(tmp_path):
    entry = cache.ensure_entry("toy", RECIPE, write_weights, root=tmp_path)
    (entry / "notes.txt").write_text("mine")
    with pytest.warns(UserWarning, match="notes.txt"):
        cache.remove_entries("toy", root=tmp_path)
    assert (entry / "notes.txt").read_text() == "mine"
    assert not (entry / "weights.bin").exists() and not (entry / cache.MANIFEST).exists()
    rebuilt = cache.ensure_entry("toy", RECIPE, write_weights, root=tmp_path)
    assert cache.read_manifest(rebuilt) is not None and (entry / "notes.txt").exists()


def test_waiting_on_a_stuck_build_says_who_holds_it_and_times_out(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(cache.LOCK_TIMEOUT_ENV, "1.5")
    monkeypatch.setattr(cache, "LOCK_NOTICE_SECONDS", 0.5)
    key = cache.entry_path("toy", RECIPE, tmp_path).name
    with cache.entry_lock(tmp_path, key):  # a build that never finishes
        with pytest.raises(cache.ZooLockTimeout, match=f"pid {os.getpid()}.*delete .*lock"):
            cache.ensure_entry("toy", RECIPE, write_weights, root=tmp_path)
    notices = capsys.readouterr().err
    assert notices.count(f"being built by pid {os.getpid()} on host") >= 2
    assert cache.ensure_entry("toy", RECIPE, write_weights, root=tmp_path).exists()
    assert not (tmp_path / ".locks" / f"{key}.owner.json").exists()


@pytest.mark.parametrize("value", ["soon", "0", "-5", "nan"])
def test_lock_timeout_setting(tmp_path, monkeypatch, value):
    monkeypatch.setenv(cache.LOCK_TIMEOUT_ENV, value)
    with pytest.raises(ValueError, match=cache.LOCK_TIMEOUT_ENV):
        cache.ensure_entry("toy", RECIPE, write_weights, root=tmp_path)
    assert not any(cache.list_entries(tmp_path))


# --- training: LMTrainConfig, pack_texts, document_rows, train_causal_lm ---


@FEW
@given(
    st.sampled_from(["block_size", "batch_size", "steps", "warmup_steps", "seed"]),
    st.integers(max_value=-1),
)
def test_train_config_negative_counts(field, value):
    with pytest.raises(ValueError, match=field):
        LMTrainConfig(**{field: value})


@FEW
@given(
    st.sampled_from(["lr", "weight_decay"]),
    st.one_of(st.just(float("nan")), st.just(float("inf")), st.floats(max_value=-1e-9)),
)
def test_train_config_rates(field, value):
    with pytest.raises(ValueError, match=field):
        LMTrainConfig(**{field: value})


@pytest.mark.parametrize("field", ["block_size", "steps", "lr"])
def test_train_config_wrong_types(field):
    with pytest.raises(TypeError, match=field):
        LMTrainConfig(**{field: "100"})


@pytest.mark.parametrize(
    ("texts", "error", "match"),
    [
        ("a bare string is not a list", TypeError, "texts"),
        (None, TypeError, "texts"),
        ([], ValueError, "texts"),
        (["fine", None], TypeError, "texts\\[1\\]"),
        (["short"], ValueError, "block_size"),
    ],
)
@pytest.mark.parametrize("rows", [pack_texts, document_rows])
def test_training_texts(tokenizer, rows, texts, error, match):
    with pytest.raises(error, match=match):
        rows(texts, tokenizer, 64)


@pytest.mark.parametrize("block_size", [0, 1, 2.0])
def test_block_size(tokenizer, block_size):
    with pytest.raises((TypeError, ValueError), match="block_size"):
        pack_texts(["a film"] * 50, tokenizer, block_size)


@pytest.mark.parametrize(
    ("spans", "error", "match"),
    [
        ([[(0, 3)]], ValueError, "1 entries for 2 texts"),
        ([[(5, 2)], []], ValueError, "target_spans\\[0\\]\\[0\\]\\[1\\]"),
        ([[(0, 10_000)], []], ValueError, "target_spans\\[0\\]\\[0\\]\\[1\\]"),
        ([[], [(-1, 2)]], ValueError, "target_spans\\[1\\]\\[0\\]\\[0\\]"),
        ([[(1,)], []], TypeError, "target_spans\\[0\\]\\[0\\]"),
        ("spans", TypeError, "target_spans"),
    ],
)
def test_target_spans(tokenizer, spans, error, match):
    texts = ["the film was good " * 10] * 2
    with pytest.raises(error, match=match):
        document_rows(texts, tokenizer, 8, spans)


def test_tokenizer_without_eos(tokenizer):
    bare = train_bpe_tokenizer(["a b c"] * 5, 260)
    bare.eos_token = None
    with pytest.raises(ValueError, match="EOS"):
        pack_texts(["a film"] * 20, bare, 4)
    with pytest.raises(TypeError, match="tokenizer"):
        pack_texts(["a film"] * 20, "gpt2", 4)


@pytest.fixture(scope="module")
def small_gpt2(tokenizer):
    return make_gpt2(tokenizer, n_positions=16)


@pytest.mark.parametrize(
    ("rows", "error", "match"),
    [
        (torch.zeros(4, 32, dtype=torch.long), ValueError, "16 positions"),
        (torch.full((4, 8), 10**6), ValueError, "vocabulary"),
        (torch.full((4, 8), -1), ValueError, "vocabulary"),
        (torch.zeros(4, 8), TypeError, "integer tensor"),
        ([[0, 1], [1, 2]], TypeError, "rows"),
        (torch.zeros(0, 8, dtype=torch.long), ValueError, "non-empty"),
        (torch.zeros(8, dtype=torch.long), ValueError, "\\(N, T\\)"),
    ],
    ids=["too-long", "id-too-big", "negative-id", "float", "list", "empty", "1-d"],
)
def test_training_rows(small_gpt2, rows, error, match):
    before = {k: v.clone() for k, v in small_gpt2.state_dict().items()}
    with pytest.raises(error, match=match):
        train_causal_lm(small_gpt2, rows, LMTrainConfig(steps=1, batch_size=2))
    assert all(torch.equal(before[k], v) for k, v in small_gpt2.state_dict().items())


def test_training_arguments(small_gpt2):
    rows = torch.zeros(4, 8, dtype=torch.long)
    with pytest.raises(TypeError, match="cfg"):
        train_causal_lm(small_gpt2, rows, {"steps": 1})
    with pytest.raises(TypeError, match="targets"):
        train_causal_lm(small_gpt2, rows, LMTrainConfig(steps=1), targets=torch.zeros(4, 8))
    with pytest.raises(ValueError, match="targets has shape"):
        train_causal_lm(small_gpt2, rows, LMTrainConfig(steps=1), targets=torch.zeros(4, 7) > 0)
    with pytest.raises(ValueError, match="target_weight"):
        train_causal_lm(small_gpt2, rows, LMTrainConfig(steps=1), target_weight=float("nan"))


def test_diverging_training_stops_with_an_error(tokenizer):
    model = make_gpt2(tokenizer, n_positions=16)
    rows = torch.randint(0, 200, (8, 8), generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="diverged.*lr"):
        train_causal_lm(model, rows, LMTrainConfig(steps=5, batch_size=4, lr=1e30, warmup_steps=0))


def test_weighted_loss_shapes():
    ids = torch.zeros(2, 5, dtype=torch.long)
    with pytest.raises(ValueError, match="logits"):
        weighted_lm_loss(torch.zeros(2, 4, 7), ids, ids > 0, 1.0)
    with pytest.raises(ValueError, match="targets"):
        weighted_lm_loss(torch.zeros(2, 5, 7), ids, torch.zeros(2, 4) > 0, 1.0)
    with pytest.raises(ValueError, match="target_weight"):
        weighted_lm_loss(torch.zeros(2, 5, 7), ids, ids > 0, -1.0)


# --- tokenizers and tiny models ---


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"vocab_size": 10}, ValueError, "vocab_size must be >= 258"),
        ({"vocab_size": 300.0}, TypeError, "vocab_size"),
        ({"n_texts": 0}, ValueError, "n_texts"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_tiny_tokenizer(kwargs, error, match):
    with pytest.raises(error, match=match):
        tiny_tokenizer(**kwargs)


@pytest.mark.parametrize(
    ("texts", "error", "match"),
    [
        ("one text", TypeError, "texts"),
        ([], ValueError, "texts"),
        ([b"x"], TypeError, "texts\\[0\\]"),
    ],
)
def test_train_bpe_tokenizer_texts(texts, error, match):
    with pytest.raises(error, match=match):
        train_bpe_tokenizer(texts, 300)


@pytest.mark.parametrize(
    ("make", "kwargs", "error", "match"),
    [
        (make_gpt2, {"n_head": 3}, ValueError, "n_head=3 must divide n_embd=32"),
        (make_gpt2, {"n_layer": 0}, ValueError, "n_layer"),
        (make_gpt2, {"dropout": 1.5}, ValueError, "dropout"),
        (make_gpt2, {"n_positions": 2.5}, TypeError, "n_positions"),
        (make_llama, {"num_key_value_heads": 3}, ValueError, "num_key_value_heads=3 must divide"),
        (make_llama, {"num_attention_heads": 5}, ValueError, "num_attention_heads=5 must divide"),
        (make_llama, {"hidden_size": -32}, ValueError, "hidden_size"),
    ],
)
def test_tiny_models(tokenizer, make, kwargs, error, match):
    with pytest.raises(error, match=match):
        make(tokenizer, **kwargs)


def test_tiny_model_needs_a_tokenizer():
    with pytest.raises(TypeError, match="tokenizer"):
        make_gpt2("gpt2")


# --- SentenceEncoder.encode ---


@pytest.fixture(scope="module")
def encoder():
    return zoo.load_sentence_encoder()


@pytest.mark.parametrize(
    ("texts", "kwargs", "error", "match"),
    [
        ("a bare string", {}, TypeError, "texts"),
        (None, {}, TypeError, "texts"),
        ([], {}, ValueError, "texts"),
        (["ok", 3], {}, TypeError, "texts\\[1\\]"),
        (["ok"], {"batch_size": 0}, ValueError, "batch_size"),
        (["ok"], {"batch_size": 1.5}, TypeError, "batch_size"),
        (["ok"], {"normalize": "yes"}, TypeError, "normalize"),
    ],
)
def test_encode_arguments(encoder, texts, kwargs, error, match):
    with pytest.raises(error, match=match):
        encoder.encode(texts, **kwargs)


def test_encode_warns_when_a_text_is_cut(encoder):
    with pytest.warns(UserWarning, match="texts\\[1\\] has 402 tokens; only its first 256"):
        vectors = encoder.encode(["short", "word " * 400])
    kept = encoder.encode(["word " * 254])[0]  # [CLS] + 254 words + [SEP] = 256 tokens
    assert torch.allclose(vectors[1], kept, atol=1e-4)


def test_sentence_encoder_fields():
    with pytest.raises(TypeError, match="model"):
        SentenceEncoder("minilm", None)
