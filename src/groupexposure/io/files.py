"""Reading a portfolio: a directory of CSV, Parquet or Excel tables and ``capital.json``, or one
workbook with a sheet per table (SPEC §1).

Every identifier is read as text so that it keeps its form (``"007"`` stays ``"007"``); the
validation step converts numbers and flags. Files that cannot be read are recorded as problems rather
than raised one at a time, so a user sees everything that is wrong at once. The forms a Chinese bank
keeps are read too: CSV in GB18030/GBK (:mod:`.encodings`), the bank's own headers with a column map
(:mod:`.columns`), amounts in 万元 or 亿元 and with thousands separators (:mod:`.units`), one
workbook (:mod:`.workbook`).

>>> import groupexposure as gx
>>> book = gx.load_portfolio(gx.datasets.ningxia_path())
>>> len(book.entities), float(book.facilities["drawn"].sum())
(25, 2846000000.0)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..model.issues import Problem, issue
from ..model.portfolio import Portfolio, empty_table
from ..model.schema import TABLES
from ..model.schema import columns as column_specs
from ._shape import ambiguous_tables, empty_file, header_names, keep_nan_text, repeated_columns
from .columns import COLUMN_MAP_FILE, ColumnMap, check_column_map, read_column_map, renames
from .encodings import EncodingError, check_encoding, detect_encoding, utf8_source
from .units import (
    AMOUNT_COLUMNS,
    CAPITAL_AMOUNTS,
    Unit,
    amount_with_unit,
    scale,
    to_numbers,
    unit_factor,
    unit_hint,
)
from .workbook import WORKBOOK_SUFFIXES, capital_from_sheet, read_workbook, table_from_sheet

__all__ = ["FILE_SUFFIXES", "REQUIRED_TABLES", "find_table", "load_portfolio", "read_capital", "read_table"]

FILE_SUFFIXES = (".csv", ".parquet", ".xlsx", ".xls")
REQUIRED_TABLES = ("entities", "ownership", "facilities")


def find_table(directory: Path, name: str) -> Path | None:
    """The file holding table ``name`` in ``directory`` (``entities.csv``, ``entities.parquet``, ...)."""
    found = [directory / f"{name}{s}" for s in FILE_SUFFIXES if (directory / f"{name}{s}").is_file()]
    return found[0] if found else None


def _missing_extra(package: str, extra: str, path: Path) -> Problem:
    return Problem(
        "error", "missing_dependency", path.stem, None, "", "", path.name,
        f"reading {path.name} needs the '{package}' package: pip install 'groupexposure[{extra}]'",
    )


def _unreadable(table: str, name: str, message: str) -> Problem:
    return Problem("error", "unreadable_file", table, None, "", "", name, message)


def read_table(path: Path, *, encoding: str | None = None, column_map: ColumnMap | None = None
               ) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read one table as text (a CSV in UTF-8 or GB18030, detected, or in ``encoding``), its
    headers renamed by ``column_map``. Returns the frame (None if unreadable) and the problems."""
    table = path.stem
    suffix = path.suffix.lower()
    if path.is_file() and path.stat().st_size == 0:  # an empty optional table, with a warning
        required = table in ("entities", "facilities")
        return (None if required else empty_table(table)), [empty_file(path, required)]
    mapping = column_map or {}
    problems: list[Problem] = []
    try:
        if suffix == ".csv":
            frame, problems = _read_csv(path, table, encoding, mapping)
        else:
            if suffix == ".parquet":
                frame = pd.read_parquet(path)
            else:
                try:
                    import openpyxl  # noqa: F401
                except ImportError:
                    return None, [_missing_extra("openpyxl", "excel", path)]
                frame = pd.read_excel(path, dtype=object, keep_default_na=False, na_values=[""])
            frame.columns = [str(c).strip() for c in frame.columns]
            rename, problems = renames(table, list(frame.columns), mapping, path.name)
            frame = frame.rename(columns=rename)
    except EncodingError as exc:
        return None, [_unreadable(table, path.name, str(exc))]
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, [_unreadable(table, path.name, f"cannot read {path.name}: {detail}")]
    repeated = repeated_columns(header_names(path), table, path.name)
    if repeated:
        return None, repeated
    floats = [c.name for c in column_specs(table) if c.kind == "float"] if table in TABLES else []
    return keep_nan_text(frame, path, floats), problems


