"""A forest given by parent pointers: preorder, subtree sizes, depths, ancestry, LCAs and sums.

Every question about the control forest (SPEC §2: who controls whom, C(x), the chain sums) is
answered from these arrays in time near-linear in the number of nodes, whatever the depth: the
preorder comes from one depth-first traversal (scipy, in C, over the left-child right-sibling form,
so that a node with a million children costs no more than a chain), the subtree sizes from a second
one with the children in reverse order (its reverse is a postorder), depths by pointer jumping. Only
:meth:`Forest.subtree_sums` walks level by level (one small numpy step per level), because it
adds in a fixed order that another engine must be able to repeat (docs/determinism.md).

>>> import numpy as np
>>> f = Forest.build(np.array([-1, 0, 0, 1, -1]))   # 0 → 1 → 3, 0 → 2; 4 alone
>>> f.pre.tolist(), f.size.tolist(), f.depth.tolist()
([0, 1, 3, 2, 4], [4, 2, 1, 1, 1], [0, 1, 1, 2, 0])
>>> f.is_ancestor(np.array([0, 1, 2]), np.array([3, 3, 3])).tolist()
[True, True, False]
>>> f.lca(np.array([3, 3, 4]), np.array([2, 1, 0])).tolist()
[0, 1, -1]
>>> f.subtree_sums(np.array([1.0, 2.0, 3.0, 4.0, 5.0])).tolist()
[10.0, 6.0, 3.0, 4.0, 5.0]
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import depth_first_order

__all__ = ["Forest"]


def _preorder(parent: np.ndarray, depth: np.ndarray, reverse: bool) -> np.ndarray:
    """Nodes in depth-first preorder from a virtual super-root over every root, children in
    increasing (or, ``reverse``, decreasing) order.

    scipy's depth-first search scans a node's neighbours from the first each time it comes back
    to it, which is quadratic in the number of children: a book of a million unrelated
    counterparties is a super-root with a million children. So the search runs on the
    left-child right-sibling form of the forest (each node points to its first child and to its
    next sibling: at most two edges), whose preorder is the forest's. Nodes are relabelled
    deepest first so that the first child (one level down) comes before the next sibling (the
    same level) in the search.
    """
    m = parent.size
    up = np.where(parent < 0, m, parent)  # m: the super-root
    sibling_key = -np.arange(m) if reverse else np.arange(m)
    by_parent = np.lexsort((sibling_key, up))  # children grouped by parent, in sibling order
    p = up[by_parent]
    first = np.r_[True, p[1:] != p[:-1]] if m else np.zeros(0, bool)
    same = ~first[1:]
    src = np.concatenate([p[first], by_parent[:-1][same]])
    dst = np.concatenate([by_parent[first], by_parent[1:][same]])
    label = np.empty(m + 1, dtype=np.int64)  # deepest first; the super-root (depth -1) last
    label[np.argsort(-np.r_[depth, -1], kind="stable")] = np.arange(m + 1)
    graph = csr_matrix((np.ones(src.size, dtype=np.int8), (label[src], label[dst])),
                       shape=(m + 1, m + 1))
    graph.sort_indices()
    found = depth_first_order(graph, label[m], directed=True, return_predecessors=False)[1:]
    node = np.empty(m + 1, dtype=np.int64)
    node[label] = np.arange(m + 1)
    return np.asarray(node[np.asarray(found, dtype=np.int64)], dtype=np.int64)


LEVELS_MAX = 2048
"""Forests no deeper than this are read level by level (a few numpy steps per level, no search):
a bank's holding chains are rarely more than 20 deep. Deeper ones go through the search."""


