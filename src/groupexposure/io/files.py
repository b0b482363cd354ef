"""Reading a portfolio directory: CSV, Parquet or Excel tables and ``capital.json`` (SPEC §1).

Every cell is read as text so that identifiers keep their form (``"007"`` stays ``"007"``); the
validation step converts numbers and flags. Files that cannot be read are recorded as problems rather
than raised one at a time, so a user sees everything that is wrong at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..model.issues import Problem
from ..model.portfolio import Portfolio, empty_table
from ..model.schema import TABLES, columns
from ._shape import ambiguous_tables, empty_file, header_names, keep_nan_text, repeated_columns

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


def read_table(path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read one table as text. Returns the frame (None if unreadable) and the problems met."""
    table = path.stem
    suffix = path.suffix.lower()
    if path.is_file() and path.stat().st_size == 0:  # an empty optional table, with a warning
        required = table in ("entities", "facilities")
        return (None if required else empty_table(table)), [empty_file(path, required)]
    try:
        if suffix == ".csv":
            frame = _read_csv(path)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            try:
                import openpyxl  # noqa: F401
            except ImportError:
                return None, [_missing_extra("openpyxl", "excel", path)]
            frame = pd.read_excel(path, dtype=object, keep_default_na=False, na_values=[""])
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, [
            Problem("error", "unreadable_file", table, None, "", "", path.name,
                    f"cannot read {path.name}: {detail}")
        ]
    frame.columns = [str(c).strip() for c in frame.columns]
    repeated = repeated_columns(header_names(path), table, path.name)
    if repeated:
        return None, repeated
    floats = [c.name for c in columns(table) if c.kind == "float"] if table in TABLES else []
    return keep_nan_text(frame, path, floats), []


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV table with pyarrow's multi-threaded reader. Identifiers and flags are read as text;
    numeric columns as numbers where every cell parses, otherwise the whole file as text so that
    validation can name each bad cell. Only empty cells are missing ("NA" is an identifier)."""
    kinds = {c.name: c.kind for c in columns(path.stem)} if path.stem in TABLES else {}
    typed = {name: ("float64" if kind == "float" else "str") for name, kind in kinds.items()}
    header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    dtype: dict[str, str] = {c: t for c, t in typed.items() if c in header}
    try:
        return pd.read_csv(path, dtype=dtype, engine="pyarrow", keep_default_na=False,
                           na_values=[""], encoding="utf-8-sig")
    except ValueError:
        return pd.read_csv(path, dtype=str, engine="pyarrow", keep_default_na=False,
                           na_values=[""], encoding="utf-8-sig")


def read_capital(path: Path) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Read ``capital.json`` as a plain dict; the Capital model validates it later."""
    if not path.is_file():
        return None, [
            Problem("error", "missing_file", "capital", None, "", "", str(path.name),
                    f"capital.json is required (the reporting bank's Tier 1 capital); "
                    f"none in {path.parent}")
        ]
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))  # a byte-order mark is fine
    except (OSError, ValueError) as exc:
        return None, [
            Problem("error", "unreadable_file", "capital", None, "", "", path.name,
                    f"cannot read {path.name}: {exc}")
        ]
    if not isinstance(data, dict):
        return None, [
            Problem("error", "unreadable_file", "capital", None, "", "", path.name,
                    f"{path.name} must hold a JSON object such as "
                    '{"tier1": 1e9, "currency": "CNY"}')
        ]
    return data, []


def load_portfolio(directory: str | Path) -> Portfolio:
    """Read a portfolio directory: ``entities``, ``ownership``, ``facilities`` (required),
    ``connections``, ``fx`` (optional) as CSV, Parquet or Excel, and ``capital.json``.

    Nothing is validated here beyond being able to read the files: problems (a missing or unreadable
    file) are kept on the portfolio and reported by :func:`groupexposure.analyze` together with every
    other problem.
    """
    directory = Path(directory)
    problems: list[Problem] = []
    if not directory.is_dir():
        problems.append(
            Problem("error", "missing_file", "portfolio", None, "", "", str(directory),
                    f"{directory} is not a directory holding entities.csv, ownership.csv, "
                    "facilities.csv and capital.json")
        )
    frames: dict[str, pd.DataFrame] = {}
    sources: dict[str, str] = {}
    for table in TABLES:
        path = find_table(directory, table) if directory.is_dir() else None
        if path is None:
            if table in REQUIRED_TABLES and directory.is_dir():
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
        frame, met = read_table(path)
        problems.extend(met)
        frames[table] = frame if frame is not None else empty_table(table)
        sources[table] = path.name
    capital, met = read_capital(directory / "capital.json")
    if directory.is_dir():
        problems.extend(met)
    return Portfolio(**frames, capital=capital, sources=sources, problems=tuple(problems))
