"""The general control relation as every (controller, controlled) pair (SPEC §2).

:mod:`~groupexposure.core.control` computes control on the control forest; a book where some
entity has several lowest controllers neither of which controls the other (SPEC §2.6, possible
through ``control`` flags, or votes that add up to more than 1 in collect mode) is a DAG, not a
forest, and comes here: the relation is kept as sorted keys ``controlled * n + controller`` and
grown to the fixed point of aggregated control. Memory grows with the number of pairs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .._arrays import (
    csr,
    expand,
    isin_sorted,
    merge_unique,
    ranges,
    unique,
    unique_inverse,
)

__all__ = ["NONE", "pair_control", "quantised"]

NONE = -1


def quantised(votes: np.ndarray) -> np.ndarray:
    """Votes as integer multiples of 2^-52 (nearest): sums of them are exact, in any order."""
    return np.asarray(np.rint(np.asarray(votes, np.float64) * 2.0**52).astype(np.int64))


def _closure(n: int, ctrl: np.ndarray, sub: np.ndarray) -> np.ndarray:
    """Keys ``x * n + a`` (sorted) of all pairs with a path a → ... → x of links ``ctrl → sub``.

    Walks up from every link one level per round. Where every entity has at most one controlling
    link and there is no cycle, no pair can be found twice and the walk needs no set lookups.
    """
    if ctrl.size == 0:
        return np.empty(0, dtype=np.int64)
    ptr, order = csr(n, sub)
    up = ctrl[order].astype(np.int64)
    indegree = np.diff(ptr)
    graph = coo_matrix((np.ones(ctrl.size), (ctrl, sub)), shape=(n, n))
    n_comp, _ = connected_components(graph, directed=True, connection="strong")
    dedupe = bool(indegree.max() > 1) or n_comp < n
    seen = unique(sub.astype(np.int64) * n + ctrl)
    parts = [seen]
    frontier = seen
    while frontier.size:
        x, a = np.divmod(frontier, n)
        idx, pos = expand(ptr, a)
        if idx.size == 0:
            break
        keys = x[idx] * n + up[pos]
        if dedupe:
            keys = unique(keys)
            keys = keys[~isin_sorted(keys, seen)]
            seen = merge_unique(seen, keys)
        parts.append(keys)
        frontier = keys
    return seen if dedupe else np.sort(np.concatenate(parts))


def _descendants(n: int, ptr: np.ndarray, child: np.ndarray, start: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, y) for y = start[i] and every entity below it along the links (CSR ``ptr``,
    ``child``), walking one level at a time; pairs already met are not walked again."""
    seen = unique(np.arange(start.size, dtype=np.int64) * n + start)
    frontier = seen
    while frontier.size:
        i, node = np.divmod(frontier, n)
        idx, pos = expand(ptr, node)
        keys = unique(i[idx] * n + child[pos])
        frontier = keys[~isin_sorted(keys, seen)]
        seen = merge_unique(seen, frontier)
    return np.divmod(seen, n)


