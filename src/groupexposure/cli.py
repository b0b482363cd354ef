"""The command line: ``groupexposure analyze | check | explain | demo | synthetic`` (SPEC §9).

Exit status: 0 done; 2 the input is invalid (every problem listed, no traceback); 3 with ``check``,
the facility would not be approved.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .analysis import analyze
from .io.external import merge_ownership, read_ownership
from .io.files import load_portfolio
from .model.issues import ValidationError, format_problems
from .model.policy import POLICIES
from .model.portfolio import Portfolio
from .result import AnalysisResult

__all__ = ["main"]

EXIT_OK, EXIT_INVALID, EXIT_DECLINED = 0, 2, 3
REPORT_AUTO_MAX_ENTITIES = 50_000
"""Above this, ``analyze --report auto`` writes the CSV files only (and says so): the reports take
seconds of drawing that a batch run over a whole book does not need."""


class _Progress:
    """Stage, counts and elapsed time on a terminal; silent when stderr is not one."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.active = stream.isatty()
        self.start = time.perf_counter()

    def __call__(self, stage: str, seconds: float) -> None:
        if self.active:
            total = time.perf_counter() - self.start
            print(f"  {stage:<10} {seconds:7.2f}s  (elapsed {total:.1f}s)", file=self.stream)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policy", default="basel", choices=sorted(POLICIES),
                   help="regulatory policy (default: basel)")
    p.add_argument("--grouping", default="overlapping", choices=["overlapping", "partition"],
                   help="overlapping groups (default) or one group per client")
    p.add_argument("--on-error", default="raise", choices=["raise", "collect"],
                   help="stop on invalid rows (default) or drop and list them in issues.csv")
    p.add_argument("--ownership", action="append", type=Path, default=[], metavar="FILE",
                   help="a BODS JSON or GLEIF relationship file (CSV or XML) to add to, or stand "
                   "in for, ownership.csv; may be given several times")
    p.add_argument("--as-of", default=None, metavar="DATE",
                   help="with --ownership: the ownership picture on this date (YYYY-MM-DD)")
    p.add_argument("--gleif-entities", action="append", type=Path, default=[], metavar="FILE",
                   help="with a GLEIF --ownership file: LEI records for names and kinds")
    p.add_argument("--include-funds", action="store_true",
                   help="with a GLEIF --ownership file: keep fund-management, sub-fund and feeder "
                   "links")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="groupexposure",
        description="Exposure to groups of connected clients against large-exposure limits.")
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("analyze", help="groups, exposures and limits for a portfolio directory")
    a.add_argument("data_dir", type=Path)
    a.add_argument("--out", type=Path, default=Path("groupexposure-out"),
                   help="where to write the CSV files (default: ./groupexposure-out)")
    a.add_argument("--report", default="auto", choices=["auto", "always", "never"],
                   help="also write report.xlsx and report.html: auto (default) for books of at "
                   f"most {REPORT_AUTO_MAX_ENTITIES:,} entities, always, or never")
    a.add_argument("--engine", default="numpy", choices=["numpy", "spark"],
                   help="numpy (default: this process) or spark (a local Spark session; needs "
                   "the spark extra and Java)")
    _common(a)
    c = sub.add_parser("check", help="may we lend this amount more to this entity? (exit 3: no)")
    c.add_argument("data_dir", type=Path)
    c.add_argument("--entity", required=True, help="the obligor's entity_id")
    c.add_argument("--amount", required=True, type=float, help="drawn amount of the new facility")
    c.add_argument("--product", default="loan", help="facility product (default: loan)")
    c.add_argument("--undrawn", type=float, default=0.0)
    c.add_argument("--ccf", type=float, default=None)
    c.add_argument("--currency", default=None, help="default: the reporting currency")
    c.add_argument("--guarantor", default=None, help="guarantor entity_id")
    c.add_argument("--guaranteed-amount", type=float, default=None)
    c.add_argument("--collateral", type=float, default=0.0)
    c.add_argument("--json", action="store_true", help="print the decision as JSON")
    _common(c)
    e = sub.add_parser("explain", help="why an entity is in its groups, its chain and its rules")
    e.add_argument("data_dir", type=Path)
    e.add_argument("--entity", required=True)
    e.add_argument("--json", action="store_true")
    _common(e)
    syn = sub.add_parser("synthetic", help="write a realistic synthetic portfolio of N entities")
    syn.add_argument("n", type=int)
    syn.add_argument("out_dir", type=Path)
    syn.add_argument("--seed", type=int, default=0)
    d = sub.add_parser("demo", help="the whole analysis on the bundled Ningxia example")
    d.add_argument("--out", type=Path, default=Path("groupexposure-out"))
    _common(d)
    return parser


