"""The run report: ``index.html`` with a row per notebook, claim and metric, and what changed."""

from __future__ import annotations

import html
from pathlib import Path

from toolkit.claims import VERDICTS, Claim, load_claims
from toolkit.metrics import Metric, load_metrics
from toolkit.runs.compare import Comparison, compare_run, text
from toolkit.runs.summary import RunSummary

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px;
       padding: 0 1rem; color: #1f2328; background: #fff; }
@media (prefers-color-scheme: dark) { body { color: #e6edf3; background: #0d1117; }
  th { background: #161b22 !important; } a { color: #58a6ff; } }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 2rem; }
th, td { border-bottom: 1px solid #8884; padding: .4rem .6rem; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; }
code { font-size: 12px; }
.ok, .held { color: #1a7f37; font-weight: 600; }
.failed, .not-held, .invalid { color: #cf222e; font-weight: 600; }
.not-testable-here { color: #6e7781; font-weight: 600; }
.gate { font-size: 12px; }
tr.changed { background: #fff8c5; } @media (prefers-color-scheme: dark) {
  tr.changed { background: #3b2e00; } }
.error { white-space: pre-wrap; font: 12px monospace; color: #cf222e; }
"""


def _esc(value) -> str:
    return html.escape(str(value))


def _fmt(value: float) -> str:
    return f"{value:.4g}"


_VERDICT = VERDICTS  # held, did not hold, invalid, not testable here


def _notebook_rows(summary: RunSummary) -> str:
    rows = []
    for r in summary.results:
        name = f'<a href="{_esc(r.html)}">{_esc(r.notebook)}</a>' if r.html else _esc(r.notebook)
        params = ", ".join(f"{k}={v!r}" for k, v in r.parameters.items())
        error = f'<div class="error">{_esc(r.error)}</div>' if r.error else ""
        rows.append(
            f"<tr><td>{name}</td><td class='{r.status}'>{r.status}</td>"
            f"<td>{r.seconds:.1f} s</td><td><code>{_esc(params)}</code>{error}</td></tr>"
        )
    return "\n".join(rows)


def _claim_rows(claims: list[Claim]) -> str:
    rows = []
    for c in claims:
        measured = "<br>".join(_esc(text) for text in c.measured_text())
        if c.intervals:
            measured += f"<br><i>{_esc(c.interval_text())}</i>"
        note = f"<br><i>{_esc(c.note)}</i>" if c.note else ""
        reason = f"<br>{_esc(c.reason)}" if c.reason else ""
        gates = "".join(
            f"<br><span class='gate'>requires {_esc(text)}</span>"
            for text in c.precondition_texts()
        )
        rows.append(
            f"<tr><td>{_esc(c.notebook or '')}</td><td>{_esc(c.claim)}{note}</td>"
            f"<td>{_esc(c.paper)}</td><td>{measured}</td>"
            f"<td><code>{_esc(c.holds_if)}</code>{gates}</td>"
            f"<td class='{c.status.replace(' ', '-')}'>{_VERDICT[c.status]}{reason}</td></tr>"
        )
    return "\n".join(rows) or "<tr><td colspan=6>No claims were recorded.</td></tr>"


def _metric_rows(metrics: list[Metric]) -> str:
    rows = [
        f"<tr><td>{_esc(m.notebook or '')}</td><td><code>{_esc(m.name)}</code></td>"
        f"<td>{_fmt(m.value)}</td><td>{_esc(m.note)}</td></tr>"
        for m in metrics
    ]
    return "\n".join(rows) or "<tr><td colspan=4>No metrics were recorded.</td></tr>"


def _comparison_section(comparison: Comparison | None) -> str:
    if comparison is None:
        return "<h2>Compared with</h2><p>No earlier run to compare with.</p>"
    rows = "\n".join(
        f"<tr class='{'changed' if r.changed else 'same'}'><td>{_esc(r.notebook)}</td>"
        f"<td>{_esc(r.name)}</td><td>{_esc(text(r.before))}</td><td>{_esc(text(r.after))}</td>"
        f"<td>{_esc(r.tolerance)}</td><td>{'changed' if r.changed else ''}</td></tr>"
        for r in comparison.rows
    )
    notes = "".join(f"<li>{_esc(n)}</li>" for n in comparison.notes)
    return f"""<h2>Compared with <code>{_esc(comparison.against)}</code></h2>
<p>{len(comparison.changed)} of {len(comparison.rows)} verdicts and values changed
(highlighted).</p>{f"<ul>{notes}</ul>" if notes else ""}
<table><tr><th>Notebook</th><th>What</th><th>Before</th><th>After</th><th>Tolerance</th>
<th></th></tr>
{rows}
</table>"""


def _collect(run_dir: Path, summary: RunSummary) -> tuple[list[Claim], list[Metric]]:
    """Every claim and metric of the run, copied into ``summary``'s results for ``run.json``."""
    claims, metrics = [], []
    for r in summary.results:
        mine = load_claims(run_dir / r.claims_file)
        measured = load_metrics(run_dir / r.metrics_file) if r.metrics_file else []
        r.claims, r.metrics = [c.to_dict() for c in mine], [m.to_dict() for m in measured]
        claims += mine
        metrics += measured
    return claims, metrics


def write_report(run_dir: str | Path, compare_to: str | Path | None = None) -> Path:
    """(Re)write ``index.html`` and ``run.json`` in ``run_dir`` from its claims and metrics.

    ``compare_to`` (an earlier run directory, a baselines directory or a baseline file)
    adds a before → after table for every claim and metric, changed ones highlighted;
    the same rows go into ``run.json`` under ``comparison``.
    """
    run_dir = Path(run_dir)
    summary = RunSummary.load(run_dir)
    claims, metrics = _collect(run_dir, summary)
    comparison = None if compare_to is None else compare_run(run_dir, compare_to)
    summary.comparison = comparison and comparison.to_dict()
    summary.save()
    n_ok = sum(r.status == "ok" for r in summary.results)
    n_held = sum(c.held for c in claims)
    n_invalid = sum(c.status == "invalid" for c in claims)
    n_untestable = sum(not c.testable for c in claims)
    total = sum(r.seconds for r in summary.results)
    counts = [f"{n_invalid} invalid"] * bool(n_invalid)
    counts += [f"{n_untestable} not testable here"] * bool(n_untestable)
    invalid = f" ({', '.join(counts)})" if counts else ""
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Run {_esc(summary.started)}</title><style>{_STYLE}</style></head>
<body>
<h1>Notebook run {_esc(summary.started)}</h1>
<p>{n_ok}/{len(summary.results)} notebooks ran · {n_held}/{len(claims)} claims held{invalid} ·
{total:.0f} s · mode: {"smoke" if summary.smoke else "full"} · kernel
<code>{_esc(summary.kernel)}</code></p>
<h2>Notebooks</h2>
<table><tr><th>Notebook</th><th>Status</th><th>Run time</th><th>Parameters</th></tr>
{_notebook_rows(summary)}
</table>
<h2>Claims</h2>
<p>Each claim is the paper's, measured here at small scale. "Did not hold" is a result,
not a failure of the run; "invalid" means a measurement was not a finite number; "not
testable here" means a precondition (a sanity check of the model or setup, listed under the
check) failed, so the measurement could not speak to the claim. A value measured over seeds
shows its mean and 95% interval; a check on <code>lo(key)</code> asks the whole interval to
clear the bar.</p>
<table><tr><th>Notebook</th><th>Claim</th><th>Paper</th><th>Measured</th><th>Check</th>
<th>Result</th></tr>
{_claim_rows(claims)}
</table>
<h2>Metrics</h2>
<table><tr><th>Notebook</th><th>Metric</th><th>Value</th><th>Note</th></tr>
{_metric_rows(metrics)}
</table>
{_comparison_section(comparison)}
</body></html>
"""
    path = run_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _md(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def claims_markdown(claims: list[Claim]) -> list[str]:
    """Claims as the lines of a Markdown table: notebook, claim, measured, check, result."""
    lines = ["| Notebook | Claim | Measured | Check | Result |", "| --- | --- | --- | --- | --- |"]
    for c in claims:
        measured = ", ".join(c.measured_text())
        if c.intervals:
            measured += f" ({c.interval_text()})"
        verdict = _VERDICT[c.status] + (f" ({c.reason})" if c.reason else "")
        gates = "".join(f"; requires {text}" for text in c.precondition_texts())
        lines.append(
            f"| {_md(c.notebook or '')} | {_md(c.claim)} | {_md(measured)} | "
            f"`{_md(c.holds_if)}`{_md(gates)} | {_md(verdict)} |"
        )
    return lines


def metrics_markdown(metrics: list[Metric]) -> list[str]:
    """Metrics as the lines of a Markdown table: notebook, metric, value."""
    lines = ["| Notebook | Metric | Value |", "| --- | --- | --- |"]
    return lines + [
        f"| {_md(m.notebook or '')} | `{_md(m.name)}` | {_fmt(m.value)} |" for m in metrics
    ]


def markdown(run_dir: str | Path) -> str:
    """The run's claims and metrics as Markdown tables."""
    run_dir = Path(run_dir)
    summary = RunSummary.load(run_dir)
    claims, metrics = _collect(run_dir, summary)
    mode = "smoke" if summary.smoke else "full"
    lines = [f"Run {summary.started} ({mode} mode)", "", *claims_markdown(claims), ""]
    return "\n".join(lines + metrics_markdown(metrics)) + "\n"
