"""``report.html``: one self-contained page (no network needed to open it), in English or Chinese.

The bank, the data date (数据日期), the policy with the source of every rule, the grouping and the
unit of amounts first; then the summary; the groups ranked by utilisation of their own limit;
concentration by group, sector and country; every breaching or warning group drawn as a holding
tree (names and ids on the nodes, shares on the links, dependence dashed); large exposures,
guarantee circles and the issues. Charts are inline SVG drawn by matplotlib with text kept as
text; every name is HTML-escaped. ``lang="zh"`` gives Chinese headings, column labels, statuses
and rule names; ``display_unit`` ("万元", "亿元") scales the amounts in the tables.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..safe import escape
from .fonts import chart_style, fallback_note
from .labels import AMOUNT_COLUMNS, Labels
from .plots import _pyplot, plot_breakdown, plot_concentration, plot_group
from .summary import header_lines

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["table_html", "write_html"]

MAX_TREES = 30  # a page stays readable and quick to write; the tables list every flagged group
STYLE = """body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;
font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}th{background:#eee}
.breach{background:#f8cbad}.warning{background:#ffe699}h2{margin-top:1.5em}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:bold}
.note{color:#8a5a00}pre{white-space:pre-wrap}"""
PERCENTS = {"ratio", "limit", "utilisation", "share", "of_tier1", "top10_share", "top20_share"}


def _svg(fig: Any) -> str:
    """The figure as inline SVG; text stays text (``svg.fonttype: none``), drawn by the browser's
    fonts: faster to write and smaller than every glyph as a path."""
    buf = io.StringIO()
    with chart_style():
        fig.savefig(buf, format="svg", bbox_inches="tight")
    _pyplot().close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _cell(col: str, value: object, lab: Labels, result: AnalysisResult) -> str:
    if isinstance(value, (bool, np.bool_)):
        return lab.word("yes" if value else "no")
    if isinstance(value, float):
        if value != value:
            return ""
        if col in PERCENTS:
            return f"{value:.2%}"
        if col in AMOUNT_COLUMNS:
            return lab.amount(value)
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"
    if value is None or value is pd.NA:
        return ""
    if col in ("status", "status_after", "severity", "basis", "kind", "scope", "measure",
               "capital_base_name"):
        return lab.word(value)
    if col == "rule":
        return lab.rule_name(value, result.policy)
    if col == "measure_name":
        return lab.column(str(value))
    return str(value)


def _table(frame: pd.DataFrame, lab: Labels, result: AnalysisResult, limit: int = 200) -> str:
    rows = frame.head(limit)
    head = "".join(f"<th>{escape(lab.column(str(c)))}</th>" for c in rows.columns)
    body = []
    for rec in rows.itertuples(index=False):
        status = ""
        cells = []
        for col, value in zip(rows.columns, rec, strict=True):
            if col == "status":
                status = str(value)
            cells.append(f"<td>{escape(_cell(str(col), value, lab, result))}</td>")
        body.append(f'<tr class="{escape(status)}">' + "".join(cells) + "</tr>")
    more = (f"<p>{len(frame) - limit:,} {lab['more_rows']}.</p>" if len(frame) > limit else "")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{more}"


def table_html(frame: pd.DataFrame, result: AnalysisResult, limit: int = 200, *,
               lang: str = "en", display_unit: str | None = None) -> str:
    """``frame`` as an HTML table for reading: labels in ``lang``, amounts with separators, ratios
    as percentages, every cell escaped."""
    return _table(frame, Labels(lang, display_unit), result, limit)


def _meta(result: AnalysisResult, lab: Labels) -> list[str]:
    """Bank, data date, policy, grouping, unit; the policy's rules with their sources."""
    items = "".join(f"<dt>{escape(k)}</dt><dd class='meta-{i}'>{escape(v)}</dd>"
                    for i, (k, v) in enumerate(header_lines(result, lab)))
    rules = "".join(
        f"<li>{escape(lab.rule_text(r, result.policy))}"
        + (f" — {escape(r.name)}" if lab.zh else "")
        + (f" <cite>{escape(r.source)}</cite>" if r.source else "") + "</li>"
        for r in result.policy.rules)
    parts = [f"<dl class='meta'>{items}</dl>",
             f"<p class='policy'>{escape(result.policy.description)}</p>",
             f"<h3>{escape(lab['citations'])}</h3><ul class='rules'>{rules}</ul>"]
    note = fallback_note()
    if note:
        parts.append(f"<p class='note'>{escape(note)}</p>")
    return parts


def write_html(result: AnalysisResult, path: str | Path, *, lang: str = "en",
               display_unit: str | None = None) -> Path:
    """Write the report; returns its path."""
    lab = Labels(lang, display_unit)
    out = Path(path)
    flagged = result.breaches
    title = lab["title"]
    bank = result.capital.bank_name
    parts = [f"<!doctype html><html lang='{lab.lang}'><head><meta charset='utf-8'><title>"
             f"{escape(title)}{' — ' + escape(bank) if bank else ''}</title><style>{STYLE}"
             f"</style></head><body>", f"<h1>{escape(title)}</h1>", *_meta(result, lab),
             f"<h2>{escape(lab['summary'])}</h2>",
             f"<pre>{escape(result.summary(lang=lang, display_unit=display_unit))}</pre>"]
    parts += [f"<h2>{escape(lab['ranked'])}</h2>",
              _svg(plot_concentration(result, lang=lang).figure)]
    c = result.concentration
    parts += [f"<h2>{escape(lab['concentration'])}</h2>", _table(
        c.summary().to_frame("value").reset_index(names="measure_name"), lab, result)]
    for by, frame in (("sector", c.by_sector), ("country", c.by_country)):
        heading = lab["by_sector"] if by == "sector" else lab["by_country"]
        parts += [f"<h3>{escape(heading)}</h3>",
                  _svg(plot_breakdown(result, by, lang=lang).figure), _table(frame, lab, result, 30)]
    parts += [f"<h2>{escape(lab['breaches'])}</h2>", _table(flagged, lab, result)]
    with chart_style():
        for gid in flagged["group_id"].head(MAX_TREES):
            ax = plot_group(result, str(gid), lang=lang, display_unit=display_unit)
            name = result.groups.set_index("group_id")["root_name"].get(gid)
            shown = f"{gid} {name}" if isinstance(name, str) and name != gid else str(gid)
            parts += [f"<h3 class='tree' data-group='{escape(gid)}'>{escape(lab['group'])} "
                      f"{escape(shown)}</h3>", _svg(ax.figure)]
    if len(flagged) > MAX_TREES:
        parts.append(f"<p>{len(flagged) - MAX_TREES} {escape(lab['more_groups'])}.</p>")
    parts += [f"<h2>{escape(lab['large'])}</h2>", _table(result.large_exposures, lab, result),
              f"<h2>{escape(lab['circles'])}</h2>", _table(result.guarantee_circles, lab, result),
              f"<h2>{escape(lab['issues'])}</h2>", _table(result.issues, lab, result, 500),
              "</body></html>"]
    out.write_text("\n".join(parts), encoding="utf-8")
    return out
