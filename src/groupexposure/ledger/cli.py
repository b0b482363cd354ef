"""The command-line side of snapshots: ``check --snapshot``, ``reserve``, ``release``, ``diff``.

Only the parser lines and a dispatch call live in :mod:`groupexposure.cli`. This module imports
nothing heavy at the top: ``check --snapshot`` in a fresh process loads the check and the
snapshot's index, not the analysis.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ..decide.check import Decision

__all__ = ["add_check_options", "add_commands", "run"]

EXIT_OK, EXIT_DECLINED = 0, 3


def add_check_options(c: argparse.ArgumentParser) -> None:
    """``check --snapshot SNAP`` and ``check --proposals FILE``."""
    c.add_argument("--snapshot", type=Path, default=None,
                   help="answer from a saved snapshot (counting its open reservations) instead of "
                   "analysing DATA_DIR")
    c.add_argument("--proposals", type=Path, default=None, metavar="FILE",
                   help="a CSV file of proposals (entity_id, amount and optionally product, "
                   "undrawn, ccf, currency, guarantor_id, guaranteed_amount, collateral_value), "
                   "each judged on its own; exit 3 when any is declined")


def _facility(p: argparse.ArgumentParser, *, entity: bool = True) -> None:
    p.add_argument("--snapshot", type=Path, required=True)
    p.add_argument("--entity", required=True, help="the obligor's entity_id")
    p.add_argument("--amount", required=True, type=float, help="amount of the new facility")
    p.add_argument("--product", default="loan", help="facility product (default: loan)")
    p.add_argument("--undrawn", type=float, default=0.0)
    p.add_argument("--ccf", type=float, default=None)
    p.add_argument("--currency", default=None, help="default: the reporting currency")
    p.add_argument("--guarantor", default=None, help="guarantor entity_id")
    p.add_argument("--guaranteed-amount", type=float, default=None)
    p.add_argument("--collateral", type=float, default=0.0)
    p.add_argument("--json", action="store_true", help="print the decision as JSON")


def add_commands(sub: Any) -> None:
    """The ``reserve``, ``release`` and ``diff`` subcommands."""
    r = sub.add_parser("reserve", help="check and book a facility against a snapshot (exit 3: "
                       "declined, and journaled)")
    _facility(r)
    r.add_argument("--reference", default=None, help="the loan's reference (a facility_id once "
                   "booked)")
    r.add_argument("--by", required=True, help="the user who reserves")
    rel = sub.add_parser("release", help="take back an open reservation")
    rel.add_argument("--snapshot", type=Path, required=True)
    rel.add_argument("--reservation", required=True, help="the reservation_id")
    rel.add_argument("--by", required=True)
    rel.add_argument("--json", action="store_true")
    d = sub.add_parser("diff", help="what changed between two snapshots")
    d.add_argument("old", type=Path)
    d.add_argument("new", type=Path)
    d.add_argument("--out", type=Path, default=None, help="write the diff tables as CSV here")


def _facility_args(args: argparse.Namespace) -> dict[str, Any]:
    return {"undrawn": args.undrawn, "ccf": args.ccf, "currency": args.currency,
            "guarantor_id": args.guarantor, "guaranteed_amount": args.guaranteed_amount,
            "collateral_value": args.collateral}


def _print_decision(decision: Decision, args: argparse.Namespace, out: TextIO) -> int:
    if args.json:
        print(decision.to_json(), file=out)
    else:
        print(decision, file=out)
        if decision.reservation_id:
            print(f"reservation {decision.reservation_id}", file=out)
        print(decision.table.to_string(index=False), file=out)
    return EXIT_OK if decision.approved else EXIT_DECLINED


def _proposals(path: Path) -> Any:
    import pandas as pd

    if not path.is_file():
        raise ValueError(f"--proposals {path}: no such file")
    text = ("entity_id", "guarantor_id", "product", "currency")
    frame = pd.read_csv(path, dtype=dict.fromkeys(text, str), keep_default_na=False,
                        na_values={c: [""] for c in ("amount", "undrawn", "ccf",
                                                     "guaranteed_amount", "collateral_value")})
    for col in text[1:]:  # an empty text cell is a value not given
        if col in frame:
            frame[col] = frame[col].astype(object).where(frame[col] != "", None)
    return frame


def _print_many(judged: Any, args: argparse.Namespace, out: TextIO) -> int:
    if args.json:
        for rec in judged.to_dict("records"):
            print(json.dumps(rec, default=str, ensure_ascii=False), file=out)
    else:
        judged.to_csv(out, index=False)
    return EXIT_OK if bool(judged["approved"].all()) else EXIT_DECLINED


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Dispatch one of this module's commands (or ``check --snapshot``)."""
    from .snapshot import open_snapshot

    if args.command == "diff":
        from .diff import diff, load_side

        d = diff(load_side(args.old), load_side(args.new))
        print(d.summary(), file=out)
        if args.out is not None:
            written = d.to_csv(args.out)
            print(f"wrote {', '.join(p.name for p in written)} to {args.out.resolve()}", file=out)
        return EXIT_OK
    snap = open_snapshot(args.snapshot)
    if args.command == "release":
        row = snap.release(args.reservation, by=args.by)
        if args.json:
            print(json.dumps(row, default=str, ensure_ascii=False), file=out)
        else:
            print(f"released {row['reservation_id']} ({row['entity_id']} {row['product']} "
                  f"{row['amount']:,.0f} {row['currency']})", file=out)
        return EXIT_OK
    if args.command == "reserve":
        decision = snap.reserve(args.entity, args.amount, args.product, by=args.by,
                                reference=args.reference, **_facility_args(args))
        return _print_decision(decision, args, out)
    if args.proposals is not None:
        return _print_many(snap.check_many(_proposals(args.proposals)), args, out)
    if args.entity is None or args.amount is None:
        raise ValueError("check needs --entity and --amount (or --proposals FILE)")
    decision = snap.check(args.entity, args.amount, args.product, **_facility_args(args))
    return _print_decision(decision, args, out)


def check_without_snapshot(result: Any, args: argparse.Namespace, out: TextIO) -> int:
    """``check DATA_DIR --proposals FILE``: the same batch on a fresh analysis."""
    return _print_many(result.check_many(_proposals(args.proposals)), args, out)

