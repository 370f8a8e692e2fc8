"""TokenStrip: a sequence of tokens, each colored by one of several per-token value tracks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import traitlets

from widgets.base import (
    WidgetBase,
    check_choice,
    check_str_list,
    check_token_index,
    float32_bytes,
    from_float32_bytes,
    validated_float_array,
)

SCALES = ("diverging", "sequential")


def infer_scale(values: np.ndarray) -> str:
    """``"diverging"`` (centered at 0) when values take both signs, else ``"sequential"``."""
    return "diverging" if values.min() < 0 < values.max() else "sequential"


def _check_tokens(tokens: Sequence[str], label: str = "tokens") -> list[str]:
    return check_str_list(
        tokens, label, kind="a sequence of strings", if_empty="pass at least one token"
    )


def _check_track_names(tracks: Mapping[str, object]) -> Mapping[str, object]:
    if not isinstance(tracks, Mapping):
        raise TypeError(
            f"tracks must map track names to values, got {type(tracks).__name__}; "
            "e.g. {'loss': values}"
        )
    if not tracks:
        raise ValueError("tracks is empty; pass at least one, e.g. {'loss': values}")
    for name in tracks:
        if not isinstance(name, str):
            raise TypeError(f"track names must be strings, got {name!r}")
        if not name:
            raise ValueError("track names must not be empty")
    return tracks


def _check_scales(names: Sequence[str], scales: Mapping[str, str]) -> None:
    for name, scale in scales.items():
        if name not in names:
            raise ValueError(f"scales names track {name!r}, which is not in tracks {list(names)}")
        if scale not in SCALES:
            raise ValueError(f"scales[{name!r}] is {scale!r}; expected 'diverging' or 'sequential'")


class TokenStrip(WidgetBase):
    """Tokens colored by per-token values, with a track picker, hover readout and selection.

    Args:
        tokens: the token strings, e.g. ``tokenizer.convert_ids_to_tokens(ids)``. Whitespace
            is drawn visibly: spaces (and GPT-2's ``Ġ`` / SentencePiece's ``▁``) as ``·``,
            newlines (``Ċ``) as ``↵`` followed by a line break.
        tracks: track name -> one finite real number per token (list, NumPy array, CPU
            tensor). The first track is shown first.
        scales: track name -> ``"diverging"`` (centered at 0, for signed values such as
            advantages) or ``"sequential"`` (for magnitudes such as surprisal). Tracks not
            named are inferred: diverging when their values take both signs.
        title: heading shown above the strip.

    Synced state: ``track`` (the track shown; set it to switch) and ``selected`` (the
    clicked token's index, -1 for none; set it to select from Python). ``tokens``,
    ``track_names`` and ``scales`` are read-only; ``values(track)`` returns a track's data.

    Raises:
        TypeError: ``tokens`` that are one str or hold a non-str, ``tracks`` that is not a
            mapping, a non-str track name, a non-numeric track.
        ValueError: empty ``tokens``, ``tracks`` or track name, a track whose length
            differs from the tokens, a NaN/inf value (the message names the track and the
            first bad index), or an unknown scale name.
    """

    _asset = "token_strip"

    # Fixed at construction (make a new TokenStrip for new data); the view builds its DOM once.
    tokens = traitlets.List(traitlets.Unicode(), read_only=True, help="Token strings.").tag(
        sync=True
    )
    track_names = traitlets.List(
        traitlets.Unicode(), read_only=True, help="Tracks, in picker order."
    ).tag(sync=True)
    scales = traitlets.Dict(
        value_trait=traitlets.Unicode(),
        read_only=True,
        help="Track name -> 'diverging' or 'sequential'.",
    ).tag(sync=True)
    # Track name -> little-endian float32 bytes; ipywidgets sends each as a binary buffer.
    _track_data = traitlets.Dict(read_only=True).tag(sync=True)
    # Live, synced both ways.
    track = traitlets.Unicode(help="The track shown.").tag(sync=True)
    selected = traitlets.Int(-1, help="Index of the selected token; -1 for none.").tag(sync=True)

    def __init__(
        self,
        tokens: Sequence[str],
        tracks: Mapping[str, object],
        *,
        scales: Mapping[str, str] | None = None,
        title: str = "",
    ) -> None:
        tokens = _check_tokens(tokens)
        arrays = {
            name: validated_float_array(values, f"track {name!r}", (len(tokens),), ("tokens",))
            for name, values in _check_track_names(tracks).items()
        }
        scales = dict(scales or {})
        _check_scales(list(arrays), scales)
        # Read-only traits are set before ipywidgets opens the comm, so the first message
        # to the browser already carries the data.
        self.set_trait("tokens", tokens)
        self.set_trait("track_names", list(arrays))
        self.set_trait(
            "scales",
            {
                name: scales[name] if name in scales else infer_scale(a)
                for name, a in arrays.items()
            },
        )
        self.set_trait("_track_data", {name: float32_bytes(a) for name, a in arrays.items()})
        super().__init__(track=next(iter(arrays)), title=title)

    def values(self, track: str | None = None) -> np.ndarray:
        """The float32 values of ``track`` (default: the track shown), as the browser has them."""
        name = self.track if track is None else check_choice(track, self.track_names, "track")
        return from_float32_bytes(self._track_data[name])

    @traitlets.validate("track")
    def _validate_track(self, proposal: traitlets.Bunch) -> str:
        return check_choice(proposal["value"], self.track_names, "track")

    @traitlets.validate("selected")
    def _validate_selected(self, proposal: traitlets.Bunch) -> int:
        return check_token_index(proposal["value"], len(self.tokens), "selected")
