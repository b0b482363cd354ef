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
    "ISSUE_CODES",
    "ISSUE_COLUMNS",
    "IssueCode",
    "Problem",
    "ValidationError",
    "close_matches",
    "issue",
    "issue_codes_markdown",
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


@dataclass(frozen=True)
class IssueCode:
    """One registered issue code: its severity and what it means, in one line."""

    severity: Severity
    meaning: str


ISSUE_CODES: dict[str, IssueCode] = {
    # reading files (io/)
    "missing_file": IssueCode("error", "a required file or directory is absent"),
    "unreadable_file": IssueCode("error", "a file could not be read or parsed"),
    "missing_dependency": IssueCode("error", "a file format needs an optional package that is not installed"),
    "column_map": IssueCode("error", "a mapped header a file lacks, or one clashing with a column"),
    "amount_with_unit": IssueCode("error", "an amount written with its unit (3亿元)"),
    "amount_unit": IssueCode("info", "amounts read in a unit (万元, 亿元, ...), converted to 元"),

    "ambiguous_table": IssueCode("error", "two files hold one table (entities.csv and entities.parquet)"),
    "empty_file": IssueCode("warning", "an optional file of 0 bytes, read as an empty table"),
    "duplicate_column": IssueCode("error", "a table has two columns of the same name"),
    # columns and values (validate/)
    "missing_column": IssueCode("error", "a required column is absent"),
    "missing_value": IssueCode("error", "a required cell is blank"),
    "not_a_number": IssueCode("error", "a numeric cell cannot be read as a number (text, true/false)"),
    "non_finite": IssueCode("error", "a number that is not finite: nan, inf, or too large (1e309)"),
    "numeric_id": IssueCode("error", "an identifier column was read as numbers (leading zeros may be lost)"),
    "out_of_range": IssueCode("error", "a number lies outside its valid range"),
    "negative_amount": IssueCode("error", "an amount is negative"),
    "invalid_bool": IssueCode("error", "a flag is not true/false"),
    "unknown_value": IssueCode("error", "a value is not one of the column's allowed values"),
    "invalid_capital": IssueCode("error", "capital.json is missing a figure or holds an invalid one"),
    # cross-row rules (validate/)
    "unknown_entity": IssueCode("error", "an id refers to no entity in entities.csv"),
    "self_reference": IssueCode("error", "a link or guarantee names the same entity at both ends"),
    "duplicate": IssueCode("error", "the same key appears on several rows"),
    "sum_above_one": IssueCode("error", "an entity's owners hold more than 100% of its shares or votes"),
    "closed_cycle": IssueCode("error", "a ring of holdings in which every share is held inside the ring"),
    "missing_fx_rate": IssueCode("error", "a facility's currency has no rate in fx.csv"),
    "dropped_dependency": IssueCode("error", "a row dropped because a row it depends on was dropped"),
    "repeated_rate": IssueCode("warning", "a currency given twice in fx.csv with the same rate; one used"),
    "similar_ids": IssueCode("warning", "entity ids that differ only by surrounding spaces or Unicode form"),
    # collect mode (validate/_readings.py, analysis.py)
    "collect_summary": IssueCode("warning", "collect mode: rows dropped and used despite an error"),
    "understated_group": IssueCode("warning", "a group's figures may be understated (a row left out)"),
    # the analysis (core/, analysis.py)
    "control_cycle": IssueCode("warning", "entities that control each other (one unit)"),
    "multiple_controllers": IssueCode("warning", "two controllers, neither controlling the other"),
    "ineligible_guarantor": IssueCode("info", "a guarantee ignored: the policy refuses its guarantor"),
    "unused_entity": IssueCode("info", "an entity with no facility, holding or connection"),
    "unit_mismatch": IssueCode("warning", "book total below 0.1% or above 1,000x Tier 1: units may differ"),
    "invalid_national_id": IssueCode("warning", "a national_id like a 统一社会信用代码 fails its check"),
    "possible_control": IssueCode("warning", "a share range whose upper bound alone gives control"),
    # regulatory returns (returns/)
    "return_cell_unavailable": IssueCode("info", "a return's cell the input cannot fill, left empty"),
    "return_selection_incomplete": IssueCode("warning", "a return's selection rule could not be applied"),
    # external ownership (io/bods.py, io/gleif.py, core/declarations.py)
    "declaration_conflict": IssueCode("warning", "two files declare different parents for one entity"),
    "declared_parent_mismatch": IssueCode("warning", "declared parent differs from computed controller"),
    "declared_share_mismatch": IssueCode("warning", "declared indirect share differs from computed"),
    "declared_control_mismatch": IssueCode("warning", "declared control differs from computed control"),
    "declared_share_unconfirmed": IssueCode("info", "a declared indirect share the data cannot confirm"),
    "declaration_unchecked": IssueCode("info", "a declaration that could not be checked"),
    "declaration_kept": IssueCode("info", "a declaration kept although its record is incomplete"),
    "closed_record": IssueCode("info", "a record closed before the as_of date, left out"),
    "unknown_party": IssueCode("warning", "a statement refers to a party the file does not describe"),
    "duplicate_relationship": IssueCode("info", "the same relationship given twice; one kept"),
    "link_already_given": IssueCode("info", "an external link already present in the bank's own ownership"),
    "reporting_exception": IssueCode("info", "a GLEIF reporting exception: no parent reported, and why"),
    "percentage_as_fraction": IssueCode("info", "a percentage read as a fraction"),
    "fund_relationship": IssueCode("info", "a fund relationship left out (include_funds=False)"),
    "inactive_relationship": IssueCode("info", "an inactive relationship left out"),
    "outside_period": IssueCode("info", "a relationship outside the as_of date, left out"),
    "unknown_relationship": IssueCode("info", "a relationship type not understood, left out"),
    "void_registration": IssueCode("info", "a relationship with a void or retired registration, left out"),
}
"""Every issue code the library emits. New codes are added here, with a severity and a one-line meaning;
:func:`issue` refuses a code that is not registered, so that the docs' list stays complete."""


def issue_codes_markdown() -> str:
    """The registry as the Markdown table of ``docs/issues.md`` (a test keeps that file in step)."""
    lines = ["# Issue codes", "",
             "Every row of `result.issues` (and `issues.csv`) carries one of these codes. `error` rows",
             "are problems in the input (raised, or listed under `on_error=\"collect\"`); `warning` and",
             "`info` rows are findings of the analysis or of reading external files. Generated from",
             "`ISSUE_CODES` in `src/groupexposure/model/issues.py`.", "",
             "| code | severity | meaning |", "|---|---|---|"]
    for code in sorted(ISSUE_CODES):
        entry = ISSUE_CODES[code]
        lines.append(f"| `{code}` | {entry.severity} | {entry.meaning} |")
    return "\n".join(lines) + "\n"


def issue(code: str, table: str, *, row: int | None = None, key: str = "", column: str = "",
          value: object = "", message: str, severity: Severity | None = None) -> Problem:
    """The one constructor of an issue row: the severity comes from the registry.

    >>> issue("negative_amount", "facilities", row=2, key="facility_id=F1", column="drawn",
    ...       value=-5, message="drawn must be >= 0; got -5").severity
    'error'
    """
    registered = ISSUE_CODES[code]  # KeyError: register the code in ISSUE_CODES first
    return Problem(severity or registered.severity, code, table, row, key, column, str(value), message)


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
