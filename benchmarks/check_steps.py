"""Where a single ``check`` spends its time (issue 19.2): microseconds per call of each step,
reading the proposal, judging it, its rule rows, and the whole ``result.check``, on random
proposals, and which build of ``decide/_fast.py`` ran (compiled or source).

    python benchmarks/check_steps.py --cache /tmp/book-1m.pickle          # the installed build
    PYTHONPATH=src python benchmarks/check_steps.py --cache /tmp/book-1m.pickle   # the source

The book is :func:`check_throughput.proposals`'s, read from or written to ``--cache`` as there.
The first round's reading includes building the index's id dictionary (on first use): read the
later rounds.
"""

from __future__ import annotations

import argparse
import time

from check_throughput import load_book, proposals

from groupexposure.decide import _fast
from groupexposure.decide import proposals as _proposals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="entities in the synthetic book")
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cache", help="pickle of the analysed book: read if it exists, else written")
    args = ap.parse_args()
    result, _ = load_book(args.n, args.cache)
    ix = result._check_index
    rows = list(proposals(result, args.calls, seed=2).itertuples(index=False))
    print(f"decide/_fast: {_fast.__file__}")
    clock = time.perf_counter
    for _ in range(args.repeat):
        read = judge = rules = whole = 0.0
        for e, a, p, g, c in rows:
            t0 = clock()
            pr = _proposals.one(ix, e, a, p, guarantor_id=g, collateral_value=c)
            t1 = clock()
            v = _fast.judge_one(ix, pr)
            t2 = clock()
            _fast.rule_values(ix, v)
            t3 = clock()
            result.check(e, a, p, guarantor_id=g, collateral_value=c)  # warm: the same proposal
            t4 = clock()
            read, judge, rules, whole = read + t1 - t0, judge + t2 - t1, rules + t3 - t2, whole + t4 - t3
        n = len(rows) / 1e6
        print(f"read {read / n:.2f} µs, judge {judge / n:.2f} µs, rule rows {rules / n:.2f} µs; "
              f"the whole check (the same proposal again, warm) {whole / n:.2f} µs")


if __name__ == "__main__":
    main()
