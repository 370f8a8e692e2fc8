"""Every notebook runs top to bottom in smoke mode through the same CLI as `make run`, and its
claims and metrics match its baseline in tests/notebooks/baselines/ (`make baselines` rewrites)."""

import html
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.claims import load_claims
from toolkit.runs import compare_run

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ARTIFACTS = ROOT / "test-artifacts" / "notebooks"
BASELINES = Path(__file__).resolve().parent / "baselines"
TIMEOUT_S = 1200  # per notebook: smoke mode runs in minutes, plus first-use zoo training

pytestmark = pytest.mark.notebooks


def run_cli(*args: str, timeout: int = TIMEOUT_S) -> subprocess.CompletedProcess:
    """`python -m toolkit ...` in its own process group, killed whole on timeout."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "toolkit", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"timed out after {timeout} s:\n{out[-3000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")


def smoke_run(notebook: Path, out: Path, *params: str) -> tuple[Path, dict]:
    result = run_cli("run", "--smoke", "-k", notebook.name, "--out", str(out), *params)
    run_dir = (out / "latest").resolve()
    summary = json.loads((run_dir / "run.json").read_text())
    if result.returncode != 0:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for name in (notebook.name, notebook.with_suffix(".html").name):
            if (run_dir / name).exists():
                shutil.copy(run_dir / name, ARTIFACTS / name)
        pytest.fail(
            f"{notebook.name} failed (executed copy kept in {ARTIFACTS}):\n{result.stdout[-4000:]}"
        )
    return run_dir, summary["results"][0]


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    """Each notebook executed once; tests below inspect the results."""
    out = tmp_path_factory.mktemp("runs")
    return {nb.name: smoke_run(nb, out / nb.stem) for nb in NOTEBOOKS}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_smoke_mode(smoke_runs, notebook):
    run_dir, result = smoke_runs[notebook.name]
    assert result["status"] == "ok"
    assert result["parameters"]["smoke"] is True
    assert (run_dir / result["html"]).stat().st_size > 0
    report = (run_dir / "index.html").read_text()
    assert notebook.name in report
    for claim in load_claims(run_dir / result["claims_file"]):
        assert html.escape(claim.claim) in report  # the report escapes text, e.g. ">=" and "'"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_results_match_the_baseline(smoke_runs, notebook):
    run_dir, _ = smoke_runs[notebook.name]
    comparison = compare_run(run_dir, BASELINES / f"{notebook.stem}.json", require_all=True)
    notes = "".join(f"\nnote: {note}" for note in comparison.notes)
    assert not comparison.changed, (
        f"{notebook.name}: results changed against its baseline (if intended, run `make "
        f"baselines NB={notebook.stem[:2]}` and commit the diff):\n{comparison.table()}{notes}"
    )


def test_welcome_records_claims_that_reach_the_report(smoke_runs):
    run_dir, result = smoke_runs["00_welcome.ipynb"]
    claims = load_claims(run_dir / result["claims_file"])
    assert claims, "the welcome notebook records at least one claim"
    executed = json.loads((run_dir / result["executed"]).read_text())
    in_outputs = [
        out["metadata"]["toolkit"]["claim"]
        for cell in executed["cells"]
        for out in cell.get("outputs", [])
        if "toolkit" in out.get("metadata", {})
    ]
    assert [c["claim"] for c in in_outputs] == [c.claim for c in claims]


def test_same_seed_gives_same_numbers(smoke_runs, tmp_path):
    run_dir, result = smoke_runs["00_welcome.ipynb"]
    first = load_claims(run_dir / result["claims_file"])
    again_dir, again = smoke_run(ROOT / "notebooks" / "00_welcome.ipynb", tmp_path)
    second = load_claims(again_dir / again["claims_file"])
    assert [c.measured for c in first] == [c.measured for c in second]


def test_unknown_parameter_fails_with_its_name(tmp_path):
    result = run_cli("run", "-k", "00_welcome", "--out", str(tmp_path), "-p", "n_epochz=3")
    assert result.returncode != 0
    assert "n_epochz" in result.stdout
    assert not (tmp_path / "latest").exists(), "nothing runs when a parameter is wrong"


def test_filter_matching_nothing_lists_available(tmp_path):
    result = run_cli("run", "-k", "no-such-notebook", "--out", str(tmp_path))
    assert result.returncode != 0 and "00_welcome.ipynb" in result.stdout


def test_token_masks_records_both_claims_with_their_measurements(smoke_runs):
    run_dir, result = smoke_runs["01_token_masks.ipynb"]
    claims = {c.paper.split()[0]: c for c in load_claims(run_dir / result["claims_file"])}
    frontier, target = claims["arXiv:2410.05102"], claims["arXiv:2503.02783"]
    gaps = {f"gap_{m}_vs_{b}" for m in ("activation", "learned") for b in ("dpo", "tdpo2")}
    assert gaps <= set(frontier.intervals)  # SparsePO against TDPO2 as well as DPO, over seeds
    assert {"dpo_chosen_delta", "target_dpo_chosen_delta"} <= set(target.intervals)
    assert 0.0 <= target.measured["pass_rate_target_dpo"] <= 1.0
    for claim in (frontier, target):
        assert all(i["n"] == 2 and i["method"] == "t" for i in claim.intervals.values())
        assert claim.preconditions and claim.status == claim.reevaluate()


def test_causal_rewards_records_both_claims_at_the_chosen_lambda(smoke_runs):
    run_dir, result = smoke_runs["02_causal_rewards.ipynb"]
    claims = load_claims(run_dir / result["claims_file"])
    assert len(claims) == 2
    gap, accuracy = claims
    assert gap.measured["lambda"] == 1.0 and gap.interval("mean_gap_reduction").n == 2
    assert -1.0 <= accuracy.measured["mean_accuracy_drop"] <= 1.0
    assert any("de-confounded accuracy" in p["name"] for p in gap.preconditions)
    for claim in claims:
        assert claim.status == claim.reevaluate()


def test_taste_to_music_records_the_direction_claim_gated_by_the_classifier(smoke_runs):
    run_dir, result = smoke_runs["03_taste_to_music.ipynb"]
    (directions,) = load_claims(run_dir / result["claims_file"])
    assert 0.0 <= directions.measured["share_holding"] <= 1.0
    assert directions.measured["n_predictions"] >= 10
    (gate,) = directions.preconditions  # the classifier: a sanity check, not a claim
    assert 0.0 <= gate["value"] <= 1.0 and gate["bar"] == ">= 0.5"
    assert directions.status == directions.reevaluate()


def test_neural_imc_records_the_plain_ppo_and_geometric_claims(smoke_runs):
    run_dir, result = smoke_runs["04_neural_imc.ipynb"]
    plain, geometric = load_claims(run_dir / result["claims_file"])
    assert {"imc_rmse", "plain_rmse", "imc_crash", "plain_crash"} <= set(plain.measured)
    assert geometric.measured["imc_rmse"] == plain.measured["imc_rmse"]  # the same scenarios
    assert plain.interval("rmse_reduction").n == 2  # paired seeds, an interval even in smoke
    assert any(key.startswith("reduction_zigzag") for key in plain.intervals)  # per scenario
    for claim in (plain, geometric):
        assert all(0.0 <= claim.measured[k] <= 1.0 for k in claim.measured if k.endswith("_crash"))
        assert claim.measured["imc_rmse"] > 0
        # smoke policies (two PPO iterations) cannot fly: the sanity gate stops the claim
        assert claim.status == "not testable here" == claim.reevaluate()


def test_attention_geometry_records_needle_perplexity_and_snapkv_claims(smoke_runs):
    run_dir, result = smoke_runs["05_attention_geometry.ipynb"]
    needle, snapkv, perplexity = load_claims(run_dir / result["claims_file"])
    assert needle.measured["factor"] == 32
    assert 0.0 <= needle.measured["qfilters_x32"] <= 1.0
    assert snapkv.measured["shortfall_vs_snapkv"] == pytest.approx(
        snapkv.measured["snapkv_mean"] - snapkv.measured["qfilters_mean"]
    )
    assert {"qfilters_drop", "streamingllm_drop"} <= set(perplexity.measured)
    for claim in (needle, snapkv):  # gated on the model retrieving with its full cache
        (gate,) = claim.preconditions
        assert gate["value"] == needle.measured["full_cache"]
    for claim in (needle, snapkv, perplexity):
        assert claim.status == claim.reevaluate()


def test_global_representation_records_skew_opinion_and_balancing_claims(smoke_runs):
    run_dir, result = smoke_runs["08_global_representation.ipynb"]
    skew, opinions, balanced, reweighted = load_claims(run_dir / result["claims_file"])
    assert {"acc_gap_base", "acc_gap_skewed", "reward_gap_base", "reward_gap_skewed"} <= set(
        skew.measured
    )
    assert all(skew.measured[k] >= 0 for k in skew.measured if "_gap_" in k)
    assert opinions.measured["majority_most_similar"] in (0.0, 1.0)
    assert 0.0 <= opinions.measured["sim_us_after"] <= 1.0
    for claim, name in ((balanced, "balanced"), (reweighted, "reweighted")):
        assert claim.measured[f"acc_excess_{name}"] == pytest.approx(
            claim.measured[f"acc_gap_{name}"] - claim.measured["acc_gap_base"]
        )
    for claim in (skew, opinions, balanced, reweighted):
        assert claim.status == claim.reevaluate()
