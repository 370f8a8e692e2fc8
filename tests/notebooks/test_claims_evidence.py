"""The notebooks record their claims through the tested evidence functions (so the tests that
feed collapsed models to those functions cover what the notebooks record) and name what would
change each verdict. Checked without running the notebooks."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

EVIDENCE = {  # notebook → the evidence functions its claims.record(**...) calls use
    "01_token_masks": ("frontier_claim(", "target_claim("),
    "02_causal_rewards": ("invariance_claim(", "accuracy_claim("),
    "03_taste_to_music": ("direction_claim(",),
    "04_neural_imc": ("controller_claim(", "controller_claim("),
}
VERDICT_SECTIONS = (
    *EVIDENCE,
    "05_attention_geometry",
    "06_decoding_time_alignment",
    "07_implicit_bias",
    "08_global_representation",
    "09_dataset_licensing",
    "10_decentralized_adversarial",
    "11_data_efficiency",
)


def cells(name: str) -> list[dict]:
    return json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


@pytest.mark.parametrize("name", EVIDENCE)
def test_every_claim_comes_from_an_evidence_function(name):
    code = [source(c) for c in cells(name) if c["cell_type"] == "code"]
    records = [part for text in code for part in text.split("claims.record(")[1:]]
    assert len(records) == len(EVIDENCE[name]), f"{name}: one claims.record per evidence function"
    everything = "\n".join(code)
    for part, function in zip(records, EVIDENCE[name], strict=True):
        argument = part.lstrip()
        assert argument.startswith("**"), f"{name}: claims.record(**{function}...)"
        inline = argument.startswith(f"**{function}")
        variable = argument[2:].split(")")[0].strip()
        assigned = variable.isidentifier() and f"{variable} = {function}" in everything
        assert inline or assigned, f"{name}: claims.record(**{function}...)"


@pytest.mark.parametrize("name", VERDICT_SECTIONS)
def test_names_what_would_change_the_verdict(name):
    headings = [
        source(c).splitlines()[0] for c in cells(name) if c["cell_type"] == "markdown" and source(c)
    ]
    assert "## What would change this verdict" in headings, name
    assert headings.index("## What would change this verdict") < headings.index(
        "## What to take away"
    )
