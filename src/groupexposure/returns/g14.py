"""China: 1104 G14 大额风险暴露统计表, parts I to VI (NFRA/CBIRC regular reporting).

Amounts in 万元 (CNY 10,000) with two decimals, percentages as numbers with two decimals (12.34 is
12.34%); a total is the sum of its rounded components, so that the form's checks hold to the cent.
Large exposures are those above 2.5% of 一级资本净额 (the ``cn_cbirc_2018`` threshold), tested on the
non-exempt exposure (其中：不可豁免风险暴露), as the analysis's ``large_exposure``.

- I 总体情况: Tier 1, the 2.5% line, and per class the number and total of the part II clients;
- II 大额风险暴露客户情况表: every large group and single client, each client once (a client in several
  groups counted under the largest of them; the group's figures are then those of its clients there);
- III 非同业单一客户 / V 同业单一客户: the 100 largest single clients (legal entities), non-institutions /
  institutions (``is_institution``);
- IV 非同业集团客户及经济依存客户 / VI 同业集团客户: every large group of two or more, by its root.

>>> import groupexposure as gx
>>> r = gx.analyze(gx.datasets.ningxia(), policy="cn_cbirc_2018").returns("cn_g14")
>>> list(r)
['G14_I', 'G14_II', 'G14_III', 'G14_IV', 'G14_V', 'G14_VI']
>>> r["G14_II"].columns[4]
'风险暴露总和（合计）'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.limits import is_large
from ._common import (
    Returns,
    Unavailable,
    group_sums,
    is_institution,
    membership_positions,
    ranked,
    text,
)
from ._g14_amounts import EMPTY_KEYS, entity_amounts
from ._g14_parts import COLUMNS, LABELS, part_one
from ._rules import CN_G14

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["cn_g14"]


def cn_g14(result: AnalysisResult) -> Returns:
    """Parts I-VI of G14 from an analysis."""
    out = Unavailable("cn_g14")
    unit = _unit(result)
    tier1 = result.capital.tier1
    ent = entity_amounts(result)
    inst = is_institution(result)
    groups = result.groups
    grp = group_sums(result, ent)
    root, _ = membership_positions(result)
    large = is_large(grp["non_exempt"].to_numpy(), tier1, CN_G14.large)
    multi = groups["n_members"].to_numpy() > 1
    ids = result.ids.astype(str)
    codes, names = _codes(result)
    gids = groups["group_id"].astype(str).to_numpy()
    kind = _client_type(result, inst[root], groups["n_members"].to_numpy())

    def singles(mask: np.ndarray) -> np.ndarray:
        pos = np.flatnonzero(mask & ((ent["total"] > 0) | (ent["crm"] != 0)).to_numpy())
        return np.asarray(pos[ranked(ent["total"].to_numpy()[pos], ids[pos])][:CN_G14.largest])

    def grouped(mask: np.ndarray) -> np.ndarray:
        pos = np.flatnonzero(mask & multi & large)
        return np.asarray(pos[ranked(grp["total"].to_numpy()[pos], gids[pos])])

    s3, s5 = singles(~inst), singles(inst)
    g4, g6 = grouped(~inst[root]), grouped(inst[root])
    two, two_pos = _part_two(result, ent, grp, large, gids)
    ent_kind = np.where(inst, "同业单一客户", "非同业单一客户")
    parts = {
        "G14_II": _rows("G14_II", two, kind[two_pos], codes[root[two_pos]], names[root[two_pos]],
                        gids[two_pos], unit, result, out),
        "G14_III": _rows("G14_III", ent.iloc[s3], ent_kind[s3], codes[s3], names[s3], ids[s3], unit,
                         result, out),
        "G14_IV": _rows("G14_IV", grp.iloc[g4], kind[g4], codes[root[g4]], names[root[g4]],
                        gids[g4], unit, result, out),
        "G14_V": _rows("G14_V", ent.iloc[s5], ent_kind[s5], codes[s5], names[s5], ids[s5], unit,
                       result, out),
        "G14_VI": _rows("G14_VI", grp.iloc[g6], kind[g6], codes[root[g6]], names[root[g6]],
                        gids[g6], unit, result, out),
    }
    tables = {"G14_I": part_one(parts, tier1 * unit), **parts}
    labels = {k: {c: LABELS[c] for c in v.columns} for k, v in tables.items()}
    return Returns("cn_g14", tables, labels, out.frame())


def _unit(result: AnalysisResult) -> float:
    """Factor from the reporting currency to 万元 (CNY 10,000)."""
    cur = result.capital.currency
    if cur == "CNY":
        return 1e-4
    rate = result.fx.get("CNY")
    if rate is None:
        raise ValueError(f"G14 is reported in CNY: the reporting currency is {cur} and fx.csv has no "
                         "CNY rate (units of the reporting currency per CNY)")
    return 1e-4 / rate


def _codes(result: AnalysisResult) -> tuple[np.ndarray, np.ndarray]:
    """客户代码 (统一社会信用代码, else the LEI, else the bank's own id) and 客户名称 per entity code."""
    nat, lei = text(result, "national_id"), text(result, "lei")
    own = result.ids.astype(object)
    code = np.where(pd.notna(nat), nat, np.where(pd.notna(lei), lei, own))
    name = text(result, "name")
    return code.astype(object), np.where(pd.notna(name), name, own).astype(object)


def _client_type(result: AnalysisResult, inst_root: np.ndarray, n_members: np.ndarray) -> np.ndarray:
    """客户类型 of each group: 单一客户 (one member), 集团客户, or 经济依存客户 (only dependence links)."""
    mem = result.members
    by_control = (mem["basis"] == "control").groupby(mem["group_id"].astype(str)).sum()
    ctrl = by_control.reindex(result.groups["group_id"].astype(str)).fillna(0).to_numpy()
    what = np.where(n_members == 1, "单一客户", np.where(ctrl > 1, "集团客户", "经济依存客户"))
    prefix = np.where(inst_root, "同业", "非同业")
    return np.char.add(prefix.astype(str), what.astype(str)).astype(object)


def _part_two(result: AnalysisResult, ent: pd.DataFrame, grp: pd.DataFrame, large: np.ndarray,
              gids: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Each client once: under the largest (by total, then smallest id) of the large groups it is in,
    or, if in none, under the largest of its groups. Returns the rows (amounts summed over each
    group's clients there) and their positions in ``result.groups``."""
    g = result.membership
    _, pos = membership_positions(result)
    total = grp["total"].to_numpy()
    pick = np.lexsort((gids[pos], -total[pos], ~large[pos], g.member))
    first = np.ones(pick.size, dtype=bool)
    first[1:] = g.member[pick][1:] != g.member[pick][:-1]
    member, home = g.member[pick][first], pos[pick][first]
    sums = ent.iloc[member].groupby(home).sum()
    sums[list(EMPTY_KEYS)] = np.nan  # a sum of empty cells stays empty
    chosen = np.asarray(sums.index, dtype=np.int64)
    keep = large[chosen]
    sums, chosen = sums[keep], chosen[keep]
    rank = ranked(sums["total"].to_numpy(), gids[chosen])
    return sums.iloc[rank].reset_index(drop=True), chosen[rank]


def _rows(part: str, raw: pd.DataFrame, kind: np.ndarray, code: np.ndarray, name: np.ndarray,
          ref: np.ndarray, unit: float, result: AnalysisResult, out: Unavailable) -> pd.DataFrame:
    """One part's table: amounts in 万元 (2 decimals), totals as sums of rounded components."""
    r = (raw.reset_index(drop=True) * unit).round(2)
    t1 = result.capital.tier1 * unit
    total = r[["general", "specific", "trading", "ccr", "potential", "other"]].fillna(0).sum(axis=1)
    r["total"] = total.round(2)
    r["non_exempt"] = r["non_exempt"].clip(upper=r["total"])
    r["ignoring"] = (r["total"] + r["crm"]).round(2)
    for key in ("bonds",):
        r["ib_bond"] = r[key]
    r["ratio"] = (100 * r["total"] / t1).round(2)
    r["ratio_non_exempt"] = (100 * r["non_exempt"] / t1).round(2)
    r["ratio_ignoring"] = (100 * r["ignoring"] / t1).round(2)
    tc = result.capital.total_capital
    r["loan_ratio"] = (100 * r["loan_balance"] / (tc * unit)).round(2) if tc else np.nan
    r["no"] = np.arange(1, len(r) + 1)
    r["type"], r["code"], r["name"], r["ref"] = kind, code, name, ref
    cols = COLUMNS[part]
    frame = pd.DataFrame({c: r[key] for c, key in cols.items()})
    for c, key in cols.items():
        if key in EMPTY_KEYS:
            out.add(part, c, LABELS[c], EMPTY_KEYS[key], len(frame))
    if "各项贷款余额占资本净额比例" in cols and not tc:
        out.add(part, "各项贷款余额占资本净额比例", LABELS["各项贷款余额占资本净额比例"],
                "capital.json has no total_capital (资本净额)", len(frame))
    nat = text(result, "national_id")
    with_nat = set(nat[pd.notna(nat)].tolist())
    out.add(part, "客户代码", LABELS["客户代码"], "no national_id (统一社会信用代码) in entities.csv",
            int((~pd.Series(code, dtype=object).isin(with_nat)).sum()),
            instead="the LEI or the bank's own id")
    return frame
