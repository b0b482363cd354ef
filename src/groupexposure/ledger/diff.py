"""What changed between two analyses (SPEC §10): ``gx.diff(old, new)``.

Groups are matched by their members, not by their ids (see :func:`diff`):

- ``continued``: one old group, one new (``renamed`` when its id changed);
- ``merged``: several old groups, one new; ``split``: one old, several new (both: ``regrouped``);
- ``appeared`` / ``disappeared``: no group on the other side shares a member.

>>> import groupexposure as gx
>>> book = gx.datasets.ningxia()
>>> old = gx.analyze(book)
>>> d = gx.diff(old, old)
>>> sorted(d.changes["change"].unique()), len(d.members), len(d.status)
(['continued'], 0, 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..safe import neutralise, write_csv

__all__ = ["Diff", "diff", "load_side"]

_GROUP_COLUMNS = ["group_id", "n_members", "exposure", "ratio", "status", "large_exposure"]


@dataclass(frozen=True)
class Diff:
    """The tables of a diff (DataFrames)."""

    changes: pd.DataFrame
    """One row per change: ``change, old_groups, new_groups`` (ids ``;``-joined), member counts."""
    groups: pd.DataFrame
    """One row per linked pair of groups (or a group alone): ``change, old_group_id,
    new_group_id, shared_members``, then exposure, ratio, status and large exposure on each side
    and the change in exposure and ratio."""
    members: pd.DataFrame
    """Members that joined or left a group that continued, merged, split or regrouped:
    ``change, group_id, entity_id, movement (joined|left), basis, path`` (basis and path of the
    side where the member is)."""
    status: pd.DataFrame
    """Linked pairs whose status changed: ``old_group_id, new_group_id, status_old, status_new``."""
    large: pd.DataFrame
    """Large exposures that began or ended: ``group_id, event (began|ended), exposure``."""

    def summary(self, top: int = 10) -> str:
        """A few lines for a terminal."""
        counts = self.changes["change"].value_counts()
        order = ["continued", "renamed", "merged", "split", "regrouped", "appeared", "disappeared"]
        lines = ["groups: " + ", ".join(f"{counts.get(c, 0)} {c}" for c in order)]
        moved = self.members["movement"].value_counts()
        lines.append(f"members: {moved.get('joined', 0)} joined, {moved.get('left', 0)} left")
        lines.append(f"status changes: {len(self.status)}")
        for _, r in self.status.head(top).iterrows():
            lines.append(f"  {r['new_group_id']}: {r['status_old']} -> {r['status_new']}")
        ev = self.large["event"].value_counts()
        lines.append(f"large exposures: {ev.get('began', 0)} began, {ev.get('ended', 0)} ended")
        moves = self.groups.dropna(subset=["exposure_change"]).copy()
        moves = moves.reindex(moves["exposure_change"].abs().sort_values(ascending=False).index)
        if len(moves):
            lines.append("largest changes in exposure:")
            for _, r in moves.head(top).iterrows():
                lines.append(f"  {r['new_group_id']}: {r['exposure_old']:,.0f} -> "
                             f"{r['exposure_new']:,.0f} ({r['exposure_change']:+,.0f}; ratio "
                             f"{r['ratio_old']:.2%} -> {r['ratio_new']:.2%})")
        return "\n".join(lines)

    def to_csv(self, out_dir: str | Path) -> list[Path]:
        """One CSV file per table (``diff_changes.csv`` ...)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for name in ("changes", "groups", "members", "status", "large"):
            p = out / f"diff_{name}.csv"
            write_csv(neutralise(getattr(self, name)), p)
            paths.append(p)
        return paths


def load_side(path: Path) -> Any:
    """A snapshot directory (``manifest.json``) or a portfolio directory (analysed, basel)."""
    from .snapshot import open_snapshot
    from .store import MANIFEST

    if (path / MANIFEST).is_file():
        return open_snapshot(path)
    from ..analysis import analyze
    from ..io.files import load_portfolio

    return analyze(load_portfolio(path))


