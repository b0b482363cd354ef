"""Who controls whom (SPEC §2), vectorised over integer entity codes, near-linear in the book.

An owner *directly controls* an entity through a ``control`` flag or voting rights strictly above the
threshold. *Aggregated control* adds the votes held by everything an owner already controls, to a
fixed point. Control is transitive, so (condensing each control cycle into one unit, its smallest
member first) the relation is a forest: everything that controls x is an ancestor of x's unit, and
C(x) is the subtree of x's unit. The forest is kept as parent pointers with a preorder
(:class:`~groupexposure.core.forest.Forest`), never as every (controller, controlled) pair: a chain
of holdings 50,000 deep costs 50,000 nodes, not 1.25 billion pairs.

Only data that gives an entity two controllers neither of which controls the other (SPEC §2.6,
``multiple_controllers``) makes the relation a true DAG; such a book is computed by the general
pair closure of :mod:`~groupexposure.core.control_pairs`, whose memory grows with the number of
pairs.

One holding is compared with the threshold as given (strictly above: no sum, nothing rounded). A
total of several holdings is the exact sum of the votes each rounded to a multiple of 2^-52,
compared as ``total > threshold * (1 + TOLERANCE)`` (the limits' tolerance,
:data:`groupexposure.core.limits.TOLERANCE`), so that 0.05 + 0.17 + 0.28 is exactly 50% in any
order, and never above it (docs/determinism.md).

Entities are integer codes ``0..n-1`` (the position of the id in the sorted id list, so that the
smallest code is the smallest id).

Examples
--------
The aggregated-control example of SPEC §2: P (0) holds 60% of T (2); P holds 30% and T 25% of S (1).

>>> import numpy as np
>>> c = compute_control(3, owner=np.array([0, 0, 2]), owned=np.array([2, 1, 1]),
...                     voting=np.array([0.6, 0.3, 0.25]), flag=np.zeros(3, bool), threshold=0.5)
>>> sorted(zip(c.controller.tolist(), c.controlled.tolist()))
[(0, 1), (0, 2)]
>>> c.immediate.tolist(), c.ultimate.tolist()
([-1, 0, 0], [0, 0, 0])
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .._arrays import isin_sorted, ranges, unique
from .control_pairs import NONE, pair_control, quantised
from .forest import Forest
from .limits import TOLERANCE

__all__ = ["NONE", "Control", "compute_control", "controlled_sets"]

RESOLVE_ROUNDS = 16
"""Rounds spent dropping control links implied by others (P → T → S and P → S) before a book
whose entities seem to have several lowest controllers goes to the general pair closure."""


@dataclass(frozen=True)
class Control:
    """The control relation and what is read off it.

    Attributes
    ----------
    edge_controller, edge_controlled, edge_votes, edge_aggregated
        The links that give control on their own: a ``control`` flag or votes above the threshold
        (``edge_aggregated`` False), or aggregated votes (True, ``edge_votes`` the total).
    unit
        For each entity, the root of its control cycle (its smallest member), else itself.
    immediate, ultimate, depth
        Immediate controller (-1 for none), ultimate parent, and number of immediate-controller
        steps up to the ultimate parent.
    multiple
        Pairs (entity, controller) for every entity with two or more controllers neither of which
        controls the other, listing each such lowest controller.
    forest
        The control forest over entity codes (a cycle's members under its smallest member, a unit
        under its controlling unit's root); None where some entity has several lowest controllers.
    pair_keys
        Only then: ``controlled * n + controller`` of every pair, sorted.
    """

    n: int
    edge_controller: np.ndarray
    edge_controlled: np.ndarray
    edge_votes: np.ndarray
    edge_aggregated: np.ndarray
    unit: np.ndarray
    immediate: np.ndarray
    ultimate: np.ndarray
    depth: np.ndarray
    multiple: pd.DataFrame
    forest: Forest | None = None
    pair_keys: np.ndarray | None = None

    def controls(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Element-wise: does ``a`` control ``b`` (directly or through others)?"""
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        if self.forest is None:
            assert self.pair_keys is not None
            return isin_sorted(b * self.n + a, self.pair_keys)
        return np.asarray((a != b) & self.forest.is_ancestor(self.unit[a], self.unit[b]))

    @property
    def tree_sizes(self) -> np.ndarray:
        """``|C(x)|`` for every entity: x and everything it controls."""
        if self.forest is None:
            return np.bincount(self.controller, minlength=self.n) + 1
        return np.asarray(self.forest.size[self.unit])

    def chain_sums(self, values: np.ndarray) -> np.ndarray:
        """``sum of values over C(x)`` for every x, in the order of docs/determinism.md."""
        values = np.asarray(values, np.float64)
        if self.forest is None:
            return np.asarray(values + np.bincount(self.controller,
                                                   weights=values[self.controlled],
                                                   minlength=self.n))
        return np.asarray(self.forest.subtree_sums(values)[self.unit])

    @cached_property
    def _pairs(self) -> tuple[np.ndarray, np.ndarray]:
        if self.forest is None:
            assert self.pair_keys is not None
            sub, ctrl = np.divmod(self.pair_keys, self.n)
            return ctrl, sub
        r, x = controlled_sets(self, np.arange(self.n))
        keep = r != x
        keys = unique(x[keep] * self.n + r[keep])
        sub, ctrl = np.divmod(keys, self.n)
        return ctrl, sub

    @property
    def controller(self) -> np.ndarray:
        """With :attr:`controlled`: every pair (a, s), a != s, where a controls s, sorted by
        (controlled, controller). Built on first use: as many pairs as the relation has (a deep
        chain has depth² / 2); the algorithms here never need them."""
        return self._pairs[0]

    @property
    def controlled(self) -> np.ndarray:
        """See :attr:`controller`."""
        return self._pairs[1]

    @property
    def keys(self) -> np.ndarray:
        """``controlled * n + controller`` for every pair, sorted (built on first use)."""
        return np.asarray(self.controlled * self.n + self.controller)

    @property
    def is_root(self) -> np.ndarray:
        """Entities with no controller outside their own cycle that are their cycle's root."""
        return np.asarray(self.ultimate == np.arange(self.n), dtype=bool)

    @property
    def cycles(self) -> list[np.ndarray]:
        """The members of every control cycle, each sorted, ordered by their root."""
        in_cycle = np.flatnonzero(np.bincount(self.unit, minlength=self.n)[self.unit] > 1)
        if in_cycle.size == 0:
            return []
        roots = self.unit[in_cycle]
        order = np.lexsort((in_cycle, roots))
        groups = np.split(in_cycle[order], np.flatnonzero(np.diff(roots[order])) + 1)
        return groups


def _units(n: int, e_ctrl: np.ndarray, e_sub: np.ndarray) -> np.ndarray:
    """Each entity's control cycle root (the smallest member), else itself."""
    graph = coo_matrix((np.ones(e_ctrl.size), (e_ctrl, e_sub)), shape=(n, n)).tocsr()
    n_label, label = connected_components(graph, directed=True, connection="strong")
    if n_label == n:
        return np.arange(n)
    by_label = np.argsort(label, kind="stable")
    lab = label[by_label]
    first = by_label[np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]])]
    root_of = np.empty(n_label, dtype=np.int64)
    root_of[label[first]] = first
    return np.asarray(root_of[label])


