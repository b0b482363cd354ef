"""Write a return: one CSV per table (UTF-8 with a byte-order mark, header row of the column codes)
and one workbook (a sheet per table under the form's own headings, numbers as numbers with formats;
needs ``groupexposure[report]``)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..safe import neutralise
from ._common import Returns

__all__ = ["write_returns"]

_PERCENT = {"eu_corep_le": {"0230", "0350", "0240", "0360"}, "basel_lex20": {"of_tier1"}}


def _stem(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]+", "_", name).strip("_")


def write_returns(ret: Returns, out_dir: str | Path, *, bom: bool = True,
                  workbook: bool = True) -> list[Path]:
    """Write ``ret`` into ``out_dir``: ``<template>_<table>.csv`` per table, ``<template>_issues.csv``
    and ``<template>.xlsx``; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    encoding = "utf-8-sig" if bom else "utf-8"
    written = []
    for table, frame in [*ret.items(), ("issues", ret.issues)]:
        path = out / f"{ret.template}_{_stem(table)}.csv"
        neutralise(frame).to_csv(path, index=False, encoding=encoding)
        written.append(path)
    if workbook:
        written.append(_workbook(ret, out / f"{ret.template}.xlsx"))
    return written


def _workbook(ret: Returns, path: Path) -> Path:
    try:
        import openpyxl
        from openpyxl.styles import Alignment, Font
    except ImportError:
        raise ImportError("writing the return's workbook needs openpyxl: "
                          "pip install 'groupexposure[report]'") from None
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for table, frame in [*ret.items(), ("issues", ret.issues)]:
        ws = wb.create_sheet(title=table[:31])
        labels = ret.labels.get(table, {})
        if ret.template == "cn_g14":  # the G14 headings are the form's own column names
            heads = [list(frame.columns)]
        else:  # the COREP forms head each column by its label, then its code
            heads = [[labels.get(c, c) for c in frame.columns], list(frame.columns)]
        for i, head in enumerate(heads, start=1):
            for j, value in enumerate(head, start=1):
                cell = ws.cell(row=i, column=j, value=value)
                cell.font = Font(bold=True)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        first = len(heads) + 1
        safe = neutralise(frame)
        fmts = [_format(ret.template, table, c, frame[c]) for c in frame.columns]
        for r, rec in enumerate(safe.itertuples(index=False), start=first):
            for j, value in enumerate(rec, start=1):
                if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
                    continue
                cell = ws.cell(row=r, column=j, value=value.item() if hasattr(value, "item")
                               else value)
                if fmts[j - 1]:
                    cell.number_format = fmts[j - 1]
        if table == "C 26.00":  # row 0030 is a percentage of Tier 1
            for r in range(first, first + len(frame)):
                if ws.cell(row=r, column=1).value == "0030":
                    ws.cell(row=r, column=3).number_format = "0.00%"
        for j, c in enumerate(frame.columns, start=1):
            width = min(max(len(str(labels.get(c, c))) // 2, len(str(c)), 10), 40)
            ws.column_dimensions[openpyxl.utils.get_column_letter(j)].width = width
        ws.freeze_panes = ws.cell(row=first, column=1)
    wb.save(path)
    return path


def _format(template: str, table: str, column: str, values: pd.Series) -> str:
    """Excel number format of one column ('' for text and integer columns)."""
    if not pd.api.types.is_float_dtype(values):
        return ""
    if column in _PERCENT.get(template, set()) and table != "C 26.00":
        return "0.00%"
    if template == "cn_g14":
        return "0.00"
    return "#,##0.00"
