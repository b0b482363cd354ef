"""A decision for a person: names beside ids, amounts with separators, nothing that moves a cursor.

``decision_text(decision, names)`` is the one line ``check`` prints; ``decision_table`` the
before/after table with the subjects' names beside their ids and amounts as ``1,234,567``
(never ``2.478300e+09``). They read only a decision's public fields, so any ``Decision`` (and
``Decision.__str__``) can use them; ``names`` maps ids to names (``names_of(result)``).

>>> import groupexposure as gx
>>> r = gx.analyze(gx.datasets.ningxia())
>>> decision_text(r.check("TM", 50_000_000), names_of(r)).split(" loan ")[0].split(" ", 1)[1]
'宁夏特米尔羊绒制品有限公司 (TM)'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._text import amount, named, printable

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["decision_table", "decision_text", "names_of"]

_AMOUNTS = ("capital_base", "headroom_after")
_RATIOS = ("limit", "ratio_before", "ratio_after")


def names_of(result: AnalysisResult) -> dict[str, str]:
    """``{entity_id: name}`` for every named entity of an analysis."""
    ent = result.entities[result.entities["name"].notna()]
    return dict(zip(ent["entity_id"].astype(str), ent["name"].astype(str), strict=True))


def _subject(rule: Any, names: Mapping[str, str]) -> str:
    if rule.scope == "group":
        return f"group {named(rule.group_id, names.get(str(rule.group_id)), width=30)}"
    return f"entity {named(rule.entity_id, names.get(str(rule.entity_id)), width=30)}"


def decision_text(decision: Any, names: Mapping[str, str]) -> str:
    """``APPROVED|DECLINED name (id) product amount: binding rule ...; max ...`` (and the reason
    where the decision has one)."""
    d = decision
    verdict = "APPROVED" if d.approved else "DECLINED"
    who = named(d.entity_id, names.get(str(d.entity_id)), width=40)
    cur = printable(d.currency)
    head = f"{verdict} {who} {printable(d.product)} {amount(d.amount)} {cur}"
    cap = amount(d.max_amount)
    cap = cap if cap == "unlimited" else f"{cap} {cur}"
    reason = getattr(d, "reason", None)
    why = f" [{printable(reason)}]" if reason else ""
    if d.binding_rule is None:
        return f"{head}{why}: no limit applies; max {cap}"
    binding = next((r for r in d.rules if r.rule == d.binding_rule
                    and d.binding_subject in (f"group {r.group_id}", f"entity {r.entity_id}")),
                   None)
    if binding is None:
        return f"{head}{why}: binding {printable(d.binding_rule)}; max {cap}"
    return (f"{head}{why}: binding {printable(d.binding_rule)} ({_subject(binding, names)}) "
            f"{binding.ratio_before:.2%} → {binding.ratio_after:.2%} of limit "
            f"{binding.limit:.2%}; max {cap}")


def decision_table(decision: Any, names: Mapping[str, str]) -> pd.DataFrame:
    """The before/after table for printing: a ``name`` beside the subject's ids, amounts with
    thousands separators, ratios as percentages, every text cell printable."""
    rows = []
    for r in decision.rules:
        rec = r.model_dump() if hasattr(r, "model_dump") else dict(vars(r))
        subject = rec.get("group_id") if rec.get("scope") == "group" else rec.get("entity_id")
        out: dict[str, Any] = {}
        for k, v in rec.items():
            if k in _AMOUNTS:
                out[k] = amount(v)
            elif k in _RATIOS:
                out[k] = "" if v != v else f"{v:.2%}"
            elif isinstance(v, float):
                out[k] = amount(v)
            else:
                out[k] = "" if v is None else printable(v)
            if k == "entity_id":
                out["name"] = printable(names.get(str(subject), ""))
        rows.append(out)
    return pd.DataFrame(rows)
