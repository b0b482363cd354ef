"""The control forest's arrays (core/forest.py) against a plain recursive reading of the same
parent pointers: preorder with children in increasing order, subtree sizes, depths and roots."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from groupexposure.core import forest
from groupexposure.core.forest import Forest


@st.composite
def forests(draw: st.DrawFn) -> np.ndarray:
    """Parent pointers of a random forest (each node's parent comes earlier in a random order)."""
    n = draw(st.integers(1, 30))
    order = draw(st.permutations(range(n)))
    parent = np.full(n, -1, dtype=np.int64)
    for i in range(1, n):
        j = draw(st.integers(-1, i - 1))
        if j >= 0:
            parent[order[i]] = order[j]
    return parent


def by_hand(parent: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    """Preorder (children in increasing order), subtree sizes and depths, node by node."""
    n = parent.size
    children: list[list[int]] = [[] for _ in range(n)]
    for v in range(n):
        if parent[v] >= 0:
            children[parent[v]].append(v)
    order: list[int] = []
    stack = [v for v in range(n) if parent[v] < 0][::-1]
    while stack:
        v = stack.pop()
        order.append(v)
        stack.extend(children[v][::-1])
    size, depth = [1] * n, [0] * n
    for v in range(n):
        u = parent[v]
        while u >= 0:
            size[u] += 1
            depth[v] += 1
            u = parent[u]
    return order, size, depth


@settings(max_examples=300, deadline=None)
@given(forests(), st.sampled_from([0, 3, forest.LEVELS_MAX]))
def test_forest_arrays_match_a_reading_by_hand(parent: np.ndarray, levels_max: int) -> None:
    # both ways of reading the forest: level by level (shallow) and by the search (deep)
    saved, forest.LEVELS_MAX = forest.LEVELS_MAX, levels_max
    try:
        f = Forest.build(parent)
    finally:
        forest.LEVELS_MAX = saved
    order, size, depth = by_hand(parent)
    assert f.order.tolist() == order
    assert f.size.tolist() == size
    assert f.depth.tolist() == depth
    assert all(parent[t] < 0 for t in f.top)


def test_a_million_unrelated_roots_and_one_wide_root() -> None:
    # a book of unrelated counterparties is one virtual super-root with a million children, and a
    # holding with 200,000 subsidiaries is one node with 200,000 children: the search must stay
    # linear in them (scipy's own search rescans the children each time it returns to a node)
    roots = Forest.build(np.full(1_000_000, -1, dtype=np.int64))
    deep = Forest.build(np.arange(-1, 5_000))  # a chain deeper than LEVELS_MAX: the search
    assert deep.size[0] == 5_001 and deep.depth[-1] == 5_000
    assert roots.order.tolist() == list(range(1_000_000))
    assert (roots.size == 1).all()
    wide = np.r_[-1, np.zeros(200_000, dtype=np.int64)]
    f = Forest.build(wide)
    assert f.size[0] == 200_001 and f.order[:3].tolist() == [0, 1, 2]
