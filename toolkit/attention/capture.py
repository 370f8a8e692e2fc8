"""Capture the queries and keys of any Hugging Face model, as its attention kernel sees them.

Godey et al. (arXiv 2503.02812, §3) study the geometry of the post-RoPE query and key states
``Q^h, K^h ∈ ℝ^{T×D}`` of each layer and head. :func:`capture_qk` records them from one forward
pass without touching the attention implementation (SDPA or FlashAttention stay on):

* post-RoPE: every attention module of a transformers-5 model calls the function returned by
  ``ALL_ATTENTION_FUNCTIONS.get_interface(config._attn_implementation, default)`` with
  ``(module, query, key, value, attention_mask, scaling=…)``. During the forward that lookup
  returns a thin wrapper of the very function it would have returned, so the recorded tensors
  are exactly the kernel's inputs: ``(B, H, T, D)`` queries and ``(B, H_kv, T, D)`` keys and
  values (not repeated for grouped-query attention) — what a KV cache would hold.
* pre-RoPE: forward hooks on the projections, split into heads: ``q_proj``/``k_proj``
  (Llama-style decoders), ``query``/``key`` (BERT-style encoders) or the fused ``c_attn`` of
  GPT-2, whose ``[q | k | v]`` output is split in three. Models without RoPE have pre == post.

Layers are numbered in the order the attention kernel is called, which is the model's layer
order (and also counts a module shared across layers, as in ALBERT, once per call).
:meth:`QKCapture.mean_attention` then gives the exact mean attention each key receives,

    ā_j = (1 / |I_j|) Σ_{i ∈ I_j} softmax_j(s · q_i K^⊤),    s = the kernel's ``scaling``,

over the set ``I_j`` of real queries allowed to attend to key ``j`` (causal: ``i ≥ j``; sliding
window ``w``: ``i − j < w``, or ``|i − j| ≤ w`` when bidirectional, as transformers masks them;
padding excluded on both sides), computed in query chunks so that a ``T × T`` matrix per head is
never materialized. Logit soft-capping and attention sinks
(Gemma 2, gpt-oss) are not modelled.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

import torch
from torch import nn

from toolkit._checks import check_bool, check_choice, check_int, check_nonempty, describe
from toolkit._torch import check_module, eval_mode

__all__ = ["QKCapture", "attention_modules", "capture_qk"]

# Projection layouts: (query projection, key projection) child names; None = fused [q | k | v].
_LAYOUTS: tuple[tuple[str, str | None], ...] = (
    ("q_proj", "k_proj"),
    ("query", "key"),
    ("c_attn", None),
)


@dataclass
class QKCapture:
    """Per-layer query/key states of one forward pass, float32, keyed by layer index.

    ``queries[l]`` ``(B, H, T, D)`` and ``keys[l]`` ``(B, H_kv, T, D)`` are post-RoPE (what the
    attention kernel received), ``values[l]`` ``(B, H_kv, T, D)`` the values it received;
    ``queries_pre`` / ``keys_pre`` are the projection outputs before RoPE (empty when captured
    with ``pre_rope=False``). ``attention_mask`` ``(B, T)`` is True on
    real tokens. ``scaling[l]`` is the logit scale the kernel used, ``sliding_window[l]`` its
    window (None = full attention), ``n_model_layers`` the number of attention layers the forward
    went through (captured or not).
    """

    queries: dict[int, torch.Tensor]
    keys: dict[int, torch.Tensor]
    values: dict[int, torch.Tensor]
    queries_pre: dict[int, torch.Tensor]
    keys_pre: dict[int, torch.Tensor]
    attention_mask: torch.Tensor
    num_heads: int
    num_kv_heads: int
    head_dim: int
    causal: bool
    scaling: dict[int, float]
    sliding_window: dict[int, int | None]
    model_type: str
    n_model_layers: int

    @property
    def layers(self) -> tuple[int, ...]:
        """The captured layer indices, in order."""
        return tuple(self.queries)

    @property
    def group_size(self) -> int:
        """``G = H / H_kv``: query heads sharing one key-value head."""
        return self.num_heads // self.num_kv_heads

    def _check_layer(self, layer: int) -> None:
        check_int("layer", layer)
        if layer not in self.queries:
            raise ValueError(f"`layer`={layer!r} was not captured; captured layers: {self.layers}")

    def rows(self, layer: int, which: str = "q", post_rope: bool = True) -> torch.Tensor:
        """The real-token states of ``layer`` stacked per head: ``(heads, N, D)``, ``N`` = real
        tokens over the batch (padding dropped); ``which`` is ``"q"`` (``H`` heads) or ``"k"``
        (``H_kv`` heads), ``post_rope`` picks the kernel inputs or the projection outputs."""
        self._check_layer(layer)
        check_choice("which", which, ("q", "k"))
        if check_bool("post_rope", post_rope):
            source = self.queries if which == "q" else self.keys
        else:
            source = self.queries_pre if which == "q" else self.keys_pre
            if not source:
                raise ValueError("`post_rope`=False needs a capture made with pre_rope=True")
        states = source[layer]  # (B, heads, T, D)
        mask = self.attention_mask.to(states.device)
        return states.permute(1, 0, 2, 3)[:, mask]  # (heads, N, D)

    def allowed(self, layer: int, query_positions: torch.Tensor) -> torch.Tensor:
        """``(B, c, T)`` bool: which keys each of the queries at ``query_positions`` (``c``)
        attends to (real query, real key, causal and sliding-window constraints)."""
        self._check_layer(layer)
        length = self.attention_mask.shape[1]
        _check_positions_tensor(query_positions, length)
        mask = self.attention_mask.to(query_positions.device)
        key_positions = torch.arange(length, device=query_positions.device)
        offset = query_positions[:, None] - key_positions[None, :]  # (c, T): i − j
        rule = torch.ones_like(offset, dtype=torch.bool)
        if self.causal:
            rule &= offset >= 0
        window = self.sliding_window[layer]
        if window is not None:
            rule &= offset < window if self.causal else offset.abs() <= window
        return rule[None] & mask[:, query_positions, None] & mask[:, None, :]

    def mean_attention(self, layer: int, chunk_size: int = 256) -> torch.Tensor:
        """``(B, H, T)``: the exact mean attention ``ā_j`` each key receives (module docstring)
        from the queries allowed to attend to it; 0 for padded keys. Softmax rows are computed
        ``chunk_size`` queries at a time."""
        self._check_layer(layer)
        check_int("chunk_size", chunk_size, minimum=1)
        q, k = self.queries[layer], self.keys[layer]
        batch, _, length, dim = q.shape
        groups = q.view(
            batch, self.num_kv_heads, self.group_size, length, dim
        )  # (B, H_kv, G, T, D)
        keys_t = k.unsqueeze(2).transpose(-1, -2)  # (B, H_kv, 1, D, T)
        received = torch.zeros(batch, self.num_kv_heads, self.group_size, length, device=q.device)
        counts = torch.zeros(batch, length, device=q.device)
        for start in range(0, length, chunk_size):
            positions = torch.arange(start, min(start + chunk_size, length), device=q.device)
            allowed = self.allowed(layer, positions)  # (B, c, T)
            logits = (groups[:, :, :, positions] @ keys_t) * self.scaling[layer]  # (B,H_kv,G,c,T)
            mask = allowed[:, None, None]
            weights = logits.masked_fill(~mask, float("-inf")).softmax(dim=-1)
            received += torch.where(mask, weights, 0.0).sum(dim=-2)
            counts += allowed.sum(dim=1)
        mean = received / counts.clamp(min=1)[:, None, None]
        return mean.reshape(batch, self.num_heads, length)


def _layout(module: nn.Module) -> tuple[str, str | None] | None:
    for query_name, key_name in _LAYOUTS:
        has_key = key_name is None or isinstance(getattr(module, key_name, None), nn.Module)
        if isinstance(getattr(module, query_name, None), nn.Module) and has_key:
            return query_name, key_name
    return None


def attention_modules(model: nn.Module) -> list[nn.Module]:
    """The self-attention modules of ``model`` that :func:`capture_qk` can record: modules whose
    code dispatches through a transformers ``ALL_ATTENTION_FUNCTIONS`` and that own one of the
    projection layouts (``q_proj``/``k_proj``, ``query``/``key``, fused ``c_attn``). Cross-
    attention modules are skipped."""
    found = []
    for module in model.modules():
        namespace = sys.modules.get(type(module).__module__)
        if getattr(namespace, "ALL_ATTENTION_FUNCTIONS", None) is None or _layout(module) is None:
            continue
        if (
            getattr(module, "is_cross_attention", False)
            or "CrossAttention" in type(module).__name__
        ):
            continue
        found.append(module)
    return found


@dataclass
class _Recorder:
    """Collects the tensors of one forward: projection outputs wait per module until the
    module's kernel call, which numbers the layer and stores the selected ones."""

    targets: dict[int, nn.Module]
    keep: set[int] | None
    store_device: torch.device | str | None
    pending: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)
    calls: int = 0
    queries: dict[int, torch.Tensor] = field(default_factory=dict)
    keys: dict[int, torch.Tensor] = field(default_factory=dict)
    values: dict[int, torch.Tensor] = field(default_factory=dict)
    queries_pre: dict[int, torch.Tensor] = field(default_factory=dict)
    keys_pre: dict[int, torch.Tensor] = field(default_factory=dict)
    scaling: dict[int, float] = field(default_factory=dict)
    sliding_window: dict[int, int | None] = field(default_factory=dict)
    causal: dict[int, bool] = field(default_factory=dict)

    def _store(self, tensor: torch.Tensor) -> torch.Tensor:
        tensor = tensor.detach().float()
        return tensor if self.store_device is None else tensor.to(self.store_device)

    def projection_hook(self, owner: nn.Module, part: str) -> Callable:
        """Forward hook keeping ``part``'s (``"q"``, ``"k"`` or ``"qkv"``) output for ``owner``."""

        def hook(_module, _inputs, output):
            self.pending.setdefault(id(owner), {})[part] = output.detach()

        return hook

    def kernel_call(self, module: nn.Module, query, key, value, kwargs) -> None:
        """Record one kernel call; ``kwargs`` are its keyword arguments (``scaling``,
        ``sliding_window`` where the model passes them)."""
        layer = self.calls
        self.calls += 1
        projections = self.pending.pop(id(module), {})
        if self.keep is not None and layer not in self.keep:
            return
        if query.dim() != 4 or key.dim() != 4 or key.shape[2] != query.shape[2]:
            raise RuntimeError(
                f"layer {layer} ({type(module).__name__}) passed its attention kernel queries "
                f"{tuple(query.shape)} and keys {tuple(key.shape)}; expected (B, H, T, D) and "
                "(B, H_kv, T, D) of the same T (self-attention without a cache)"
            )
        if not isinstance(getattr(module, "is_causal", None), bool):
            raise TypeError(
                f"`model` layer {layer} ({type(module).__name__}) has no boolean `is_causal`; "
                "capture_qk cannot tell its mask"
            )
        self.queries[layer], self.keys[layer] = self._store(query), self._store(key)
        self.values[layer] = self._store(value)
        scaling = kwargs.get("scaling")
        self.scaling[layer] = float(query.shape[-1] ** -0.5 if scaling is None else scaling)
        self.sliding_window[layer] = kwargs.get(
            "sliding_window", getattr(module, "sliding_window", None)
        )
        self.causal[layer] = module.is_causal
        if projections:
            self.queries_pre[layer], self.keys_pre[layer] = self._split(projections, query, key)

    def _split(self, projections, query, key):
        """Projection outputs ``(B, T, heads·D)`` → ``(B, heads, T, D)`` like the kernel inputs."""
        batch, n_heads, length, dim = query.shape
        n_kv = key.shape[1]
        if "qkv" in projections:  # fused [q | k | v] along the last dim
            fused = projections["qkv"]
            q_flat = fused[..., : n_heads * dim]
            k_flat = fused[..., n_heads * dim : (n_heads + n_kv) * dim]
        else:
            q_flat, k_flat = projections["q"], projections["k"]
        q = q_flat.reshape(batch, length, n_heads, dim).transpose(1, 2)
        k = k_flat.reshape(batch, length, n_kv, dim).transpose(1, 2)
        return self._store(q), self._store(k)


