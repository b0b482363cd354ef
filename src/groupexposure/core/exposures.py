"""Exposure values (SPEC §4): conversion, CCFs, provisions, collateral and guarantor substitution.

Everything is computed column-wise over the facilities table and summed per entity with
``numpy.bincount``.

Examples
--------
A loan of 100 with 30 of collateral and a guarantee of 50 from an eligible corporate:

>>> import pandas as pd, groupexposure as gx
>>> fac = pd.DataFrame({"facility_id": ["F1"], "obligor_id": ["A"], "product": ["loan"],
...     "drawn": [100.0], "undrawn": [0.0], "ccf": [float("nan")], "provision": [0.0],
...     "currency": ["CNY"], "guarantor_id": ["G"], "guaranteed_amount": [50.0],
...     "collateral_value": [30.0]})
>>> out = facility_values(fac, obligor=[0], guarantor=[1], kinds=["corporate", "corporate"],
...                       policy=gx.policies.basel, fx={"CNY": 1.0})
>>> out[["original", "collateral", "guaranteed", "net"]].iloc[0].tolist()
[100.0, 30.0, 50.0, 20.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from ..model.policy import Policy
from ..model.schema import Product

__all__ = ["EntityExposure", "canonical_order", "ccf_used", "entity_exposures", "facility_values",
           "split"]

LOAN_PRODUCTS = (Product.loan.value, Product.overdraft.value)
ON_BALANCE_PRODUCTS = frozenset({Product.loan.value, Product.overdraft.value, Product.bond.value})
"""Products whose nominal is drawn (on balance sheet); every other product's nominal is undrawn."""

Num = TypeVar("Num", float, np.ndarray)


def ccf_used(default: Num, row_ccf: Num, policy: Policy) -> Num:
    """The credit conversion factor applied to ``undrawn`` (SPEC §4, §5): the row's own ``ccf``
    (NaN: not given) else the policy's ``default`` for the product, then the policy's floor; a
    policy that ignores row factors (``cn_group_credit``) takes its own factor as it is.
    Works on one facility (floats) or on columns (arrays).

    >>> import groupexposure as gx
    >>> ccf_used(0.5, float("nan"), gx.policies.basel), ccf_used(0.5, 0.02, gx.policies.basel)
    (0.5, 0.1)
    """
    if policy.ignore_row_ccf:
        return default
    if isinstance(row_ccf, float):
        return max(default if row_ccf != row_ccf else row_ccf, policy.ccf_floor)
    return np.maximum(np.where(np.isnan(row_ccf), default, row_ccf), policy.ccf_floor)


def split(original: Num, collateral_value: Num, guaranteed_amount: Num, eligible: Any
          ) -> tuple[Num, Num, Num, Num]:
    """SPEC §4 from the exposure's original value: ``(collateral, after_collateral, guaranteed,
    net)``.

    ``guaranteed_amount`` NaN means the whole exposure left after collateral; ``eligible`` says
    whether the guarantor is an eligible protection provider (else nothing is guaranteed).
    Works on one facility (floats, ``eligible`` a bool) or on columns (arrays).

    >>> split(100.0, 30.0, 50.0, True), split(100.0, 30.0, float("nan"), True)
    ((30.0, 70.0, 50.0, 20.0), (30.0, 70.0, 70.0, 0.0))
    """
    if isinstance(original, float):
        coll = min(collateral_value, original)
        after = original - coll
        if not eligible:
            return coll, after, 0.0, after
        g = after if guaranteed_amount != guaranteed_amount else min(guaranteed_amount, after)
        return coll, after, g, after - g
    coll_a = np.minimum(collateral_value, original)
    after_a = original - coll_a
    g_a = np.where(eligible, np.minimum(np.where(np.isnan(guaranteed_amount), after_a,
                                                 guaranteed_amount), after_a), 0.0)
    return coll_a, after_a, g_a, after_a - g_a


