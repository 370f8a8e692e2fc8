"""The registry of token-level methods: one entry per ``TokenPOConfig.method``.

An entry (:class:`TokenMethod`) declares everything the trainer and the config need to run a
loss, so that neither holds a switch over method names:

* ``loss(batch, **inputs, **params) -> LossOutput``, ``batch`` a
  :class:`~toolkit.alignment.TokenBatch` of B pairs, ``losses`` one value per pair;
* ``columns``: loss keyword → dataset column (``chosen_weights`` / ``rejected_weights``) it
  reads, one value per completion token; ``masks=True`` when they are {0, 1} token masks
  (tokens a column does not cover then get 0, not 1);
* ``inputs``: the per-token quantities the trainer computes for it, among :data:`INPUTS`
  (``when`` switches one on only if a bool config field is true);
* ``params``: loss keyword → :class:`Param`, a scalar read from a ``TokenPOConfig`` field or
  from ``TokenPOConfig.method_kwargs``, with its default and its check.

A new loss is one function and one :func:`register_method` call (``docs/methods/token_po.md``,
"Adding a loss").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType

from toolkit._checks import check_choice, check_str, describe
from toolkit.alignment.losses import (
    LossOutput,
    aligndistil_pair_loss,
    dpo_loss,
    sparsepo_loss,
    target_dpo_loss,
    tdpo_loss,
    tis_dpo_loss,
)
from toolkit.alignment.losses.aligndistil import TVD_CONVENTIONS
from toolkit.alignment.losses.core import check_nonnegative, check_positive

WEIGHT_COLUMNS = ("chosen_weights", "rejected_weights")

INPUTS = MappingProxyType(
    {
        "kl": "KL_t(πref‖πθ) per position, as TokenBatch.chosen_kl / rejected_kl",
        "sparsepo_masks": "SparsePO's m^u and m^d (TokenPOConfig.sparsepo_mask): keywords "
        "reward_mask_chosen, reward_mask_rejected, kl_mask_chosen, kl_mask_rejected",
        "policy_logits": "the policy's next-token logits (2B, T, V), chosen rows first",
        "ref_logits": "the reference's next-token logits (2B, T, V), detached",
        "teacher_logits": "dpo_logits and reverse_logits (2B, T, V) of the trainer's dpo_model "
        "and reverse_model (reverse_logits None without one), detached",
    }
)
"""The per-token quantities the trainer can compute, by the name an entry's ``inputs`` uses."""

FULL_LOGITS = frozenset({"policy_logits", "ref_logits", "teacher_logits"})
"""Inputs that need B×T×V logits, which ``use_fused_kernels=True`` never materializes."""


