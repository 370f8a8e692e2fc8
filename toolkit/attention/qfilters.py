"""Q-Filters calibration (Godey et al., arXiv 2503.02812, §3.2; docs/methods/qfilters.md).

For each layer ``l`` and query head ``h``, sample ``n_samples`` post-RoPE query states
``Q^{l,h} ∈ ℝ^{n×D}`` from calibration text and take their float32 SVD
``Q = U Σ V^⊤``. With ``svd_sign = ±1`` chosen so that most entries of ``U_{:,1}`` are positive,

    f_{l,h} = −svd_sign · V_{:,1}                       (the Q-Filter of the query head)

and, for grouped-query attention, the filter of KV head ``g`` is the plain mean over its
``G = H / H_kv`` query heads, ``f_{l,g} = (1/G) Σ_{h ∈ g} f_{l,h}``, as the paper averages them;
it is not renormalized, since the score ``s(k) = −⟨f_{l,g}, k⟩`` (kvpress convention) ranks the
keys of one KV head identically under any positive rescaling. Keys aligned with the direction
the queries point to score high — they receive the most attention.

Sampling is uniform without replacement over all real (non-padding) tokens of the calibration
batches, seeded: every token draws a random priority and the ``n_samples`` lowest are kept
(the same tokens for every layer and head), so memory stays at ``n_samples`` rows per layer.

:meth:`QFilters.save` writes ``qfilters.safetensors`` and ``qfilters.json`` (the model
fingerprint, the calibration settings and the tensor file's SHA-256) atomically into a
directory, conventionally :func:`qfilters_dir` ``(<model_dir>) = <model_dir>/qfilters``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase

from toolkit._checks import check_bool, check_int, check_str, describe
from toolkit.attention.capture import (
    _check_attention_mask,
    _check_input_ids,
    _text_config,
    capture_qk,
)
from toolkit.attention.geometry import dominant_direction
from toolkit.attention.scorers import check_filters

__all__ = ["QFilters", "calibrate_qfilters", "model_fingerprint", "qfilters_dir"]

TENSOR_FILE = "qfilters.safetensors"
META_FILE = "qfilters.json"
SEED_MAX = 2**63 - 1  # torch.Generator.manual_seed's range
FINGERPRINT = ("model_type", "n_layers", "num_heads", "num_kv_heads", "head_dim")


def qfilters_dir(model_dir: str | os.PathLike) -> Path:
    """Where a model's Q-Filters live by convention: ``<model_dir>/qfilters``."""
    return Path(model_dir) / "qfilters"


def model_fingerprint(model: nn.Module) -> dict[str, object]:
    """What filters must match: ``model_type``, ``n_layers``, ``num_heads``, ``num_kv_heads``
    and ``head_dim``, read from the model's (text) config."""
    config = _text_config(model)
    num_heads = config.num_attention_heads
    return {
        "model_type": config.model_type,
        "n_layers": config.num_hidden_layers,
        "num_heads": num_heads,
        "num_kv_heads": getattr(config, "num_key_value_heads", None) or num_heads,
        "head_dim": getattr(config, "head_dim", None) or config.hidden_size // num_heads,
    }


