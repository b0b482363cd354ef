"""Reservations across real threads and processes, kill -9, carry-over and read-only snapshots."""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import groupexposure as gx
from groupexposure.ledger import journal as journal_module
from groupexposure.ledger.journal import JournalError

from .conftest import make_book

SRC = str(Path(gx.__file__).resolve().parents[1])

# Group P = {P, A}: Tier 1 1000, basel group limit 25% = 250; the book has 100 on A, so the headroom
# is 150 and reservations of 40 on A fit three times (120), never four (160) (SPEC §5, §6).
HEADROOM_BOOK = {"entities": ["P", "A", "Z"], "ownership": [("P", "A", 0.8)],
                 "facilities": [{"facility_id": "F1", "obligor_id": "A", "product": "loan",
                                 "drawn": 100.0}]}


def headroom_snapshot(directory: Path) -> Path:
    return gx.analyze(make_book(**HEADROOM_BOOK)).save(directory)  # type: ignore[arg-type]


def _reserve_after(barrier: Any, path: str, i: int, out: Any) -> None:
    """In a child process: wait for every sibling, then reserve at the same moment."""
    snap = gx.open_snapshot(path)
    barrier.wait(timeout=60)
    d = snap.reserve("A", 40.0, by=f"user{i}", reference=f"LN-{i}")
    out.put((i, d.approved, d.reservation_id))


def test_processes_reserving_at_once_never_overbook(tmp_path: Path) -> None:
    snap = headroom_snapshot(tmp_path / "s")
    ctx = mp.get_context("fork")  # children start at once, and race for real
    n = 12
    barrier, out = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_reserve_after, args=(barrier, str(snap), i, out))
             for i in range(n)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in range(n)]
    for p in procs:
        p.join(timeout=60)
    assert all(p.exitcode == 0 for p in procs)
    assert sum(ok for _, ok, _ in results) == 3
    journal = gx.open_snapshot(snap).reservations
    assert journal["state"].value_counts().to_dict() == {"declined": 9, "open": 3}
    assert journal.loc[journal["approved"], "amount"].sum() == 120.0
    assert (journal["reason"][~journal["approved"]] == "would_breach").all()
    assert set(journal.loc[journal["approved"], "reservation_id"]) == {
        rid for _, ok, rid in results if ok}


