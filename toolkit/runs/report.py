"""The run report: ``index.html`` with a row per notebook and a row per claim."""

from __future__ import annotations

import html
from pathlib import Path

from toolkit.claims import Claim, load_claims
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
.failed, .not-held { color: #cf222e; font-weight: 600; }
.error { white-space: pre-wrap; font: 12px monospace; color: #cf222e; }
"""


def _esc(value) -> str:
    return html.escape(str(value))


def _fmt(value: float) -> str:
    return f"{value:.4g}"


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
        measured = "<br>".join(f"{_esc(k)} = {_fmt(v)}" for k, v in c.measured.items())
        verdict = ("held", "held") if c.held else ("not-held", "did not hold")
        note = f"<br><i>{_esc(c.note)}</i>" if c.note else ""
        rows.append(
            f"<tr><td>{_esc(c.notebook or '')}</td><td>{_esc(c.claim)}{note}</td>"
            f"<td>{_esc(c.paper)}</td><td>{measured}</td><td><code>{_esc(c.holds_if)}</code></td>"
            f"<td class='{verdict[0]}'>{verdict[1]}</td></tr>"
        )
    return "\n".join(rows) or "<tr><td colspan=6>No claims were recorded.</td></tr>"


def write_report(run_dir: str | Path) -> Path:
    """(Re)write ``index.html`` in ``run_dir`` from its ``run.json`` and claims files."""
    run_dir = Path(run_dir)
    summary = RunSummary.load(run_dir)
    claims = [c for r in summary.results for c in load_claims(run_dir / r.claims_file)]
    n_ok = sum(r.status == "ok" for r in summary.results)
    n_held = sum(c.held for c in claims)
    total = sum(r.seconds for r in summary.results)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Run {_esc(summary.started)}</title><style>{_STYLE}</style></head>
<body>
<h1>Notebook run {_esc(summary.started)}</h1>
<p>{n_ok}/{len(summary.results)} notebooks ran · {n_held}/{len(claims)} claims held ·
{total:.0f} s · mode: {"smoke" if summary.smoke else "full"} · kernel
<code>{_esc(summary.kernel)}</code></p>
<h2>Notebooks</h2>
<table><tr><th>Notebook</th><th>Status</th><th>Run time</th><th>Parameters</th></tr>
{_notebook_rows(summary)}
</table>
<h2>Claims</h2>
<p>Each claim is the paper's, measured here at small scale. "Did not hold" is a result,
not a failure of the run.</p>
<table><tr><th>Notebook</th><th>Claim</th><th>Paper</th><th>Measured</th><th>Check</th>
<th>Result</th></tr>
{_claim_rows(claims)}
</table>
</body></html>
"""
    path = run_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
