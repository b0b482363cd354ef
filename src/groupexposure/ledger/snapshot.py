"""A saved analysis that approval scripts open in a fresh process (SPEC §10).

>>> import tempfile, groupexposure as gx
>>> result = gx.analyze(gx.datasets.ningxia())
>>> path = result.save(tempfile.mkdtemp() + "/snap")
>>> snap = gx.open_snapshot(path)
>>> snap.check("RC-SPIN", 100_000_000).approved
True
>>> r = snap.reserve("RC-SPIN", 300_000_000, reference="LN-1", by="wang.li")
>>> r.approved, snap.check("RC-SPIN", 200_000_000).approved   # the reservation counts
(True, False)
>>> snap.release(r.reservation_id, by="wang.li")["state"]
'released'
>>> snap.reservations[["by", "reference", "amount", "state"]].values.tolist()
[['wang.li', 'LN-1', 300000000.0, 'released']]
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..decide.check import Decision
from ..model.policy import Policy
from ..model.schema import Capital
from . import _light
from .journal import Journal, JournalError, now
from .store import SnapshotError, Store, _Verified

if TYPE_CHECKING:
    import pandas as pd

    from ..result import AnalysisResult
    from ..returns import Returns

__all__ = ["Snapshot", "SnapshotError", "open_snapshot"]


@dataclass(frozen=True)
class _Index:
    """The check index arrays (memory-mapped, verified block by block)."""

    ids: _Verified
    kind: _Verified
    gsib: _Verified
    exempt: _Verified
    own_original: _Verified
    own_net: _Verified
    substituted_in: _Verified
    loans: _Verified
    member_ptr: _Verified
    member_groups: _Verified
    group_ptr: _Verified
    group_members: _Verified
    group_root: _Verified


def open_snapshot(path: str | Path) -> Snapshot:
    """Open a snapshot written by ``result.save(path)`` (nothing is read until a call needs it)."""
    return Snapshot(path)


class Snapshot:
    """A saved analysis and its journal of reservations."""

    def __init__(self, path: str | Path) -> None:
        self.store = Store(path)
        self.path = self.store.path
        m = self.store.manifest
        self.manifest = m
        self.snapshot_id: str = m["snapshot_id"]
        self.as_of: str | None = m["as_of"]
        self.grouping: str = m["grouping"]
        self.policy = Policy.model_validate(m["policy"])
        self.capital = Capital.model_validate(m["capital"])
        self.fx: dict[str, float] = {k: float(v) for k, v in m["fx"].items()}
        self.kinds: list[str] = m["kinds"]
        self.journal = Journal(self.path / "journal.sqlite", self.snapshot_id)
        if not self.journal.path.is_file():
            raise SnapshotError(f"snapshot {self.path} is damaged: journal.sqlite is missing")
        self.journal.check_owner()
        self._reserved_cache: tuple[int, _light.Reserved] | None = None

    def __repr__(self) -> str:
        c = self.manifest["counts"]
        return (f"<Snapshot {self.snapshot_id} {self.path}: as_of {self.as_of}, policy "
                f"{self.policy.name}, grouping {self.grouping}, {c['entities']:,} entities, "
                f"{c['groups']:,} groups>")

    # --- the index ---------------------------------------------------------------------------------
    @cached_property
    def index(self) -> _Index:
        """The check index (memory-mapped; pages are read as checks touch them)."""
        return _Index(**{f: self.store.array(f) for f in _Index.__dataclass_fields__})

    def codes_of(self, entity_ids: list[Any], *, strict: bool = False) -> np.ndarray:
        """Entity codes (-1 for None or unknown; ``strict``: an unknown id is an error)."""
        ids = self.index.ids
        width = ids.array.dtype.itemsize
        keys = [None if x is None or x != x else str(x).encode("utf-8") for x in entity_ids]
        fits = np.array([k is not None and 0 < len(k) <= width for k in keys], dtype=bool)
        out = np.full(len(keys), -1, dtype=np.int64)
        if fits.any():
            q = np.array([k for k, f in zip(keys, fits.tolist(), strict=True) if f],
                         dtype=ids.array.dtype)
            pos = np.minimum(np.searchsorted(ids.array, q), len(ids) - 1)
            hit = ids.take(pos) == q
            out[np.flatnonzero(fits)] = np.where(hit, pos, -1)
        if strict:
            for key, code in zip(entity_ids, out.tolist(), strict=True):
                if code < 0 and key is not None and key == key:
                    raise ValueError(self._unknown(str(key)))
        return out

    def ids_of(self, codes: np.ndarray) -> np.ndarray:
        """The entity ids of ``codes`` (an object array of str)."""
        raw = self.index.ids.take(codes)
        return np.array([b.decode("utf-8") for b in raw.tolist()], dtype=object)

    def _unknown(self, entity_id: str) -> str:
        """The message for an unknown id: close ids, and entities whose name matches."""
        from ..model.issues import close_matches

        ent = self.entities
        ids = ent["entity_id"].astype(str)
        pool = ids[(ids.str.len() - len(entity_id)).abs() <= 2]
        near = close_matches(entity_id, pool.tolist())
        names = ent["name"].astype(str)
        by_name = ids[names.str.casefold() == entity_id.casefold()].tolist()[:3]
        hints = [*near, *(f"{i} (named {entity_id})" for i in by_name if i not in near)]
        hint = f"; did you mean {' or '.join(hints)}?" if hints else ""
        return f"unknown entity {entity_id!r}: not in entities.csv{hint}"

    # --- the tables --------------------------------------------------------------------------------
    @cached_property
    def groups(self) -> pd.DataFrame:
        """groups.csv of SPEC §8, as saved."""
        return self.store.table("groups")  # type: ignore[no-any-return]

    @cached_property
    def entities(self) -> pd.DataFrame:
        """entities.csv of SPEC §8, as saved."""
        return self.store.table("entities")  # type: ignore[no-any-return]

    @cached_property
    def members(self) -> pd.DataFrame:
        """members.csv of SPEC §8, as saved."""
        return self.store.table("members")  # type: ignore[no-any-return]

    @cached_property
    def issues(self) -> pd.DataFrame:
        """issues.csv of SPEC §8, as saved."""
        return self.store.table("issues")  # type: ignore[no-any-return]

    def explain(self, entity_id: str) -> dict[str, pd.DataFrame]:
        """The entity's row, its memberships (group, basis, path) and those groups' rows, from the
        saved tables (``result.explain`` needs the whole analysis; this needs the tables only)."""
        ent = self.entities[self.entities["entity_id"] == entity_id]
        if ent.empty:
            raise ValueError(self._unknown(entity_id))
        mem = self.members[self.members["entity_id"] == entity_id]
        return {"entity": ent, "memberships": mem,
                "groups": self.groups[self.groups["group_id"].isin(mem["group_id"])]}

    def group(self, group_id: str) -> dict[str, pd.DataFrame]:
        """A group's row and its members' rows, from the saved tables."""
        g = self.groups[self.groups["group_id"] == group_id]
        if g.empty:
            raise ValueError(f"unknown group {group_id!r} in snapshot {self.snapshot_id}")
        return {"group": g, "members": self.members[self.members["group_id"] == group_id]}

    def returns(self, template: str) -> Returns:
        """The regulatory return ``template`` (SPEC §11) of the saved analysis, under its policy:
        the tables ``result.returns(template)`` gives for the result that was saved."""
        from ..returns import build_returns

        return build_returns(cast("AnalysisResult", self._returns_source), template)

    @cached_property
    def _returns_source(self) -> Any:
        """What the returns read, rebuilt from the snapshot once (:mod:`._returns`)."""
        from ._returns import returns_source

        return returns_source(self)

    # --- checks and reservations -------------------------------------------------------------------
    def check(self, entity_id: str, amount: float, product: str = "loan", *,
              undrawn: float = 0.0, ccf: float | None = None, currency: str | None = None,
              guarantor_id: str | None = None, guaranteed_amount: float | None = None,
              collateral_value: float = 0.0) -> Decision:
        """SPEC §6 against the snapshot, counting every open reservation."""
        proposal = _proposal(locals())
        with self.journal.reading() as con:
            reserved = self._reserved(con)
        return _light.judge(self, proposal, reserved)

    def check_many(self, proposals: pd.DataFrame) -> pd.DataFrame:
        """Many proposals, each on its own, counting every open reservation."""
        with self.journal.reading() as con:
            reserved = self._reserved(con)
        return _light.judge_many(self, proposals, reserved)

    def reserve(self, entity_id: str, amount: float, product: str = "loan", *, by: str,
                reference: str | None = None, undrawn: float = 0.0, ccf: float | None = None,
                currency: str | None = None, guarantor_id: str | None = None,
                guaranteed_amount: float | None = None, collateral_value: float = 0.0
                ) -> Decision:
        """Check and, if approved, book the facility, in one step serialised across threads and
        processes; a declined proposal is journaled too. The Decision carries the
        ``reservation_id`` when approved."""
        proposal = _proposal(locals())
        _user(by)
        why = self.store.writable()
        if why is not None:
            raise JournalError(f"cannot reserve: {why}; the journal cannot be written, so nothing "
                               "can be approved (check still works)")
        with self.journal.writing() as con:
            decision = _light.judge(self, proposal, self._reserved(con))
            rid = uuid.uuid4().hex[:20]
            row = {**proposal, "reservation_id": rid, "time": now(), "by": by,
                   "reference": reference, "currency": decision.currency,
                   "approved": int(decision.approved), "reason": _light.reason_of(decision),
                   "binding_rule": decision.binding_rule,
                   "binding_subject": decision.binding_subject,
                   "max_amount": None if np.isinf(decision.max_amount) else decision.max_amount,
                   "snapshot_id": self.snapshot_id}
            decision = decision.model_copy(
                update={"reservation_id": rid if decision.approved else None})
            row["decision"] = decision.to_json()
            Journal.insert(con, row, "reserved" if decision.approved else "declined",
                           snapshot_id=self.snapshot_id, by=by)
        return decision

    def release(self, reservation_id: str, *, by: str) -> dict[str, Any]:
        """Take back an open reservation; returns its journal row, now ``released``."""
        _user(by)
        why = self.store.writable()
        if why is not None:
            raise JournalError(f"cannot release: {why}")
        with self.journal.writing() as con:
            row = Journal.find(con, reservation_id)
            if row is None:
                raise ValueError(f"unknown reservation {reservation_id!r} in snapshot "
                                 f"{self.snapshot_id}")
            if row["state"] != "open":
                raise ValueError(f"reservation {reservation_id!r} is {row['state']}, not open: "
                                 "only an open reservation can be released")
            Journal.event(con, reservation_id, "released", snapshot_id=self.snapshot_id, by=by)
            done = Journal.find(con, reservation_id)
        assert done is not None
        return done

    def _reserved(self, con: Any) -> _light.Reserved:
        """The open reservations, valued; computed again only when the journal has changed (its
        last event), read inside the caller's transaction."""
        last = con.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
        cached = self._reserved_cache
        if cached is not None and cached[0] == last:
            return cached[1]
        value = _light.value_reservations(self, Journal.open_rows(con))
        self._reserved_cache = (last, value)
        return value

    @property
    def reservations(self) -> pd.DataFrame:
        """The journal: one row per reservation with its state (read afresh on every access)."""
        return self.journal.frame()  # type: ignore[no-any-return]

    @property
    def events(self) -> pd.DataFrame:
        """Every event of the journal (reserved, declined, carried, released, booked)."""
        return self.journal.events()  # type: ignore[no-any-return]


def _proposal(args: dict[str, Any]) -> dict[str, Any]:
    """The proposal fields of a call's arguments."""
    return {k: args[k] for k in _light.PROPOSAL_FIELDS}


def _user(by: Any) -> None:
    if not isinstance(by, str) or not by.strip():
        raise ValueError(f"by must name the user who reserves (a non-empty text); got {by!r}")
