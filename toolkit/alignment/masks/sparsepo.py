"""SparsePO token masks m^u (reward) and m^d (KL) (Christopoulou et al., arXiv 2410.05102).

SparsePO weights every completion token's log-ratio and KL term by a mask:

    U = Σ_t m^u_t lr_t(w) − Σ_t m^u_t lr_t(l),    D = Σ_t m^d_t KL_t(w) − Σ_t m^d_t KL_t(l)

(the loss itself is ``toolkit.alignment.sparsepo_loss``). The paper builds the masks two ways,
both here:

* **Reference-activation masks** (their "MaPO"): :func:`reference_activation_mask` reads the
  frozen reference model's activations with forward hooks; no parameters, one mask shared by
  reward and KL.
* **Learned masks**: :class:`LearnedTokenMask` maps the reference model's hidden states to a
  sparse non-negative mask, trained with the policy; :class:`SparsePOMasks` holds one
  ("common") or two ("independent") of them.

Alignment convention: every (B, T) mask here is laid out like ``input_ids``: entry j belongs to
token ``input_ids[:, j]`` and is computed from position j − 1, the position that *predicts*
that token, as the authors' code does (``activations[:, :-1]`` against ``labels[:, 1:]``). So
``mask[:, 1:]`` lines up with per-token log-probs from ``logits[:, :-1]``; position 0 is never
a predicted token and is always 0.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Literal

import torch
from torch import nn

from toolkit._torch import eval_mode
from toolkit.alignment.masks._checks import (
    Tensor,
    bool_mask,
    check_finite,
    check_tokens,
    examples_text,
)

SITES = ("mlp", "attn", "residual", "logits")
"""Hook sites of :func:`reference_activation_mask`, in the authors' order."""

ATTENTION_NAMES = ("self_attn", "attn", "attention", "self_attention")
"""Attribute names under which decoder layers keep their attention module."""
MLP_NAMES = ("mlp", "feed_forward")
"""Attribute names under which decoder layers keep their MLP."""


# ---- normalization ------------------------------------------------------------------------


