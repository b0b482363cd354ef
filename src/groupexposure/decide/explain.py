"""Explanations: why an entity is in each of its groups, its holding chain, exposures and rules.

>>> import groupexposure as gx
>>> e = gx.analyze(gx.datasets.ningxia()).explain("ZY-CASH")
>>> [(link["owner_id"], link["owned_id"]) for link in e.chain]
[('ZY-INTL', 'ZY-CASH')]
>>> e.chain[0]["reason"]
'votes held together with what ZY-INTL controls: ZY-INTL 38%, ZY-RE 15% = 53% > 50%'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._text import amount, named, pct, printable
from ..core.control import NONE
from ..safe import escape

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["Explanation", "explain"]


@dataclass(frozen=True)
class Explanation:
    """Everything a credit committee asks about one entity. ``str()`` is printable text."""

    entity_id: str
    name: str | None
    kind: str
    ultimate_parent_id: str
    immediate_controller_id: str | None
    chain: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    facilities: list[dict[str, Any]]
    guaranteed_for_others: list[dict[str, Any]]
    exposure: dict[str, float]
    single_rule: dict[str, Any] | None
    issues: list[dict[str, Any]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    """The name of every entity the explanation mentions, by id (for the text)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for JSON)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def _n(self, entity_id: object) -> str:
        return named(entity_id, self.names.get(str(entity_id)), width=30)

    def __str__(self) -> str:
        """The explanation as text; ids, names and messages with control characters escaped."""
        e, p, n = self.exposure, printable, self._n
        lines = [f"{named(self.entity_id, self.name)} ({p(self.kind)})",
                 f"  ultimate parent {n(self.ultimate_parent_id)}; immediate controller "
                 f"{n(self.immediate_controller_id) if self.immediate_controller_id else '—'}"]
        lines.append("  holding chain:" if self.chain else "  holding chain: none (a root)")
        for link in self.chain:
            flag = " (control flag)" if link.get("control_flag") else ""
            lines.append(f"    {n(link['owner_id'])} → {n(link['owned_id'])}: share "
                         f"{_p(link['share'])}, votes {_p(link['voting'])}{flag}; "
                         f"{p(link['reason'])}")
        lines.append(f"  groups ({len(self.groups)}):")
        for g in self.groups:
            lim = "no limit" if g["limit"] is None else f"limit {g['limit']:.2%}"
            lines.append(f"    {n(g['group_id'])} [{p(g['basis'])}] {p(g['path'])}")
            lines.append(f"      {p(g['status'])}: {g['ratio']:.2%} of "
                         f"{_BASES.get(g['capital_base_name'], g['capital_base_name'] or '—')}"
                         f" ({lim}, {p(g['rule'] or 'no rule')}), exposure {amount(g['exposure'])}")
        lines.append(f"  facilities ({len(self.facilities)}): original "
                     f"{amount(e['own_original'])}, net kept "
                     f"{amount(e['own_net'] - e['substituted_in'])}")
        for f in self.facilities:
            guar = (f" guaranteed {amount(f['guaranteed'])} by {n(f['guarantor_id'])}"
                    if f["guaranteed"] else "")
            lines.append(f"    {p(f['facility_id'])} {p(f['product'])}: original "
                         f"{amount(f['original'])}, collateral {amount(f['collateral'])},{guar} "
                         f"net {amount(f['net'])}")
        lines.append(f"  substituted in (guarantees it gave): {amount(e['substituted_in'])} over "
                     f"{len(self.guaranteed_for_others)} facilities")
        lines.append(f"  own_net {amount(e['own_net'])}; chain_net {amount(e['chain_net'])}; "
                     f"lookthrough_net {amount(e['lookthrough_net'])}")
        if self.single_rule:
            s = self.single_rule
            lines.append(f"  single rule: {p(s['status'])} {s['ratio']:.2%} (limit {s['limit']:.2%}, "
                         f"{p(s['rule'])})")
        for i in self.issues:
            lines.append(f"  {p(i['severity'])}: {p(i['message'])}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + escape(str(self)) + "</pre>"


_BASES = {"tier1": "Tier 1", "total_capital": "total capital"}


def _p(x: float | None) -> str:
    return "—" if x is None or x != x else pct(x)


def _num(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)


def _reason(result: AnalysisResult, c: int, x: int) -> str:
    """Why c controls x, in words."""
    ctl, ids, t = result.control, result.ids, result.policy.control_threshold
    own = result.ownership
    link = own[(own["owner_id"] == ids[c]) & (own["owned_id"] == ids[x])]
    if ctl.unit[c] == ctl.unit[x]:
        return "control cycle: they control each other; the cycle acts as one unit"
    if len(link):
        row = link.iloc[0]
        if bool(row["control"]):
            return "control flag: board majority, agreement or golden share"
        if row["voting"] > t:
            return f"votes {pct(row['voting'])} > {pct(t)}"
    # aggregated: votes in x held by c and the entities c controls (not those x controls)
    holders = own[own["owned_id"] == ids[x]]
    codes = result._check_index.index.get_indexer(holders["owner_id"]).astype(np.int64)
    inside = ((codes == c) | ctl.controls(np.full(codes.size, c), codes)) \
        & ~ctl.controls(np.full(codes.size, x), codes)
    parts = holders[inside].sort_values(["voting", "owner_id"], ascending=[False, True])
    listing = ", ".join(f"{o} {pct(v)}" for o, v in zip(parts["owner_id"], parts["voting"],
                                                        strict=True))
    total = float(parts["voting"].sum())
    if total > t:
        return f"votes held together with what {ids[c]} controls: {listing} = {pct(total)} > {pct(t)}"
    return f"{ids[c]} controls an entity that controls {ids[x]}"


def explain(result: AnalysisResult, entity_id: str) -> Explanation:
    """The explanation of one entity (its id must be in the book)."""
    x = result._check_index.code(entity_id)
    ctl, ids = result.control, result.ids
    ent = result.entities.iloc[x]
    chain = []
    cur = x
    seen = {x}
    while ctl.immediate[cur] != NONE:
        c = int(ctl.immediate[cur])
        own = result.ownership
        link = own[(own["owner_id"] == ids[c]) & (own["owned_id"] == ids[cur])]
        chain.append({"owner_id": str(ids[c]), "owned_id": str(ids[cur]),
                      "share": _num(link["share"].iloc[0]) if len(link) else None,
                      "voting": _num(link["voting"].iloc[0]) if len(link) else None,
                      "control_flag": bool(link["control"].iloc[0]) if len(link) else False,
                      "reason": _reason(result, c, cur)})
        if c in seen:
            break
        seen.add(c)
        cur = c
    chain.reverse()
    mem = result.members[result.members["entity_id"] == entity_id]
    g = result.groups.set_index("group_id")
    groups = []
    for _, m in mem.iterrows():
        row = g.loc[m["group_id"]]
        groups.append({"group_id": m["group_id"], "basis": m["basis"], "path": m["path"],
                       "n_members": int(row["n_members"]), "exposure": float(row["exposure"]),
                       "ratio": float(row["ratio"]) if row["ratio"] == row["ratio"] else 0.0,
                       "limit": _num(row["limit"]), "status": row["status"],
                       "rule": row["rule"] or None,
                       "capital_base_name": row["capital_base_name"] or None})
    values = result.facility_values
    mine = np.flatnonzero(values["obligor"].to_numpy() == x)
    given = np.flatnonzero((values["guarantor"].to_numpy() == x)
                           & (values["guaranteed"].to_numpy() > 0))
    cols = ["original", "collateral", "guaranteed", "net"]
    facilities = [
        {"facility_id": str(f["facility_id"]), "product": f["product"], "currency": f["currency"],
         "guarantor_id": None if pd.isna(f["guarantor_id"]) else str(f["guarantor_id"]),
         **{c: float(v[c]) for c in cols}}
        for f, v in zip(result.facilities.iloc[mine].to_dict("records"),
                        values.iloc[mine].to_dict("records"), strict=True)]
    guaranteed = [
        {"facility_id": str(f["facility_id"]), "obligor_id": str(f["obligor_id"]),
         "guaranteed": float(v["guaranteed"])}
        for f, v in zip(result.facilities.iloc[given].to_dict("records"),
                        values.iloc[given].to_dict("records"), strict=True)]
    single = None
    if result.policy.rules_for("single") and isinstance(ent["status"], str):
        single = {"rule": ent["rule"], "ratio": float(ent["ratio"]), "limit": float(ent["limit"]),
                  "status": ent["status"]}
    iss = result.issues[result.issues["key"].str.contains(f"={entity_id}", regex=False)]
    return Explanation(
        entity_id=entity_id, name=ent["name"] if isinstance(ent["name"], str) else None,
        kind=str(ent["kind"]), ultimate_parent_id=str(ent["ultimate_parent_id"]),
        immediate_controller_id=None if pd.isna(ent["immediate_controller_id"])
        else str(ent["immediate_controller_id"]),
        chain=chain, groups=groups, facilities=facilities, guaranteed_for_others=guaranteed,
        exposure={k: float(ent[k]) for k in ("own_original", "own_net", "substituted_in",
                                             "chain_net", "lookthrough_net")},
        single_rule=single, names=_names(result, entity_id, chain, groups, facilities),
        issues=[{str(k): v for k, v in rec.items()}
                for rec in iss[["severity", "code", "message"]].to_dict("records")])


def _names(result: AnalysisResult, entity_id: str, chain: list[dict[str, Any]],
           groups: list[dict[str, Any]], facilities: list[dict[str, Any]]) -> dict[str, str]:
    """Names of the entities the explanation mentions."""
    ent = result.entities
    ids = {entity_id, *(c["owner_id"] for c in chain), *(c["owned_id"] for c in chain),
           *(g["group_id"] for g in groups),
           *(f["guarantor_id"] for f in facilities if f["guarantor_id"]),
           *ent.loc[ent["entity_id"] == entity_id, "ultimate_parent_id"].dropna().tolist(),
           *ent.loc[ent["entity_id"] == entity_id, "immediate_controller_id"].dropna().tolist()}
    sub = ent[ent["entity_id"].isin(list(ids)) & ent["name"].notna()]
    return {str(i): str(nm) for i, nm in zip(sub["entity_id"], sub["name"], strict=True)}
