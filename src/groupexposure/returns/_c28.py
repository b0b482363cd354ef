"""COREP C 28.00 measures per entity (Implementing Regulation (EU) 2024/3117, Annex VIII/IX), from
the facility-level values of SPEC §4 with off-balance-sheet items at their nominal amount.

Direct exposures are the obligor's facilities; indirect exposures the parts guaranteed by this entity
(substituted onto it); the substitution effect (0240-0290) the parts of its own facilities guaranteed
by others; funded protection (0300) the collateral. A group's figures are the sums over its members.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._common import Facilities, per_entity

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["C28_LABELS", "EMPTY", "FINANCIAL_GUARANTEES", "LOAN_COMMITMENTS", "entity_measures"]

C28_LABELS: dict[str, str] = {
    "0010": "Code", "0020": "Group or individual",
    "0030": "Transactions where there is an exposure to underlying assets",
    "0040": "Total original exposure", "0050": "Of which: defaulted",
    "0060": "Direct exposures: debt instruments", "0070": "Direct exposures: equity instruments",
    "0080": "Direct exposures: derivatives",
    "0090": "Direct exposures: off balance sheet items: loan commitments",
    "0100": "Direct exposures: off balance sheet items: financial guarantees",
    "0110": "Direct exposures: off balance sheet items: other commitments",
    "0120": "Indirect exposures: debt instruments", "0130": "Indirect exposures: equity instruments",
    "0140": "Indirect exposures: derivatives",
    "0150": "Indirect exposures: off balance sheet items: loan commitments",
    "0160": "Indirect exposures: off balance sheet items: financial guarantees",
    "0170": "Indirect exposures: off balance sheet items: other commitments",
    "0180": "Additional exposures arising from transactions where there is an exposure to underlying "
            "assets",
    "0190": "(-) Value adjustments and provisions",
    "0200": "(-) Exposures deducted from CET 1 or Additional Tier 1 items",
    "0210": "Exposure value before application of exemptions and CRM",
    "0220": "Exposure value before exemptions and CRM: of which non-trading book",
    "0230": "Exposure value before exemptions and CRM: % of Tier 1 capital",
    "0240": "(-) Substitution effect of eligible CRM: debt instruments",
    "0250": "(-) Substitution effect of eligible CRM: equity instruments",
    "0260": "(-) Substitution effect of eligible CRM: derivatives",
    "0270": "(-) Substitution effect of eligible CRM: off balance sheet items: loan commitments",
    "0280": "(-) Substitution effect of eligible CRM: off balance sheet items: financial guarantees",
    "0290": "(-) Substitution effect of eligible CRM: off balance sheet items: other commitments",
    "0300": "(-) Funded credit protection other than substitution effect",
    "0310": "(-) Real estate", "0320": "(-) Amounts exempted",
    "0330": "Exposure value after application of exemptions and CRM",
    "0340": "Exposure value after exemptions and CRM: of which non-trading book",
    "0350": "Exposure value after exemptions and CRM: % of Tier 1 capital",
}
"""C 28.00 column codes and labels (Annex VIII)."""

EMPTY: dict[str, str] = {
    "0030": "the input does not say which exposures are to underlying assets (CRR Art. 390(7))",
    "0070": "the input holds no equity exposures", "0080": "the input holds no derivatives",
    "0130": "the input holds no equity exposures", "0140": "the input holds no derivatives",
    "0180": "no look-through of funds or securitisations",
    "0200": "the input does not say which exposures are deducted from CET1 or AT1",
    "0250": "the input holds no equity exposures", "0260": "the input holds no derivatives",
    "0310": "the input holds no real-estate exposures treated under CRR Art. 402",
}
"""Columns the library's input cannot fill, and why: left empty (counted as 0 in the identities)."""

LOAN_COMMITMENTS = ("loan", "overdraft", "bond", "commitment", "commitment_uncond_cancellable",
                    "interbank_placement", "interbank_deposit")
"""Products whose unused part is a loan commitment (an unused line)."""
FINANCIAL_GUARANTEES = ("guarantee_issued", "standby_lc", "bankers_acceptance")
"""Products that are financial guarantees (direct credit substitutes); every other off-balance-sheet
product (performance bonds, trade letters of credit, ``other``) is an "other commitment"."""

AMOUNT_CODES = [c for c in C28_LABELS if c not in ("0010", "0020", "0030", "0230", "0350")]


def entity_measures(result: AnalysisResult, f: Facilities) -> pd.DataFrame:
    """Per entity code, the C 28.00 amounts (columns 0040-0340 but the percentages); the columns of
    :data:`EMPTY` are NaN."""
    n = result.ids.size
    v = f.values
    original = v["original"].to_numpy(np.float64)
    on_share = np.divide(v["on_balance"].to_numpy(np.float64), original,
                         out=np.zeros_like(original), where=original > 0)
    g = v["guaranteed"].to_numpy(np.float64)
    coll = v["collateral"].to_numpy(np.float64)
    net = v["net"].to_numpy(np.float64)
    ob, gu = f.obligor, np.where(g > 0, f.guarantor, -1)
    is_lc = f.is_product(*LOAN_COMMITMENTS)
    is_fg = f.is_product(*FINANCIAL_GUARANTEES)
    is_oc = ~is_lc & ~is_fg
    banking = ~f.trading
    g_on, g_off = g * on_share, g * (1.0 - on_share)

    def o(w: np.ndarray) -> np.ndarray:
        return per_entity(ob, w, n)

    def i(w: np.ndarray) -> np.ndarray:
        return per_entity(gu, w, n)

    m: dict[str, np.ndarray] = {
        "0060": o(f.drawn), "0090": o(np.where(is_lc, f.undrawn, 0.0)),
        "0100": o(np.where(is_fg, f.undrawn, 0.0)), "0110": o(np.where(is_oc, f.undrawn, 0.0)),
        "0120": i(g_on), "0150": i(np.where(is_lc, g_off, 0.0)),
        "0160": i(np.where(is_fg, g_off, 0.0)), "0170": i(np.where(is_oc, g_off, 0.0)),
        "0190": o(f.drawn - v["on_balance"].to_numpy(np.float64)),
        "0240": o(g_on), "0270": o(np.where(is_lc, g_off, 0.0)),
        "0280": o(np.where(is_fg, g_off, 0.0)), "0290": o(np.where(is_oc, g_off, 0.0)),
        "0300": o(coll),
    }
    m["0040"] = np.sum([m[c] for c in ("0060", "0090", "0100", "0110", "0120", "0150", "0160",
                                       "0170")], axis=0)
    m["0050"] = o(np.where(f.defaulted, f.drawn + f.undrawn, 0.0)) + i(np.where(f.defaulted, g, 0.0))
    m["0210"] = m["0040"] - m["0190"]  # - 0200, empty
    m["0220"] = o(np.where(banking, original, 0.0)) + i(np.where(banking, g, 0.0))
    after_crm = m["0210"] - np.sum([m[c] for c in ("0240", "0270", "0280", "0290", "0300")], axis=0)
    exempt = result.coded.exempt
    m["0320"] = np.where(exempt, after_crm, 0.0)
    m["0330"] = after_crm - m["0320"]
    keep_o, keep_i = ~exempt[ob], ~exempt[np.maximum(gu, 0)]
    m["0340"] = (o(np.where(banking & keep_o, net, 0.0))
                 + i(np.where(banking & keep_i, g, 0.0)))
    for c in EMPTY:
        if c != "0030":
            m[c] = np.full(n, np.nan)
    return pd.DataFrame({c: m[c] for c in AMOUNT_CODES})
