"""Safe output: text a spreadsheet would run as a formula is neutralised; HTML is escaped.

In CSV, a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed
with a single quote (the OWASP advice against CSV injection), and so is a text cell that already
begins with quotes followed by one of those, so that the change can always be undone: a reader gets
the original text back by removing one leading quote wherever the cell matches
``^'+[=+\\-@\\t\\r]`` (:func:`restore`). Only text cells are touched: numbers, missing values and
booleans stay as they are, so an amount of ``-50000000.0`` is never turned into text.

The workbook needs no such change: its text cells are written as strings (never formulas), so an
id like ``-A1`` reads back exactly as ``-A1``.

>>> import pandas as pd
>>> frame = pd.DataFrame({"name": ["=HYPERLINK(1)", "ACME", "-x", "'=y"], "n": [-1, 2, 3, 4]})
>>> neutralise(frame)["name"].tolist()
["'=HYPERLINK(1)", 'ACME', "'-x", "''=y"]
>>> [restore(x) for x in neutralise(frame)["name"]] == frame["name"].tolist()
True
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["FORMULA_STARTS", "UTF8_BOM", "escape", "neutralise", "restore", "write_csv"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA = re.compile("^'*[=+\\-@\t\r]")
_GUARDED = re.compile("^'+[=+\\-@\t\r]")


def _guard(value: object) -> object:
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def _risky_text(s: pd.Series) -> np.ndarray | None:
    """Where a column of text (and missing values) only begins like a formula, found by Arrow's
    regular expressions without a Python call per cell; None for a column that is not all text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(s, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # text mixed with numbers or other objects
        return None
    if pa.types.is_null(arr.type):
        return np.zeros(len(s), dtype=bool)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    found = pc.match_substring_regex(arr, _FORMULA.pattern).fill_null(False)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot be run as spreadsheet formulas (only ``str``
    cells change; every other value, in any column, is kept as it is)."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        risky_text = _risky_text(s)
        if risky_text is not None:  # all text: only the risky cells change
            if risky_text.any():
                guarded = s.astype(object).copy()
                guarded[risky_text] = "'" + s[risky_text].astype(str)
                out[col] = guarded if pd.api.types.is_object_dtype(s) else guarded.astype(s.dtype)
            continue
        is_text = s.map(lambda v: isinstance(v, str)).astype(bool)
        if not is_text.any():
            continue
        text = s[is_text].astype(str)
        risky = text.str.match(_FORMULA.pattern)
        if risky.any():
            guarded = s.map(_guard)
            out[col] = guarded if pd.api.types.is_object_dtype(s) else guarded.astype(s.dtype)
    return out


def restore(value: object) -> object:
    """Undo :func:`neutralise` on one cell read back from a CSV file.

    >>> restore("'-A1"), restore("-A1"), restore("'note"), restore(3.5)
    ('-A1', '-A1', "'note", 3.5)
    """
    if isinstance(value, str) and _GUARDED.match(value):
        return value[1:]
    return value


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
