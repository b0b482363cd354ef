"""Amounts as banks keep them: units (元, 万元, 亿元), thousands separators, text such as "3亿元".

A Chinese credit department keeps balances in 万元 (ten thousand yuan) and capital in 亿元 or 元; the
library computes in the reporting currency's unit (元 for CNY). ``amount_unit`` scales the facilities'
amount columns and ``capital_unit`` the capital figures, each by its own factor, when the files are
read; everything downstream (results, limits, reports) is in 元. Cells such as ``"300,000,000.00"``
are numbers; a cell that carries its unit in the text (``"3亿元"``, ``"300万"``) is refused with a
message saying how to give the unit once for the file.

>>> unit_factor("万元"), unit_factor("亿元"), unit_factor(1000), unit_factor(None)
(10000.0, 100000000.0, 1000.0, 1.0)
>>> import pandas as pd
>>> to_numbers(pd.Series(["300,000,000.00", "12.5", None])).tolist()
[300000000.0, 12.5, nan]
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

__all__ = [
    "AMOUNT_COLUMNS",
    "CAPITAL_AMOUNTS",
    "UNITS",
    "Unit",
    "amount_with_unit",
    "scale",
    "to_numbers",
    "unit_factor",
    "unit_hint",
    "unit_sanity",
]

Unit = str | float | int | None
UNITS: dict[str, float] = {
    "元": 1.0, "yuan": 1.0, "千元": 1e3, "万元": 1e4, "万": 1e4, "百万元": 1e6, "亿元": 1e8, "亿": 1e8,
}
"""The named units understood (a positive number is also a unit: ``amount_unit=10000``)."""
AMOUNT_COLUMNS = ("drawn", "undrawn", "provision", "guaranteed_amount", "collateral_value")
"""The facilities' columns that ``amount_unit`` scales (``ccf`` is a fraction, never scaled)."""
CAPITAL_AMOUNTS = ("tier1", "total_capital")
"""The capital record's figures that ``capital_unit`` scales."""
UNIT_MISMATCH_LOW, UNIT_MISMATCH_HIGH = 1e-3, 1e3
"""The book's total exposure below 0.1% or above 1,000 times Tier 1 suggests different units."""

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_WITH_UNIT = re.compile(r"^\s*([+-]?[\d,]*\.?\d+)\s*(千元|万元|百万元|亿元|万|亿|元|RMB|CNY)\s*$", re.I)


def unit_factor(unit: Unit, *, name: str = "amount_unit") -> float:
    """The factor that turns amounts in ``unit`` into 元 (or the reporting currency's unit)."""
    if unit is None:
        return 1.0
    if isinstance(unit, str):
        text = unit.strip()
        if text in UNITS:
            return UNITS[text]
        try:
            value = float(text.replace(",", ""))
        except ValueError:
            value = math.nan
    elif isinstance(unit, int | float) and not isinstance(unit, bool):
        value = float(unit)
    else:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be 元, 万元 or 亿元 (also 千元, 百万元) or a positive number "
                         f"such as 10000; got {unit!r}")
    return value


def to_numbers(values: pd.Series) -> pd.Series:
    """Text cells that are numbers become floats (``"300,000,000.00"`` too); other cells are kept
    as they are, for validation to report. A numeric column is returned unchanged."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values
    obj = values.astype(object)
    is_text = np.fromiter((isinstance(v, str) for v in obj), dtype=bool, count=len(obj))
    if not is_text.any():
        return values
    text = obj[is_text].astype(str).str.strip()
    sep = text.str.match(_THOUSANDS).astype(bool)
    text = text.where(~sep, text.str.replace(",", "", regex=False))
    number = pd.to_numeric(text, errors="coerce")
    out = obj.copy()
    ok = number.notna().to_numpy()
    out[text.index[ok]] = number[ok].to_numpy(dtype=np.float64)
    blank = (text == "").to_numpy()
    out[text.index[blank]] = np.nan
    if (is_text & ~np.isin(np.arange(len(obj)), np.flatnonzero(is_text)[ok | blank])).any():
        return out
    return out.astype("float64")


def amount_with_unit(values: pd.Series) -> pd.Series:
    """A mask of text cells such as ``"3亿元"`` or ``"300万"``: a number followed by a unit."""
    obj = values.astype(object)
    return obj.map(lambda v: isinstance(v, str) and _WITH_UNIT.match(v) is not None).astype(bool)


def unit_hint(cell: str, *, option: str = "amount_unit") -> str:
    """How to give the unit of a cell such as ``"3亿元"`` once for the file.

    >>> print(unit_hint("3亿元"))  # doctest: +NORMALIZE_WHITESPACE
    got 3亿元, a number with its unit: write the number only (3) and give the unit once for the
    file, amount_unit="亿元" (CLI --amount-unit 亿元)
    """
    match = _WITH_UNIT.match(cell)
    number, unit = (match.group(1), match.group(2)) if match else (cell, "万元")
    if unit not in UNITS:
        unit = "元"  # RMB / CNY: the currency, not a unit
    flag = "--" + option.replace("_", "-")
    return (f"got {cell.strip()}, a number with its unit: write the number only ({number}) and give "
            f'the unit once for the file, {option}="{unit}" (CLI {flag} {unit})')


def scale(values: pd.Series, factor: float) -> pd.Series:
    """Amounts times ``factor``; text cells (reported by validation) are left alone. Results are
    rounded to the 分 (0.01) when the factor is a whole number above 1, so that 12.3456 万元 is
    123,456 元 exactly, not 123456.00000000001."""
    if factor == 1.0:
        return values
    whole = factor > 1 and float(factor).is_integer()

    def times(x: np.ndarray) -> np.ndarray:
        y = x * factor
        return np.round(y, 2) if whole else y

    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return pd.Series(times(values.to_numpy(np.float64)), index=values.index)
    obj = values.astype(object).copy()
    num = obj.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool)).to_numpy(bool)
    if num.any():
        obj[num] = list(times(np.asarray(obj[num].tolist(), dtype=np.float64)))
    return obj


def unit_sanity(total_exposure: float, tier1: float, currency: str) -> str | None:
    """A warning text when the book's total exposure is below 0.1% or above 1,000 times Tier 1 (the
    facilities and the capital are then probably in different units), else None.

    >>> unit_sanity(1.9e9, 3.2e9, "CNY") is None
    True
    >>> unit_sanity(1.9e5, 3.2e9, "CNY")[:60]
    "the book's total exposure (190,000 CNY) is 0.0059% of Tier 1"
    """
    if not (total_exposure > 0 and tier1 > 0):
        return None
    ratio = total_exposure / tier1
    if UNIT_MISMATCH_LOW <= ratio <= UNIT_MISMATCH_HIGH:
        return None
    size = f"{ratio * 100:.2g}% of" if ratio < 1 else f"{ratio:,.0f} times"
    return (f"the book's total exposure ({total_exposure:,.0f} {currency}) is {size} Tier 1 "
            f"({tier1:,.0f} {currency}): the facilities and the capital may be in different units; "
            "give them with amount_unit= and capital_unit= (CLI --amount-unit, --capital-unit; "
            "元, 万元, 亿元 or a number)")