def _forest(n: int, unit: np.ndarray, e_ctrl: np.ndarray, e_sub: np.ndarray) -> Forest | None:
    """The control forest of units, or None where a unit keeps several lowest controllers."""
    codes = np.arange(n)
    parent = np.where(unit != codes, unit, NONE)
    ext = unit[e_ctrl] != unit[e_sub]
    keys = unique(unit[e_sub[ext]] * n + unit[e_ctrl[ext]])
    us, uc = np.divmod(keys, n)  # distinct (unit, controlling unit), sorted by unit
    count = np.bincount(us, minlength=n)
    one = count[us] == 1
    parent[us[one]] = uc[one]
    us, uc = us[~one], uc[~one]
    for _ in range(RESOLVE_ROUNDS):
        forest = Forest.build(parent)
        if us.size == 0:
            return forest
        # a candidate with another candidate in its subtree controls S only through it
        order = np.lexsort((forest.pre[uc], us))
        us, uc = us[order], uc[order]
        nxt_same = np.r_[us[1:] == us[:-1], False]
        nxt = np.r_[uc[1:], 0]
        dominated = nxt_same & forest.is_ancestor(uc, nxt)
        if not dominated.any():
            return None
        us, uc = us[~dominated], uc[~dominated]
        count = np.bincount(us, minlength=n)
        one = count[us] == 1
        parent[us[one]] = uc[one]
        us, uc = us[~one], uc[~one]
    return Forest.build(parent) if us.size == 0 else None


