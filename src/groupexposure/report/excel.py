"""The workbook a credit committee gets: ``result.to_excel(path)`` (needs ``groupexposure[report]``).

Sheets: Summary, Groups, Breaches and warnings, Large exposures, Members, Entities, Headroom,
Guarantee circles, Issues (in Chinese with ``lang="zh"``: 概要, 集团客户, 超限与预警, ...). Every sheet
has a frozen header row, an autofilter, column widths that fit, and status cells coloured (breach
red, warning amber). Every amount is a number with a number format (``#,##0``; ``#,##0.00`` in
万元 or 亿元 with ``display_unit``), every ratio a number formatted ``0.00%``; an unlimited room is an
empty cell. Text cells are written as strings, never as formulas (an id ``=A1`` or ``-A1`` reads
back exactly as written), with Excel's quote prefix on those a spreadsheet would otherwise take for
a formula when the cell is edited. The Summary sheet gives the bank, the data date, the policy with
the source of each rule, the grouping and the unit.

A workbook is for reading: each sheet holds at most :data:`MAX_SHEET_ROWS` rows, the most relevant
first (groups by utilisation, members of those groups, entities by net exposure, headroom from the
least, issues by severity). The Summary sheet says, for every sheet that was cut, how many rows it
shows of how many; the CSV files hold every row. (Excel itself stops at 1,048,576 rows.)
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._text import display_width, printable
from ..safe import FORMULA_STARTS
from .labels import AMOUNT_COLUMNS, Labels
from .summary import header_lines

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["write_excel"]

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

AMOUNT = "#,##0"
AMOUNT_SCALED = "#,##0.00"
PERCENT = "0.00%"
PERCENT_COLUMNS = {"ratio", "limit", "utilisation", "share", "of_tier1", "top10_share",
                   "top20_share", "ratio_before", "ratio_after"}
WORD_COLUMNS = {"status", "status_after", "severity", "basis", "kind", "scope", "measure",
                "capital_base_name"}
STATUS_FILL = {"breach": "F8CBAD", "warning": "FFE699", "ok": "E2EFDA"}
MAX_WIDTH = 60
MAX_SHEET_ROWS = 2_000
SHEET_KEYS = {"Groups": "groups_sheet", "Breaches and warnings": "breaches",
              "Large exposures": "large", "Members": "members_sheet", "Entities": "entities_sheet",
              "Headroom": "headroom", "Guarantee circles": "circles", "Issues": "issues",
              "Summary": "summary"}


def _openpyxl() -> object:
    try:
        import openpyxl
    except ImportError:
        raise ImportError(
            "writing Excel needs openpyxl: pip install 'groupexposure[report]'") from None
    return openpyxl


def _summary(result: AnalysisResult, lab: Labels) -> list[tuple[str, object, str | None]]:
    """``(label, value, number format)`` rows of the Summary sheet."""
    g = result.groups
    c = result.concentration
    cap = result.capital
    amount = AMOUNT_SCALED if lab.unit > 1 else AMOUNT
    rows: list[tuple[str, object, str | None]] = [(k, v, None) for k, v in header_lines(result, lab)]
    rows += [(lab.summary_row("Tier 1"), cap.tier1 / lab.unit, amount),
             (lab.summary_row("total capital"),
              None if cap.total_capital is None else cap.total_capital / lab.unit, amount)]
    counts = [("entities", len(result.entities)), ("facilities", len(result.facilities)),
              ("groups", len(g)), ("groups with 2+ members", int((g["n_members"] > 1).sum())),
              ("breaches", int((g["status"] == "breach").sum())),
              ("warnings", int((g["status"] == "warning").sum())),
              ("large exposures", int(g["large_exposure"].sum())),
              ("guarantee circles", len(result.guarantee_circles))]
    rows += [(lab.summary_row(k), v, "#,##0") for k, v in counts]
    rows += [(lab.summary_row("HHI (points)"), c.hhi_points, "#,##0"),
             (lab.summary_row("numbers-equivalent (1/H)"), c.numbers_equivalent, "0.0"),
             (lab.summary_row("top 10 groups' share"), c.top10_share, PERCENT),
             (lab.summary_row("Gini"), c.gini, "0.000")]
    for r in result.policy.rules:
        rows.append((f"{lab['rule']}: {lab.rule_text(r, result.policy)}", r.source or r.name, None))
    return rows


def _ranked(result: AnalysisResult) -> dict[str, pd.DataFrame]:
    """Every table sheet, its most relevant rows first."""
    g = result.groups
    by_use = g.sort_values(["utilisation", "exposure", "group_id"], ascending=[False, False, True],
                           na_position="last")
    rank = pd.Series(range(len(by_use)), index=by_use["group_id"].to_numpy())
    members = result.members
    members = members.assign(_r=members["group_id"].map(rank)).sort_values(
        ["_r", "entity_id"], kind="stable").drop(columns="_r")
    entities = result.entities.sort_values(["own_net", "entity_id"], ascending=[False, True],
                                           kind="stable")
    return {
        "Groups": by_use,
        "Breaches and warnings": result.breaches,
        "Large exposures": result.large_exposures,
        "Members": members,
        "Entities": entities,
        "Headroom": result.headroom.replace([np.inf, -np.inf], np.nan),
        "Guarantee circles": result.guarantee_circles,
        "Issues": result.issues,
    }


def _value(v: Any) -> Any:
    """A cell value openpyxl writes as it is: numbers as numbers, missing as empty."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) or math.isinf(v) else float(v)
    text = v if isinstance(v, str) else str(v)
    # characters an xlsx file cannot hold (C0 controls but tab, LF, CR) are written as escapes
    return _ILLEGAL.sub(lambda m: printable(m.group()), text)


