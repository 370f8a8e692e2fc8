"""AnnotatorMixView: change the annotator mix, see who the aligned model serves.

Notebook 08 (global representation, after Durmus et al., arXiv 2306.16388) aligns one base
model on annotator pools of many group mixes and measures every group. Nothing is trained in
the view: it holds that precomputed sweep. A learner sets a weight per group with sliders;
the view normalizes them to a mix, finds the **nearest mix of the sweep** (Euclidean distance
between share vectors, the first on ties) and shows, for the chosen metric and training
stage:

- left, each group's value at that mix as a bar, with the base model's value (before any
  alignment) as a dashed mark, and the best–worst gap in the readout;
- right, the sweep's mixes on a triangle (one corner per group, shares as barycentric
  coordinates), each dot filled by its gap on one sequential scale; the nearest mix is
  ringed and the learner's own mix marked with a cross. Clicking a dot moves the sliders
  there.

All data travels with the widget, so it works the same in a static HTML export.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import traitlets

from widgets.base import (
    InvalidValue,
    WidgetBase,
    check_choice,
    check_str_list,
    float32_bytes,
    from_float32_bytes,
)

RUN_KEYS = ("mix", "stage", "metrics")


def _number(value: object, label: str, lo: float = -math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{label} is {type(value).__name__} {value!r}; expected a number")
    value = float(value)
    if not math.isfinite(value) or value < lo:
        bound = "" if lo == -math.inf else f" >= {lo:g}"
        raise ValueError(f"{label} is {value}; expected a finite number{bound}")
    return value


def _shares(mix: object, groups: Sequence[str], label: str) -> tuple[float, ...]:
    """A mix as shares in group order, normalized (relative weights)."""
    if not isinstance(mix, Mapping):
        raise TypeError(f"{label} is {type(mix).__name__}; expected a mapping group -> share")
    unknown = [g for g in mix if g not in groups]
    if unknown:
        raise ValueError(f"{label} names unknown group(s) {unknown}; the groups are {list(groups)}")
    weights = [_number(mix.get(g, 0.0), f"{label}[{g!r}]", lo=0.0) for g in groups]
    total = sum(weights)
    if total <= 0:
        raise ValueError(f"{label} is all zero; give at least one group a positive share")
    return tuple(w / total for w in weights)


def nearest(shares: Sequence[Sequence[float]], weights: Sequence[float]) -> int:
    """Index of the row of ``shares`` nearest (Euclidean) to ``weights`` normalized; the
    first on ties. All-zero weights give 0 (the view shows the first mix)."""
    total = sum(weights)
    target = [w / total for w in weights] if total > 0 else None
    if target is None:
        return 0
    distances = [sum((a - b) ** 2 for a, b in zip(row, target, strict=True)) for row in shares]
    best = min(distances)
    return next(i for i, d in enumerate(distances) if d <= best + 1e-12)


class AnnotatorMixView(WidgetBase):
    """A precomputed sweep over annotator mixes: per-group metrics and their gap.

    Args:
        runs: one mapping per trained model, with ``mix`` (group -> share; relative weights,
            normalized), ``stage`` (e.g. ``"sft"``, ``"dpo"``) and ``metrics`` (metric ->
            group -> value, finite numbers). Every mix needs every stage, and every run the
            same metrics and every group.
        groups: the groups, in slider order.
        metric_labels: metric -> axis label (default: the metric's name).
        higher_is_better: metric -> whether higher values serve a group better (default
            True; perplexity is False). The gap is |best − worst| either way.
        reference: metric -> group -> the base model's value (optional; drawn dashed).
        title: heading shown above the view.

    Synced state: ``weights`` (one slider value per group, >= 0; default: the first mix's
    shares), ``metric`` and ``stage`` (defaults: the first). Data traits are read-only:
    ``groups``, ``stages``, ``metrics``, ``metric_labels``, ``higher_is_better``, ``mixes``
    (shares per mix, group order), ``reference`` and the float32 buffer ``_values``
    (mix × stage × metric × group). ``mix_index`` is the nearest mix; ``values()`` and
    ``gap()`` read what the view shows.

    Raises:
        TypeError: a run that is not a mapping; a mix, metrics or reference that is not a
            mapping; a value that is not a number.
        ValueError: naming the run and key: no runs; a run without ``mix``, ``stage`` or
            ``metrics``; an unknown group; a negative, non-finite or all-zero mix; a
            metric missing a group or a value that is not finite; a mix missing a stage or
            given twice; runs with different metrics.
    """

    _asset = "annotator_mix_view"

    groups = traitlets.List(traitlets.Unicode(), read_only=True).tag(sync=True)
    stages = traitlets.List(traitlets.Unicode(), read_only=True).tag(sync=True)
    metrics = traitlets.List(traitlets.Unicode(), read_only=True).tag(sync=True)
    metric_labels = traitlets.Dict(read_only=True).tag(sync=True)
    higher_is_better = traitlets.Dict(read_only=True).tag(sync=True)
    mixes = traitlets.List(traitlets.List(traitlets.Float()), read_only=True).tag(sync=True)
    reference = traitlets.Dict(read_only=True).tag(sync=True)
    _values = traitlets.Bytes(read_only=True).tag(sync=True)
    weights = traitlets.List(traitlets.Float(), help="Slider weight per group.").tag(sync=True)
    metric = traitlets.Unicode(help="The metric shown.").tag(sync=True)
    stage = traitlets.Unicode(help="The training stage shown.").tag(sync=True)

    def __init__(
        self,
        runs: Sequence[Mapping],
        *,
        groups: Sequence[str],
        metric_labels: Mapping[str, str] | None = None,
        higher_is_better: Mapping[str, bool] | None = None,
        reference: Mapping[str, Mapping[str, float]] | None = None,
        title: str = "",
    ) -> None:
        groups = check_str_list(
            groups, "groups", kind="a list of group names", if_empty="name the groups"
        )
        if len(set(groups)) != len(groups):
            raise ValueError(f"groups repeats a name: {groups}")
        if isinstance(runs, Mapping) or not isinstance(runs, Sequence) or not runs:
            raise ValueError("runs is empty; pass one mapping per trained model of the sweep")
        table: dict[tuple[float, ...], dict[str, dict[str, list[float]]]] = {}
        stages: list[str] = []
        metric_names: list[str] | None = None
        for i, run in enumerate(runs):
            if not isinstance(run, Mapping):
                raise TypeError(
                    f"runs[{i}] is {type(run).__name__}; expected a mapping with keys "
                    f"{', '.join(RUN_KEYS)}"
                )
            missing = [k for k in RUN_KEYS if k not in run]
            if missing:
                raise ValueError(
                    f"runs[{i}] has no {', '.join(map(repr, missing))}; each run needs "
                    f"{', '.join(RUN_KEYS)}"
                )
            shares = tuple(round(s, 9) for s in _shares(run["mix"], groups, f"runs[{i}] mix"))
            stage = run["stage"]
            if not isinstance(stage, str) or not stage:
                raise ValueError(f"runs[{i}] stage is {stage!r}; expected a non-empty str")
            metrics = run["metrics"]
            if not isinstance(metrics, Mapping) or not metrics:
                raise TypeError(
                    f"runs[{i}] metrics must be a non-empty mapping metric -> group -> value"
                )
            names = [str(m) for m in metrics]
            if metric_names is None:
                metric_names = names
            elif sorted(names) != sorted(metric_names):
                raise ValueError(f"runs[{i}] has metrics {names}, runs[0] has {metric_names}")
            values = {}
            for m in metric_names:
                per_group = metrics[m]
                if not isinstance(per_group, Mapping):
                    raise TypeError(f"runs[{i}] metrics[{m!r}] must map each group to a value")
                absent = [g for g in groups if g not in per_group]
                if absent:
                    raise ValueError(f"runs[{i}] metrics[{m!r}] has no value for group(s) {absent}")
                values[m] = [
                    _number(per_group[g], f"runs[{i}] metrics[{m!r}][{g!r}]") for g in groups
                ]
            cell = table.setdefault(shares, {})
            if stage in cell:
                raise ValueError(
                    f"runs[{i}] repeats stage {stage!r} at mix "
                    f"{dict(zip(groups, shares, strict=True))}"
                )
            cell[stage] = values
            if stage not in stages:
                stages.append(stage)
        for shares, cell in table.items():
            lacking = [s for s in stages if s not in cell]
            if lacking:
                raise ValueError(
                    f"mix {dict(zip(groups, shares, strict=True))} has no run for stage(s) "
                    f"{lacking}; "
                    "the sweep needs every stage at every mix"
                )
        assert metric_names is not None
        labels = {m: m for m in metric_names}
        for m, text in (metric_labels or {}).items():
            if m in labels:
                if not isinstance(text, str):
                    raise TypeError(f"metric_labels[{m!r}] must be a str")
                labels[m] = text
        better = {m: True for m in metric_names}
        for m, flag in (higher_is_better or {}).items():
            if m in better:
                if not isinstance(flag, bool):
                    raise TypeError(f"higher_is_better[{m!r}] must be True or False")
                better[m] = flag
        ref = {}
        if reference is not None:
            if not isinstance(reference, Mapping):
                raise TypeError("reference must be a mapping metric -> group -> value")
            for m, per_group in reference.items():
                if m not in labels:
                    continue
                if not isinstance(per_group, Mapping) or any(g not in per_group for g in groups):
                    raise ValueError(f"reference[{m!r}] must give a value for every group {groups}")
                ref[m] = [_number(per_group[g], f"reference[{m!r}][{g!r}]") for g in groups]
        mixes = list(table)
        array = np.array(
            [[[table[mix][s][m] for m in metric_names] for s in stages] for mix in mixes],
            dtype=np.float64,
        )
        self.set_trait("groups", groups)
        self.set_trait("stages", stages)
        self.set_trait("metrics", metric_names)
        self.set_trait("metric_labels", labels)
        self.set_trait("higher_is_better", better)
        self.set_trait("mixes", [list(m) for m in mixes])
        self.set_trait("reference", ref)
        self.set_trait("_values", float32_bytes(array))
        super().__init__(
            weights=list(mixes[0]), metric=metric_names[0], stage=stages[-1], title=title
        )

    @property
    def mix_index(self) -> int:
        """Index into ``mixes`` of the sweep mix nearest the sliders."""
        return nearest(self.mixes, self.weights)

    @property
    def mix(self) -> dict[str, float]:
        """The sweep mix shown."""
        return dict(zip(self.groups, self.mixes[self.mix_index], strict=True))

    def values(
        self, metric: str | None = None, stage: str | None = None, index: int | None = None
    ) -> np.ndarray:
        """Each group's value (float32, as the browser has it) at a mix (default: the one shown)."""
        metric = self.metric if metric is None else check_choice(metric, self.metrics, "metric")
        stage = self.stage if stage is None else check_choice(stage, self.stages, "stage")
        index = self.mix_index if index is None else index
        shape = (len(self.mixes), len(self.stages), len(self.metrics), len(self.groups))
        table = from_float32_bytes(self._values).reshape(shape)
        return table[index, self.stages.index(stage), self.metrics.index(metric)]

    def gap(
        self, metric: str | None = None, stage: str | None = None, index: int | None = None
    ) -> float:
        """Best minus worst group (absolute) at a mix."""
        v = self.values(metric, stage, index)
        return float(v.max() - v.min())

    @traitlets.validate("weights")
    def _validate_weights(self, proposal: traitlets.Bunch) -> list[float]:
        weights = list(proposal["value"])
        if len(weights) != len(self.groups):
            raise InvalidValue(
                f"weights must hold {len(self.groups)} values, one per group {self.groups}"
            )
        for g, w in zip(self.groups, weights, strict=True):
            if not math.isfinite(w) or w < 0:
                raise InvalidValue(f"weights[{g!r}] is {w}; a weight must be a finite number >= 0")
        if sum(weights) <= 0:
            raise InvalidValue("weights are all zero; give at least one group a positive weight")
        return weights

    @traitlets.validate("metric", "stage")
    def _validate_choice(self, proposal: traitlets.Bunch) -> str:
        name = proposal["trait"].name
        return check_choice(
            proposal["value"], self.metrics if name == "metric" else self.stages, name
        )
