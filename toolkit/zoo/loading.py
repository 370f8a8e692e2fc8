"""Resolving a model name to weights: built-in, local directory, or hub id."""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import huggingface_hub.constants
import torch
from huggingface_hub.utils import HFValidationError, validate_repo_id
from safetensors import SafetensorError
from transformers import (
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.utils import logging as hf_logging

from toolkit._checks import check_str, describe
from toolkit._torch import check_device
from toolkit.zoo.cache import ensure_entry, entry_path, read_manifest
from toolkit.zoo.encoder import MINILM, SentenceEncoder, minilm_path
from toolkit.zoo.fingerprint import code_fingerprint
from toolkit.zoo.registry import TRAINING_LOG, builtin_names, get_spec

FRESH_HEAD_PREFIXES = ("score.", "classifier.", "bert.pooler.", "pooler.")
LOAD_ERRORS = (OSError, ValueError, RuntimeError, SafetensorError)  # what a bad checkpoint raises


@contextlib.contextmanager
def _quiet_load_report() -> Iterator[None]:
    """Silence transformers' load report (a warning table) and its weight-loading progress
    bar for one ``from_pretrained``."""
    level, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


class ZooError(LookupError, ValueError):
    """A model name could not be resolved or loaded; the message says what to do."""


def build_builtin(name: str, *, rebuild: bool = False) -> Path:
    """Directory of the cached built-in ``name``, training it first if needed."""
    check_str("name", name)
    spec = get_spec(name)
    if spec is None:
        raise ZooError(f"unknown built-in model {name!r}; available: {', '.join(builtin_names())}")
    return ensure_entry(
        spec.name,
        spec.recipe,
        lambda d: spec.build(d, spec.recipe),
        rebuild=rebuild,
        code=spec.code,
    )


def training_log(name: str) -> dict:
    """The built-in model's training log (e.g. ``{"loss": [...]}``), building it if needed."""
    log = build_builtin(name) / TRAINING_LOG
    return json.loads(log.read_text()) if log.exists() else {}


def _check_name(name_or_path: object) -> str:
    """``name_or_path`` as text: a non-blank ``str`` or path without control or invisible
    characters or surrounding spaces."""
    if isinstance(name_or_path, os.PathLike):
        name_or_path = os.fspath(name_or_path)
    if not isinstance(name_or_path, str):
        raise TypeError(
            "name_or_path must be a str (built-in name, hub id 'org/name' or directory) or a "
            f"path, got {describe(name_or_path)}"
        )
    name = check_str("name_or_path", name_or_path)
    if not name.isprintable() or name != name.strip():
        raise ZooError(
            f"name_or_path {name!r} has control or invisible characters or surrounding spaces; "
            "type the model name or path again"
        )
    return name


def _looks_like_path(name: str, local: Path) -> bool:
    """A name meant as a directory: ``./x``, ``/x``, ``~/x``, ``a/b/c`` or ``dir/x`` where
    ``dir`` exists here (a hub id is exactly ``org/name``)."""
    return (
        name.startswith((".", "/", "~"))
        or local.is_absolute()
        or "\\" in name
        or name.count("/") > 1
        or ("/" in name and local.parent.exists())
    )


def _resolve(name_or_path: str | Path) -> str | Path:
    """A built-in's cached directory, a local model directory, or a hub id to download."""
    name = _check_name(name_or_path)
    if get_spec(name) is not None:
        return build_builtin(name)
    local = Path(name).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise ZooError(
                f"directory {name!r} has no config.json, so it holds no model saved with "
                "save_pretrained; pass its path once model.save_pretrained(path) and "
                "tokenizer.save_pretrained(path) have written there"
            )
        return local
    if local.exists():
        raise ZooError(
            f"{name!r} is a file, not a directory; pass the directory the model was "
            "saved to with save_pretrained"
        )
    if _looks_like_path(name, local):
        raise ZooError(
            f"no such directory: {name!r} (looked for {local.absolute()}). To load your own "
            "weights pass its path to an existing directory written by save_pretrained; "
            f"built-in models: {', '.join(builtin_names())}"
        )
    if "/" not in name:
        raise ZooError(
            f"{name!r} is not a built-in model (available: {', '.join(builtin_names())}) "
            "and not an existing directory. For a Hugging Face Hub model pass its full id "
            "'org/name'; for your own weights pass the directory you saved them to."
        )
    try:
        validate_repo_id(name)
    except HFValidationError as error:
        raise ZooError(f"{name!r} is not a valid Hugging Face Hub id 'org/name': {error}") from None
    return name


def _load_failed(source: str | Path, error: Exception) -> ZooError:
    offline = isinstance(source, str) and huggingface_hub.constants.HF_HUB_OFFLINE
    reason = (
        "HF_HUB_OFFLINE is set and this Hub id is not in the local Hugging Face cache"
        if offline
        else str(error)
    )
    return ZooError(
        f"could not load {str(source)!r}: {reason}\n"
        "If this is a Hub id and you are offline (or the Hub is unreachable), download the "
        "model elsewhere, copy the directory here and pass its path, e.g. "
        "load_causal_lm('/path/to/model'). Built-in models: " + ", ".join(builtin_names())
    )


def load_causal_lm(
    name_or_path: str | Path,
    *,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    **from_pretrained_kwargs,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a causal LM and its tokenizer by built-in name, local path or hub id.

    The model is returned in eval mode. If the tokenizer has no pad token, its
    EOS token is used for padding (what preference trainers expect).
    """
    device = check_device("device", device, allow_none=True)
    if dtype is not None and dtype != "auto" and not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype must be a torch.dtype (or 'auto'), got {describe(dtype)}")
    source = _resolve(name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **from_pretrained_kwargs)
    except LOAD_ERRORS as error:
        raise _load_failed(source, error) from error
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if device is not None:
        model = model.to(device)
    return model.eval(), tokenizer


def load_sentence_encoder(
    name_or_path: str | Path = MINILM, *, device: str | torch.device | None = None
) -> SentenceEncoder:
    """The packaged MiniLM (default) or any BERT-style encoder by local path or hub id."""
    device = check_device("device", device, allow_none=True)
    source = minilm_path() if str(name_or_path) == MINILM else _resolve(name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModel.from_pretrained(source)
    except LOAD_ERRORS as error:
        raise _load_failed(source, error) from error
    if device is not None:
        model = model.to(device)
    return SentenceEncoder(model.eval(), tokenizer)


def load_reward_model(
    name_or_path: str | Path, *, device: str | torch.device | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A reward model to train: ``AutoModelForSequenceClassification(num_labels=1)`` on the
    backbone of a built-in causal LM, the packaged MiniLM, a local directory or a hub id. The
    scalar head is freshly initialized; the pad token (EOS where missing) is set in the
    config, which decoder heads need to find each sequence's last token, and an encoder's
    EOS is its separator token (TRL appends EOS to every response)."""
    device = check_device("device", device, allow_none=True)
    source = minilm_path() if str(name_or_path) == MINILM else _resolve(name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        if tokenizer.eos_token is None:  # encoders: TRL appends EOS text to each response
            tokenizer.eos_token = tokenizer.sep_token
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        with _quiet_load_report():  # the fresh scalar head is expected; other gaps are not
            model, info = AutoModelForSequenceClassification.from_pretrained(
                source, num_labels=1, pad_token_id=tokenizer.pad_token_id, output_loading_info=True
            )
    except LOAD_ERRORS as error:
        raise _load_failed(source, error) from error
    missing = [k for k in info["missing_keys"] if not k.startswith(FRESH_HEAD_PREFIXES)]
    if missing:
        warnings.warn(
            f"reward model from {source}: backbone weights missing from the checkpoint and "
            f"freshly initialized: {sorted(missing)[:8]}",
            stacklevel=2,
        )
    if device is not None:
        model = model.to(device)
    return model, tokenizer


def list_models() -> list[dict]:
    """Built-in and packaged models, with whether each is cached and its build metrics."""
    rows = []
    for name in builtin_names():
        spec = get_spec(name)
        entry = entry_path(spec.name, spec.recipe, code=code_fingerprint(spec.code))
        manifest = read_manifest(entry)
        rows.append(
            {
                "name": name,
                "kind": spec.kind,
                "description": spec.description,
                "cached": manifest is not None,
                "path": str(entry),
                "metrics": (manifest or {}).get("metrics", {}),
            }
        )
    rows.append(
        {
            "name": MINILM,
            "kind": "sentence-encoder",
            "description": "sentence-transformers/all-MiniLM-L6-v2 (22M params), from PyPI",
            "cached": True,
            "path": str(minilm_path()),
            "metrics": {},
        }
    )
    return rows
