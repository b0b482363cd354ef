"""The columns of each G14 part (the form's headings, 一级 heading（二级 heading）) and part I.

The headings follow the form as banks' reporting systems carry them; the column letters of the
official form are not reproduced (unverified).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["COLUMNS", "LABELS", "part_one"]

_HEAD = {"序号": "no", "客户类型": "type", "客户名称": "name", "客户代码": "code"}
_TOTALS = {
    "风险暴露总和（合计）": "total", "风险暴露总和（其中：不可豁免风险暴露）": "non_exempt",
    "占一级资本净额比例（合计）": "ratio", "占一级资本净额比例（其中：不可豁免风险暴露）": "ratio_non_exempt",
}
_SPECIFIC = {"特定风险暴露（合计）": "specific", "特定风险暴露（其中：资产管理产品）": "asset_mgmt",
             "特定风险暴露（其中：资产证券化产品）": "securitisation"}
_TAIL = {"风险缓释转出的风险暴露（转入为负数）": "crm", "不考虑风险缓释作用的风险暴露总和": "ignoring"}
_REF = {"内部编号": "ref"}
_NON_BANK = {
    **_HEAD, **_TOTALS,
    "一般风险暴露（合计）": "general", "一般风险暴露（其中：各项贷款）": "loans",
    "一般风险暴露（其中：债券投资）": "bonds", **_SPECIFIC,
    "交易账簿风险暴露": "trading", "交易对手信用风险暴露": "ccr",
    "潜在风险暴露（合计）": "potential", "潜在风险暴露（其中：银行承兑汇票）": "acceptance",
    "潜在风险暴露（其中：跟单信用证）": "documentary_lc", "潜在风险暴露（其中：保函）": "guarantee",
    "潜在风险暴露（其中：贷款承诺）": "commitment", "其他风险暴露": "other", **_TAIL,
}
_BANK = {
    **_HEAD, **_TOTALS,
    "一般风险暴露（合计）": "general", "一般风险暴露（其中：拆放同业）": "ib_placement",
    "一般风险暴露（其中：存放同业）": "ib_deposit", "一般风险暴露（其中：买入返售）": "repo",
    "一般风险暴露（其中：同业债券）": "ib_bond", "一般风险暴露（其中：同业存单）": "ncd", **_SPECIFIC,
    "交易账簿风险暴露": "trading", "交易对手信用风险暴露": "ccr", "潜在风险暴露": "potential",
    "其他风险暴露": "other", **_TAIL,
}
COLUMNS: dict[str, dict[str, str]] = {
    "G14_II": {**_HEAD, **_TOTALS, "一般风险暴露": "general", "特定风险暴露": "specific",
               "交易账簿风险暴露": "trading", "交易对手信用风险暴露": "ccr", "潜在风险暴露": "potential",
               "其他风险暴露": "other", **_TAIL,
               "不考虑风险缓释作用的占一级资本净额比例": "ratio_ignoring", **_REF},
    "G14_III": {**_NON_BANK, "各项贷款余额": "loan_balance", "各项贷款余额占资本净额比例": "loan_ratio",
                "附注：不良贷款余额": "npl", "附注：逾期贷款余额": "overdue", **_REF},
    "G14_IV": {**_NON_BANK, **_REF},
    "G14_V": {**_BANK, **_REF},
    "G14_VI": {**_BANK, **_REF},
}
"""Per part: column heading → amount key (see :mod:`._g14_amounts`)."""

LABELS: dict[str, str] = {
    "序号": "row number", "客户类型": "client type", "客户名称": "client name",
    "客户代码": "client code (统一社会信用代码; else LEI or the bank's own id)",
    "风险暴露总和（合计）": "total exposure after CRM (万元)",
    "风险暴露总和（其中：不可豁免风险暴露）": "of which non-exempt (万元)",
    "占一级资本净额比例（合计）": "total as % of Tier 1", "占一级资本净额比例（其中：不可豁免风险暴露）":
    "non-exempt as % of Tier 1", "一般风险暴露": "general (on-balance banking book)",
    "一般风险暴露（合计）": "general (on-balance banking book)",
    "一般风险暴露（其中：各项贷款）": "of which loans", "一般风险暴露（其中：债券投资）": "of which bonds",
    "一般风险暴露（其中：拆放同业）": "of which interbank placements",
    "一般风险暴露（其中：存放同业）": "of which deposits with banks",
    "一般风险暴露（其中：买入返售）": "of which reverse repos",
    "一般风险暴露（其中：同业债券）": "of which bank bonds",
    "一般风险暴露（其中：同业存单）": "of which interbank certificates of deposit",
    "特定风险暴露": "specific (funds, securitisations)", "特定风险暴露（合计）": "specific (total)",
    "特定风险暴露（其中：资产管理产品）": "of which asset-management products",
    "特定风险暴露（其中：资产证券化产品）": "of which securitisations",
    "交易账簿风险暴露": "trading book", "交易对手信用风险暴露": "counterparty credit risk",
    "潜在风险暴露": "potential (off-balance banking book, after CCF)",
    "潜在风险暴露（合计）": "potential (off-balance banking book, after CCF)",
    "潜在风险暴露（其中：银行承兑汇票）": "of which bankers' acceptances",
    "潜在风险暴露（其中：跟单信用证）": "of which documentary letters of credit",
    "潜在风险暴露（其中：保函）": "of which letters of guarantee",
    "潜在风险暴露（其中：贷款承诺）": "of which loan commitments",
    "其他风险暴露": "other", "风险缓释转出的风险暴露（转入为负数）":
    "CRM transferred out (transferred in: negative)",
    "不考虑风险缓释作用的风险暴露总和": "total ignoring CRM",
    "不考虑风险缓释作用的占一级资本净额比例": "total ignoring CRM as % of Tier 1",
    "各项贷款余额": "loan balance (drawn, before provisions)",
    "各项贷款余额占资本净额比例": "loan balance as % of total capital",
    "附注：不良贷款余额": "memo: non-performing loans", "附注：逾期贷款余额": "memo: overdue loans",
    "内部编号": "(not in the form) the library's entity or group id",
    "项目": "item", "户数": "number of clients", "金额": "amount (万元)",
}
"""Each heading's meaning in English (amounts in 万元, percentages as numbers)."""

