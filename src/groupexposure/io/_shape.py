"""Tables as they really come (SPEC §1, §7): repeated headers, empty files, two files for one table,
and NaN written as text, found where the file is read.

Readers rename repeated column names (pandas turns a second ``drawn`` into ``drawn.1``), so the
header is read here as it is in the file. A float column that a reader parsed from the text ``nan``
holds a NaN that pandas cannot tell from a blank cell; :func:`keep_nan_text` puts the text back so
that validation refuses it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from ..model.issues import Problem, issue

__all__ = ["ambiguous_tables", "empty_file", "header_names", "keep_nan_text", "repeated_columns"]

_NAN_TEXT = frozenset({"nan", "+nan", "-nan"})


def header_names(path: Path) -> list[str]:
    """The column names of a file's header, as written (repeats kept); [] if none can be read."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with path.open("rb") as fh:
                first = fh.readline()
            line = first.decode("latin-1").lstrip("\ufeff").lstrip("ï»¿")  # bytes, whatever encoding
            return [c.strip() for c in next(csv.reader(io.StringIO(line)), [])]
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return [str(c) for c in pq.read_schema(path).names]
        if suffix in (".xlsx", ".xls"):
            head = pd.read_excel(path, header=None, nrows=1, dtype=object)
            return [str(c).strip() for c in head.iloc[0].tolist()] if len(head) else []
    except (OSError, ValueError, ImportError, StopIteration):
        return []
    return []


def repeated_columns(names: list[str], table: str, source: str) -> list[Problem]:
    """A ``duplicate_column`` error for every name that appears twice or more."""
    return [issue("duplicate_column", table, column=n, value=n,
                  message=f"{source} has {names.count(n)} columns named {n}; each column must "
                  "appear once (which one holds the data is ambiguous)")
            for n in sorted({c for c in names if names.count(c) > 1})]


def empty_file(path: Path, required: bool) -> Problem:
    """What a 0-byte file is: an empty optional table (a warning), or an error for a required one."""
    if required:
        return issue("unreadable_file", path.stem, value=path.name,
                     message=f"{path.name} is empty (0 bytes); it must hold at least its header row")
    return issue("empty_file", path.stem, value=path.name,
                 message=f"{path.name} is empty (0 bytes); read as an empty {path.stem} table")


def ambiguous_tables(found: list[Path]) -> Problem:
    """Two files for one table: an error naming both (which one is meant is unknown)."""
    names = " and ".join(p.name for p in found)
    return issue("ambiguous_table", found[0].stem, value=names,
                 message=f"{names} both hold the {found[0].stem} table; keep one of them")


def keep_nan_text(frame: pd.DataFrame, path: Path, floats: list[str]) -> pd.DataFrame:
    """Where a float column parsed from ``path`` holds NaN, read those columns again as text and
    put back every cell written as ``nan`` (so that validation refuses it instead of reading a
    blank). Columns without NaN, and files that cannot be read again, are left as they are."""
    cols = [c for c in floats if c in frame and pd.api.types.is_float_dtype(frame[c])
            and bool(frame[c].isna().any())]
    if not cols:
        return frame
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.compute as pc
            import pyarrow.parquet as pq

            table = pq.read_table(path, columns=cols)
            as_text = {c: pd.Series(pc.if_else(pc.is_nan(table[c]), "nan", None).to_pandas())
                       for c in cols if pc.any(pc.is_nan(table[c])).as_py()}
        else:
            import pyarrow as pa
            import pyarrow.compute as pc
            import pyarrow.csv as pcsv

            table = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(
                include_columns=cols, column_types=dict.fromkeys(cols, pa.float64()),
                null_values=[""]))  # a blank cell is null, the text nan is NaN
            as_text = {c: pd.Series(pc.if_else(pc.is_nan(table[c]), "nan", None).to_pandas())
                       for c in cols if pc.any(pc.is_nan(table[c])).as_py()}
    except (OSError, ValueError, ImportError, KeyError, TypeError):
        return frame
    for c, nan_text in as_text.items():
        hit = nan_text.notna().to_numpy()
        if hit.any() and len(nan_text) == len(frame):
            col = frame[c].astype(object)
            col[hit] = nan_text[hit].to_numpy()
            frame[c] = col
    return frame
