"""AttentionGeometryView: the attention geometry behind Q-Filters and the KV cache it prunes.

Godey et al., "Q-Filters" (arXiv 2503.02812; docs/methods/qfilters.md). Per attention head, the
queries Q and the keys K share one dominant direction: the singular values
σ_1 ≥ σ_2 ≥ ... of each are steep, and the projection of a key on the head's filter f,
score(k) = −⟨f, k⟩, predicts the attention the key will receive without computing it.
Compressing the KV cache of T tokens at ratio r keeps

    kept = top_⌊T(1 − r)⌋(score) ∪ {T − window, ..., T − 1},

the best-scored keys plus the most recent ``window`` positions, a cache about ×1/(1 − r)
smaller (kvpress's ScorerPress keeps its ``int(L·(1 − ratio))`` keys by score the same way).

The view is data in, no model inside: the notebook computes the spectra, the scores of
each scorer (Q-Filters, K-norm, SnapKV, StreamingLLM, random, ...) and, on demand, the
exact attention row of a clicked query. For one layer and query head h (KV head
h // kv_group) it draws the singular spectra of Q and K, the tokens colored by the chosen
scorer with the evicted ones struck through at the slider's ratio (the browser computes the
kept set; ``kept_mask`` is the same rule in Python), and the clicked query's attention
row as a bar on each token, with the share of that attention the kept tokens hold.

:meth:`AttentionGeometryView.from_models` makes one view over several models' precomputed
results (e.g. the sizes of a model family) with a Model picker: every model's data is sent to
the browser once, so switching also works in a static HTML export.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from numbers import Real

import numpy as np
import traitlets

from widgets.base import (
    InvalidValue,
    WidgetBase,
    as_numeric_array,
    check_choice,
    check_finite,
    check_float32_range,
    check_nonnegative,
    check_str_list,
    check_token_index,
    float32_bytes,
    from_float32_bytes,
    validated_float_array,
)

SPECTRUM_SCALES = ("log", "normalized")
AttentionRow = Callable[[int, int, int], object]


def kept_positions(scores: np.ndarray, ratio: float, window: int) -> np.ndarray:
    """The kept mask (T,) of one head's key ``scores``: the rule the browser runs, and the one
    ``toolkit.attention.compression.select_entries`` applies to a cache.

    Keeps ``n_keep = int(T·(1 − ratio))`` positions: the last ``window`` always, the rest the
    top scores of the other positions — ties go to the earlier position, so the set is
    deterministic. A window longer than ``n_keep`` keeps just the window.
    """
    n = len(scores)
    kept = np.zeros(n, dtype=bool)
    kept[max(0, n - window) :] = True
    room = int(n * (1 - ratio)) - int(kept.sum())
    if room > 0:
        order = np.lexsort((np.arange(n), -scores))  # score descending, then position ascending
        kept[order[~kept[order]][:room]] = True
    return kept


def _check_ratio(ratio: object, label: str = "ratio") -> float:
    if isinstance(ratio, bool) or not isinstance(ratio, Real):
        raise TypeError(f"{label} must be a real number in [0, 1), got {type(ratio).__name__}")
    if not 0 <= ratio < 1:
        raise ValueError(
            f"{label} must be in [0, 1) (the fraction of keys evicted; ×1/(1 − {label}) "
            f"compression), got {ratio}"
        )
    return float(ratio)


def _check_int(value: object, label: str, expected: str = "an int") -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{label} must be {expected}, got {type(value).__name__} {value!r}")
    return int(value)


def _check_index(value: object, label: str, size: int, what: str) -> int:
    value = _check_int(value, label)
    if not 0 <= value < size:
        raise ValueError(f"{label} must be a {what} index in [0, {size - 1}], got {value}")
    return value


def _check_window(window: object) -> int:
    window = _check_int(window, "window", "an int >= 0")
    if window < 0:
        raise ValueError(f"window must be >= 0 (recent positions always kept), got {window}")
    return window


def _spectra(values: object, label: str, n_layers: int | None) -> np.ndarray:
    """A checked (layers, heads, D) float32 array of non-negative singular values."""
    array = validated_float_array(values, label, (n_layers, None, None), ("layers", "heads", "D"))
    if not array.size:
        raise ValueError(f"{label} has shape {array.shape}; every axis needs at least one entry")
    check_nonnegative(array, label, "singular values are >= 0")
    return array


def _check_kv_group(kv_group: object, n_heads: int, n_kv_heads: int) -> int:
    kv_group = _check_int(kv_group, "kv_group")
    if n_heads % n_kv_heads:
        raise ValueError(
            f"spectra_q has {n_heads} query heads, not a multiple of the {n_kv_heads} KV heads "
            "of spectra_k; each KV head must serve the same number of query heads"
        )
    if kv_group != n_heads // n_kv_heads:
        raise ValueError(
            f"kv_group is {kv_group}, but spectra_q has {n_heads} query heads and spectra_k "
            f"{n_kv_heads} KV heads: kv_group must be {n_heads} // {n_kv_heads} = "
            f"{n_heads // n_kv_heads}"
        )
    return kv_group


def _check_scorer_names(key_scores: object) -> Mapping[str, object]:
    if not isinstance(key_scores, Mapping):
        raise TypeError(
            "key_scores must map scorer name -> (layers, KV heads, tokens) scores, got "
            f"{type(key_scores).__name__}"
        )
    if not key_scores:
        raise ValueError("key_scores is empty; pass at least one, e.g. {'qfilters': scores}")
    for name in key_scores:
        if not isinstance(name, str) or not name:
            raise ValueError(f"key_scores names must be non-empty strings, got {name!r}")
    return key_scores


def _check_row(values: object, label: str, query: int, n_tokens: int) -> np.ndarray:
    """An attention row returned by the callable: (query + 1,) or (T,), finite, >= 0."""
    row = as_numeric_array(values, label)
    if row.shape not in ((query + 1,), (n_tokens,)):
        raise ValueError(
            f"{label} has shape {row.shape}; expected ({query + 1},) (keys 0..{query}) "
            f"or ({n_tokens},) (every token)"
        )
    row = row.astype(np.float64)
    check_finite(row, label)
    check_float32_range(row, label)
    check_nonnegative(row, label, "attention weights are probabilities")
    return row.astype(np.float32)


def _prepare(
    tokens: object,
    spectra_q: object,
    spectra_k: object,
    key_scores: object,
    kv_group: object,
    attention_row: object,
) -> tuple[dict[str, object], dict[str, np.ndarray]]:
    """Checked view data of one model: the synced traits and the float32 scores by scorer."""
    tokens = check_str_list(
        tokens, "tokens", kind="a sequence of strings", if_empty="pass at least one token"
    )
    q = _spectra(spectra_q, "spectra_q", None)
    n_layers, n_heads = q.shape[:2]
    k = _spectra(spectra_k, "spectra_k", n_layers)
    n_kv_heads = k.shape[1]
    kv_group = _check_kv_group(kv_group, n_heads, n_kv_heads)
    expected = (n_layers, n_kv_heads, len(tokens))
    scores = {
        name: validated_float_array(
            values, f"key_scores[{name!r}]", expected, ("layers", "KV heads", "tokens")
        )
        for name, values in _check_scorer_names(key_scores).items()
    }
    if attention_row is not None and not callable(attention_row):
        raise TypeError(
            "attention_row must be callable as attention_row(layer, head, query_index), "
            f"got {type(attention_row).__name__}"
        )
    data = {
        "tokens": tokens,
        "scorer_names": list(scores),
        "n_layers": n_layers,
        "n_heads": n_heads,
        "n_kv_heads": n_kv_heads,
        "kv_group": kv_group,
        "dim_q": q.shape[2],
        "dim_k": k.shape[2],
        "has_attention_row": attention_row is not None,
        "_spectra_q": float32_bytes(q),
        "_spectra_k": float32_bytes(k),
        "_key_scores": {name: float32_bytes(s) for name, s in scores.items()},
    }
    return data, scores


class AttentionGeometryView(WidgetBase):
    """Singular spectra of Q and K, KV-cache eviction by several scorers, attention on click.

    Args:
        tokens: the T token strings (whitespace drawn as in TokenStrip).
        spectra_q: ``(n_layers, n_heads, D_q)`` singular values of each query head's
            (post-RoPE) queries, largest first.
        spectra_k: ``(n_layers, n_kv_heads, D_k)`` singular values of each KV head's keys.
        key_scores: scorer name -> ``(n_layers, n_kv_heads, T)`` scores, higher = keep, e.g.
            ``{"qfilters": ..., "knorm": ..., "snapkv": ..., "streamingllm": ...,
            "random": ...}``. The first (the key projection −⟨f, k⟩) is shown first.
        kv_group: query heads per KV head, ``n_heads // n_kv_heads``; query head h reads
            KV head ``h // kv_group``.
        ratio: fraction of the cache evicted, in [0, 1); the slider spans [0, 0.97].
        window: the last ``window`` positions are always kept.
        attention_row: optional ``(layer, head, query_index) -> (query_index + 1,)`` or
            ``(T,)`` attention weights of that query over the keys (query head ``head``).
            Called when ``selected_query`` changes (a click in the browser) or the layer or
            head changes while a query is selected; the row goes back to the browser.
        title: heading shown above the view.

    Synced state: ``layer``, ``head`` (query head; ``kv_head`` follows), ``scorer``,
    ``ratio``, ``window``, ``spectrum_scale`` (``"log"`` or ``"normalized"``) and
    ``selected_query`` (-1 for none), set from the browser or from Python. After each call
    of ``attention_row``: ``attention`` (the row as the browser has it, or None),
    ``row_key`` (``[layer, head, query]`` of that row) and ``row_error`` (the message when
    the callable raised or returned a bad row; the row is then cleared).

    Raises:
        ValueError: empty tokens; spectra or scores with a wrong shape (the
            message names the parameter, axis and sizes), NaN/inf (named with its index) or
            negative singular values; a kv_group that does not match the head counts; a ratio
            outside [0, 1) or a negative window.
        TypeError: tokens that are one str or hold a non-str; non-numeric spectra or scores;
            a non-int kv_group or window, a non-number ratio, a non-callable attention_row,
            or key_scores that is not a mapping.
    """

    _asset = "attention_geometry_view"

    # Fixed at construction (make a new view for new data); the view builds its DOM once.
    tokens = traitlets.List(traitlets.Unicode(), read_only=True, help="Token strings.").tag(
        sync=True
    )
    scorer_names = traitlets.List(
        traitlets.Unicode(), read_only=True, help="Scorers, in picker order."
    ).tag(sync=True)
    n_layers = traitlets.Int(read_only=True).tag(sync=True)
    n_heads = traitlets.Int(read_only=True, help="Query heads per layer.").tag(sync=True)
    n_kv_heads = traitlets.Int(read_only=True, help="KV heads per layer.").tag(sync=True)
    kv_group = traitlets.Int(read_only=True, help="Query heads per KV head.").tag(sync=True)
    dim_q = traitlets.Int(read_only=True, help="Singular values per query head.").tag(sync=True)
    dim_k = traitlets.Int(read_only=True, help="Singular values per KV head.").tag(sync=True)
    has_attention_row = traitlets.Bool(read_only=True).tag(sync=True)
    # Little-endian float32 bytes in C order: (L, H, D_q), (L, H_kv, D_k) and, per scorer,
    # (L, H_kv, T); ipywidgets sends each as a binary buffer.
    _spectra_q = traitlets.Bytes(read_only=True).tag(sync=True)
    _spectra_k = traitlets.Bytes(read_only=True).tag(sync=True)
    _key_scores = traitlets.Dict(read_only=True).tag(sync=True)
    # Live, synced both ways.
    layer = traitlets.Int(0, help="Layer shown.").tag(sync=True)
    head = traitlets.Int(0, help="Query head shown; its KV head is head // kv_group.").tag(
        sync=True
    )
    scorer = traitlets.Unicode(help="Scorer coloring the tokens and choosing the kept set.").tag(
        sync=True
    )
    ratio = traitlets.Float(0.875, help="Fraction of the KV cache evicted, in [0, 1).").tag(
        sync=True
    )
    window = traitlets.Int(8, help="Most recent positions always kept.").tag(sync=True)
    spectrum_scale = traitlets.Unicode("log", help="'log' or 'normalized' (σ_i / σ_1).").tag(
        sync=True
    )
    selected_query = traitlets.Int(-1, help="Query whose attention row is drawn; -1: none.").tag(
        sync=True
    )
    # Written by attention_row calls: float32 bytes of the row, its [layer, head, query].
    _attention_row = traitlets.Bytes(b"", read_only=True).tag(sync=True)
    row_key = traitlets.List(traitlets.Int(), read_only=True).tag(sync=True)
    row_error = traitlets.Unicode("", read_only=True).tag(sync=True)
    # Several models (from_models): their names, the one shown, and every model's data.
    model_names = traitlets.List(traitlets.Unicode(), read_only=True).tag(sync=True)
    model_name = traitlets.Unicode("", help="Model shown (from_models); '' for one model.").tag(
        sync=True
    )
    _models = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(
        self,
        tokens: Sequence[str],
        spectra_q: object,
        spectra_k: object,
        key_scores: Mapping[str, object],
        *,
        kv_group: int,
        ratio: float = 0.875,
        window: int = 8,
        attention_row: AttentionRow | None = None,
        title: str = "",
    ) -> None:
        data, scores = _prepare(tokens, spectra_q, spectra_k, key_scores, kv_group, attention_row)
        ratio = _check_ratio(ratio)
        window = _check_window(window)
        self._scores = scores
        self._attention_row_fn = attention_row
        self._per_model: dict[str, tuple[dict, dict, AttentionRow | None, str]] = {}
        # Read-only traits are set before ipywidgets opens the comm, so the first message
        # to the browser already carries the data.
        for name, value in data.items():
            self.set_trait(name, value)
        super().__init__(scorer=next(iter(self._scores)), ratio=ratio, window=window, title=title)
        self.observe(self._on_query, ["selected_query", "layer", "head"])

    @classmethod
    def from_models(
        cls,
        models: Mapping[str, Mapping[str, object]],
        *,
        ratio: float = 0.875,
        window: int = 8,
        model_name: str | None = None,
    ) -> AttentionGeometryView:
        """One view over several models with a Model picker.

        ``models`` maps a model's name (e.g. its size) to the keyword arguments of the
        constructor for it: ``tokens``, ``spectra_q``, ``spectra_k``, ``key_scores``,
        ``kv_group`` and optionally ``attention_row`` and ``title``. ``model_name`` is shown
        first (default: the first). Switching (``view.model_name = ...`` or the picker)
        resets layer, head and the selected query, keeps the scorer if the model has it.
        """
        if not isinstance(models, Mapping):
            raise TypeError(
                f"models must map model names to view data, got {type(models).__name__}"
            )
        if not models:
            raise ValueError("models is empty; pass at least one model's data")
        allowed = {
            "tokens",
            "spectra_q",
            "spectra_k",
            "key_scores",
            "kv_group",
            "attention_row",
            "title",
        }
        per_model = {}
        for name, kwargs in models.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"model names must be non-empty strings, got {name!r}")
            if not isinstance(kwargs, Mapping):
                raise TypeError(f"models[{name!r}] must be a mapping of view arguments")
            unknown = sorted(set(kwargs) - allowed)
            if unknown:
                raise ValueError(f"models[{name!r}] has unknown arguments {unknown}")
            kwargs = dict(kwargs)
            title = kwargs.pop("title", name)
            row_fn = kwargs.pop("attention_row", None)
            try:
                data, scores = _prepare(
                    kwargs.get("tokens"),
                    kwargs.get("spectra_q"),
                    kwargs.get("spectra_k"),
                    kwargs.get("key_scores"),
                    kwargs.get("kv_group"),
                    row_fn,
                )
            except (TypeError, ValueError) as error:
                raise type(error)(f"models[{name!r}]: {error}") from None
            per_model[name] = (data, scores, row_fn, str(title))
        first = next(iter(per_model)) if model_name is None else model_name
        if first not in per_model:
            raise ValueError(f"model_name {first!r} is not one of {list(per_model)}")
        data, scores, row_fn, title = per_model[first]
        view = cls(
            data["tokens"],
            from_float32_bytes(data["_spectra_q"]).reshape(
                data["n_layers"], data["n_heads"], data["dim_q"]
            ),
            from_float32_bytes(data["_spectra_k"]).reshape(
                data["n_layers"], data["n_kv_heads"], data["dim_k"]
            ),
            scores,
            kv_group=data["kv_group"],
            ratio=ratio,
            window=window,
            attention_row=row_fn,
            title=title,
        )
        view._per_model = per_model
        payload = {
            name: {**model_data, "title": model_title}
            for name, (model_data, _, _, model_title) in per_model.items()
        }
        with view.hold_sync():
            view.set_trait("model_names", list(per_model))
            view.set_trait("_models", payload)
            view.model_name = first
        view.observe(view._on_model, ["model_name"])
        return view

    @traitlets.validate("model_name")
    def _validate_model_name(self, proposal: traitlets.Bunch) -> str:
        value = proposal["value"]
        if not self._per_model:
            if value:
                raise InvalidValue("model_name: this view holds one model (use from_models)")
            return value
        return check_choice(value, self._per_model, "model")

    def _on_model(self, change: traitlets.Bunch) -> None:
        """Show another model: its data, layer/head 0, no query, the scorer kept if it has it."""
        data, scores, row_fn, title = self._per_model[change["new"]]
        scorer = self.scorer if self.scorer in scores else next(iter(scores))
        with self.hold_sync(), self.hold_trait_notifications():
            self._scores = scores
            self._attention_row_fn = row_fn
            for name, value in data.items():
                self.set_trait(name, value)
            self.selected_query = -1
            self.layer = 0
            self.head = 0
            self.scorer = scorer
            self.title = title

    @property
    def kv_head(self) -> int:
        """The KV head of the query head shown: ``head // kv_group``."""
        return self.head // self.kv_group

    @property
    def attention(self) -> np.ndarray | None:
        """The attention row drawn (float32, as the browser has it), or None."""
        return from_float32_bytes(self._attention_row) if self.row_key else None

    def scores(
        self, scorer: str | None = None, layer: int | None = None, kv_head: int | None = None
    ) -> np.ndarray:
        """The float32 scores (T,) of ``scorer`` at ``layer`` and ``kv_head`` (default: shown)."""
        name = self.scorer if scorer is None else check_choice(scorer, self._scores, "scorer")
        layer = (
            self.layer if layer is None else _check_index(layer, "layer", self.n_layers, "layer")
        )
        kv_head = (
            self.kv_head
            if kv_head is None
            else _check_index(kv_head, "kv_head", self.n_kv_heads, "KV head")
        )
        return self._scores[name][layer, kv_head]

    def kept_mask(
        self, scorer: str, layer: int, kv_head: int, ratio: float | None = None
    ) -> np.ndarray:
        """Boolean (T,): the tokens the browser shows as kept for these settings.

        The top ``int(T·(1 − ratio))`` scores (ties to the earlier position) plus the last
        ``window`` positions; ``ratio`` defaults to the slider's.
        """
        ratio = self.ratio if ratio is None else _check_ratio(ratio)
        return kept_positions(self.scores(scorer, layer, kv_head), ratio, self.window)

    @traitlets.validate("scorer")
    def _validate_scorer(self, proposal: traitlets.Bunch) -> str:
        return check_choice(proposal["value"], self._scores, "scorer")

    @traitlets.validate("layer")
    def _validate_layer(self, proposal: traitlets.Bunch) -> int:
        return _check_index(proposal["value"], "layer", self.n_layers, "layer")

    @traitlets.validate("head")
    def _validate_head(self, proposal: traitlets.Bunch) -> int:
        return _check_index(proposal["value"], "head", self.n_heads, "query head")

    @traitlets.validate("ratio")
    def _validate_ratio(self, proposal: traitlets.Bunch) -> float:
        return _check_ratio(proposal["value"])

    @traitlets.validate("window")
    def _validate_window(self, proposal: traitlets.Bunch) -> int:
        return _check_window(proposal["value"])

    @traitlets.validate("spectrum_scale")
    def _validate_spectrum_scale(self, proposal: traitlets.Bunch) -> str:
        if proposal["value"] not in SPECTRUM_SCALES:
            raise ValueError(
                f"spectrum_scale must be one of {SPECTRUM_SCALES}, got {proposal['value']!r}"
            )
        return proposal["value"]

    @traitlets.validate("selected_query")
    def _validate_selected_query(self, proposal: traitlets.Bunch) -> int:
        return check_token_index(proposal["value"], len(self.tokens), "selected_query")

    def _on_query(self, change: traitlets.Bunch) -> None:
        """Call attention_row for the selected query and send its row to the browser.

        A failing call or a malformed row clears the row and is shown in the widget
        (``row_error``) rather than raised: a click in the browser has no caller to catch it.
        """
        layer, head, query = self.layer, self.head, self.selected_query
        row, key, error = b"", [], ""
        if query >= 0 and self._attention_row_fn is not None:
            call = f"attention_row({layer}, {head}, {query})"
            try:
                values = self._attention_row_fn(layer, head, query)
            except Exception as err:  # whatever the callable raises is shown, not raised
                error = f"{call} raised {type(err).__name__}: {err}"
            else:
                try:
                    row = float32_bytes(_check_row(values, "the row", query, len(self.tokens)))
                    key = [layer, head, query]
                except (TypeError, ValueError) as err:
                    error = f"{call} returned a bad row: {err}"
        with self.hold_sync():
            self.set_trait("_attention_row", row)
            self.set_trait("row_key", key)
            self.set_trait("row_error", error)
