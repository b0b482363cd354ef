"""Readable paths: why an entity is in a group (SPEC §3).

A control path is the chain of holdings from the root down to the entity with each link's share,
``P →60%→ T →55% (with P)→ S``: where control comes from votes gathered across the group, the link
shows the total and who else holds them. A dependence path names the connection that brought the
member in: ``X ←economic_dependence— D``, then the control path to the member when it is controlled
by D.

Paths are built one link at a time for every entity at once, never one entity at a time, and show
at most :data:`MAX_LINKS` links (a deeper entity's path names its ultimate parent, the number of
links left out, then the last links).

>>> pct(0.6), pct(0.3333333), pct(1.0), pct(0.005)
('60%', '33.33%', '100%', '0.5%')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._arrays import isin, isin_sorted, search_sorted, unique_inverse
from .._text import pct
from .control import NONE, Control
from .groups import Groups

__all__ = ["Paths", "control_paths", "joined_ids", "membership_paths", "pct"]


def _pct_array(x: np.ndarray) -> np.ndarray:
    """``pct`` of every element, formatting each distinct basis-point value once; a missing share
    (a link from an external file that gives only control) reads ``share unknown``."""
    x = np.asarray(x, np.float64)
    known = ~np.isnan(x)
    bp = np.round(np.where(known, x, 0.0) * 10_000).astype(np.int64)
    values, inverse = unique_inverse(bp)
    out = np.asarray(np.array([f"{v / 100:g}%" for v in values], dtype=object)[inverse])
    out[~known] = "share unknown"
    return out


@dataclass(frozen=True)
class Paths:
    """Every entity's control path, stored level by level: ``text`` holds the paths of the roots,
    then of their immediate subsidiaries, and so on; ``pos[x]`` is where entity x's path is."""

    text: pa.Array
    pos: np.ndarray

    def take(self, codes: np.ndarray) -> pa.Array:
        """The paths of the entities ``codes``, in that order (strings copied once)."""
        return self.text.take(pa.array(self.pos[codes]))


def control_paths(control: Control, ids: np.ndarray, owner: np.ndarray, owned: np.ndarray,
                  share: np.ndarray, voting: np.ndarray, flag: np.ndarray,
                  id_text: pa.Array | None = None) -> Paths:
    """For each entity code, its path from its (primary) ultimate parent; a root's path is its id.
    ``id_text``: the ids as a pyarrow string array, if the caller has it."""
    n = control.n
    ids = np.asarray(ids, dtype=object)
    imm = control.immediate
    link_key = owner.astype(np.int64) * n + owned
    link_order = np.argsort(link_key)
    sorted_links = link_key[link_order]
    if bool((sorted_links[1:] == sorted_links[:-1]).any()):
        # repeated (owner, owned) rows, kept by collect mode: one holding, the rows added
        link_key, inv = unique_inverse(link_key)
        share = np.bincount(inv, weights=share, minlength=link_key.size)
        voting = np.bincount(inv, weights=voting, minlength=link_key.size)
        flag = np.bincount(inv, weights=np.asarray(flag, dtype=bool), minlength=link_key.size) > 0
        owner, owned = np.divmod(link_key, n)
        link_order, sorted_links = np.arange(link_key.size), link_key  # now unique and sorted
    link = pd.DataFrame({"o": owner, "s": owned, "share": share, "voting": voting, "flag": flag})
    via = imm.copy()
    label = np.full(n, "control", dtype=object)
    has = np.flatnonzero(imm != NONE)
    # 1. links that give control on their own (flag or votes above the threshold)
    direct_key = imm[has] * n + has
    present = isin_sorted(direct_key, sorted_links)
    if present.any():
        pos = link_order[search_sorted(sorted_links, direct_key[present])]
        rows = link.iloc[pos]
        text = _pct_array(rows["share"].to_numpy())
        differs = ~np.isclose(rows["voting"].to_numpy(), rows["share"].to_numpy(), equal_nan=True)
        if differs.any():
            text[differs] = text[differs] + " (votes " + _pct_array(
                rows["voting"].to_numpy()[differs]) + ")"
        fl = rows["flag"].to_numpy(bool)
        text[fl] = text[fl] + " (control)"
        label[has[present]] = text
    # 2. aggregated control: the link from the deepest holder that contributed, with the total
    agg = control.edge_aggregated
    ak = control.edge_controller[agg] * n + control.edge_controlled[agg]
    is_agg = isin(imm[has] * n + has, ak)
    if is_agg.any():
        xs = has[is_agg]
        totals = pd.Series(control.edge_votes[agg], index=ak)
        is_x = np.zeros(n, dtype=bool)
        is_x[xs] = True
        holders = link[(link["voting"].to_numpy() > 0) & is_x[link["s"].to_numpy()]]
        c = imm[holders["s"].to_numpy()]
        h = holders["o"].to_numpy(np.int64)
        inside = (h == c) | control.controls(c, h)
        below = control.controls(holders["s"].to_numpy(np.int64), h)
        contrib = holders[inside & ~below].assign(depth=control.depth[h[inside & ~below]])
        contrib = contrib.sort_values(["s", "depth", "voting", "o"],
                                      ascending=[True, False, False, True])
        best = contrib.drop_duplicates("s")
        xb, ob = best["s"].to_numpy(np.int64), best["o"].to_numpy(np.int64)
        best_of = pd.Series(ob, index=xb)
        others = contrib[contrib["o"].to_numpy() != best_of.reindex(contrib["s"]).to_numpy()]
        names = _joined_names(others["s"].to_numpy(np.int64), others["o"].to_numpy(np.int64),
                              ids if id_text is None else id_text)
        text = _pct_array(totals.loc[imm[xb] * n + xb].to_numpy())
        with_ = names.reindex(xb).fillna("").to_numpy(object)  # xb: the entities, one each
        text = np.where(with_ != "", text + " (with " + with_ + ")", text)
        via[xb] = ob
        label[xb] = text
    in_cycle = (control.unit != np.arange(n)) & (imm == control.unit)
    label[in_cycle & ~isin_sorted(imm * n + np.arange(n), sorted_links)] = "control cycle"
    return _build(_text(ids) if id_text is None else id_text, via, label, imm)


