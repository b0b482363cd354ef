"""Basel large-exposure reporting (BCBS LEX20.4): four lists of counterparties (groups of connected
counterparties, a group of one being a single counterparty) with values in the reporting currency.

- ``after_crm``: every exposure of at least 10% of Tier 1 after CRM (the group's ``exposure``:
  exempt members excluded);
- ``before_crm``: every exposure of at least 10% of Tier 1 before CRM (the non-exempt members'
  ``own_original``: after CCFs and provisions, before collateral and guarantees);
- ``exempted``: every exempted exposure of at least 10% of Tier 1 (the group's ``exempt_exposure``);
- ``largest_20``: the 20 largest exposures after CRM, whatever their size.

>>> import groupexposure as gx
>>> r = gx.analyze(gx.datasets.ningxia(), policy="basel").returns("basel_lex20")
>>> list(r), r.labels["after_crm"]["of_tier1"]
(['after_crm', 'before_crm', 'exempted', 'largest_20'], 'value of the list as a fraction of Tier 1')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.limits import is_large
from ._common import Returns, Unavailable, group_sums, ranked
from ._rules import BASEL_LEX20

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["LABELS", "basel_lex20"]

LABELS = {
    "rank": "rank in the list (1: largest value of the list)",
    "group_id": "counterparty or group of connected counterparties (its root)",
    "name": "name of the root", "n_members": "members of the group (1: a single counterparty)",
    "before_crm": "exposure before CRM, exempt members excluded (after CCFs and provisions)",
    "after_crm": "exposure after CRM (collateral deducted, guarantees substituted), exempt "
                 "members excluded",
    "exempted": "exposure to exempt members (after CRM)",
    "of_tier1": "value of the list as a fraction of Tier 1",
}
LISTS = {"after_crm": "after_crm", "before_crm": "before_crm", "exempted": "exempted",
         "largest_20": "after_crm"}
"""Each list and the value it is selected and ranked on."""


def basel_lex20(result: AnalysisResult) -> Returns:
    """The four lists of LEX20.4."""
    g = result.groups
    tier1 = result.capital.tier1
    keep = ~result.coded.exempt
    per_ent = pd.DataFrame({"before": np.where(keep, result.exposure.own_original, 0.0)})
    values = pd.DataFrame({
        "group_id": g["group_id"].astype(str).to_numpy(),
        "name": g["root_name"].to_numpy(),
        "n_members": g["n_members"].to_numpy(),
        "before_crm": group_sums(result, per_ent)["before"].to_numpy(),
        "after_crm": g["exposure"].to_numpy(np.float64),
        "exempted": g["exempt_exposure"].to_numpy(np.float64),
    })
    keys = values["group_id"].to_numpy()
    tables: dict[str, pd.DataFrame] = {}
    for name, measure in LISTS.items():
        v = values[measure].to_numpy()
        if name == "largest_20":
            pos = ranked(v, keys)[:BASEL_LEX20.largest]
        else:
            pos = np.flatnonzero(is_large(v, tier1, BASEL_LEX20.large))
            pos = pos[ranked(v[pos], keys[pos])]
        frame = values.iloc[pos].reset_index(drop=True)
        frame.insert(0, "rank", np.arange(1, len(frame) + 1))
        frame["of_tier1"] = frame[measure] / tier1
        tables[name] = frame
    return Returns("basel_lex20", tables, dict.fromkeys(tables, LABELS),
                   Unavailable("basel_lex20").frame())
