"""A loan-approval script: may we lend these amounts to these companies?

Usage::

    python examples/loan_approval.py [DATA_DIR] [--policy basel] ENTITY=AMOUNT [ENTITY=AMOUNT ...]

With no data directory it uses the bundled Ningxia example. Each proposal is judged on its own
against the current book; the script prints one line per decision with the largest amount that
would still be approved, and exits 3 if any is declined (so a workflow can stop on it).
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

import groupexposure as gx


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("proposals", nargs="*", default=["RC-SPIN=100000000", "YP-NMG=1000000",
                                                          "TM=90000000"])
    parser.add_argument("--data", default=None, help="portfolio directory (default: bundled)")
    parser.add_argument("--policy", default="basel")
    args = parser.parse_args(argv)
    book = gx.load_portfolio(args.data) if args.data else gx.datasets.ningxia()
    result = gx.analyze(book, policy=args.policy)
    pairs = [p.split("=", 1) for p in args.proposals]
    proposals = pd.DataFrame({"entity_id": [e for e, _ in pairs],
                              "amount": [float(a) for _, a in pairs]})
    decided = result.check_many(proposals)  # every proposal at once, each on its own
    for row in decided.itertuples(index=False):
        d = result.check(row.entity_id, row.amount)  # the full decision, for the audit log
        print(d)
    return 0 if decided["approved"].all() else 3


if __name__ == "__main__":
    sys.exit(main())