def _recording_lookup(lookup: Callable, recorder: _Recorder) -> Callable:
    """``get_interface`` that returns the kernel ``lookup`` would, wrapped to record its inputs."""

    def get_interface(attn_implementation, default):
        kernel = lookup(attn_implementation, default)

        def recording_kernel(module, query, key, value, attention_mask, *args, **kwargs):
            if id(module) in recorder.targets:
                recorder.kernel_call(module, query, key, value, kwargs)
            return kernel(module, query, key, value, attention_mask, *args, **kwargs)

        return recording_kernel

    return get_interface


@contextmanager
def _wrapped_kernels(recorder: _Recorder) -> Iterator[None]:
    """Shadow ``get_interface`` on each ``ALL_ATTENTION_FUNCTIONS`` the targets dispatch
    through (an instance attribute, removed after); other models keep working unchanged."""
    interfaces = {}
    for module in recorder.targets.values():
        interface = sys.modules[type(module).__module__].ALL_ATTENTION_FUNCTIONS
        interfaces[id(interface)] = interface
    missing = object()
    saved = []
    try:
        for interface in interfaces.values():
            saved.append((interface, vars(interface).get("get_interface", missing)))
            interface.get_interface = _recording_lookup(interface.get_interface, recorder)
        yield
    finally:
        for interface, own in saved:
            if own is missing:
                del interface.get_interface
            else:
                interface.get_interface = own


