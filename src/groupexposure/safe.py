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

__all__ = ["FORMULA_STARTS", "UTF8_BOM", "escape", "neutralise", "write_csv"]

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


UTF8_BOM = b"\xef\xbb\xbf"
"""The UTF-8 byte-order mark: Excel on a Chinese (or any) Windows reads a CSV that starts with it
as UTF-8; without it, as the local code page (GBK), and Chinese names turn into mojibake."""


def write_csv(frame: pd.DataFrame, path: str | Path, *, bom: bool = True) -> None:
    """UTF-8 CSV with a header row, written by pyarrow (several times faster than pandas); text
    quoted only where needed, empty cells for missing values. ``bom=True`` (default, SPEC §8)
    starts the file with the UTF-8 byte-order mark so that Excel opens Chinese text.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> write_csv(pd.DataFrame({"name": ["宁夏"]}), out)
    >>> out.read_bytes()[:3] == UTF8_BOM, out.read_text(encoding="utf-8-sig")
    (True, '"name"\\n"宁夏"\\n')
    """
    import pyarrow as pa
    from pyarrow import csv

    table = pa.Table.from_pandas(frame, preserve_index=False)
    with pa.OSFile(str(path), "wb") as sink:
        if bom:
            sink.write(UTF8_BOM)
        csv.write_csv(table, sink, csv.WriteOptions(quoting_style="needed"))


def escape(text: object) -> str:
    """HTML-escape any value for display."""
    return html.escape("" if text is None else str(text))