@dataclass
class QFilters:
    """Calibrated Q-Filters: ``filters`` ``(n_layers, H_kv, D)`` float32, one per layer and KV
    head, with the fingerprint of the model they belong to and how they were calibrated.

    ``n_samples``: query rows per head the SVD used; ``n_tokens``: real tokens seen;
    ``seed``: the sampling seed. Every field is checked on construction and again before
    :meth:`save` writes anything, so NaN or mismatched filters never reach a file.
    """

    filters: torch.Tensor
    model_type: str
    n_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    n_samples: int
    n_tokens: int
    seed: int

    def __post_init__(self):
        if not isinstance(self.filters, torch.Tensor) or self.filters.dtype != torch.float32:
            raise TypeError(f"`filters` must be a float32 tensor, got {_describe(self.filters)}")
        check_str("model_type", self.model_type)
        for name in ("n_layers", "num_heads", "num_kv_heads", "head_dim", "n_samples"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("n_tokens", self.n_tokens, minimum=self.n_samples)
        check_int("seed", self.seed, minimum=0, maximum=SEED_MAX)
        expected = (self.n_layers, self.num_kv_heads, self.head_dim)
        if tuple(self.filters.shape) != expected:
            raise ValueError(
                f"`filters` has shape {tuple(self.filters.shape)} but its fingerprint says "
                f"(n_layers, num_kv_heads, head_dim) = {expected}"
            )
        if self.num_heads % self.num_kv_heads:
            raise ValueError(
                f"`filters` fingerprint has num_heads={self.num_heads}, not a multiple of "
                f"num_kv_heads={self.num_kv_heads}"
            )
        check_filters(self.filters)

    def fingerprint(self) -> dict[str, object]:
        """The model fields these filters were calibrated for (see :func:`model_fingerprint`)."""
        return {name: getattr(self, name) for name in FINGERPRINT}

    def check(self, model: nn.Module) -> None:
        """Raise ValueError naming ``filters`` and the first fingerprint field that differs."""
        actual = model_fingerprint(model)
        for name, value in self.fingerprint().items():
            if actual[name] != value:
                raise ValueError(
                    f"`filters` were calibrated for {name}={value!r} but the model has "
                    f"{name}={actual[name]!r}; calibrate Q-Filters for this model"
                )

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``qfilters.safetensors`` + ``qfilters.json`` into ``directory`` (created if
        needed), each through a temporary file and an atomic rename; returns the directory.
        The fields are checked first; on any failure the files already there stay as they were
        and no temporary file is left behind."""
        self.__post_init__()
        directory = _check_directory(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensor_tmp = _temporary(directory, TENSOR_FILE)
        meta_tmp = _temporary(directory, META_FILE)
        try:
            save_file({"filters": self.filters.contiguous().cpu()}, str(tensor_tmp))
            meta = {name: getattr(self, name) for name in self._meta_fields()}
            meta["sha256"] = _sha256(tensor_tmp)
            meta_tmp.write_text(json.dumps(meta, indent=2) + "\n")
            os.replace(tensor_tmp, directory / TENSOR_FILE)
            os.replace(meta_tmp, directory / META_FILE)
        finally:
            tensor_tmp.unlink(missing_ok=True)
            meta_tmp.unlink(missing_ok=True)
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike, model: nn.Module | None = None) -> QFilters:
        """Read filters saved by :meth:`save`, verifying the tensor file against its recorded
        checksum and shape; with ``model``, also that its fingerprint matches."""
        directory = _check_directory(directory)
        tensor_path, meta_path = directory / TENSOR_FILE, directory / META_FILE
        for path in (tensor_path, meta_path):
            if not path.is_file():
                raise FileNotFoundError(f"no Q-Filters in {directory}: {path.name} is missing")
        try:
            meta = json.loads(meta_path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(
                f"`filters` metadata {meta_path} is not JSON ({error}); re-save them"
            ) from None
        if not isinstance(meta, dict):
            raise ValueError(f"`filters` metadata {meta_path} is not a JSON object; re-save them")
        missing = [name for name in (*cls._meta_fields(), "sha256") if name not in meta]
        if missing:
            raise ValueError(f"`filters` metadata {meta_path} lacks {missing}; re-save them")
        if _sha256(tensor_path) != meta["sha256"]:
            raise ValueError(
                f"`filters` file {tensor_path} does not match the checksum in {meta_path.name} "
                "(partial or foreign write); re-save or recalibrate"
            )
        tensors = load_file(str(tensor_path))
        if set(tensors) != {"filters"}:
            raise ValueError(f"`filters` file {tensor_path} holds {sorted(tensors)}, not filters")
        qfilters = cls(filters=tensors["filters"], **{k: meta[k] for k in cls._meta_fields()})
        if model is not None:
            qfilters.check(model)
        return qfilters

    @staticmethod
    def _meta_fields() -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(QFilters) if f.name != "filters")


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return type(value).__name__


def _check_directory(directory: object) -> Path:
    """A directory path given as a non-blank str or an ``os.PathLike``."""
    if not isinstance(directory, str | os.PathLike):
        raise TypeError(f"`directory` must be a str or a path, got {describe(directory)}")
    return Path(check_str("directory", directory) if isinstance(directory, str) else directory)


def _temporary(directory: Path, name: str) -> Path:
    handle, path = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    os.close(handle)
    return Path(path)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tokenized(
    texts: list[str], tokenizer: PreTrainedTokenizerBase, batch_size: int, max_length: int
) -> Iterator[tuple[str, torch.Tensor, torch.Tensor]]:
    """Right-padded ``(name, input_ids, attention_mask)`` batches of ``texts``."""
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    for start in range(0, len(texts), batch_size):
        stop = min(start + batch_size, len(texts))
        rows = tokenizer(texts[start:stop], truncation=True, max_length=max_length)["input_ids"]
        length = max(len(row) for row in rows)
        ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), length), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
            mask[i, : len(row)] = 1
        yield f"batches[{start}:{stop}] (tokenized)", ids, mask


def _as_batch(item, index: int) -> tuple[str, torch.Tensor, torch.Tensor | None]:
    """One calibration batch, named: a ``(T,)`` / ``(B, T)`` id tensor or a mapping with
    ``input_ids`` (and optionally ``attention_mask``), such as a tokenizer's output."""
    name = f"batches[{index}]"
    if isinstance(item, Mapping):
        if "input_ids" not in item:
            raise ValueError(f"`{name}` is a mapping without 'input_ids'")
        ids, mask = item["input_ids"], item.get("attention_mask")
    else:
        ids, mask = item, None
    if isinstance(ids, torch.Tensor) and ids.dim() == 1:
        ids = ids[None]
        mask = mask[None] if isinstance(mask, torch.Tensor) and mask.dim() == 1 else mask
    return name, ids, mask


def _batches(batches, tokenizer, batch_size: int, max_length: int) -> tuple[Iterable, int | None]:
    if isinstance(batches, str | bytes) or not isinstance(batches, Iterable):
        raise TypeError(
            "`batches` must be a list of texts or an iterable of id tensors, got "
            f"{describe(batches)}"
        )
    if isinstance(batches, list | tuple) and any(isinstance(t, str) for t in batches):
        for i, text in enumerate(batches):
            check_str(f"batches[{i}]", text)
        if tokenizer is None:
            raise ValueError("`tokenizer` is required when `batches` is a list of texts")
        if not callable(tokenizer):
            raise TypeError(f"`tokenizer` must be a tokenizer, got {describe(tokenizer)}")
        total = -(-len(batches) // batch_size)
        return _tokenized(list(batches), tokenizer, batch_size, max_length), total
    total = len(batches) if hasattr(batches, "__len__") else None
    return (_as_batch(item, i) for i, item in enumerate(batches)), total


@torch.no_grad()
def calibrate_qfilters(
    model: nn.Module,
    batches: Iterable,
    *,
    tokenizer: PreTrainedTokenizerBase | None = None,
    n_samples: int = 4096,
    batch_size: int = 8,
    max_length: int = 512,
    seed: int = 0,
    progress: bool = True,
) -> QFilters:
    """Q-Filters of ``model`` from calibration ``batches`` (module docstring for the method).

    ``batches``: an iterable of input-id tensors ``(B, T)`` or ``(T,)`` (or mappings with
    ``input_ids`` / ``attention_mask``), or a list of texts with ``tokenizer`` — tokenized
    ``batch_size`` at a time, truncated to ``max_length`` tokens. ``n_samples`` query rows per
    head are sampled uniformly (seeded by ``seed``) from all real tokens; a progress bar runs
    over the batches unless ``progress=False``.
    """
    fingerprint = model_fingerprint(model)
    n_samples = check_int("n_samples", n_samples, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    max_length = check_int("max_length", max_length, minimum=1)
    seed = check_int("seed", seed, minimum=0, maximum=SEED_MAX)
    check_bool("progress", progress)
    stream, total = _batches(batches, tokenizer, batch_size, max_length)
    generator = torch.Generator().manual_seed(seed)
    kept: dict[int, torch.Tensor] = {}  # layer → (H, n ≤ n_samples, D) sampled queries
    priority = torch.empty(0)  # (n,) random priorities of the kept rows
    n_tokens = 0
    for name, input_ids, attention_mask in tqdm(
        stream, total=total, desc="Q-Filters calibration", disable=not progress
    ):
        _check_input_ids(name, input_ids, model)
        attention_mask = _check_attention_mask(attention_mask, input_ids, f"{name} mask")
        capture = capture_qk(model, input_ids, attention_mask, pre_rope=False, store_device="cpu")
        _check_layout(capture, fingerprint)
        drawn = torch.rand(int(capture.attention_mask.sum()), generator=generator)
        n_tokens += drawn.numel()
        priority, order = torch.cat([priority, drawn]).sort()
        priority, order = priority[:n_samples], order[:n_samples]
        for layer in capture.layers:
            rows = capture.rows(layer, "q")  # (H, N, D)
            if layer in kept:
                rows = torch.cat([kept[layer], rows], dim=1)
            kept[layer] = rows[:, order]
    if n_tokens == 0:
        raise ValueError("`batches` held no real tokens to calibrate on")
    filters = []
    for layer in sorted(kept):
        direction, _ = dominant_direction(kept[layer])  # (H, D): svd_sign · V_{:,1}
        per_query_head = -direction
        groups = per_query_head.view(fingerprint["num_kv_heads"], -1, fingerprint["head_dim"])
        filters.append(groups.mean(dim=1))  # (H_kv, D)
    return QFilters(
        filters=torch.stack(filters),
        n_samples=int(priority.numel()),
        n_tokens=n_tokens,
        seed=seed,
        **fingerprint,
    )


def _check_layout(capture, fingerprint: dict[str, object]) -> None:
    """The kernel's tensors must agree with what the config says (they define the filters)."""
    seen = {
        "n_layers": capture.n_model_layers,
        "num_heads": capture.num_heads,
        "num_kv_heads": capture.num_kv_heads,
        "head_dim": capture.head_dim,
    }
    for name, value in seen.items():
        if fingerprint[name] != value:
            raise ValueError(
                f"`model` config says {name}={fingerprint[name]} but its attention kernel got "
                f"{name}={value}; Q-Filters cannot be calibrated for this layout"
            )
