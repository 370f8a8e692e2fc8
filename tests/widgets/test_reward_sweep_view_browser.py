"""RewardSweepView in Chromium: the static HTML export, driven like a user would.

Uses the ``browser`` fixture of conftest.py (Chromium through Playwright) and
browser_helpers' offline pages, which must fetch nothing. Skipped without
/usr/bin/chromium, except under ``CI=true`` where it fails. Saves
``test-artifacts/widgets/reward_sweep_view.png``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_helpers import ARTIFACTS, offline_page
from playwright.sync_api import expect

from widgets import RewardSweepView
from widgets.export import to_html

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

LAMBDAS = [0, 1, 10]
Z = {"length": [0, 0, 0, 1, 1, 1], "topic": [0, 1, 2, 1]}
Z_LABELS = {"length": ["short", "long"], "topic": ["sports", "politics", "science"]}
# (accuracy, gap) per λ; λ = 0 is the same vanilla model for both variants.
SUMMARY = {
    ("length", "unconditional"): [(0.81, 1.5), (0.77, 0.6), (0.70, 0.1)],
    ("length", "conditional"): [(0.81, 1.5), (0.79, 0.42), (0.74, 0.05)],
    ("topic", "unconditional"): [(0.72, 0.8), (0.70, 0.2), (0.66, 0.0)],
    ("topic", "conditional"): [(0.72, 0.8), (0.71, 0.1), (0.69, 0.01)],
}


def rewards(bias: str, variant: str, lam: float) -> list[float]:
    """Short responses keep their rewards; long ones lose a bonus that shrinks with λ."""
    if bias == "topic":
        return [0.2, -0.4, 1.0, lam / 10]
    bonus = (3 if variant == "unconditional" else 2) / (1 + lam)
    return [0, 0.5, 1] + [r + bonus for r in (1, 1.5, 2)]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    runs = [
        {"bias": bias, "variant": variant, "lam": lam, "rewards": rewards(bias, variant, lam)}
        | {"accuracy": accuracy, "gap": gap}
        for (bias, variant), summary in SUMMARY.items()
        for lam, (accuracy, gap) in zip(LAMBDAS, summary, strict=True)
    ]
    view = RewardSweepView(runs, Z, Z_LABELS, title="Causal reward models over λ")
    return to_html(view, tmp_path / "reward_sweep_view.html")


def test_static_export_redraws_on_lambda_variant_and_bias(browser, export: Path) -> None:
    with offline_page(browser, export, "light", height=520) as page:
        root = page.locator(".rt-reward-sweep-view")
        scatter = root.locator("svg.rt-scatter")
        pareto = root.locator("svg.rt-pareto")
        readout = root.locator(".rt-lambda-readout")
        slider = root.locator("input.rt-lambda-slider")
        ring = pareto.locator(".rt-current")
        short, long = scatter.locator(".rt-dot").nth(0), scatter.locator(".rt-dot").nth(3)

        # The Python defaults: first bias, the conditional variant, λ = 0.
        expect(root.locator(".rt-title")).to_have_text("Causal reward models over λ")
        expect(root.get_by_label("Bias")).to_have_value("length")
        expect(root.get_by_label("Variant")).to_have_value("conditional")
        expect(readout).to_have_text("λ = 0 · conditional · accuracy 0.81 · gap 1.50")
        expect(root).to_have_attribute("data-bias", "length")
        expect(root).to_have_attribute("data-variant", "conditional")
        expect(root).to_have_attribute("data-lam", "0")
        expect(scatter.locator(".rt-dot")).to_have_count(6)  # one per test response
        expect(scatter.locator(".rt-mean")).to_have_count(2)  # one per Z category
        expect(scatter.locator("text", has_text="long")).to_have_count(1)
        expect(pareto.locator(".rt-point")).to_have_count(6)  # 2 variants × 3 λ
        expect(pareto.locator(".rt-vanilla")).to_have_count(2)  # λ = 0: one × per variant
        expect(
            pareto.locator("text", has_text="counterfactual gap (log, smaller →)")
        ).to_be_visible()
        expect(ring).to_have_attribute("data-lam", "0")
        expect(ring).to_have_attribute("data-variant", "conditional")
        short_cy, long_cy = short.get_attribute("cy"), long.get_attribute("cy")
        vanilla_x = float(ring.get_attribute("cx"))

        # The slider moves to λ = 1: the long responses lose reward, on the same y axis.
        slider.press("ArrowRight")
        expect(readout).to_have_text("λ = 1 · conditional · accuracy 0.79 · gap 0.42")
        expect(root).to_have_attribute("data-lam", "1")
        expect(ring).to_have_attribute("data-lam", "1")
        assert float(long.get_attribute("cy")) > float(long_cy)  # lower reward: further down
        assert short.get_attribute("cy") == short_cy  # same reward, same place: fixed range
        slider.press("End")
        expect(readout).to_have_text("λ = 10 · conditional · accuracy 0.74 · gap 0.05")
        assert float(ring.get_attribute("cx")) > vanilla_x  # smaller gap: to the right

        # Another variant at the same λ.
        root.get_by_label("Variant").select_option("unconditional")
        expect(readout).to_have_text("λ = 10 · unconditional · accuracy 0.70 · gap 0.10")
        expect(root).to_have_attribute("data-variant", "unconditional")
        expect(ring).to_have_attribute("data-variant", "unconditional")

        # Another bias: the scatter is rebuilt with its responses and categories; a zero gap
        # is drawn (clamped) on the log axis.
        root.get_by_label("Bias").select_option("topic")
        expect(root).to_have_attribute("data-bias", "topic")
        expect(scatter.locator(".rt-dot")).to_have_count(4)
        expect(scatter.locator(".rt-mean")).to_have_count(3)
        expect(readout).to_have_text("λ = 10 · unconditional · accuracy 0.66 · gap 0.00")
        assert float(ring.get_attribute("cx")) > 0

        # The picture: length bias, conditional variant, partway through the sweep.
        root.get_by_label("Bias").select_option("length")
        root.get_by_label("Variant").select_option("conditional")
        slider.press("ArrowLeft")
        expect(readout).to_have_text("λ = 1 · conditional · accuracy 0.79 · gap 0.42")
        page.screenshot(path=ARTIFACTS / "reward_sweep_view.png")

    with offline_page(browser, export, "dark", height=520) as page:
        root = page.locator(".rt-reward-sweep-view")
        expect(root.locator("svg.rt-scatter .rt-dot")).to_have_count(6)
        expect(root).not_to_have_css("background-color", "rgb(255, 255, 255)")
        page.screenshot(path=ARTIFACTS / "reward_sweep_view_dark.png")
