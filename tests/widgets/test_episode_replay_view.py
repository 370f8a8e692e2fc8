"""EpisodeReplayView on the Python side: traits, the step slider's range, bad input."""

from __future__ import annotations

import pytest
import traitlets

from toolkit.embodied import Episode, Goal, House, HouseSpec, episode_frames, make_task, plan
from widgets.episode_replay_view import EpisodeReplayView


def frames() -> dict:
    spec = HouseSpec(
        1,
        1,
        2,
        2,
        ("kitchen", "bedroom"),
        ((0, 1, 0),),
        (),
        (("counter", 4), ("desk", 7)),
        (("mug", "red", 0),),
        0,
    )
    house = House(spec)
    goal = Goal(placements=((0, 1),))
    task = make_task(house, goal)
    episode = Episode(house, type(task)(task.kind, goal, "put the red mug on the desk"))
    return episode_frames(episode, plan(house, goal), agent="planner")


def test_traits_and_steps():
    view = EpisodeReplayView(frames(), title="replay")
    assert view.n_steps == 8 and view.step == 8  # the end first
    assert view.frames["instruction"] == "put the red mug on the desk"
    view.step = 0
    with pytest.raises(traitlets.TraitError, match=r"step must be in \[0, 8\], got 9"):
        view.step = 9
    with pytest.raises(traitlets.TraitError, match="read-only"):
        view.frames = {}


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda f: [1, 2], TypeError, "frames must be a dict"),
        (lambda f: {k: v for k, v in f.items() if k != "walls"}, ValueError, r"lacks \['walls'\]"),
        (lambda f: f | {"held": f["held"][:-1]}, ValueError, r"frames\['held'\] has 8 entries"),
        (lambda f: f | {"tiles": []}, ValueError, "no steps"),
        (lambda f: f | {"tile_room": [0]}, ValueError, "tile_room"),
    ],
)
def test_bad_frames_are_refused(change, error, match):
    with pytest.raises(error, match=match):
        EpisodeReplayView(change(frames()))
