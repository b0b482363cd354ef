"""Validation at the boundary: every rule of SPEC §1, column-wise, every failure reported (SPEC §7).

Each table is checked in one vectorised pass; every failing cell becomes one row of the problems
table (table, row, key, column, value, what would be valid). ``on_error="raise"`` turns any error
into one :class:`~groupexposure.model.issues.ValidationError`; ``on_error="collect"`` drops the failing
rows, then the rows that depend on them (a facility whose obligor was dropped), and keeps every
dropped row listed, so that rows read = rows used + rows listed for every table.

Structural problems (a missing or unreadable file, a missing required column, an invalid capital
record) stop the analysis in both modes: no row of such a table can be trusted.

Row numbers count data rows from 1 (row 1 is the first line under the CSV header).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ValidationError as PydanticValidationError

from ..core.ids import encode
from ..model.issues import ValidationError, close_matches, issues_frame
from ..model.policy import Policy
from ..model.portfolio import Portfolio
from ..model.schema import TABLES, Capital, ColumnSpec, columns

__all__ = ["KEYS", "ValidPortfolio", "external_rows", "validate"]

OnError = Literal["raise", "collect"]
KEYS: dict[str, list[str]] = {
    "entities": ["entity_id"],
    "ownership": ["owner_id", "owned_id"],
    "connections": ["dependent_id", "depends_on_id"],
    "facilities": ["facility_id"],
    "fx": ["currency"],
}
FATAL_CODES = frozenset(
    {"missing_file", "unreadable_file", "missing_column", "missing_dependency", "invalid_capital"}
)
SUM_TOLERANCE = 1e-9
_TRUE = frozenset({"true", "t", "yes", "y", "1", "1.0"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "0.0"})
_PROBLEM_FIELDS = ["severity", "code", "table", "row", "key", "column", "value", "message"]


@dataclass
class ValidPortfolio:
    """Typed, checked tables; every row here is trusted by the rest of the library."""

    entities: pd.DataFrame
    ownership: pd.DataFrame
    connections: pd.DataFrame
    facilities: pd.DataFrame
    fx: dict[str, float]
    capital: Capital
    issues: pd.DataFrame
    encoded: tuple[np.ndarray, list[np.ndarray]] | None = None
    """The entity ids and the codes of entities, owners, owned, dependents, depends-on, obligors
    and guarantors (:func:`ids.encode`), where no row was dropped."""
    row_counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Per table: rows ``read``, ``used`` and ``dropped`` (read = used + dropped)."""

    @property
    def currency(self) -> str:
        """The reporting currency (capital.json ``currency``)."""
        return self.capital.currency


class _Collector:
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
        severity: str = "error",
    ) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        bad = frame.loc[mask]
        if value is None:
            value = bad[column] if column in bad else pd.Series("", index=bad.index)
        else:
            value = value.reindex(bad.index)
        msg = message.reindex(bad.index) if isinstance(message, pd.Series) else message
        self.parts.append(
            pd.DataFrame(
                {
                    "severity": severity,
                    "code": code,
                    "table": table,
                    "row": bad["_row"].to_numpy(),
                    "key": _key_text(table, bad),
                    "column": column,
                    "value": _text(value).to_numpy(),
                    "message": np.asarray(msg if isinstance(msg, str) else _text(msg)),
                }
            )
        )

    def rule(self, table: str, frame: pd.DataFrame, mask: pd.Series | np.ndarray, code: str,
             column: str, template: str) -> None:
        """Add a problem for every masked row; ``template`` is formatted with the row's cells."""
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            bad = frame.loc[mask]
            text = [template.format(**{str(k): v for k, v in rec.items()})
                    for rec in bad.to_dict("records")]
            self.add(table, frame, mask, code, column, pd.Series(text, index=bad.index))

    def add_one(self, severity: str, code: str, table: str, column: str, value: Any,
                message: str, *, row: int | None = None, key: str = "") -> None:
        self.parts.append(
            pd.DataFrame([[severity, code, table, row, key, column, str(value), message]],
                         columns=_PROBLEM_FIELDS)
        )

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return issues_frame(pd.DataFrame(columns=_PROBLEM_FIELDS))
        return issues_frame(pd.concat(self.parts, ignore_index=True))