@contextmanager
def _projection_hooks(recorder: _Recorder) -> Iterator[None]:
    handles = []
    try:
        for module in recorder.targets.values():
            query_name, key_name = _layout(module)
            parts = {query_name: "qkv"} if key_name is None else {query_name: "q", key_name: "k"}
            for name, part in parts.items():
                hook = recorder.projection_hook(module, part)
                handles.append(getattr(module, name).register_forward_hook(hook))
        yield
    finally:
        for handle in handles:
            handle.remove()


def _text_config(model: object):
    """``model``'s (decoder) text config; TypeError for an object without a transformers one."""
    config = getattr(check_module("model", model), "config", None)
    if not hasattr(config, "get_text_config"):
        raise TypeError(f"`model` ({type(model).__name__}) has no transformers config")
    return config.get_text_config(decoder=True)


def _vocab_size(model: nn.Module) -> int | None:
    """Rows of ``model``'s input embedding (or its config's ``vocab_size``); None if unknown."""
    embeddings = getattr(model, "get_input_embeddings", lambda: None)()
    rows = getattr(embeddings, "num_embeddings", None)
    return rows if rows is not None else getattr(getattr(model, "config", None), "vocab_size", None)


def _first(where: torch.Tensor) -> tuple[int, ...]:
    """Index of the first True entry of ``where``."""
    return tuple(int(i) for i in where.nonzero()[0])


