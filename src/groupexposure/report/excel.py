"""The workbook a credit committee gets: ``result.to_excel(path)`` (needs ``groupexposure[report]``).

Sheets: Summary, Groups, Breaches and warnings, Large exposures, Members, Entities, Headroom,
Guarantee circles, Issues. Every sheet has a frozen header row, an autofilter, column widths that
fit, number formats for amounts (``#,##0``) and percentages (``0.00%``), and status cells coloured
(breach red, warning amber). Text that a spreadsheet would run as a formula is neutralised.

A workbook is for reading: each sheet holds at most :data:`MAX_SHEET_ROWS` rows, the most relevant
first (groups by utilisation, members of those groups, entities by net exposure, headroom from the
least, issues by severity). The Summary sheet says, for every sheet that was cut, how many rows it
shows of how many; the CSV files hold every row. (Excel itself stops at 1,048,576 rows.)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..safe import neutralise

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["write_excel"]

AMOUNT = "#,##0"
PERCENT = "0.00%"
PERCENT_COLUMNS = {"ratio", "limit", "utilisation", "share", "of_tier1", "top10_share",
                   "top20_share", "ratio_before", "ratio_after"}
STATUS_FILL = {"breach": "F8CBAD", "warning": "FFE699", "ok": "E2EFDA"}
MAX_WIDTH = 60
MAX_SHEET_ROWS = 2_000


def _openpyxl() -> object:
    try:
        import openpyxl
    except ImportError:
        raise ImportError(
            "writing Excel needs openpyxl: pip install 'groupexposure[report]'") from None
    return openpyxl


def _summary(result: AnalysisResult) -> pd.DataFrame:
    g = result.groups
    c = result.concentration
    rows = [
        ("policy", result.policy.name), ("grouping", result.grouping),
        ("reporting currency", result.capital.currency), ("Tier 1", result.capital.tier1),
        ("total capital", result.capital.total_capital), ("entities", len(result.entities)),
        ("facilities", len(result.facilities)), ("groups", len(g)),
        ("groups with 2+ members", int((g["n_members"] > 1).sum())),
        ("breaches", int((g["status"] == "breach").sum())),
        ("warnings", int((g["status"] == "warning").sum())),
        ("large exposures", int(g["large_exposure"].sum())),
        ("guarantee circles", len(result.guarantee_circles)),
        ("HHI (points)", c.hhi_points), ("numbers-equivalent (1/H)", c.numbers_equivalent),
        ("top 10 groups' share", c.top10_share), ("Gini", c.gini),
    ]
    return pd.DataFrame(rows, columns=["measure", "value"])


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
        "Headroom": result.headroom.replace([float("inf")], pd.NA),
        "Guarantee circles": result.guarantee_circles,
        "Issues": result.issues,
    }


def write_excel(result: AnalysisResult, path: str | Path) -> Path:
    """Write the committee workbook; returns its path."""
    _openpyxl()
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    out = Path(path)
    tables = _ranked(result)
    summary = _summary(result)
    cut = [(f"sheet {name}", f"first {MAX_SHEET_ROWS:,} of {len(frame):,} rows (most relevant "
            f"first); every row is in the CSV files")
           for name, frame in tables.items() if len(frame) > MAX_SHEET_ROWS]
    if cut:
        summary = pd.concat([summary, pd.DataFrame(cut, columns=["measure", "value"])],
                            ignore_index=True)
    sheets = {"Summary": summary, **{name: frame.head(MAX_SHEET_ROWS)
                                     for name, frame in tables.items()}}
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame = neutralise(frame.reset_index(drop=True))
            frame.to_excel(writer, sheet_name=name, index=False)
            ws = writer.sheets[name]
            ws.freeze_panes = "A2"
            if len(frame.columns):
                ws.auto_filter.ref = ws.dimensions
            for cell in ws[1]:
                cell.font = Font(bold=True)
            for j, col in enumerate(frame.columns, start=1):
                letter = get_column_letter(j)
                values = frame[col]
                sample = values.head(2000).astype(str)
                width = max([len(str(col)), *sample.str.len().tolist()]) if len(sample) else len(
                    str(col))
                ws.column_dimensions[letter].width = min(MAX_WIDTH, width + 2)
                fmt = None
                if col in PERCENT_COLUMNS:
                    fmt = PERCENT
                elif pd.api.types.is_float_dtype(values):
                    fmt = AMOUNT
                if fmt:
                    for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                        cell.number_format = fmt
                if col in ("status", "status_after"):
                    for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                        color = STATUS_FILL.get(str(cell.value))
                        if color:
                            cell.fill = PatternFill("solid", start_color=color, end_color=color)
    return out
