"""The problems table of one validation pass, and what collect mode does with each problem (SPEC §7).

Every problem row carries a *fate*: ``drop`` (no reading of the row can be used: it is left out and
listed), ``keep`` (the row is used with a conservative reading, stated in ``reading``) or nothing (a
warning or a note: the row is used as it is). ``on_error="raise"`` raises on any error whatever its
fate; ``on_error="collect"`` drops the ``drop`` rows and reports the ``keep`` rows as warnings that say
which reading was used.

Problem rows are built column-wise (one DataFrame per check, only for failing rows); their codes and
severities come from the registry of :mod:`groupexposure.model.issues`.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from ..model.issues import ISSUE_CODES, issue, issues_frame

__all__ = ["KEYS", "PROBLEM_FIELDS", "Collector", "collect_wording", "collected", "external_rows",
           "key_text", "text"]

Fate = Literal["drop", "keep", ""]
KEYS: dict[str, list[str]] = {
    "entities": ["entity_id"],
    "ownership": ["owner_id", "owned_id"],
    "connections": ["dependent_id", "depends_on_id"],
    "facilities": ["facility_id"],
    "fx": ["currency"],
}
PROBLEM_FIELDS = ["severity", "code", "table", "row", "key", "column", "value", "message"]
_FIELDS = [*PROBLEM_FIELDS, "fate", "reading"]


def text(values: pd.Series | Any) -> pd.Series:
    """Cells as text for messages; numbers without a trailing ``.0`` (60, not 60.0)."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_float_dtype(s):
        return s.map(lambda v: "" if v != v else f"{v:.15g}").astype(object)
    return s.astype(object).where(s.notna(), "").astype(str)


def external_rows(frame: pd.DataFrame) -> pd.Series:
    """Rows read from an external file (a non-blank ``source``): their ``share`` may be blank."""
    if "source" not in frame:
        return pd.Series(False, index=frame.index)
    src = frame["source"].astype(object)
    return (src.notna() & (src.astype(str).str.strip() != "")).astype(bool)


def key_text(table: str, frame: pd.DataFrame) -> np.ndarray:
    """``owner_id=A, owned_id=B``: the key of each row, for messages."""
    parts = None
    for col in KEYS.get(table, []):
        piece = col + "=" + (text(frame[col]) if col in frame else pd.Series("", index=frame.index))
        parts = piece if parts is None else parts + ", " + piece
    if parts is None:
        return np.full(len(frame), "", dtype=object)
    if table == "ownership" and "source" in frame and "record_id" in frame:
        ext = external_rows(frame)
        if ext.any():  # say which file (and record) a merged row came from
            parts = parts.where(~ext, parts + ", from " + frame["source"].astype(str) + " "
                                + frame["record_id"].astype(str))
    return parts.to_numpy()


def _pick(values: pd.Series, pos: np.ndarray, index: pd.Index, n: int) -> pd.Series:
    """The entries of ``values`` for the failing rows: by position where it spans the frame, else
    by label (a Series of the failing rows only)."""
    return values.iloc[pos] if len(values) == n else values.reindex(index)


