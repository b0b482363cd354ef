"""COREP C 26.00-C 29.00 (Implementing Regulation (EU) 2024/3117, Annexes VIII/IX; SPEC §11) on
books worked out by hand. Codes are the templates' columns (C 28.00 0010-0350)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import groupexposure as gx
from groupexposure.returns import Returns
from tests.conftest import make_book

M = 1e6
ENTS = [
    {"entity_id": "P", "name": "Parent", "lei": "5299000000000000PP01", "country": "DE",
     "counterparty_sector": "non_financial_corporation", "nace": "C10"},
    {"entity_id": "S", "name": "Sub", "national_id": "91640100MA7500000W", "country": "CN"},
    {"entity_id": "G", "name": "Guarantor bank", "kind": "bank"},
    {"entity_id": "SOV", "kind": "sovereign", "counterparty_sector": "general_government"},
]
FACS = [
    {"obligor_id": "P", "product": "loan", "drawn": 100 * M, "provision": 10 * M},
    {"obligor_id": "S", "product": "commitment", "undrawn": 50 * M},
    {"obligor_id": "S", "product": "guarantee_issued", "undrawn": 20 * M, "collateral_value": 5 * M},
    {"obligor_id": "S", "product": "loan", "drawn": 40 * M, "guarantor_id": "G",
     "guaranteed_amount": 30 * M},
    {"obligor_id": "S", "product": "performance_bond", "undrawn": 10 * M, "defaulted": True},
    {"obligor_id": "SOV", "product": "bond", "drawn": 120 * M},
]


def corep(book: gx.Portfolio) -> Returns:
    return gx.analyze(book, policy="eu_crr").returns("eu_corep_le")


@pytest.fixture(scope="module")
def hand() -> Returns:
    # Tier 1 EUR 1,000m, reporting in EUR. P holds 60% of S: group P = {P, S}.
    return corep(make_book(ENTS, ownership=[("P", "S", 0.6)], facilities=FACS, tier1=1000 * M,
                           currency="EUR"))


def test_c28_group_row_worked_by_hand(hand: Returns) -> None:
    c28 = hand["C 28.00"].set_index("group_id")
    p = c28.loc["P"]
    assert p["0010"] == "5299000000000000PP01" and p["0020"] == 2  # the parent's LEI; a group
    # direct exposures at nominal: debt 100 + 40 drawn; off balance: commitment 50 (0090),
    # guarantee 20 (0100), performance bond 10 (0110); no CCF applied
    expect = {"0060": 140, "0090": 50, "0100": 20, "0110": 10, "0120": 0, "0150": 0, "0160": 0,
              "0170": 0, "0040": 220, "0050": 10,  # the defaulted performance bond
              "0190": 10, "0210": 210, "0220": 210,
              "0240": 30,  # S's loan guaranteed by G: substitution, on-balance part
              "0270": 0, "0280": 0, "0290": 0, "0300": 5,  # collateral on the guarantee
              "0320": 0, "0330": 175, "0340": 175}
    for code, value in expect.items():
        assert p[code] == pytest.approx(value * M), code
    assert p["0230"] == pytest.approx(0.21) and p["0350"] == pytest.approx(0.175)
    for code in ("0030", "0070", "0080", "0130", "0140", "0180", "0200", "0250", "0260", "0310"):
        assert math.isnan(p[code]), code  # the input cannot fill them: empty, never 0
    assert p["selected"] == "large exposure (Art. 392)"


def test_c28_guarantor_sovereign_and_selection(hand: Returns) -> None:
    c28 = hand["C 28.00"].set_index("group_id")
    g = c28.loc["G"]  # indirect exposure 30 (0120); an institution: among the 10 largest to them
    assert (g["0020"], g["0120"], g["0040"], g["0210"], g["0330"]) == (1, 30 * M, 30 * M, 30 * M,
                                                                         30 * M)
    assert g["selected"] == "10 largest to institutions (Art. 394(2))"
    sov = c28.loc["SOV"]  # 12% of Tier 1 before exemptions: reported, all of it exempted (0320)
    assert (sov["0210"], sov["0320"], sov["0330"]) == (120 * M, 120 * M, 0.0)
    assert c28.index.tolist() == ["P", "SOV", "G"]  # largest 0210 first
    # the 2 facilities of S alone would not be reported: S is only in C 29.00
    assert "S" not in c28.index


def test_c29_each_client_of_the_group(hand: Returns) -> None:
    c29 = hand["C 29.00"]
    assert c29["0010"].tolist() == ["5299000000000000PP01", "91640100MA7500000W"]
    assert set(c29["0020"]) == {"5299000000000000PP01"} and set(c29["0040"]) == {"control"}
    p, s = c29.iloc[0], c29.iloc[1]
    # C 29.00 0050-0360 are C 28.00 0040-0350 per client
    assert (p["0050"], p["0200"], p["0220"], p["0340"]) == (100 * M, 10 * M, 90 * M, 90 * M)
    assert (s["0050"], s["0250"], s["0310"], s["0340"]) == (120 * M, 30 * M, 5 * M, 85 * M)
    assert s["0060"] == 10 * M  # of which defaulted
    c28 = hand["C 28.00"].set_index("group_id").loc["P"]
    for code in ("0040", "0190", "0210", "0240", "0300", "0330"):
        assert c29[f"{int(code) + 10:04d}"].sum() == pytest.approx(c28[code])


def test_c27_identification(hand: Returns) -> None:
    c27 = hand["C 27.00"].set_index("0011")
    assert c27.index.tolist() == ["5299000000000000PP01", "91640100MA7500000W", "G", "SOV"]
    p = c27.loc["5299000000000000PP01"]
    assert (p["0015"], p["0021"], p["0040"], p["0050"], p["0060"], p["0070"]) == (
        "LEI code", "Parent", "DE", "Non-financial corporations", "C10", "Other")
    s = c27.loc["91640100MA7500000W"]
    assert (s["0015"], s["0035"]) == ("National code", "91640100MA7500000W")
    assert c27.loc["G", "0070"] == "Institution" and pd.isna(c27.loc["G", "0015"])
    assert c27.loc["SOV", "0050"] == "General governments"
    issues = hand.issues.set_index(["key", "column"])
    assert issues.loc[("eu_corep_le C 27.00", "0060"), "message"] == (
        "eu_corep_le C 27.00 column 0060 (NACE code: no nace in entities.csv); left empty in 3 rows")
    assert (hand.issues["code"] == "return_cell_unavailable").all()
    assert not hand.issues.duplicated(["key", "column"]).any()  # each cell listed once


def test_c26_limits(hand: Returns) -> None:
    c26 = hand["C 26.00"].set_index("row")["0010"]
    # 25% of Tier 1 EUR 1,000m; institutions max(25%, EUR 150m) = 250m; 150m < 250m: no row 0030
    assert c26["0010"] == 250 * M and c26["0020"] == 250 * M
    assert math.isnan(c26["0030"]) and math.isnan(c26["0040"])  # not a G-SII


def test_c26_where_eur_150m_is_higher() -> None:
    # Tier 1 CNY 2,000m, EUR at 8: 150m EUR = CNY 1,200m > 25% (500m): row 0030 is the 100% cap
    book = make_book(["A"], facilities=[{"obligor_id": "A", "drawn": 1.0}], tier1=2000 * M,
                     fx={"EUR": 8.0}, is_gsib=True)
    c26 = corep(book)["C 26.00"].set_index("row")["0010"]
    assert (c26["0010"], c26["0020"], c26["0030"], c26["0040"]) == (500 * M, 1200 * M, 1.0,
                                                                      300 * M)


def _selected(book: gx.Portfolio) -> list[str]:
    return corep(book)["C 28.00"]["group_id"].tolist()


def test_selection_exactly_ten_percent_before_crm() -> None:
    # Tier 1 1,000: X owes exactly 100 (10%) but 60 is collateralised: after CRM only 4%;
    # the test is on 0210 (before CRM): reported. Y owes 99.99: not reported.
    fac = [{"obligor_id": "X", "drawn": 100.0, "collateral_value": 60.0},
           {"obligor_id": "Y", "drawn": 99.99}]
    book = make_book(["X", "Y"], facilities=fac, tier1=1000.0, currency="EUR")
    ret = corep(book)
    assert _selected(book) == ["X"]
    assert ret["C 28.00"]["0330"].tolist() == [40.0]
    assert gx.analyze(book, policy="eu_crr").groups["large_exposure"].tolist() == [False, False]


def test_selection_exactly_eur_300m() -> None:
    # Tier 1 CNY 40,000m (10% = 4,000m), EUR at 8: EUR 300m = CNY 2,400m exactly: Z reported, W not
    fac = [{"obligor_id": "Z", "drawn": 2400 * M}, {"obligor_id": "W", "drawn": 2400 * M - 1}]
    book = make_book(["W", "Z"], facilities=fac, tier1=40_000 * M, fx={"EUR": 8.0})
    ret = corep(book)
    assert _selected(book) == ["Z"]
    assert ret["C 28.00"]["selected"].tolist() == ["at least EUR 300m (Art. 394(1))"]


def test_without_an_eur_rate_the_300m_rule_is_said_to_be_skipped() -> None:
    book = make_book(["Z"], facilities=[{"obligor_id": "Z", "drawn": 10.0}], tier1=1000.0,
                     fx={"USD": 7.0})
    ret = gx.analyze(book, policy="basel").returns("eu_corep_le")
    warn = ret.issues[ret.issues["code"] == "return_selection_incomplete"]
    assert len(warn) == 1 and warn["severity"].iloc[0] == "warning"
    assert warn["message"].iloc[0].startswith("no EUR rate in fx.csv")


def test_ten_largest_institutions_and_shadow_banks() -> None:
    # 12 banks and 12 shadow banks of 1..12; none is large (Tier 1 10,000): the 10 largest of each
    ents = ([{"entity_id": f"B{i:02d}", "kind": "bank"} for i in range(12)]
            + [{"entity_id": f"H{i:02d}", "is_shadow_bank": True} for i in range(12)])
    fac = [{"obligor_id": e["entity_id"], "drawn": float(i % 12 + 1)} for i, e in enumerate(ents)]
    book = make_book(ents, facilities=fac, tier1=10_000.0, currency="EUR")
    got = set(_selected(book))
    assert got == {f"B{i:02d}" for i in range(2, 12)} | {f"H{i:02d}" for i in range(2, 12)}


def test_off_balance_at_nominal_not_at_ccf() -> None:
    # a commitment of 200 undrawn: the analysis counts 40% (80); C 28.00 0040 counts 200
    book = make_book(["A"], facilities=[{"obligor_id": "A", "product": "commitment",
                                         "undrawn": 200.0}], tier1=1000.0, currency="EUR")
    r = gx.analyze(book, policy="eu_crr")
    assert r.groups["original_exposure"].tolist() == [80.0]
    c28 = r.returns("eu_corep_le")["C 28.00"]
    assert (c28["0040"].tolist(), c28["0090"].tolist()) == ([200.0], [200.0])


def test_identities_hold_with_empty_cells_as_zero(hand: Returns) -> None:
    for table, shift in (("C 28.00", 0), ("C 29.00", 10)):
        t = hand[table].fillna({c: 0.0 for c in hand[table].columns
                                if hand[table][c].dtype.kind == "f"})

        def c(code: str, t: pd.DataFrame = t, shift: int = shift) -> pd.Series:
            return t[f"{int(code) + shift:04d}"]

        assert np.allclose(c("0210"), c("0040") - c("0190") - c("0200"))
        crm = sum(c(f"{k:04d}") for k in range(240, 320, 10))
        assert np.allclose(c("0330"), c("0210") - crm - c("0320"))
