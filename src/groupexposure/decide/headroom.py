"""Headroom: how much more plain-loan exposure fits before the warning level and before the limit.

For every group, and every entity held to single rules, the room under each applicable rule is
``limit * capital_base - measure`` (for the warning level, ``warning_level * limit * ...``); the
reported room is the smallest over the applicable rules, since a plain loan raises both the
``exposure`` and the ``loans`` measures one for one. A negative room is the amount by which the
subject is already over. Where no rule applies (all members exempt) the room is unlimited (inf).
The CRR institution relief is taken as it applies today: a loan to a non-bank member large enough
to end it meets the lower limit sooner (``check`` accounts for that exactly).

>>> import groupexposure as gx
>>> h = gx.analyze(gx.datasets.ningxia()).headroom.set_index("group_id")
>>> float(h.loc["RC-GRP", "room_to_limit"]), float(h.loc["RC-GRP", "room_to_warning"])
(414000000.0, 254000000.0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.limits import Subjects, rule_matrix

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["headroom"]


def _room(subjects: Subjects, result: AnalysisResult, scope: str) -> tuple[np.ndarray, np.ndarray]:
    rules = result.policy.rules_for(scope)  # type: ignore[arg-type]
    k = len(subjects.exposure)
    if not rules:
        return np.full(k, np.inf), np.full(k, np.inf)
    m = rule_matrix(subjects, rules, result.capital, result.fx)
    cap = m.limit[:, None] * m.base[:, None]
    limit_room = np.where(m.applies, cap - m.measure, np.inf).min(axis=0)
    warn_room = np.where(m.applies, result.policy.warning_level * cap - m.measure, np.inf).min(axis=0)
    return limit_room, warn_room


def headroom(result: AnalysisResult) -> pd.DataFrame:
    """One row per group and per entity with single rules: ``scope, group_id, entity_id, rule,
    status, measure_value, room_to_warning, room_to_limit`` (amounts in the reporting currency)."""
    ix = result._check_index
    g = result.groups
    single_one = bool(result.policy.rules_for("single")) & (ix.sizes == 1)
    lim, warn = _room(ix.group.subjects, result, "group")
    if single_one.any():
        members = result.membership.member[np.searchsorted(result.membership.group, ix.gids)]
        ent = ix.single.subjects.take(members[single_one])
        l1, w1 = _room(ent, result, "single")
        lim[single_one], warn[single_one] = l1, w1
    groups = pd.DataFrame({
        "scope": "group", "group_id": g["group_id"].to_numpy(), "entity_id": None,
        "rule": g["rule"].to_numpy(), "status": g["status"].to_numpy(),
        "measure_value": g["measure_value"].to_numpy(), "room_to_warning": warn,
        "room_to_limit": lim})
    frames = [groups]
    if result.policy.rules_for("single"):
        e = result.entities
        measure = {r.name: r.measure for r in result.policy.rules}
        keep = ~result.coded.exempt
        l2, w2 = _room(ix.single.subjects.take(np.flatnonzero(keep)), result, "single")
        frames.append(pd.DataFrame({
            "scope": "single", "group_id": None, "entity_id": e["entity_id"].to_numpy()[keep],
            "rule": e["rule"].to_numpy()[keep], "status": e["status"].to_numpy()[keep],
            "measure_value": np.where(e["rule"].map(measure).to_numpy()[keep] == "loans",
                                      e["loans"].to_numpy()[keep], e["own_net"].to_numpy()[keep]),
            "room_to_warning": w2, "room_to_limit": l2}))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["scope", "group_id", "entity_id"], kind="stable",
                           na_position="last").reset_index(drop=True)
