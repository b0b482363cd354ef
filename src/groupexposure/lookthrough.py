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

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix, identity
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import spsolve

__all__ = ["integrated_ownership", "integrated_pairs", "lookthrough_values", "return_factors"]

MAX_ITERATIONS = 10_000
TOLERANCE = 1e-13


def _matrix(n: int, owner: np.ndarray, owned: np.ndarray, share: np.ndarray) -> csr_matrix:
    return csr_matrix((np.asarray(share, np.float64), (owner, owned)), shape=(n, n))


def return_factors(a: csr_matrix) -> np.ndarray:
    """``G[x, x]`` for every x: 1 outside cycles, from the inverse of each cycle's block inside.

    Two-member cycles (the usual cross-holding) have the closed form ``1 / (1 - a_xy a_yx)``;
    larger strongly connected sets are inverted one by one.
    """
    n = a.shape[0]
    g = np.ones(n)
    n_comp, label = connected_components(a, directed=True, connection="strong")
    size = np.bincount(label, minlength=n_comp)
    coo = a.tocoo()
    inside = (label[coo.row] == label[coo.col]) & (size[label[coo.row]] > 1)
    rows, vals = coo.row[inside], coo.data[inside]
    pair = size[label[rows]] == 2
    if pair.any():
        loop = np.bincount(label[rows[pair]], minlength=n_comp)  # edges per 2-cycle: 2
        product = np.ones(n_comp)
        np.multiply.at(product, label[rows[pair]], vals[pair])
        two = np.flatnonzero(size == 2)
        two = two[loop[two] == 2]
        members = np.flatnonzero(np.isin(label, two))
        g[members] = 1.0 / (1.0 - product[label[members]])
    big = np.flatnonzero(size[label] > 2)  # members of larger cycles, grouped by cycle
    big = big[np.argsort(label[big], kind="stable")]
    for members in np.split(big, np.flatnonzero(np.diff(label[big])) + 1) if big.size else []:
        block = a[members][:, members].toarray()
        g[members] = np.diag(np.linalg.inv(np.eye(members.size) - block))
    return g


def _solve(a: csr_matrix, b: np.ndarray) -> np.ndarray:
    """``(I - a)^-1 b`` by the Neumann series (exact after depth steps on an acyclic graph)."""
    y = b.copy()
    scale = max(1.0, float(np.abs(b).max(initial=0.0)))
    for _ in range(MAX_ITERATIONS):
        nxt = b + a @ y
        if np.abs(nxt - y).max(initial=0.0) <= TOLERANCE * scale:
            return np.asarray(nxt)
        y = nxt
    return np.asarray(spsolve((identity(a.shape[0], format="csc") - a).tocsc(), b))


def lookthrough_values(n: int, owner: np.ndarray, owned: np.ndarray, share: np.ndarray,
                       own: np.ndarray) -> np.ndarray:
    """``own(x) + sum_s I(x, s) * own(s)`` for every entity code x."""
    a = _matrix(n, owner, owned, share)
    return np.asarray(_solve(a, np.asarray(own, np.float64)) / return_factors(a))


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
    row = _solve(a.T.tocsr(), e)
    row = row / return_factors(a)[x]
    row[x] = 0.0
    out = pd.Series(row, index=ids)
    return out[out > 0]


def integrated_pairs(n: int, owner: np.ndarray, owned: np.ndarray, share: np.ndarray,
                     holders: np.ndarray, subjects: np.ndarray, *, chunk: int = 16) -> np.ndarray:
    """``I(holders[i], subjects[i])`` for each pair, solving for a few holders at a time."""
    a = _matrix(n, owner, owned, share)
    at = a.T.tocsr()
    g = return_factors(a)
    out = np.zeros(len(holders))
    distinct, where = np.unique(np.asarray(holders, np.int64), return_inverse=True)
    for start in range(0, distinct.size, chunk):
        block = distinct[start:start + chunk]
        e = np.zeros((n, block.size))
        e[block, np.arange(block.size)] = 1.0
        z = e.copy()
        for _ in range(MAX_ITERATIONS):
            nxt = e + at @ z
            if np.abs(nxt - z).max(initial=0.0) <= TOLERANCE:
                break
            z = nxt
        z = nxt / g[block]
        pick = (where >= start) & (where < start + block.size)
        out[pick] = z[np.asarray(subjects)[pick], where[pick] - start]
    return out
