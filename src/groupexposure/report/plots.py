"""Charts with matplotlib (``groupexposure[report]``): a group's holding tree and concentration.

The holding tree is drawn in layers, the root on top: each member sits under the member whose link
brought it into the group (:mod:`.tree`: ownership first, then dependence connections, drawn dashed,
a mutual one from either side). No graphviz binary is needed. Links carry their share (``30%
(control)`` for a control flag, ``45% (votes 52%)`` where votes differ); nodes carry the member's
name (shortened), id and own net exposure. Names are drawn with an installed CJK font
(:mod:`.fonts`); without one, a node shows its id only. Every text is drawn as text, never as
mathtext: a ``$`` in a name is a dollar sign.

The groups chart draws each group against its own rule: the bar is its utilisation (ratio / its
limit), so the limit is at 100% and the warning level at the same place for every group whatever
its rule's base (Tier 1, total capital) or measure (exposure, loans); each bar says its ratio, base
and limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._text import display_width, named, printable, shorten
from .fonts import can_draw, chart_style
from .labels import Labels
from .tree import group_tree, holding_tree

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["group_tree", "holding_tree", "node_label", "plot_breakdown", "plot_concentration",
           "plot_group"]

NAME_WIDTH = 20  # columns of a name on a tree node (a Chinese character is two)
LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司")
"""Dropped from the end of a long name on a tree node: the part every name shares (the tables
keep the whole name)."""
ROW_MAX = 16  # nodes side by side in a row before alternate nodes step down


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("charts need matplotlib: pip install 'groupexposure[report]'") from None
    return plt


def _drawable(text: str, fallback: str) -> str:
    text = printable(text)
    return text if can_draw(text) else printable(fallback)


def node_label(entity_id: str, name: object, amount: str) -> str:
    """A tree node: the name shortened (where the chart font can draw it), the id, the amount."""
    eid = printable(entity_id)
    lines = [eid, amount]
    if isinstance(name, str) and name.strip() and name != entity_id:
        text = printable(name)
        for form in LEGAL_FORMS:
            if display_width(text) > NAME_WIDTH and text.endswith(form) and len(text) > len(form):
                text = text[: -len(form)]
                break
        short = shorten(text, NAME_WIDTH)
        if can_draw(short):
            lines.insert(0, short)
    return "\n".join(lines) if can_draw("\n".join(lines)) else f"{eid}\n{amount}"


def _group_label(result: AnalysisResult, group_id: str, width: int = 28) -> str:
    g = result.groups.set_index("group_id")
    name = g["root_name"].get(group_id)
    text = named(group_id, name, width=width)
    return text if can_draw(text) else printable(group_id)


def _edge_label(label: str, lab: Labels) -> str:
    if not lab.zh:
        return printable(label)
    out = label.replace("(control)", "(控制)").replace("votes", "表决权")
    for word in ("economic_dependence", "guarantee", "mutual"):
        out = out.replace(word, lab.word(word))
    return printable(out).replace("share unknown", "持股比例未知")


def plot_group(result: AnalysisResult, group_id: str, ax: Any = None, *, max_nodes: int = 60,
               lang: str = "en", display_unit: str | None = None) -> Any:
    """Draw one group's holding tree; returns the matplotlib Axes."""
    plt = _pyplot()
    lab = Labels(lang, display_unit)
    tree = holding_tree(result, group_id, max_nodes=max_nodes)
    pos = dict(tree.pos)
    depth = max(v[1] for v in pos.values()) + 1
    widest = max(sum(1 for v in pos.values() if v[1] == k) for k in range(depth))
    stagger = widest > ROW_MAX
    with chart_style():
        if ax is None:
            _, ax = plt.subplots(figsize=(min(30.0, max(7.0, 1.75 * min(widest, 2 * ROW_MAX) /
                                                        (2 if stagger else 1))),
                                          1.5 + (2.0 if stagger else 1.5) * depth))
        y = {m: -float(level) - (0.4 if stagger and _odd(pos, m) else 0.0)
             for m, (_, level) in pos.items()}
        ent = result.entities.set_index("entity_id")
        net, names = ent["own_net"], ent["name"]
        for u, v, label, dashed in tree.edges:
            (x0, _), (x1, _) = pos[u], pos[v]
            y0, y1 = y[u], y[v]
            ax.annotate("", xy=(x1, y1 + 0.2), xytext=(x0, y0 - 0.2),
                        arrowprops={"arrowstyle": "->", "color": "0.4",
                                    "linestyle": "--" if dashed else "-"})
            t = 0.62  # nearer the child than the parent: siblings' labels sit apart
            ax.text(x0 + t * (x1 - x0), (y0 - 0.2) + t * (y1 - y0 + 0.4), _edge_label(label, lab),
                    fontsize=7, ha="center", va="center", color="0.25", parse_math=False,
                    bbox={"fc": "white", "ec": "none", "pad": 0.5, "alpha": 0.85})
        status = str(result.groups.set_index("group_id").loc[group_id, "status"])
        colour = {"breach": "#f8cbad", "warning": "#ffe699"}.get(status, "#e2efda")
        root = next(m for m, p in pos.items() if p[1] == 0)
        for m, (x, _) in pos.items():
            ax.text(x, y[m], node_label(m, names.get(m), lab.amount(net.get(m, 0.0))),
                    ha="center", va="center", fontsize=8, parse_math=False,
                    bbox={"boxstyle": "round", "fc": colour if m == root else "white", "ec": "0.3"})
        shown = (f" ({len(pos)} / {tree.size} {lab['shown']})" if len(pos) < tree.size else "")
        ax.set_title(f"{lab['group']} {_group_label(result, group_id)}: {lab.status(status)}"
                     f"{shown}", fontsize=9, parse_math=False)
        ax.set_xlim(0, 1)
        ax.set_ylim(-depth + 0.4 - (0.4 if stagger else 0.0), 0.6)
        ax.axis("off")
    return ax


