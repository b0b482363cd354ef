"""The command line: ``groupexposure analyze | check | explain | demo | synthetic`` (SPEC §9).

Exit status: 0 done; 2 the input is invalid (every problem listed, no traceback); 3 with ``check``,
the facility would not be approved.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pydantic import ValidationError as PydanticValidationError

from .ledger import cli as ledger_cli
from .model.issues import ValidationError, format_problems
from .model.policy import POLICIES
from .service import cli as service_cli
from .staging import check_output_dir, staged_output

if TYPE_CHECKING:
    from .model.portfolio import Portfolio
    from .result import AnalysisResult

__all__ = ["main"]

EXIT_OK, EXIT_INTERNAL, EXIT_INVALID, EXIT_DECLINED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
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


def _report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", default="en", choices=["en", "zh"],
                   help="language of report.html, report.xlsx and the summary (default: en)")
    p.add_argument("--display-unit", default=None, choices=["元", "万元", "亿元"],
                   help="show amounts in the reports and the summary in this unit")


def _reading(p: argparse.ArgumentParser) -> None:
    """How to read the bank's own files (SPEC §1, "Files as banks have them")."""
    p.add_argument("--encoding", default=None, metavar="ENC",
                   help="the CSV files' encoding (default: detected, UTF-8 or GB18030/GBK)")
    p.add_argument("--columns", type=Path, default=None, metavar="FILE",
                   help="a column map (JSON: {table: {bank header: column}}); default: "
                   "columns.json beside the files")
    p.add_argument("--amount-unit", default=None, metavar="UNIT",
                   help="unit of the facilities' amounts: 元, 万元, 亿元 or a number (default 元)")
    p.add_argument("--capital-unit", default=None, metavar="UNIT",
                   help="unit of the capital figures: 元, 万元, 亿元 or a number (default 元)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="groupexposure",
        description="Exposure to groups of connected clients against large-exposure limits.")
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("analyze", help="groups, exposures and limits for a portfolio directory")
    a.add_argument("data_dir", type=Path, help="the portfolio directory, or one workbook (.xlsx)")
    a.add_argument("--out", type=Path, default=Path("groupexposure-out"),
                   help="where to write the CSV files (default: ./groupexposure-out)")
    a.add_argument("--report", default="auto", choices=["auto", "always", "never"],
                   help="also write report.xlsx and report.html: auto (default) for books of at "
                   f"most {REPORT_AUTO_MAX_ENTITIES:,} entities, always, or never")
    a.add_argument("--engine", default="numpy", choices=["numpy", "spark"],
                   help="numpy (default: this process) or spark (a local Spark session; needs "
                   "the spark extra and Java)")
    a.add_argument("--format", default="csv", choices=["csv", "parquet"],
                   help="the four tables as CSV (default) or Parquet files")
    a.add_argument("--save", type=Path, default=None, metavar="SNAP",
                   help="also save the analysis as a snapshot for check/reserve (SPEC §10)")
    a.add_argument("--carry", type=Path, default=None, metavar="OLD_SNAP",
                   help="with --save: take over the open reservations of this snapshot")
    _report_options(a)
    a.add_argument("--no-bom", action="store_true",
                   help="write the CSV files without the UTF-8 byte-order mark (by default it is "
                   "written, so that Excel opens Chinese text)")
    _common(a)
    _reading(a)
    c = sub.add_parser("check", help="may we lend this amount more to this entity? (exit 3: no)")
    c.add_argument("data_dir", type=Path, nargs="?", default=None)
    c.add_argument("--entity", default=None, help="the obligor's entity_id")
    c.add_argument("--amount", type=float, default=None,
                   help="nominal of the new facility: drawn for loan, overdraft, bond; undrawn "
                   "(off-balance) for the other products")
    c.add_argument("--product", default="loan", help="facility product (default: loan)")
    c.add_argument("--drawn", type=float, default=None, help="drawn part (mixed facilities)")
    c.add_argument("--undrawn", type=float, default=None, help="undrawn part (mixed facilities)")
    c.add_argument("--ccf", type=float, default=None)
    c.add_argument("--currency", default=None, help="default: the reporting currency")
    c.add_argument("--guarantor", default=None, help="guarantor entity_id")
    c.add_argument("--guaranteed-amount", type=float, default=None)
    c.add_argument("--collateral", type=float, default=0.0)
    c.add_argument("--json", action="store_true", help="print the decision as JSON")
    ledger_cli.add_check_options(c)
    _common(c)
    _reading(c)
    e = sub.add_parser("explain", help="why an entity is in its groups, its chain and its rules")
    e.add_argument("data_dir", type=Path)
    e.add_argument("--entity", required=True)
    e.add_argument("--json", action="store_true")
    _common(e)
    _reading(e)
    syn = sub.add_parser("synthetic", help="write a realistic synthetic portfolio of N entities")
    syn.add_argument("n", type=int)
    syn.add_argument("out_dir", type=Path)
    syn.add_argument("--seed", type=int, default=0)
    from .returns.cli import add_arguments as returns_arguments

    returns_arguments(sub.add_parser("returns", help="a regulatory large-exposure return (CSV and "
                                     "workbook)"), sorted(POLICIES))
    d = sub.add_parser("demo", help="the whole analysis on the bundled Ningxia example")
    d.add_argument("--out", type=Path, default=Path("groupexposure-out"))
    _report_options(d)
    d.add_argument("--no-bom", action="store_true", help="CSV files without the byte-order mark")
    _common(d)
    ledger_cli.add_commands(sub)
    service_cli.add_command(sub)
    return parser