def _read_csv(path: Path, table: str, encoding: str | None, mapping: ColumnMap
              ) -> tuple[pd.DataFrame, list[Problem]]:
    """A CSV table with pyarrow's multi-threaded reader. Identifiers and flags are read as text;
    numeric columns as numbers where every cell parses, otherwise the whole file as text so that
    the numbers can be read cell by cell ("300,000,000.00") and validation can name each bad cell.
    Only empty cells are missing ("NA" is an identifier)."""
    enc = detect_encoding(path, encoding)
    source = utf8_source(path, enc)
    header = [str(c).strip() for c in pd.read_csv(source, nrows=0, encoding="utf-8-sig").columns]
    rename, problems = renames(table, header, mapping, path.name)
    kinds = {c.name: c.kind for c in column_specs(table)} if table in TABLES else {}
    typed = {name: ("float64" if kind == "float" else "str") for name, kind in kinds.items()}
    raw = {h: rename.get(h, h) for h in header}
    dtype: dict[str, str] = {h: typed[c] for h, c in raw.items() if c in typed}
    options: dict[str, Any] = {"engine": "pyarrow", "keep_default_na": False, "na_values": [""],
                               "encoding": "utf-8-sig"}
    try:
        frame = pd.read_csv(_rewind(source), dtype=dtype, **options)
    except ValueError:
        frame = pd.read_csv(_rewind(source), dtype=str, **options)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.rename(columns=rename), problems


def _rewind(source: Any) -> Any:
    if hasattr(source, "seek"):
        source.seek(0)
    return source


def _numbers(table: str, frame: pd.DataFrame, factor: float, unit: Unit
             ) -> tuple[pd.DataFrame, list[Problem]]:
    """The table's numeric columns read as numbers (thousands separators too); the facilities'
    amounts scaled by ``factor``; a cell such as "3亿元" blanked and reported with how to give the
    unit (its row is then dropped or the analysis stopped: never read as 0)."""
    problems: list[Problem] = []
    numeric = [c.name for c in column_specs(table) if c.kind == "float" and c.name in frame]
    if not numeric:
        return frame, problems
    key = [k for k in ("facility_id", "entity_id", "owner_id", "currency") if k in frame][:1]
    changed: dict[str, pd.Series] = {}
    for col in numeric:
        original = frame[col]
        values = to_numbers(original)
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            texty = pd.Series(False, index=values.index)
        elif table == "facilities" and col in AMOUNT_COLUMNS:
            texty = amount_with_unit(values)
        else:  # a share or a rate with a unit is reported by validation as not a number
            texty = pd.Series(False, index=values.index)
        if texty.any():
            for pos in texty.to_numpy().nonzero()[0]:
                cell = str(values.iloc[pos])
                problems.append(issue(
                    "amount_with_unit", table, row=int(pos) + 1, column=col, value=cell,
                    key=f"{key[0]}={frame[key[0]].iloc[pos]}" if key else "",
                    message=f"{col}: " + unit_hint(cell)))
            values = values.astype(object).where(~texty, None)
        if table == "facilities" and col in AMOUNT_COLUMNS:
            values = scale(values, factor)
        if texty.any():  # the text stays, so that validation drops the row (never read as 0)
            values = values.astype(object).where(~texty, original.astype(object))
        if values is not original:
            changed[col] = values
    if changed:  # a copy only where a column was read anew (never the input frame changed)
        frame = frame.assign(**changed)
    if table == "facilities" and factor != 1.0 and len(frame):
        problems.append(issue(
            "amount_unit", "facilities", column=", ".join(c for c in AMOUNT_COLUMNS if c in frame),
            value=str(unit), message=f"facility amounts read in {unit} and multiplied by "
            f"{factor:,.10g}: results are in the reporting currency's unit (元)"))
    return frame, problems


