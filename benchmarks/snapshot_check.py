"""Fresh-process ``check --snapshot`` against a re-analysing ``check``, on the same synthetic book.

    python benchmarks/snapshot_check.py --size 1000000 --work /tmp/gx-snap-bench

Writes the book (``groupexposure synthetic``) and the snapshot (``analyze --save``) once into
``--work``, then times, each in a fresh process and in the same run: ``check DATA`` (reads and
analyses the whole book), ``check --snapshot`` for an entity of the largest group and for an
ordinary one (best and median of ``--repeat``), and in-process ``snap.check`` and ``snap.reserve``
throughput. Prints one JSON record.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")


def cli(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {**os.environ, "PYTHONPATH": SRC}
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "groupexposure", *args], capture_output=True,
                         text=True, env=env)
    return time.perf_counter() - start, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/gx-snap-bench"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    data, snap = args.work / f"book-{args.size}", args.work / f"snap-{args.size}"
    if not data.exists():
        cli("synthetic", str(args.size), str(data), "--seed", "1")
    record: dict[str, object] = {"size": args.size}
    if not snap.exists():
        t, out = cli("analyze", str(data), "--out", str(args.work / "out"), "--report", "never",
                     "--save", str(snap))
        assert out.returncode == 0, out.stderr
        record["analyze_and_save_s"] = round(t, 2)
    sys.path.insert(0, SRC)
    import groupexposure as gx

    s = gx.open_snapshot(snap)
    sizes = s.groups.sort_values("n_members", ascending=False)
    big = str(sizes["root_id"].iloc[0])
    plain = str(s.entities["entity_id"].iloc[len(s.entities) // 2])
    record["largest_group_members"] = int(sizes["n_members"].iloc[0])
    t, out = cli("check", str(data), "--entity", plain, "--amount", "1e6", "--json")
    assert out.returncode in (0, 3), out.stderr
    record["reanalysing_check_s"] = round(t, 2)
    want = json.loads(out.stdout)
    for label, entity in (("plain", plain), ("largest_group", big)):
        times = []
        for _ in range(args.repeat):
            t, out = cli("check", "--snapshot", str(snap), "--entity", entity, "--amount", "1e6",
                         "--json")
            assert out.returncode in (0, 3), out.stderr
            times.append(t)
        if label == "plain":
            got = json.loads(out.stdout)
            assert {k: got[k] for k in ("approved", "max_amount", "rules")} == {
                k: want[k] for k in ("approved", "max_amount", "rules")}
        record[f"snapshot_check_{label}_best_s"] = round(min(times), 3)
        record[f"snapshot_check_{label}_median_s"] = round(statistics.median(times), 3)
    record["ratio_best"] = round(record["reanalysing_check_s"] / record[  # type: ignore[operator]
        "snapshot_check_plain_best_s"], 1)
    record["ratio_median"] = round(record["reanalysing_check_s"] / record[  # type: ignore[operator]
        "snapshot_check_plain_median_s"], 1)
    start = time.perf_counter()
    import numpy as np

    ids = s.entities["entity_id"].to_numpy()[np.random.default_rng(0).integers(0, len(s.entities),
                                                                                500)]
    for e in ids:
        s.check(str(e), 1e6)
    record["snap_check_per_s"] = round(len(ids) / (time.perf_counter() - start), 1)
    start = time.perf_counter()
    made = [s.reserve(str(e), 1.0, by="bench", reference=f"B{i}") for i, e in enumerate(ids[:100])]
    record["snap_reserve_per_s"] = round(100 / (time.perf_counter() - start), 1)
    for d in made:  # leave the journal as it was: every bench reservation released
        if d.reservation_id:
            s.release(d.reservation_id, by="bench")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
