"""EU COREP large exposures, templates C 26.00 to C 29.00 (Implementing Regulation (EU) 2024/3117,
Annexes VIII and IX; EBA taxonomy module ``corep_le``).

Reported counterparties (C 28.00 rows): every large exposure under CRR Art. 392, tested on column 0210
(the exposure value before exemptions and CRM, exempt ones included); every exposure of at least
EUR 300m (Art. 394(1)); the 10 largest to institutions and the 10 largest to shadow banking entities
(Art. 394(2)), ranked on 0210 too. A counterparty is a group of the analysis (a group of one is an
individual client, ``0020`` = 1); its code is its root's code (LEI, else national id, else the bank's
own id). Original exposures count off-balance-sheet items at their nominal amount (no CCF).

>>> import groupexposure as gx
>>> r = gx.analyze(gx.datasets.ningxia(), policy="eu_crr").returns("eu_corep_le")
>>> list(r)
['C 26.00', 'C 27.00', 'C 28.00', 'C 29.00']
>>> r.labels["C 28.00"]["0210"]
'Exposure value before application of exemptions and CRM'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.limits import is_large
from ._c28 import C28_LABELS, EMPTY, entity_measures
from ._common import (
    Returns,
    Unavailable,
    code_of,
    facilities_of,
    flag,
    group_sums,
    is_institution,
    membership_positions,
    ranked,
    text,
)
from ._rules import EU_COREP_LE

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["C26_LABELS", "C27_LABELS", "C29_LABELS", "eu_corep_le"]

C26_LABELS = {"row": "Row", "label": "Item", "0010": "Applicable limit"}
C26_ROWS = {"0010": "Non institutions", "0020": "Institutions", "0030": "Institutions in %",
            "0040": "Globally Systemic Important Institutions (G-SIIs)"}
C27_LABELS = {"0011": "Code", "0015": "Type of code", "0021": "Name", "0035": "National code",
              "0040": "Residence of the counterparty", "0050": "Sector of the counterparty",
              "0060": "NACE code", "0070": "Type of counterparty"}
C29_LABELS = {"0010": "Code", "0020": "Code of the group",
              "0030": "Transactions where there is an exposure to underlying assets",
              "0040": "Type of connection",
              **{f"{int(c) + 10:04d}": lab for c, lab in C28_LABELS.items() if int(c) >= 40}}
SECTORS = {"central_bank": "Central banks", "general_government": "General governments",
           "credit_institution": "Credit institutions",
           "other_financial": "Other financial corporations",
           "non_financial_corporation": "Non-financial corporations", "household": "Households"}
"""counterparty_sector values and the sector names of C 27.00 column 0050."""
REF = {"group_id": "(not in the form) the library's group id",
       "selected": "(not in the form) why the counterparty is reported"}


def eu_corep_le(result: AnalysisResult) -> Returns:
    """C 26.00-C 29.00 from an analysis (any policy; the EU figures come from the policy's rules)."""
    out = Unavailable("eu_corep_le")
    tier1 = result.capital.tier1
    eur = _eur_rate(result, out)
    measures = entity_measures(result, facilities_of(result, nominal=True))
    code, code_type = code_of(result)
    c28, chosen = _c28(result, measures, code, tier1, eur, out)
    c29 = _c29(result, measures, code, chosen, tier1, out)
    roots, _ = membership_positions(result)
    c27 = _c27(result, np.unique(np.concatenate([roots[chosen], c29.pop("_code").to_numpy()])),
               code, code_type, out)
    tables = {"C 26.00": _c26(result, eur, out), "C 27.00": c27,
              "C 28.00": c28, "C 29.00": c29}
    labels = {"C 26.00": C26_LABELS, "C 27.00": C27_LABELS, "C 28.00": {**C28_LABELS, **REF},
              "C 29.00": {**C29_LABELS, "group_id": REF["group_id"]}}
    return Returns("eu_corep_le", tables, labels, out.frame())


def _eur_rate(result: AnalysisResult, out: Unavailable) -> float | None:
    """Units of the reporting currency per EUR, or None (then no EUR figure can be computed)."""
    if result.capital.currency == EU_COREP_LE.floor_currency:
        return 1.0
    rate = result.fx.get(EU_COREP_LE.floor_currency)
    if rate is None:
        out.note("return_selection_incomplete", "C 28.00",
                 f"no {EU_COREP_LE.floor_currency} rate in fx.csv: exposures of at least EUR 300m "
                 "(CRR Art. 394(1)) cannot be selected, nor the EUR 150m limit of C 26.00 computed")
    return rate


def _c26(result: AnalysisResult, eur: float | None, out: Unavailable) -> pd.DataFrame:
    """The applicable limits (amounts in the reporting currency; row 0030 a fraction of Tier 1)."""
    t1 = result.capital.tier1
    rules = result.policy.rules_for("group")
    plain = next((r for r in rules if r.relief is None and not r.gsib_to_gsib
                  and r.counterparty_kind == "any" and r.measure == "exposure"), None)
    relief = next((r for r in rules if r.relief is not None), None)
    gsib = next((r for r in rules if r.gsib_to_gsib), None)
    value: dict[str, float] = {}
    if plain is not None:
        value["0010"] = plain.limit * t1
    if relief is not None and relief.relief is not None:
        floor = (relief.relief.absolute_floor * eur) if eur is not None else None
        if floor is not None:
            value["0020"] = max(relief.limit * t1, floor)
            if floor > relief.limit * t1:
                value["0030"] = relief.relief.cap
    if gsib is not None and result.capital.is_gsib:
        value["0040"] = gsib.limit * t1
    missing = [r for r in ("0010", "0020") if r not in value]
    for r in missing:
        out.add("C 26.00", f"row {r}", C26_ROWS[r], f"policy {result.policy.name!r} gives no such "
                "limit" if eur is not None or r == "0010" else "no EUR rate", 1)
    return pd.DataFrame({"row": list(C26_ROWS), "label": list(C26_ROWS.values()),
                         "0010": [value.get(r, np.nan) for r in C26_ROWS]})


def _c28(result: AnalysisResult, measures: pd.DataFrame, code: np.ndarray, tier1: float,
         eur: float | None, out: Unavailable) -> tuple[pd.DataFrame, np.ndarray]:
    """The reported counterparties' rows, largest 0210 first; also their positions in groups."""
    sel = EU_COREP_LE
    groups = result.groups
    sums = group_sums(result, measures)
    for c in EMPTY:
        if c in sums:
            sums[c] = np.nan  # a sum of empty cells is empty, not 0
    gids = groups["group_id"].to_numpy().astype(str)
    root, _ = membership_positions(result)
    before = sums["0210"].to_numpy()
    why = np.full(len(groups), "", dtype=object)

    def mark(mask: np.ndarray, reason: str) -> None:
        why[mask] = np.where(why[mask] == "", reason, why[mask] + "; " + reason)

    mark(is_large(before, tier1, sel.large), "large exposure (Art. 392)")
    if eur is not None:
        mark(before >= sel.absolute_floor * eur * (1 - 1e-13), "at least EUR 300m (Art. 394(1))")
    for name, mask, k in (("institutions", is_institution(result)[root], sel.largest_institutions),
                          ("shadow banking entities", flag(result, "is_shadow_bank")[root],
                           sel.largest_shadow_banks)):
        pos = np.flatnonzero(mask & (before > 0))
        top = pos[ranked(before[pos], gids[pos])[:k]]
        hit = np.zeros(len(groups), dtype=bool)
        hit[top] = True
        mark(hit, f"{k} largest to {name} (Art. 394(2))")
    chosen = np.flatnonzero(why != "")
    chosen = chosen[ranked(before[chosen], gids[chosen])]
    rows = sums.iloc[chosen].reset_index(drop=True)
    frame = pd.DataFrame({
        "0010": code[root[chosen]],
        "0020": np.where(groups["n_members"].to_numpy()[chosen] > 1, 2, 1),
        "0030": np.nan,
    })
    for c in C28_LABELS:
        if c in rows:
            frame[c] = rows[c].to_numpy()
    frame["0230"] = frame["0210"] / tier1
    frame["0350"] = frame["0330"] / tier1
    frame = frame[list(C28_LABELS)]
    frame["group_id"] = gids[chosen]
    frame["selected"] = why[chosen]
    for c, reason in EMPTY.items():
        out.add("C 28.00", c, C28_LABELS[c], reason, len(frame))
    return frame, chosen


def _c29(result: AnalysisResult, measures: pd.DataFrame, code: np.ndarray, chosen: np.ndarray,
         tier1: float, out: Unavailable) -> pd.DataFrame:
    """Each client of each reported group of two or more (a client may be in several groups)."""
    g = result.membership
    _, gpos = membership_positions(result)
    reported = np.zeros(len(result.groups), dtype=bool)
    reported[chosen] = True
    reported &= result.groups["n_members"].to_numpy() > 1
    sel = np.flatnonzero(reported[gpos])
    ents, roots = g.member[sel], g.group[sel]
    frame = pd.DataFrame({
        "0010": code[ents], "0020": code[roots], "0030": np.nan,
        "0040": np.where(g.by_control[sel], "control", "economic dependency"),
    })
    m = measures.iloc[ents].reset_index(drop=True)
    for c in C28_LABELS:
        if c in m:
            frame[f"{int(c) + 10:04d}"] = m[c].to_numpy()
    frame["0240"] = frame["0220"] / tier1
    frame["0360"] = frame["0340"] / tier1
    frame = frame[list(C29_LABELS)]
    frame["group_id"] = result.ids[roots].astype(str)
    frame["_code"] = ents
    rank = np.empty(len(result.groups), dtype=np.int64)
    rank[chosen] = np.arange(chosen.size)
    frame = frame.iloc[np.lexsort((frame["0010"].to_numpy(dtype=str), rank[gpos[sel]]))]
    frame = frame.reset_index(drop=True)
    for c, reason in EMPTY.items():
        out.add("C 29.00", c if c == "0030" else f"{int(c) + 10:04d}", C28_LABELS[c], reason,
                len(frame))
    return frame


def _c27(result: AnalysisResult, ents: np.ndarray, code: np.ndarray, code_type: np.ndarray,
         out: Unavailable) -> pd.DataFrame:
    """One row per code reported in C 28.00 (a group by its root) or C 29.00 (each client)."""
    inst = is_institution(result)[ents]
    shadow = flag(result, "is_shadow_bank")[ents]
    sector = pd.Series(text(result, "counterparty_sector")[ents], dtype=object).map(SECTORS)
    frame = pd.DataFrame({
        "0011": code[ents],
        "0015": pd.Series(code_type[ents], dtype=object).map(
            {"LEI": "LEI code", "national": "National code"}).to_numpy(dtype=object),
        "0021": text(result, "name")[ents], "0035": text(result, "national_id")[ents],
        "0040": text(result, "country")[ents], "0050": sector.to_numpy(dtype=object),
        "0060": text(result, "nace")[ents],
        "0070": np.where(inst, "Institution", np.where(shadow, "Shadow banking entity", "Other")),
    }).drop_duplicates("0011").sort_values("0011", kind="stable").reset_index(drop=True)
    reasons = {"0015": "no LEI or national_id (the code is the bank's own entity_id)",
               "0021": "no name in entities.csv", "0035": "no national_id in entities.csv",
               "0040": "no country in entities.csv",
               "0050": "no counterparty_sector in entities.csv", "0060": "no nace in entities.csv"}
    for c, reason in reasons.items():
        out.add("C 27.00", c, C27_LABELS[c], reason, int(frame[c].isna().sum()))
    return frame
