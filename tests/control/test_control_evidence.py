"""Notebook 04's claims cannot hold for a controller that cannot fly: collapsed controllers fed
through each claim's measurement make it not testable; paired seeds give per-scenario intervals."""

import pytest
import torch

from toolkit.claims import NOT_TESTABLE, build
from toolkit.control import GeometricController, Scenario, compare
from toolkit.control.evidence import controller_claim, sanity_rmse

SCENARIOS = [
    Scenario("circle", "nominal", "none"),
    Scenario("circle", "nominal", "wind"),
    Scenario("circle", "ood", "none"),
]


class Collapsed(GeometricController):
    """A policy that learned nothing: zero collective thrust, no rates, whatever it sees."""

    def act(self, state, ref):
        thrust = torch.zeros_like(state["p"][..., 0])
        return self._action(thrust, torch.zeros_like(state["p"]))


@pytest.fixture(scope="module")
def rows():
    agents = {"IMC PPO": Collapsed(), "plain PPO": Collapsed(), "geometric": GeometricController()}
    return compare(agents, SCENARIOS, seeds=[0, 1], num_envs=4, seconds=1.0, progress=False)


def test_collapsed_policies_fail_the_sanity_gate(rows):
    assert sanity_rmse(rows, "IMC PPO") > 0.2 > sanity_rmse(rows, "geometric")


@pytest.mark.parametrize(("baseline", "learned"), [("plain PPO", True), ("geometric", False)])
def test_no_claim_holds_for_a_collapsed_policy(rows, baseline, learned):
    claim = build(**controller_claim(rows, baseline=baseline, learned_baseline=learned))
    assert claim.status == NOT_TESTABLE and not claim.held
    assert "IMC PPO flies its training task" in claim.reason


def fake(agent, seed, scenario, rmse):
    trajectory, params, disturbance = scenario
    return {
        "agent": agent, "trajectory": trajectory, "params": params, "disturbance": disturbance,
        "seed": seed, "rmse_m": rmse, "crash_fraction": 0.0,
    }  # fmt: skip


def test_paired_seeds_give_an_interval_overall_and_per_scenario():
    scenarios = [
        ("circle", "nominal", "none"),
        ("circle", "nominal", "wind"),
        ("zigzag", "ood", "wind"),
    ]
    rows = []
    for seed in (0, 1, 2):
        rows += [fake("IMC PPO", seed, sc, 0.05) for sc in scenarios]
        rows += [fake("plain PPO", seed, scenarios[0], 0.06)]
        rows += [fake("plain PPO", seed, scenarios[1], 0.10 + 0.01 * seed)]
        rows += [fake("plain PPO", seed, scenarios[2], 0.04 + 0.001 * seed)]  # IMC worse here
    claim = build(**controller_claim(rows))
    assert claim.held, claim.reason
    assert claim.measured["scenarios_better"] == 1 and claim.measured["scenarios_worse"] == 1
    assert claim.interval("reduction_zigzag_ood_wind").hi < 0
    assert {"imc_rmse", "plain_rmse", "imc_crash", "plain_crash"} <= set(claim.measured)
