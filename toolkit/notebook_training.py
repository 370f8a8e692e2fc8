"""Trainer arguments shared by the notebooks' short in-process training runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import datasets

from toolkit._checks import check_int


def quiet_cpu_args(steps: int) -> dict:
    """``TrainingArguments`` for a short run inside a notebook: CPU, float32, no checkpoints,
    no reporting, no per-run progress bar (the notebook's loop has one), ~10 log entries, and
    no activation checkpointing (TRL's configs turn it on; on a tiny model it only recomputes)."""
    steps = check_int("steps", steps, minimum=1)
    return dict(
        max_steps=steps,
        logging_steps=max(1, steps // 10),
        report_to="none",
        use_cpu=True,
        bf16=False,
        save_strategy="no",
        dataloader_num_workers=0,
        disable_tqdm=True,
        activation_checkpointing=False,
    )


@contextmanager
def quiet_datasets() -> Iterator[None]:
    """No progress bars from TRL's dataset preprocessing (restored afterwards)."""
    was_enabled = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was_enabled:
            datasets.enable_progress_bars()