def _masked_extremes(values: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """(min, max) of each row over the bool ``mask``, each (B, 1)."""
    low = torch.where(mask, values, torch.inf).amin(-1, keepdim=True)
    high = torch.where(mask, values, -torch.inf).amax(-1, keepdim=True)
    return low, high


def masked_zscore(values: Tensor, mask: Tensor, eps: float = 1e-12) -> Tensor:
    """z_t = (a_t − μ) / (σ + eps), μ and σ over the positions in the bool ``mask`` of each row.

    σ is the population standard deviation (a single position gives σ = 0, not NaN; the
    authors' ``torch.std`` is the sample one, which min–max rescaling makes irrelevant).
    (B, T) -> (B, T), 0 outside ``mask``.
    """
    count = mask.sum(-1, keepdim=True).clamp(min=1)
    mean = torch.where(mask, values, 0.0).sum(-1, keepdim=True) / count
    centred = torch.where(mask, values - mean, 0.0)
    std = (centred.square().sum(-1, keepdim=True) / count).sqrt()
    return centred / (std + eps)


def masked_minmax(values: Tensor, mask: Tensor) -> Tensor:
    """(a_t − min) / (max − min) with min and max over the bool ``mask`` of each row.

    (B, T) -> (B, T) in [0, 1] on ``mask``, 0 outside. A row whose masked values are all equal
    has no range; it gets 0/0 here, see :func:`normalize_activation`.
    """
    low, high = _masked_extremes(values, mask)
    return torch.where(mask, (values - low) / (high - low), 0.0)


def normalize_activation(
    values: Tensor, mask: Tensor, flat_value: float = 1.0, rtol: float = 1e-5
) -> Tensor:
    """One hooked activation (already averaged over the hidden dim) as a [0, 1] token mask.

    Masked z-score over the completion tokens, then min–max to [0, 1] per sequence, as SparsePO
    does for its reference-model masks (``zn_rescale`` in the authors' ``mapo_trainer.py``).
    Min–max is invariant to the z-score's positive affine map, so the result equals min–max of
    the raw values; the z-score is kept to follow the paper step by step.

    Rows whose masked values are equal up to ``rtol`` (e.g. a single completion token) have no
    ranking to express; the paper is silent (the authors' code divides 0 by 0). They get
    ``flat_value`` on every masked position: 1 keeps each token at full weight, as TDPO would.

    Args:
        values: (B, T) activations.
        mask: (B, T) bool, the completion tokens to normalize over.
        flat_value: the mask value of rows without range.
        rtol: range ≤ rtol · max|a| counts as no range (float rounding of a constant row).
    """
    scaled = masked_minmax(masked_zscore(values, mask), mask)
    low, high = _masked_extremes(values, mask)
    flat = high - low <= rtol * torch.maximum(low.abs(), high.abs())
    return torch.where(mask, torch.where(flat, flat_value, scaled), 0.0)


# ---- reference-activation masks (MaPO) ----------------------------------------------------


def _child(layer: nn.Module, names: Sequence[str]) -> nn.Module | None:
    """The first submodule of ``layer`` found under one of ``names``, else None."""
    found = (getattr(layer, name, None) for name in names)
    return next((module for module in found if isinstance(module, nn.Module)), None)


def _has_mlp_and_attention(layer: nn.Module) -> bool:
    return _child(layer, MLP_NAMES) is not None and _child(layer, ATTENTION_NAMES) is not None


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    """The decoder layers of a causal LM: the first ``nn.ModuleList`` whose every layer has an
    MLP (:data:`MLP_NAMES`) and an attention module (:data:`ATTENTION_NAMES`).

    That finds ``transformer.h`` of GPT-2/GPT-J/BigCode and ``model.layers`` of Llama, Mistral,
    Qwen, Phi, GPT-NeoX and the like; anything else is a ``ValueError`` naming the model.
    """
    for module in model.modules():
        if (
            isinstance(module, nn.ModuleList)
            and len(module) > 0
            and all(_has_mlp_and_attention(layer) for layer in module)
        ):
            return module
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    raise ValueError(
        f"cannot find the decoder layers of {type(model).__name__} (model_type {model_type!r}): "
        f"expected an nn.ModuleList of layers with an MLP named one of {MLP_NAMES} and an "
        f"attention module named one of {ATTENTION_NAMES}"
    )


def _site_modules(model: nn.Module, sites: Sequence[str]) -> dict[str, list[nn.Module]]:
    """The modules whose outputs each site reads: per layer for mlp/attn/residual."""
    layers = decoder_layers(model)
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if "logits" in sites and head is None:
        raise ValueError(f"{type(model).__name__} has no output embeddings to read logits from")
    by_site = {
        "mlp": [_child(layer, MLP_NAMES) for layer in layers],
        "attn": [_child(layer, ATTENTION_NAMES) for layer in layers],
        "residual": list(layers),  # a decoder layer's output is the residual stream after it
        "logits": [head],
    }
    return {site: by_site[site] for site in sites}


@contextmanager
def _hidden_means(modules: dict[str, list[nn.Module]]) -> Iterator[dict[str, list[Tensor]]]:
    """Record mean-over-hidden-dim outputs (B, T) of ``modules``; hooks go even on errors."""
    store: dict[str, list[Tensor]] = {site: [] for site in modules}

    def recorder(site: str):
        def hook(module, args, output):
            out = output[0] if isinstance(output, tuple | list) else output
            store[site].append(out.detach().mean(-1, dtype=torch.float32))

        return hook

    handles = [m.register_forward_hook(recorder(s)) for s, ms in modules.items() for m in ms]
    try:
        yield store
    finally:
        for handle in handles:
            handle.remove()


def to_token_positions(values: Tensor) -> Tensor:
    """Shift right by one along dim 1: out[:, j] = values[:, j − 1], out[:, 0] = 0."""
    pad = values.new_zeros(values.shape[0], 1, *values.shape[2:])
    return torch.cat([pad, values[:, :-1]], dim=1)


def _check_sites(sites: Sequence[str]) -> tuple[str, ...]:
    sites = (sites,) if isinstance(sites, str) else tuple(sites)
    unknown = [s for s in sites if s not in SITES]
    if not sites or unknown or len(set(sites)) != len(sites):
        raise ValueError(
            f"sites must be distinct names from {SITES}, got {sites!r}"
            + (f" (unknown: {unknown})" if unknown else "")
        )
    return sites


def _predicted_completion(
    input_ids: Tensor, attention_mask: Tensor, completion_mask: Tensor
) -> Tensor:
    """Validate the inputs; the bool (B, T) completion tokens that some position predicts."""
    check_tokens("input_ids", input_ids)
    if input_ids.dtype.is_floating_point or input_ids.dtype == torch.bool:
        raise ValueError(f"input_ids must hold integer token ids, got {input_ids.dtype}")
    attention = bool_mask("attention_mask", attention_mask, input_ids, "input_ids")
    completion = bool_mask("completion_mask", completion_mask, input_ids, "input_ids")
    padded = (completion & ~attention).any(-1)
    if padded.any():
        raise ValueError(
            f"{examples_text(padded)}: completion_mask marks positions where attention_mask is 0"
        )
    predicted = completion.clone()
    predicted[:, 0] = False  # no position predicts the first token
    empty = ~predicted.any(-1)
    if empty.any():
        raise ValueError(
            f"{examples_text(empty)}: completion_mask has no completion token after position 0"
        )
    return predicted


def reference_activation_mask(
    ref_model: nn.Module,
    input_ids: Tensor,
    attention_mask: Tensor,
    completion_mask: Tensor,
    sites: Sequence[str] = SITES,
    flat_value: float = 1.0,
) -> Tensor:
    """SparsePO's reference-activation mask ("MaPO", arXiv 2410.05102): m = m^u = m^d.

    One forward pass of the frozen reference model with forward hooks on, for every decoder
    layer ℓ, the MLP output, the attention output and the layer output (the residual stream),
    plus the logits. Each hooked activation a ∈ (B, T, ·) is averaged over its last dim, shifted
    to the tokens it predicts, z-scored over the completion tokens and min–max scaled to [0, 1]
    per sequence (:func:`normalize_activation`); the masks are averaged over the layers of a
    site, then over the sites (the authors' order: within a hook type, then across types).

    Differences from the authors' hooks (``mapo_trainer.config_hooks``), which patch model code:
    they read the MLP after its activation function, attention q/k/v/pre-projection values and
    seven intra-layer residual points plus the embeddings and final norm; generic forward hooks
    here read module outputs, which any Hugging Face causal LM exposes.

    The model runs in eval mode (dropout off; each module's mode is restored) under
    ``torch.no_grad``; hooks are removed even when the forward raises.

    Args:
        ref_model: a causal LM with decoder layers :func:`decoder_layers` can find.
        input_ids: (B, T) prompt + completion token ids.
        attention_mask: (B, T) {0, 1}, 0 on padding.
        completion_mask: (B, T) {0, 1}, 1 on completion tokens.
        sites: a subset of :data:`SITES`.
        flat_value: mask value of a sequence whose activations do not vary (see
            :func:`normalize_activation`).

    Returns:
        (B, T) float32 mask in [0, 1], laid out like ``input_ids`` (entry j masks token j; see
        the module docstring), 0 outside the completion and at position 0, without grad.
    """
    sites = _check_sites(sites)
    predicted = _predicted_completion(input_ids, attention_mask, completion_mask)
    modules = _site_modules(ref_model, sites)
    with torch.no_grad(), eval_mode(ref_model), _hidden_means(modules) as activations:
        ref_model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
    per_site = []
    for site in sites:
        layer_masks = []
        for layer, values in enumerate(activations[site]):
            values = to_token_positions(values)
            check_finite(f"the {site!r} activation of layer {layer}", values, predicted)
            layer_masks.append(normalize_activation(values, predicted, flat_value))
        per_site.append(torch.stack(layer_masks).mean(0))
    return torch.stack(per_site).mean(0)


# ---- learned masks ------------------------------------------------------------------------


def reference_hidden_states(
    ref_model: nn.Module, input_ids: Tensor, attention_mask: Tensor
) -> Tensor:
    """The reference model's hidden states after each of its L layers, as mask inputs.

    Returns (L, B, T, H) without grad, laid out like ``input_ids`` (entry j holds the state at
    position j − 1, which predicts token j; entry 0 is zeros): the authors feed
    ``hidden_states[1:]`` (the embeddings left out) sliced ``[:, :-1]``. Eval mode, no grad.
    """
    check_tokens("input_ids", input_ids)
    bool_mask("attention_mask", attention_mask, input_ids, "input_ids")
    with torch.no_grad(), eval_mode(ref_model):
        out = ref_model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            output_hidden_states=True,
            use_cache=False,
        )
    return torch.stack([to_token_positions(h) for h in out.hidden_states[1:]])  # (L, B, T, H)