def _aggregate(n: int, unit: np.ndarray, forest: Forest, h_owner: np.ndarray,
               h_owned: np.ndarray, h_q: np.ndarray, bound_q: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """New aggregated control links (controller unit root, controlled entity): for each entity s
    held by two or more, the lowest unit c, not already above s, whose subtree holds votes in s
    above the threshold. Candidates are the holders' units and the lowest common ancestors of
    holders adjacent in preorder (the only places where a subtree's total can change)."""
    many = np.bincount(h_owned, minlength=n)[h_owned] >= 2
    o, s, q = h_owner[many], h_owned[many], h_q[many]
    if o.size == 0:
        return o, s
    hu = unit[o]
    hp = forest.pre[hu]
    order = np.lexsort((o, hp, s))
    o, s, q, hu, hp = o[order], s[order], q[order], hu[order], hp[order]
    same = s[1:] == s[:-1]
    lca = forest.lca(hu[:-1][same], hu[1:][same])
    cs = np.concatenate([s, s[:-1][same]])
    cc = np.concatenate([hu, lca])
    ok = cc >= 0
    cand = unique(cs[ok] * n + cc[ok])
    cs, cc = np.divmod(cand, n)
    fresh = ~forest.is_ancestor(cc, unit[cs])
    cs, cc = cs[fresh], cc[fresh]
    # the exact total of the votes in s held inside the subtree of c (modular int64 sums)
    key = s * (n + 1) + hp
    csum = np.r_[np.int64(0), np.cumsum(q)]
    lo = np.searchsorted(key, cs * (n + 1) + forest.pre[cc])
    hi = np.searchsorted(key, cs * (n + 1) + forest.pre[cc] + forest.size[cc])
    hit = (csum[hi] - csum[lo]) > bound_q
    cs, cc = cs[hit], cc[hit]
    # the lowest: no other qualifying candidate of the same s in its subtree
    order = np.lexsort((forest.pre[cc], cs))
    cs, cc = cs[order], cc[order]
    nxt_same = np.r_[cs[1:] == cs[:-1], False]
    has_lower = nxt_same & forest.is_ancestor(cc, np.r_[cc[1:], 0])
    return cc[~has_lower], cs[~has_lower]


def _later_round(n: int, tree: np.ndarray, new_a: np.ndarray, new_s: np.ndarray,
                 e_ctrl: np.ndarray, e_sub: np.ndarray, h_owner: np.ndarray,
                 h_owned: np.ndarray, h_q: np.ndarray, bound_q: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One more round of aggregated control, on the control trees the last round's links joined.

    Only there can a subtree's votes have changed: a link (c, s) moves the tree of s under c, so
    the totals of c and its ancestors grow, and nothing changes in the other trees (every control
    link runs inside one tree while the relation is a forest). The round is computed on those
    trees alone, with the entities their members hold as extra nodes (a target in another tree:
    if it is taken, that tree joins the next round, where two lowest controllers are seen). A
    single holding never gives aggregated control (it would be a direct link), so holdings
    from outside those trees can be left out. Returns the new links and the trees after them;
    an empty round, or one whose trees are no forest, ends the fixed point (the caller then
    reads the whole forest, or goes to the general closure)."""
    joined = np.zeros(n, dtype=bool)
    joined[tree[new_a]] = True
    joined[tree[new_s]] = True
    inside = joined[tree]
    held = inside[h_owner]
    nodes = inside.copy()
    nodes[h_owned[held]] = True
    local = np.cumsum(nodes) - 1  # increasing: the order of the codes is kept
    members = np.flatnonzero(nodes)
    edge = inside[e_ctrl] & inside[e_sub]
    k = members.size
    lc, ls = local[e_ctrl[edge]], local[e_sub[edge]]
    unit = _units(k, lc, ls)
    forest = _forest(k, unit, lc, ls)
    if forest is None:  # several lowest controllers: let the caller's whole pass find them
        return np.zeros(0, np.int64), np.zeros(0, np.int64), tree
    na, ns = _aggregate(k, unit, forest, local[h_owner[held]], local[h_owned[held]], h_q[held],
                        bound_q)
    na, ns = members[na], members[ns]
    # the trees after this round's links: each joined tree under its new top, and the trees
    # of the entities taken now
    tree = tree.copy()
    own = inside[members]  # the extra nodes keep the trees they are in
    tree[members[own]] = members[forest.top[unit]][own]
    if na.size:
        moved = np.zeros(n, dtype=bool)
        moved[tree[ns]] = True
        top_of = np.arange(n)
        top_of[tree[ns]] = tree[na]
        # a joined tree may itself have been moved under another this round: follow to the top
        while True:
            nxt = top_of[top_of]
            if (nxt == top_of).all():
                break
            top_of = nxt
        tree = top_of[tree]
    return na, ns, tree


def _votes(pairs_a: np.ndarray, pairs_s: np.ndarray, control: Control, owner: np.ndarray,
           owned: np.ndarray, voting: np.ndarray) -> np.ndarray:
    """The votes in s held by a and by everything a controls, summed left to right in holder
    code order (links sorted by (owned, owner)): the figure shown for an aggregated link."""
    if pairs_a.size == 0:
        return np.zeros(0)
    holds = voting > 0
    ho, hs, hv = owner[holds], owned[holds], voting[holds]
    ptr = np.searchsorted(hs, np.arange(control.n + 1))
    idx, pos = ranges(ptr[pairs_s], ptr[pairs_s + 1])
    counts = (ho[pos] == pairs_a[idx]) | control.controls(pairs_a[idx], ho[pos])
    return np.bincount(idx[counts], weights=hv[pos][counts], minlength=pairs_a.size)


def compute_control(
    n: int,
    *,
    owner: np.ndarray,
    owned: np.ndarray,
    voting: np.ndarray,
    flag: np.ndarray,
    threshold: float,
) -> Control:
    """The control relation of SPEC §2 for ``n`` entities and the given ownership links."""
    owner = np.asarray(owner, dtype=np.int64)
    owned = np.asarray(owned, dtype=np.int64)
    order = np.lexsort((owner, owned))  # canonical: nothing below depends on the row order
    owner, owned = owner[order], owned[order]
    voting = np.asarray(voting, dtype=np.float64)[order]
    flag = np.asarray(flag, dtype=bool)[order]
    bound = threshold * (1 + TOLERANCE)
    bound_q = int(np.floor(bound * 2.0**52))
    direct = flag | (voting > threshold)  # one holding as given: no sum, nothing to round
    e_ctrl, e_sub = owner[direct], owned[direct]
    e_votes, e_agg = voting[direct], np.zeros(int(direct.sum()), dtype=bool)
    holds = voting > 0
    h_owner, h_owned, h_q = owner[holds], owned[holds], quantised(voting[holds])
    unit = _units(n, e_ctrl, e_sub)
    forest = _forest(n, unit, e_ctrl, e_sub)
    new_a, new_s = (np.zeros(0, np.int64),) * 2
    if forest is not None:
        new_a, new_s = _aggregate(n, unit, forest, h_owner, h_owned, h_q, bound_q)
    tree = forest.top[unit] if forest is not None else np.zeros(0, np.int64)
    while forest is not None and new_a.size:
        e_ctrl = np.concatenate([e_ctrl, new_a])
        e_sub = np.concatenate([e_sub, new_s])
        e_votes = np.concatenate([e_votes, np.full(new_a.size, np.nan)])
        e_agg = np.concatenate([e_agg, np.ones(new_a.size, dtype=bool)])
        new_a, new_s, tree = _later_round(n, tree, new_a, new_s, e_ctrl, e_sub, h_owner,
                                          h_owned, h_q, bound_q)
    if forest is not None and e_agg.any():  # the whole forest once more, with every link
        unit = _units(n, e_ctrl, e_sub)
        forest = _forest(n, unit, e_ctrl, e_sub)
    if forest is None:
        general: Control = pair_control(Control, n, owner, owned, voting, flag, threshold, bound)
        return general
    control = _read_forest(n, unit, forest, e_ctrl, e_sub, e_votes, e_agg)
    if e_agg.any():
        e_votes[e_agg] = _votes(e_ctrl[e_agg], e_sub[e_agg], control, owner, owned, voting)
    return control


def _read_forest(n: int, unit: np.ndarray, forest: Forest, e_ctrl: np.ndarray,
                 e_sub: np.ndarray, e_votes: np.ndarray, e_agg: np.ndarray) -> Control:
    """Immediate controllers, ultimate parents and depths from the unit forest."""
    codes = np.arange(n)
    immediate = np.where(unit != codes, unit, NONE)
    is_unit_root = unit == codes
    up = np.where(is_unit_root, forest.parent, NONE)  # the controlling unit of each unit root
    # a unit's immediate controller: the smallest member of its controlling unit with a link in
    into = unit[e_sub]
    from_parent = (unit[e_ctrl] == up[into]) & (up[into] != NONE)
    best = pd.Series(e_ctrl[from_parent]).groupby(into[from_parent]).min()
    immediate[best.index.to_numpy(np.int64)] = best.to_numpy(np.int64)
    chain = Forest.build(immediate)
    return Control(
        n=n, edge_controller=e_ctrl, edge_controlled=e_sub, edge_votes=e_votes,
        edge_aggregated=e_agg, unit=unit, immediate=immediate, ultimate=chain.top,
        depth=chain.depth, multiple=pd.DataFrame({"entity": np.zeros(0, np.int64),
                                                  "controller": np.zeros(0, np.int64)}),
        forest=forest,
    )


def controlled_sets(control: Control, roots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (r, x) for x in C(r) = r and everything r controls, for each r in ``roots``,
    sorted by (r, x). As many pairs as the sets have members (the output, no more).

    >>> import numpy as np
    >>> c = compute_control(3, owner=np.array([0, 1]), owned=np.array([1, 2]),
    ...                     voting=np.array([0.6, 0.7]), flag=np.zeros(2, bool), threshold=0.5)
    >>> r, x = controlled_sets(c, np.array([0, 1]))
    >>> list(zip(r.tolist(), x.tolist()))
    [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2)]
    """
    roots = np.asarray(roots, dtype=np.int64)
    n = control.n
    if control.forest is None:
        is_sel = np.zeros(n, dtype=bool)
        is_sel[roots] = True
        pick = is_sel[control.controller]
        r = np.concatenate([roots, control.controller[pick]])
        x = np.concatenate([roots, control.controlled[pick]])
    else:
        f = control.forest
        u = control.unit[roots]
        idx, pos = ranges(f.pre[u], f.pre[u] + f.size[u])
        r, x = roots[idx], f.order[pos]
    keys = unique(r * n + x)
    r, x = np.divmod(keys, n)
    return r, x