def _add_links(n: int, keys: np.ndarray, ctrl: np.ndarray, sub: np.ndarray,
               e_ctrl: np.ndarray, e_sub: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The closed relation ``keys`` after the new links ``ctrl → sub`` (already among the links
    ``e_ctrl → e_sub``): every controller of ``ctrl``, and ``ctrl``, now controls ``sub`` and
    everything below it. Also the pairs that are new (sorted)."""
    ptr, order = csr(n, e_ctrl)
    subs, sub_pos = unique_inverse(sub)
    di, dy = _descendants(n, ptr, e_sub[order], subs)
    # the ancestors of each ctrl are the pairs (ctrl, a): keys in [ctrl * n, ctrl * n + n)
    lo = np.searchsorted(keys, ctrl * n)
    hi = np.searchsorted(keys, ctrl * n + n)
    link, pos = ranges(lo, hi)
    li = np.concatenate([np.arange(ctrl.size), link])
    anc = np.concatenate([ctrl, keys[pos] % n])
    # every ancestor of link i with every descendant of its sub
    d_ptr = np.zeros(subs.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(di, minlength=subs.size), out=d_ptr[1:])
    idx, pos = expand(d_ptr, sub_pos[li])
    new = unique(dy[pos] * n + anc[idx])
    new = new[~isin_sorted(new, keys)]
    return (merge_unique(keys, new) if new.size else keys), new


def _aggregated(n: int, keys: np.ndarray, pairs: np.ndarray, in_ptr: np.ndarray,
                in_order: np.ndarray, owner: np.ndarray, voting: np.ndarray,
                bound: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New aggregated-control links among the candidate keys ``pairs`` (``s * n + a``): the votes
    in s held by a and by everything a controls, where they pass the threshold."""
    s, a = np.divmod(unique(pairs), n)
    keep = (a != s) & ~isin_sorted(s * n + a, keys)
    s, a = s[keep], a[keep]
    idx, pos = expand(in_ptr, s)  # every holder h of s
    h = owner[in_order[pos]]
    ca = a[idx]
    counts = (h == ca) | isin_sorted(h * n + ca, keys)
    total = np.bincount(idx[counts], weights=voting[in_order[pos]][counts], minlength=s.size)
    exact = np.zeros(s.size, dtype=np.int64)
    np.add.at(exact, idx[counts], quantised(voting[in_order[pos]][counts]))
    hit = exact > int(np.floor(bound * 2.0**52))
    return a[hit], s[hit], total[hit]


def pair_control(cls: Any, n: int, owner: np.ndarray, owned: np.ndarray, voting: np.ndarray,
                 flag: np.ndarray, threshold: float, bound: float) -> Any:
    """The control relation as pairs (links sorted by (owned, owner); ``bound``: the threshold
    with its tolerance), returned as a ``cls`` (the :class:`~groupexposure.core.control.Control`)."""
    direct = flag | (voting > threshold)
    e_ctrl, e_sub = owner[direct], owned[direct]
    e_votes, e_agg = voting[direct], np.zeros(int(direct.sum()), dtype=bool)
    keys = _closure(n, e_ctrl, e_sub)
    holds = voting > 0
    h_owner, h_owned, h_votes = owner[holds], owned[holds], voting[holds]
    out_ptr, out_order = csr(n, h_owner)
    in_ptr, in_order = csr(n, h_owned)
    fresh = keys  # pairs whose controller gained a subsidiary: its holdings count anew
    repeated = _repeated(n, h_owner, h_owned)  # an owner's holdings in s given in several rows
    while fresh.size or repeated.size:
        below, above = np.divmod(fresh, n)
        below, above = below[below != above], above[below != above]
        idx, pos = expand(out_ptr, below)  # holdings of each newly controlled entity
        candidates = np.concatenate([h_owned[out_order[pos]] * n + above[idx], repeated])
        repeated = repeated[:0]
        na, ns, tot = _aggregated(n, keys, candidates, in_ptr, in_order, h_owner, h_votes, bound)
        if na.size == 0:
            break
        e_ctrl = np.concatenate([e_ctrl, na])
        e_sub = np.concatenate([e_sub, ns])
        e_votes = np.concatenate([e_votes, tot])
        e_agg = np.concatenate([e_agg, np.ones(na.size, dtype=bool)])
        keys, fresh = _add_links(n, keys, na, ns, e_ctrl, e_sub)
    return _read_off(cls, n, keys, e_ctrl, e_sub, e_votes, e_agg)


def _repeated(n: int, owner: np.ndarray, owned: np.ndarray) -> np.ndarray:
    """Keys ``s * n + a`` of the pairs held in two rows or more (a repeated ownership row, kept
    in collect mode): their sum may give control that no single row gives (SPEC §2, §7).

    >>> _repeated(3, np.array([0, 0, 1]), np.array([2, 2, 2])).tolist()
    [6]
    """
    keys = np.sort(owned * n + owner)
    return unique(keys[1:][keys[1:] == keys[:-1]])


def _first_per_run(sorted_values: np.ndarray) -> np.ndarray:
    """Positions where a run of equal values starts in a sorted array."""
    return np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]]) \
        if sorted_values.size else np.empty(0, dtype=np.int64)


