"""One Excel workbook with a sheet per table, read like a directory (SPEC §1).

The sheets are named like the files: ``entities``, ``ownership``, ``facilities`` (required),
``connections`` and ``fx`` (optional); case and surrounding spaces do not matter. The capital record is
either a ``capital`` sheet of key/value rows (column A the key: ``tier1``, ``total_capital``,
``currency``, ``is_gsib``, ``as_of``, ``bank_name``; column B its value; a first row ``key | value``
is a header and skipped) or ``capital.json`` beside the workbook. Both at once is refused: the
analysis would not know which Tier 1 to hold the book against.

Every cell is read as Excel holds it (text as text, numbers as numbers); identifiers a spreadsheet
turned into numbers are reported by validation.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from ..model.issues import Problem, issue

__all__ = ["WORKBOOK_SUFFIXES", "capital_from_sheet", "read_workbook"]

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
_HEADER_KEYS = frozenset({"key", "field", "name", "项目", "字段", "指标", "名称"})


def read_workbook(path: Path) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Every sheet of ``path`` by its normalised name (stripped, lower case), read as text and
    numbers; the problems met (a missing package, an unreadable file)."""
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        return {}, [issue("missing_dependency", "portfolio", value=path.name,
                          message=f"reading {path.name} needs the 'openpyxl' package: "
                          "pip install 'groupexposure[excel]'")]
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=object, header=None)
    except (OSError, ValueError, KeyError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return {}, [issue("unreadable_file", "portfolio", value=path.name,
                          message=f"cannot read {path.name}: {detail}")]
    return {str(name).strip().lower(): frame for name, frame in sheets.items()}, []


def table_from_sheet(raw: pd.DataFrame) -> pd.DataFrame:
    """A sheet read without a header as a table: the first non-empty row is the header; blank
    rows at the end are dropped."""
    raw = raw.dropna(how="all")
    if raw.empty:
        return pd.DataFrame()
    header = [("" if pd.isna(v) else str(v).strip()) for v in raw.iloc[0]]
    body = raw.iloc[1:].reset_index(drop=True)
    body.columns = pd.Index(header)
    body = body.loc[:, [h != "" for h in header]]
    return body.astype(object).where(body.notna(), None)


def capital_from_sheet(raw: pd.DataFrame, sheet: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The capital record from a sheet of key/value rows."""
    rows = raw.dropna(how="all")
    if rows.shape[1] < 2:
        return None, [issue("invalid_capital", "capital", value=sheet,
                            message=f"the {sheet} sheet must hold key/value rows (column A: tier1, "
                            "currency, ...; column B: the value)")]
    record: dict[str, Any] = {}
    for i, (key, value) in enumerate(zip(rows.iloc[:, 0], rows.iloc[:, 1], strict=True)):
        name = "" if pd.isna(key) else str(key).strip()
        if i == 0 and name.lower() in _HEADER_KEYS:
            continue
        if not name or (value is None or (isinstance(value, float) and value != value)):
            continue
        if isinstance(value, dt.datetime):
            value = value.date().isoformat()
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, str):
            value = value.strip()
        record[name] = value
    return record, []
