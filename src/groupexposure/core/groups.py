"""Groups of connected clients (SPEC §3), as arrays of (group, member) pairs.

``overlapping`` (the default, Basel LEX / EBA): every root r starts from C(r); a connection whose
``depends_on_id`` is in the group (either end, if ``mutual``) brings in C(dependent_id), until nothing
changes. Groups with exactly the same members are one group, whose id is the smallest of their roots.

``partition``: connected components of the undirected graph of immediate-controller links, control
cycles and all connections; the group id is the smallest root in it.

Examples
--------
A client (2) dependent on two unrelated roots (0 and 1) is in both their groups:

>>> import numpy as np
>>> from groupexposure.core.control import compute_control
>>> c = compute_control(3, owner=np.array([], int), owned=np.array([], int),
...                     voting=np.array([]), flag=np.array([], bool), threshold=0.5)
>>> conns = Connections(dependent=np.array([2, 2]), depends_on=np.array([0, 1]),
...                     kind=np.array(["economic_dependence"] * 2), mutual=np.zeros(2, bool))
>>> g = overlapping_groups(c, conns)
>>> list(zip(g.group.tolist(), g.member.tolist(), g.by_control.tolist()))
[(0, 0, True), (0, 2, False), (1, 1, True), (1, 2, False), (2, 2, True)]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .._arrays import csr, expand, isin, isin_sorted, merge_unique, unique
from .control import NONE, Control, controlled_sets

__all__ = ["Connections", "Groups", "overlapping_groups", "partition_groups"]


@dataclass(frozen=True)
class Connections:
    """Connections as entity codes: ``dependent`` would likely fail if ``depends_on`` failed."""

    dependent: np.ndarray
    depends_on: np.ndarray
    kind: np.ndarray
    mutual: np.ndarray

    def directed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dependent, depends_on, kind) with each mutual connection also the other way round."""
        m = self.mutual.astype(bool)
        dep = np.concatenate([self.dependent, self.depends_on[m]]).astype(np.int64)
        on = np.concatenate([self.depends_on, self.dependent[m]]).astype(np.int64)
        kind = np.concatenate([self.kind, self.kind[m]]).astype(object)
        return dep, on, kind


@dataclass(frozen=True)
class Groups:
    """Memberships sorted by (group, member).

    ``by_control`` tells whether the member is in C(root) of its group; otherwise ``via_dependent``,
    ``via_depends_on`` and ``via_kind`` name the connection that brought it in. ``merged`` maps a
    group id to the other roots whose identical groups were merged into it.
    """

    n: int
    group: np.ndarray
    member: np.ndarray
    by_control: np.ndarray
    via_dependent: np.ndarray
    via_depends_on: np.ndarray
    via_kind: np.ndarray
    merged: dict[int, list[int]]

    @property
    def ids(self) -> np.ndarray:
        """The group ids (root codes), sorted."""
        return unique(self.group)


def overlapping_groups(control: Control, connections: Connections) -> Groups:
    """The overlapping groups of SPEC §3."""
    n = control.n
    roots = np.flatnonzero(control.is_root)
    g, m = controlled_sets(control, roots)
    members = g * n + m
    via_d = np.full(members.size, NONE, np.int64)
    via_x = np.full(members.size, NONE, np.int64)
    via_k = np.full(members.size, "", dtype=object)
    dep, on, kind = connections.directed()
    c_ptr, c_order = csr(n, on)
    down_ptr, down_order = csr(n, control.controller)
    down = control.controlled[down_order]
    frontier = members
    parts = [(members, via_d, via_x, via_k)]
    while frontier.size and dep.size:
        fg, fm = np.divmod(frontier, n)
        i, j = expand(c_ptr, fm)
        conn = c_order[j]
        cg, cd, cx, ck = fg[i], dep[conn], on[conn], kind[conn]
        # C(dependent): the dependent itself and everything it controls
        i2, j2 = expand(down_ptr, cd)
        eg = np.concatenate([cg, cg[i2]])
        ey = np.concatenate([cd, down[j2]])
        ed = np.concatenate([cd, cd[i2]])
        ex = np.concatenate([cx, cx[i2]])
        ek = np.concatenate([ck, ck[i2]])
        keys = eg * n + ey
        fresh = ~isin_sorted(keys, members)
        if not fresh.any():
            break
        # one connection per new member: the smallest (dependent, depends_on, kind)
        kcode = pd.factorize(ek[fresh], sort=True)[0]
        order = np.lexsort((kcode, ex[fresh], ed[fresh], keys[fresh]))
        k_sorted = keys[fresh][order]
        first = np.ones(k_sorted.size, dtype=bool)
        first[1:] = k_sorted[1:] != k_sorted[:-1]
        pick = np.flatnonzero(fresh)[order[first]]
        new = keys[pick]
        parts.append((new, ed[pick], ex[pick], ek[pick]))
        members = merge_unique(members, new)
        frontier = new
    key = np.concatenate([p[0] for p in parts])
    order = np.argsort(key)
    key = key[order]
    group, member = np.divmod(key, n)
    groups = Groups(
        n=n, group=group, member=member,
        by_control=np.concatenate([p[1] for p in parts])[order] == NONE,
        via_dependent=np.concatenate([p[1] for p in parts])[order],
        via_depends_on=np.concatenate([p[2] for p in parts])[order],
        via_kind=np.concatenate([p[3] for p in parts])[order],
        merged={},
    )
    return _merge_identical(groups)


