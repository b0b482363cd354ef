"""The G14 amounts per entity: the analysis's facility values (SPEC §4, with the policy's CCFs) split
into the form's components, after credit risk mitigation.

Each facility's exposure that stays with the obligor (``net``) and the part substituted onto an
eligible guarantor (``guaranteed``) are split between the on- and off-balance-sheet parts in
proportion to the facility's ``on_balance`` and ``off_balance``, then sorted by book and product:

- trading book: 交易账簿风险暴露; product ``other``: 其他风险暴露;
- otherwise the on-balance part is 一般风险暴露 (of which 各项贷款: loan and overdraft; 债券投资 /
  同业债券: bond; 拆放同业: interbank_placement; 存放同业: interbank_deposit) and the off-balance part
  潜在风险暴露 (of which 银行承兑汇票, 跟单信用证: trade_lc, 保函: guarantee_issued, standby_lc,
  performance_bond, 贷款承诺: unused lines and commitments).

风险缓释转出 is the collateral and the guaranteed part leaving the obligor, less (negative) what is
substituted in; so the total (风险暴露总和) is ``own_net`` and the total ignoring CRM is ``own_original``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._c28 import LOAN_COMMITMENTS
from ._common import facilities_of, per_entity

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["EMPTY_KEYS", "entity_amounts"]

EMPTY_KEYS = {
    "specific": "no look-through of asset-management products or securitisations",
    "asset_mgmt": "no look-through of asset-management products",
    "securitisation": "no securitisation positions in the input",
    "ccr": "no derivatives or securities financing in the input",
    "repo": "no reverse repos (买入返售) in the input",
    "ncd": "no interbank certificates of deposit (同业存单) in the input",
    "overdue": "the input does not say which loans are overdue",
}
"""Components the input cannot fill, and why."""


def entity_amounts(result: AnalysisResult) -> pd.DataFrame:
    """Per entity code, in the reporting currency: every G14 component (NaN where :data:`EMPTY_KEYS`
    says the input cannot fill it)."""
    n = result.ids.size
    f = facilities_of(result, nominal=False)
    v = f.values
    original = v["original"].to_numpy(np.float64)
    on_share = np.divide(v["on_balance"].to_numpy(np.float64), original,
                         out=np.zeros_like(original), where=original > 0)
    g = v["guaranteed"].to_numpy(np.float64)
    net = v["net"].to_numpy(np.float64)
    ob, gu = f.obligor, np.where(g > 0, f.guarantor, -1)
    other = ~f.trading & f.is_product("other")
    rest = ~f.trading & ~other

    def both(w_net: np.ndarray, w_g: np.ndarray) -> np.ndarray:
        return np.asarray(per_entity(ob, w_net, n) + per_entity(gu, w_g, n))

    def on(mask: np.ndarray) -> np.ndarray:
        return both(np.where(mask, net * on_share, 0.0), np.where(mask, g * on_share, 0.0))

    def off(mask: np.ndarray) -> np.ndarray:
        return both(np.where(mask, net * (1 - on_share), 0.0), np.where(mask, g * (1 - on_share), 0.0))

    def isin(*products: str) -> np.ndarray:
        return np.asarray(rest & f.is_product(*products))

    a: dict[str, np.ndarray] = {
        "general": on(rest), "loans": on(isin("loan", "overdraft")), "bonds": on(isin("bond")),
        "ib_placement": on(isin("interbank_placement")), "ib_deposit": on(isin("interbank_deposit")),
        "trading": both(np.where(f.trading, net, 0.0), np.where(f.trading, g, 0.0)),
        "potential": off(rest), "acceptance": off(isin("bankers_acceptance")),
        "documentary_lc": off(isin("trade_lc")),
        "guarantee": off(isin("guarantee_issued", "standby_lc", "performance_bond")),
        "commitment": off(isin(*LOAN_COMMITMENTS)),
        "other": both(np.where(other, net, 0.0), np.where(other, g, 0.0)),
        "crm": per_entity(ob, v["collateral"].to_numpy(np.float64) + g, n) - per_entity(gu, g, n),
        "loan_balance": result.exposure.loans.astype(np.float64),
        "npl": per_entity(ob, np.where(f.defaulted & f.is_product("loan", "overdraft"),
                                       f.drawn, 0.0), n),
    }
    frame = pd.DataFrame(a)
    frame["total"] = frame[["general", "trading", "potential", "other"]].sum(axis=1)
    frame["non_exempt"] = np.where(result.coded.exempt, 0.0, frame["total"].to_numpy())
    for key in EMPTY_KEYS:
        frame[key] = np.nan
    return frame