def _check_input_ids(
    name: str, input_ids: object, model: nn.Module, new_tokens: int = 0
) -> torch.Tensor:
    """A non-empty ``(B, T)`` integer tensor of ids in ``model``'s vocabulary, with ``T`` plus
    ``new_tokens`` (to be generated) within its ``max_position_embeddings``."""
    if not isinstance(input_ids, torch.Tensor):
        raise TypeError(f"`{name}` must be a (B, T) tensor of token ids, got {describe(input_ids)}")
    if input_ids.dim() != 2:
        raise ValueError(f"`{name}` must be a (B, T) tensor, got shape {tuple(input_ids.shape)}")
    if input_ids.is_floating_point() or input_ids.is_complex() or input_ids.dtype == torch.bool:
        raise TypeError(f"`{name}` must hold integer token ids, got dtype {input_ids.dtype}")
    if input_ids.numel() == 0:
        raise ValueError(
            f"`{name}` is empty (shape {tuple(input_ids.shape)}): give at least one token"
        )
    vocab = _vocab_size(model)
    if vocab is not None:
        outside = (input_ids < 0) | (input_ids >= vocab)
        if outside.any():
            row, column = _first(outside)
            raise ValueError(
                f"`{name}`[{row}, {column}] = {int(input_ids[row, column])} is not a token id "
                f"of the model (vocabulary of {vocab}); encode with the model's tokenizer"
            )
    limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    length = input_ids.shape[1]
    if isinstance(limit, int) and length + new_tokens > limit:
        generated = f" plus {new_tokens} to generate" if new_tokens else ""
        raise ValueError(
            f"`{name}` has {length} tokens{generated}, more than the {limit} positions the "
            "model handles (max_position_embeddings); shorten it"
        )
    return input_ids


