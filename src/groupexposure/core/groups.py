"""Groups of connected clients (SPEC §3), as arrays of (group, member) pairs.

``overlapping`` (the default, Basel LEX / EBA): every root r starts from C(r); a connection whose
``depends_on_id`` is in the group (either end, if ``mutual``) brings in C(dependent_id), until nothing
changes. Groups with exactly the same members are one group, whose id is the smallest of their roots.

``partition``: connected components of the undirected graph of immediate-controller links, control
cycles and all connections; the group id is the root in it with the largest control tree (most
members of C(r); ties: the smallest id), the component's main controller (SPEC §3 revised).

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


def _reach_edges(control: Control, connections: Connections) -> tuple[np.ndarray, np.ndarray]:
    """The graph whose reach from a root is its group: control links (controller → controlled)
    and connections (depends_on → dependent, both ways if mutual)."""
    dep, on, _ = connections.directed()
    return (np.concatenate([control.edge_controller, on]).astype(np.int64),
            np.concatenate([control.edge_controlled, dep]).astype(np.int64))


def _components(n: int, a: np.ndarray, b: np.ndarray) -> tuple[int, np.ndarray]:
    """Strongly connected components of the reach graph: roots in one component have the same
    group (each reaches the others), and a component is reached whole."""
    graph = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
    n_label, label = connected_components(graph, directed=True, connection="strong")
    return int(n_label), np.asarray(label, dtype=np.int64)


def _sets_of(control: Control, tops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(i, x) for every x in C(tops[i]) (``tops`` may repeat)."""
    u, inv = np.unique(tops, return_inverse=True)
    rr, xx = controlled_sets(control, u)
    at = np.searchsorted(u, rr)
    order = np.argsort(inv, kind="stable")
    ptr = np.r_[0, np.cumsum(np.bincount(inv, minlength=u.size))]
    k, j = expand(ptr, at)
    return order[j], xx[k]


