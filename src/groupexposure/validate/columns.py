"""Casting each column of a table from the schema (SPEC §1), and the reading kept for a bad cell (§7).

:func:`convert` types every column of one table from the rules :func:`~groupexposure.model.schema.columns`
reads off the pydantic record models, and returns the typed frame with every problem found. A cell that
cannot be used as given gets, in the typed frame, the reading collect mode uses (the one giving the
larger exposure or the larger group), and its problem says whether the row can still be used
(``fate="keep"``, the reading in ``reading``) or not (``fate="drop"``).

**Numbers are finite.** ``nan``, ``inf``, ``Infinity``, ``1e309`` (which overflows to infinity) and
booleans are refused in every numeric column, whatever the file type; in a DataFrame a float NaN is
pandas' missing value and reads as a blank cell. :func:`require_finite` applies the same rule to the
proposals of ``check_many``.

>>> import pandas as pd
>>> frame, problems = convert("facilities", pd.DataFrame(
...     {"facility_id": ["F1", "F2"], "obligor_id": ["A", "B"], "drawn": ["10", "inf"]}))
>>> frame["drawn"].tolist()[0], problems[["code", "column", "fate"]].values.tolist()
(10.0, [['non_finite', 'drawn', 'drop']])
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..model.policy import Policy
from ..model.schema import ColumnSpec, Product, columns
from ._collect import Collector, external_rows, text

__all__ = ["CONSERVATIVE_FLAGS", "convert", "finite_problems", "require_finite"]

_TRUE = frozenset({"true", "t", "yes", "y", "1", "1.0"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "0.0"})
_NAN_TEXT = frozenset({"nan", "+nan", "-nan", "nan%"})

CONSERVATIVE_FLAGS: dict[tuple[str, str], bool] = {
    ("ownership", "control"): True,        # more control, larger groups
    ("connections", "mutual"): True,       # followed both ways, larger groups
    ("entities", "is_gsib"): True,         # the stricter G-SIB limit where the bank is a G-SIB
    ("entities", "is_shadow_bank"): True,  # reported, never relieved
    ("entities", "is_institution"): False,  # no EUR 150m relief
    ("entities", "exempt"): False,         # never exempt
    ("facilities", "defaulted"): True,
}
"""The reading of an unreadable flag in collect mode: the one giving the larger exposure or group
(any other flag takes its default)."""

_FLOAT_READING: dict[tuple[str, str], tuple[float, str]] = {
    ("facilities", "provision"): (0.0, "provision read as 0 (nothing deducted)"),
    ("facilities", "collateral_value"): (0.0, "collateral read as 0 (nothing deducted)"),
    ("facilities", "ccf"): (math.nan, "the policy's CCF for the product is used"),
    ("facilities", "guaranteed_amount"): (math.nan, "the guarantee is ignored: the exposure stays "
                                          "with the obligor"),
    ("ownership", "voting"): (math.nan, "votes read as 1 where above 1 (more control), otherwise "
                              "as the share"),
}


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
    out = obj.astype("str")  # missing cells stay missing, others as str(v)
    if is_num.any():
        out[is_num] = obj[is_num].map(
            lambda v: str(int(v)) if math.isfinite(float(v)) and float(v).is_integer() else str(v))
    return out.astype("str"), pd.Series(is_num, index=s.index)


def _beyond_float_as_inf(v: object) -> object:
    """An int too large for a float as an infinite float of its sign; any other cell as it is."""
    if isinstance(v, int) and not isinstance(v, bool):
        try:
            float(v)
        except OverflowError:
            return math.inf if v > 0 else -math.inf
    return v


def _as_float(s: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Numbers; also masks of non-empty cells that are not numbers (text, booleans) and of cells
    that are not finite (``nan``, ``inf``, ``1e309``). Missing cells are NaN in the numbers."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        num = s.astype("float64")
        return num, pd.Series(False, index=s.index), pd.Series(np.isinf(num.to_numpy()),
                                                               index=s.index)
    obj = s.astype(object)
    is_bool = obj.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)
    as_text = obj.where(obj.notna(), "").astype(str).str.strip()
    present = (as_text != "") & ~is_bool
    cells = obj.where(present & ~as_text.str.lower().isin(list(_NAN_TEXT)))
    try:
        num = pd.to_numeric(cells, errors="coerce").astype("float64")
    except OverflowError:  # an int beyond any float: infinite, as the text 1e309 is
        num = pd.to_numeric(cells.map(_beyond_float_as_inf), errors="coerce").astype("float64")
    nan_text = present & as_text.str.lower().isin(list(_NAN_TEXT))
    infinite = pd.Series(np.isinf(num.to_numpy()), index=s.index)
    num = num.where(~infinite)
    not_number = (present & num.isna() & ~nan_text & ~infinite) | is_bool
    return num, not_number, (infinite | nan_text)


def _as_bool(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Flags (true/false, yes/no, 1/0, any case); also a mask of cells that are neither."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype(object), pd.Series(False, index=s.index)
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("boolean", "empty"):
        out = pd.Series(None, index=s.index, dtype=object)  # flags and gaps, as a reader gives
        out[s.eq(True).to_numpy(dtype=bool)] = True
        out[s.eq(False).to_numpy(dtype=bool)] = False
        return out, pd.Series(False, index=s.index)
    if not isinstance(s.dtype, pd.StringDtype):
        s = s.astype(object).astype("str")  # missing cells stay missing, others as str(v)
    low = s.str.strip().str.lower()
    is_true = low.isin(list(_TRUE)).to_numpy(dtype=bool)
    is_false = low.isin(list(_FALSE)).to_numpy(dtype=bool)
    out = pd.Series(None, index=s.index, dtype=object)
    out[is_true] = True
    out[is_false] = False
    bad = (low.notna() & (low != "")).to_numpy(dtype=bool) & ~is_true & ~is_false
    return out, pd.Series(bad, index=s.index)


def _describe_range(spec: ColumnSpec, values: pd.Series) -> pd.Series:
    msg = (spec.name + " must be " + spec.describe() + "; got " + text(values)).astype(object)
    if spec.upper == 1.0:
        pct = (values > 1) & (values <= 100)
        if pct.any():
            msg[pct] = msg[pct] + [f" — did you mean {v / 100:.4g}?" for v in values[pct]]
    return msg


def _pct_hint(col: pd.Series) -> pd.Series:
    """" — did you mean 0.6?" for cells such as "60%"; empty otherwise."""
    out = pd.Series("", index=col.index, dtype=object)
    txt = text(col).str.strip()
    is_pct = txt.str.endswith("%")
    if is_pct.any():
        number = pd.to_numeric(txt[is_pct].str.rstrip("%"), errors="coerce") / 100
        ok = number.notna() & np.isfinite(number)
        out[number.index[ok]] = pd.Series([f" — did you mean {v:.4g}?" for v in number[ok]],
                                          index=number.index[ok])
    return out


def _id_column(table: str, spec: ColumnSpec, frame: pd.DataFrame, out: Collector) -> None:
    col = frame[spec.name]
    conv, numeric = _as_id(col)
    frame[spec.name] = conv
    if spec.kind == "id" and numeric.any():
        out.add(table, frame, numeric, "numeric_id", spec.name,
                spec.name + " was stored as a number (" + text(col[numeric]) + "); "
                "identifiers should be text, a spreadsheet may have changed them "
                "(e.g. lost leading zeros)", value=col, severity="warning")
    empty = (conv.isna() | (conv.str.strip() == "")).astype(bool)
    conv = conv.where(~empty)
    if spec.required and empty.any():
        keep = table == "facilities" and spec.name == "facility_id"
        out.add(table, frame, empty, "missing_value", spec.name,
                f"{spec.name} is required: {spec.describe()}; got an empty cell",
                fate="keep" if keep else "drop",
                reading="the facility is counted, named by its row: (row N)" if keep else "")
        if keep:
            conv = conv.where(~empty, "(row " + frame["_row"].astype(str) + ")")
    frame[spec.name] = conv


def _float_column(table: str, spec: ColumnSpec, raw: pd.DataFrame, frame: pd.DataFrame,
                  out: Collector) -> None:
    col = frame[spec.name]
    num, not_number, non_finite = _as_float(col)
    what = spec.name + " must be " + spec.describe()
    finite = spec.name + " must be " + spec.describe().replace("a number", "a finite number")
    reading_value, reading = _FLOAT_READING.get((table, spec.name), (math.nan, ""))
    fate: Any = "keep" if reading else "drop"
    if not_number.any():
        cells = col[not_number]
        out.add(table, frame, not_number, "not_a_number", spec.name,
                what + "; got " + text(cells).str.slice(0, 40) + _pct_hint(cells), value=col,
                fate=fate, reading=reading)
    if non_finite.any():
        out.add(table, frame, non_finite, "non_finite", spec.name,
                finite + "; got " + text(col[non_finite]).str.slice(0, 40)
                + " (nan, inf and numbers too large to hold, such as 1e309, are refused)",
                value=col, fate=fate, reading=reading)
    unreadable = not_number | non_finite
    missing = num.isna() & ~unreadable
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
    if out_of_range.any():
        code = "negative_amount" if spec.lower == 0.0 and spec.upper is None else "out_of_range"
        out.add(table, frame, out_of_range, code, spec.name,
                _describe_range(spec, num[out_of_range]), value=num, fate=fate, reading=reading)
    bad = unreadable | out_of_range
    over = out_of_range & (num > 1)
    num = num.where(~bad, reading_value) if reading else num.where(~bad)
    if table == "ownership" and spec.name == "voting":
        num = num.where(~over, 1.0)  # above 1: all the votes (the reading with more control)
    if table == "facilities" and spec.name == "guaranteed_amount" and bad.any():
        frame["_guarantor_given"] = frame["guarantor_id"].where(bad.to_numpy())
        frame.loc[bad.to_numpy(), "guarantor_id"] = None
    frame[spec.name] = num


def _enum_reading(table: str, spec: ColumnSpec, low: pd.Series, policy: Policy | None,
                  frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The value used for each bad cell, and the reading said in words."""
    exact = low.isin(spec.choices)
    if table == "entities" and spec.name == "kind":
        return (pd.Series("corporate", index=low.index),
                pd.Series("kind read as corporate (never exempt)", index=low.index))
    if table == "facilities" and spec.name == "product":
        value = low.where(exact, "")
        why = pd.Series("read as " + low + " (case and spaces ignored)", index=low.index)
        unknown = ~exact
        if unknown.any():
            ignore = policy is not None and policy.ignore_row_ccf
            undrawn = pd.to_numeric(frame.loc[low.index, "undrawn"], errors="coerce").fillna(0.0) > 0
            as_loan = unknown & ~(ignore & undrawn)
            value = value.where(~as_loan, Product.loan.value)
            value = value.where(~(unknown & ~as_loan), _highest_ccf_product(policy))
            why = why.where(~unknown, "read as " + value + " with the policy's highest CCF on "
                            "the undrawn amount (the largest exposure)")
            frame.loc[low.index[unknown.to_numpy()], "_ccf_reading"] = _highest_ccf(policy)
        return value, why
    fallback = spec.default if spec.default is not None else (
        "other" if "other" in spec.choices else spec.choices[0])
    value = low.where(exact, fallback)
    why = ("read as " + value + " (case and spaces ignored)").where(exact, "read as " + fallback)
    return value, why