def _read_off(cls: Any, n: int, keys: np.ndarray, e_ctrl: np.ndarray, e_sub: np.ndarray,
              e_votes: np.ndarray, e_agg: np.ndarray) -> Any:
    """Units (cycles), immediate controllers, ultimate parents and depths from the relation
    (``keys``: ``controlled * n + controller``, sorted)."""
    codes = np.arange(n)
    graph = coo_matrix((np.ones(e_ctrl.size), (e_ctrl, e_sub)), shape=(n, n)).tocsr()
    n_label, label = connected_components(graph, directed=True, connection="strong")
    if n_label == n:
        unit = codes
    else:  # each cycle's smallest member: the first of its label in code order
        by_label = np.argsort(label, kind="stable")
        first = by_label[_first_per_run(label[by_label])]
        root_of = np.empty(n_label, dtype=np.int64)
        root_of[label[first]] = first
        unit = root_of[label]
    sub, ctrl = np.divmod(keys, n)
    not_self = ctrl != sub
    if not not_self.all():
        ctrl, sub, keys = ctrl[not_self], sub[not_self], keys[not_self]

    # lowest external controllers of each unit: candidates are links into the unit from outside
    external = unit[e_ctrl] != unit[e_sub]
    cand = pd.DataFrame({"u": unit[e_sub[external]], "c": e_ctrl[external]})
    cand = cand.drop_duplicates().reset_index(drop=True)
    per_unit = cand["u"].value_counts()
    dominated = np.zeros(len(cand), dtype=bool)
    shared = cand[cand["u"].isin(per_unit.index[per_unit > 1])].reset_index()
    if len(shared):
        pairs = shared.merge(shared, on="u", suffixes=("", "_other"))
        c, other = pairs["c"].to_numpy(np.int64), pairs["c_other"].to_numpy(np.int64)
        controls_other = (unit[c] != unit[other]) & isin_sorted(other * n + c, keys)
        dominated[pairs.loc[controls_other, "index"].unique()] = True
    minimal = cand[~dominated]
    lowest_units = minimal.assign(cu=unit[minimal["c"].to_numpy()])
    n_units = lowest_units.groupby("u")["cu"].nunique()
    several = lowest_units[lowest_units["u"].isin(n_units.index[n_units > 1])]
    multiple = pd.DataFrame({"entity": several["u"].to_numpy(np.int64),
                             "controller": several["c"].to_numpy(np.int64)})
    immediate = np.full(n, NONE, dtype=np.int64)
    lowest = minimal.groupby("u")["c"].min()
    immediate[lowest.index.to_numpy(np.int64)] = lowest.to_numpy(np.int64)
    in_cycle = unit != codes
    immediate[in_cycle] = unit[in_cycle]

    # depth and the top of the immediate-controller chain, by pointer jumping
    depth = (immediate != NONE).astype(np.int64)
    top = np.where(immediate == NONE, codes, immediate)
    while True:
        nxt = top[top]
        moved = nxt != top
        if not moved.any():
            break
        depth = depth + np.where(moved, depth[top], 0)
        top = nxt
    is_root = immediate == NONE
    # ultimate parent: the smallest root that controls the entity (several only with flags)
    root_pairs = np.flatnonzero(is_root[ctrl])  # sorted by (sub, ctrl): the first is the least
    first = root_pairs[_first_per_run(sub[root_pairs])]
    ultimate = np.where(is_root, codes, top)
    ultimate[sub[first]] = np.minimum(ultimate[sub[first]], ctrl[first])
    return cls(
        n=n, pair_keys=keys,
        edge_controller=e_ctrl, edge_controlled=e_sub, edge_votes=e_votes, edge_aggregated=e_agg,
        unit=unit, immediate=immediate, ultimate=ultimate, depth=depth, multiple=multiple,
    )
