"""The journal of a snapshot: every reservation, approved or declined, and what became of it.

One SQLite file, ``journal.sqlite``, in write-ahead-log mode. A reservation is one row of
``reservations`` and one ``reserved`` (or ``declined``) row of ``events``, written in one
transaction: a process killed at any moment leaves either both or neither. Releases, bookings and
carry-overs are further ``events``; triggers refuse any UPDATE or DELETE, so history is never
rewritten. Writers take ``BEGIN IMMEDIATE``, SQLite's write lock, before they read the open
reservations, so that reservations from any threads and processes are judged one after the other.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["COLUMNS", "Journal", "JournalError"]

COLUMNS = ["reservation_id", "time", "by", "reference", "entity_id", "product", "amount",
           "approved", "reason", "binding_rule", "state", "snapshot_id", "undrawn", "ccf",
           "currency", "guarantor_id", "guaranteed_amount", "collateral_value", "max_amount",
           "binding_subject", "closed_time", "closed_by"]
"""The columns of ``snap.reservations`` (SPEC §10 names the first eleven, in this order)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reservations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  reservation_id TEXT NOT NULL UNIQUE,
  time TEXT NOT NULL, by TEXT NOT NULL, reference TEXT,
  entity_id TEXT NOT NULL, product TEXT NOT NULL, amount REAL NOT NULL, undrawn REAL NOT NULL,
  ccf REAL, currency TEXT, guarantor_id TEXT, guaranteed_amount REAL,
  collateral_value REAL NOT NULL,
  approved INTEGER NOT NULL, reason TEXT NOT NULL, binding_rule TEXT, binding_subject TEXT,
  max_amount REAL, snapshot_id TEXT NOT NULL, decision TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  reservation_id TEXT NOT NULL REFERENCES reservations (reservation_id),
  event TEXT NOT NULL CHECK (event IN ('reserved', 'declined', 'released', 'booked', 'carried')),
  time TEXT NOT NULL, by TEXT NOT NULL, snapshot_id TEXT NOT NULL, detail TEXT);
CREATE INDEX IF NOT EXISTS events_by_reservation ON events (reservation_id);
CREATE TRIGGER IF NOT EXISTS reservations_no_update BEFORE UPDATE ON reservations
  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS reservations_no_delete BEFORE DELETE ON reservations
  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
"""

_STATE = """
SELECT r.*, CASE WHEN r.approved = 0 THEN 'declined'
                 ELSE COALESCE(c.event, 'open') END AS state,
       c.time AS closed_time, c.by AS closed_by
FROM reservations r
LEFT JOIN (SELECT reservation_id, event, time, by FROM events
           WHERE seq IN (SELECT MIN(seq) FROM events WHERE event IN ('released', 'booked')
                         GROUP BY reservation_id)) c
  ON c.reservation_id = r.reservation_id
"""

_FIELDS = ["reservation_id", "time", "by", "reference", "entity_id", "product", "amount", "undrawn",
           "ccf", "currency", "guarantor_id", "guaranteed_amount", "collateral_value", "approved",
           "reason", "binding_rule", "binding_subject", "max_amount", "snapshot_id", "decision"]
"""The columns of a ``reservations`` row, as inserted."""

BUSY_TIMEOUT_S = 60.0


class JournalError(ValueError):
    """The journal cannot be read or written (nothing was approved)."""


def now() -> str:
    """The current time in UTC, ISO 8601 with microseconds."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