def _check_attention_mask(
    attention_mask: object, input_ids: torch.Tensor, name: str = "attention_mask"
) -> torch.Tensor:
    """``(B, T)`` bool mask of 0/1 entries, at least one real token per row (None: all real)."""
    if attention_mask is None:
        return torch.ones_like(input_ids, dtype=torch.bool)
    if not isinstance(attention_mask, torch.Tensor):
        raise TypeError(f"`{name}` must be a tensor, got {describe(attention_mask)}")
    if attention_mask.shape != input_ids.shape:
        raise ValueError(
            f"`{name}` must have the shape of the input ids {tuple(input_ids.shape)}, got "
            f"{tuple(attention_mask.shape)}"
        )
    not_binary = (attention_mask != 0) & (attention_mask != 1)
    if not_binary.any():
        row, column = _first(not_binary)
        raise ValueError(
            f"`{name}`[{row}, {column}] = {attention_mask[row, column].item()}: a mask holds "
            "1 on real tokens and 0 on padding"
        )
    attention_mask = attention_mask.bool()
    no_token = ~attention_mask.any(dim=1)
    if no_token.any():
        raise ValueError(f"`{name}` row {_first(no_token)[0]} is all padding (zeros); drop it")
    return attention_mask


def _check_layers(layers: object) -> set[int] | None:
    if layers is None:
        return None
    if isinstance(layers, str | bytes) or not isinstance(layers, Iterable):
        raise TypeError(f"`layers` must be a sequence of layer indices, got {describe(layers)}")
    layers = list(check_nonempty("layers", list(layers)))
    for i, layer in enumerate(layers):
        check_int(f"layers[{i}]", layer, minimum=0)
    if len(set(layers)) != len(layers):
        raise ValueError(f"`layers` lists a layer twice: {layers}")
    return {int(layer) for layer in layers}


def _check_store_device(store_device: object) -> None:
    if store_device is None:
        return
    if not isinstance(store_device, str | torch.device):
        raise TypeError(
            f"`store_device` must be None, a str or a torch.device, got {describe(store_device)}"
        )
    try:
        torch.empty(0, device=store_device)
    except (RuntimeError, AssertionError) as error:
        raise ValueError(f"`store_device`={store_device!r} is not usable here: {error}") from None


def _check_positions_tensor(positions: object, length: int) -> None:
    if not isinstance(positions, torch.Tensor) or positions.dim() != 1:
        raise TypeError(
            f"`query_positions` must be a 1-D integer tensor, got {describe(positions)}"
        )
    if positions.is_floating_point() or positions.dtype == torch.bool:
        raise TypeError(f"`query_positions` must be integer, got dtype {positions.dtype}")
    if positions.numel() and not 0 <= int(positions.min()) <= int(positions.max()) < length:
        raise ValueError(f"`query_positions` must lie in [0, {length}), got {positions.tolist()}")


