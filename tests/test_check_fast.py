"""The fast paths of the check (issue 19.2) give what the general paths give.

- a typed, clean table of proposals read column-wise (``decide/_frame_fast.py``) gives the same
  proposals as the column rules (``validate.columns.convert``); a table it is not sure of goes to
  the column rules, with their messages;
- the binding rule picked by segment maxima (``_solver._pick``) is the one a sort of every
  (proposal, tier, utilisation, position) picks, NaN and ties included.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groupexposure as gx
from groupexposure.decide import _frame_fast, proposals
from groupexposure.decide._solver import _pick, _starts
from groupexposure.decide.proposals import FIELDS, ProposalError
from tests.strategies import portfolios

NINGXIA = gx.analyze(gx.datasets.ningxia())
IX = NINGXIA._check_index
PRODUCTS = ["loan", "overdraft", "bond", "commitment", "guarantee_issued", "performance_bond",
            "trade_lc", "other"]


def _table_path(ix, frame: pd.DataFrame) -> proposals.Proposals:
    """``from_frame`` through the column rules only."""
    fast = proposals.clean
    proposals.clean = lambda ix, frame: None  # type: ignore[assignment]
    try:
        return proposals.from_frame(ix, frame)
    finally:
        proposals.clean = fast


def _same(a: proposals.Proposals, b: proposals.Proposals) -> None:
    for k in vars(a):
        x, y = getattr(a, k), getattr(b, k)
        assert x.dtype == y.dtype, k
        assert np.array_equal(x, y, equal_nan=True), k


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(book=portfolios(), data=st.data())
def test_a_clean_typed_table_reads_as_the_column_rules_read_it(book, data):
    r = gx.analyze(book)
    ix = r._check_index
    ids = list(book.entities["entity_id"])
    n = data.draw(st.integers(1, 8))
    keep = data.draw(st.lists(st.sampled_from(FIELDS[2:]), unique=True))
    rows = []
    for _ in range(n):
        obligor = data.draw(st.sampled_from(ids))
        mixed = data.draw(st.booleans())
        product = (data.draw(st.one_of(st.none(), st.sampled_from(PRODUCTS)))
                   if "product" in keep else None)  # a table without the column: loans
        on = product in ("loan", "overdraft", "bond", None)
        rows.append({
            "entity_id": obligor,
            "amount": float(data.draw(st.integers(0, 800))),
            "product": product,
            # the other part of a mixed facility (the same part with the amount is refused)
            "drawn": float(data.draw(st.integers(0, 50))) if mixed and not on else None,
            "undrawn": float(data.draw(st.integers(0, 50))) if mixed and on else None,
            "ccf": data.draw(st.one_of(st.none(), st.sampled_from([0.0, 0.05, 0.5, 1.0]))),
            "currency": data.draw(st.one_of(st.none(), st.sampled_from(sorted(r.fx)))),
            "guarantor_id": data.draw(st.one_of(
                st.none(), st.sampled_from([i for i in ids if i != obligor]))),
            "guaranteed_amount": data.draw(st.one_of(st.none(), st.integers(0, 300).map(float))),
            "collateral_value": float(data.draw(st.integers(0, 100))),
        })
    frame = pd.DataFrame(rows)[["entity_id", "amount", *keep]]
    fast = _frame_fast.clean(ix, frame)
    assert fast is not None
    _same(fast, _table_path(ix, frame))


# typed tables the fast path is not sure of: the column rules read them, with their messages
DOUBTFUL = [
    ({"entity_id": ["TM"], "amount": [-5.0]}, "amount must be a number >= 0; got -5"),
    ({"entity_id": ["TM"], "amount": [math.inf]}, "amount must be a finite number >= 0"),
    ({"entity_id": ["TM"], "amount": [1.0], "ccf": [2.0]}, r"ccf must be a number in \[0, 1\]"),
    ({"entity_id": ["TM"], "amount": [1.0], "collateral_value": [-1.0]},
     "collateral_value must be a number >= 0"),
    ({"entity_id": ["RC-SPN"], "amount": [1.0]}, "unknown entity 'RC-SPN'"),
    ({"entity_id": ["TM"], "amount": [1.0], "guarantor_id": ["TM"]},
     "the guarantor must differ from the obligor"),
    ({"entity_id": ["TM"], "amount": [1.0], "guarantor_id": ["ZY-GUA"]},
     "unknown guarantor 'ZY-GUA'"),
    ({"entity_id": ["TM"], "amount": [1.0], "product": ["Loan"]}, "did you mean loan"),
    ({"entity_id": ["TM"], "amount": [1.0], "currency": ["JPY"]}, "no FX rate for JPY"),
    ({"entity_id": ["TM"], "amount": [1.0], "product": ["commitment"], "undrawn": [2.0]},
     "give the amount or undrawn=, not both"),
    ({"entity_id": ["TM"], "amount": [np.nan]}, "amount is required"),
    ({"entity_id": ["TM"], "amount": [True]}, "amount must be a number"),
]


@pytest.mark.parametrize(("columns", "message"), DOUBTFUL)
def test_a_doubtful_typed_table_goes_to_the_column_rules(columns, message):
    typed = pd.DataFrame(columns)
    assert _frame_fast.clean(IX, typed) is None
    as_objects = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in columns.items()})
    with pytest.raises(ProposalError, match=message) as one:
        NINGXIA.check_many(typed)
    with pytest.raises(ProposalError) as other:
        NINGXIA.check_many(as_objects)
    assert str(one.value) == str(other.value)


def test_blank_text_and_numbers_as_ids_go_to_the_column_rules():
    # a blank guarantor is no guarantor, an id stored as a number is read as text: both are the
    # column rules' to read
    assert _frame_fast.clean(IX, pd.DataFrame({"entity_id": ["TM"], "amount": [1.0],
                                               "guarantor_id": [" "]})) is None
    assert _frame_fast.clean(IX, pd.DataFrame({"entity_id": [7], "amount": [1.0]})) is None
    out = NINGXIA.check_many(pd.DataFrame({"entity_id": ["TM"], "amount": [1.0],
                                           "guarantor_id": [" "]}))
    assert bool(out["approved"].iat[0]) == NINGXIA.check("TM", 1.0).approved


def test_an_empty_table_is_judged():
    out = NINGXIA.check_many(pd.DataFrame({"entity_id": pd.Series([], dtype=str),
                                           "amount": pd.Series([], dtype=float)}))
    assert len(out) == 0 and list(out.columns[-5:]) == ["approved", "reason", "max_amount",
                                                        "binding_rule", "binding_subject"]


class _Scope:
    def __init__(self, prop: np.ndarray) -> None:
        self.prop = prop
        self.starts = _starts(prop)


def _pick_by_sort(n_p, scopes, tiers, utils):
    """The former pick: one lexsort of every (proposal, tier, utilisation, -position)."""
    keys = []
    for s, (sc, tier, util) in enumerate(zip(scopes, tiers, utils, strict=True)):
        r, m = tier.shape
        order = np.arange(m) - np.searchsorted(sc.prop, sc.prop)
        # the scope first, then the row, then the rule (a scope's rows times its rules stays
        # below 10^6, so a later scope always ranks after: the scopes have different r)
        ordinal = s * 1_000_000 + order[None, :] * r + np.arange(r)[:, None]
        keys.append((np.broadcast_to(sc.prop, (r, m)).ravel(), tier.ravel(), util.ravel(),
                     ordinal.ravel(), np.full(r * m, s),
                     np.broadcast_to(np.arange(m), (r, m)).ravel(),
                     np.broadcast_to(np.arange(r)[:, None], (r, m)).ravel()))
    out = [np.full(n_p, -1) for _ in range(3)]
    prop, tier, util, ordinal, sidx, row, rule = (np.concatenate(k) for k in zip(*keys,
                                                                                 strict=True))
    order = np.lexsort((-ordinal, util, tier, prop))
    last = np.ones(order.size, dtype=bool)
    last[:-1] = prop[order[1:]] != prop[order[:-1]]
    pick = order[last]
    pick = pick[tier[pick] | np.isfinite(util[pick])]
    for o, v in zip(out, (sidx, row, rule), strict=True):
        o[prop[pick]] = v[pick]
    return tuple(out)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_the_binding_pick_is_the_sorted_pick(data):
    n_p = data.draw(st.integers(1, 6))
    values = st.sampled_from([-math.inf, 0.0, 0.5, 1.0, 1.5, math.inf, math.nan])
    scopes, tiers, utils = [], [], []
    for _ in range(data.draw(st.integers(1, 3))):
        prop = np.sort(np.array(data.draw(st.lists(st.integers(0, n_p - 1), min_size=1,
                                                   max_size=8)), dtype=np.int64))
        r = data.draw(st.integers(1, 3))
        m = prop.size
        tiers.append(np.array(data.draw(st.lists(st.booleans(), min_size=r * m,
                                                 max_size=r * m))).reshape(r, m))
        utils.append(np.array(data.draw(st.lists(values, min_size=r * m, max_size=r * m)),
                              dtype=np.float64).reshape(r, m))
        scopes.append(_Scope(prop))
    got = _pick(n_p, scopes, tiers, utils)  # type: ignore[arg-type]
    want = _pick_by_sort(n_p, scopes, tiers, utils)
    for g, w in zip(got, want, strict=True):
        assert g.tolist() == w.tolist()