def _highest_ccf(policy: Policy | None) -> float:
    return max(policy.ccf.values()) if policy is not None else 1.0


def _highest_ccf_product(policy: Policy | None) -> str:
    if policy is None:
        return Product.other.value
    best = max(policy.ccf.values())
    return str(next(p.value for p in Product if policy.ccf[p] == best))


def _enum_column(table: str, spec: ColumnSpec, frame: pd.DataFrame, policy: Policy | None,
                 out: Collector) -> None:
    col = frame[spec.name]
    txt = (col if isinstance(col.dtype, pd.StringDtype)
           else col.astype(object).where(col.notna(), "").astype(str)).fillna("")
    blank = txt.str.strip() == ""
    bad = ~blank & ~txt.isin(spec.choices)
    if bad.any():
        low = txt[bad].str.strip().str.lower()
        hint = (" — did you mean " + low + "?").where(low.isin(spec.choices), "")
        msg = pd.Series("", index=frame.index, dtype=object)
        msg[bad] = spec.name + " must be " + spec.describe() + "; got " + txt[bad] + hint
        value, why = _enum_reading(table, spec, low, policy, frame)
        reading = pd.Series("", index=frame.index, dtype=object)
        reading[bad] = why
        out.add(table, frame, bad, "unknown_value", spec.name, msg, fate="keep", reading=reading)
        txt = txt.copy()
        txt[bad] = value
    frame[spec.name] = txt.where(~blank, spec.default)