def _links(om: pd.DataFrame, nm: pd.DataFrame) -> pd.DataFrame:
    """Every (old, new) pair of groups sharing members, with ``shared`` and ``same`` (same id)."""
    s = (om[["group_id", "entity_id"]].merge(nm[["group_id", "entity_id"]], on="entity_id",
                                             suffixes=("_old", "_new"))
         .groupby(["group_id_old", "group_id_new"]).size().rename("shared").reset_index()
         .rename(columns={"group_id_old": "old", "group_id_new": "new"}))
    s["same"] = s["old"] == s["new"]
    return s


def _best(s: pd.DataFrame, key: str, other: str) -> pd.Series:
    """For each ``key`` group, the ``other`` group sharing most members (ties: the same id,
    then the smallest id)."""
    order = s.sort_values([key, "shared", "same", other], ascending=[True, False, False, True])
    first = order.drop_duplicates(key)
    return pd.Series(first[other].to_numpy(), index=first[key].to_numpy())


def diff(old: Any, new: Any) -> Diff:
    """What changed from ``old`` to ``new`` (each an AnalysisResult or a Snapshot).

    Each old group's *successor* is the new group that shares most of its members, each new
    group's *predecessor* the old group that shares most of its; a new group that is the successor
    of several old ones is ``merged``, an old group that is the predecessor of several new ones is
    ``split`` (both: ``regrouped``), one to one ``continued`` (``renamed`` when the id changed).
    """
    og, om = old.groups, old.members
    ng, nm = new.groups, new.members
    s = _links(om, nm)
    succ, pred = _best(s, "old", "new"), _best(s, "new", "old")
    n_preds = succ.value_counts()  # per new group: how many old groups it succeeds
    n_succs = pred.value_counts()  # per old group: how many new groups it precedes
    pairs = pd.concat([pd.DataFrame({"old_group_id": succ.index, "new_group_id": succ.to_numpy()}),
                       pd.DataFrame({"old_group_id": pred.to_numpy(), "new_group_id": pred.index})]
                      ).drop_duplicates()
    pairs = pairs.merge(s.rename(columns={"old": "old_group_id", "new": "new_group_id",
                                          "shared": "shared_members"}).drop(columns="same"),
                        on=["old_group_id", "new_group_id"])
    merged = pairs["new_group_id"].map(n_preds).fillna(0).to_numpy() >= 2
    split = pairs["old_group_id"].map(n_succs).fillna(0).to_numpy() >= 2
    pairs["change"] = np.select(
        [merged & split, merged, split, pairs["old_group_id"] == pairs["new_group_id"]],
        ["regrouped", "merged", "split", "continued"], "renamed")
    lone_old = sorted(set(og["group_id"]) - set(succ.index))
    lone_new = sorted(set(ng["group_id"]) - set(pred.index))
    pairs = pd.concat([pairs,
                       pd.DataFrame({"old_group_id": lone_old, "shared_members": 0,
                                     "change": "disappeared"}),
                       pd.DataFrame({"new_group_id": lone_new, "shared_members": 0,
                                     "change": "appeared"})], ignore_index=True)
    g = pairs.merge(og[_GROUP_COLUMNS].add_suffix("_old"), how="left",
                    left_on="old_group_id", right_on="group_id_old")
    g = g.merge(ng[_GROUP_COLUMNS].add_suffix("_new"), how="left",
                left_on="new_group_id", right_on="group_id_new")
    g = g.drop(columns=["group_id_old", "group_id_new"])
    g["exposure_change"] = g["exposure_new"] - g["exposure_old"]
    g["ratio_change"] = g["ratio_new"] - g["ratio_old"]
    lead = ["change", "old_group_id", "new_group_id", "shared_members"]
    g = g[lead + [c for c in g.columns if c not in lead]].sort_values(
        ["new_group_id", "old_group_id"], na_position="last").reset_index(drop=True)
    both = g.dropna(subset=["old_group_id", "new_group_id"])
    status = both.loc[both["status_old"] != both["status_new"],
                      ["old_group_id", "new_group_id", "status_old", "status_new"]]
    return Diff(changes=_changes(g), groups=g, members=_movements(g, om, nm),
                status=status.reset_index(drop=True), large=_large(g))


