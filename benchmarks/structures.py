"""Deep and tangled books (issue #13.3): time and peak memory of ``gx.analyze`` on each shape.

Shapes (``--size N`` sets the number of entities; the dependence chain uses ``N // 25``):

* ``chain``: a holding chain N deep, each entity owning 100% of the next, one loan each;
* ``cycle``: one ownership cycle of N entities, each holding 60% of the next (a control cycle);
* ``closed``: the same cycle at 100% (invalid: every member wholly owned by the others), timed to
  the ``ValidationError`` and the length of its longest message;
* ``web``: N standalone entities joined by 2N mutual connections into one component, with every
  tenth entity owning 60% of the next, so that many roots' overlapping groups coincide;
* ``dependence``: a one-way dependence chain (entity i depends on entity i+1): every root's group
  is itself and everything above it, so the output is quadratic (N²/2 memberships) by definition.

Each measurement runs in a fresh process (peak RSS is its own) with a time limit::

    python benchmarks/structures.py --size 10000 100000            # every shape
    python benchmarks/structures.py --shapes chain --size 50000 --timeout 600

Prints one Markdown table row per measurement (the table in benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

SHAPES = ("chain", "cycle", "closed", "web", "dependence")


def book(shape: str, n: int):  # type: ignore[no-untyped-def]
    """The portfolio of one shape with n entities (a ``gx.Portfolio``)."""
    import numpy as np
    import pandas as pd

    import groupexposure as gx

    if shape == "dependence":
        n = max(n // 25, 2)
    ids = np.array([f"E{i:07d}" for i in range(n)], dtype=object)
    nxt = np.roll(ids, -1)
    empty_own = pd.DataFrame({"owner_id": [], "owned_id": [], "share": []})
    own, con = empty_own, None
    if shape == "chain":
        own = pd.DataFrame({"owner_id": ids[:-1], "owned_id": ids[1:], "share": 1.0})
    elif shape in ("cycle", "closed"):
        own = pd.DataFrame({"owner_id": ids, "owned_id": nxt,
                            "share": 0.6 if shape == "cycle" else 1.0})
    elif shape == "web":
        rng = np.random.default_rng(13)
        a = np.concatenate([np.arange(n), rng.integers(0, n, n)])
        b = np.concatenate([(np.arange(n) + 1) % n, rng.integers(0, n, n)])
        keep = a != b
        con = pd.DataFrame({"dependent_id": ids[a[keep]], "depends_on_id": ids[b[keep]],
                            "kind": "guarantee", "mutual": True})
        tenth = np.arange(0, n - 1, 10)
        own = pd.DataFrame({"owner_id": ids[tenth], "owned_id": ids[tenth + 1], "share": 0.6})
    elif shape == "dependence":
        con = pd.DataFrame({"dependent_id": ids[:-1], "depends_on_id": ids[1:]})
    fac = pd.DataFrame({"facility_id": [f"F{i:07d}" for i in range(n)], "obligor_id": ids,
                        "drawn": 1e6 + np.arange(n) * 0.01})
    return gx.Portfolio.from_frames(
        entities=pd.DataFrame({"entity_id": ids}), ownership=own, connections=con,
        facilities=fac, capital={"tier1": 1e12, "currency": "CNY"})


def _child(shape: str, n: int) -> None:
    import groupexposure as gx

    portfolio = book(shape, n)
    out: dict[str, object] = {"shape": shape, "n": n}
    start = time.perf_counter()
    try:
        result = gx.analyze(portfolio)
        out["groups"] = len(result.groups)
        out["members"] = len(result.members)
        out["longest_path"] = int(result.members["path"].str.len().max())
    except gx.ValidationError as exc:
        out["error"] = f"{len(exc.problems)} issues"
        out["longest_message"] = int(exc.problems["message"].str.len().max())
    out["seconds"] = round(time.perf_counter() - start, 2)
    out["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=SHAPES)
    parser.add_argument("--size", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]))
        return
    print("| shape | entities | seconds | peak RSS GiB | groups | members | note |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for n in args.size:
        for shape in args.shapes:
            try:
                proc = subprocess.run([sys.executable, __file__, "--child", shape, str(n)],
                                      capture_output=True, text=True, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                print(f"| {shape} | {n:,} | > {args.timeout:.0f} | | | | did not finish |",
                      flush=True)
                continue
            if proc.returncode:
                tail = (proc.stderr.strip().splitlines() or ["?"])[-1][:80]
                print(f"| {shape} | {n:,} | | | | | failed: {tail} |", flush=True)
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            note = (f"{r['error']}, longest message {r['longest_message']:,} chars"
                    if "error" in r else f"longest path {r['longest_path']:,} chars")
            print(f"| {shape} | {r['n']:,} | {r['seconds']} | {r['peak_rss_gib']} | "
                  f"{r.get('groups', '')} | {r.get('members', '')} | {note} |", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    main()
