"""``groupexposure returns DATA --template T --out DIR``: the command's logic (cli.py only parses).

:func:`write_result_returns` takes an :class:`AnalysisResult`, so that a snapshot can be wired in
the same way once it can give one."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from . import TEMPLATES, build_returns
from .write import write_returns

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["DEFAULT_POLICY", "add_arguments", "run", "write_result_returns"]

DEFAULT_POLICY = {"basel_lex20": "basel", "eu_corep_le": "eu_crr", "cn_g14": "cn_cbirc_2018"}
"""The policy each template is computed under unless ``--policy`` says otherwise."""


def add_arguments(p: argparse.ArgumentParser, policies: list[str]) -> None:
    """The ``returns`` subcommand's arguments."""
    p.add_argument("data_dir", type=Path, nargs="?", default=None)
    p.add_argument("--snapshot", type=Path, default=None, metavar="SNAP",
                   help="a saved analysis instead of DATA (not available in this version)")
    p.add_argument("--template", required=True, choices=list(TEMPLATES))
    p.add_argument("--out", type=Path, default=Path("groupexposure-returns"),
                   help="where to write the CSV files and the workbook")
    p.add_argument("--policy", default=None, choices=policies,
                   help="default: basel for basel_lex20, eu_crr for eu_corep_le, cn_cbirc_2018 "
                   "for cn_g14")
    p.add_argument("--grouping", default="overlapping", choices=["overlapping", "partition"])
    p.add_argument("--on-error", default="raise", choices=["raise", "collect"])
    p.add_argument("--no-bom", action="store_true", help="CSV files without a byte-order mark")


def write_result_returns(result: AnalysisResult, template: str, out_dir: Path, *,
                         bom: bool = True) -> list[Path]:
    """Build ``template`` from ``result`` and write it into ``out_dir``."""
    return write_returns(build_returns(result, template), out_dir, bom=bom)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``groupexposure returns``; raises ValueError on a bad combination of arguments."""
    from ..analysis import analyze

    if args.snapshot is not None:
        raise ValueError("--snapshot is not available yet: give the portfolio directory DATA")
    if args.data_dir is None:
        raise ValueError("give the portfolio directory DATA (or --snapshot SNAP)")
    policy = args.policy or DEFAULT_POLICY[args.template]
    result = analyze(args.data_dir, policy=policy, grouping=args.grouping, on_error=args.on_error)
    written = write_result_returns(result, args.template, args.out, bom=not args.no_bom)
    ret_issues = sum(1 for p in written if p.name.endswith("_issues.csv"))
    print(f"{args.template} under policy {policy}: wrote {len(written) - ret_issues - 1} tables, "
          f"the issues and the workbook to {args.out.resolve()}", file=out)
    return 0
