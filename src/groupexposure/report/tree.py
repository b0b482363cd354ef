"""A group's holding tree as data: who is drawn under whom, by which link (``group_tree``).

Every member is placed under the member whose link brought it into the group, found by a search
from the root that takes every ownership link before any connection: a member's immediate
controller first, then any other holding inside the group, then a dependence connection (a
``mutual`` one from either side), and only where nothing else joins a member (a partition group
joined through a connection followed backwards), a link in the other direction, marked ``↑``.
So every member of a group hangs on the tree by an edge; a member the search cannot reach (never
expected: a group is connected) is drawn in the bottom row and listed as ``unlinked``.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._text import pct

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["Tree", "group_tree", "holding_tree", "tree_layout"]


@dataclass(frozen=True)
class Tree:
    """Layered positions ``{entity: (x, layer)}``, edges ``(from, to, label, dashed)``, the
    group's size and the members no link reaches (empty for every group the library builds)."""

    pos: dict[str, tuple[float, int]]
    edges: list[tuple[str, str, str, bool]]
    size: int
    unlinked: tuple[str, ...] = ()


def _link_label(share: float, voting: float, flag: bool) -> str:
    text = "share unknown" if share != share else pct(share)
    if voting == voting and share == share and abs(voting - share) > 1e-9:
        text += f" (votes {pct(voting)})"
    if flag:
        text += " (control)"
    return text


def _adjacency(result: AnalysisResult, members: set[str]
               ) -> dict[str, list[tuple[int, str, str, bool]]]:
    """``u -> [(priority, v, label, dashed)]``: the links inside the group that can place v under u."""
    ent = result.entities.set_index("entity_id")
    imm = ent["immediate_controller_id"]
    own = result.ownership
    links = own[own["owner_id"].isin(members) & own["owned_id"].isin(members)]
    con = result.connections
    deps = con[con["dependent_id"].isin(members) & con["depends_on_id"].isin(members)]
    adj: dict[str, list[tuple[int, str, str, bool]]] = {}
    for o, s, sh, v, f in zip(links["owner_id"], links["owned_id"], links["share"],
                              links["voting"], links["control"], strict=True):
        label = _link_label(float(sh), float(v), bool(f))
        adj.setdefault(o, []).append((0 if imm.get(s) == o else 1, s, label, False))
        adj.setdefault(s, []).append((4, o, f"↑ {label}", False))
    for d, x, k, mutual in zip(deps["dependent_id"], deps["depends_on_id"], deps["kind"],
                               deps["mutual"], strict=True):
        kind = str(k)
        if bool(mutual):
            adj.setdefault(x, []).append((2, d, f"mutual {kind}", True))
            adj.setdefault(d, []).append((2, x, f"mutual {kind}", True))
        else:
            adj.setdefault(x, []).append((2, d, kind, True))
            adj.setdefault(d, []).append((3, x, f"↑ {kind}", True))
    return adj


def _search(root: str, adj: dict[str, list[tuple[int, str, str, bool]]]
            ) -> tuple[dict[str, int], dict[str, tuple[str, str, bool]]]:
    """Best-first from the root: ownership before connections, nearer before deeper, ids last."""
    layer, parent = {root: 0}, {}
    heap = [(p, 1, root, v, label, dashed) for p, v, label, dashed in adj.get(root, [])]
    heapq.heapify(heap)
    while heap:
        _, depth, u, v, label, dashed = heapq.heappop(heap)
        if v in layer:
            continue
        layer[v], parent[v] = depth, (u, label, dashed)
        for p, w, lab, d in adj.get(v, []):
            if w not in layer:
                heapq.heappush(heap, (p, depth + 1, v, w, lab, d))
    return layer, parent


def tree_layout(layer: dict[str, int], parent: dict[str, tuple[str, str, bool]],
                keep: set[str]) -> dict[str, tuple[float, int]]:
    """Positions: each row ordered by its parents' places, so siblings sit together under their
    parent and edges do not cross within a row."""
    pos: dict[str, tuple[float, int]] = {}
    for level in sorted({layer[m] for m in keep}):
        row = sorted((m for m in keep if layer[m] == level),
                     key=lambda m: (pos[parent[m][0]][0] if m in parent and parent[m][0] in pos
                                    else 0.0, m))
        for i, m in enumerate(row):
            pos[m] = ((i + 1) / (len(row) + 1), level)
    return pos


def group_tree(result: AnalysisResult, group_id: str, *, max_nodes: int = 60
               ) -> tuple[dict[str, tuple[float, int]], list[tuple[str, str, str, bool]], int]:
    """``(pos, edges, size)`` of :func:`holding_tree` (the shape this function always had)."""
    tree = holding_tree(result, group_id, max_nodes=max_nodes)
    return tree.pos, tree.edges, tree.size


def holding_tree(result: AnalysisResult, group_id: str, *, max_nodes: int = 60) -> Tree:
    """The tree of one group. Large groups keep the ``max_nodes`` members with the largest
    exposure and the members on their way up to the root."""
    groups = result.groups.set_index("group_id")
    if group_id not in groups.index:
        raise ValueError(f"unknown group {group_id!r}")
    mem = result.members[result.members["group_id"] == group_id]
    members = set(mem["entity_id"])
    root = str(groups.loc[group_id, "root_id"])
    root = root if root in members else group_id
    layer, parent = _search(root, _adjacency(result, members))
    unlinked = tuple(sorted(members - set(layer)))
    bottom = max(layer.values()) + 1
    for m in unlinked:
        layer[m] = bottom
    if len(members) > max_nodes:
        net = result.entities.set_index("entity_id")["own_net"]
        keep = set(net.reindex(sorted(members)).sort_values(ascending=False, kind="stable")
                   .index[:max_nodes])
        for m in list(keep):
            while m in parent:
                m = parent[m][0]
                keep.add(m)
        keep.add(root)
    else:
        keep = members
    pos = tree_layout(layer, parent, keep)
    edges = [(p[0], m, p[1], p[2]) for m, p in sorted(parent.items())
             if m in keep and p[0] in keep]
    return Tree(pos, edges, len(members), unlinked)