def facility_values(
    facilities: pd.DataFrame,
    *,
    obligor: Sequence[int] | np.ndarray,
    guarantor: Sequence[int] | np.ndarray,
    kinds: Sequence[str] | np.ndarray,
    policy: Policy,
    fx: dict[str, float],
) -> pd.DataFrame:
    """Per facility (rows as in ``facilities``), in the reporting currency: ``on_balance,
    off_balance, ccf_used, original,
    collateral, after_collateral, guaranteed, net, loans``, plus ``eligible_guarantee``.

    ``obligor`` and ``guarantor`` are entity codes (-1: no guarantor); ``kinds`` the kind of each
    entity code. ``loans`` is the drawn amount of loan and overdraft facilities (the ``loans``
    measure of SPEC §5: before provisions and credit risk mitigation).
    """
    ccy_code, ccys = pd.factorize(facilities["currency"])
    rate = np.array([fx[c] for c in ccys], dtype=np.float64)[ccy_code]
    drawn = facilities["drawn"].to_numpy(dtype=np.float64) * rate
    undrawn = facilities["undrawn"].to_numpy(dtype=np.float64) * rate
    provision = facilities["provision"].to_numpy(dtype=np.float64) * rate
    coll_value = facilities["collateral_value"].to_numpy(dtype=np.float64) * rate
    g_amount = facilities["guaranteed_amount"].to_numpy(dtype=np.float64) * rate

    prod_code, products = pd.factorize(facilities["product"])
    factors = {p.value: f for p, f in policy.ccf.items()}
    default_ccf = np.array([factors[p] for p in products], dtype=np.float64)[prod_code]
    ccf = ccf_used(default_ccf, facilities["ccf"].to_numpy(dtype=np.float64), policy)

    on_balance = np.maximum(drawn - provision, 0.0)
    off_balance = ccf * undrawn
    original = on_balance + off_balance
    guarantor = np.asarray(guarantor, dtype=np.int64)
    kinds_arr = np.asarray(kinds, dtype=object)
    eligible_kinds = {k.value for k in policy.eligible_guarantor_kinds}
    has_guarantor = guarantor >= 0
    eligible = np.zeros(len(facilities), dtype=bool)
    if has_guarantor.any():
        eligible[has_guarantor] = pd.Series(kinds_arr[guarantor[has_guarantor]]).isin(
            eligible_kinds).to_numpy()
    collateral, after, guaranteed, net = split(original, coll_value, g_amount, eligible)
    is_loan = np.isin(products, LOAN_PRODUCTS)[prod_code]
    return pd.DataFrame(
        {
            "obligor": np.asarray(obligor, dtype=np.int64),
            "guarantor": guarantor,
            "ccf_used": ccf,
            "on_balance": on_balance,
            "off_balance": off_balance,
            "original": original,
            "collateral": collateral,
            "after_collateral": after,
            "eligible_guarantee": eligible,
            "ineligible_guarantee": has_guarantor & ~eligible,
            "guaranteed": guaranteed,
            "net": net,
            "loans": np.where(is_loan, drawn, 0.0),
        }
    )


@dataclass(frozen=True)
class EntityExposure:
    """Per entity code: the sums of SPEC §4 (``own_net`` includes what is substituted in)."""

    own_original: np.ndarray
    own_net: np.ndarray
    substituted_in: np.ndarray
    loans: np.ndarray


def canonical_order(facility_id: pd.Series, values: pd.DataFrame) -> np.ndarray:
    """The order in which facility amounts are summed (docs/determinism.md): by facility_id
    (code-point order), then, for rows sharing an id (kept in collect mode), by their values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # Arrow compares UTF-8 bytes, which is code-point order; its sorts are stable, like lexsort's
    ids = pa.array(facility_id.astype(str), type=pa.large_string())
    order = pc.array_sort_indices(ids)
    ranked = ids.take(order)
    if len(ids) < 2 or not pc.any(pc.equal(ranked[1:], ranked[:-1])).as_py():
        return np.asarray(order.to_numpy(), dtype=np.int64)  # every id once: no tie to break
    keys = ["original", "net", "guaranteed", "loans"]
    table = pa.table({"id": ids, **{c: pa.array(values[c].to_numpy(np.float64)) for c in keys}})
    order = pc.sort_indices(table, sort_keys=[(c, "ascending") for c in ["id", *keys]])
    return np.asarray(order.to_numpy(), dtype=np.int64)


def entity_exposures(values: pd.DataFrame, n: int, order: np.ndarray | None = None
                     ) -> EntityExposure:
    """Sum facility values per obligor, and substitute guaranteed parts onto guarantors.

    ``order``: the facilities in the order they are added (:func:`canonical_order`; default the
    row order). Each entity's sum is taken left to right in that order."""
    if order is not None:
        values = values.iloc[order]
    ob = values["obligor"].to_numpy()
    own_original = np.bincount(ob, weights=values["original"].to_numpy(), minlength=n)
    net = np.bincount(ob, weights=values["net"].to_numpy(), minlength=n)
    g = values["guarantor"].to_numpy()
    sub = g >= 0
    substituted = np.bincount(g[sub], weights=values["guaranteed"].to_numpy()[sub], minlength=n)
    loans = np.bincount(ob, weights=values["loans"].to_numpy(), minlength=n)
    return EntityExposure(own_original, net + substituted, substituted, loans)
