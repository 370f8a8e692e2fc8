"""Run benchmarks, print their tables and write ``<out>/<name>.json`` (see ``benchmarks``)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch

from benchmarks import NAMES, RESULTS_DIR, module, results_path, tables
from toolkit.benchmarking import results, write_results


def _override(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` with VALUE read as JSON when it parses (``rounds=1``, ``sizes=[1,8]``)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--set takes KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _device(requested: str, gpu: bool) -> str:
    if gpu:
        requested = "cuda"
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise SystemExit(
            "error: the GPU suite needs a CUDA device and torch sees none "
            f"(torch {torch.__version__}; install a CUDA build: see the README's GPU section)"
        )
    return requested


def settings_for(name: str, *, smoke: bool, device: str, overrides: dict | None = None) -> dict:
    """``name``'s (smoke) settings on ``device`` with ``overrides``, which must all be known."""
    settings = module(name).settings(smoke=smoke, device=device)
    unknown = sorted(set(overrides or {}) - set(settings))
    if unknown:
        raise ValueError(f"--set {unknown}: {name} has the settings {sorted(settings)}")
    return {**settings, **(overrides or {}), "smoke": smoke}


def run_benchmark(
    name: str, *, smoke: bool, device: str, out: Path, overrides: dict | None = None
) -> Path:
    """Run ``name`` with its (smoke) settings on ``device``, print its table, save its results."""
    settings = settings_for(name, smoke=smoke, device=device, overrides=overrides)
    data = results(name, settings, module(name).run(settings, device), device)
    print(tables.section(name, data), flush=True)
    return write_results(results_path(out, name, device), data)


def main(argv: list[str] | None = None, names: tuple[str, ...] = NAMES) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"default: all of {names}")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds; temp --out")
    parser.add_argument("--gpu", action="store_true", help="the GPU suite (--device cuda)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--out", type=Path, help=f"results folder (default {RESULTS_DIR})")
    parser.add_argument(
        "--set",
        type=_override,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting of the named benchmark(s), e.g. --set rounds=1",
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the tables of the saved results, no run"
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in names]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(names)}")
    selected = args.names or list(names)
    if args.markdown:
        print(tables.markdown(selected, args.out or RESULTS_DIR))
        return 0
    out = args.out or (Path(tempfile.mkdtemp(prefix="benchmarks-")) if args.smoke else RESULTS_DIR)
    device = _device(args.device, args.gpu)
    overrides = dict(args.set)
    for name in selected:  # every --set checked before anything runs
        try:
            settings_for(name, smoke=args.smoke, device=device, overrides=overrides)
        except ValueError as error:
            parser.error(str(error))
    for name in selected:
        path = run_benchmark(name, smoke=args.smoke, device=device, out=out, overrides=overrides)
        print(f"written to {path}\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
