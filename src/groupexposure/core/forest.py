"""A forest given by parent pointers: preorder, subtree sizes, depths, ancestry, LCAs and sums.

Every question about the control forest (SPEC §2: who controls whom, C(x), the chain sums) is
answered from these arrays in time near-linear in the number of nodes, whatever the depth: the
preorder comes from one depth-first traversal (scipy, in C), the subtree sizes from a second one
with the children in reverse order (its reverse is a postorder), depths by pointer jumping. Only
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


def _preorder(parent: np.ndarray, reverse: bool) -> np.ndarray:
    """Nodes in depth-first preorder from a virtual super-root over every root, children in
    increasing (or, ``reverse``, decreasing) order."""
    m = parent.size
    label = (m - 1 - np.arange(m)) if reverse else np.arange(m)
    src = np.where(parent < 0, m, label[np.maximum(parent, 0)])
    graph = csr_matrix((np.ones(m, dtype=np.int8), (src, label)), shape=(m + 1, m + 1))
    order = depth_first_order(graph, m, directed=True, return_predecessors=False)[1:]
    order = np.asarray(order, dtype=np.int64)
    return (m - 1 - order) if reverse else order


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
        order = _preorder(parent, reverse=False)
        pre = np.empty(m, dtype=np.int64)
        pre[order] = np.arange(m)
        post = np.empty(m, dtype=np.int64)  # the reverse of the mirrored preorder is a postorder
        post[_preorder(parent, reverse=True)[::-1]] = np.arange(m)
        depth, top = _depth(parent)
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
