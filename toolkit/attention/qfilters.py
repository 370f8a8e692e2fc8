"""Q-Filters calibration (Godey et al., arXiv 2503.02812, §3.2; METHODS.md §5).

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

from toolkit.attention.capture import capture_qk
from toolkit.attention.geometry import dominant_direction

__all__ = ["QFilters", "calibrate_qfilters", "model_fingerprint", "qfilters_dir"]

TENSOR_FILE = "qfilters.safetensors"
META_FILE = "qfilters.json"
FINGERPRINT = ("model_type", "n_layers", "num_heads", "num_kv_heads", "head_dim")


def qfilters_dir(model_dir: str | os.PathLike) -> Path:
    """Where a model's Q-Filters live by convention: ``<model_dir>/qfilters``."""
    return Path(model_dir) / "qfilters"


def model_fingerprint(model: nn.Module) -> dict[str, object]:
    """What filters must match: ``model_type``, ``n_layers``, ``num_heads``, ``num_kv_heads``
    and ``head_dim``, read from the model's (text) config."""
    config = model.config.get_text_config(decoder=True)
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
    ``seed``: the sampling seed.
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
        needed), each through a temporary file and an atomic rename; returns the directory."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensor_tmp = _temporary(directory, TENSOR_FILE)
        save_file({"filters": self.filters.contiguous().cpu()}, str(tensor_tmp))
        meta = {name: getattr(self, name) for name in self._meta_fields()}
        meta["sha256"] = _sha256(tensor_tmp)
        meta_tmp = _temporary(directory, META_FILE)
        meta_tmp.write_text(json.dumps(meta, indent=2) + "\n")
        os.replace(tensor_tmp, directory / TENSOR_FILE)
        os.replace(meta_tmp, directory / META_FILE)
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike, model: nn.Module | None = None) -> QFilters:
        """Read filters saved by :meth:`save`, verifying the tensor file against its recorded
        checksum and shape; with ``model``, also that its fingerprint matches."""
        directory = Path(directory)
        tensor_path, meta_path = directory / TENSOR_FILE, directory / META_FILE
        for path in (tensor_path, meta_path):
            if not path.is_file():
                raise FileNotFoundError(f"no Q-Filters in {directory}: {path.name} is missing")
        meta = json.loads(meta_path.read_text())
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


def _temporary(directory: Path, name: str) -> Path:
    handle, path = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    os.close(handle)
    return Path(path)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tokenized(
    texts: list[str], tokenizer: PreTrainedTokenizerBase, batch_size: int, max_length: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Right-padded ``(input_ids, attention_mask)`` batches of ``texts``."""
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    for start in range(0, len(texts), batch_size):
        rows = tokenizer(texts[start : start + batch_size], truncation=True, max_length=max_length)
        rows = rows["input_ids"]
        length = max(len(row) for row in rows)
        ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), length), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
            mask[i, : len(row)] = 1
        yield ids, mask


def _as_batch(item, index: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One calibration batch: a ``(T,)`` / ``(B, T)`` id tensor or a mapping with
    ``input_ids`` (and optionally ``attention_mask``), such as a tokenizer's output."""
    if isinstance(item, Mapping):
        if "input_ids" not in item:
            raise ValueError(f"`batches`[{index}] is a mapping without 'input_ids'")
        ids, mask = item["input_ids"], item.get("attention_mask")
    else:
        ids, mask = item, None
    if not isinstance(ids, torch.Tensor) or ids.dim() not in (1, 2) or ids.is_floating_point():
        raise TypeError(
            f"`batches`[{index}] must be an integer (T,) or (B, T) tensor of input ids, got "
            f"{_describe(ids)}"
        )
    if ids.dim() == 1:
        ids = ids[None]
        mask = None if mask is None else mask[None]
    return ids, mask


def _batches(batches, tokenizer, batch_size: int, max_length: int) -> tuple[Iterable, int | None]:
    if isinstance(batches, str):
        raise TypeError("`batches` must be a list of texts or an iterable of id tensors, not a str")
    if isinstance(batches, list | tuple) and batches and all(isinstance(t, str) for t in batches):
        if tokenizer is None:
            raise ValueError("`tokenizer` is required when `batches` is a list of texts")
        total = -(-len(batches) // batch_size)
        return _tokenized(list(batches), tokenizer, batch_size, max_length), total
    total = len(batches) if hasattr(batches, "__len__") else None
    return (_as_batch(item, i) for i, item in enumerate(batches)), total


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be a positive int, got {value!r}")
    return value


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
    n_samples = _positive_int(n_samples, "n_samples")
    batch_size = _positive_int(batch_size, "batch_size")
    max_length = _positive_int(max_length, "max_length")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"`seed` must be an int, got {seed!r}")
    fingerprint = model_fingerprint(model)
    stream, total = _batches(batches, tokenizer, batch_size, max_length)
    generator = torch.Generator().manual_seed(seed)
    kept: dict[int, torch.Tensor] = {}  # layer → (H, n ≤ n_samples, D) sampled queries
    priority = torch.empty(0)  # (n,) random priorities of the kept rows
    n_tokens = 0
    for input_ids, attention_mask in tqdm(
        stream, total=total, desc="Q-Filters calibration", disable=not progress
    ):
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
