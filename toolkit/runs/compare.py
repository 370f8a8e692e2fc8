"""Comparing a run's claims and metrics with an earlier run or a committed baseline.

A *snapshot* of one notebook is what a regression run checks::

    {"claims": {claim text: {"status", "measured", "abs_tol", "rel_tol"}},
     "metrics": {name: {"value", "abs_tol", "rel_tol"}}}

A baseline file (``tests/notebooks/baselines/NN_topic.json``) is a smoke run's snapshot
plus where it was made (seed, parameters, torch version, platform, CPU model). A value
``v'`` matches its reference ``v`` when ``|v' - v| <= max(abs_tol, rel_tol * |v|)``, with the
tolerances the new run declared; a verdict (held / not held / invalid / not testable here)
must match exactly. A claim measured over seeds is compared on its mean (``measured``); its
interval follows from the same per-seed values.

Smoke runs are bit-for-bit repeatable on one CPU model, not across models (vectorized float
reductions differ in their last bits and training amplifies them). When the baseline was made
on another CPU model, a value beyond its tolerance is reported as a note, not a change; a
verdict that flips still fails.
"""

from __future__ import annotations

import ast
import json
import math
import platform
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import papermill

from toolkit.benchmarking import cpu_model
from toolkit.claims import load_claims
from toolkit.metrics import load_metrics
from toolkit.runs.summary import SUMMARY, NotebookResult, RunSummary

PROVENANCE = ("seed", "parameters", "torch", "platform", "cpu")


@dataclass
class Row:
    """One compared quantity: a claim's verdict, one of its measured values, or a metric."""

    notebook: str
    name: str
    before: object
    after: object
    tolerance: str = ""
    changed: bool = False


