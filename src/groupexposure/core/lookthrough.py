"""Integrated ownership and look-through exposure (SPEC §4).

``I(x, s)`` is the sum over every chain of holdings from x to s that does not pass through x again
of the product of the shares along it. With ``A[o, s] = share(o, s)`` and ``G = (I - A)^-1``, the
chains that return to x factor out: ``I(x, s) = G[x, s] / G[x, x]`` (decompose every walk at its last
visit to x). ``G[x, x]`` is 1 outside ownership cycles and depends only on x's strongly connected
component, so it is found by inverting the small block of each cycle; the rest is one sparse solve.
A parent owning 100% of a subsidiary that owns 10% of it back thus has exactly 100% of it, never 111%.

Examples
--------
The worked example of the consolidation literature (P's interests in C2, C4, C5):

>>> import pandas as pd
>>> links = pd.DataFrame({
...     "owner_id": ["P", "P", "P", "C3", "P", "C1", "C4", "C2"],
...     "owned_id": ["C1", "C2", "C3", "C2", "C4", "C4", "C5", "C5"],
...     "share": [0.75, 0.80, 0.30, 0.07, 0.35, 0.25, 0.25, 0.35]})
>>> io = integrated_ownership(links, "P")
>>> [round(float(io[c]), 6) for c in ("C2", "C4", "C5")]
[0.821, 0.5375, 0.421725]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix, identity
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import spsolve

__all__ = ["integrated_ownership", "integrated_pairs", "lookthrough_values", "return_factors"]

MAX_ITERATIONS = 64
"""Rounds of block back-substitution before one sparse LU solve takes over (a chain of holdings
deeper than this: the LU of a forest is as sparse as the forest)."""
TOLERANCE = 1e-13
DENSE_CYCLE = 512
"""Cycles up to this size are inverted densely; a larger one is solved sparsely: a simple ring
(each member held by one other member) in closed form, any other through a sparse LU."""


def _matrix(n: int, owner: np.ndarray, owned: np.ndarray, share: np.ndarray) -> csr_matrix:
    """``A[o, s] = share``, built from the links sorted by (owner, owned), so that every product
    and sum below runs in one order whatever the order of the input rows."""
    owner, owned = np.asarray(owner, np.int64), np.asarray(owned, np.int64)
    order = np.lexsort((owned, owner))
    a = csr_matrix((np.asarray(share, np.float64)[order], (owner[order], owned[order])),
                   shape=(n, n))
    a.sum_duplicates()
    a.sort_indices()
    return a


@dataclass(frozen=True)
class _Cycles:
    """The ownership cycles of ``A``: ``p`` holds ``(I - A_CC)^-1`` for each strongly connected set
    C, over the entities ``members`` of all of them; ``off`` is ``A`` without the links inside
    cycles; ``g`` is ``G[x, x]``."""

    members: np.ndarray
    p: csr_matrix
    off: csr_matrix
    g: np.ndarray
    direct: bool = False
    """A cycle too large for a dense inverse: solve the whole system by sparse LU."""

    def apply(self, r: np.ndarray) -> np.ndarray:
        """``P r``: the identity outside cycles, each cycle's block inverse inside (in place)."""
        if self.members.size:
            r[self.members] = self.p @ r[self.members]
        return r


def _cycles(a: csr_matrix) -> _Cycles:
    n = a.shape[0]
    n_comp, label = connected_components(a, directed=True, connection="strong")
    size = np.bincount(label, minlength=n_comp)
    coo = a.tocoo()
    inside = (label[coo.row] == label[coo.col]) & (size[label[coo.row]] > 1)
    members = np.flatnonzero(size[label] > 1)
    g = np.ones(n)
    if members.size == 0:
        return _Cycles(members, csr_matrix((0, 0)), a, g)
    members = members[np.argsort(label[members], kind="stable")]
    starts = np.flatnonzero(np.r_[True, np.diff(label[members]) != 0])
    ends = np.r_[starts[1:], members.size]
    local = np.zeros(n, dtype=np.int64)
    local[members] = np.arange(members.size) - np.repeat(starts, ends - starts)
    er, ec, ev = coo.row[inside], coo.col[inside], coo.data[inside]
    order = np.argsort(label[er], kind="stable")
    er, ec, ev = er[order], ec[order], ev[order]
    comps = label[members[starts]]
    e_lo = np.searchsorted(label[er], comps)
    e_hi = np.searchsorted(label[er], comps, side="right")
    rows, cols, vals = [], [], []
    direct = False
    sizes = ends - starts
    for k in np.unique(sizes):  # every cycle of one size inverted in one batched call
        pick = np.flatnonzero(sizes == k)
        if k > DENSE_CYCLE:
            direct = True
            for c in pick:
                lo, hi = e_lo[c], e_hi[c]
                g[members[starts[c]:ends[c]]] = _large_cycle_returns(
                    int(k), local[er[lo:hi]], local[ec[lo:hi]], ev[lo:hi])
            continue
        blocks = members[starts[pick][:, None] + np.arange(k)]  # (cycles, k) entity codes
        m = np.broadcast_to(np.eye(k), (pick.size, k, k)).copy()
        count = e_hi[pick] - e_lo[pick]
        which = np.repeat(np.arange(pick.size), count)
        at = np.repeat(e_lo[pick] - np.cumsum(np.r_[0, count[:-1]]), count) + np.arange(
            count.sum())
        np.subtract.at(m, (which, local[er[at]], local[ec[at]]), ev[at])
        inv = np.linalg.inv(m)
        g[blocks] = np.diagonal(inv, axis1=1, axis2=2)
        rows.append(np.repeat(blocks, k, axis=1).ravel())
        cols.append(np.tile(blocks, (1, k)).ravel())
        vals.append(inv.reshape(pick.size, k * k).ravel())
    if direct:
        return _Cycles(members, csr_matrix((0, 0)), a, g, direct=True)
    at = np.zeros(n, dtype=np.int64)  # position of each cycle member in ``members``
    at[members] = np.arange(members.size)
    p = csr_matrix((np.concatenate(vals), (at[np.concatenate(rows)], at[np.concatenate(cols)])),
                   shape=(members.size, members.size))
    off = csr_matrix((coo.data[~inside], (coo.row[~inside], coo.col[~inside])), shape=(n, n))
    return _Cycles(members, p, off, g)