class Collector:
    """Gathers problem rows as small DataFrames; builds them only for failing rows."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(
        self,
        table: str,
        frame: pd.DataFrame,
        mask: pd.Series | np.ndarray,
        code: str,
        column: str,
        message: pd.Series | str,
        *,
        value: pd.Series | None = None,
        fate: Fate = "drop",
        reading: pd.Series | str = "",
        severity: str | None = None,
    ) -> None:
        """One problem for every row of ``frame`` where ``mask`` holds (``frame`` has ``_row``)."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        registered = ISSUE_CODES[code]  # KeyError: register the code in model/issues.py
        pos = np.flatnonzero(mask)
        bad = frame.iloc[pos]
        if value is None:
            value = bad[column] if column in bad else pd.Series("", index=bad.index)
        else:
            value = _pick(value, pos, bad.index, len(frame))
        msg = _pick(message, pos, bad.index, len(frame)) if isinstance(message, pd.Series) else message
        why = _pick(reading, pos, bad.index, len(frame)) if isinstance(reading, pd.Series) else reading
        self.parts.append(pd.DataFrame({
            "severity": severity or registered.severity,
            "code": code,
            "table": table,
            "row": bad["_row"].to_numpy(),
            "key": key_text(table, bad),
            "column": column,
            "value": text(value).to_numpy(),
            "message": np.asarray(msg if isinstance(msg, str) else text(msg)),
            "fate": fate if registered.severity == "error" and severity in (None, "error") else "",
            "reading": np.asarray(why if isinstance(why, str) else text(why)),
        }))

    def rule(self, table: str, frame: pd.DataFrame, mask: pd.Series | np.ndarray, code: str,
             column: str, template: str, *, fate: Fate = "drop", reading: str = "") -> None:
        """Add a problem for every masked row; ``template`` is formatted with the row's cells."""
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            bad = frame.iloc[np.flatnonzero(mask)]
            msgs = [template.format(**{str(k): v for k, v in rec.items()})
                    for rec in bad.to_dict("records")]
            full = np.full(len(frame), "", dtype=object)
            full[np.flatnonzero(mask)] = msgs
            self.add(table, frame, mask, code, column, pd.Series(full), fate=fate, reading=reading)
            return

    def add_one(self, code: str, table: str, column: str, value: Any, message: str, *,
                row: int | None = None, key: str = "", severity: str | None = None) -> None:
        """One problem not tied to a table row (a file, a column, capital.json)."""
        p = issue(code, table, row=row, key=key, column=column, value=value, message=message,
                  severity=severity)  # type: ignore[arg-type]
        self.parts.append(pd.DataFrame([[*vars(p).values(), "", ""]], columns=_FIELDS))

    def extend(self, frame: pd.DataFrame) -> None:
        """Problems already built (by :func:`groupexposure.validate.columns.convert`)."""
        if len(frame):
            self.parts.append(frame.reindex(columns=_FIELDS))

    def raw(self) -> pd.DataFrame:
        """Every problem so far, with ``fate`` and ``reading``."""
        if not self.parts:
            return pd.DataFrame(columns=_FIELDS)
        out = pd.concat([p for p in self.parts if len(p)] or [pd.DataFrame(columns=_FIELDS)],
                        ignore_index=True)
        out["fate"] = out["fate"].astype(object).fillna("")
        out["reading"] = out["reading"].astype(object).fillna("")
        return out

    def frame(self) -> pd.DataFrame:
        """The issues table (SPEC §8 columns), as raise mode reports it."""
        return issues_frame(self.raw()[PROBLEM_FIELDS])


def collect_wording(problems: pd.DataFrame, gone: np.ndarray) -> pd.DataFrame:
    """The problems as collect mode words them, row for row (``gone``: the problem's row is left
    out): a problem on a dropped row stays an error and says so; a problem on a row kept despite
    it becomes a warning that states the reading used."""
    p = problems.copy()
    err = (p["severity"] == "error").to_numpy()
    kept = err & ~gone & (p["fate"] == "keep").to_numpy()
    p.loc[kept, "severity"] = "warning"
    p.loc[kept, "message"] = (p.loc[kept, "message"] + "; used despite the error: "
                              + p.loc[kept, "reading"])
    lost = (err & gone & p["row"].notna().to_numpy()
            & (p["code"] != "dropped_dependency").to_numpy())
    p.loc[lost, "message"] = p.loc[lost, "message"] + "; the row is left out"
    return p


def collected(problems: pd.DataFrame, dropped: dict[str, set[int]]) -> pd.DataFrame:
    """The issues of collect mode (see :func:`collect_wording`); ``dropped`` gives the rows left
    out of each table."""
    rows = problems["row"]
    gone = np.zeros(len(problems), dtype=bool)
    for table, rset in dropped.items():
        if rset:
            gone |= ((problems["table"] == table) & rows.isin(list(rset))).to_numpy()
    return issues_frame(collect_wording(problems, gone)[PROBLEM_FIELDS])
