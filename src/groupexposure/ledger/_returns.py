"""What the regulatory returns read of an analysis, rebuilt from a snapshot (SPEC §9, §11).

``groupexposure returns --snapshot SNAP`` and ``snap.returns(template)`` build a return from a saved
analysis, without its input files. The returns (:mod:`groupexposure.returns`) read a handful of a
result's attributes: the output tables, the policy, capital and rates, the entities' input columns,
each entity's kind, exemption and exposure sums, the memberships, and the facilities with their
SPEC §4 values. A snapshot keeps each of them (``result.save`` writes the facilities and the
entities' input columns beside the index), and :func:`returns_source` puts them back under the same
names. The facility values are computed again from the saved facilities by the analysis's own
:func:`~groupexposure.core.exposures.facility_values`, under the snapshot's policy; a test holds
every template from a snapshot to the same tables as from the result it was saved from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.exposures import EntityExposure, facility_values
from ..model.policy import Policy
from ..model.schema import Capital
from .store import SnapshotError

if TYPE_CHECKING:
    from .snapshot import Snapshot

__all__ = ["ReturnsSource", "returns_source"]

_NEEDED = ("facilities.parquet", "entity_inputs.parquet", "index/member_by_control.npy",
           "index/facility_obligor.npy", "index/facility_guarantor.npy")


@dataclass(eq=False)
class Coded:
    """The coded entities, as far as the returns read them."""

    ids: np.ndarray
    entities: pd.DataFrame
    kind: np.ndarray
    gsib: np.ndarray
    exempt: np.ndarray


@dataclass(eq=False)
class Membership:
    """Memberships sorted by (group, member), as far as the returns read them."""

    group: np.ndarray
    member: np.ndarray
    by_control: np.ndarray


@dataclass(eq=False)
class ReturnsSource:
    """The attributes of an :class:`~groupexposure.result.AnalysisResult` that the returns read,
    under the same names."""

    groups: pd.DataFrame
    members: pd.DataFrame
    issues: pd.DataFrame
    policy: Policy
    grouping: str
    capital: Capital
    fx: dict[str, float]
    ids: np.ndarray
    coded: Coded
    membership: Membership
    exposure: EntityExposure
    facilities: pd.DataFrame
    facility_values: pd.DataFrame


def returns_source(snap: Snapshot) -> ReturnsSource:
    """The returns' view of ``snap``; a snapshot saved before it kept these raises
    :class:`SnapshotError`."""
    files = snap.manifest["files"]
    missing = [f for f in _NEEDED if f not in files]
    if missing:
        raise SnapshotError(f"snapshot {snap.path} was saved by a version that did not keep what "
                            f"the returns read ({', '.join(missing)}): save the analysis again")
    store, ix = snap.store, snap.index
    n = len(ix.ids)
    ids = snap.ids_of(np.arange(n))
    kind = np.asarray(snap.kinds, dtype=object)[ix.kind.all().astype(np.int64)]
    coded = Coded(ids=ids, entities=store.table("entity_inputs"), kind=kind,
                  gsib=ix.gsib.all().astype(bool), exempt=ix.exempt.all().astype(bool))
    group_ptr = ix.group_ptr.all()
    roots = ix.group_root.all().astype(np.int64)
    membership = Membership(
        group=np.repeat(roots, np.diff(group_ptr)),
        member=ix.group_members.all().astype(np.int64),
        by_control=store.array("member_by_control").all().astype(bool))
    exposure = EntityExposure(own_original=ix.own_original.all(), own_net=ix.own_net.all(),
                              substituted_in=ix.substituted_in.all(), loans=ix.loans.all())
    facilities = store.table("facilities")
    values = facility_values(facilities, obligor=store.array("facility_obligor").all(),
                             guarantor=store.array("facility_guarantor").all(), kinds=kind,
                             policy=snap.policy, fx=snap.fx)
    return ReturnsSource(
        groups=snap.groups, members=snap.members, issues=snap.issues, policy=snap.policy,
        grouping=snap.grouping, capital=snap.capital, fx=snap.fx, ids=ids, coded=coded,
        membership=membership, exposure=exposure, facilities=facilities, facility_values=values)
