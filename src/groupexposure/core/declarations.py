"""What external files declare, held against what the analysis computes.

External ownership data states some conclusions itself: GLEIF's *ultimate parent*, BODS's
*indirect* interests. The library never uses them to build groups (it computes control from the
direct links, SPEC §2); it checks them, and every disagreement becomes an issue naming the entities:

- ``declared_parent_mismatch`` (warning): the declared ultimate parent is not an ultimate parent the
  chain of control gives (it does not control the entity, or something controls it in turn).
- ``declaration_conflict`` (warning): a child's declared ultimate parent differs from the one its
  immediate controller declares.
- ``declared_share_mismatch`` (warning): a declared indirect share lies outside what the links
  give; ``declared_share_unconfirmed`` (info) where links of unknown size leave a range that holds
  it. The indirect part is ``I(holder, subject)`` less the holder's direct share (SPEC §4); a link of
  unknown size counts 0 for the lower bound and what its owned entity's other holders leave for the
  upper one.
- ``declared_control_mismatch`` (warning): a declared indirect control the links do not give.
- ``possible_control`` (warning): a link whose share is a range and whose upper bound alone passes
  the control threshold (control is decided on the lower bound).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._text import pct
from .control import NONE, Control
from .lookthrough import integrated_pairs

__all__ = ["declaration_issues", "possible_control"]

MATCH_TOLERANCE = 1e-6
"""Declared shares are percentages with a few decimals: equal within this, as fractions."""


def _issue(severity: str, code: str, subject: str, value: str, message: str) -> dict[str, object]:
    return {"severity": severity, "code": code, "table": "declarations",
            "key": f"entity_id={subject}", "column": "", "value": value, "message": message}


def _codes(ids: np.ndarray, values: pd.Series) -> np.ndarray:
    text = values.astype(object).where(values.notna(), "").astype(str).to_numpy()
    pos = np.searchsorted(ids, text).clip(0, max(ids.size - 1, 0))
    hit = ids.size > 0
    return np.where(hit & (ids[pos] == text), pos, NONE) if hit else np.full(len(text), NONE)


def declaration_issues(declarations: pd.DataFrame | None, ids: np.ndarray, control: Control,
                       owner: np.ndarray, owned: np.ndarray, share: np.ndarray,
                       threshold: float) -> pd.DataFrame:
    """Issues for every declaration the computed control or ownership disagrees with."""
    rows: list[dict[str, object]] = []
    if declarations is None or declarations.empty:
        return pd.DataFrame(rows)
    decl = declarations.reset_index(drop=True)
    subj, party = _codes(ids, decl["subject_id"]), _codes(ids, decl["party_id"])
    lost = (subj == NONE) | (party == NONE)
    for rec in decl[lost].to_dict("records"):
        rows.append(_issue("info", "declaration_unchecked", str(rec["subject_id"]),
                           str(rec["party_id"]),
                           f"{rec['source']} ({rec['record_id']}): the {rec['kind']} declaration "
                           f"of {rec['subject_id']} names an entity not in the analysis"))
    kind = decl["kind"].to_numpy()
    decl["where"] = (decl["source"].astype(str) + " (" + decl["record_id"].astype(str) + ")")
    decl["share"] = pd.to_numeric(decl["share"], errors="coerce").astype(np.float64)
    decl["share_max"] = pd.to_numeric(decl["share_max"], errors="coerce").astype(np.float64)
    ok = ~lost
    rows += _ultimate(decl, subj, party, ok & (kind == "ultimate_parent"), ids, control)
    rows += _shares(decl, subj, party, ok & (kind == "indirect_share"), ids, owner, owned, share)
    low = decl["share"].to_numpy(np.float64)
    where = decl["where"].tolist()
    want = ok & (kind == "indirect_control") & ~(low <= threshold)  # a small vote share: no claim
    for i in np.flatnonzero(want):
        s, p = int(subj[i]), int(party[i])
        if not control.controls(np.array([p]), np.array([s]))[0]:
            rows.append(_issue(
                "warning", "declared_control_mismatch", str(ids[s]), str(ids[p]),
                f"{where[i]} declares that {ids[p]} controls {ids[s]} indirectly; the links give "
                f"{ids[p]} no control of {ids[s]}"))
    return pd.DataFrame(rows)


def _ultimate(decl: pd.DataFrame, subj: np.ndarray, party: np.ndarray, mask: np.ndarray,
              ids: np.ndarray, control: Control) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return rows
    s, p = subj[idx], party[idx]
    controls = control.controls(p, s) | (p == s)
    top = control.ultimate[p] == control.unit[p]  # nothing outside its own cycle controls it
    for i, si, pi, c, t in zip(idx, s, p, controls, top, strict=True):
        if c and t:
            continue
        where = decl["where"].iat[int(i)]
        why = (f"{ids[pi]} does not control {ids[si]} in the links" if not c
               else f"{ids[pi]} is itself controlled: the chain goes up to "
               f"{ids[control.ultimate[pi]]}")
        rows.append(_issue("warning", "declared_parent_mismatch", str(ids[si]), str(ids[pi]),
                           f"{where} declares {ids[pi]} the ultimate parent of {ids[si]}; the "
                           f"computed ultimate parent is {ids[control.ultimate[si]]} ({why})"))
    declared = pd.Series(p, index=s).groupby(level=0).first()
    imm = control.immediate[s]
    has = (imm != NONE) & np.isin(imm, declared.index.to_numpy())
    for i, si, pi, d in zip(idx[has], s[has], p[has], imm[has], strict=True):
        up = int(declared[d])
        if up != pi and d != pi:
            rows.append(_issue(
                "warning", "declaration_conflict", str(ids[si]), f"{ids[pi]};{ids[up]}",
                f"{decl['source'].iat[int(i)]}: {ids[si]} declares {ids[pi]} its ultimate parent, but its "
                f"immediate controller {ids[d]} declares {ids[up]}"))
    return rows


def _shares(decl: pd.DataFrame, subj: np.ndarray, party: np.ndarray, mask: np.ndarray,
            ids: np.ndarray, owner: np.ndarray, owned: np.ndarray, share: np.ndarray
            ) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return rows
    n = ids.size
    known = ~np.isnan(share)
    low = np.where(known, share, 0.0)
    held = np.bincount(owned[known], weights=share[known], minlength=n)
    high = np.where(known, share, np.clip(1.0 - held[owned], 0.0, 1.0))
    s, p = subj[idx], party[idx]
    key = owner.astype(np.int64) * n + owned
    pair = p.astype(np.int64) * n + s
    pos = {int(k): j for j, k in enumerate(key)}
    direct_low = np.array([low[pos[int(k)]] if int(k) in pos else 0.0 for k in pair])
    direct_high = np.array([high[pos[int(k)]] if int(k) in pos else 0.0 for k in pair])
    lo = integrated_pairs(n, owner, owned, low, p, s) - direct_low
    hi = integrated_pairs(n, owner, owned, high, p, s) - direct_high
    lows = decl["share"].to_numpy(np.float64)[idx]
    highs = decl["share_max"].to_numpy(np.float64)[idx]
    highs = np.where(np.isnan(highs), lows, highs)
    wheres = decl["where"].to_numpy()[idx]
    for si, pi, a, b, d_lo, d_hi, where in zip(s, p, lo, hi, lows, highs, wheres, strict=True):
        said = pct(d_lo) if d_hi - d_lo <= MATCH_TOLERANCE else f"{pct(d_lo)} to {pct(d_hi)}"
        if d_hi < a - MATCH_TOLERANCE or d_lo > b + MATCH_TOLERANCE:
            got = pct(a) if b - a <= MATCH_TOLERANCE else f"between {pct(a)} and {pct(b)}"
            rows.append(_issue("warning", "declared_share_mismatch", str(ids[si]), said,
                               f"{where} declares that {ids[pi]} holds {said} of {ids[si]} "
                               f"indirectly; the links give {got}"))
        elif b - a > MATCH_TOLERANCE:
            rows.append(_issue("info", "declared_share_unconfirmed", str(ids[si]), said,
                               f"{where} declares that {ids[pi]} holds {said} of {ids[si]} "
                               f"indirectly; links of unknown size leave between {pct(a)} and "
                               f"{pct(b)}, so it can be neither confirmed nor refuted"))
    return rows


def possible_control(ownership: pd.DataFrame, ids: np.ndarray, control: Control,
                     owner: np.ndarray, owned: np.ndarray, threshold: float) -> pd.DataFrame:
    """Links whose share is a range whose upper bound alone passes the control threshold."""
    if "voting_max" not in ownership and "share_max" not in ownership:
        return pd.DataFrame()
    nan = pd.Series(np.nan, index=ownership.index)
    votes = pd.to_numeric(ownership.get("voting_max", nan), errors="coerce")
    shares = pd.to_numeric(ownership.get("share_max", nan), errors="coerce")
    top_v = votes.fillna(shares).to_numpy(np.float64)
    hit = (top_v > threshold) & ~control.controls(owner, owned)
    rows = []
    for j in np.flatnonzero(hit):
        o, s = ids[owner[j]], ids[owned[j]]
        low = ownership["voting"].iloc[j]
        rows.append({"severity": "warning", "code": "possible_control", "table": "ownership",
                     "key": f"owner_id={o}, owned_id={s}", "column": "voting",
                     "value": f"{low:.6g}..{top_v[j]:.6g}",
                     "message": f"{o} holds between {pct(low)} and {pct(top_v[j])} of the votes "
                     f"in {s}: control is decided on the lower bound (no control), but the upper "
                     f"bound passes the {pct(threshold)} threshold; possible control"})
    return pd.DataFrame(rows)
