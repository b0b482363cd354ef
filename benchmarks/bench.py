"""Time groupexposure on synthetic books of 10k, 100k and 1M counterparties, against DuckDB.

For each size the script writes a synthetic portfolio (``groupexposure synthetic``) as CSV files,
then, each in a fresh process so that peak memory is measured on its own:

* ``analyze``: ``gx.analyze(DIR)`` from the CSV files, with every stage timed (read, validate,
  control, groups, exposures, limits) and the CSV output written (write);
* ``duckdb``: the recursive-CTE roll-up of ``duckdb_rollup.sql`` on the same files;
* ``cli``: ``groupexposure analyze DIR --out OUT`` as a command (wall time, interpreter start,
  reading, analysis and the four CSV files; above 50,000 entities it writes no reports by default);
* ``checks`` (largest size only): single ``result.check`` calls and ``result.check_many``.

Usage::

    pip install '.[bench]'
    python benchmarks/bench.py                      # 10k, 100k, 1M, best of 3; benchmarks/results.json
    python benchmarks/bench.py --sizes 10000 100000 --repeat 1
    python benchmarks/bench.py --sizes 1000000 --order sorted   # every file sorted by its key

Each repeat runs analyze, DuckDB and the command once, in turn, and the best of each is kept.

Results are printed as a Markdown table (the one in benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _child(task: str, data: str, out: str) -> None:
    """Run one measurement in this (fresh) process and print a JSON line."""
    import groupexposure as gx

    result: dict[str, object] = {"task": task}
    if task == "analyze":
        start = time.perf_counter()
        r = gx.analyze(data)
        t_write = time.perf_counter()
        r.to_csv(out)
        end = time.perf_counter()
        result.update({f"t_{k}": v for k, v in r.timings.items()})
        result["t_write"] = end - t_write
        result["t_analyze"] = t_write - start
        result["t_total"] = end - start
        result["groups"] = len(r.groups)
        result["breaches"] = int((r.groups["status"] == "breach").sum())
    elif task == "cli":
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "groupexposure", "analyze", data, "--out", out],
                       check=True, capture_output=True)
        result["t_total"] = time.perf_counter() - start
        result["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
        print(json.dumps(result))
        return
    elif task == "duckdb":
        import duckdb

        sql = (HERE / "duckdb_rollup.sql").read_text().format(dir=data)
        start = time.perf_counter()
        rows = duckdb.connect().execute(sql).fetchall()
        result["t_total"] = time.perf_counter() - start
        result["rows"] = len(rows)
    elif task == "checks":
        import numpy as np
        import pandas as pd

        r = gx.analyze(data)
        rng = np.random.default_rng(0)
        ids = r.entities["entity_id"].to_numpy()
        pick = ids[rng.integers(0, ids.size, 2000)]
        r.check(pick[0], 1e6)  # builds the check's index once
        start = time.perf_counter()
        for eid in pick:
            r.check(eid, 1e6)
        result["checks_per_s"] = pick.size / (time.perf_counter() - start)
        proposals = pd.DataFrame({"entity_id": ids[rng.integers(0, ids.size, 200_000)],
                                  "amount": rng.uniform(1e5, 1e8, 200_000)})
        start = time.perf_counter()
        r.check_many(proposals)
        result["check_many_per_s"] = len(proposals) / (time.perf_counter() - start)
    result["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps(result))


def _run(task: str, data: Path, out: Path) -> dict[str, float]:
    proc = subprocess.run([sys.executable, __file__, "--child", task, str(data), str(out)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


SORT_KEYS = {"entities": ["entity_id"], "ownership": ["owner_id", "owned_id"],
             "connections": ["dependent_id", "depends_on_id"], "facilities": ["facility_id"],
             "fx": ["currency"]}


def _sorted_copy(data: Path, target: Path) -> Path:
    """The book with every file sorted by its key (a bank's export often is)."""
    import shutil

    import pandas as pd

    if (target / "capital.json").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name, keys in SORT_KEYS.items():
        frame = pd.read_csv(data / f"{name}.csv", dtype=str, keep_default_na=False)
        frame.sort_values(keys, kind="stable").to_csv(target / f"{name}.csv", index=False)
    shutil.copy(data / "capital.json", target / "capital.json")
    return target


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--order", choices=["shuffled", "sorted"], default="shuffled",
                        help="the rows as the synthetic writer leaves them (in no id order), or "
                        "every file sorted by its key")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    rows = []
    for n in args.sizes:
        data = args.data / f"n{n}"
        if not (data / "capital.json").exists():
            subprocess.run([sys.executable, "-m", "groupexposure", "synthetic", str(n), str(data),
                            "--seed", "1"], check=True, capture_output=True)
        if args.order == "sorted":
            data = _sorted_copy(data, args.data / f"n{n}-sorted")
        tasks = ("analyze", "duckdb", "cli")
        runs: dict[str, list[dict[str, float]]] = {t: [] for t in tasks}
        for _ in range(args.repeat):  # alternating, so that a slow spell hits every task
            for task in tasks:
                runs[task].append(_run(task, data, args.data / f"out{n}"))
        best = {t: min(runs[t], key=lambda r: r["t_total"]) for t in tasks}
        print(f"  n={n:,} analyze {best['analyze']['t_analyze']:.2f}s, cli "
              f"{best['cli']['t_total']:.2f}s, duckdb {best['duckdb']['t_total']:.2f}s",
              file=sys.stderr)
        row = {"n": n, "order": args.order, **{f"analyze_{k}": v for k, v in best["analyze"].items()},
               "duckdb_s": best["duckdb"]["t_total"],
               "duckdb_peak_rss_gib": best["duckdb"]["peak_rss_gib"],
               "cli_s": best["cli"]["t_total"], "cli_peak_rss_gib": best["cli"]["peak_rss_gib"]}
        row["ratio"] = row["analyze_t_analyze"] / row["duckdb_s"]
        if n == max(args.sizes):
            row.update({k: v for k, v in _run("checks", data, args.data / "unused").items()
                        if k.endswith("per_s")})
        rows.append(row)
        print(json.dumps(row), flush=True)
    name = "results.json" if args.order == "shuffled" else "results-sorted.json"
    (HERE / name).write_text(json.dumps({"machine": _machine(), "rows": rows}, indent=2))
    stages = ["read", "validate", "control", "groups", "exposures", "limits", "write"]
    print(f"\nmachine: {_machine()}\n")
    print("| counterparties | " + " | ".join(stages) + " | analyze (read to limits) | peak RSS | "
          "DuckDB roll-up | ratio | CLI `analyze` | CLI ratio |")
    print("|---:|" + "---:|" * (len(stages) + 6))
    for r in rows:
        cells = [f"{r.get(f'analyze_t_{s}', float('nan')):.2f}" for s in stages]
        print(f"| {r['n']:,} | " + " | ".join(cells) + f" | {r['analyze_t_analyze']:.2f} s | "
              f"{r['analyze_peak_rss_gib']:.2f} GiB | {r['duckdb_s']:.2f} s | {r['ratio']:.1f}x | "
              f"{r['cli_s']:.2f} s | {r['cli_s'] / r['duckdb_s']:.1f}x |")
    for r in rows:
        if "checks_per_s" in r:
            print(f"\nchecks at {r['n']:,}: {r['checks_per_s']:,.0f} check()/s, "
                  f"{r['check_many_per_s']:,.0f} proposals/s through check_many")


if __name__ == "__main__":
    main()