class Journal:
    """The reservations journal of one snapshot (a connection per call: thread- and fork-safe)."""

    def __init__(self, path: Path, snapshot_id: str) -> None:
        self.path = path
        self.snapshot_id = snapshot_id
        self._local = threading.local()  # one reading connection per thread (and process)
        self._immutable = False

    @classmethod
    def create(cls, path: Path, snapshot_id: str) -> Journal:
        """A new, empty journal for ``snapshot_id``."""
        con = sqlite3.connect(path, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)
            con.execute("INSERT INTO meta VALUES ('snapshot_id', ?)", (snapshot_id,))
        finally:
            con.close()
        return cls(path, snapshot_id)

    def _connect(self, *, write: bool) -> sqlite3.Connection:
        try:
            if write:
                con = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
                con.execute("PRAGMA synchronous=FULL")
                return con
            try:
                con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                      isolation_level=None, timeout=BUSY_TIMEOUT_S)
                con.execute("SELECT 1 FROM meta LIMIT 1")
                return con
            except sqlite3.OperationalError:
                wal = self.path.with_name(self.path.name + "-wal")
                if wal.exists() and wal.stat().st_size > 0:
                    raise
                # a read-only directory: SQLite cannot make its shared-memory file, and with no
                # write-ahead log left there is nothing it would tell us; read the file as it is
                # (afresh on every call: such a connection assumes the file never changes)
                self._immutable = True
                return sqlite3.connect(f"file:{self.path}?immutable=1", uri=True,
                                       isolation_level=None)
        except sqlite3.Error as err:
            raise JournalError(f"the journal {self.path} cannot be "
                               f"{'written' if write else 'read'}: {err}") from None

    def _reader(self) -> sqlite3.Connection:
        """This thread's reading connection (made again after a fork)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.con = self._connect(write=False)
            local.pid = os.getpid()
        return local.con  # type: ignore[no-any-return]

    def _drop_reader(self) -> None:
        con = getattr(self._local, "con", None)
        self._local.pid = None
        if con is not None:
            con.close()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading (one consistent view inside a transaction)."""
        con = self._reader()
        try:
            con.execute("BEGIN")
            yield con
            con.execute("COMMIT")
            if self._immutable:
                self._drop_reader()
        except sqlite3.Error as err:
            self._drop_reader()
            raise JournalError(f"the journal {self.path} cannot be read: {err}") from None
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """The write lock (``BEGIN IMMEDIATE``) for the whole block; committed at its end."""
        con = self._connect(write=True)
        try:
            try:
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as err:
                raise JournalError(f"the journal {self.path} cannot be written: {err}; "
                                   "nothing was reserved") from None
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            try:
                con.execute("COMMIT")
            except sqlite3.Error as err:
                raise JournalError(f"the journal {self.path} cannot be written: {err}; "
                                   "nothing was reserved") from None
        finally:
            con.close()

    def check_owner(self) -> None:
        """Refuse a journal that belongs to another snapshot."""
        with self.reading() as con:
            row = con.execute("SELECT value FROM meta WHERE key = 'snapshot_id'").fetchone()
        if row is None or row[0] != self.snapshot_id:
            raise JournalError(f"the journal {self.path} belongs to snapshot "
                               f"{row[0] if row else None}, not {self.snapshot_id}")

    @staticmethod
    def open_rows(con: sqlite3.Connection) -> list[dict[str, Any]]:
        """The open reservations, oldest first."""
        con.row_factory = sqlite3.Row
        rows = con.execute(f"SELECT * FROM ({_STATE}) WHERE state = 'open' ORDER BY seq").fetchall()
        con.row_factory = None
        return [dict(r) for r in rows]

    @staticmethod
    def find(con: sqlite3.Connection, reservation_id: str) -> dict[str, Any] | None:
        """One reservation with its state, or None."""
        con.row_factory = sqlite3.Row
        row = con.execute(f"SELECT * FROM ({_STATE}) WHERE reservation_id = ?",
                          (reservation_id,)).fetchone()
        con.row_factory = None
        return dict(row) if row is not None else None

    @staticmethod
    def insert(con: sqlite3.Connection, row: dict[str, Any], event: str, *, snapshot_id: str,
               by: str, detail: str | None = None) -> None:
        """Record a reservation and its first event (inside a ``writing`` block)."""
        con.execute(f"INSERT INTO reservations ({', '.join(_FIELDS)}) VALUES "
                    f"({', '.join('?' * len(_FIELDS))})", [row[k] for k in _FIELDS])
        Journal.event(con, row["reservation_id"], event, snapshot_id=snapshot_id, by=by,
                      detail=detail)

    @staticmethod
    def event(con: sqlite3.Connection, reservation_id: str, event: str, *, snapshot_id: str,
              by: str, detail: str | None = None) -> None:
        """Record an event of a reservation (inside a ``writing`` block)."""
        con.execute("INSERT INTO events (reservation_id, event, time, by, snapshot_id, detail) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (reservation_id, event, now(), by, snapshot_id, detail))

    def frame(self) -> Any:
        """Every reservation with its state, oldest first (``COLUMNS``)."""
        import pandas as pd

        with self.reading() as con:
            data = pd.read_sql_query(f"SELECT * FROM ({_STATE}) ORDER BY seq", con)
        data["approved"] = data["approved"].astype(bool)
        data["max_amount"] = data["max_amount"].astype(float).fillna(float("inf"))
        return data[COLUMNS]

    def events(self) -> Any:
        """Every event, oldest first."""
        import pandas as pd

        with self.reading() as con:
            return pd.read_sql_query("SELECT * FROM events ORDER BY seq", con)