def _merge_identical(groups: Groups) -> Groups:
    """One group for each set of roots whose groups have exactly the same members."""
    n = groups.n
    rng = np.random.default_rng(20120630)
    w1 = rng.integers(0, 2**63, n, dtype=np.uint64)
    w2 = rng.integers(0, 2**63, n, dtype=np.uint64)
    frame = pd.DataFrame({"g": groups.group, "h1": w1[groups.member], "h2": w2[groups.member]})
    sig = frame.groupby("g").agg(h1=("h1", "sum"), h2=("h2", "sum"), size=("h1", "size"))
    rep = sig.reset_index().groupby(["h1", "h2", "size"])["g"].transform("min")
    rep = pd.Series(rep.to_numpy(), index=sig.index)
    candidates = rep[rep.index != rep.to_numpy()]
    if candidates.empty:
        return groups
    # verify exactly: every member of a candidate group is a member of its representative
    keys = groups.group * n + groups.member
    in_cand = isin(groups.group, candidates.index.to_numpy())
    mapped = rep.reindex(groups.group[in_cand]).to_numpy(np.int64) * n + groups.member[in_cand]
    ok = pd.Series(isin_sorted(mapped, keys)).groupby(groups.group[in_cand]).all()
    merge = candidates[ok.reindex(candidates.index).to_numpy(dtype=bool)]
    drop = isin(groups.group, merge.index.to_numpy())
    merged: dict[int, list[int]] = {}
    for root, into in zip(merge.index.tolist(), merge.tolist(), strict=True):
        merged.setdefault(int(into), []).append(int(root))
    keep = ~drop
    return Groups(n=n, group=groups.group[keep], member=groups.member[keep],
                  by_control=groups.by_control[keep], via_dependent=groups.via_dependent[keep],
                  via_depends_on=groups.via_depends_on[keep], via_kind=groups.via_kind[keep],
                  merged=merged)


def partition_groups(control: Control, connections: Connections) -> Groups:
    """The partition groups of SPEC §3: one group per client."""
    n = control.n
    codes = np.arange(n)
    has_imm = control.immediate != NONE
    # an entity with several lowest controllers belongs to each of their trees (SPEC §2.6)
    extra_a = control.multiple["entity"].to_numpy(np.int64)
    extra_b = control.multiple["controller"].to_numpy(np.int64)
    a = np.concatenate([codes[has_imm], codes, extra_a, connections.dependent.astype(np.int64)])
    b = np.concatenate([control.immediate[has_imm], control.unit, extra_b,
                        connections.depends_on.astype(np.int64)])
    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    root_codes = np.where(control.is_root, codes, n)
    gid = pd.Series(root_codes).groupby(label).transform("min").to_numpy()
    gid = np.where(gid == n, pd.Series(codes).groupby(label).transform("min").to_numpy(), gid)
    group = gid.astype(np.int64)
    # basis: control where the member is in C(group root); otherwise name a connection touching
    # the member's own control tree
    root_of = control.ultimate
    by_control = root_of == group
    by_control |= control.controls(group, codes) | (group == codes)
    via_d = np.full(n, NONE, np.int64)
    via_x = np.full(n, NONE, np.int64)
    via_k = np.full(n, "", dtype=object)
    need = ~by_control
    if need.any() and connections.dependent.size:
        dep, on, kind = connections.directed()
        tree = pd.DataFrame({"tree": np.concatenate([root_of[dep], root_of[on]]),
                             "d": np.concatenate([dep, dep]), "x": np.concatenate([on, on]),
                             "k": np.concatenate([kind, kind])})
        tree = tree.sort_values(["tree", "d", "x", "k"]).drop_duplicates("tree").set_index("tree")
        hit = need & isin(root_of, tree.index.to_numpy())
        rows = tree.loc[root_of[hit]]
        via_d[hit] = rows["d"].to_numpy(np.int64)
        via_x[hit] = rows["x"].to_numpy(np.int64)
        via_k[hit] = rows["k"].to_numpy(object)
    order = np.lexsort((codes, group))
    return Groups(n=n, group=group[order], member=codes[order], by_control=by_control[order],
                  via_dependent=via_d[order], via_depends_on=via_x[order], via_kind=via_k[order],
                  merged={})
