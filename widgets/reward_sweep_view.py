"""RewardSweepView: reward models trained over a sweep of MMD weights λ, one slider away.

Notebook 02 (causal reward models, Wang et al., arXiv 2501.09620) trains a reward model
for each spurious variable Z (a "bias": response length, sycophancy, topic, demographic
group), each variant of the MMD penalty ("unconditional", "conditional") and each penalty
weight λ (λ = 0 is the vanilla reward model). The view shows one of those models at a
time, picked with a bias menu, a variant menu and a λ slider:

- left, the reward the model gives each test response of the bias against the response's Z
  category, one dot per response and a bar at each category's mean. A model invariant to Z
  gives every category the same mean. The reward axis is fixed per bias over every λ and
  variant, so dragging the slider shows the categories drawing together (or not).
- right, what the sweep trades: de-confounded preference accuracy against counterfactual
  gap (log scale, reversed so more invariant is to the right) for every model of the bias,
  the models of the shown variant joined in λ order and the shown model ringed.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import traitlets

from widgets.base import (
    WidgetBase,
    as_numeric_array,
    check_choice,
    check_number,
    check_shape,
    check_str_list,
    float32_bytes,
    from_float32_bytes,
    validated_float_array,
)

RUN_KEYS = ("bias", "variant", "lam", "rewards", "accuracy", "gap")


def _check_name(value: object, label: str) -> str:
    """A bias or variant name: a non-empty str without "|" (it separates the buffer keys)."""
    if not isinstance(value, str):
        raise TypeError(f"{label} is {type(value).__name__} {value!r}; expected a str")
    if not value or "|" in value:
        raise ValueError(f"{label} is {value!r}; expected a non-empty str without '|'")
    return value


def _check_labels(bias: str, labels: object) -> list[str]:
    return check_str_list(
        labels,
        f"z_labels[{bias!r}]",
        kind="a list of category names",
        if_empty="name each Z category, in axis order",
    )


def _check_codes(bias: str, codes: object, n_labels: int) -> np.ndarray:
    """The Z category index of each test response: 1-D, non-empty, ints in [0, n_labels)."""
    label = f"z[{bias!r}]"
    array = as_numeric_array(codes, label)
    check_shape(array, (None,), label, ("test responses",))
    if not array.size:
        raise ValueError(f"{label} is empty; pass one Z category index per test response")
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"{label} must hold integer category indices, got dtype {array.dtype}; "
            "convert it first, e.g. np.asarray(codes, dtype=int)"
        )
    bad = np.flatnonzero((array < 0) | (array >= n_labels))
    if bad.size:
        j = int(bad[0])
        raise ValueError(
            f"{label}[{j}] is {array[j]}; expected a category index in [0, {n_labels - 1}] "
            f"(z_labels[{bias!r}] names {n_labels})"
        )
    return array


class RewardSweepView(WidgetBase):
    """Reward models of a λ sweep: rewards by Z category and the accuracy/invariance trade-off.

    Args:
        runs: one mapping per trained reward model, with keys ``bias`` and ``variant`` (str),
            ``lam`` (the MMD weight λ >= 0; 0 for the vanilla model), ``rewards`` (the
            reward of each test response of the bias, ``(N_bias,)`` finite numbers: list,
            NumPy array or CPU tensor), ``accuracy`` (de-confounded preference accuracy in
            [0, 1]) and ``gap`` (counterfactual gap >= 0). Every combination of bias,
            variant and λ must appear exactly once. Biases and variants keep the order they
            first appear in; λs are sorted.
        z: bias -> the Z category index of each of its test responses, ``(N_bias,)`` ints.
        z_labels: bias -> the names of its Z categories, in axis order.
        title: heading shown above the view.

    Synced state: ``bias`` (default: the first), ``variant`` (default: ``"conditional"``
    when there is one, else the first) and ``lam_index`` (index into ``lambdas``, default
    0; ``lam`` reads its λ). The data traits (``biases``, ``variants``, ``lambdas``,
    ``z_labels``, ``points``: ``{bias, variant, lam, accuracy, gap}`` per model, by bias,
    variant and λ) are read-only; ``rewards(bias, variant, lam)`` returns a model's rewards.

    Raises:
        TypeError: a run that is not a mapping; a bias or variant that is not a str; a
            non-numeric λ, accuracy, gap or rewards; Z indices that are not ints; labels that
            are one str or hold a non-str.
        ValueError: empty ``runs``; a run that lacks a key; an empty bias or variant, or one
            with "|"; a λ, accuracy or gap that is not finite or
            out of range ("runs[3] accuracy is 1.2; expected a finite number in [0, 1]");
            rewards whose length differs from the bias's ``z`` or that hold NaN/inf (the
            message names the run and the first bad index); a bias missing from ``z`` or
            ``z_labels``; Z indices out of range of the labels;
            empty labels; a bias, variant and λ combination missing or given twice.
    """

    _asset = "reward_sweep_view"

    # Fixed at construction (make a new view for new data); the view builds its DOM once.
    biases = traitlets.List(
        traitlets.Unicode(), read_only=True, help="Biases (spurious variables Z), menu order."
    ).tag(sync=True)
    variants = traitlets.List(
        traitlets.Unicode(), read_only=True, help="MMD variants, menu order."
    ).tag(sync=True)
    lambdas = traitlets.List(
        traitlets.Float(), read_only=True, help="The swept MMD weights λ, increasing."
    ).tag(sync=True)
    z_labels = traitlets.Dict(
        value_trait=traitlets.List(traitlets.Unicode()),
        read_only=True,
        help="Bias -> names of its Z categories, in axis order.",
    ).tag(sync=True)
    points = traitlets.List(
        traitlets.Dict(),
        read_only=True,
        help="{bias, variant, lam, accuracy, gap} of each model, by bias, variant and λ.",
    ).tag(sync=True)
    # Little-endian float32 bytes, each sent as a binary buffer: bias -> Z index of each test
    # response, and "bias|variant|k" (k: index into lambdas) -> that model's rewards.
    _z = traitlets.Dict(read_only=True).tag(sync=True)
    _rewards = traitlets.Dict(read_only=True).tag(sync=True)
    # Live, synced both ways.
    bias = traitlets.Unicode(help="The bias shown.").tag(sync=True)
    variant = traitlets.Unicode(help="The variant shown.").tag(sync=True)
    lam_index = traitlets.Int(0, help="Index into lambdas of the λ shown.").tag(sync=True)

    def __init__(
        self,
        runs: Sequence[Mapping],
        z: Mapping[str, Sequence[int]],
        z_labels: Mapping[str, Sequence[str]],
        *,
        title: str = "",
    ) -> None:
        runs = list(runs)
        if not runs:
            raise ValueError("runs is empty; pass one mapping per trained reward model")
        codes: dict[str, np.ndarray] = {}
        labels: dict[str, list[str]] = {}
        models: dict[tuple[str, str, float], dict] = {}  # (bias, variant, λ) -> checked run
        for i, run in enumerate(runs):
            if not isinstance(run, Mapping):
                raise TypeError(
                    f"runs[{i}] is {type(run).__name__}; expected a mapping with keys "
                    f"{', '.join(RUN_KEYS)}"
                )
            missing = [key for key in RUN_KEYS if key not in run]
            if missing:
                raise ValueError(
                    f"runs[{i}] has no {', '.join(map(repr, missing))}; each run needs "
                    f"{', '.join(RUN_KEYS)}"
                )
            bias = _check_name(run["bias"], f"runs[{i}] bias")
            variant = _check_name(run["variant"], f"runs[{i}] variant")
            lam = check_number(run["lam"], f"runs[{i}] lam", lo=0)
            if bias not in codes:
                for name, mapping in (("z", z), ("z_labels", z_labels)):
                    if bias not in mapping:
                        raise ValueError(
                            f"runs[{i}] bias {bias!r} is not in {name}, which has "
                            f"{sorted(mapping)}; give every bias in runs its Z codes and labels"
                        )
                labels[bias] = _check_labels(bias, z_labels[bias])
                codes[bias] = _check_codes(bias, z[bias], len(labels[bias]))
            key = (bias, variant, lam)
            if key in models:
                raise ValueError(
                    f"runs[{i}] repeats runs[{models[key]['index']}]: bias {bias!r}, variant "
                    f"{variant!r}, λ {lam:g}; pass each combination once"
                )
            models[key] = {
                "index": i,
                "rewards": validated_float_array(
                    run["rewards"],
                    f"runs[{i}] rewards",
                    (len(codes[bias]),),
                    (f"test responses in z[{bias!r}]",),
                ),
                "accuracy": check_number(run["accuracy"], f"runs[{i}] accuracy", lo=0, hi=1),
                "gap": check_number(run["gap"], f"runs[{i}] gap", lo=0),
            }

        biases = list(dict.fromkeys(bias for bias, _, _ in models))
        variants = list(dict.fromkeys(variant for _, variant, _ in models))
        lambdas = sorted({lam for _, _, lam in models})
        for bias, variant, lam in itertools.product(biases, variants, lambdas):
            if (bias, variant, lam) not in models:
                raise ValueError(
                    f"no run for bias {bias!r}, variant {variant!r}, λ {lam:g}; the sweep "
                    "needs one run per bias, variant and λ"
                )
        sweep = [
            (bias, variant, k, models[bias, variant, lam])
            for bias, variant, (k, lam) in itertools.product(biases, variants, enumerate(lambdas))
        ]
        # Read-only traits are set before ipywidgets opens the comm, so the first message
        # to the browser already carries the data.
        self.set_trait("biases", biases)
        self.set_trait("variants", variants)
        self.set_trait("lambdas", lambdas)
        self.set_trait("z_labels", labels)
        self.set_trait(
            "points",
            [
                {
                    "bias": bias,
                    "variant": variant,
                    "lam": lambdas[k],
                    "accuracy": model["accuracy"],
                    "gap": model["gap"],
                }
                for bias, variant, k, model in sweep
            ],
        )
        self.set_trait("_z", {bias: float32_bytes(c) for bias, c in codes.items()})
        self.set_trait(
            "_rewards",
            {f"{b}|{v}|{k}": float32_bytes(model["rewards"]) for b, v, k, model in sweep},
        )
        variant = "conditional" if "conditional" in variants else variants[0]
        super().__init__(bias=biases[0], variant=variant, title=title)

    @property
    def lam(self) -> float:
        """The λ of the model shown."""
        return self.lambdas[self.lam_index]

    def rewards(
        self, bias: str | None = None, variant: str | None = None, lam: float | None = None
    ) -> np.ndarray:
        """The float32 rewards, as the browser has them, that the model (bias, variant, λ)
        gives each test response of ``bias``; each argument defaults to the model shown."""
        bias = self.bias if bias is None else check_choice(bias, self.biases, "bias")
        variant = (
            self.variant if variant is None else check_choice(variant, self.variants, "variant")
        )
        if lam is None:
            k = self.lam_index
        elif lam in self.lambdas:
            k = self.lambdas.index(lam)
        else:
            raise ValueError(f"no run at λ {lam}; the λs are {self.lambdas}")
        return from_float32_bytes(self._rewards[f"{bias}|{variant}|{k}"])

    @traitlets.validate("bias", "variant")
    def _validate_choice(self, proposal: traitlets.Bunch) -> str:
        name = proposal["trait"].name
        options = self.biases if name == "bias" else self.variants
        return check_choice(proposal["value"], options, name)

    @traitlets.validate("lam_index")
    def _validate_lam_index(self, proposal: traitlets.Bunch) -> int:
        k = proposal["value"]
        if not 0 <= k < len(self.lambdas):
            raise traitlets.TraitError(
                f"lam_index must be an index into lambdas {self.lambdas}, in "
                f"[0, {len(self.lambdas) - 1}], got {k}"
            )
        return k