def _load(data_dir: Path, args: argparse.Namespace) -> Portfolio:
    """The portfolio directory, with any --ownership files merged in."""
    book = load_portfolio(data_dir)
    if not getattr(args, "ownership", None):
        if getattr(args, "as_of", None) is not None:
            raise ValueError("--as-of applies to --ownership files; none was given")
        return book
    sources = []
    for path in args.ownership:
        if not path.is_file():
            raise ValueError(f"--ownership {path}: no such file")
        ext = read_ownership(path, as_of=args.as_of, include_funds=args.include_funds)
        if args.gleif_entities and not ext.entities["name"].notna().any():
            from .io.gleif import read_gleif

            ext = read_gleif(path, entities=args.gleif_entities, as_of=args.as_of,
                             include_funds=args.include_funds)
        sources.append(ext)
    return merge_ownership(book, *sources)


def _analyzed(args: argparse.Namespace) -> AnalysisResult:
    """The analysis of DATA, or the Spark engine's output read back where DATA is one."""
    from .engines.spark._cli import is_spark_output, spark_output
    if is_spark_output(args.data_dir):
        return spark_output(args.data_dir)
    return analyze(_load(args.data_dir, args), policy=args.policy, grouping=args.grouping,
                   on_error=args.on_error)


def _run_analyze(data_dir: Path, args: argparse.Namespace, out: TextIO) -> int:
    progress = _Progress(sys.stderr)
    result = analyze(_load(data_dir, args), policy=args.policy, grouping=args.grouping,
                     on_error=args.on_error, progress=progress)
    start = time.perf_counter()
    written = list(result.to_csv(args.out).values())
    progress("write", time.perf_counter() - start)
    mode = getattr(args, "report", "always")
    n = len(result.entities)
    if mode == "always" or (mode == "auto" and n <= REPORT_AUTO_MAX_ENTITIES):
        start = time.perf_counter()
        try:
            written.append(result.to_excel(args.out / "report.xlsx"))
            written.append(result.to_html(args.out / "report.html"))
        except ImportError as err:  # the report extra is not installed: say how to get it
            print(f"no report.xlsx or report.html: {err}", file=sys.stderr)
        progress("report", time.perf_counter() - start)
    elif mode == "auto":
        print(f"report.xlsx and report.html not written: {n:,} entities is more than "
              f"{REPORT_AUTO_MAX_ENTITIES:,} (--report always writes them)", file=out)
    print(result.summary(), file=out)
    print(f"wrote {', '.join(p.name for p in written)} to {args.out.resolve()}", file=out)
    return EXIT_OK


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status."""
    stream = out or sys.stdout
    args = _parser().parse_args(argv)
    try:
        if args.command == "analyze" and args.engine == "spark":
            from .engines.spark._cli import run_analyze
            return run_analyze(args.data_dir, args, stream)
        if args.command == "analyze":
            return _run_analyze(args.data_dir, args, stream)
        if args.command == "check":
            result = _analyzed(args)
            decision = result.check(
                args.entity, args.amount, args.product, undrawn=args.undrawn, ccf=args.ccf,
                currency=args.currency, guarantor_id=args.guarantor,
                guaranteed_amount=args.guaranteed_amount, collateral_value=args.collateral)
            if args.json:
                print(decision.to_json(), file=stream)
            else:
                print(decision, file=stream)
                print(decision.table.to_string(index=False), file=stream)
            return EXIT_OK if decision.approved else EXIT_DECLINED
        if args.command == "explain":
            result = _analyzed(args)
            explanation = result.explain(args.entity)
            print(dumps(explanation.to_dict()) if args.json else explanation, file=stream)
            return EXIT_OK
        if args.command == "synthetic":
            from .datasets import synthetic, write_portfolio

            book = synthetic(args.n, seed=args.seed)
            write_portfolio(book, args.out_dir)
            print(f"wrote {book!r} to {args.out_dir.resolve()}", file=stream)
            return EXIT_OK
        if args.command == "demo":
            from .datasets import ningxia_path

            print(f"Ningxia example ({ningxia_path()}):", file=stream)
            return _run_analyze(ningxia_path(), args, stream)
    except ValidationError as err:
        print(format_problems(err.problems), file=sys.stderr)
        return EXIT_INVALID
    except ValueError as err:  # an unknown entity or an invalid proposal: say what, no traceback
        print(f"groupexposure {args.command}: {err}", file=sys.stderr)
        return EXIT_INVALID
    raise AssertionError(f"unhandled command {args.command}")  # argparse rejects unknown ones


def _json_default(obj: object) -> str:
    return str(obj)


def dumps(data: object) -> str:
    """JSON for audit logs (numbers as numbers, anything else as text)."""
    return json.dumps(data, default=_json_default, ensure_ascii=False, indent=2)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
