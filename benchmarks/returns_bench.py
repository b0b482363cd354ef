"""Time the regulatory returns on synthetic books (``gx.datasets.synthetic``).

For each size: the analysis once (under ``eu_crr``, whose CCF floor and exempt kinds the other
templates share apart from the CCFs), then each template built from it, best of ``--repeat``.

Usage::

    python benchmarks/returns_bench.py --sizes 10000 100000 --repeat 1
"""

from __future__ import annotations

import argparse
import time

import groupexposure as gx


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--repeat", type=int, default=1)
    args = p.parse_args()
    print("| entities | facilities | analyze s | basel_lex20 s | eu_corep_le s | cn_g14 s "
          "| C 28.00 rows | G14_II rows |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        book = gx.datasets.synthetic(n, seed=0)
        t = time.perf_counter()
        r = gx.analyze(book, policy="eu_crr")
        t_an = time.perf_counter() - t
        times, rows = {}, {}
        for tpl in ("basel_lex20", "eu_corep_le", "cn_g14"):
            best = float("inf")
            for _ in range(args.repeat):
                t = time.perf_counter()
                ret = r.returns(tpl)
                best = min(best, time.perf_counter() - t)
            times[tpl] = best
            rows[tpl] = ret
        print(f"| {n:,} | {len(r.facilities):,} | {t_an:.2f} | {times['basel_lex20']:.2f} | "
              f"{times['eu_corep_le']:.2f} | {times['cn_g14']:.2f} | "
              f"{len(rows['eu_corep_le']['C 28.00']):,} | {len(rows['cn_g14']['G14_II']):,} |")


if __name__ == "__main__":
    main()
