"""``groupexposure returns DATA|--snapshot SNAP --template T --out DIR``: the command's logic (cli.py
only parses).

From DATA the portfolio is analysed under ``--policy`` (by default the template's own, see
:data:`DEFAULT_POLICY`); from a snapshot the return is that of the saved analysis, under the policy
and grouping it was saved with: a ``--policy`` or ``--grouping`` that differs is refused, since the
snapshot holds no input to analyse again."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from . import TEMPLATES, build_returns
from .write import write_returns

if TYPE_CHECKING:
    from ._common import Returns

__all__ = ["DEFAULT_POLICY", "add_arguments", "run"]

DEFAULT_POLICY = {"basel_lex20": "basel", "eu_corep_le": "eu_crr", "cn_g14": "cn_cbirc_2018"}
"""The policy each template is computed under unless ``--policy`` says otherwise."""


def add_arguments(p: argparse.ArgumentParser, policies: list[str]) -> None:
    """The ``returns`` subcommand's arguments."""
    p.add_argument("data_dir", type=Path, nargs="?", default=None)
    p.add_argument("--snapshot", type=Path, default=None, metavar="SNAP",
                   help="a saved analysis instead of DATA (its policy and grouping)")
    p.add_argument("--template", required=True, choices=list(TEMPLATES))
    p.add_argument("--out", type=Path, default=Path("groupexposure-returns"),
                   help="where to write the CSV files and the workbook")
    p.add_argument("--policy", default=None, choices=policies,
                   help="default: basel for basel_lex20, eu_crr for eu_corep_le, cn_cbirc_2018 "
                   "for cn_g14")
    p.add_argument("--grouping", default=None, choices=["overlapping", "partition"],
                   help="default: overlapping")
    p.add_argument("--on-error", default=None, choices=["raise", "collect"],
                   help="default: raise (DATA only)")
    p.add_argument("--no-bom", action="store_true", help="CSV files without a byte-order mark")


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``groupexposure returns``; raises ValueError on a bad combination of arguments."""
    if args.snapshot is not None:
        returns, policy = _from_snapshot(args)
        source = f"snapshot {args.snapshot}"
    elif args.data_dir is None:
        raise ValueError("give the portfolio directory DATA (or --snapshot SNAP)")
    else:
        from ..analysis import analyze

        policy = args.policy or DEFAULT_POLICY[args.template]
        result = analyze(args.data_dir, policy=policy, grouping=args.grouping or "overlapping",
                         on_error=args.on_error or "raise")
        returns = build_returns(result, args.template)
        source = str(args.data_dir)
    written = write_returns(returns, args.out, bom=not args.no_bom)
    ret_issues = sum(1 for p in written if p.name.endswith("_issues.csv"))
    print(f"{args.template} under policy {policy} from {source}: wrote "
          f"{len(written) - ret_issues - 1} tables, the issues and the workbook to "
          f"{args.out.resolve()}", file=out)
    return 0


def _from_snapshot(args: argparse.Namespace) -> tuple[Returns, str]:
    """The return of the snapshot ``args.snapshot``, and its policy's name."""
    from ..ledger.snapshot import open_snapshot

    if args.data_dir is not None:
        raise ValueError("give either the portfolio directory DATA or --snapshot SNAP, not both")
    if args.on_error is not None:
        raise ValueError("--on-error applies when reading DATA; a snapshot is an analysis "
                         "already made")
    snap = open_snapshot(args.snapshot)
    for option, asked, saved in (("--policy", args.policy, snap.policy.name),
                                 ("--grouping", args.grouping, snap.grouping)):
        if asked is not None and asked != saved:
            raise ValueError(f"snapshot {args.snapshot} was analysed under {option} {saved}, "
                             f"not {asked}: give DATA to analyse it under {asked}, or leave "
                             f"{option} out")
    return snap.returns(args.template), snap.policy.name
