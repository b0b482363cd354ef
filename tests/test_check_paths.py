"""One proposal path (issue 11.3, SPEC §6): ``check`` and ``check_many`` accept and refuse the same
proposals with the same messages; the scalar fast path of ``check`` agrees with the vectorised one."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groupexposure as gx
from groupexposure.decide.proposals import FIELDS, ProposalError
from tests.strategies import portfolios

NINGXIA = gx.analyze(gx.datasets.ningxia())

# (arguments of check, the message it must be refused with; None: accepted)
PROPOSALS: list[tuple[dict[str, object], str | None]] = [
    ({"entity_id": "TM", "amount": 1e6}, None),
    ({"entity_id": "TM", "amount": 5e7, "product": "performance_bond"}, None),
    ({"entity_id": "TM", "product": "commitment", "drawn": 1e6, "undrawn": 2e6}, None),
    ({"entity_id": "TM", "amount": 1e6, "undrawn": 3e6, "ccf": 0.5}, None),
    ({"entity_id": "TM", "amount": 1e6, "guarantor_id": "ZY-GUAR", "guaranteed_amount": 5e5},
     None),
    ({"entity_id": "ZY-HK", "amount": 1e6, "currency": "USD", "collateral_value": 1e5}, None),
    ({"entity_id": "TM", "amount": 1e6, "ccf": 2.0}, r"ccf must be a number in \[0, 1\]; got 2"),
    ({"entity_id": "TM", "amount": 1e6, "ccf": -0.1}, r"ccf must be a number in \[0, 1\]"),
    ({"entity_id": "TM", "amount": -5.0}, "amount must be a number >= 0; got -5"),
    ({"entity_id": "TM", "amount": 1.0, "collateral_value": -1.0},
     "collateral_value must be a number >= 0; got -1"),
    ({"entity_id": "TM", "amount": math.inf}, "amount must be a finite number >= 0; got inf"),
    ({"entity_id": "TM", "amount": 10**400},  # an int beyond any float: infinite, not a crash
     "amount must be a finite number >= 0; got 1000"),
    ({"entity_id": "TM", "amount": 1.0, "guaranteed_amount": math.inf},
     "guaranteed_amount must be a finite number >= 0; got inf"),
    ({"entity_id": "TM", "amount": 1.0, "guarantor_id": "TM"},
     "the guarantor must differ from the obligor"),
    ({"entity_id": "TM", "amount": 1.0, "product": "Loan"},
     "product must be one of loan, .*; got Loan — did you mean loan"),
    ({"entity_id": "TM", "amount": 1.0, "product": "保函"}, "product must be one of loan"),
    ({"entity_id": "TM", "amount": 1.0, "guarantor_id": "ZY-GUA"},
     "unknown guarantor 'ZY-GUA': not in entities.csv; did you mean ZY-GUAR"),
    ({"entity_id": "RC-SPN", "amount": 1.0}, "unknown entity 'RC-SPN': not in entities.csv"),
    ({"entity_id": "TM", "amount": 1.0, "currency": "JPY"}, "no FX rate for JPY; rates are given"),
    ({"entity_id": "TM", "amount": "abc"}, "amount must be a number >= 0; got abc"),
    ({"entity_id": "TM", "amount": 1.0, "product": "commitment", "undrawn": 2.0},
     "give the amount or undrawn=, not both"),
    ({"entity_id": "TM"}, "amount is required"),
]


def _check(kw: dict[str, object]) -> gx.Decision:
    args = dict(kw)
    return NINGXIA.check(args.pop("entity_id"), args.pop("amount", None),  # type: ignore[arg-type]
                         **args)  # type: ignore[arg-type]


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([r.get(c) for r in rows], dtype=object) for c in FIELDS})


@pytest.mark.parametrize(("kw", "message"), PROPOSALS)
def test_check_and_check_many_give_the_same_answer_and_message(kw, message):
    if message is None:
        d = _check(kw)
        row = NINGXIA.check_many(_frame([kw])).iloc[0]
        assert bool(row["approved"]) == d.approved and row["reason"] == d.reason
        assert row["max_amount"] == d.max_amount
        return
    with pytest.raises(ProposalError, match=message) as one:
        _check(kw)
    with pytest.raises(ProposalError, match=message) as many:
        NINGXIA.check_many(_frame([kw]))
    assert str(one.value) == str(many.value)


def test_check_many_lists_every_refused_row_with_check_s_message():
    rows = [kw for kw, _ in PROPOSALS]
    with pytest.raises(ProposalError) as err:
        NINGXIA.check_many(_frame(rows))
    refused = {i for i, _ in err.value.problems}
    assert refused == {i for i, (_, m) in enumerate(PROPOSALS) if m is not None}
    text = str(err.value)
    for i, (kw, m) in enumerate(PROPOSALS):
        if m is None:
            continue
        with pytest.raises(ProposalError) as one:
            _check(kw)
        for line in str(one.value).split("; "):
            assert f"proposal {i + 1} (entity_id={kw['entity_id']}): " in text
            assert line in text


def test_numeric_text_is_read_as_the_table_reads_it():
    # the column rules accept "5" as 5 for an amount: so does check (through the table path)
    d = NINGXIA.check("TM", "5")  # type: ignore[arg-type]
    assert d.amount == 5.0 and d.approved


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(book=portfolios(), data=st.data(),
       policy=st.sampled_from(["basel", "eu_crr", "cn_cbirc_2018", "cn_group_credit"]))
def test_scalar_fast_path_agrees_with_the_vectorised_one(book, data, policy):
    r = gx.analyze(book, policy=policy)
    ids = list(book.entities["entity_id"])
    rows = []
    for _ in range(data.draw(st.integers(1, 6))):
        obligor = data.draw(st.sampled_from(ids))
        rows.append({
            "entity_id": obligor,
            "amount": float(data.draw(st.integers(0, 800))),
            "product": data.draw(st.sampled_from(["loan", "overdraft", "bond", "commitment",
                                                  "guarantee_issued", "performance_bond",
                                                  "trade_lc", "other"])),
            "ccf": data.draw(st.one_of(st.none(), st.sampled_from([0.0, 0.05, 0.5, 1.0]))),
            "guarantor_id": data.draw(st.one_of(
                st.none(), st.sampled_from([i for i in ids if i != obligor]))),
            "guaranteed_amount": data.draw(st.one_of(st.none(), st.integers(0, 300).map(float))),
            "collateral_value": float(data.draw(st.integers(0, 100))),
        })
    many = r.check_many(pd.DataFrame(rows))
    for i, kw in enumerate(rows):
        args = dict(kw)
        d = r.check(args.pop("entity_id"), args.pop("amount"), **args)
        row = many.iloc[i]
        assert bool(row["approved"]) == d.approved
        assert row["reason"] == d.reason
        assert row["max_amount"] == d.max_amount or (np.isinf(row["max_amount"])
                                                     and math.isinf(d.max_amount))
        b = row["binding_rule"]
        assert (None if pd.isna(b) else b) == d.binding_rule
        s = row["binding_subject"]
        assert (None if pd.isna(s) else s) == d.binding_subject