def _changes(g: pd.DataFrame) -> pd.DataFrame:
    """One row per change: a merge per new group, a split per old group, else per pair."""
    def joined(x: pd.Series) -> str:
        return ";".join(sorted(map(str, x.dropna().unique())))

    parts = []
    for change, key in (("merged", "new_group_id"), ("split", "old_group_id"),
                        ("regrouped", "new_group_id")):
        sub = g[g["change"] == change]
        if len(sub):
            parts.append(sub.groupby(key).agg(old_groups=("old_group_id", joined),
                                              new_groups=("new_group_id", joined))
                         .reset_index(drop=True).assign(change=change))
    rest = g[~g["change"].isin(["merged", "split", "regrouped"])]
    parts.append(pd.DataFrame({"change": rest["change"].to_numpy(),
                               "old_groups": rest["old_group_id"].fillna("").to_numpy(),
                               "new_groups": rest["new_group_id"].fillna("").to_numpy()}))
    out = pd.concat(parts, ignore_index=True)[["change", "old_groups", "new_groups"]]
    return out.sort_values(["change", "new_groups", "old_groups"]).reset_index(drop=True)


def _movements(g: pd.DataFrame, om: pd.DataFrame, nm: pd.DataFrame) -> pd.DataFrame:
    """Members of a new group in none of its linked old groups (joined); members of an old group
    in none of its linked new groups (left). Appeared and disappeared groups are not listed."""
    links = g.dropna(subset=["old_group_id", "new_group_id"])
    rows = []
    for side, o_side, this, other, movement in (("new", "old", nm, om, "joined"),
                                                ("old", "new", om, nm, "left")):
        lk = links[[f"{side}_group_id", f"{o_side}_group_id", "change"]]
        t = this.merge(lk, left_on="group_id", right_on=f"{side}_group_id")
        there = other[["group_id", "entity_id"]].rename(columns={"group_id": f"{o_side}_group_id"})
        hit = t.merge(there.assign(_in=True), on=[f"{o_side}_group_id", "entity_id"], how="left")
        inside = hit.groupby(["group_id", "entity_id"])["_in"].any()
        gone = inside[~inside].index
        base = t.drop_duplicates(["group_id", "entity_id"]).set_index(["group_id", "entity_id"])
        out = base.loc[gone, ["basis", "path", "change"]].reset_index()
        rows.append(out.assign(movement=movement))
    out = pd.concat(rows, ignore_index=True)
    cols = ["change", "group_id", "entity_id", "movement", "basis", "path"]
    return out[cols].sort_values(["group_id", "movement", "entity_id"]).reset_index(drop=True)


def _large(g: pd.DataFrame) -> pd.DataFrame:
    """Large exposures that began (large in new, not in any linked old) or ended."""
    rows = []
    for side, other, event in (("new", "old", "began"), ("old", "new", "ended")):
        col = f"{side}_group_id"
        is_large = g[f"large_exposure_{side}"].fillna(False).astype(bool)
        was = g[f"large_exposure_{other}"].fillna(False).astype(bool)
        per = pd.DataFrame({"group_id": g[col], "now": is_large, "then": was,
                            "exposure": g[f"exposure_{side}"]}).dropna(subset=["group_id"])
        agg = per.groupby("group_id").agg(now=("now", "any"), then=("then", "any"),
                                          exposure=("exposure", "first"))
        hit = agg[agg["now"] & ~agg["then"]]
        rows.append(pd.DataFrame({"group_id": hit.index, "event": event,
                                  "exposure": hit["exposure"].to_numpy()}))
    return pd.concat(rows, ignore_index=True).sort_values(["event", "group_id"]).reset_index(
        drop=True)
