"""Carry-over (SPEC §10): a new snapshot takes over the open reservations of the previous one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .journal import _FIELDS, Journal

if TYPE_CHECKING:
    from .snapshot import Snapshot

__all__ = ["carry_missing", "carry_over"]

CARRIER = "groupexposure"
"""The ``by`` of the events a carry-over records (no person did it)."""


def carry_over(old: Snapshot, journal: Journal, facility_ids: set[str], *,
               skip: set[str] | None = None) -> tuple[int, int]:
    """Copy ``old``'s open reservations into ``journal`` (each with a ``carried`` event); those
    whose ``reference`` is one of ``facility_ids`` are closed with a ``booked`` event.

    Returns (carried, booked). A reservation keeps its id, time, user and the snapshot it was
    judged against; the events say when and from which snapshot it was carried. ``skip``: ids
    already in ``journal`` (a second carry from the same snapshot adds only what is new).
    """
    with old.journal.reading() as con:
        rows = [r for r in Journal.open_rows(con) if r["reservation_id"] not in (skip or set())]
    booked = 0
    with journal.writing() as con:
        for row in rows:
            Journal.insert(con, {k: row[k] for k in _FIELDS}, "carried",
                           snapshot_id=journal.snapshot_id, by=CARRIER,
                           detail=f"open in snapshot {old.snapshot_id} ({old.path})")
            if row["reference"] is not None and str(row["reference"]) in facility_ids:
                Journal.event(con, row["reservation_id"], "booked",
                              snapshot_id=journal.snapshot_id, by=CARRIER,
                              detail=f"facility {row['reference']} is in the book")
                booked += 1
    return len(rows), booked


def carry_missing(old: Snapshot, new: Snapshot) -> tuple[int, int]:
    """Carry into ``new`` the open reservations of ``old`` that ``new`` does not hold yet (those
    made after ``new`` was saved); for a service switching from ``old`` to ``new``."""
    ids = set(new.store.table("facilities", columns=["facility_id"])["facility_id"].astype(str))
    have = set(new.reservations["reservation_id"])
    return carry_over(old, new.journal, ids, skip=have)