def _odd(pos: dict[str, tuple[float, int]], m: str) -> bool:
    level = pos[m][1]
    row = sorted(p[0] for p in pos.values() if p[1] == level)
    return row.index(pos[m][0]) % 2 == 1


def plot_concentration(result: AnalysisResult, ax: Any = None, *, top: int = 20,
                       lang: str = "en") -> Any:
    """The most used groups, each against its own rule: utilisation (ratio / the rule's limit)
    with the limit at 100% and the warning level marked; each bar says its ratio of its own base
    (Tier 1 or total capital) and its limit. Returns the Axes."""
    plt = _pyplot()
    lab = Labels(lang)
    g = result.groups.sort_values(["utilisation", "exposure", "group_id"],
                                  ascending=[False, False, True], na_position="last").head(top)
    with chart_style():
        if ax is None:
            _, ax = plt.subplots(figsize=(9, 0.32 * len(g) + 1.6))
        use = pd.to_numeric(g["utilisation"], errors="coerce").to_numpy(np.float64)
        colours = g["status"].map({"breach": "#c0504d", "warning": "#e6a118"}).fillna("#7f9f6f")
        ypos = np.arange(len(g))[::-1]
        ax.barh(ypos, np.nan_to_num(use), color=list(colours))
        ax.set_yticks(ypos, labels=[_group_label(result, str(x)) for x in g["group_id"]],
                      **_tick_text())
        ax.axvline(1.0, color="black", lw=1, label=lab["limit_mark"])
        ax.axvline(result.policy.warning_level, color="0.4", lw=1, ls="--",
                   label=lab["warning_mark"])
        for yv, u, row in zip(ypos, use, g.itertuples(index=False), strict=True):
            ax.text(max(np.nan_to_num(u), 0.0) + 0.01, yv, _bar_text(row, lab, result),
                    va="center", fontsize=6.5, parse_math=False)
        ax.xaxis.set_major_formatter(_percent())
        ax.set_xlim(0, max(1.15, float(np.nanmax(use)) * 1.45 if np.isfinite(use).any() else 1.15))
        ax.set_xlabel(lab["utilisation_axis"])
        c = result.concentration
        ax.set_title(f"HHI {c.hhi_points:,.0f}, 1/H {c.numbers_equivalent:,.1f}, "
                     f"top 10 {c.top10_share:.1%}", fontsize=9, parse_math=False)
        ax.legend(loc="lower right", fontsize=7)
    return ax


def _bar_text(row: Any, lab: Labels, result: AnalysisResult) -> str:
    limit = row.limit
    if not isinstance(limit, float) or limit != limit:
        return lab["no_limit"]
    measure = lab.measure(str(row.measure), result.policy)
    base = lab.base(row.capital_base_name)
    if lab.zh:
        return f"{measure}占{base}{row.ratio:.2%}（限额{limit:.0%}）"
    return f"{measure} {row.ratio:.2%} of {base} (limit {limit:.0%})"


def _tick_text() -> dict[str, Any]:
    """Tick labels made now, in the chart style: a tick copies its font from the axis's first
    tick, which may have been made before (outside the style), so the font is given outright."""
    import matplotlib as mpl

    return {"parse_math": False, "fontfamily": mpl.rcParams["font.family"]}


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=0)


def plot_breakdown(result: AnalysisResult, by: str = "sector", ax: Any = None, *, top: int = 15,
                   lang: str = "en") -> Any:
    """Exposure by ``sector`` or ``country`` against Tier 1 (the largest ``top``); the Axes. A
    label the chart font cannot draw is shown by its rank in the table (``#1``, ``#2``...)."""
    plt = _pyplot()
    lab = Labels(lang)
    c = result.concentration
    frame = (c.by_sector if by == "sector" else c.by_country).head(top)
    with chart_style():
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 0.3 * len(frame) + 1.5))
        labels = [_drawable(str(x), f"#{i + 1}") for i, x in enumerate(frame[by])]
        ypos = np.arange(len(frame))[::-1]
        ax.barh(ypos, frame["of_tier1"].to_numpy(), color="#5b7fa6")
        ax.set_yticks(ypos, labels=labels, **_tick_text())
        ax.xaxis.set_major_formatter(_percent())
        ax.set_xlabel(lab["by_axis"])
        heading = lab["by_sector"] if by == "sector" else lab["by_country"]
        ax.set_title(f"exposure by {by}" if not lab.zh else f"风险暴露{heading}", fontsize=9,
                     parse_math=False)
    return ax
