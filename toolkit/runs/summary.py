"""What a run did: one :class:`NotebookResult` per notebook, saved as ``run.json``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

SUMMARY = "run.json"


@dataclass
class NotebookResult:
    """How one notebook's execution went; paths are relative to the run directory."""

    notebook: str
    status: str  # "ok" or "failed"
    seconds: float
    parameters: dict
    executed: str
    html: str | None
    claims_file: str
    error: str | None = None


@dataclass
class RunSummary:
    run_dir: str
    started: str
    smoke: bool
    kernel: str
    results: list[NotebookResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.results)

    def save(self) -> Path:
        path = Path(self.run_dir) / SUMMARY
        path.write_text(json.dumps(asdict(self), indent=2, default=str), encoding="utf-8")
        return path

    @classmethod
    def load(cls, run_dir: str | Path) -> RunSummary:
        data = json.loads((Path(run_dir) / SUMMARY).read_text(encoding="utf-8"))
        data["results"] = [NotebookResult(**r) for r in data["results"]]
        return cls(**data)