def _sizes_by_level(parent: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Subtree sizes, the deepest level first (one numpy step per level)."""
    size = np.ones(parent.size, dtype=np.int64)
    by_depth = np.argsort(-depth, kind="stable")
    d = depth[by_depth]
    bounds = np.flatnonzero(np.r_[True, d[1:] != d[:-1], True])
    for lo, hi in itertools.pairwise(bounds):
        if d[lo] == 0:
            break
        nodes = by_depth[lo:hi]
        np.add.at(size, parent[nodes], size[nodes])
    return size


def _preorder_positions(parent: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Preorder positions, children in increasing order: a node's position is the sum, over
    itself and its ancestors, of one step down plus the sizes of its earlier siblings (roots:
    of the earlier roots), taken up the chain by pointer jumping."""
    m = parent.size
    up = np.where(parent < 0, m, parent)
    by_parent = np.argsort(up, kind="stable")  # grouped by parent, children in increasing order
    sz = size[by_parent]
    before = np.cumsum(sz) - sz
    p = up[by_parent]
    first = np.r_[True, p[1:] != p[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(m), 0))
    offset = np.empty(m, dtype=np.int64)
    offset[by_parent] = before - before[start] + (p != m)
    acc, anc = offset, parent.copy()
    while True:
        has = anc >= 0
        if not has.any():
            return acc
        safe = np.maximum(anc, 0)
        acc = acc + np.where(has, acc[safe], 0)
        anc = np.where(has, anc[safe], -1)


@dataclass(frozen=True)
class Forest:
    """``parent[v]`` (-1 for a root) and what is read off it.

    ``order[i]`` is the node at preorder position i and ``pre`` its inverse; the subtree of v is
    ``order[pre[v] : pre[v] + size[v]]``; ``depth`` counts the steps up to v's root, ``top``."""

    parent: np.ndarray
    order: np.ndarray
    pre: np.ndarray
    size: np.ndarray
    depth: np.ndarray
    top: np.ndarray
    _table: list[np.ndarray] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def build(cls, parent: np.ndarray) -> Forest:
        parent = np.asarray(parent, dtype=np.int64)
        m = parent.size
        depth, top = _depth(parent)
        if m and int(depth.max()) <= LEVELS_MAX:
            size = _sizes_by_level(parent, depth)
            pre = _preorder_positions(parent, size)
            order = np.empty(m, dtype=np.int64)
            order[pre] = np.arange(m)
            return cls(parent, order, pre, size, depth, top)
        order = _preorder(parent, depth, reverse=False)
        pre = np.empty(m, dtype=np.int64)
        pre[order] = np.arange(m)
        post = np.empty(m, dtype=np.int64)  # the reverse of the mirrored preorder is a postorder
        post[_preorder(parent, depth, reverse=True)[::-1]] = np.arange(m)
        # pre = depth + (nodes wholly before v); post = (size - 1) + the same nodes
        size = post - pre + depth + 1
        return cls(parent, order, pre, size, depth, top)

    def is_ancestor(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Element-wise: is ``a`` ``b`` or above it?"""
        pa, pb = self.pre[a], self.pre[b]
        return np.asarray((pa <= pb) & (pb < pa + self.size[a]))

    def lca(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Element-wise lowest common ancestor (-1 in different trees)."""
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        lo, hi = np.minimum(self.pre[a], self.pre[b]), np.maximum(self.pre[a], self.pre[b])
        out = np.where(a == b, a, -1)
        diff = lo < hi
        if diff.any():
            # the shallowest node in preorder (lo, hi] is a child of the LCA (or a root)
            w = self._argmin_depth(lo[diff] + 1, hi[diff] + 1)
            out[diff] = self.parent[w]
        return out

    def _argmin_depth(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The node of least depth at preorder positions ``[lo, hi)`` (a sparse table)."""
        if not self._table:
            d = self.depth[self.order]
            level = np.arange(self.order.size)
            self._table.append(level)
            span = 1
            while 2 * span <= self.order.size:
                prev = self._table[-1]
                left, right = prev[:-span], prev[span:]
                self._table.append(np.where(d[left] <= d[right], left, right))
                span *= 2
        k = np.floor(np.log2(hi - lo)).astype(np.int64)
        out = np.empty(lo.size, dtype=np.int64)
        d = self.depth[self.order]
        for level in np.unique(k):
            sel = k == level
            t = self._table[int(level)]
            left, right = t[lo[sel]], t[hi[sel] - (1 << int(level))]
            out[sel] = np.where(d[left] <= d[right], left, right)
        return np.asarray(self.order[out])

    def subtree_sums(self, values: np.ndarray) -> np.ndarray:
        """For each v: ``values[v] + (s(c1) + s(c2) + ...)``, c1 < c2 < ... its children, each
        sum taken left to right from 0 in IEEE double (the order of docs/determinism.md)."""
        values = np.asarray(values, dtype=np.float64)
        out = values.copy()
        below = np.zeros(values.size)
        by_depth = np.lexsort((np.arange(values.size), -self.depth))  # deepest first, by code
        d = self.depth[by_depth]
        bounds = np.flatnonzero(np.r_[True, d[1:] != d[:-1], True])
        for lo, hi in itertools.pairwise(bounds):
            nodes = by_depth[lo:hi]
            out[nodes] = values[nodes] + below[nodes]
            p = self.parent[nodes]
            has = p >= 0
            if has.any():
                np.add.at(below, p[has], out[nodes[has]])
        return out


def _depth(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Steps up to the root and the root of every node, by pointer jumping."""
    codes = np.arange(parent.size)
    depth = (parent >= 0).astype(np.int64)
    top = np.where(parent < 0, codes, parent)
    while True:
        nxt = top[top]
        moved = nxt != top
        if not moved.any():
            return depth, top
        depth = depth + np.where(moved, depth[top], 0)
        top = nxt
