"""``python -m toolkit``: run notebooks, manage the model zoo, rebuild a report, keep baselines,
build and grade the course.

Mistakes (an unknown notebook filter, a missing run directory, an unwritable ``--out``)
end in one ``error: ...`` line and exit code 2; failed notebooks or changed results in 1.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

BASELINES = Path("tests/notebooks/baselines")


def _parameter(text: str) -> tuple[str, object]:
    """``name=value``; the value is read as a Python literal when it is one, else a string."""
    name, sep, raw = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    return name, value


def _cmd_run(args: argparse.Namespace) -> int:
    from toolkit.runs import find_notebooks, run_notebooks

    notebooks = find_notebooks(args.notebooks, args.filter)
    summary = run_notebooks(
        notebooks,
        out_root=args.out,
        smoke=args.smoke,
        parameters=dict(args.parameter),
        kernel=args.kernel,
        cell_timeout=args.cell_timeout,
    )
    report = Path(summary.run_dir).resolve() / "index.html"
    failed = [r.notebook for r in summary.results if r.status != "ok"]
    print(f"report: {report}")
    if failed:
        print(f"failed notebooks: {', '.join(failed)} (executed copies are in {summary.run_dir})")
    return 0 if summary.ok else 1


def _cmd_zoo(args: argparse.Namespace) -> int:
    from toolkit import zoo

    if args.action == "list":
        rows = zoo.list_models()
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        for row in rows:
            state = "cached" if row["cached"] else "not built"
            print(f"{row['name']:<22} {row['kind']:<17} {state:<10} {row['description']}")
            for key, value in row["metrics"].items():
                print(f"{'':<24}{key}: {value}")
        partial = [e for e in zoo.list_entries() if e.status == "partial"]
        for entry in partial:
            print(f"partial entry (will be rebuilt on use): {entry.path}")
        return 0
    if args.action == "build":
        for name in args.names or zoo.builtin_names():
            print(f"{name}: {zoo.build_builtin(name, rebuild=args.rebuild)}")
        return 0
    if args.action == "clean":
        names = args.names or [None]
        removed = [p for name in names for p in zoo.remove_entries(name)]
        print(f"removed {len(removed)} cache entr{'y' if len(removed) == 1 else 'ies'}")
        return 0
    print(zoo.cache_root())
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from toolkit.runs import find_notebooks, markdown, previous_run, update_readme, write_report

    if args.readme is not None:
        notebooks = [nb.name for nb in find_notebooks(args.notebooks)]
        changed = update_readme(args.readme, args.runs, notebooks)
        print(f"{args.readme}: {'results rewritten' if changed else 'results unchanged'}")
        return 0
    if args.markdown:
        print(markdown(args.run_dir), end="")
        return 0
    compare_to = args.compare or previous_run(args.run_dir)
    print(f"report: {write_report(args.run_dir, compare_to).resolve()}")
    return 0


def _print_comparison(comparison) -> int:
    for note in comparison.notes:
        print(f"note: {note}")
    if comparison.changed:
        print(f"{len(comparison.changed)} result(s) changed against {comparison.against}:")
        print(comparison.table())
        return 1
    print(f"{len(comparison.rows)} verdicts and values match {comparison.against}")
    return 0


def _cmd_baselines(args: argparse.Namespace) -> int:
    from toolkit.runs import compare_run, find_notebooks, run_notebooks, write_baselines

    if args.action == "check":
        if args.run_dir is None:
            raise ValueError("baselines check needs RUN_DIR (e.g. runs/latest)")
        return _print_comparison(compare_run(args.run_dir, args.dir, require_all=True))
    if args.run_dir is not None:
        raise ValueError("baselines update runs the notebooks itself: drop RUN_DIR, use -k")
    notebooks = find_notebooks(args.notebooks, args.filter)
    summary = run_notebooks(notebooks, out_root=args.out, smoke=True, kernel=args.kernel)
    for path in write_baselines(summary.run_dir, args.dir):
        print(f"baseline: {path}")
    failed = [r.notebook for r in summary.results if r.status != "ok"]
    if failed:
        print(f"failed notebooks (baselines kept as they were): {', '.join(failed)}")
    return 0 if summary.ok else 1


def _cmd_course(args: argparse.Namespace) -> int:
    from toolkit import course

    if args.action == "map":
        spec = course.load_course()
        print(f"{spec.title}\n\n{course.map_markdown(spec)}\n\n{course.coverage_markdown(spec)}")
        return 0
    if args.action == "build":
        print(f"site: {course.build_course(args.out, execute=not args.no_execute).resolve()}")
        return 0
    if args.path is None:
        raise ValueError("course grade needs SUBMISSIONS (a folder of returned notebooks)")
    csv_path = course.grade_submissions(args.path, args.autograder, args.csv)
    print(f"grades: {csv_path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m toolkit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="execute notebooks with papermill and write a report")
    run.add_argument(
        "--smoke",
        action="store_const",
        const=True,
        help="tiny budgets: every notebook < 3 min (same as -p smoke=True)",
    )
    _filter_argument(run)
    run.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        type=_parameter,
        metavar="NAME=VALUE",
        help="set a notebook parameter (must exist in its parameters cell)",
    )
    _run_arguments(run)
    run.add_argument("--cell-timeout", type=int, default=None, help="seconds per cell")
    run.set_defaults(func=_cmd_run)

    zoo = commands.add_parser("zoo", help="list, build or clean the model cache")
    zoo.add_argument("action", choices=["list", "build", "clean", "path"])
    zoo.add_argument("names", nargs="*", help="built-in model names (default: all)")
    zoo.add_argument("--rebuild", action="store_true", help="build even if cached")
    zoo.add_argument("--json", action="store_true", help="machine-readable listing")
    zoo.set_defaults(func=_cmd_zoo)

    report = commands.add_parser("report", help="rewrite a run directory's index.html")
    report.add_argument("run_dir", nargs="?", type=Path, default=Path("runs/latest"))
    report.add_argument(
        "--compare",
        type=Path,
        metavar="PATH",
        help="an earlier run, a baselines directory or a baseline file "
        "(default: the previous run beside RUN_DIR)",
    )
    report.add_argument(
        "--markdown", action="store_true", help="print claims and metrics as Markdown tables"
    )
    report.add_argument(
        "--readme",
        type=Path,
        metavar="README",
        help="rewrite README's generated results block from each notebook's latest full run",
    )
    report.add_argument("--runs", type=Path, default=Path("runs"), help="--readme: the runs root")
    report.add_argument("--notebooks", default="notebooks", help="--readme: notebooks listed")
    report.set_defaults(func=_cmd_report)

    baselines = commands.add_parser(
        "baselines", help="smoke-run notebooks into baselines, or check a run against them"
    )
    baselines.add_argument("action", choices=["update", "check"])
    baselines.add_argument("run_dir", nargs="?", type=Path, help="the run to check")
    baselines.add_argument("--dir", type=Path, default=BASELINES, help="baseline files")
    _filter_argument(baselines)
    _run_arguments(baselines)
    baselines.set_defaults(func=_cmd_baselines)

    course = commands.add_parser(
        "course", help="print the course map, build the course, or grade returned notebooks"
    )
    course.add_argument("action", choices=["map", "build", "grade"])
    course.add_argument("path", nargs="?", type=Path, help="grade: the SUBMISSIONS folder")
    course.add_argument("--out", type=Path, default=Path("course-build"), help="build: where")
    course.add_argument(
        "--no-execute", action="store_true", help="build: never run notebooks for the site"
    )
    course.add_argument(
        "--autograder", type=Path, default=Path("course-build/autograder"), help="grade: bundle"
    )
    course.add_argument("--csv", type=Path, help="grade: CSV path (default SUBMISSIONS/grades.csv)")
    course.set_defaults(func=_cmd_course)
    return parser


def _filter_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-k",
        "--filter",
        action="append",
        default=[],
        metavar="TEXT",
        help="only notebooks whose file name contains TEXT (repeatable; each must match)",
    )


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notebooks", default="notebooks", help="directory of notebooks")
    parser.add_argument("--out", default="runs", help="where run directories are written")
    parser.add_argument("--kernel", default="research-toolkit", help="Jupyter kernel name")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, LookupError, OSError) as error:
        message = " ".join(str(error).split())
        print(f"error: {message}", file=sys.stderr)
        return 2