def _load(data_dir: Path, args: argparse.Namespace) -> Portfolio:
    """The portfolio directory, with any --ownership files merged in."""
    # imported here: `check --snapshot` never reads a portfolio and stays lean
    from .io.external import merge_ownership, read_ownership
    from .io.files import load_portfolio

    book = load_portfolio(data_dir, encoding=getattr(args, "encoding", None),
                          columns=getattr(args, "columns", None),
                          amount_unit=getattr(args, "amount_unit", None),
                          capital_unit=getattr(args, "capital_unit", None))
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


def _write_outputs(result: AnalysisResult, stage: Path, args: argparse.Namespace,
                   progress: _Progress) -> list[Path]:
    """The CSV files, and the reports where asked, written into the staging folder."""
    start = time.perf_counter()
    if getattr(args, "format", "csv") == "parquet":
        written = list(result.to_parquet(stage).values())
    else:
        written = list(result.to_csv(stage, bom=not getattr(args, "no_bom", False)).values())
    progress("write", time.perf_counter() - start)
    mode = getattr(args, "report", "always")
    if mode == "always" or (mode == "auto" and len(result.entities) <= REPORT_AUTO_MAX_ENTITIES):
        start = time.perf_counter()
        try:
            shown = {"lang": args.lang, "display_unit": args.display_unit}
            written.append(result.to_excel(stage / "report.xlsx", **shown))
            written.append(result.to_html(stage / "report.html", **shown))
        except ImportError as err:  # the report extra is not installed: say how to get it
            print(f"no report.xlsx or report.html: {err}", file=sys.stderr)
        progress("report", time.perf_counter() - start)
    return written


def _run_analyze(data_dir: Path, args: argparse.Namespace, out: TextIO) -> int:
    from .analysis import analyze

    check_output_dir(args.out, [data_dir])  # before the analysis: a bad --out fails at once
    progress = _Progress(sys.stderr)
    result = analyze(_load(data_dir, args), policy=args.policy, grouping=args.grouping,
                     on_error=args.on_error, progress=progress)
    with staged_output(args.out, inputs=[data_dir]) as stage:
        written = _write_outputs(result, stage, args, progress)
    mode = getattr(args, "report", "always")
    n = len(result.entities)
    if mode == "auto" and n > REPORT_AUTO_MAX_ENTITIES:
        print(f"report.xlsx and report.html not written: {n:,} entities is more than "
              f"{REPORT_AUTO_MAX_ENTITIES:,} (--report always writes them)", file=out)
    print(result.summary(lang=args.lang, display_unit=args.display_unit), file=out)
    print(f"wrote {', '.join(p.name for p in written)} to {args.out.resolve()}", file=out)
    if getattr(args, "save", None) is not None:
        snap = result.save(args.save, carry=args.carry)
        print(f"saved the snapshot to {snap.resolve()}", file=out)
    return EXIT_OK


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status.

    Whatever goes wrong, the user sees one line (what, where, what would be valid) and an exit status, never
    a traceback: 2 for invalid input or options, 3 for a declined check, 130 when interrupted, 1 for a fault
    of the library itself, whose full trace is written to a file the line names.
    """
    stream = out or sys.stdout
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args, stream)
    except ValidationError as err:
        print(format_problems(err.problems), file=sys.stderr)
        return EXIT_INVALID
    except PydanticValidationError as err:  # a proposal or option that breaks its model
        print(f"groupexposure {args.command}: {_pydantic_line(err)}", file=sys.stderr)
        return EXIT_INVALID
    except (ValueError, OSError) as err:  # an unknown entity, an invalid proposal, an unusable --out
        if isinstance(err, BrokenPipeError):
            return _quiet_after_broken_pipe()
        print(f"groupexposure {args.command}: {err}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print(f"groupexposure {args.command}: interrupted; no output folder was changed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # a bug: one line for the user, the whole trace in a file
        trace = _write_trace(err)
        print(f"groupexposure {args.command}: internal error ({type(err).__name__}: {err}); the full "
              f"trace is in {trace}; please report it", file=sys.stderr)
        return EXIT_INTERNAL


def _analyzed(args: argparse.Namespace) -> AnalysisResult:
    """The analysis of DATA, or the Spark engine's output read back where DATA is one."""
    from .analysis import analyze
    from .engines.spark._cli import is_spark_output, spark_output

    if is_spark_output(args.data_dir):
        return spark_output(args.data_dir)
    return analyze(_load(args.data_dir, args), policy=args.policy, grouping=args.grouping,
                   on_error=args.on_error)