@dataclass
class Comparison:
    against: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[Row]:
        return [row for row in self.rows if row.changed]

    def to_dict(self) -> dict:
        return asdict(self)

    def table(self, only_changed: bool = True) -> str:
        """A plain-text table: notebook, what, baseline, new value, tolerance."""
        rows = self.changed if only_changed else self.rows
        cells = [("notebook", "metric", "baseline", "new", "tolerance")]
        cells += [(r.notebook, r.name, text(r.before), text(r.after), r.tolerance) for r in rows]
        widths = [max(len(row[i]) for row in cells) for i in range(5)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
        return "\n".join(line.rstrip() for line in lines)


def text(value: object) -> str:
    """A compared value in full (``repr`` of a float), ``—`` where there is none."""
    return "—" if value is None else repr(value) if isinstance(value, float) else str(value)


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def snapshot(run_dir: str | Path, result: NotebookResult) -> dict:
    """The claims and metrics one notebook recorded in ``run_dir``."""
    run_dir = Path(run_dir)
    claims = {
        c.claim: {
            "status": c.status,
            "measured": c.measured,
            "abs_tol": c.abs_tol,
            "rel_tol": c.rel_tol,
        }
        for c in load_claims(run_dir / result.claims_file)
    }
    recorded = load_metrics(run_dir / result.metrics_file) if result.metrics_file else []
    metrics = {
        m.name: {"value": m.value, "abs_tol": m.abs_tol, "rel_tol": m.rel_tol} for m in recorded
    }
    return {"claims": claims, "metrics": metrics}


def provenance(run_dir: str | Path, result: NotebookResult) -> dict:
    """Where a run was made: its seed and parameters, the torch version, the platform."""
    executed = Path(run_dir) / result.executed
    seed = result.parameters.get("seed")
    if seed is None and executed.exists():
        declared = papermill.inspect_notebook(str(executed)).get("seed")
        seed = declared and ast.literal_eval(declared["default"])
    return {
        "seed": seed,
        "parameters": result.parameters,
        "torch": metadata.version("torch"),
        "platform": f"{platform.system()}-{platform.machine()}",
        "cpu": cpu_model(),
    }


def load_reference(path: str | Path) -> dict[str, dict]:
    """Snapshots by notebook name from a run directory, a baselines directory or one file."""
    path = Path(path)
    if (path / SUMMARY).is_file():
        summary = RunSummary.load(path)
        return {
            r.notebook: {"parameters": r.parameters, **snapshot(path, r)} for r in summary.results
        }
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not path.exists() or not files:
        raise ValueError(
            f"compare: {str(path)!r} is neither a run directory (with {SUMMARY}) nor a "
            "baseline file or a directory of them"
        )
    reference = {}
    for file in files:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            reference[data["notebook"]] = data
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{file} is not a baseline file: {error}") from None
    return reference


def _same(before: float, after: float, abs_tol: float, rel_tol: float) -> bool:
    if math.isnan(before) or math.isnan(after) or math.isinf(before) or math.isinf(after):
        return before == after or (math.isnan(before) and math.isnan(after))
    return abs(after - before) <= max(abs_tol, rel_tol * abs(before))


def _value_rows(notebook: str, label: str, before: dict, after: dict) -> list[Row]:
    rows = []
    for key in {**before, **after}:
        old, new = before.get(key), after.get(key)
        spec = new or old
        tol = f"abs {spec['abs_tol']:g}, rel {spec['rel_tol']:g}"
        old_value = None if old is None else old["value"]
        new_value = None if new is None else new["value"]
        changed = old is None or new is None or not _same(old_value, new_value, **_tols(spec))
        rows.append(Row(notebook, label.format(key), old_value, new_value, tol, changed))
    return rows


def _tols(spec: dict) -> dict:
    return {"abs_tol": spec["abs_tol"], "rel_tol": spec["rel_tol"]}


def _claim_values(claim: dict | None) -> dict:
    if claim is None:
        return {}
    return {k: {"value": v, **_tols(claim)} for k, v in claim["measured"].items()}


def compare_snapshots(notebook: str, before: dict, after: dict) -> list[Row]:
    """Rows for every claim verdict, claim value and metric of one notebook, before → after."""
    rows = []
    texts = list({**before["claims"], **after["claims"]})
    for text in texts:
        old, new = before["claims"].get(text), after["claims"].get(text)
        label = f"claim «{_short(text)}»"
        old_status = None if old is None else old["status"]
        new_status = None if new is None else new["status"]
        rows.append(Row(notebook, label, old_status, new_status, "", old_status != new_status))
        rows += _value_rows(notebook, f"{{}} ({label})", _claim_values(old), _claim_values(new))
    rows += _value_rows(notebook, "{}", before["metrics"], after["metrics"])
    return rows


def _provenance_notes(notebook: str, before: dict, after: dict) -> list[str]:
    notes = []
    for key in PROVENANCE:
        if key in before and key in after and before[key] != after[key]:
            notes.append(
                f"{notebook}: {key} differs (baseline {before[key]!r}, this run {after[key]!r}); "
                "compared anyway"
            )
    return notes


def compare_run(
    run_dir: str | Path, reference: str | Path, *, require_all: bool = False
) -> Comparison:
    """Compare ``run_dir``'s notebooks with ``reference`` (a run, baselines, or one file).

    Notebooks the reference does not hold are skipped with a note, unless ``require_all``
    (a baseline check), where each is a failure that says how to create its baseline.
    """
    run_dir = Path(run_dir)
    summary = RunSummary.load(run_dir)
    known = load_reference(reference)
    comparison = Comparison(against=str(reference))
    for result in summary.results:
        if result.notebook not in known:
            note = f"{result.notebook}: no reference in {reference}"
            if require_all:
                comparison.rows.append(Row(result.notebook, "baseline", None, "missing", "", True))
                note += f"; create it: python -m toolkit baselines update -k {result.notebook}"
            comparison.notes.append(note)
            continue
        before, after = known[result.notebook], snapshot(run_dir, result)
        made = provenance(run_dir, result)
        comparison.notes += _provenance_notes(result.notebook, before, made)
        rows = compare_snapshots(result.notebook, before, after)
        # Smoke runs repeat bit for bit on one CPU model (the zoo keys its entries by the
        # training code too, so a stale model cannot move them); across CPU models floating
        # point may differ in the last bits and training amplifies that, so only verdicts count.
        if before.get("cpu", made["cpu"]) != made["cpu"]:
            _values_as_notes(rows, comparison.notes)
        comparison.rows += rows
    return comparison


def _values_as_notes(rows: list[Row], notes: list[str]) -> list[Row]:
    """Moved values become notes; verdicts and missing values still count as changes."""
    for row in rows:
        if row.changed and row.tolerance and None not in (row.before, row.after):
            notes.append(
                f"{row.notebook}: {row.name} moved {text(row.before)} → {text(row.after)} "
                f"(tolerance {row.tolerance}) on another CPU model; not counted as a change"
            )
            row.changed = False
    return rows


def previous_run(run_dir: str | Path) -> Path | None:
    """The newest run directory beside ``run_dir`` that is older than it, if any."""
    run_dir = Path(run_dir).resolve()
    earlier = [
        d
        for d in run_dir.parent.iterdir()
        if d.name < run_dir.name and not d.is_symlink() and (d / SUMMARY).is_file()
    ]
    return max(earlier, key=lambda d: d.name, default=None)


def baseline_data(run_dir: str | Path, result: NotebookResult) -> dict:
    """The baseline file's content for one notebook of a smoke run."""
    return {"notebook": result.notebook, **provenance(run_dir, result), **snapshot(run_dir, result)}


def write_baselines(run_dir: str | Path, directory: str | Path) -> list[Path]:
    """Write ``directory/NN_topic.json`` for each notebook that ran ok in smoke run ``run_dir``."""
    summary = RunSummary.load(run_dir)
    if not summary.smoke:
        raise ValueError(f"run_dir {str(run_dir)!r} is a full run; baselines are smoke runs")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for result in summary.results:
        if result.status != "ok":
            continue
        path = directory / f"{Path(result.notebook).stem}.json"
        text = json.dumps(baseline_data(run_dir, result), indent=2, ensure_ascii=False)
        path.write_text(text + "\n", encoding="utf-8")
        written.append(path)
    return written