def _sheet(wb: Any, title: str, header: list[str], rows: list[list[Any]],
           formats: list[str | None], status_cols: set[int], labels: dict[str, str]) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    fills = {labels.get(k, k): PatternFill("solid", start_color=v, end_color=v)
             for k, v in STATUS_FILL.items()}
    widths = [display_width(h) for h in header]
    for i, values in enumerate(rows, start=2):
        for j, v in enumerate(values):
            if v is None:
                continue
            cell = ws.cell(row=i, column=j + 1, value=v)  # cell by cell: ws[i] is O(sheet)
            if isinstance(v, str):
                cell.data_type = "s"  # text, never a formula
                if v.startswith(FORMULA_STARTS):
                    cell.quotePrefix = True
                if j in status_cols and v in fills:
                    cell.fill = fills[v]
                widths[j] = max(widths[j], display_width(v))
            else:
                if formats[j]:
                    cell.number_format = formats[j]
                widths[j] = max(widths[j], 12)
    ws.freeze_panes = "A2"
    if header:
        ws.auto_filter.ref = ws.dimensions
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(MAX_WIDTH, w + 2)


def _frame_rows(frame: pd.DataFrame, lab: Labels, result: AnalysisResult
                ) -> tuple[list[str], list[list[Any]], list[str | None], set[int]]:
    cols = [str(c) for c in frame.columns]
    data = {}
    formats: list[str | None] = []
    for col in cols:
        s = frame[col]
        if col in AMOUNT_COLUMNS and pd.api.types.is_numeric_dtype(s):
            data[col] = (pd.to_numeric(s, errors="coerce") / lab.unit).tolist()
            formats.append(AMOUNT_SCALED if lab.unit > 1 else AMOUNT)
        elif col in PERCENT_COLUMNS:
            data[col] = pd.to_numeric(s, errors="coerce").tolist()
            formats.append(PERCENT)
        elif pd.api.types.is_float_dtype(s):
            data[col] = s.tolist()
            formats.append("#,##0.####")
        else:
            values = s.tolist()
            if lab.zh and col in WORD_COLUMNS:
                values = [lab.word(v) if isinstance(v, str) else v for v in values]
            elif lab.zh and col == "rule":
                values = [lab.rule_name(v, result.policy) if isinstance(v, str) else v
                          for v in values]
            data[col] = values
            formats.append("#,##0" if pd.api.types.is_integer_dtype(s) else None)
    rows = [[_value(v) for v in rec] for rec in zip(*(data[c] for c in cols), strict=True)]
    status = {j for j, c in enumerate(cols) if c in ("status", "status_after")}
    return [lab.column(c) for c in cols], rows, formats, status


def write_excel(result: AnalysisResult, path: str | Path, *, lang: str = "en",
                display_unit: str | None = None) -> Path:
    """Write the committee workbook; returns its path."""
    openpyxl: Any = _openpyxl()
    lab = Labels(lang, display_unit)
    out = Path(path)
    tables = _ranked(result)
    summary = [(label, _value(v), fmt) for label, v, fmt in _summary(result, lab)]
    for name, frame in tables.items():
        if len(frame) > MAX_SHEET_ROWS:
            summary.append((f"{lab['sheet']} {lab[SHEET_KEYS[name]]}",
                            lab["cut"].format(shown=MAX_SHEET_ROWS, total=len(frame)), None))
    status_words = {k: lab.word(k) for k in STATUS_FILL}
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    _summary_sheet(wb, lab, summary)
    for name, frame in tables.items():
        header, rows, formats, status = _frame_rows(frame.head(MAX_SHEET_ROWS), lab, result)
        _sheet(wb, lab[SHEET_KEYS[name]], header, rows, formats, status, status_words)
    wb.save(out)
    return out


def _summary_sheet(wb: Any, lab: Labels, rows: list[tuple[str, object, str | None]]) -> None:
    _sheet(wb, lab["summary"], [lab["measure"], lab["value"]], [[k, v] for k, v, _ in rows],
           [None, None], set(), {})
    ws = wb[lab["summary"]]
    for i, (_, _, fmt) in enumerate(rows, start=2):
        if fmt:
            ws.cell(row=i, column=2).number_format = fmt