def check_bool(name: str, value: object) -> bool:
    """A ``bool`` (not 0/1, not a string)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {describe(value)}")
    return value


@dataclass(frozen=True)
class Param:
    """A scalar a loss takes from the config, checked when the config is built.

    ``field`` names a ``TokenPOConfig`` field (the built-in methods' named options);
    without one the value is ``method_kwargs[keyword]``, ``default`` when absent.
    ``check(name, value)`` raises ``TypeError``/``ValueError`` naming it.
    """

    check: Callable[[str, object], object]
    field: str | None = None
    default: object = None


@dataclass(frozen=True)
class TokenMethod:
    """One token-level method as ``TokenPOTrainer`` runs it (see the module docstring)."""

    loss: Callable[..., LossOutput]
    params: Mapping[str, Param] = field(default_factory=dict)
    columns: Mapping[str, str] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()
    when: Mapping[str, str] = field(default_factory=dict)
    masks: bool = False

    def __post_init__(self) -> None:
        if not callable(self.loss):
            raise TypeError(f"loss must be a function, got {describe(self.loss)}")
        for keyword, param in self.params.items():
            if not isinstance(param, Param):
                raise TypeError(f"params[{keyword!r}] must be a Param(...), got {describe(param)}")
        for keyword, column in self.columns.items():
            if column not in WEIGHT_COLUMNS:
                raise ValueError(
                    f"columns[{keyword!r}] must be one of {', '.join(WEIGHT_COLUMNS)}, "
                    f"got {column!r}"
                )
        for name in (*self.inputs, *self.when):
            if name not in INPUTS:
                raise ValueError(
                    f"unknown input {name!r}; the trainer computes {', '.join(INPUTS)}"
                )

    @property
    def fill(self) -> float:
        """Value of the completion tokens a column does not cover (EOS, prompt tail)."""
        return 0.0 if self.masks else 1.0

    def needs(self, config) -> frozenset[str]:
        """The inputs this method needs under ``config``."""
        switched = {name for name, flag in self.when.items() if getattr(config, flag)}
        return frozenset(self.inputs) | switched

    def param_values(self, config) -> dict[str, object]:
        """``{keyword: value}`` of every param under ``config``."""
        given = config.method_kwargs or {}
        return {
            keyword: getattr(config, p.field) if p.field else given.get(keyword, p.default)
            for keyword, p in self.params.items()
        }

    def check_config(self, name: str, config) -> None:
        """``method_kwargs`` names only this method's free params, each value checked."""
        given = config.method_kwargs or {}
        free = [k for k, p in self.params.items() if p.field is None]
        unknown = [k for k in given if k not in free]
        if unknown:
            raise ValueError(
                f"method_kwargs {unknown} are not parameters of method {name!r} "
                f"(it takes {', '.join(free) or 'none'})"
            )
        for keyword, value in self.param_values(config).items():
            param = self.params[keyword]
            param.check(param.field or f"method_kwargs[{keyword!r}]", value)


def _check_option(name: str, value: object, options: tuple) -> object:
    return check_choice(name, value, options)


def _alpha(field_name: str) -> Param:
    """α of a KL or NLL term, read from the config field ``field_name``."""
    return Param(check_nonnegative, field=field_name)


_PAIR_COLUMNS = {"chosen_weights": "chosen_weights", "rejected_weights": "rejected_weights"}

_METHODS: dict[str, TokenMethod] = {
    "dpo": TokenMethod(
        dpo_loss,
        params={"label_smoothing": Param(check_nonnegative, field="label_smoothing")},
    ),
    "tdpo1": TokenMethod(partial(tdpo_loss, variant=1), inputs=("kl",)),
    "tdpo2": TokenMethod(
        partial(tdpo_loss, variant=2),
        params={"alpha": _alpha("tdpo_alpha")},
        inputs=("kl",),
    ),
    "sparsepo": TokenMethod(
        sparsepo_loss,
        params={
            "l1_reward": Param(check_nonnegative, field="sparsepo_l1_per_mask"),
            "l1_kl": Param(check_nonnegative, field="sparsepo_l1_per_mask"),
        },
        inputs=("kl", "sparsepo_masks"),
    ),
    "tis_dpo": TokenMethod(
        tis_dpo_loss,
        params={
            "alpha": _alpha("tis_alpha"),
            "token_level": Param(check_bool, field="tis_token_level"),
        },
        columns=_PAIR_COLUMNS,
        when={"kl": "tis_token_level"},
    ),
    "target_dpo": TokenMethod(
        partial(target_dpo_loss, alpha=0.0),
        columns={"rejected_diff_mask": "rejected_weights"},
        masks=True,
    ),
    "target_rpo": TokenMethod(
        target_dpo_loss,
        params={"alpha": _alpha("target_rpo_alpha")},
        columns={"rejected_diff_mask": "rejected_weights"},
        masks=True,
    ),
    "aligndistil": TokenMethod(
        aligndistil_pair_loss,
        params={
            "beta2": Param(check_positive, field="aligndistil_beta2"),
            "tvd": Param(partial(_check_option, options=TVD_CONVENTIONS), field="aligndistil_tvd"),
        },
        inputs=("policy_logits", "ref_logits", "teacher_logits"),
    ),
}

METHODS: Mapping[str, TokenMethod] = MappingProxyType(_METHODS)
"""Method name → :class:`TokenMethod`, read-only; add one with :func:`register_method`."""


def register_method(name: str, method: TokenMethod) -> TokenMethod:
    """Make ``method`` available as ``TokenPOConfig(method=name)``; returns it.

    A name already taken is refused (a built-in or an earlier registration).
    """
    check_str("name", name)
    if not isinstance(method, TokenMethod):
        raise TypeError(f"method must be a TokenMethod(...), got {describe(method)}")
    if name in _METHODS:
        raise ValueError(f"method {name!r} is already registered; choose another name")
    _METHODS[name] = method
    return method


def get_method(name: str) -> TokenMethod:
    """The registered method ``name``; a ``ValueError`` lists the registered ones."""
    if name not in _METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, _METHODS))}; got {name!r}")
    return _METHODS[name]


__all__ = [
    "FULL_LOGITS",
    "INPUTS",
    "METHODS",
    "Param",
    "TokenMethod",
    "WEIGHT_COLUMNS",
    "check_bool",
    "get_method",
    "register_method",
]