class LearnedTokenMask(nn.Module):
    """SparsePO's learned mask (arXiv 2410.05102; ``SimpleMaskAllLayers`` in its code):

        s_{ℓ,t} = Dropout(ReLU(w_ℓ · LayerNorm(h_{ℓ,t}) + b_ℓ))      for ℓ = 1..L
        m_t     = Dropout(ReLU(Σ_ℓ v_ℓ s_{ℓ,t}))                       (mixer Linear(L, 1), no bias)

    over the reference model's hidden states h_ℓ (:func:`reference_hidden_states`), so m_t ≥ 0
    and exactly 0 wherever a ReLU cuts: the sparsity the L1 penalty and weight decay push.

    Choices, with what the authors' code does:

    * ``share_norm=True``: one LayerNorm applied to every layer's states, as in the code;
      ``share_norm=False`` gives each layer its own.
    * ``dropout=0.01``: the authors' config default ``mask_dropout`` (their module default 0.1),
      applied after each layer's ReLU and after the mixer's.
    * ``init="normal"``: their mask modules are built inside a ``from_pretrained`` model, so
      they receive the model's ``_init_weights``: N(0, 0.02²) weights, zero biases. The masks
      then start small, not near 1: for GPT-2-large sizes (L = 36, H = 1280) E[s] ≈ 0.29,
      and the mixer's small weights give masks averaging a few hundredths, with a share of
      exact zeros that depends on the draw (a quarter to nearly all tokens in our checks).
      ``init="ones"`` (our option) starts every token at exactly 1 in eval mode (w_ℓ = 0,
      b_ℓ = 1, v_ℓ = 1/L; 1 in expectation under dropout), so SparsePO starts as TDPO1 (plus
      the L1 term); the LayerNorm gets gradients once the w_ℓ move off 0.

    Args:
        num_layers: L, the number of hidden states given (the reference model's layers).
        hidden_size: H.
        dropout: dropout probability.
        init: ``"normal"`` (authors) or ``"ones"``.
        init_std: std of the normal init (the model's ``initializer_range``).
        share_norm: one LayerNorm for all layers, or one per layer.
        eps: LayerNorm epsilon.
    """

    def __init__(
        self,
        num_layers: int,
        hidden_size: int,
        dropout: float = 0.01,
        init: Literal["normal", "ones"] = "normal",
        init_std: float = 0.02,
        share_norm: bool = True,
        eps: float = 1e-5,
    ):
        super().__init__()
        for name, value in (("num_layers", num_layers), ("hidden_size", hidden_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.num_layers, self.hidden_size = num_layers, hidden_size
        self.norms = nn.ModuleList(
            nn.LayerNorm(hidden_size, eps=eps) for _ in range(1 if share_norm else num_layers)
        )
        self.scorers = nn.ModuleList(
            nn.Sequential(nn.Linear(hidden_size, 1), nn.ReLU(), nn.Dropout(dropout))
            for _ in range(num_layers)
        )
        self.mixer = nn.Linear(num_layers, 1, bias=False)
        self.out_dropout = nn.Dropout(dropout)
        self._initialize(init, init_std)

    @classmethod
    def from_config(cls, config, **kwargs) -> LearnedTokenMask:
        """Sized for a Hugging Face config (``num_hidden_layers``, ``hidden_size``)."""
        return cls(config.num_hidden_layers, config.hidden_size, **kwargs)

    def _initialize(self, init: str, init_std: float) -> None:
        with torch.no_grad():
            if init == "normal":
                for linear in (*(s[0] for s in self.scorers), self.mixer):
                    linear.weight.normal_(0.0, init_std)
                for scorer in self.scorers:
                    scorer[0].bias.zero_()
            elif init == "ones":
                for scorer in self.scorers:
                    scorer[0].weight.zero_()
                    scorer[0].bias.fill_(1.0)
                self.mixer.weight.fill_(1.0 / self.num_layers)
            else:
                raise ValueError(f"init must be 'normal' or 'ones', got {init!r}")

    def _states(self, hidden_states: Tensor | Sequence[Tensor]) -> Tensor:
        """Validate the hidden states; (L, B, T, H) in the mask's dtype."""
        if not isinstance(hidden_states, Tensor):
            hidden_states = torch.stack(list(hidden_states))
        expected = (self.num_layers, self.hidden_size)
        if (
            hidden_states.dim() != 4
            or (hidden_states.shape[0], hidden_states.shape[-1]) != expected
        ):
            raise ValueError(
                f"hidden_states must be (L={self.num_layers}, B, T, H={self.hidden_size}) or "
                f"{self.num_layers} tensors (B, T, H), got shape {tuple(hidden_states.shape)}"
            )
        check_finite("hidden_states", hidden_states.transpose(0, 1))
        return hidden_states.to(self.mixer.weight.dtype)

    def forward(
        self, hidden_states: Tensor | Sequence[Tensor], completion_mask: Tensor | None = None
    ) -> Tensor:
        """(L, B, T, H) hidden states -> (B, T) mask ≥ 0, 0 outside ``completion_mask`` if given."""
        states = self._states(hidden_states)
        norms = self.norms if len(self.norms) > 1 else [self.norms[0]] * self.num_layers
        scores = torch.cat(
            [scorer(norm(h)) for scorer, norm, h in zip(self.scorers, norms, states, strict=True)],
            dim=-1,
        )  # (B, T, L)
        mask = self.out_dropout(torch.relu(self.mixer(scores))).squeeze(-1)  # (B, T)
        if completion_mask is None:
            return mask
        keep = bool_mask("completion_mask", completion_mask, mask, "the mask")
        return torch.where(keep, mask, 0.0)


class SparsePOMasks(nn.Module):
    """The learned masks of SparsePO: ``mode="common"``, one :class:`LearnedTokenMask` whose
    output serves as both m^u and m^d, or ``"independent"``, one for each (the authors'
    ``rw_kl_independent``). Keyword arguments go to :class:`LearnedTokenMask`.

    ``forward`` returns ``(m_u, m_d)``, each (B, T); in common mode they are the same tensor.
    Parameter names contain ``mask`` (``common_mask``, ``reward_mask``, ``kl_mask``).
    """

    def __init__(
        self,
        num_layers: int,
        hidden_size: int,
        mode: Literal["common", "independent"] = "common",
        **mask_kwargs,
    ):
        super().__init__()
        if mode not in ("common", "independent"):
            raise ValueError(f"mode must be 'common' or 'independent', got {mode!r}")
        self.mode = mode
        names = ("common_mask",) if mode == "common" else ("reward_mask", "kl_mask")
        for name in names:
            self.add_module(name, LearnedTokenMask(num_layers, hidden_size, **mask_kwargs))

    @classmethod
    def from_config(cls, config, mode: str = "common", **mask_kwargs) -> SparsePOMasks:
        """Sized for a Hugging Face config (``num_hidden_layers``, ``hidden_size``)."""
        return cls(config.num_hidden_layers, config.hidden_size, mode, **mask_kwargs)

    def forward(
        self, hidden_states: Tensor | Sequence[Tensor], completion_mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        if self.mode == "common":
            mask = self.common_mask(hidden_states, completion_mask)
            return mask, mask
        return (
            self.reward_mask(hidden_states, completion_mask),
            self.kl_mask(hidden_states, completion_mask),
        )


def l1_penalty(mask: Tensor, completion_mask: Tensor) -> Tensor:
    """‖m‖₁ over the completion tokens of each sequence, Σ_t |m_t|; (B, T) -> (B,).

    SparsePO adds λ_u (‖m^u_w‖₁ + ‖m^u_l‖₁) + λ_d (‖m^d_w‖₁ + ‖m^d_l‖₁) to the loss
    (``sparsepo_loss`` does so given ``l1_reward``/``l1_kl``); this is one of those norms.
    """
    check_tokens("mask", mask)
    keep = bool_mask("completion_mask", completion_mask, mask, "mask")
    return torch.where(keep, mask.abs(), 0.0).sum(-1)


def mask_parameter_groups(module: nn.Module, weight_decay: float = 0.01) -> list[dict]:
    """Optimizer parameter groups for mask parameters with their own weight decay.

    As in the authors' ``create_optimizer`` (``mask_weight_decay``, default 0.01), the decay
    applies to the mask's weight matrices; biases and LayerNorm parameters (1-D) get none, as
    Hugging Face's Trainer does for every model. Combine with the policy's groups::

        torch.optim.AdamW(policy_groups + mask_parameter_groups(masks, 0.01), lr=...)
    """
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    trainable = [p for p in module.parameters() if p.requires_grad]
    return [
        {"params": [p for p in trainable if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in trainable if p.dim() < 2], "weight_decay": 0.0},
    ]
