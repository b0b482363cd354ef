"""Problems found in the input and issues found in the analysis, collected into one table.

Every problem is a row ``severity, code, table, row, key, column, value, message``. Validation collects
them all in one pass; :class:`ValidationError` carries the whole table and lists the first 50 in its
message.

>>> err = ValidationError(issues_frame([Problem("error", "bad_share", "ownership", 3,
...     "owner_id=A, owned_id=B", "share", "60", "share must be in (0, 1]; got 60")]))
>>> print(err)
1 problem in the input:
  - ownership.csv row 3 (owner_id=A, owned_id=B): share must be in (0, 1]; got 60
>>> isinstance(err, ValueError), len(err.problems)
(True, 1)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass
from typing import Literal

import pandas as pd

__all__ = [
    "ISSUE_COLUMNS",
    "Problem",
    "ValidationError",
    "close_matches",
    "issues_frame",
]

Severity = Literal["error", "warning", "info"]
ISSUE_COLUMNS = ["severity", "code", "table", "key", "column", "message", "row", "value"]
"""Columns of ``result.issues``: the four of SPEC §8 first, then the row number and the bad value."""

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
MAX_LISTED = 50


@dataclass(frozen=True)
class Problem:
    """One problem or issue. ``row`` is the 1-based data row in its file (header excluded), or None."""

    severity: Severity
    code: str
    table: str
    row: int | None
    key: str
    column: str
    value: str
    message: str


def issues_frame(problems: Iterable[Problem] | pd.DataFrame) -> pd.DataFrame:
    """Collect problems into the issues table, sorted by severity, table, row, code, key, column."""
    if isinstance(problems, pd.DataFrame):
        frame = problems.copy()
    else:
        rows = [astuple(p) for p in problems]
        fields = ["severity", "code", "table", "row", "key", "column", "value", "message"]
        frame = pd.DataFrame(rows, columns=fields)
    for col in ISSUE_COLUMNS:
        if col not in frame:
            frame[col] = pd.NA
    frame["row"] = frame["row"].astype("Int64")
    for col in ("severity", "code", "table", "key", "column", "message", "value"):
        frame[col] = frame[col].fillna("").astype(str)
    order = frame["severity"].map(_SEVERITY_ORDER).fillna(3)
    frame = frame.assign(_s=order).sort_values(
        ["_s", "table", "row", "code", "key", "column", "message"], kind="stable", na_position="first"
    )
    return frame.drop(columns="_s")[ISSUE_COLUMNS].reset_index(drop=True)


def _where(row: pd.Series) -> str:
    table = row["table"]
    place = f"{table}.csv" if table and table not in ("capital", "policy", "portfolio") else table
    if table == "capital":
        place = "capital.json"
    if pd.notna(row["row"]):
        place += f" row {int(row['row'])}"
    if row["key"]:
        place += f" ({row['key']})"
    return place or "input"


def format_problems(frame: pd.DataFrame, limit: int = MAX_LISTED) -> str:
    """The readable list of problems: the first ``limit``, then how many more."""
    errors = frame[frame["severity"] == "error"] if "severity" in frame else frame
    n = len(errors)
    lines = [f"{n} problem{'s' if n != 1 else ''} in the input:"]
    for _, row in errors.head(limit).iterrows():
        lines.append(f"  - {_where(row)}: {row['message']}")
    if n > limit:
        lines.append(f"  ... and {n - limit} more (see .problems)")
    return "\n".join(lines)


class ValidationError(ValueError):
    """The input breaks the rules of SPEC §1. ``problems`` holds every problem as a DataFrame."""

    def __init__(self, problems: pd.DataFrame) -> None:
        self.problems = problems
        super().__init__(format_problems(problems))


def close_matches(value: str, known: Sequence[str], n: int = 3) -> list[str]:
    """Known ids closest to ``value``, for "did you mean" hints.

    >>> close_matches("E12", ["E1", "E120", "X9"])
    ['E120', 'E1']
    """
    return difflib.get_close_matches(str(value), list(known), n=n, cutoff=0.6)