def _one(values: dict[int, object], what: str):
    distinct = set(values.values())
    if len(distinct) != 1:
        raise ValueError(
            f"captured layers differ in {what} ({values}); pass `layers` with a uniform subset"
        )
    return distinct.pop()


@torch.no_grad()
def capture_qk(
    model: nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    *,
    layers: Sequence[int] | None = None,
    pre_rope: bool = True,
    store_device: torch.device | str | None = None,
) -> QKCapture:
    """Run ``model`` once on ``input_ids`` ``(B, T)`` and record queries and keys per layer.

    ``layers`` selects layer indices (default: all); ``pre_rope=False`` skips the projection
    hooks (post-RoPE only); ``store_device`` (e.g. ``"cpu"``) moves each captured tensor off the
    accelerator as soon as it is recorded. The model runs in eval mode under ``no_grad`` and is
    left exactly as it was — hooks removed, attention lookup restored, training flags and
    ``config._attn_implementation`` untouched — even if the forward raises.

    Refused before the forward (``TypeError``/``ValueError`` naming the argument): empty or
    non-integer ``input_ids``, ids outside the model's vocabulary, more tokens than its
    ``max_position_embeddings``, an ``attention_mask`` that is not 0/1 or has a row of padding
    only, repeated or negative ``layers``.
    """
    check_module("model", model)
    _check_input_ids("input_ids", input_ids, model)
    attention_mask = _check_attention_mask(attention_mask, input_ids)
    keep = _check_layers(layers)
    check_bool("pre_rope", pre_rope)
    _check_store_device(store_device)
    targets = attention_modules(model)
    if not targets:
        raise ValueError(
            f"`model` ({type(model).__name__}) has no attention module capture_qk supports: it "
            "needs transformers attention modules with q_proj/k_proj, query/key or c_attn"
        )
    recorder = _Recorder({id(m): m for m in targets}, keep, store_device)
    device = next(model.parameters()).device
    kwargs = {"input_ids": input_ids.to(device), "attention_mask": attention_mask.long().to(device)}
    if "use_cache" in inspect.signature(model.forward).parameters:
        kwargs["use_cache"] = False  # the kernel then sees exactly this forward's keys
    hooks = _projection_hooks(recorder) if pre_rope else nullcontext()
    with eval_mode(model), _wrapped_kernels(recorder), hooks:
        model(**kwargs)
    if keep is not None and max(keep) >= recorder.calls:
        raise ValueError(
            f"`layers`={sorted(keep)} out of range: the model has {recorder.calls} attention layers"
        )
    if not recorder.queries:
        raise RuntimeError(
            f"`model` ({type(model).__name__}) never called its attention kernel through "
            "ALL_ATTENTION_FUNCTIONS (e.g. GPT-2 with reorder_and_upcast_attn under eager)"
        )
    return QKCapture(
        queries=recorder.queries,
        keys=recorder.keys,
        values=recorder.values,
        queries_pre=recorder.queries_pre,
        keys_pre=recorder.keys_pre,
        attention_mask=attention_mask.cpu(),
        num_heads=_one({i: q.shape[1] for i, q in recorder.queries.items()}, "query heads"),
        num_kv_heads=_one({i: k.shape[1] for i, k in recorder.keys.items()}, "key-value heads"),
        head_dim=_one({i: q.shape[-1] for i, q in recorder.queries.items()}, "head dim"),
        causal=_one(recorder.causal, "causality"),
        scaling=recorder.scaling,
        sliding_window=recorder.sliding_window,
        model_type=str(getattr(model.config, "model_type", type(model).__name__)),
        n_model_layers=recorder.calls,
    )