_TEXT = pa.large_string()


def joined_ids(key: np.ndarray, code: np.ndarray, id_text: pa.Array, sep: str
               ) -> tuple[np.ndarray, pa.Array]:
    """For each distinct ``key`` (sorted), the ids of its ``code``s in id order (codes follow id
    order) joined by ``sep``; built by pyarrow in one pass, no Python strings."""
    order = np.lexsort((code, key))
    key, code = key[order], code[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.empty(0, np.int64)
    lists = pa.LargeListArray.from_arrays(pa.array(np.r_[starts, key.size], type=pa.int64()),
                                          id_text.take(pa.array(code)))
    return key[starts], pc.binary_join(lists, pa.scalar(sep, type=_TEXT))


def _joined_names(s: np.ndarray, o: np.ndarray, ids: np.ndarray | pa.Array) -> pd.Series:
    """For each distinct s, the ids of its o's joined by ", " in id order."""
    text = ids if isinstance(ids, pa.Array) else _text(np.asarray(ids, dtype=object))
    keys, joined = joined_ids(s, o, text, ", ")
    return pd.Series(joined.to_numpy(zero_copy_only=False), index=keys, dtype=object)


def _text(values: np.ndarray | list[str] | str) -> pa.Array | pa.Scalar:
    if isinstance(values, str):
        return pa.scalar(values, type=_TEXT)
    return pa.array(values, type=_TEXT)


def _join(*parts: pa.Array | pa.Scalar) -> pa.Array:
    return pc.binary_join_element_wise(*parts, _text(""))


MAX_LINKS = 24
"""A control path shows at most this many links: deeper, the links nearest the entity, after its
ultimate parent and the number of links left out (a chain 50,000 deep would otherwise write
50,000 paths of up to 50,000 links each)."""


def _levels(via: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps up ``via`` to its end and that end, by pointer jumping; also which entities sit on
    or below a loop of ``via`` links (no end)."""
    n = via.size
    codes = np.arange(n)
    level = (via != NONE).astype(np.int64)
    top = np.where(via == NONE, codes, via)
    for _ in range(64):
        nxt = top[top]
        moved = nxt != top
        if not moved.any():
            return level, top, np.zeros(n, dtype=bool)
        level = level + np.where(moved, level[top], 0)
        top = nxt
    return level, top, via[top] != NONE


def _build(id_text: pa.Array, via: np.ndarray, label: np.ndarray, imm: np.ndarray) -> Paths:
    """Each entity's path along ``via`` (falling back to ``imm`` on any loop), built from the
    entity upwards one link at a time for at most :data:`MAX_LINKS` links, by pyarrow."""
    n = len(id_text)
    level, top, loop = _levels(via)
    if loop.any():  # a loop of via links: use the immediate controllers instead
        via[loop] = imm[loop]
        label[loop] = "control"
        level, top, _ = _levels(via)
    text: pa.Array = id_text
    active = np.flatnonzero(level > 0)
    cur = active.copy()
    for _ in range(MAX_LINKS):
        if active.size == 0:
            break
        up = via[cur]
        part = _join(pc.take(id_text, pa.array(up)), _text(" →"), _text(label[cur]),
                     _text("→ "), pc.take(text, pa.array(active)))
        text = _replace(text, active, part)
        cur = up
        keep = via[cur] != NONE
        active, cur = active[keep], cur[keep]
    if active.size:  # deeper than MAX_LINKS: the ultimate parent and how many links are left out
        skipped = level[cur].astype(str).astype(object)
        part = _join(pc.take(id_text, pa.array(top[cur])), _text(" →… "), _text(skipped),
                     _text(" links …→ "), pc.take(text, pa.array(active)))
        text = _replace(text, active, part)
    return Paths(text, np.arange(n))


def _replace(text: pa.Array, where: np.ndarray, values: pa.Array) -> pa.Array:
    """``text`` with ``text[where] = values``."""
    pos = np.arange(len(text))
    pos[where] = len(text) + np.arange(where.size)
    return pa.concat_arrays([text.cast(_TEXT), values.cast(_TEXT)]).take(pa.array(pos))


def membership_paths(groups: Groups, paths: Paths, ids: np.ndarray) -> pd.Series:
    """The path of every membership: the control path, or the connection then the control path."""
    where = paths.pos[groups.member]
    dep = ~groups.by_control & (groups.via_dependent != NONE)
    if not dep.any():
        out = paths.text.take(pa.array(where))
    else:  # one take from the control paths followed by the dependence paths
        d = groups.via_dependent[dep]
        x = groups.via_depends_on[dep]
        m = groups.member[dep]
        text = _join(_text(ids[x].astype(object)), _text(" ←"),
                     _text(groups.via_kind[dep].astype(object)), _text("— "),
                     _text(ids[d].astype(object)))
        with_path = _join(text, _text("; "), paths.take(m))
        text = pc.if_else(pa.array(m != d), with_path, text)
        where[dep] = len(paths.text) + np.arange(int(dep.sum()))
        out = pa.concat_arrays([paths.text, text]).take(pa.array(where))
    return pd.Series(pd.array(out, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))
