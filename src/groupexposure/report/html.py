"""``report.html``: one self-contained page (no network needed to open it).

Summary figures; the groups ranked by utilisation as a chart; concentration by group, sector and
country; every breaching or warning group drawn as a holding tree (shares on the links, exposure on
the nodes, dependence dashed); guarantee circles; the issues. Charts are inline SVG drawn by
matplotlib; every name is HTML-escaped.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..safe import escape
from .plots import _pyplot, plot_breakdown, plot_concentration, plot_group

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["write_html"]

MAX_TREES = 30  # a page stays readable and quick to write; the tables list every flagged group
STYLE = """body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;
font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}th{background:#eee}
.breach{background:#f8cbad}.warning{background:#ffe699}h2{margin-top:1.5em}"""


def _svg(fig: Any) -> str:
    """The figure as inline SVG; text stays text (``svg.fonttype: none``), drawn by the browser's
    fonts: faster to write and smaller than every glyph as a path."""
    buf = io.StringIO()
    with _pyplot().rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    _pyplot().close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _table(frame: pd.DataFrame, limit: int = 200) -> str:
    rows = frame.head(limit)
    head = "".join(f"<th>{escape(c)}</th>" for c in rows.columns)
    body = []
    for rec in rows.itertuples(index=False):
        cells = []
        status = ""
        for col, value in zip(rows.columns, rec, strict=True):
            if col == "status":
                status = str(value)
            if isinstance(value, float):
                if value != value:
                    text = ""
                elif col in ("ratio", "limit", "utilisation", "share", "of_tier1"):
                    text = f"{value:.2%}"
                else:  # amounts as whole numbers; small measures (HHI, Gini) with 4 digits
                    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"
            else:
                text = "" if value is None else str(value)
            cells.append(f"<td>{escape(text)}</td>")
        body.append(f'<tr class="{escape(status)}">' + "".join(cells) + "</tr>")
    more = f"<p>{len(frame) - limit} more rows not shown.</p>" if len(frame) > limit else ""
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{more}"


def write_html(result: AnalysisResult, path: str | Path) -> Path:
    """Write the report; returns its path."""
    plt = _pyplot()
    out = Path(path)
    g = result.groups
    flagged = result.breaches
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>groupexposure report"
             f"</title><style>{STYLE}</style></head><body>",
             "<h1>Exposure to groups of connected clients</h1>",
             f"<pre>{escape(result.summary())}</pre>"]
    fig, ax = plt.subplots(figsize=(8, 0.3 * min(len(g), 20) + 1.5))
    plot_concentration(result, ax=ax)
    parts += ["<h2>Groups ranked by utilisation</h2>", _svg(fig)]
    c = result.concentration
    parts += ["<h2>Concentration</h2>", _table(c.summary().to_frame("value").reset_index(
        names="measure"))]
    for by, frame in (("sector", c.by_sector), ("country", c.by_country)):
        fig, ax = plt.subplots(figsize=(8, 0.3 * min(len(frame), 15) + 1.5))
        plot_breakdown(result, by, ax=ax)
        parts += [f"<h3>By {by}</h3>", _svg(fig), _table(frame, 30)]
    parts += ["<h2>Breaches and warnings</h2>", _table(flagged)]
    for gid in flagged["group_id"].head(MAX_TREES):
        fig = plt.figure()
        ax = fig.add_subplot()
        plot_group(result, str(gid), ax=ax)
        fig.set_size_inches(10, 5)
        parts += [f"<h3 class='tree' data-group='{escape(gid)}'>Group {escape(gid)}</h3>",
                  _svg(fig)]
    if len(flagged) > MAX_TREES:
        parts.append(f"<p>{len(flagged) - MAX_TREES} more flagged groups: see the tables.</p>")
    parts += ["<h2>Large exposures</h2>", _table(result.large_exposures),
              "<h2>Guarantee circles</h2>", _table(result.guarantee_circles),
              "<h2>Issues</h2>", _table(result.issues, 500), "</body></html>"]
    out.write_text("\n".join(parts), encoding="utf-8")
    return out