_CLASSES = {"非同业单一客户": "2.1 非同业单一客户", "非同业集团客户": "2.2 非同业集团客户及经济依存客户",
            "非同业经济依存客户": "2.2 非同业集团客户及经济依存客户", "同业单一客户": "2.3 同业单一客户",
            "同业集团客户": "2.4 同业集团客户", "同业经济依存客户": "2.4 同业集团客户"}


def part_one(parts: dict[str, pd.DataFrame], tier1: float) -> pd.DataFrame:
    """总体情况: Tier 1, the 2.5% line, and the part II clients by class (number, total, % of Tier 1);
    then the largest client of parts III-VI. (Row layout inferred, not the official row codes.)"""
    two = parts["G14_II"]
    rows: list[tuple[str, float, float]] = [("1 一级资本净额", np.nan, round(tier1, 2)),
                                            ("1.1 大额风险暴露标准（一级资本净额的2.5%）", np.nan,
                                             round(0.025 * tier1, 2)),
                                            ("2 大额风险暴露", len(two),
                                             round(float(two["风险暴露总和（合计）"].sum()), 2))]
    cls = two["客户类型"].map(_CLASSES)
    for label in dict.fromkeys(_CLASSES.values()):
        sel = two[cls == label]
        rows.append((label, len(sel), round(float(sel["风险暴露总和（合计）"].sum()), 2)))
    for i, (part, what) in enumerate((("G14_III", "非同业单一客户"), ("G14_IV", "非同业集团客户"),
                                      ("G14_V", "同业单一客户"), ("G14_VI", "同业集团客户")), start=1):
        t = parts[part]["风险暴露总和（合计）"]
        rows.append((f"3.{i} 最大一家{what}", min(len(t), 1),
                     float(t.max()) if len(t) else 0.0))
    frame = pd.DataFrame(rows, columns=["项目", "户数", "金额"])
    frame["占一级资本净额比例（合计）"] = (100 * frame["金额"] / tier1).round(2)
    frame.loc[0, "占一级资本净额比例（合计）"] = 100.0
    return frame
