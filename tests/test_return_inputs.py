"""The optional input columns the returns need (SPEC §1): defaults keep today's results, and the
``exempt`` override changes the exempt flag of SPEC §4/§5 entity by entity."""

from __future__ import annotations

import pandas as pd
import pytest

import groupexposure as gx
from tests.conftest import make_book, row


def test_defaults_of_the_new_columns() -> None:
    book = make_book(["A", "B"], facilities=[{"obligor_id": "A", "drawn": 10.0}])
    r = gx.analyze(book)
    ent = r.coded.entities.set_index("entity_id")
    assert ent["is_shadow_bank"].tolist() == [False, False]
    assert ent["is_institution"].isna().all() and ent["exempt"].isna().all()
    assert ent["counterparty_sector"].isna().all()
    fac = r.facilities
    assert fac["book"].tolist() == ["banking"] and fac["defaulted"].tolist() == [False]


def test_exempt_column_overrides_the_policy_kinds() -> None:
    # P (corporate) owns 60% of S (sovereign) and of X (corporate). Tier 1 1000.
    # Without the column: S is exempt (basel exempts sovereigns): group P = 100 + 50 + 30 = 180
    # net, exempt 50, exposure 130.
    # With exempt: S false, X true: exempt is X's 30; exposure 100 + 50 = 150; ratio 15%.
    ents = [{"entity_id": "P"}, {"entity_id": "S", "kind": "sovereign"}, {"entity_id": "X"}]
    own = [("P", "S", 0.6), ("P", "X", 0.6)]
    fac = [{"obligor_id": "P", "drawn": 100.0}, {"obligor_id": "S", "drawn": 50.0},
           {"obligor_id": "X", "drawn": 30.0}]
    before = row(gx.analyze(make_book(ents, ownership=own, facilities=fac)).groups, "group_id", "P")
    assert (before["exempt_exposure"], before["exposure"]) == (50.0, 130.0)
    ents[1]["exempt"] = "false"
    ents[2]["exempt"] = "true"
    ents[0]["exempt"] = ""  # blank: the policy decides (a corporate is not exempt)
    after = row(gx.analyze(make_book(ents, ownership=own, facilities=fac)).groups, "group_id", "P")
    assert (after["exempt_exposure"], after["exposure"]) == (30.0, 150.0)
    assert after["ratio"] == pytest.approx(0.15)


def test_a_bad_exempt_flag_is_reported() -> None:
    book = make_book([{"entity_id": "A", "exempt": "maybe"}],
                     facilities=[{"obligor_id": "A", "drawn": 1.0}])
    with pytest.raises(gx.ValidationError, match="exempt must be true or false"):
        gx.analyze(book)


def test_unknown_sector_and_book_are_reported() -> None:
    book = make_book([{"entity_id": "A", "counterparty_sector": "bank"}],
                     facilities=[{"obligor_id": "A", "drawn": 1.0, "book": "Trading"}])
    with pytest.raises(gx.ValidationError) as err:
        gx.analyze(book)
    msgs = set(err.value.problems["message"])
    assert any(m.startswith("counterparty_sector must be one of central_bank") for m in msgs)
    assert "book must be one of banking, trading; got Trading — did you mean trading?" in msgs


def test_new_products_take_their_ccf() -> None:
    # basel: bankers_acceptance CCF 1.00 on 80 undrawn; interbank placement 50 drawn.
    fac = [{"obligor_id": "B", "product": "bankers_acceptance", "undrawn": 80.0},
           {"obligor_id": "B", "product": "interbank_placement", "drawn": 50.0, "undrawn": 10.0}]
    r = gx.analyze(make_book([{"entity_id": "B", "kind": "bank"}], facilities=fac))
    assert row(r.entities, "entity_id", "B")["own_original"] == pytest.approx(80.0 + 50.0 + 0.4 * 10.0)
    assert pd.api.types.is_float_dtype(r.facility_values["original"])