def _text(values: pd.Series | Any) -> pd.Series:
    """Cells as text for messages; numbers without a trailing ``.0`` (60, not 60.0)."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_float_dtype(s):
        return s.map(lambda v: "" if v != v else f"{v:.15g}").astype(object)
    return s.astype(object).where(s.notna(), "").astype(str)


def _key_text(table: str, frame: pd.DataFrame) -> np.ndarray:
    parts = None
    for col in KEYS[table]:
        piece = col + "=" + (_text(frame[col]) if col in frame else pd.Series("", index=frame.index))
        parts = piece if parts is None else parts + ", " + piece
    assert parts is not None
    if table == "ownership" and "source" in frame and "record_id" in frame:
        ext = external_rows(frame)
        if ext.any():  # say which file (and record) a merged row came from
            parts = parts.where(~ext, parts + ", from " + frame["source"].astype(str) + " "
                                + frame["record_id"].astype(str))
    return parts.to_numpy()


# --- column conversion -------------------------------------------------------------------------


def _as_id(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Identifiers as text (pandas ``str`` dtype); also a mask of values a spreadsheet turned into
    numbers (7.0), which are kept as text ("7") and reported."""
    no_numbers = pd.Series(False, index=s.index)
    if s.isna().all() or (pd.api.types.is_string_dtype(s) and pd.api.types.infer_dtype(
            s, skipna=True) in ("string", "empty")):
        return s.astype("str"), no_numbers
    obj = s.astype(object)
    is_num = obj.map(lambda v: isinstance(v, int | float | np.integer | np.floating)
                     and not isinstance(v, bool) and v == v).to_numpy(dtype=bool)
    out = obj.where(obj.notna(), None).map(lambda v: v if v is None else str(v))
    if is_num.any():
        out[is_num] = obj[is_num].map(lambda v: str(int(v)) if float(v).is_integer() else str(v))
    return out.astype("str"), pd.Series(is_num, index=s.index)