def test_threads_reserving_at_once_never_overbook(tmp_path: Path) -> None:
    snap = gx.open_snapshot(headroom_snapshot(tmp_path / "s"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        decisions = list(pool.map(lambda i: snap.reserve("A", 40.0, by=f"u{i}"), range(10)))
    assert sum(d.approved for d in decisions) == 3
    assert snap.check("A", 30.0).approved and not snap.check("A", 31.0).approved
    rid = next(d.reservation_id for d in decisions if d.approved)
    assert rid is not None
    snap.release(rid, by="u0")
    assert snap.check("A", 70.0).approved and not snap.check("A", 71.0).approved
    with pytest.raises(ValueError, match="unknown reservation 'nope'"):
        snap.release("nope", by="u0")


def _reserve_forever(path: str, ready: Any) -> None:
    snap = gx.open_snapshot(path)
    ready.set()
    i = 0
    while True:
        snap.reserve("A", 0.001, by="loop", reference=f"R{i}")
        if i % 3 == 0:
            rid = snap.reserve("A", 0.001, by="loop").reservation_id
            assert rid is not None
            snap.release(rid, by="loop")
        i += 1


def test_a_process_killed_mid_reservation_leaves_the_journal_whole(tmp_path: Path) -> None:
    snap_path = headroom_snapshot(tmp_path / "s")
    rng = random.Random(7)
    ctx = mp.get_context("fork")
    seen = 0
    for _ in range(6):
        ready = ctx.Event()
        p = ctx.Process(target=_reserve_forever, args=(str(snap_path), ready))
        p.start()
        assert ready.wait(timeout=60)
        time.sleep(rng.uniform(0.01, 0.3))
        assert p.pid is not None
        os.kill(p.pid, signal.SIGKILL)
        p.join()
        assert p.exitcode == -signal.SIGKILL
        snap = gx.open_snapshot(snap_path)
        con = sqlite3.connect(snap_path / "journal.sqlite")
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        orphans = con.execute(
            "SELECT COUNT(*) FROM reservations r WHERE (SELECT COUNT(*) FROM events e WHERE "
            "e.reservation_id = r.reservation_id AND e.event IN ('reserved', 'declined')) != 1"
        ).fetchone()[0]
        dangling = con.execute("SELECT COUNT(*) FROM events WHERE reservation_id NOT IN "
                               "(SELECT reservation_id FROM reservations)").fetchone()[0]
        con.close()
        assert orphans == 0 and dangling == 0
        journal = snap.reservations
        assert len(journal) >= seen  # nothing committed is ever lost
        seen = len(journal)
        # every open reservation counts: the headroom left is exactly 150 minus what is open
        room = 150.0 - journal.loc[journal["state"] == "open", "amount"].sum()
        assert snap.check("A", room - 1e-6).approved and not snap.check("A", room + 1e-3).approved
    assert seen > 0


def test_journal_is_append_only(tmp_path: Path) -> None:
    snap = gx.open_snapshot(headroom_snapshot(tmp_path / "s"))
    snap.reserve("A", 1.0, by="u")
    con = sqlite3.connect(snap.path / "journal.sqlite")
    for sql in ("UPDATE reservations SET amount = 0", "DELETE FROM reservations",
                "UPDATE events SET event = 'released'", "DELETE FROM events"):
        with pytest.raises(sqlite3.IntegrityError, match="the journal is append-only"):
            con.execute(sql)
    con.close()


def test_a_journal_that_cannot_be_written_refuses_to_approve(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    snap = gx.open_snapshot(headroom_snapshot(tmp_path / "s"))
    monkeypatch.setattr(journal_module, "BUSY_TIMEOUT_S", 0.1)
    holder = sqlite3.connect(snap.path / "journal.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock and never lets go
    try:
        with pytest.raises(JournalError, match="cannot be written: database is locked; nothing "
                                               "was reserved"):
            snap.reserve("A", 1.0, by="u")
        assert snap.check("A", 1.0).approved  # reading still works
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    (snap.path / "journal.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(JournalError, match="cannot be"):
        snap.reserve("A", 1.0, by="u")
    with pytest.raises(JournalError, match="cannot be read"):
        snap.check("A", 1.0)  # the open reservations cannot be counted: no answer, never a wrong one


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_snapshot_answers_checks_and_says_why_it_cannot_reserve(tmp_path: Path) -> None:
    path = headroom_snapshot(tmp_path / "s")
    gx.open_snapshot(path).reserve("A", 100.0, by="u")
    files = [path, *path.rglob("*")]
    try:
        for p in files:
            p.chmod(0o555 if p.is_dir() else 0o444)
        snap = gx.open_snapshot(path)
        assert snap.check("A", 50.0).approved and not snap.check("A", 51.0).approved
        assert len(snap.reservations) == 1
        with pytest.raises(JournalError, match=r"cannot reserve: the snapshot directory .* is "
                                               r"read-only; the journal cannot be written, so "
                                               r"nothing can be approved \(check still works\)"):
            snap.reserve("A", 1.0, by="u")
    finally:
        for p in files:
            p.chmod(0o755)


def test_reserve_says_why_it_cannot_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same message where the process may not write the directory (any user, root too)."""
    snap = gx.open_snapshot(headroom_snapshot(tmp_path / "s"))
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK else real(p, mode))
    with pytest.raises(JournalError, match=r"cannot reserve: the snapshot directory .* is read-only"):
        snap.reserve("A", 1.0, by="u")
    with pytest.raises(JournalError, match=r"cannot release: the snapshot directory"):
        snap.release("x", by="u")
    assert snap.check("A", 1.0).approved and snap.reservations.empty


def test_carry_over_takes_open_reservations_and_books_those_in_the_book(tmp_path: Path) -> None:
    old = gx.open_snapshot(headroom_snapshot(tmp_path / "old"))
    booked = old.reserve("A", 40.0, by="u1", reference="LN-1")
    kept = old.reserve("A", 50.0, by="u2", reference="LN-2")
    gone = old.reserve("A", 10.0, by="u3", reference="LN-3")
    old.reserve("A", 100.0, by="u4", reference="LN-4")  # declined: 100 + 100 > 150
    assert gone.reservation_id is not None
    old.release(gone.reservation_id, by="u3")
    # next month the bank has drawn LN-1 (now a facility in the book): 100 + 40 on A
    book = dict(HEADROOM_BOOK)
    book["facilities"] = [*HEADROOM_BOOK["facilities"],  # type: ignore[misc]
                          {"facility_id": "LN-1", "obligor_id": "A", "product": "loan",
                           "drawn": 40.0}]
    new_path = gx.analyze(make_book(**book)).save(tmp_path / "new",  # type: ignore[arg-type]
                                                  carry=old.path)
    new = gx.open_snapshot(new_path)
    j = new.reservations.set_index("reservation_id")
    assert j.loc[booked.reservation_id, "state"] == "booked"
    assert j.loc[kept.reservation_id, "state"] == "open"
    assert set(j.index) == {booked.reservation_id, kept.reservation_id}
    assert (j["snapshot_id"] == old.snapshot_id).all()  # judged against the old snapshot
    events = new.events
    assert events["event"].tolist() == ["carried", "booked", "carried"]
    # headroom: 250 - (100 + 40 in the book) - 50 still open = 60
    assert new.check("A", 60.0).approved and not new.check("A", 60.5).approved
    assert json_of(new_path)["carried_from"] == old.snapshot_id


def json_of(path: Path) -> dict[str, object]:
    import json

    return json.loads((path / "manifest.json").read_text())  # type: ignore[no-any-return]


def test_reservations_frame_has_the_columns_of_spec_10(tmp_path: Path) -> None:
    snap = gx.open_snapshot(headroom_snapshot(tmp_path / "s"))
    d = snap.reserve("A", 10.0, by="wang.li", reference="LN-9", collateral_value=5.0)
    j = snap.reservations
    assert list(j.columns[:12]) == ["reservation_id", "time", "by", "reference", "entity_id",
                                    "product", "amount", "approved", "reason", "binding_rule",
                                    "state", "snapshot_id"]
    r = j.iloc[0]
    assert (r["reservation_id"], r["by"], r["reference"], r["state"], r["snapshot_id"]) == (
        d.reservation_id, "wang.li", "LN-9", "open", snap.snapshot_id)
    assert r["binding_rule"] == d.binding_rule and pd.Timestamp(r["time"]).tzname() == "UTC"