def _capital_numbers(data: dict[str, Any], factor: float, unit: Unit) -> tuple[dict[str, Any], list[Problem]]:
    """The capital figures as numbers (thousands separators read), scaled by ``factor``."""
    out = dict(data)
    problems: list[Problem] = []
    for key in CAPITAL_AMOUNTS:
        value = out.get(key)
        if isinstance(value, str):
            if amount_with_unit(pd.Series([value])).iloc[0]:
                problems.append(issue("invalid_capital", "capital", column=key, value=value,
                                      message=f"{key}: " + unit_hint(value, option="capital_unit")))
                continue
            number = to_numbers(pd.Series([value])).iloc[0]
            value = number if isinstance(number, float) else value
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = float(scale(pd.Series([float(value)]), factor).iloc[0])
    if factor != 1.0:
        problems.append(issue("amount_unit", "capital", column=", ".join(CAPITAL_AMOUNTS),
                              value=str(unit), message=f"capital read in {unit} and multiplied by "
                              f"{factor:,.10g}"))
    return out, problems


def read_capital(path: Path, column_map: ColumnMap | None = None
                 ) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Read ``capital.json`` as a plain dict (keys renamed by the map's ``capital`` section); the
    Capital model validates it later."""
    if not path.is_file():
        return None, [
            Problem("error", "missing_file", "capital", None, "", "", str(path.name),
                    f"capital.json is required (the reporting bank's Tier 1 capital); "
                    f"none in {path.parent}")
        ]
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))  # a byte-order mark is fine
    except (OSError, ValueError) as exc:
        return None, [_unreadable("capital", path.name, f"cannot read {path.name}: {exc}")]
    if not isinstance(data, dict):
        return None, [_unreadable("capital", path.name, f"{path.name} must hold a JSON object such as "
                                  '{"tier1": 1e9, "currency": "CNY"}')]
    return _rename_capital(data, column_map or {}, path.name)


def _rename_capital(data: dict[str, Any], mapping: ColumnMap, source: str
                    ) -> tuple[dict[str, Any], list[Problem]]:
    rename, problems = renames("capital", list(data), mapping, source)
    return {rename.get(k, k): v for k, v in data.items()}, problems


def _from_directory(directory: Path, encoding: str | None, mapping: ColumnMap
                    ) -> tuple[dict[str, pd.DataFrame], dict[str, Any] | None, dict[str, str],
                               list[Problem]]:
    problems: list[Problem] = []
    if not directory.is_dir():
        problems.append(
            Problem("error", "missing_file", "portfolio", None, "", "", str(directory),
                    f"{directory} is not a directory holding entities.csv, ownership.csv, "
                    "facilities.csv and capital.json, nor a workbook (.xlsx) with a sheet per table")
        )
        return {t: empty_table(t) for t in TABLES}, None, {}, problems
    frames: dict[str, pd.DataFrame] = {}
    sources: dict[str, str] = {}
    for table in TABLES:
        path = find_table(directory, table)
        if path is None:
            if table in REQUIRED_TABLES:
                found = sorted(p.name for p in directory.iterdir())
                problems.append(
                    Problem("error", "missing_file", table, None, "", "", f"{table}.csv",
                            f"{table}.csv (or .parquet/.xlsx) is required; {directory} holds "
                            f"{', '.join(found) or 'nothing'}")
                )
            frames[table] = empty_table(table)
            continue
        files = [directory / f"{table}{s}" for s in FILE_SUFFIXES if (directory / f"{table}{s}").is_file()]
        if len(files) > 1:  # two files for one table: which one is meant is unknown
            problems.append(ambiguous_tables(files))
        frame, met = read_table(path, encoding=encoding, column_map=mapping)
        problems.extend(met)
        frames[table] = frame if frame is not None else empty_table(table)
        sources[table] = path.name
    capital, met = read_capital(directory / "capital.json", mapping)
    problems.extend(met)
    return frames, capital, sources, problems


def _from_workbook(path: Path, mapping: ColumnMap
                   ) -> tuple[dict[str, pd.DataFrame], dict[str, Any] | None, dict[str, str],
                              list[Problem]]:
    sheets, problems = read_workbook(path)
    frames: dict[str, pd.DataFrame] = {t: empty_table(t) for t in TABLES}
    sources: dict[str, str] = {}
    if problems:
        return frames, None, sources, problems
    for table in TABLES:
        if table not in sheets:
            if table in REQUIRED_TABLES:
                problems.append(issue(
                    "missing_file", table, value=f"{path.name}[{table}]",
                    message=f"{path.name} needs a sheet named {table}; its sheets are: "
                    f"{', '.join(sheets) or 'none'}"))
            continue
        name = f"{path.name}[{table}]"
        frame = table_from_sheet(sheets[table])
        rename, met = renames(table, list(frame.columns), mapping, f"the {table} sheet")
        problems.extend(met)
        frames[table] = frame.rename(columns=rename) if len(frame.columns) else empty_table(table)
        sources[table] = name
    beside = path.parent / "capital.json"
    capital: dict[str, Any] | None = None
    if "capital" in sheets:
        capital, met = capital_from_sheet(sheets["capital"], f"{path.name}[capital]")
        problems.extend(met)
        if capital is not None:
            capital, met = _rename_capital(capital, mapping, "the capital sheet")
            problems.extend(met)
        if beside.is_file():
            problems.append(issue(
                "invalid_capital", "capital", value=str(beside),
                message=f"two capital records: the capital sheet of {path.name} and {beside}; "
                "keep one, so that it is clear which Tier 1 the book is held against"))
    elif beside.is_file():
        capital, met = read_capital(beside, mapping)
        problems.extend(met)
    else:
        problems.append(issue(
            "missing_file", "capital", value=path.name,
            message=f"{path.name} has no capital sheet (key/value rows: tier1, currency, ...) "
            f"and there is no capital.json beside it in {path.parent}"))
    return frames, capital, sources, problems


def _column_map(columns: ColumnMap | str | Path | None, folder: Path) -> dict[str, dict[str, str]]:
    if isinstance(columns, str | Path):
        return read_column_map(columns)
    if columns is not None:
        return check_column_map(columns)
    beside = folder / COLUMN_MAP_FILE
    return read_column_map(beside) if beside.is_file() else {}


def load_portfolio(
    source: str | Path,
    *,
    encoding: str | None = None,
    columns: ColumnMap | str | Path | None = None,
    amount_unit: Unit = None,
    capital_unit: Unit = None,
) -> Portfolio:
    """Read a portfolio: a directory of ``entities``, ``ownership``, ``facilities`` (required),
    ``connections``, ``fx`` (optional) as CSV, Parquet or Excel, and ``capital.json``; or one
    workbook (``.xlsx``) with a sheet per table and a ``capital`` sheet (or capital.json beside it).

    Parameters
    ----------
    source
        The directory, or the workbook.
    encoding
        The CSV files' encoding; by default UTF-8 (with or without a byte-order mark) or else
        GB18030 (which reads GBK), detected per file.
    columns
        A column map ``{table: {bank header: column}}`` (or the path of its JSON file); by default
        ``columns.json`` beside the files, if there is one.
    amount_unit, capital_unit
        The unit of the facilities' amounts and of the capital figures: ``元``, ``万元``, ``亿元``
        (also ``千元``, ``百万元``) or a number; everything is converted to 元 as it is read.

    Nothing is validated here beyond being able to read the files: problems (a missing or unreadable
    file, a mapped header a file lacks, an amount written with its unit) are kept on the portfolio
    and reported by :func:`groupexposure.analyze` together with every other problem. Arguments that
    cannot be right whatever the files hold (an unknown encoding or unit, a column map onto an
    unknown column) raise ValueError at once.
    """
    path = Path(source)
    if encoding is not None:
        check_encoding(encoding)
    amount = unit_factor(amount_unit, name="amount_unit")
    capital_factor = unit_factor(capital_unit, name="capital_unit")
    workbook = path.is_file() and path.suffix.lower() in WORKBOOK_SUFFIXES
    mapping = _column_map(columns, path.parent if workbook else path)
    if workbook:
        frames, capital, sources, problems = _from_workbook(path, mapping)
    else:
        frames, capital, sources, problems = _from_directory(path, encoding, mapping)
    for table in TABLES:
        frames[table], met = _numbers(table, frames[table], amount, amount_unit)
        problems.extend(met)
    if capital is not None:
        capital, met = _capital_numbers(capital, capital_factor, capital_unit)
        problems.extend(met)
    return Portfolio(**frames, capital=capital, sources=sources, problems=tuple(problems))
