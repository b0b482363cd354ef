"""The glue between a snapshot and the check of :mod:`groupexposure.decide.check`.

A snapshot does not re-implement SPEC §6. For a proposal it rebuilds a *light result*: the
obligor, the guarantor, every member of every group either is in, and the counterparties of the
open reservations that touch them, with the arrays the check reads (``coded``, ``exposure``,
``membership``, ``policy``, ``capital``, ``fx``, ``ids``), and hands it to ``check`` /
``check_many`` unchanged. A group's rule inputs depend only on its members, so the light result
gives the same decision as the whole book. Open reservations are added to the light book as
extra facilities, valued by :func:`groupexposure.core.exposures.facility_values`, the function the
analysis itself uses.

This is the one module to adapt when the check's index changes (``decide/_index.py``): it needs
``_check_index`` (a cached property building the check's index of a result) and the attributes
listed in :class:`Light`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from ..core.exposures import ON_BALANCE_PRODUCTS, EntityExposure, entity_exposures, facility_values
from ..decide._index import CheckIndex
from ..decide.check import Decision, check, check_many
from ..model.policy import Policy
from ..model.schema import Capital

if TYPE_CHECKING:
    from ..result import AnalysisResult
    from .snapshot import Snapshot

__all__ = [
    "PROPOSAL_FIELDS",
    "Light",
    "Reserved",
    "judge",
    "judge_many",
    "light_result",
    "proposal_frame",
    "reason_of",
    "value_reservations",
]

PROPOSAL_FIELDS = ("entity_id", "amount", "product", "undrawn", "ccf", "currency", "guarantor_id",
                   "guaranteed_amount", "collateral_value")
"""The arguments of a proposal, as the check takes them (and the journal records them)."""


@dataclass(frozen=True)
class _Coded:
    ids: np.ndarray
    kind: np.ndarray
    gsib: np.ndarray
    exempt: np.ndarray


@dataclass(frozen=True)
class _Membership:
    group: np.ndarray
    member: np.ndarray


@dataclass(frozen=True)
class _NoControl:
    """A light result answers checks only, never explanations: no control relation is loaded."""

    keys: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


@dataclass(eq=False)
class Light:
    """The part of a result that one check touches (codes are positions in ``ids``, sorted)."""

    coded: _Coded
    exposure: EntityExposure
    membership: _Membership
    policy: Policy
    capital: Capital
    fx: dict[str, float]
    ids: np.ndarray = field(init=False)
    control: _NoControl = field(default_factory=_NoControl)

    def __post_init__(self) -> None:
        self.ids = self.coded.ids

    @cached_property
    def _check_index(self) -> CheckIndex:
        return CheckIndex(cast("AnalysisResult", self))


def proposal_frame(rows: list[dict[str, Any]], currency: str) -> pd.DataFrame:
    """Proposals (journal rows) as facilities for :func:`facility_values`.

    A proposal's ``amount`` is taken as the check takes it (SPEC §6): the nominal of its product, drawn
    for a loan, overdraft or bond (``undrawn`` then the unused line beside it), the off-balance nominal
    for every other product.
    """
    f = pd.DataFrame(rows, columns=list(PROPOSAL_FIELDS))
    product = f["product"].fillna("loan").astype(str)
    on = product.isin(list(ON_BALANCE_PRODUCTS)).to_numpy()
    amount = f["amount"].astype(float).fillna(0.0).to_numpy()
    undrawn = f["undrawn"].astype(float).fillna(0.0).to_numpy()
    return pd.DataFrame({
        "product": product,
        "drawn": np.where(on, amount, 0.0), "undrawn": np.where(on, undrawn, amount + undrawn),
        "provision": 0.0, "ccf": f["ccf"].astype(float),
        "currency": f["currency"].fillna(currency).astype(str),
        "guaranteed_amount": f["guaranteed_amount"].astype(float),
        "collateral_value": f["collateral_value"].fillna(0.0).astype(float),
    })


@dataclass(frozen=True)
class Reserved:
    """The open reservations valued once (per state of the journal): what they add to each
    entity, by full-book code (``codes`` sorted)."""

    codes: np.ndarray
    exposure: EntityExposure
    count: int


def value_reservations(snap: Snapshot, open_rows: list[dict[str, Any]]) -> Reserved:
    """Value the open reservations as facilities (SPEC §4, by :func:`facility_values`).

    A reservation whose entity has left the book (after a carry-over) cannot be valued and is left
    out (see docs/snapshots.md)."""
    ob = snap.codes_of([r["entity_id"] for r in open_rows])
    gu = snap.codes_of([r["guarantor_id"] for r in open_rows])
    keep = ob >= 0
    rows = [r for r, k in zip(open_rows, keep.tolist(), strict=True) if k]
    ob, gu = ob[keep], gu[keep]
    codes = np.unique(np.concatenate([ob, gu[gu >= 0]]))
    if not rows:
        zero = np.zeros(0)
        return Reserved(codes, EntityExposure(zero, zero, zero, zero), 0)
    kind = np.asarray(snap.kinds, dtype=object)[snap.index.kind.take(codes)]
    values = facility_values(
        proposal_frame(rows, snap.capital.currency), obligor=np.searchsorted(codes, ob),
        guarantor=np.where(gu >= 0, np.searchsorted(codes, np.maximum(gu, 0)), -1),
        kinds=kind, policy=snap.policy, fx=snap.fx)
    return Reserved(codes, entity_exposures(values, codes.size), len(rows))


def light_result(snap: Snapshot, codes: np.ndarray, reserved: Reserved) -> Light:
    """The light result around entity ``codes`` (full-book codes), counting ``reserved``."""
    ix = snap.index
    codes = np.unique(codes[codes >= 0])
    groups = np.unique(ix.member_groups.ranges(ix.member_ptr.take(codes),
                                               ix.member_ptr.take(codes + 1)))
    start, stop = ix.group_ptr.take(groups), ix.group_ptr.take(groups + 1)
    members = ix.group_members.ranges(start, stop)
    roots = ix.group_root.take(groups)
    full = np.unique(np.concatenate([codes, members]))
    parts = [ix.own_original.take(full), ix.own_net.take(full), ix.substituted_in.take(full),
             ix.loans.take(full)]
    if reserved.count:
        at = np.minimum(np.searchsorted(reserved.codes, full), reserved.codes.size - 1)
        hit = reserved.codes[at] == full
        r = reserved.exposure
        for part, extra in zip(parts, (r.own_original, r.own_net, r.substituted_in, r.loans),
                               strict=True):
            part[hit] += extra[at[hit]]
    coded = _Coded(ids=snap.ids_of(full),
                   kind=np.asarray(snap.kinds, dtype=object)[ix.kind.take(full)],
                   gsib=ix.gsib.take(full), exempt=ix.exempt.take(full))
    membership = _Membership(group=np.repeat(np.searchsorted(full, roots), stop - start),
                             member=np.searchsorted(full, members))
    return Light(coded=coded, exposure=EntityExposure(*parts), membership=membership,
                 policy=snap.policy, capital=snap.capital, fx=snap.fx)


def reason_of(d: Decision) -> str:
    """The reason of SPEC §6 (the Decision's own where it carries one)."""
    own = getattr(d, "reason", None)
    if isinstance(own, str):
        return own
    breached_before = [r for r in d.rules if r.status_before == "breach"]
    if d.approved:
        return "adds_nothing" if breached_before else "within_limits"
    grows = [r for r in breached_before if r.ratio_after > r.ratio_before]
    return "already_breached" if grows else "would_breach"


def judge(snap: Snapshot, proposal: dict[str, Any], reserved: Reserved) -> Decision:
    """One proposal against the snapshot and the open reservations."""
    codes = snap.codes_of([proposal["entity_id"], proposal.get("guarantor_id")], strict=True)
    light = light_result(snap, codes, reserved)
    args = {k: v for k, v in proposal.items() if k not in ("entity_id", "amount", "product")}
    return check(cast("AnalysisResult", light), proposal["entity_id"], proposal["amount"],
                 proposal.get("product") or "loan", **args)


def judge_many(snap: Snapshot, frame: pd.DataFrame, reserved: Reserved) -> pd.DataFrame:
    """Many proposals, each on its own against the snapshot and the open reservations."""
    if "entity_id" not in frame:
        raise ValueError("check_many needs the columns entity_id, amount; found "
                         + ", ".join(map(str, frame.columns)))
    ids = frame["entity_id"].astype(str).tolist()
    if "guarantor_id" in frame:
        ids += [g for g in frame["guarantor_id"].dropna().astype(str)]
    codes = snap.codes_of(ids, strict=True)
    light = light_result(snap, codes, reserved)
    return check_many(cast("AnalysisResult", light), frame)
