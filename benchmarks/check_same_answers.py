"""Do two versions of the check give the same answers? (issue 19: "no speed-up may change a number").

Run it once per version, each writing its answers, then compare the two files:

    PYTHONPATH=/path/to/before/src python benchmarks/check_same_answers.py --out /tmp/before.pickle
    PYTHONPATH=src python benchmarks/check_same_answers.py --out /tmp/after.pickle
    python benchmarks/check_same_answers.py --compare /tmp/before.pickle /tmp/after.pickle

Under each of the four built-in policies, on a synthetic book: ``check_many`` of a large table
(judged in parts on every core), of a small one (one piece), and single ``check`` calls, on random
proposals (seven products, guarantors, collateral, half with a guaranteed amount). The frames must
be equal to the bit (``pandas.testing.assert_frame_equal``, exact), the decisions equal as JSON
(NaN equal to NaN).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from check_throughput import proposals  # beside this file (python benchmarks/...)

import groupexposure as gx
from groupexposure.model.policy import POLICIES


def answers(n: int, many: int, singles: int) -> dict[str, object]:
    """Every policy's answers to the same random proposals."""
    out: dict[str, object] = {}
    for name in POLICIES:
        result = gx.analyze(gx.datasets.synthetic(n, seed=5), policy=name)
        table = proposals(result, many, seed=11)
        rng = np.random.default_rng(4)
        table["guaranteed_amount"] = np.where(
            rng.random(many) < 0.5, rng.exponential(0.02, many) * result.capital.tier1, np.nan)
        out[name] = result.check_many(table)
        out[f"{name}, small table"] = result.check_many(table.iloc[:1000])
        out[f"{name}, single checks"] = [
            result.check(r.entity_id, r.amount, r.product, guarantor_id=r.guarantor_id,
                         collateral_value=r.collateral_value).to_json()
            for r in table.iloc[:singles].itertuples()]
    return out


def compare(before: dict[str, object], after: dict[str, object]) -> bool:
    """Print what differs; True where nothing does."""
    same = before.keys() == after.keys()
    for key, a in before.items():
        b = after.get(key)
        if isinstance(a, pd.DataFrame):
            try:
                pd.testing.assert_frame_equal(a, b, check_exact=True)  # type: ignore[arg-type]
                print(f"{key}: {len(a):,} rows, equal")
            except AssertionError as e:
                same = False
                print(f"{key}: DIFFERENT\n{e}")
        else:
            equal = json.dumps(a) == json.dumps(b)
            same &= equal
            print(f"{key}: {len(a):,} decisions, {'equal' if equal else 'DIFFERENT'}")  # type: ignore[arg-type]
    return same


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="write this version's answers here")
    ap.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    ap.add_argument("--n", type=int, default=40_000, help="entities in the synthetic book")
    ap.add_argument("--many", type=int, default=300_000, help="proposals in the large table")
    ap.add_argument("--singles", type=int, default=300, help="single check() calls")
    args = ap.parse_args()
    if args.compare:
        loaded = [pickle.loads(Path(p).read_bytes()) for p in args.compare]
        sys.exit(0 if compare(*loaded) else 1)
    if not args.out:
        ap.error("give --out FILE or --compare BEFORE AFTER")
    Path(args.out).write_bytes(pickle.dumps(answers(args.n, args.many, args.singles)))
    print(f"answers written to {args.out}")


if __name__ == "__main__":
    main()
