"""EpisodeReplayView in Chromium, from a kernel-free static export: floors drawn, the step
slider moves the agent, its path and the held object. Skipped without /usr/bin/chromium,
except under ``CI=true`` where it fails.
Saves ``test-artifacts/widgets/episode_replay_view.png``."""

from __future__ import annotations

import pytest
from browser_helpers import ARTIFACTS, offline_page
from playwright.sync_api import expect

from toolkit.embodied import Goal, House, HouseSpec, episode_frames, make_task, plan
from toolkit.embodied.tasks import Episode
from widgets.episode_replay_view import EpisodeReplayView
from widgets.export import to_html

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


def test_static_export_replays_the_episode(browser, tmp_path) -> None:
    spec = HouseSpec(
        2,
        1,
        1,
        3,
        ("kitchen", "bedroom"),
        (),
        (("stairs", 0, 0, (0, 1)), ("elevator", 2, 2, (0, 1))),
        (("counter", 7), ("shelf", 16)),
        (("book", "blue", 0),),
        4,
    )
    house = House(spec)
    goal = Goal(placements=((0, 1),))
    task = make_task(house, goal)
    episode = Episode(house, type(task)(task.kind, goal, "bring the blue book upstairs"))
    frames = episode_frames(episode, plan(house, goal), agent="planner")
    path = to_html(EpisodeReplayView(frames, title="Replay"), tmp_path / "replay.html")
    with offline_page(browser, path, "light", height=700) as page:
        root = page.locator(".rt-episode-replay-view")
        expect(root.locator("svg.rt-board")).to_have_count(2)
        expect(root.locator(".rt-replay-instruction")).to_contain_text("blue book upstairs")
        expect(root).to_have_attribute("data-step", "6")
        expect(root).to_have_attribute("data-floor", "1")
        expect(root.locator(".rt-step-readout")).to_contain_text("place")
        page.screenshot(path=ARTIFACTS / "episode_replay_view.png", full_page=True)
        slider = root.locator(".rt-step-slider")
        slider.fill("2")
        expect(root).to_have_attribute("data-step", "2")
        expect(root).to_have_attribute("data-held", "0")
        expect(root.locator(".rt-step-readout")).to_contain_text("holding blue book")
        slider.fill("0")
        expect(root).to_have_attribute("data-floor", "0")
        expect(root.locator(".rt-object")).to_have_count(1)
