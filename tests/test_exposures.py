"""SPEC §4: exposure values per facility and per entity. Numbers worked out by hand."""

from __future__ import annotations

import math

import pytest

import groupexposure as gx
from tests.conftest import make_book, row


def entity(r: gx.AnalysisResult, eid: str) -> dict[str, object]:
    return dict(row(r.entities, "entity_id", eid))


def test_collateral_then_guarantee_substitution():
    # drawn 1000, provision 100 -> on 900; undrawn 500 commitment at 40% -> off 200; original 1100.
    # collateral 300 -> after 800; guarantee 500 by G -> guaranteed 500, net 300 stays with A,
    # 500 substituted onto G.
    book = make_book(["A", "G"], facilities=[{
        "obligor_id": "A", "product": "commitment", "drawn": 1000.0, "undrawn": 500.0,
        "provision": 100.0, "collateral_value": 300.0, "guarantor_id": "G",
        "guaranteed_amount": 500.0}])
    r = gx.analyze(book)
    a, g = entity(r, "A"), entity(r, "G")
    assert a["own_original"] == 1100.0
    assert a["own_net"] == 300.0
    assert g["own_net"] == 500.0 and g["substituted_in"] == 500.0 and g["own_original"] == 0.0
    assert row(r.groups, "group_id", "G")["exposure"] == 500.0


def test_blank_guaranteed_amount_covers_all_after_collateral_and_is_capped():
    # original 100, collateral 30 -> 70; blank guaranteed_amount -> 70 guaranteed, net 0.
    # A guarantee of 500 on the same exposure is capped at 70.
    book = make_book(["A", "B", "G"], facilities=[
        {"obligor_id": "A", "drawn": 100.0, "collateral_value": 30.0, "guarantor_id": "G"},
        {"obligor_id": "B", "drawn": 100.0, "collateral_value": 30.0, "guarantor_id": "G",
         "guaranteed_amount": 500.0}])
    r = gx.analyze(book)
    assert entity(r, "A")["own_net"] == 0.0 and entity(r, "B")["own_net"] == 0.0
    assert entity(r, "G")["own_net"] == 140.0


def test_collateral_cannot_exceed_exposure_and_provision_cannot_make_it_negative():
    r = gx.analyze(make_book(["A"], facilities=[
        {"obligor_id": "A", "drawn": 50.0, "provision": 80.0, "collateral_value": 10.0},
        {"obligor_id": "A", "drawn": 50.0, "collateral_value": 90.0}]))
    assert entity(r, "A")["own_original"] == 50.0
    assert entity(r, "A")["own_net"] == 0.0


def test_ineligible_guarantor_is_ignored_with_an_info_issue():
    # An individual is not an eligible guarantor kind: the exposure stays with A.
    book = make_book(["A", {"entity_id": "P", "kind": "individual"}], facilities=[
        {"facility_id": "F9", "obligor_id": "A", "drawn": 100.0, "guarantor_id": "P"}])
    r = gx.analyze(book)
    assert entity(r, "A")["own_net"] == 100.0 and entity(r, "P")["own_net"] == 0.0
    issue = r.issues[r.issues.code == "ineligible_guarantor"].iloc[0]
    assert issue["severity"] == "info" and issue["key"] == "facility_id=F9"
    assert "guarantor P is a individual" in issue["message"]


@pytest.mark.parametrize(
    ("product", "ccf", "policy", "expected"),
    [
        ("commitment", None, "basel", 40.0),
        ("commitment_uncond_cancellable", None, "basel", 10.0),
        ("guarantee_issued", None, "basel", 100.0),
        ("standby_lc", None, "basel", 100.0),
        ("performance_bond", None, "basel", 50.0),
        ("trade_lc", None, "basel", 20.0),
        ("loan", None, "basel", 40.0),
        ("other", None, "basel", 40.0),
        ("commitment", 0.0, "basel", 10.0),  # row ccf 0 floored at 10%
        ("commitment", 0.0, "cn_cbirc_2018", 0.0),  # no floor
        ("commitment", 0.75, "basel", 75.0),
        # cn_group_credit (SPEC §5 revised): an unused line counts nothing on every product,
        # guarantees, LCs, performance bonds and other at nominal; a row's ccf is ignored
        ("loan", 1.0, "cn_group_credit", 0.0),
        ("overdraft", None, "cn_group_credit", 0.0),
        ("bond", None, "cn_group_credit", 0.0),
        ("guarantee_issued", 0.2, "cn_group_credit", 100.0),
        ("standby_lc", None, "cn_group_credit", 100.0),
        ("performance_bond", None, "cn_group_credit", 100.0),
        ("trade_lc", None, "cn_group_credit", 100.0),
        ("other", None, "cn_group_credit", 100.0),
        ("commitment", 1.0, "cn_group_credit", 0.0),
        ("commitment_uncond_cancellable", None, "cn_group_credit", 0.0),
    ],
)
def test_credit_conversion_factors(product, ccf, policy, expected):
    fac = {"obligor_id": "A", "product": product, "undrawn": 100.0}
    if ccf is not None:
        fac["ccf"] = ccf
    r = gx.analyze(make_book(["A"], facilities=[fac], total_capital=1000.0), policy=policy)
    assert entity(r, "A")["own_original"] == pytest.approx(expected)


def test_currency_conversion():
    # 10 USD at 7 CNY per USD = 70 CNY; 5 CNY = 5.
    r = gx.analyze(make_book(["A"], facilities=[
        {"obligor_id": "A", "drawn": 10.0, "currency": "USD"},
        {"obligor_id": "A", "drawn": 5.0}], fx={"USD": 7.0}))
    assert entity(r, "A")["own_net"] == 75.0


