"""The "Adding a loss" example of docs/methods/token_po.md, run as written there."""

import re
from pathlib import Path

import pytest
import torch

from toolkit.alignment import methods
from toolkit.alignment.losses import TokenBatch, token_kl_from_logits
from toolkit.alignment.token_po_config import TokenPOConfig

DOC = Path(__file__).parents[2] / "docs" / "methods" / "token_po.md"


def example_blocks() -> list[str]:
    """The python blocks of the page's "Adding a loss" section, in order."""
    section = DOC.read_text().split("## Adding a loss", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


@pytest.fixture
def example(tmp_path, monkeypatch):
    """The namespace the three blocks leave behind; the toy method is unregistered after."""
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    try:
        for block in example_blocks():
            exec(compile(block, str(DOC), "exec"), namespace)
        yield namespace
    finally:
        methods._METHODS.pop("kl_hinge", None)


def by_hand(trainer, inputs, loss, margin):
    """The toy loss on one batch from plain forward passes of policy and reference."""
    labels = inputs["input_ids"][:, 1:]
    mask = inputs["completion_mask"][:, 1:].bool()
    with torch.no_grad():
        logits = [
            m(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits[:, :-1]
            for m in (trainer.model, trainer.ref_model)
        ]
    logps = [z.log_softmax(-1).gather(-1, labels[..., None])[..., 0] for z in logits]
    kl = token_kl_from_logits(*logits)
    halves = [t.chunk(2) for t in (*logps, mask, kl)]
    (pc, pr), (rc, rr), (mc, mr), (kc, kr) = halves
    batch = TokenBatch(pc, pr, rc, rr, mc, mr, chosen_kl=kc, rejected_kl=kr)
    return loss(batch, beta=trainer.args.beta, margin=margin).loss


def test_the_documented_loss_trains_and_is_what_the_toy_function_computes(example):
    trainer = example["trainer"]
    assert len(example_blocks()) == 3
    assert trainer.state.global_step == 2
    logged = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    assert logged and all(torch.isfinite(torch.tensor(logged)))
    trainer.model.eval()
    inputs = next(iter(trainer.get_train_dataloader()))
    expected = by_hand(trainer, inputs, example["kl_hinge_loss"], margin=0.5)
    with torch.no_grad():
        got = trainer.compute_loss(trainer.model, inputs)
    assert got.item() == pytest.approx(expected.item(), abs=1e-6)
    assert 0.0 < got.item() != 0.5, "after two steps the policy differs from the reference"

    # the registered parameter is checked by name when a config is built
    config = dict(output_dir="unused", use_cpu=True, method="kl_hinge")
    with pytest.raises(ValueError, match="method_kwargs \\['margn'\\].*takes margin"):
        TokenPOConfig(**config, method_kwargs={"margn": 0.5})
    with pytest.raises(ValueError, match="method_kwargs\\['margin'\\] must be >= 0"):
        TokenPOConfig(**config, method_kwargs={"margin": -1})
    with pytest.raises(ValueError, match="already registered"):
        methods.register_method("kl_hinge", methods.METHODS["kl_hinge"])
