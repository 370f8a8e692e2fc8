"""What a run did: one :class:`NotebookResult` per notebook, saved as ``run.json``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

SUMMARY = "run.json"


@dataclass
class NotebookResult:
    """How one notebook's execution went; paths are relative to the run directory.

    ``claims`` and ``metrics`` copy the records of ``claims_file`` and ``metrics_file``
    (each claim with its ``status``: held, not held, invalid or not testable here, and any
    intervals and preconditions) once the report is written.
    """

    notebook: str
    status: str  # "ok" or "failed"
    seconds: float
    parameters: dict
    executed: str
    html: str | None
    claims_file: str
    error: str | None = None
    metrics_file: str | None = None
    claims: list[dict] = field(default_factory=list)
    metrics: list[dict] = field(default_factory=list)


@dataclass
class RunSummary:
    """A run directory's ``run.json``; ``comparison`` holds the report's before → after rows."""

    run_dir: str
    started: str
    smoke: bool
    kernel: str
    results: list[NotebookResult] = field(default_factory=list)
    comparison: dict | None = None

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.results)

    def save(self) -> Path:
        path = Path(self.run_dir) / SUMMARY
        text = json.dumps(asdict(self), indent=2, default=str, allow_nan=True)
        path.write_text(text + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, run_dir: str | Path) -> RunSummary:
        """Read ``run_dir/run.json``; ``ValueError`` names the directory when it is not a run."""
        path = Path(run_dir) / SUMMARY
        if not path.is_file():
            raise ValueError(
                f"run_dir {str(run_dir)!r} is not a run directory (no {SUMMARY}); pass one "
                "written by `python -m toolkit run`, e.g. runs/latest"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            data["results"] = [NotebookResult(**r) for r in data["results"]]
            return cls(**data)
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{path} is not a readable run summary: {error}") from None
