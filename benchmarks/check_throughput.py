"""Throughput of the pre-approval check (issue 19.2): single ``result.check`` calls per second and
``check_many`` proposals per second, on a synthetic book, with the answers of both compared.

    python benchmarks/check_throughput.py --n 100000            # while iterating
    python benchmarks/check_throughput.py --n 1000000 --repeat 2
    python benchmarks/check_throughput.py --n 1000000 --cache /tmp/book-1m.pickle   # analyse once

``--cache`` keeps the analysed book in a pickle (written on the first run, read on the next): on a
shared machine the 1M analysis takes minutes, and the check's timings do not depend on it.

Proposals are drawn at random (seeded): any entity, a loan or an off-balance product, half of them
with an amount large enough to breach, a tenth guaranteed by another entity, some collateralised.
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import time

import numpy as np
import pandas as pd

import groupexposure as gx

PRODUCTS = ["loan", "overdraft", "bond", "commitment", "guarantee_issued", "performance_bond",
            "trade_lc"]


def proposals(result: gx.AnalysisResult, m: int, seed: int) -> pd.DataFrame:
    """``m`` random proposals against ``result``'s book."""
    rng = np.random.default_rng(seed)
    ids = result.entities["entity_id"].to_numpy(dtype=object)
    tier1 = result.capital.tier1
    guarantor = np.where(rng.random(m) < 0.1, ids[rng.integers(0, ids.size, m)], None)
    obligor = ids[rng.integers(0, ids.size, m)]
    guarantor = np.where(guarantor == obligor, None, guarantor)
    return pd.DataFrame({
        "entity_id": obligor,
        "amount": np.round(rng.exponential(0.05, m) * tier1, 0),
        "product": np.array(PRODUCTS)[rng.integers(0, len(PRODUCTS), m)],
        "guarantor_id": guarantor,
        "collateral_value": np.where(rng.random(m) < 0.2, rng.exponential(0.01, m) * tier1, 0.0),
    })


def load_book(n: int, cache: str | None, policy: str = "basel") -> tuple[gx.AnalysisResult, str]:
    """The analysed synthetic book of ``n`` entities, read from the pickle ``cache`` where it
    exists, else analysed (and written there); and how it was had."""
    if cache and os.path.exists(cache):
        with open(cache, "rb") as f:
            return pickle.load(f), f"read from {cache}"
    result = gx.analyze(gx.datasets.synthetic(n, seed=1), policy=policy)
    if cache:
        with open(cache, "wb") as f:
            pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
    return result, "analyzed"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="entities in the synthetic book")
    ap.add_argument("--singles", type=int, default=20_000, help="single check() calls")
    ap.add_argument("--many", type=int, default=1_000_000, help="proposals in one check_many")
    ap.add_argument("--repeat", type=int, default=1, help="best of this many timings")
    ap.add_argument("--policy", default="basel")
    ap.add_argument("--cache", help="pickle of the analysed book: read if it exists, else written")
    args = ap.parse_args()
    t = time.perf_counter()
    result, how = load_book(args.n, args.cache, args.policy)
    print(f"book {len(result.entities):,} entities, {len(result.facilities):,} facilities; {how} "
          f"in {time.perf_counter() - t:.1f}s ({platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()})", flush=True)
    t = time.perf_counter()
    _ = result._check_index
    print(f"index built in {time.perf_counter() - t:.2f}s")
    singles = proposals(result, args.singles, seed=2)
    rows = list(singles.itertuples(index=False))
    best_single = cpu_single = 0.0
    decisions = []
    for _ in range(args.repeat):
        decisions = []
        t, c0 = time.perf_counter(), time.process_time()
        for e, a, p, g, c in rows:
            decisions.append(result.check(e, a, p, guarantor_id=g, collateral_value=c))
        best_single = max(best_single, len(rows) / (time.perf_counter() - t))
        cpu_single = max(cpu_single, len(rows) / (time.process_time() - c0))
    print(f"check(): {best_single:,.0f} per second wall, {cpu_single:,.0f} per CPU second "
          f"({len(rows):,} calls, best of {args.repeat})")
    many = proposals(result, args.many, seed=3)
    best_many = cpu_many = 0.0
    for _ in range(args.repeat):
        t, c0 = time.perf_counter(), time.process_time()
        out = result.check_many(many)
        best_many = max(best_many, len(many) / (time.perf_counter() - t))
        cpu_many = max(cpu_many, len(many) / (time.process_time() - c0))
    print(f"check_many: {best_many:,.0f} proposals per second wall, {cpu_many:,.0f} per CPU "
          f"second ({len(many):,} proposals, best of {args.repeat})")
    same = result.check_many(singles)
    agree = all(
        bool(same["approved"].iat[i]) == d.approved and same["reason"].iat[i] == d.reason
        and (same["max_amount"].iat[i] == d.max_amount
             or (np.isinf(same["max_amount"].iat[i]) and np.isinf(d.max_amount)))
        for i, d in enumerate(decisions))
    print(f"check() and check_many agree on all {len(rows):,} proposals: {agree}; "
          f"approved {int(out['approved'].sum()):,} of {len(out):,}; reasons "
          f"{out['reason'].value_counts().to_dict()}")


if __name__ == "__main__":
    main()