def test_cn_group_credit_has_no_guarantor_substitution():
    r = gx.analyze(make_book(["A", "G"], facilities=[
        {"obligor_id": "A", "drawn": 100.0, "collateral_value": 20.0, "guarantor_id": "G"}]),
        policy="cn_group_credit")
    assert entity(r, "A")["own_net"] == 80.0 and entity(r, "G")["own_net"] == 0.0


def test_exempt_members_are_excluded_from_the_measure():
    # S (sovereign) 100% owns A: group net 300 (S 200 + A 100), exempt 200, exposure 100.
    r = gx.analyze(make_book([{"entity_id": "S", "kind": "sovereign"}, "A"],
                             ownership=[("S", "A", 1.0)],
                             facilities=[{"obligor_id": "S", "drawn": 200.0},
                                         {"obligor_id": "A", "drawn": 100.0}]))
    g = row(r.groups, "group_id", "S")
    assert (g["net_exposure"], g["exempt_exposure"], g["exposure"]) == (300.0, 200.0, 100.0)
    assert g["ratio"] == 0.1


def test_lookthrough_parent_with_cross_holding_is_exactly_100_percent():
    # P owns 100% of S; S owns 10% of P. S owes 100. P's look-through is 100 (not 111.1);
    # S's own look-through is 100 + 10% of P's own 0 = 100.
    r = gx.analyze(make_book(["P", "S"], ownership=[("P", "S", 1.0), ("S", "P", 0.1)],
                             facilities=[{"obligor_id": "S", "drawn": 100.0}]))
    assert entity(r, "P")["lookthrough_net"] == pytest.approx(100.0, abs=1e-9)
    assert entity(r, "S")["lookthrough_net"] == pytest.approx(100.0, abs=1e-9)


def test_lookthrough_cross_holding_counts_treasury_shares_once():
    # As above with P owing 50: S's look-through = 100 + 10% * 50 = 105 (chains through S again
    # are treasury shares). P's = 50 + 100% * 100 = 150.
    r = gx.analyze(make_book(["P", "S"], ownership=[("P", "S", 1.0), ("S", "P", 0.1)],
                             facilities=[{"obligor_id": "S", "drawn": 100.0},
                                         {"obligor_id": "P", "drawn": 50.0}]))
    assert entity(r, "S")["lookthrough_net"] == pytest.approx(105.0)
    assert entity(r, "P")["lookthrough_net"] == pytest.approx(150.0)


def test_integrated_ownership_worked_example():
    # The example of the consolidation literature: P's interest in C2 is 80% + 30% * 7% = 82.1%,
    # in C4 35% + 75% * 25% = 53.75%, in C5 53.75% * 25% + 82.1% * 35% = 42.1725%.
    import pandas as pd

    links = pd.DataFrame({
        "owner_id": ["P", "P", "P", "C3", "P", "C1", "C4", "C2"],
        "owned_id": ["C1", "C2", "C3", "C2", "C4", "C4", "C5", "C5"],
        "share": [0.75, 0.80, 0.30, 0.07, 0.35, 0.25, 0.25, 0.35]})
    io = gx.integrated_ownership(links, "P")
    assert io["C2"] == pytest.approx(0.821)
    assert io["C4"] == pytest.approx(0.5375)
    assert io["C5"] == pytest.approx(0.421725)
    # the same through lookthrough_net: only C5 owes 1000 -> P's look-through is 421.725
    book = make_book(["C1", "C2", "C3", "C4", "C5", "P"],
                     ownership=list(zip(links.owner_id, links.owned_id, links.share, strict=True)),
                     facilities=[{"obligor_id": "C5", "drawn": 1000.0}])
    r = gx.analyze(book)
    assert entity(r, "P")["lookthrough_net"] == pytest.approx(421.725)


def test_integrated_ownership_never_above_one_in_cycles():
    import pandas as pd

    links = pd.DataFrame({"owner_id": ["A", "B", "B"], "owned_id": ["B", "A", "C"],
                          "share": [0.9, 0.5, 1.0]})
    io = gx.integrated_ownership(links, "A")
    assert io["B"] == pytest.approx(0.9) and io["C"] == pytest.approx(0.9)
    assert not math.isnan(io.sum())


def test_lookthrough_with_cycles_of_several_sizes_matches_the_dense_inverse():
    # SPEC §4: look-through(x) = own(x) + sum_s I(x, s) own(s) = (G own)[x] / G[x, x] with
    # G = (I - A)^-1; here a 2-cycle (0, 1), a 3-cycle (2, 3, 4), another 2-cycle (5, 6) and a
    # chain into them, so that cycles of two sizes are inverted in separate batches
    import numpy as np

    from groupexposure.core.lookthrough import lookthrough_values

    owner = np.array([0, 1, 2, 3, 4, 5, 6, 7, 7, 1, 4])
    owned = np.array([1, 0, 3, 4, 2, 6, 5, 0, 2, 5, 6])
    share = np.array([0.6, 0.1, 0.5, 0.4, 0.3, 0.7, 0.2, 0.9, 0.35, 0.25, 0.15])
    own = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0])
    a = np.zeros((8, 8))
    a[owner, owned] = share
    g = np.linalg.inv(np.eye(8) - a)
    expected = (g @ own) / np.diag(g)
    got = lookthrough_values(8, owner, owned, share, own)
    assert np.allclose(got, expected, rtol=1e-12)
