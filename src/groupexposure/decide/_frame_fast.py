"""The column-wise fast path of ``check_many``'s validation (SPEC §6): no per-cell Python.

:func:`groupexposure.decide.proposals.from_frame` validates a table of proposals through the column
rules of facilities.csv (:func:`groupexposure.validate.columns.convert`), which reads cell by cell
wherever a column is not already typed. Most tables are already typed and clean: ids as text that
are in the book, amounts as finite numbers >= 0, products and currencies that are known. For such a
table the column rules find nothing and change nothing but the defaults of blank cells, so it is
read here with whole-column tests; :func:`clean` returns ``None`` the moment a column is not surely
clean (of another type, or with any value the rules might refuse or re-read), and the table path
then says what is wrong. Both paths end in :func:`groupexposure.decide.proposals.assemble`, so a
clean table gives the same proposals either way (a test holds them to it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..core.exposures import LOAN_PRODUCTS, ON_BALANCE_PRODUCTS
from ..model.schema import Product

if TYPE_CHECKING:
    from ._index import CheckIndex
    from .proposals import Proposals

__all__ = ["clean"]

_PRODUCTS = frozenset(p.value for p in Product)
# proposal field: (lower bound, upper bound or None, value of a blank cell) as the column rules of
# facilities.csv give them (``amount`` is checked as ``provision``: a number >= 0, blank 0)
_NUMBERS = {"amount": (0.0, None, 0.0), "drawn": (0.0, None, 0.0), "undrawn": (0.0, None, 0.0),
            "ccf": (0.0, 1.0, np.nan), "collateral_value": (0.0, None, 0.0),
            "guaranteed_amount": (0.0, None, np.nan)}


def _number(frame: pd.DataFrame, name: str, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(values with blanks at their default, blank mask), or None if not surely clean."""
    lower, upper, blank_value = _NUMBERS[name]
    if name not in frame:
        return np.full(n, blank_value), np.ones(n, dtype=bool)
    col = frame[name]
    dtype = col.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
        v = col.to_numpy(dtype=np.float64)
    elif isinstance(dtype, np.dtype) and dtype.kind == "O" and bool(col.isna().all()):
        v = np.full(n, np.nan)
    else:
        return None
    blank = np.isnan(v)
    with np.errstate(invalid="ignore"):
        bad = np.isinf(v) | (v < lower)
        if upper is not None:
            bad |= v > upper
    if bad.any():
        return None
    return (np.where(blank, blank_value, v) if blank.any() else v), blank


def _text(frame: pd.DataFrame, name: str) -> pa.Array | pa.ChunkedArray | None:
    """The column as arrow text (nulls where blank), ``pa.nulls`` where absent; None if some
    cell is not text."""
    if name not in frame:
        return pa.nulls(len(frame), pa.string())
    col = frame[name]
    if bool(col.isna().all()):
        return pa.nulls(len(frame), pa.string())
    if not (isinstance(col.dtype, pd.StringDtype) or col.dtype.kind == "O"):
        return None
    if pd.api.types.infer_dtype(col, skipna=True) != "string":
        return None
    return pa.array(col.array, from_pandas=True) if isinstance(col.dtype, pd.StringDtype) \
        else pa.array(col.to_numpy(dtype=object), type=pa.string(), from_pandas=True)


def _codes(ix: CheckIndex, obligors: pa.Array | pa.ChunkedArray,
           guarantors: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Obligor and guarantor codes (-1 where null), and whether every non-null id is in the book:
    one look-up of both, through the index's table of ids (:mod:`._lookup`) where the book has one,
    else arrow's (which builds a hash table of the book's ids at each call)."""
    text = ix.ids_arrow.type
    ob = obligors.cast(text)
    given = guarantors.is_valid()
    n_g = len(guarantors) - guarantors.null_count
    both = pa.chunked_array([*_chunks(ob), *_chunks(guarantors.cast(text).filter(given))]) \
        if n_g else ob
    lookup = ix.id_lookup
    if lookup is None:
        codes = np.asarray(pc.index_in(both, value_set=ix.ids_arrow).fill_null(-1).to_numpy(),
                           dtype=np.int64)
    else:
        codes = lookup.codes(both)
    ok = int(np.count_nonzero(codes < 0)) == obligors.null_count
    guarantor = np.full(len(guarantors), -1, dtype=np.int64)
    if n_g:
        guarantor[np.asarray(given.to_numpy(zero_copy_only=False), dtype=bool)] = codes[len(ob):]
    return codes[:len(ob)], guarantor, ok


def _chunks(a: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return a.chunks if isinstance(a, pa.ChunkedArray) else [a]


def _factor(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, list[str | None]]:
    """(code per cell, distinct values); a null is one of the values (None)."""
    enc = pc.dictionary_encode(values, null_encoding="encode")
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks() if enc.num_chunks != 1 else enc.chunk(0)
    return (np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64),
            enc.dictionary.to_pylist())


def clean(ix: CheckIndex, frame: pd.DataFrame) -> Proposals | None:
    """The proposals of a surely clean ``frame`` (what the table path would give), else None."""
    from .proposals import assemble

    n = len(frame)
    nums = {}
    for name in _NUMBERS:
        got = _number(frame, name, n)
        if got is None:
            return None
        nums[name] = got
    texts = {name: _text(frame, name) for name in ("entity_id", "guarantor_id", "product",
                                                     "currency")}
    if any(t is None for t in texts.values()):
        return None
    ob_ids, g_ids = texts["entity_id"], texts["guarantor_id"]
    assert ob_ids is not None and g_ids is not None
    if ob_ids.null_count:
        return None
    obligor, guarantor, ok = _codes(ix, ob_ids, g_ids)
    if not ok or bool(((guarantor == obligor) & (guarantor >= 0)).any()):
        return None
    p_codes, p_values = _factor(texts["product"])
    products = ["loan" if p is None else p for p in p_values]
    if not set(products) <= _PRODUCTS:
        return None
    c_codes, c_values = _factor(texts["currency"])
    currencies = [ix.currency if c is None else c for c in c_values]
    if not set(currencies) <= set(ix.fx):
        return None
    on = np.array([p in ON_BALANCE_PRODUCTS for p in products], dtype=bool)[p_codes]
    has_amount = ~nums["amount"][1]
    side_given = np.where(on, ~nums["drawn"][1], ~nums["undrawn"][1]) & (
        np.where(on, nums["drawn"][0], nums["undrawn"][0]) != 0)
    if bool((has_amount & side_given).any()) or bool(
            (~has_amount & nums["drawn"][1] & nums["undrawn"][1]).any()):
        return None
    return assemble(
        ix, on=on, is_loan=np.array([p in LOAN_PRODUCTS for p in products], dtype=bool)[p_codes],
        default_ccf=np.array([ix.ccf[p] for p in products], dtype=np.float64)[p_codes],
        rate=np.array([ix.fx[c] for c in currencies], dtype=np.float64)[c_codes],
        row_ccf=nums["ccf"][0], obligor=obligor, guarantor=guarantor,
        amounts={k: nums[k][0] for k in ("amount", "drawn", "undrawn", "collateral_value",
                                         "guaranteed_amount")},
        has_amount=has_amount)