def convert(table: str, raw: pd.DataFrame, *, policy: Policy | None = None,
            rows: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed columns for one table, and every unconvertible, missing or out-of-range cell.

    Returns the typed frame (with ``_row``, the 1-based data row) and the problems (the issue
    columns plus ``fate`` and ``reading``). A bad cell holds the reading collect mode uses; the
    ``policy`` decides the reading of an unknown product (its highest CCF). ``rows`` gives the
    data rows' numbers where ``raw`` is a slice of a table (a Spark partition); by default they
    are 1, 2, ...
    """
    out = Collector()
    raw = raw.reset_index(drop=True)
    frame = raw.copy()
    frame["_row"] = np.arange(1, len(frame) + 1) if rows is None else rows
    for spec in columns(table):
        if spec.name not in frame:
            frame[spec.name] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
        if spec.kind in ("id", "str"):
            _id_column(table, spec, frame, out)
        elif spec.kind == "float":
            _float_column(table, spec, raw, frame, out)
        elif spec.kind == "bool":
            flags, bad = _as_bool(frame[spec.name])
            if bad.any():
                reading = CONSERVATIVE_FLAGS.get((table, spec.name), bool(spec.default))
                out.add(table, frame, bad, "invalid_bool", spec.name,
                        spec.name + " must be true or false (also yes/no, 1/0); got "
                        + text(frame[spec.name][bad]), fate="keep",
                        reading=f"{spec.name} read as {str(reading).lower()}")
                flags = flags.where(~bad, reading)
            if spec.default is None and not spec.required:  # a tri-state flag: blank = not given
                frame[spec.name] = flags.where(flags.notna(), None).astype(object)
            else:
                frame[spec.name] = flags.where(flags.notna(), bool(spec.default)).astype(bool)
        else:
            _enum_column(table, spec, frame, policy, out)
    if "_ccf_reading" in frame:  # an unknown product: the policy's highest CCF
        given = frame.pop("_ccf_reading")
        frame["ccf"] = given.where(given.notna(), frame["ccf"]).astype("float64")
    return frame, out.raw()


def finite_problems(frame: pd.DataFrame, names: Iterable[str], *, table: str = "proposals"
                    ) -> list[str]:
    """Messages for every cell of ``names`` that is not a finite number (or is a bool); blank
    cells are allowed. The rule of :func:`convert`, for frames that are not one of the five tables.

    >>> for m in finite_problems(pd.DataFrame({"amount": [5.0, float("inf"), True]}), ["amount"]):
    ...     print(m)
    proposals row 2: amount must be a finite number; got inf
    proposals row 3: amount must be a finite number; got True (a true/false is not a number)
    """
    msgs: list[str] = []
    frame = frame.reset_index(drop=True)
    for name in names:
        if name not in frame:
            continue
        _, not_number, non_finite = _as_float(frame[name])
        for i in np.flatnonzero((not_number | non_finite).to_numpy()):
            cell = frame[name].iloc[i]
            note = " (a true/false is not a number)" if isinstance(cell, bool | np.bool_) else ""
            msgs.append(f"{table} row {i + 1}: {name} must be a finite number; got {cell}{note}")
    return msgs


def require_finite(frame: pd.DataFrame, names: Iterable[str], *, table: str = "proposals") -> None:
    """Raise ``ValueError`` listing every non-finite (or boolean) number in ``names``.

    >>> require_finite(pd.DataFrame({"amount": [1e309]}), ["amount"])
    Traceback (most recent call last):
    ...
    ValueError: proposals row 1: amount must be a finite number; got inf
    """
    msgs = finite_problems(frame, names, table=table)
    if msgs:
        more = f"; and {len(msgs) - 5} more" if len(msgs) > 5 else ""
        raise ValueError("; ".join(msgs[:5]) + more)
