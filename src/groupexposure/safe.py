"""Safe output: text a spreadsheet would run as a formula is neutralised; HTML is escaped.

A cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single
quote (the OWASP advice against CSV injection). Only text columns are touched: numbers stay numbers.

>>> import pandas as pd
>>> neutralise(pd.DataFrame({"name": ["=HYPERLINK(1)", "ACME", "-x"], "n": [-1, 2, 3]}))["name"].tolist()
["'=HYPERLINK(1)", 'ACME', "'-x"]
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

__all__ = ["FORMULA_STARTS", "escape", "neutralise", "write_csv"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA = "^[=+\\-@\t\r]"


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot be run as spreadsheet formulas."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        text = s.astype("str")
        risky = text.str.match(_FORMULA).fillna(False).astype(bool)
        if risky.any():
            out[col] = text.where(~risky, "'" + text[risky])
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """UTF-8 CSV with a header row, written by pyarrow (several times faster than pandas); text
    quoted only where needed, empty cells for missing values."""
    import pyarrow as pa
    from pyarrow import csv

    table = pa.Table.from_pandas(frame, preserve_index=False)
    csv.write_csv(table, str(path), csv.WriteOptions(quoting_style="needed"))


def escape(text: object) -> str:
    """HTML-escape any value for display."""
    return html.escape("" if text is None else str(text))