def _dispatch(args: argparse.Namespace, stream: TextIO) -> int:
    if args.command == "analyze" and args.engine == "spark":
        from .engines.spark._cli import run_analyze

        return run_analyze(args.data_dir, args, stream)
    if args.command == "analyze":
        return _run_analyze(args.data_dir, args, stream)
    if args.command == "serve":
        return service_cli.run(args)
    if args.command in ("reserve", "release", "diff") or (
            args.command == "check" and args.snapshot is not None):
        return ledger_cli.run(args, stream)
    if args.command == "check":
        if args.data_dir is None:
            raise ValueError("check needs DATA_DIR or --snapshot SNAP")
        if args.proposals is None and (args.entity is None or (
                args.amount is None and args.drawn is None and args.undrawn is None)):
            raise ValueError("check needs --entity and --amount (or --drawn/--undrawn, or "
                             "--proposals FILE)")
        result = _analyzed(args)
        if args.proposals is not None:
            return ledger_cli.check_without_snapshot(result, args, stream)
        decision = result.check(
            args.entity, args.amount, args.product, drawn=args.drawn, undrawn=args.undrawn,
            ccf=args.ccf, currency=args.currency, guarantor_id=args.guarantor,
            guaranteed_amount=args.guaranteed_amount, collateral_value=args.collateral)
        if args.json:
            print(decision.to_json(), file=stream)
        else:
            from .decide.text import decision_table, decision_text, names_of

            names = names_of(result)
            print(decision_text(decision, names), file=stream)
            print(f"reason: {decision.reason}", file=stream)
            print(decision_table(decision, names).to_string(index=False), file=stream)
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
    if args.command == "returns":
        from .returns.cli import run as run_returns

        return run_returns(args, stream)
    if args.command == "demo":
        from .datasets import ningxia_path

        print(f"Ningxia example ({ningxia_path()}):", file=stream)
        return _run_analyze(ningxia_path(), args, stream)
    raise AssertionError(f"unhandled command {args.command}")  # argparse rejects unknown ones


def _pydantic_line(err: PydanticValidationError) -> str:
    """A pydantic error as one readable line: field, what is wrong, the value given."""
    parts = []
    for e in err.errors():
        field = ".".join(str(x) for x in e["loc"]) or "value"
        parts.append(f"{field}: {e['msg']} (got {e.get('input')!r})")
    return "; ".join(parts)


def _quiet_after_broken_pipe() -> int:
    """The reader of our output went away (``| head``): stop quietly, as other command-line tools do."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_OK


def _write_trace(err: BaseException) -> Path:
    import tempfile
    import traceback

    fd, name = tempfile.mkstemp(prefix="groupexposure-trace-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("".join(traceback.format_exception(err)))
    return Path(name)


def _json_default(obj: object) -> str:
    return str(obj)


def dumps(data: object) -> str:
    """JSON for audit logs (numbers as numbers, anything else as text)."""
    return json.dumps(data, default=_json_default, ensure_ascii=False, indent=2)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