def _reach(control: Control, edges: tuple[np.ndarray, np.ndarray], label: np.ndarray,
           n_label: int, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group, member) for every member of the group of each root in ``start``.

    The group grows by components of the reach graph: first those of C(root); then, a round at a
    time, every link leaving the newly reached components whose end is not yet reached brings in
    C(end) whole (a subtree of the control forest), so that a chain of holdings costs one round,
    not one per level, and a web of mutual connections one component, not one per client. Each
    (group, component) pair is reached once; the output is every membership."""
    n = control.n
    by_label = np.argsort(label, kind="stable")
    l_ptr = np.searchsorted(label[by_label], np.arange(n_label + 1))
    src, dst = edges
    e_ptr, e_order = csr(n, src)
    g, x = controlled_sets(control, start)
    reached = unique(g * n_label + label[x])
    frontier = reached
    while frontier.size and src.size:
        fg, fl = np.divmod(frontier, n_label)
        i, j = expand(l_ptr, fl)  # every member of the newly reached components
        i2, j2 = expand(e_ptr, by_label[j])  # and the links leaving them
        targets = unique(fg[i][i2] * n + dst[e_order[j2]])
        tg, td = np.divmod(targets, n)
        fresh = ~isin_sorted(tg * n_label + label[td], reached)
        tg, td = tg[fresh], td[fresh]
        if tg.size == 0:
            break
        at, members = _sets_of(control, td)
        new = unique(tg[at] * n_label + label[members])
        new = new[~isin_sorted(new, reached)]
        reached = merge_unique(reached, new)
        frontier = new
    gl, ll = np.divmod(reached, n_label)
    i, j = expand(l_ptr, ll)
    keys = unique(gl[i] * n + by_label[j])
    return np.divmod(keys, n)


def overlapping_groups(control: Control, connections: Connections) -> Groups:
    """The overlapping groups of SPEC §3: one per component of roots (identical groups)."""
    n = control.n
    edges = _reach_edges(control, connections)
    n_label, label = _components(n, *edges)
    roots = np.flatnonzero(control.is_root)
    by = roots[np.lexsort((roots, label[roots]))]
    first = np.r_[True, label[by][1:] != label[by][:-1]] if by.size else np.zeros(0, bool)
    rep = by[np.flatnonzero(first)[np.cumsum(first) - 1]]  # each root's group id
    merged: dict[int, list[int]] = {}
    for root, into in zip(by[by != rep].tolist(), rep[by != rep].tolist(), strict=True):
        merged.setdefault(int(into), []).append(int(root))
    group, member = _reach(control, edges, label, n_label, by[first])
    by_control = (member == group) | control.controls(group, member)
    via_d, via_x, via_k = _explain(control, connections, group, member, by_control)
    return Groups(n=n, group=group, member=member, by_control=by_control, via_dependent=via_d,
                  via_depends_on=via_x, via_kind=via_k, merged=merged)


def _explain(control: Control, connections: Connections, group: np.ndarray, member: np.ndarray,
             by_control: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every membership by dependence, the connection that brought it in: for the top t of
    the member's chain of immediate controllers inside the group, the smallest (dependent,
    depends_on, kind) with the dependent in t's control cycle and depends_on in the group."""
    n = control.n
    size = group.size
    via_d = np.full(size, NONE, np.int64)
    via_x = np.full(size, NONE, np.int64)
    via_k = np.full(size, "", dtype=object)
    need = np.flatnonzero(~by_control)
    if need.size == 0:
        return via_d, via_x, via_k
    keys = group * n + member  # sorted
    imm = control.immediate[member[need]]
    up_key = group[need] * n + np.maximum(imm, 0)
    has_up = (imm != NONE) & isin_sorted(up_key, keys)
    up = np.arange(size)
    up[need[has_up]] = np.searchsorted(keys, up_key[has_up])
    while True:  # the top of each chain inside the group, by pointer jumping
        nxt = up[up]
        if (nxt == up).all():
            break
        up = nxt
    top_keys = keys[up[need]]
    tops = unique(top_keys)
    tg, tt = np.divmod(tops, n)
    dep, on, kind = connections.directed()
    u_ptr, u_order = csr(n, control.unit[dep])
    i, j = expand(u_ptr, control.unit[tt])
    conn = u_order[j]
    inside = isin_sorted(tg[i] * n + on[conn], keys)
    i, conn = i[inside], conn[inside]
    kcode = pd.factorize(kind[conn], sort=True)[0] if conn.size else np.zeros(0, np.int64)
    order = np.lexsort((kcode, on[conn], dep[conn], i))
    i, conn = i[order], conn[order]
    first = np.r_[True, i[1:] != i[:-1]] if i.size else np.zeros(0, bool)
    pick = np.full(tops.size, -1, np.int64)
    pick[i[first]] = conn[first]
    chosen = pick[np.searchsorted(tops, top_keys)]
    ok = chosen >= 0
    via_d[need[ok]] = dep[chosen[ok]]
    via_x[need[ok]] = on[chosen[ok]]
    via_k[need[ok]] = kind[chosen[ok]]
    return via_d, via_x, via_k


def _main_roots(control: Control, label: np.ndarray) -> np.ndarray:
    """For each entity, the group id of its component: the root with the largest control tree
    (most members of C(r)), ties the smallest id; a component without a root (not reached:
    every component holds the ultimate parent of its members) its smallest entity."""
    n = control.n
    codes = np.arange(n)
    roots = np.flatnonzero(control.is_root)
    order = np.lexsort((roots, -control.tree_sizes[roots], label[roots]))
    best = roots[order]
    first = np.r_[True, label[best][1:] != label[best][:-1]] if best.size else np.zeros(0, bool)
    main = np.full(int(label.max(initial=-1)) + 1, n, dtype=np.int64)
    main[label[best[first]]] = best[first]
    gid = main[label]
    fallback = pd.Series(codes).groupby(label).transform("min").to_numpy(np.int64)
    return np.asarray(np.where(gid == n, fallback, gid), dtype=np.int64)


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
    group = _main_roots(control, label)
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
