"""A bank's own column headers mapped onto the library's (SPEC §1, "Files as banks have them").

A map is ``{table: {bank header: column}}``, given as ``columns=`` to :func:`load_portfolio` or as
``columns.json`` beside the files (CLI ``--columns FILE``). The section ``capital`` maps the keys of
capital.json or of a workbook's capital sheet (``{"capital": {"一级资本净额": "tier1"}}``).

A map that names an unknown table or maps onto a column the library does not know is refused when it
is given (nothing is read); a mapped header that a file lacks, or a file that holds both the bank's
header and the library's own name for it, is reported with the file's problems.

>>> m = check_column_map({"entities": {"客户编号": "entity_id", "客户名称": "name"}})
>>> renames("entities", ["客户编号", "客户名称", "备注"], m, "entities.csv")
({'客户编号': 'entity_id', '客户名称': 'name'}, [])
>>> check_column_map({"entities": {"客户编号": "entity_ID"}})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: column map: entities: 客户编号 is mapped onto entity_ID, ... did you mean entity_id? ...
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ..model.issues import Problem, close_matches, issue
from ..model.schema import TABLES, Capital, columns

__all__ = ["COLUMN_MAP_FILE", "ColumnMap", "check_column_map", "read_column_map", "renames"]

ColumnMap = Mapping[str, Mapping[str, str]]
COLUMN_MAP_FILE = "columns.json"
CAPITAL_KEYS = (*Capital.model_fields, "bank_name")
"""The keys a capital record may carry (``bank_name`` is shown on the reports)."""


def _known(table: str) -> list[str]:
    return list(CAPITAL_KEYS) if table == "capital" else [c.name for c in columns(table)]


def check_column_map(mapping: object, *, source: str = "column map") -> dict[str, dict[str, str]]:
    """The map as plain dicts, or one ValueError listing everything wrong with it."""
    tables = [*TABLES, "capital"]
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{source} must be an object {{table: {{bank header: column}}}}, such as "
                         '{"entities": {"客户编号": "entity_id"}}; got ' + type(mapping).__name__)
    wrong: list[str] = []
    out: dict[str, dict[str, str]] = {}
    for table, pairs in mapping.items():
        if table not in tables:
            near = close_matches(str(table), tables)
            hint = f" — did you mean {' or '.join(near)}?" if near else ""
            wrong.append(f"{table!r} is not a table{hint} (tables: {', '.join(tables)})")
            continue
        if not isinstance(pairs, Mapping):
            wrong.append(f"{table}: must map bank headers to columns, such as "
                         '{"客户编号": "entity_id"}')
            continue
        known = _known(table)
        seen: dict[str, str] = {}
        for header, target in pairs.items():
            if not isinstance(target, str) or target not in known:
                near = close_matches(str(target), known)
                hint = f" — did you mean {' or '.join(near)}?" if near else ""
                wrong.append(f"{table}: {header} is mapped onto {target}, which is not a column of "
                             f"{table}{hint} (columns: {', '.join(known)})")
                continue
            if target in seen:
                wrong.append(f"{table}: both {seen[target]} and {header} are mapped onto {target}")
                continue
            seen[target] = str(header).strip()
        out[table] = {h: t for t, h in seen.items()}
    if wrong:
        raise ValueError(f"{source}: " + "; ".join(wrong))
    return out


def read_column_map(path: str | Path) -> dict[str, dict[str, str]]:
    """A column map from a JSON file (``columns.json``), checked."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as err:
        raise ValueError(f"cannot read the column map {path}: {err.strerror or err}") from None
    except ValueError as err:
        raise ValueError(f"the column map {path.name} is not valid JSON: {err}") from None
    return check_column_map(data, source=path.name)


def renames(table: str, header: list[str], mapping: ColumnMap, source: str
            ) -> tuple[dict[str, str], list[Problem]]:
    """The renames for one file's ``header`` (stripped names), and the problems: a mapped header the
    file lacks, or a file holding both a bank header and the column it is mapped onto."""
    pairs = dict(mapping.get(table, {}))
    problems: list[Problem] = []
    have = set(header)
    for bank, target in pairs.items():
        if bank not in have:
            problems.append(issue(
                "column_map", table, column=target, value=bank,
                message=f"the column map renames {bank} to {target}, but {source} has no column "
                f"{bank}; its columns are: {', '.join(header) or 'none'}"))
        elif target in have and target != bank:
            problems.append(issue(
                "column_map", table, column=target, value=bank,
                message=f"{source} has both {bank} (mapped onto {target}) and {target}; keep one, "
                "or take the mapping out"))
    ok = {b: t for b, t in pairs.items() if b in have and (t not in have or t == b)}
    return ok, problems