def _large_cycle_returns(k: int, row: np.ndarray, col: np.ndarray, val: np.ndarray
                         ) -> np.ndarray:
    """``G[x, x]`` over one large strongly connected set of k members (local codes).

    A simple ring (every member holds one member and is held by one) returns to x with the
    product of its shares, whatever x: ``1 / (1 - prod)``, the product taken in owner order. Any
    other shape: the diagonal of ``(I - B)^-1`` by a sparse LU and one solve per member (time
    k x the LU's size; a tangled cycle of 100,000 members is slow, and says so in the docs)."""
    if np.bincount(row, minlength=k).max() == 1 and np.bincount(col, minlength=k).max() == 1:
        prod = float(np.prod(val[np.argsort(row, kind="stable")]))
        return np.full(k, 1.0 / (1.0 - prod))
    from scipy.sparse.linalg import splu

    lu = splu((identity(k, format="csc") - csr_matrix((val, (row, col)), shape=(k, k))).tocsc())
    out = np.empty(k)
    for x in range(k):
        e = np.zeros(k)
        e[x] = 1.0
        out[x] = lu.solve(e)[x]
    return out


def return_factors(a: csr_matrix) -> np.ndarray:
    """``G[x, x]`` for every x: 1 outside cycles, the diagonal of ``(I - A_CC)^-1`` inside each
    strongly connected set C (a walk from x back to x never leaves x's set)."""
    return _cycles(a).g


def _solve(a: csr_matrix, b: np.ndarray, cycles: _Cycles | None = None) -> np.ndarray:
    """``(I - a)^-1 b``, exactly, by block back-substitution: ``y = P (b + A_off y)``, where P
    solves each cycle's block. It settles after as many rounds as the longest chain of holdings
    between cycles (or entities), whatever the cycles' shares."""
    cyc = cycles or _cycles(a)
    b = np.asarray(b, np.float64)
    if cyc.direct:
        return np.asarray(spsolve((identity(a.shape[0], format="csc") - a).tocsc(), b))
    y = cyc.apply(b.copy())
    scale = max(1.0, float(np.abs(b).max(initial=0.0)))
    for _ in range(MAX_ITERATIONS):
        nxt = cyc.apply(b + cyc.off @ y)
        if np.abs(nxt - y).max(initial=0.0) <= TOLERANCE * scale:
            return np.asarray(nxt)
        y = nxt
    return np.asarray(spsolve((identity(a.shape[0], format="csc") - a).tocsc(), b))


def lookthrough_values(n: int, owner: np.ndarray, owned: np.ndarray, share: np.ndarray,
                       own: np.ndarray) -> np.ndarray:
    """``own(x) + sum_s I(x, s) * own(s)`` for every entity code x."""
    a = _matrix(n, owner, owned, share)
    cycles = _cycles(a)
    return np.asarray(_solve(a, np.asarray(own, np.float64), cycles) / cycles.g)


def integrated_ownership(ownership: pd.DataFrame, owner_id: str) -> pd.Series:
    """``I(owner_id, s)`` for every s it holds through any chain, by entity id (SPEC §4).

    ``ownership`` has the columns ``owner_id, owned_id, share``. Entities not reached are left out;
    a link of unknown share (blank, from an external file) counts 0.
    """
    ids = pd.Index(pd.unique(pd.concat([ownership["owner_id"], ownership["owned_id"],
                                        pd.Series([owner_id])]).astype(str))).sort_values()
    n = len(ids)
    o = ids.get_indexer(ownership["owner_id"].astype(str))
    s = ids.get_indexer(ownership["owned_id"].astype(str))
    a = _matrix(n, o, s, np.nan_to_num(ownership["share"].to_numpy(np.float64), nan=0.0))
    x = ids.get_loc(owner_id)
    # row x of G: z = e_x + A^T z
    e = np.zeros(n)
    e[x] = 1.0
    at = a.T.tocsr()
    cycles = _cycles(at)
    row = _solve(at, e, cycles) / cycles.g[x]
    row[x] = 0.0
    out = pd.Series(row, index=ids)
    return out[out > 0]


def integrated_pairs(n: int, owner: np.ndarray, owned: np.ndarray, share: np.ndarray,
                     holders: np.ndarray, subjects: np.ndarray) -> np.ndarray:
    """``I(holders[i], subjects[i])`` for each pair: one solve (row x of G) per distinct holder."""
    at = _matrix(n, owner, owned, share).T.tocsr()
    cycles = _cycles(at)
    subjects = np.asarray(subjects, np.int64)
    out = np.zeros(len(holders))
    distinct, where = np.unique(np.asarray(holders, np.int64), return_inverse=True)
    for k, x in enumerate(distinct):
        e = np.zeros(n)
        e[x] = 1.0
        pick = where == k
        out[pick] = _solve(at, e, cycles)[subjects[pick]] / cycles.g[x]
    return out