def _as_float(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers; also a mask of non-empty cells that are not numbers."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype("float64"), pd.Series(False, index=s.index)
    text = s.astype(object)
    present = text.notna() & (text.astype(str).str.strip() != "")
    num = pd.to_numeric(text.where(present), errors="coerce").astype("float64")
    return num, present & num.isna()


def _as_bool(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Flags (true/false, yes/no, 1/0, any case); also a mask of cells that are neither."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype(object), pd.Series(False, index=s.index)
    if not isinstance(s.dtype, pd.StringDtype):
        s = s.astype(object).where(s.notna(), None).map(lambda v: v if v is None else str(v))
        s = s.astype("str")
    low = s.str.strip().str.lower()
    is_true = low.isin(list(_TRUE)).to_numpy(dtype=bool)
    is_false = low.isin(list(_FALSE)).to_numpy(dtype=bool)
    out = pd.Series(None, index=s.index, dtype=object)
    out[is_true] = True
    out[is_false] = False
    bad = (low.notna() & (low != "")).to_numpy(dtype=bool) & ~is_true & ~is_false
    return out, pd.Series(bad, index=s.index)


def _describe_range(spec: ColumnSpec, values: pd.Series) -> pd.Series:
    msg = (spec.name + " must be " + spec.describe() + "; got " + _text(values)).astype(object)
    if spec.upper == 1.0:
        pct = (values > 1) & (values <= 100)
        if pct.any():
            msg[pct] = msg[pct] + [f" — did you mean {v / 100:.4g}?" for v in values[pct]]
    return msg


def _convert(table: str, raw: pd.DataFrame, out: _Collector) -> pd.DataFrame:
    """Typed columns for one table; every unconvertible, missing or out-of-range cell reported."""
    frame = raw.copy()
    frame["_row"] = np.arange(1, len(frame) + 1)
    for spec in columns(table):
        if spec.name not in frame:
            frame[spec.name] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
        col = frame[spec.name]
        if spec.kind == "id" or spec.kind == "str":
            conv, numeric = _as_id(col)
            frame[spec.name] = conv
            if spec.kind == "id" and numeric.any():
                out.add(table, frame, numeric, "numeric_id", spec.name,
                        spec.name + " was stored as a number (" + _text(col[numeric]) + "); "
                        "identifiers should be text, a spreadsheet may have changed them "
                        "(e.g. lost leading zeros)", value=col, severity="warning")
            empty = (conv.isna() | (conv.str.strip() == "")).astype(bool)
            if spec.required:
                out.add(table, frame, empty, "missing_value", spec.name,
                        f"{spec.name} is required: {spec.describe()}; got an empty cell")
            frame[spec.name] = conv.where(~empty)
        elif spec.kind == "float":
            num, not_number = _as_float(col)
            if not_number.any():
                cells = col[not_number]
                out.add(table, frame, not_number, "not_a_number", spec.name,
                        spec.name + " must be " + spec.describe() + "; got "
                        + _text(cells).str.slice(0, 40) + _pct_hint(cells), value=col)
            missing = num.isna() & ~not_number
            if spec.required:
                if table == "ownership" and spec.name == "share":
                    missing &= ~external_rows(raw)  # a file's link may lack a share
                out.add(table, frame, missing, "missing_value", spec.name,
                        f"{spec.name} is required: {spec.describe()}; got an empty cell")
            elif spec.default is not None:
                num = num.where(~missing, float(spec.default))
            low_bad = pd.Series(False, index=frame.index)
            if spec.lower is not None:
                low_bad = num < spec.lower if spec.lower_inclusive else num <= spec.lower
            up_bad = pd.Series(False, index=frame.index)
            if spec.upper is not None:
                up_bad = num > spec.upper if spec.upper_inclusive else num >= spec.upper
            out_of_range = (low_bad | up_bad).fillna(False).astype(bool)
            code = "negative_amount" if spec.lower == 0.0 and spec.upper is None else "out_of_range"
            if out_of_range.any():
                out.add(table, frame, out_of_range, code, spec.name,
                        _describe_range(spec, num[out_of_range]), value=num)
            frame[spec.name] = num
        elif spec.kind == "bool":
            flags, bad = _as_bool(col)
            if bad.any():
                out.add(table, frame, bad, "invalid_bool", spec.name,
                        spec.name + " must be true or false (also yes/no, 1/0); got "
                        + _text(col[bad]))
            frame[spec.name] = flags.where(flags.notna(), bool(spec.default)).astype(bool)
        else:  # enum
            text = (col if isinstance(col.dtype, pd.StringDtype)
                    else col.astype(object).where(col.notna(), "").astype(str))
            text = text.fillna("")
            blank = text.str.strip() == ""
            bad = ~blank & ~text.isin(spec.choices)
            msg = pd.Series("", index=frame.index, dtype=object)
            if bad.any():
                low = text[bad].str.strip().str.lower()
                hint = low.where(~low.isin(spec.choices), " — did you mean " + low + "?")
                hint = hint.where(low.isin(spec.choices), "")
                msg[bad] = (spec.name + " must be " + spec.describe() + "; got " + text[bad]
                            + hint)
            out.add(table, frame, bad, "unknown_value", spec.name, msg)
            frame[spec.name] = text.where(~blank, spec.default)
    return frame


def external_rows(frame: pd.DataFrame) -> pd.Series:
    """Rows read from an external file (a non-blank ``source``): their ``share`` may be blank."""
    if "source" not in frame:
        return pd.Series(False, index=frame.index)
    src = frame["source"].astype(object)
    return (src.notna() & (src.astype(str).str.strip() != "")).astype(bool)


def _pct_hint(col: pd.Series) -> pd.Series:
    """" — did you mean 0.6?" for cells such as "60%"; empty otherwise."""
    out = pd.Series("", index=col.index, dtype=object)
    text = _text(col).str.strip()
    is_pct = text.str.endswith("%")
    if is_pct.any():
        number = pd.to_numeric(text[is_pct].str.rstrip("%"), errors="coerce") / 100
        ok = number.notna()
        out[number.index[ok]] = pd.Series([f" — did you mean {v:.4g}?" for v in number[ok]],
                                          index=number.index[ok])
    return out


# --- table rules -------------------------------------------------------------------------------


def _check_columns(table: str, raw: pd.DataFrame, source: str, out: _Collector) -> None:
    required = [c.name for c in columns(table) if c.required]
    missing = [c for c in required if c not in raw.columns]
    if missing:
        found = ", ".join(map(str, raw.columns)) or "no columns"
        out.add_one("error", "missing_column", table, ", ".join(missing), "",
                    f"{source} lacks required column{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(missing)}; found: {found}")


def _all_distinct(frame: pd.DataFrame, cols: list[str], keys: np.ndarray | None) -> bool:
    """A quick proof that no two rows share ``cols`` (then the hashing below is skipped): integer
    ``keys`` (-1 where unknown) that are distinct, or one text column that is strictly increasing
    or has as many distinct values as values."""
    if keys is not None:
        present = frame[cols].notna().all(axis=1).to_numpy()
        if (keys[present] < 0).any():
            return False
        k = np.sort(keys[present])
        return not bool((k[1:] == k[:-1]).any())
    if len(cols) != 1 or len(frame) < 2:
        return len(frame) < 2
    col = pa.array(frame[cols[0]])
    col = col.drop_null()
    if len(col) < 2:
        return True
    if pc.all(pc.greater(col[1:], col[:-1])).as_py():
        return True
    return bool(pc.count_distinct(col).as_py() == len(col))


def _duplicates(table: str, frame: pd.DataFrame, cols: list[str], out: _Collector, *,
                keys: np.ndarray | None = None, distinct: bool | None = None) -> None:
    if distinct if distinct is not None else _all_distinct(frame, cols, keys):
        return
    present = frame[cols].notna().all(axis=1)
    dup = frame[cols].duplicated(keep=False) & present
    if dup.any():
        first = frame.loc[dup].groupby(cols, sort=False)["_row"].transform("min")
        rows = frame.loc[dup].groupby(cols, sort=False)["_row"].transform(
            lambda r: ", ".join(map(str, sorted(r))))
        what = " and ".join(cols)
        msg = pd.Series("", index=frame.index, dtype=object)
        msg[dup] = (f"{what} must be unique; the same value is in rows " + rows.astype(str)
                    + " (first at row " + first.astype(str) + ")")
        out.add(table, frame, dup, "duplicate", cols[-1] if len(cols) == 1 else cols[0], msg,
                value=frame[cols[0]] if len(cols) == 1 else
                frame[cols[0]].astype(str) + " → " + frame[cols[1]].astype(str))


def _references(table: str, frame: pd.DataFrame, column: str, codes: np.ndarray,
                known: np.ndarray, out: _Collector) -> None:
    """Ids in ``column`` that are not entities (``codes`` from :func:`ids.encode`: -1)."""
    vals = frame[column]
    unknown = vals.notna() & (codes < 0)
    if not unknown.any():
        return
    sorted_known = known
    hints: dict[str, str] = {}
    for v in pd.unique(vals[unknown])[:200]:
        pool = _neighbours(str(v), sorted_known)
        near = close_matches(str(v), pool)
        hints[v] = f" — did you mean {' or '.join(near)}?" if near else ""
    msg = (column + " " + vals[unknown].astype(str) + " is not in entities.csv"
           + vals[unknown].map(lambda v: hints.get(v, "")))
    out.add(table, frame, unknown, "unknown_entity", column, msg.reindex(frame.index, fill_value=""))


def _neighbours(value: str, sorted_known: np.ndarray, width: int = 100) -> list[str]:
    if len(sorted_known) <= 2 * width:
        return list(sorted_known)
    pos = int(np.searchsorted(sorted_known, value))
    return list(sorted_known[max(0, pos - width): pos + width])


def _id_codes(col: pd.Series, codes: np.ndarray, n: int) -> np.ndarray:
    """Integer codes of an id column: the entity code where known, ``n + k`` for the k-th distinct
    unknown id, -1 where empty."""
    unknown = (codes < 0) & col.notna().to_numpy()
    if not unknown.any():
        return codes
    extra, _ = pd.factorize(col[unknown])
    out = codes.copy()
    out[unknown] = n + extra
    return out


def _ownership_sums(frame: pd.DataFrame, owned: np.ndarray, out: _Collector) -> None:
    """Each owned entity's shares, and its voting rights, add up to at most 1 (rows whose own value
    is already invalid are left out of the sum: they are reported on their own). ``owned``: the
    owned ids' integer codes (:func:`_id_codes`)."""
    for col in ("share", "voting"):
        vals = frame[col] if col == "share" else frame["voting"].fillna(frame["share"])
        valid = (vals.between(0, 1) & frame["owned_id"].notna()).to_numpy()
        sums = np.bincount(owned[valid], weights=vals.to_numpy()[valid],
                           minlength=max(int(owned.max(initial=-1)) + 1, 1))
        total = pd.Series(np.where(valid, sums[np.maximum(owned, 0)], 0.0), index=frame.index)
        over = (total > 1 + SUM_TOLERANCE) & valid
        if not over.any():
            continue
        sub = frame.loc[over].assign(_v=vals[over])
        listing = sub.groupby("owned_id")[["owner_id", "_v"]].apply(
            lambda g: ", ".join(f"{o} {v:.4g}" for o, v in sorted(zip(g["owner_id"], g["_v"],
                                                                       strict=True)))
        )
        msg = pd.Series("", index=frame.index, dtype=object)
        msg[over] = ("the " + ("shares" if col == "share" else "voting rights") + " held in "
                     + sub["owned_id"].astype(str) + " add up to "
                     + total[over].map(lambda v: f"{v:.6g}") + ", above 1 ("
                     + sub["owned_id"].map(listing).astype(str) + ")")
        out.add("ownership", frame, over, "sum_above_one", col, msg, value=vals)


def _closed_cycles(frame: pd.DataFrame, o: np.ndarray, s: np.ndarray, out: _Collector) -> None:
    """Ownership cycles that keep all equity inside: (I - A) would be singular (SPEC §4).
    ``o``, ``s``: the owner and owned ids' integer codes (:func:`_id_codes`)."""
    if frame.empty:
        return
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = int(max(o.max(), s.max())) + 1
    graph = coo_matrix((np.ones(len(o)), (o, s)), shape=(n, n)).tocsr()
    n_comp, label = connected_components(graph, directed=True, connection="strong")
    size = np.bincount(label, minlength=n_comp)
    inside = (label[o] == label[s]) & (size[label[o]] > 1)
    if not inside.any():
        return
    held_inside = np.bincount(s[inside], weights=frame["share"].to_numpy()[inside], minlength=n)
    members = np.flatnonzero(size[label] > 1)
    comp_min = pd.Series(held_inside[members]).groupby(label[members]).min()
    closed = comp_min.index[comp_min >= 1 - SUM_TOLERANCE]
    if closed.empty:
        return
    owners = frame["owner_id"].to_numpy(dtype=object)
    shown = 6  # a cycle of 100,000 is named by its first members, once
    for comp in closed:
        rows = np.flatnonzero(inside & (label[o] == comp))
        names = np.unique(owners[rows].astype(str))  # every member holds one inside the cycle
        more = names.size - shown
        listed = " → ".join(names[:shown].tolist())
        cycle = (f"{listed} → {names[0]}" if more <= 0
                 else f"{listed} → … ({more:,} more) → {names[0]}")
        mask = np.zeros(len(frame), dtype=bool)
        mask[rows[np.argmin(owners[rows].astype(str))]] = True  # reported once, on one row
        out.add("ownership", frame, mask, "closed_cycle", "share",
                f"an ownership cycle of {names.size:,} entities keeps all equity inside it "
                f"({cycle}) through {rows.size:,} links: every member is wholly owned by the others, so "
                "integrated ownership is undefined")


def _capital(portfolio: Portfolio, policy: Policy, out: _Collector) -> Capital | None:
    data = portfolio.capital
    if data is None:
        return None
    try:
        capital = Capital.model_validate(data)
    except PydanticValidationError as exc:
        for err in exc.errors():
            where = ".".join(map(str, err["loc"]))
            out.add_one("error", "invalid_capital", "capital", where, err.get("input", ""),
                        f"{where}: {err['msg']}; got {err.get('input', '')!r}")
        return None
    if policy.needs_total_capital and capital.total_capital is None:
        out.add_one("error", "invalid_capital", "capital", "total_capital", "",
                    f"policy {policy.name} measures against total_capital (资本净额); "
                    "capital.json has none")
        return None
    return capital


def validate(portfolio: Portfolio, policy: Policy, *, on_error: OnError = "raise") -> ValidPortfolio:
    """Check every rule of SPEC §1 at once and return the trusted tables.

    Raises :class:`~groupexposure.model.issues.ValidationError` listing every problem when
    ``on_error="raise"`` and any error was found, or when a structural problem makes the input
    unusable; with ``on_error="collect"`` failing rows are dropped and listed in ``issues``.
    """
    if on_error not in ("raise", "collect"):
        raise ValueError(f"on_error must be 'raise' or 'collect'; got {on_error!r}")
    out = _Collector()
    if portfolio.problems:
        out.parts.append(pd.DataFrame([vars(p) for p in portfolio.problems])[_PROBLEM_FIELDS])
    for table in TABLES:
        source = portfolio.sources.get(table, f"{table}.csv")
        _check_columns(table, getattr(portfolio, table), source, out)
    capital = _capital(portfolio, policy, out)
    structural = out.frame()
    if (structural["code"].isin(list(FATAL_CODES))).any() or capital is None:
        raise ValidationError(structural)

    pool = ThreadPoolExecutor(max_workers=1)  # the largest table alongside the others
    try:
        biggest = max(TABLES, key=lambda t: len(getattr(portfolio, t)))
        pending = pool.submit(_convert, biggest, getattr(portfolio, biggest), out)
        frames = {t: _convert(t, getattr(portfolio, t), out) for t in TABLES if t != biggest}
        frames[biggest] = pending.result()
        frames = {t: frames[t] for t in TABLES}
        ent, own, con, fac, fx = (frames[t] for t in TABLES)
        fac_distinct = pool.submit(_all_distinct, fac, ["facility_id"], None)
    finally:
        pool.shutdown(wait=False)

    refs = [("ownership", "owner_id"), ("ownership", "owned_id"), ("connections", "dependent_id"),
            ("connections", "depends_on_id"), ("facilities", "obligor_id"),
            ("facilities", "guarantor_id")]
    known, (entity_codes, *codes) = encode(ent["entity_id"].dropna(), ent["entity_id"],
                                           *(frames[t][c] for t, c in refs))
    for (table, col), code in zip(refs, codes, strict=True):
        _references(table, frames[table], col, code, known, out)
    _duplicates("entities", ent, ["entity_id"], out, keys=entity_codes)
    n_ids = known.size
    own_o, own_s = codes[0], codes[1]
    pair = np.where((own_o >= 0) & (own_s >= 0), own_o * max(n_ids, 1) + own_s, -1)
    _duplicates("ownership", own, ["owner_id", "owned_id"], out, keys=pair)
    out.rule("ownership", own, own["owner_id"].notna() & (own["owner_id"] == own["owned_id"]),
             "self_reference", "owned_id",
             "an entity cannot own itself (owner_id = owned_id = {owner_id})")
    own["voting"] = own["voting"].fillna(own["share"])
    own_o = _id_codes(own["owner_id"], own_o, n_ids)
    own_s = _id_codes(own["owned_id"], own_s, n_ids)
    _ownership_sums(own, own_s, out)
    ok_share = own["share"].between(0, 1, inclusive="right") & own["owner_id"].ne(own["owned_id"])
    in_cycles = (ok_share & own["owner_id"].notna() & own["owned_id"].notna()).to_numpy()
    _closed_cycles(own.loc[in_cycles], own_o[in_cycles], own_s[in_cycles], out)

    out.rule("connections", con, con["dependent_id"].notna()
             & (con["dependent_id"] == con["depends_on_id"]), "self_reference", "depends_on_id",
             "a connection must join two different entities; got {dependent_id} on both ends")

    _duplicates("facilities", fac, ["facility_id"], out, distinct=fac_distinct.result())
    out.rule("facilities", fac, fac["guarantor_id"].notna()
             & (fac["guarantor_id"] == fac["obligor_id"]), "self_reference", "guarantor_id",
             "the guarantor must differ from the obligor; got {obligor_id} as both")

    _duplicates("fx", fx, ["currency"], out)
    reporting = capital.currency
    rates = dict(zip(fx["currency"], fx["rate"], strict=True))
    fx_bad = fx["currency"].eq(reporting) & fx["rate"].notna() & fx["rate"].ne(1.0)
    out.add("fx", fx, fx_bad, "out_of_range", "rate",
            f"the rate of the reporting currency {reporting} must be 1; got "
            + _text(fx["rate"][fx_bad]))
    fac["currency"] = fac["currency"].where(fac["currency"].notna(), reporting)
    known_ccy = {c for c, r in rates.items() if isinstance(c, str) and r == r and r > 0} | {reporting}
    no_rate = ~fac["currency"].isin(known_ccy)
    out.rule("facilities", fac, no_rate, "missing_fx_rate", "currency",
             "currency {currency} has no rate in fx.csv; rates are given for "
             + ", ".join(sorted(known_ccy)).replace("{", "{{").replace("}", "}}")
             + " (never treated as 1)")
    for ccy in sorted(policy.currencies_needed - known_ccy):
        out.add_one("error", "missing_fx_rate", "fx", "currency", ccy,
                    f"policy {policy.name} states a limit in {ccy}; fx.csv needs a {ccy} rate "
                    f"(reporting currency {reporting})")

    problems = out.frame()
    errors = problems["severity"] == "error"
    if on_error == "raise" and errors.any():
        raise ValidationError(problems)
    if (errors & problems["row"].isna()).any():
        raise ValidationError(problems)  # a problem no dropped row can resolve
    valid = _drop_bad_rows(frames, problems, out, reporting) if errors.any() else frames
    rates = {str(c): float(r) for c, r in zip(valid["fx"]["currency"], valid["fx"]["rate"],
                                              strict=True)}
    rates[reporting] = 1.0
    issues = out.frame()
    dropped = issues[(issues["severity"] == "error") & issues["row"].notna()]
    counts = pd.DataFrame({
        "table": list(TABLES),
        "read": [len(getattr(portfolio, t)) for t in TABLES],
        "used": [len(valid[t]) for t in TABLES],
        "dropped": [dropped.loc[dropped["table"] == t, "row"].nunique() for t in TABLES],
    })
    return ValidPortfolio(
        encoded=None if errors.any() else (known, [entity_codes, *codes]),
        entities=valid["entities"].reset_index(drop=True),
        ownership=valid["ownership"].reset_index(drop=True),
        connections=valid["connections"].reset_index(drop=True),
        facilities=valid["facilities"].reset_index(drop=True),
        fx=rates,
        capital=capital,
        issues=issues,
        row_counts=counts,
    )


def _drop_bad_rows(frames: dict[str, pd.DataFrame], problems: pd.DataFrame,
                   out: _Collector, reporting: str) -> dict[str, pd.DataFrame]:
    """Drop rows with errors, then rows that refer to a dropped or unknown entity, to a fixed point."""
    bad = problems[(problems["severity"] == "error") & problems["row"].notna()]
    kept: dict[str, pd.DataFrame] = {}
    for table, frame in frames.items():
        rows = bad.loc[bad["table"] == table, "row"].astype(int)
        kept[table] = frame[~frame["_row"].isin(rows)]
    ent = kept["entities"]
    dropped_ids = set(frames["entities"]["entity_id"].dropna()) - set(ent["entity_id"])
    if dropped_ids:
        gone = pd.Index(sorted(map(str, dropped_ids)))
        for table, cols in (("ownership", ["owner_id", "owned_id"]),
                            ("connections", ["dependent_id", "depends_on_id"]),
                            ("facilities", ["obligor_id", "guarantor_id"])):
            frame = kept[table]
            for col in cols:
                hit = frame[col].isin(gone)
                out.rule(table, frame, hit, "dropped_dependency", col,
                         col + " {" + col + "} was dropped from entities.csv, so this row is "
                         "dropped too")
                frame = frame[~hit]
            kept[table] = frame
    fac = kept["facilities"]
    rated = set(kept["fx"]["currency"].dropna()) | {reporting}
    lost = ~fac["currency"].isin(list(rated))
    out.rule("facilities", fac, lost, "dropped_dependency", "currency",
             "the rate of currency {currency} was dropped from fx.csv, so this row is dropped too")
    kept["facilities"] = fac[~lost.to_numpy()]
    return kept
