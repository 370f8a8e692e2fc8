"""Markdown tables from saved benchmark results, and the README's copies of them.

    python -m benchmarks.tables [NAME...] [--results DIR]      print every table
    python -m benchmarks.tables --readme README.md             rewrite the README's tables

In the README each benchmark's table sits between ``<!-- benchmark:NAME -->`` and
``<!-- /benchmark:NAME -->``; ``--readme`` replaces exactly those blocks with the tables built
from ``DIR/NAME.json`` (CPU) and ``DIR/NAME-gpu.json`` (CUDA), machine and date beside each,
so no number in them is typed by hand.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from benchmarks import NAMES, RESULTS_DIR, ROOT, module, results_path
from toolkit.benchmarking import read_results

BLOCK = re.compile(r"(<!-- benchmark:(\w+) -->\n)(.*?)(<!-- /benchmark:\2 -->)", re.DOTALL)


def machine_line(data: dict) -> str:
    """Where and when ``data`` was measured, in one sentence (fields not recorded are left out)."""
    m = data["machine"]
    described = {
        "gpu": "{}",
        "cpu": "{}",
        "cores": "{} cores",
        "threads": "torch threads: {}",
        "torch": "torch {}",
        "device": "device {}",
    }
    parts = [text.format(m[key]) for key, text in described.items() if m.get(key) is not None]
    if m.get("gpu") is not None:
        parts.remove(m["cpu"])
    smoke = " (smoke sizes)" if data["settings"].get("smoke") else ""
    return f"Measured {data['date'][:10]}{smoke} on {', '.join(parts)}."


def section(name: str, data: dict) -> str:
    """The machine line and the table of one results object."""
    return f"{machine_line(data)}\n\n{module(name).table(data)}"


def block(name: str, folder: Path = RESULTS_DIR) -> str:
    """``name``'s CPU table and its GPU table, or why the GPU one is missing."""
    parts = []
    for device in ("cpu", "cuda"):
        path = results_path(folder, name, device)
        if path.is_file():
            parts.append(section(name, read_results(path)))
        elif device == "cuda":
            parts.append(
                f"GPU: not measured (no GPU). `python -m benchmarks {name} --gpu` runs "
                f"{module(name).GPU_PLAN}."
            )
        else:
            parts.append(f"CPU: not measured yet: `python -m benchmarks {name}`.")
    parts.append(
        f"Generated from `benchmarks/results/{name}*.json` by "
        "`python -m benchmarks.tables --readme README.md`."
    )
    return "\n\n".join(parts)


def markdown(names: list[str], folder: Path = RESULTS_DIR) -> str:
    """Every named benchmark's block under a heading."""
    return "\n\n".join(f"### {name}\n\n{block(name, folder)}" for name in names)


def update_readme(text: str, folder: Path = RESULTS_DIR) -> str:
    """``text`` with each ``benchmark:NAME`` block rebuilt from the results in ``folder``."""

    def rebuild(match: re.Match) -> str:
        name = match.group(2)
        if name not in NAMES:
            raise ValueError(f"README block benchmark:{name}: no such benchmark; one of {NAMES}")
        return f"{match.group(1)}{block(name, folder)}\n{match.group(4)}"

    return BLOCK.sub(rebuild, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tables", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"default: all of {NAMES}")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="results folder")
    parser.add_argument("--readme", type=Path, help=f"rewrite its blocks (e.g. {ROOT}/README.md)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in NAMES]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(NAMES)}")
    if args.readme:
        text = args.readme.read_text()
        args.readme.write_text(update_readme(text, args.results))
        print(f"rewrote {len(BLOCK.findall(text))} benchmark tables in {args.readme}")
    else:
        print(markdown(args.names or list(NAMES), args.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
