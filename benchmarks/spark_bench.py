"""The Spark engine on synthetic books, on a local session: time and rounds per stage.

    python benchmarks/spark_bench.py --sizes 100000            # local[2], 4 shuffle partitions
    python benchmarks/spark_bench.py --sizes 10000 100000 --cores 2 --partitions 4
    python benchmarks/spark_bench.py --sizes 1000000 --partitions 8 --driver-memory 8g

Each book is written once as Parquet (``groupexposure synthetic`` then pandas → Parquet) so that the
Spark run reads what a register would give it; the single-machine engine runs on the same book for
the comparison (and the four tables are compared: ids, statuses, amounts to the cent). Results are
appended to ``benchmarks/spark_results.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

import groupexposure as gx

HERE = Path(__file__).parent


def write_parquet(book: gx.Portfolio, directory: Path) -> Path:
    """The book as ``<table>.parquet`` files and ``capital.json``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("entities", "ownership", "connections", "facilities", "fx"):
        frame = getattr(book, name)
        frame.to_parquet(directory / f"{name}.parquet", index=False)
    (directory / "capital.json").write_text(json.dumps(book.capital), encoding="utf-8")
    return directory


def compare(spark_tables: dict[str, pd.DataFrame], one: Any) -> dict[str, bool]:
    from groupexposure.engines.spark._load import sorted_table
    out = {}
    for name, got in spark_tables.items():
        want = sorted_table(name, getattr(one, name))
        try:
            pd.testing.assert_frame_equal(got, want, check_dtype=False, atol=0.005, rtol=0)
            out[name] = True
        except AssertionError as err:
            print(f"  {name} differs: {str(err)[:300]}", file=sys.stderr)
            out[name] = False
    return out


def run(n: int, args: argparse.Namespace, spark: Any) -> dict[str, Any]:
    book = gx.datasets.synthetic(n, seed=1)
    with tempfile.TemporaryDirectory(prefix="gx-spark-bench-") as tmp:
        data = write_parquet(book, Path(tmp) / "book")
        t0 = time.perf_counter()
        result = gx.spark.analyze(spark, data, policy=args.policy, grouping=args.grouping,
                                  checkpoint_dir=str(Path(tmp) / "cp"))
        analyze_s = time.perf_counter() - t0
        tables = result.to_pandas()
        t1 = time.perf_counter()
        one = gx.analyze(book, policy=args.policy, grouping=args.grouping)
        numpy_s = time.perf_counter() - t1
    same = compare(tables, one)
    return {"entities": n, "ownership": len(book.ownership), "facilities": len(book.facilities),
            "policy": args.policy, "grouping": args.grouping, "spark_seconds": round(analyze_s, 1),
            "stage_seconds": {k: round(v, 1) for k, v in result.timings.items()},
            "rounds": result.rounds, "numpy_seconds": round(numpy_s, 2),
            "ratio": round(analyze_s / numpy_s, 1), "same_tables": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--policy", default="basel")
    parser.add_argument("--grouping", default="partition")
    parser.add_argument("--driver-memory", default=None,
                        help="the local JVM's heap, e.g. 8g (Spark's default is 1g)")
    args = parser.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if args.driver_memory:  # read when the builder launches the JVM
        os.environ["PYSPARK_SUBMIT_ARGS"] = f"--driver-memory {args.driver_memory} pyspark-shell"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    spark = gx.spark.local_session(cores=args.cores, partitions=args.partitions)
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(),
               "machine": platform.machine(), "master": f"local[{args.cores}]",
               "shuffle_partitions": args.partitions,
               "driver_memory": args.driver_memory or "1g", "date": time.strftime("%Y-%m-%d")}
    rows = []
    for n in args.sizes:
        row = run(n, args, spark)
        print(json.dumps(row), flush=True)
        rows.append(row)
    path = HERE / "spark_results.json"
    old = json.loads(path.read_text()) if path.exists() else []
    path.write_text(json.dumps([*old, {"machine": machine, "results": rows}], indent=2) + "\n")
    spark.stop()


if __name__ == "__main__":
    main()
