"""A bounded load test of ``groupexposure serve`` on loopback.

    python benchmarks/service_load.py [--requests 10000] [--clients 32] [--seconds 60] [--size N]

Saves a snapshot (the bundled example, or a synthetic book of ``--size`` entities), starts the real
server on a free loopback port, then ``--clients`` threads with one keep-alive HTTP connection each
send ``POST /check`` (90%) and ``POST /reserve`` (10%) on random entities until ``--requests`` are
answered or ``--seconds`` have passed. Prints one JSON record: requests, errors, requests per
second and latency percentiles (ms).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

SRC = str(Path(__file__).resolve().parents[1] / "src")
TOKEN = "load-test-token-0123456789"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--size", type=int, default=0, help="synthetic entities (0: the example)")
    args = ap.parse_args()
    sys.path.insert(0, SRC)
    import groupexposure as gx

    work = Path(tempfile.mkdtemp(prefix="gx-load-"))
    book = gx.datasets.synthetic(args.size, seed=1) if args.size else gx.datasets.ningxia()
    snap = gx.analyze(book).save(work / "snap")
    ids = gx.open_snapshot(snap).entities["entity_id"].tolist()
    tokens = work / "tokens"
    tokens.write_text(f"{TOKEN} load\n")
    tokens.chmod(0o600)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "groupexposure", "serve", str(snap),
                               "--tokens", str(tokens), "--port", str(port)],
                              env={**os.environ, "PYTHONPATH": SRC},
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            if httpx.get(url + "/health").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds
    remaining = [args.requests]

    def client(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"},
                          timeout=60) as c:
            while time.monotonic() < deadline:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                path = "/reserve" if rng.random() < 0.1 else "/check"
                body = {"entity_id": rng.choice(ids), "amount": rng.choice([1e5, 1e6, 1e7])}
                start = time.perf_counter()
                r = c.post(path, json=body)
                took = time.perf_counter() - start
                with lock:
                    latencies.append(took)
                    errors[0] += r.status_code != 200

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    server.terminate()
    server.wait()
    lat = sorted(latencies)

    def pct(q: float) -> float:
        return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1e3, 1)

    print(json.dumps({"entities": len(ids), "clients": args.clients, "requests": len(lat),
                      "errors": errors[0], "seconds": round(elapsed, 1),
                      "rps": round(len(lat) / elapsed, 1), "p50_ms": pct(0.5),
                      "p90_ms": pct(0.9), "p99_ms": pct(0.99), "max_ms": round(lat[-1] * 1e3, 1)}))


if __name__ == "__main__":
    main()
