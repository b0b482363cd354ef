"""Charts with matplotlib (``groupexposure[report]``): a group's holding tree and concentration.

The holding tree is drawn in layers, the root on top: each member sits one layer below the member
it was reached from (ownership links first, then dependence connections, drawn dashed). No
graphviz binary is needed. Links carry their share; nodes carry the member's id and own net
exposure (names are in the tables: matplotlib's default font has no Chinese glyphs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["group_tree", "plot_breakdown", "plot_concentration", "plot_group"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("charts need matplotlib: pip install 'groupexposure[report]'") from None
    return plt


def group_tree(result: AnalysisResult, group_id: str, *, max_nodes: int = 60
               ) -> tuple[dict[str, tuple[float, int]], list[tuple[str, str, str, bool]], int]:
    """Layered positions ``{entity: (x, layer)}``, edges ``(from, to, label, dashed)`` and the
    group's size. Large groups keep the ``max_nodes`` members with the largest exposure and the
    members on their way up to the root."""
    mem = result.members[result.members["group_id"] == group_id]
    if mem.empty:
        raise ValueError(f"unknown group {group_id!r}")
    members = set(mem["entity_id"])
    own = result.ownership
    links = own[own["owner_id"].isin(members) & own["owned_id"].isin(members)]
    con = result.connections
    deps = con[con["dependent_id"].isin(members) & con["depends_on_id"].isin(members)]
    children: dict[str, list[tuple[str, str, bool]]] = {}
    for o, s, sh in zip(links["owner_id"], links["owned_id"], links["share"], strict=True):
        children.setdefault(o, []).append((s, f"{100 * sh:.4g}%", False))
    for d, x, k in zip(deps["dependent_id"], deps["depends_on_id"], deps["kind"], strict=True):
        children.setdefault(x, []).append((d, str(k), True))
    layer, parent = {group_id: 0}, {}
    frontier = [group_id]
    while frontier:  # breadth first: ownership before dependence at each member
        nxt = []
        for u in frontier:
            for v, label, dashed in sorted(children.get(u, []), key=lambda c: (c[2], c[0])):
                if v not in layer:
                    layer[v], parent[v] = layer[u] + 1, (u, label, dashed)
                    nxt.append(v)
        frontier = nxt
    bottom = max(layer.values()) + 1
    for m in sorted(members - set(layer)):
        layer[m] = bottom
    if len(members) > max_nodes:
        net = result.entities.set_index("entity_id")["own_net"]
        keep = set(net.reindex(sorted(members)).sort_values(ascending=False).index[:max_nodes])
        for m in list(keep):
            while m in parent:
                m = parent[m][0]
                keep.add(m)
        keep.add(group_id)
    else:
        keep = members
    pos: dict[str, tuple[float, int]] = {}
    for level in sorted(set(layer[m] for m in keep)):
        row = sorted(m for m in keep if layer[m] == level)
        for i, m in enumerate(row):
            pos[m] = ((i + 1) / (len(row) + 1), level)
    edges = [(p[0], m, p[1], p[2]) for m, p in parent.items() if m in keep and p[0] in keep]
    return pos, edges, len(members)


def plot_group(result: AnalysisResult, group_id: str, ax: Any = None, *, max_nodes: int = 60
               ) -> Any:
    """Draw one group's holding tree; returns the matplotlib Axes."""
    plt = _pyplot()
    pos, edges, size = group_tree(result, group_id, max_nodes=max_nodes)
    depth = max(v[1] for v in pos.values()) + 1
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.0, 1.6 * max(
            sum(1 for v in pos.values() if v[1] == k) for k in range(depth))), 1.5 + 1.3 * depth))
    net = result.entities.set_index("entity_id")["own_net"]
    for u, v, label, dashed in edges:
        (x0, y0), (x1, y1) = pos[u], pos[v]
        ax.annotate("", xy=(x1, -y1 + 0.18), xytext=(x0, -y0 - 0.18),
                    arrowprops={"arrowstyle": "->", "color": "0.4",
                                "linestyle": "--" if dashed else "-"})
        ax.text((x0 + x1) / 2, -(y0 + y1) / 2, label, fontsize=7, ha="center", va="center",
                color="0.25", bbox={"fc": "white", "ec": "none", "pad": 0.5})
    root_status = str(result.groups.set_index("group_id").loc[group_id, "status"])
    colour = {"breach": "#f8cbad", "warning": "#ffe699"}.get(str(root_status), "#e2efda")
    for m, (x, y) in pos.items():
        # ids only: names may need glyphs (Chinese) that matplotlib's default font lacks
        ax.text(x, -y, f"{m}\n{net.get(m, 0.0):,.0f}", ha="center", va="center", fontsize=7,
                bbox={"boxstyle": "round", "fc": colour if m == group_id else "white", "ec": "0.3"})
    shown = f" ({len(pos)} of {size} members shown)" if len(pos) < size else ""
    ax.set_title(f"group {group_id}: {root_status!s}{shown}", fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_ylim(-depth + 0.5, 0.6)
    ax.axis("off")
    return ax


def plot_concentration(result: AnalysisResult, ax: Any = None, *, top: int = 20) -> Any:
    """The largest groups' exposure against Tier 1 and their limits; returns the Axes."""
    plt = _pyplot()
    g = result.groups.sort_values(["utilisation", "exposure"], ascending=False,
                                  na_position="last").head(top)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.3 * len(g) + 1.5))
    ratio = g["exposure"].to_numpy(np.float64) / result.capital.tier1
    colours = g["status"].map({"breach": "#c0504d", "warning": "#e6a118"}).fillna("#7f9f6f")
    labels = [str(x) for x in g["group_id"]]
    ax.barh(labels[::-1], ratio[::-1], color=list(colours)[::-1])
    lim = pd.to_numeric(g["limit"], errors="coerce").to_numpy()[::-1]
    ax.scatter(lim, labels[::-1], marker="|", s=200, color="black", label="limit")
    ax.set_xlabel("exposure / Tier 1")
    c = result.concentration
    ax.set_title(f"largest groups — HHI {c.hhi_points:,.0f} points, 1/H {c.numbers_equivalent:,.1f}, "
                 f"top 10 {c.top10_share:.1%}", fontsize=9)
    ax.legend(loc="lower right", fontsize=7)
    return ax


def plot_breakdown(result: AnalysisResult, by: str = "sector", ax: Any = None, *, top: int = 15
                   ) -> Any:
    """Exposure by ``sector`` or ``country`` against Tier 1 (the largest ``top``); the Axes."""
    plt = _pyplot()
    c = result.concentration
    frame = (c.by_sector if by == "sector" else c.by_country).head(top)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.3 * len(frame) + 1.5))
    labels = [str(x) for x in frame[by]][::-1]
    ax.barh(labels, frame["of_tier1"].to_numpy()[::-1], color="#5b7fa6")
    ax.set_xlabel("exposure / Tier 1")
    ax.set_title(f"exposure by {by}", fontsize=9)
    return ax
