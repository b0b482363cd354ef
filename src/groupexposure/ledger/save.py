"""Writing a snapshot: ``result.save(path, carry=None)`` (SPEC §10).

The directory is built beside its final place and renamed into it, so that a save killed half-way
leaves no half snapshot behind. See :mod:`.store` for the layout and docs/snapshots.md for why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._arrays import unique_inverse
from ..model.schema import EntityKind
from .journal import Journal
from .store import FORMAT, MANIFEST, SnapshotError, file_sha256, write_array

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["input_hash", "save"]


def input_hash(result: AnalysisResult) -> str:
    """The sha256 of the validated inputs (entities, ownership, connections, facilities, fx,
    capital): two analyses of the same book have the same hash whatever the row order."""
    h = hashlib.sha256()
    frames = {"entities": result.coded.entities, "ownership": result.ownership,
              "connections": result.connections, "facilities": result.facilities}
    for name, frame in frames.items():
        frame = frame.drop(columns=[c for c in frame.columns if str(c).startswith("_")])
        row_hashes = np.sort(pd.util.hash_pandas_object(frame, index=False).to_numpy())
        h.update(name.encode())
        h.update(",".join(map(str, frame.columns)).encode())
        h.update(row_hashes.tobytes())
    h.update(json.dumps(sorted(result.fx.items())).encode())
    h.update(result.capital.model_dump_json().encode())
    return h.hexdigest()


def _index(result: AnalysisResult, directory: Path) -> dict[str, dict[str, Any]]:
    """The check index: per entity code its facts; memberships as two CSR structures."""
    c, m, e = result.coded, result.membership, result.exposure
    n = c.ids.size
    ids = np.array([s.encode("utf-8") for s in c.ids.tolist()], dtype=bytes)
    if n > 1 and not bool((ids[1:] > ids[:-1]).all()):
        raise AssertionError("entity codes must follow the sorted entity ids")
    kinds = [k.value for k in EntityKind]
    kind = pd.Categorical(c.kind.astype(str), categories=kinds).codes.astype(np.int8)
    roots, gpos = unique_inverse(m.group)
    by_member = np.lexsort((gpos, m.member))
    by_group = np.lexsort((m.member, gpos))
    arrays: dict[str, np.ndarray] = {
        "ids": ids, "kind": kind, "gsib": c.gsib.astype(bool), "exempt": c.exempt.astype(bool),
        "own_original": e.own_original, "own_net": e.own_net,
        "substituted_in": e.substituted_in, "loans": e.loans,
        "member_ptr": np.concatenate([[0], np.cumsum(np.bincount(m.member, minlength=n))]),
        "member_groups": gpos[by_member].astype(np.int32),
        "group_ptr": np.concatenate([[0], np.cumsum(np.bincount(gpos, minlength=roots.size))]),
        "group_members": m.member[by_group].astype(np.int32),
        "group_root": roots.astype(np.int32),
        # what the returns read besides (SPEC §11): each membership's basis, in group_members'
        # order, and each facility's obligor and guarantor codes (-1: none)
        "member_by_control": m.by_control[by_group].astype(bool),
        "facility_obligor": result.facility_values["obligor"].to_numpy(np.int64),
        "facility_guarantor": result.facility_values["guarantor"].to_numpy(np.int64),
    }
    return {f"index/{k}.npy": write_array(directory, k, v) for k, v in arrays.items()}


def _tables(result: AnalysisResult, directory: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # the four tables of the analysis; the validated inputs the returns read (SPEC §11): the
    # facilities (whose ids carry-over reads too) and the entities' columns
    tables = {"groups": result.groups, "entities": result.entities, "members": result.members,
              "issues": result.issues, "facilities": result.facilities,
              "entity_inputs": result.coded.entities}
    for name, frame in tables.items():
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False),
                       directory / f"{name}.parquet")


def save(result: AnalysisResult, path: str | Path, *, carry: str | Path | None = None) -> Path:
    """Write ``result`` as a snapshot directory at ``path`` (which must not exist or be empty).

    ``carry``: a previous snapshot whose open reservations this one takes over; those whose
    ``reference`` is now a facility_id of the book are closed as booked.
    """
    from .. import __version__

    target = Path(path)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise SnapshotError(f"{target} already exists and is not empty: a snapshot is written to "
                            "a new directory (its journal must never be overwritten)")
    old = None
    if carry is not None:
        from .snapshot import open_snapshot

        old = open_snapshot(carry)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        files = _index(result, tmp)
        _tables(result, tmp)
        for p in sorted(tmp.glob("*.parquet")) + sorted((tmp / "index").glob("*.blocks")):
            rel = str(p.relative_to(tmp))
            files[rel] = {"bytes": p.stat().st_size, "sha256": file_sha256(p)}
        saved = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        inputs = input_hash(result)
        policy = json.loads(result.policy.model_dump_json())
        snapshot_id = hashlib.sha256(
            f"{inputs}|{json.dumps(policy, sort_keys=True)}|{result.grouping}|{saved}".encode()
        ).hexdigest()[:16]
        manifest = {
            "format": FORMAT, "library_version": __version__, "snapshot_id": snapshot_id,
            "saved": saved, "as_of": str(result.capital.as_of) if result.capital.as_of else None,
            "policy": policy, "grouping": result.grouping,
            "capital": json.loads(result.capital.model_dump_json()), "fx": result.fx,
            "kinds": [k.value for k in EntityKind], "input_sha256": inputs,
            "counts": {"entities": int(result.coded.ids.size), "groups": len(result.groups),
                       "facilities": len(result.facilities)},
            "carried_from": old.snapshot_id if old is not None else None,
            "files": files,
        }
        journal = Journal.create(tmp / "journal.sqlite", snapshot_id)
        if old is not None:
            from .carry import carry_over

            carry_over(old, journal, set(result.facilities["facility_id"].astype(str)))
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False),
                                    encoding="utf-8")
        if target.exists():
            target.rmdir()
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target

