"""EpisodeReplayView: one household episode replayed top-down, floor by floor, with a step slider.

Notebook 11 (data efficiency of end-to-end vs neuro-symbolic agents, after LAMBDA, arXiv
2412.05313) rolls agents out in a multi-room, multi-floor house. The view draws every floor
side by side (SVG, no third-party JS): rooms tinted and named, walls with their doors open,
stairs (S) and elevators (E), receptacles (labelled squares) and objects (dots in their own
colors). At the step the slider picks it shows the agent, the path walked so far on each floor,
the object in its hands, the action just taken (refused ones marked) and, above, the
instruction and the goal. The data come from ``toolkit.embodied.episode_frames``; everything
is drawn in the browser from the synced state, so the slider works in a static HTML export too.
"""

from __future__ import annotations

from collections.abc import Mapping

import traitlets

from widgets.base import InvalidValue, WidgetBase

REQUIRED = (
    "floors",
    "height",
    "width",
    "size",
    "rooms",
    "tile_room",
    "walls",
    "links",
    "receptacles",
    "objects",
    "instruction",
    "goal",
    "agent",
    "tiles",
    "held",
    "object_tiles",
    "actions",
    "refused",
    "success",
)


def _check_frames(frames: object) -> dict:
    if not isinstance(frames, Mapping):
        raise TypeError(
            "frames must be a dict from toolkit.embodied.episode_frames, "
            f"got {type(frames).__name__}"
        )
    missing = [key for key in REQUIRED if key not in frames]
    if missing:
        raise ValueError(f"frames lacks {missing}; build it with toolkit.embodied.episode_frames")
    steps = len(frames["tiles"])
    if not steps:
        raise ValueError("frames has no steps (tiles is empty)")
    for key in ("held", "object_tiles", "actions", "refused"):
        if len(frames[key]) != steps:
            raise ValueError(f"frames[{key!r}] has {len(frames[key])} entries for {steps} steps")
    n_tiles = frames["floors"] * frames["height"] * frames["width"]
    if len(frames["tile_room"]) != n_tiles:
        raise ValueError(
            f"frames['tile_room'] has {len(frames['tile_room'])} entries for {n_tiles} tiles"
        )
    return dict(frames)


class EpisodeReplayView(WidgetBase):
    """An episode replayed top-down with a step slider (module docstring).

    Args:
        frames: ``toolkit.embodied.episode_frames(episode, actions, agent=...)``.
        title: heading shown above the view.

    Synced state: ``step`` (the step shown, 0 = the start; the slider sets it) and the
    read-only ``frames``.

    Raises:
        TypeError: ``frames`` that is not a dict.
        ValueError: a missing key, per-step lists of different lengths, no steps.
    """

    _asset = "episode_replay_view"

    frames = traitlets.Dict(read_only=True, help="The episode, from episode_frames.").tag(sync=True)
    step = traitlets.Int(0, help="The step shown (0: the start).").tag(sync=True)

    def __init__(self, frames: Mapping, *, title: str = "") -> None:
        self.set_trait("frames", _check_frames(frames))
        super().__init__(step=len(frames["tiles"]) - 1, title=title)

    @property
    def n_steps(self) -> int:
        """Actions taken (the slider runs from 0 to this)."""
        return len(self.frames["tiles"]) - 1

    @traitlets.validate("step")
    def _validate_step(self, proposal: traitlets.Bunch) -> int:
        i = proposal["value"]
        if not 0 <= i <= self.n_steps:
            raise InvalidValue(f"step must be in [0, {self.n_steps}], got {i}")
        return i
