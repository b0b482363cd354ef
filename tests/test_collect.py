"""SPEC §7 (revised): collect mode is never less conservative than the data.

Every book here is small enough to work out by hand; Tier 1 is 1000 (conftest.make_book), so an
exposure of 250 is exactly the basel limit of 25%.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groupexposure as gx
from tests.conftest import make_book, row
from tests.strategies import portfolios


def collect(book: gx.Portfolio, policy: str = "basel") -> gx.AnalysisResult:
    return gx.analyze(book, policy=policy, on_error="collect")


def issue_of(r: gx.AnalysisResult, code: str) -> pd.Series:
    hit = r.issues[r.issues["code"] == code]
    assert len(hit), r.issues[["code", "message"]].to_dict("records")
    return hit.iloc[0]


def counts(r: gx.AnalysisResult, table: str) -> list[int]:
    c = r.row_counts.set_index("table")
    assert (c["read"] == c["used"] + c["dropped"]).all()
    return c.loc[table, ["read", "used", "dropped", "used_with_error"]].tolist()


def test_oversubscribed_entity_keeps_the_control_flag_link_and_the_breach():
    # P holds 30% of S with a control flag; X's 80% makes S's shares add up to 1.1. All holdings
    # count: P controls S, group P = P 100 + S 184.5 = 284.5 = 28.45% of Tier 1 > 25%: breach.
    book = make_book(["P", "S", "X"], ownership=[("P", "S", 0.3, 0.3, True), ("X", "S", 0.8)],
                     facilities=[{"obligor_id": "P", "drawn": 100.0},
                                 {"obligor_id": "S", "drawn": 184.5}])
    r = collect(book)
    p = row(r.groups, "group_id", "P")
    assert p["exposure"] == pytest.approx(284.5) and p["status"] == "breach"
    assert counts(r, "ownership") == [2, 2, 0, 2]
    w = issue_of(r, "sum_above_one")
    assert w["severity"] == "warning"
    assert w["message"].endswith("used despite the error: every holding counts (more control, "
                                 "never less)")
    # the repaired book (the bad row removed) is never above the collect result
    fixed = gx.analyze(make_book(["P", "S", "X"], ownership=[("P", "S", 0.3, 0.3, True)],
                                 facilities=[{"obligor_id": "P", "drawn": 100.0},
                                             {"obligor_id": "S", "drawn": 184.5}]))
    assert row(fixed.groups, "group_id", "P")["exposure"] <= p["exposure"]
    with pytest.raises(gx.ValidationError, match=r"the shares held in S add up to 1\.1"):
        gx.analyze(book)


def test_repeated_ownership_rows_add_up_to_control_where_an_entity_has_two_controllers():
    # SPEC §2, §7: A's two rows in C (30% + 25%) are both counted, so A controls C (55%). A (70%)
    # and C (60%) each hold B directly: B's shares add up to 1.3, and since A controls C, C is
    # B's lowest controller and A its ultimate parent. (This book has two direct controllers
    # of B, so control is read by the pair closure, which once saw no aggregate of an owner's
    # own repeated rows: C stood alone and the group of A was smaller than the data.)
    book = make_book(["A", "B", "C"],
                     ownership=[("A", "C", 0.3), ("A", "C", 0.25), ("A", "B", 0.7),
                                ("C", "B", 0.6)],
                     facilities=[{"obligor_id": "C", "drawn": 100.0},
                                 {"obligor_id": "B", "drawn": 50.0}])
    r = collect(book)
    e = r.entities.set_index("entity_id")
    assert e.loc["C", "ultimate_parent_id"] == "A"
    assert e.loc["C", "immediate_controller_id"] == "A"
    assert e.loc["B", "immediate_controller_id"] == "C"
    assert "multiple_controllers" not in set(r.issues["code"])
    g = r.groups.set_index("group_id")
    assert g.loc["A", "n_members"] == 3
    assert g.loc["A", "net_exposure"] == pytest.approx(150.0)


def test_duplicated_facility_id_counts_every_row():
    # F1 twice: the real 300 loan and a 5 one; both count, A = 305 = 30.5%: breach.
    book = make_book(["A"], facilities=[{"facility_id": "F1", "obligor_id": "A", "drawn": 300.0},
                                        {"facility_id": "F1", "obligor_id": "A", "drawn": 5.0}])
    r = collect(book)
    a = row(r.groups, "group_id", "A")
    assert a["exposure"] == pytest.approx(305.0) and a["status"] == "breach"
    assert counts(r, "facilities") == [2, 2, 0, 2]
    repaired = gx.analyze(make_book(["A"], facilities=[{"facility_id": "F1", "obligor_id": "A",
                                                        "drawn": 300.0}]))
    assert a["exposure"] >= row(repaired.groups, "group_id", "A")["exposure"]
    assert "used despite the error: every row is counted" in issue_of(r, "duplicate")["message"]


@pytest.mark.parametrize("guarantor", ["Q", "A", None])
def test_a_guarantee_that_cannot_be_used_is_ignored_and_the_exposure_stays(guarantor):
    # unknown guarantor Q, guarantor == obligor A, or an unreadable guaranteed_amount with
    # guarantor G: the facility stays, all 200 on A (a corporate G would have taken it).
    fac = {"obligor_id": "A", "drawn": 200.0, "guarantor_id": guarantor or "G"}
    if guarantor is None:
        fac["guaranteed_amount"] = "lots"
    r = collect(make_book(["A", "G"], facilities=[fac]))
    assert row(r.entities, "entity_id", "A")["own_net"] == pytest.approx(200.0)
    assert row(r.entities, "entity_id", "G")["own_net"] == 0.0
    assert counts(r, "facilities") == [1, 1, 0, 1]
    w = r.issues[r.issues["table"] == "facilities"].iloc[0]
    assert w["severity"] == "warning"
    assert w["message"].endswith("the guarantee is ignored: the exposure stays with the obligor")
    if guarantor is None:  # G lost a substitution it might have had: its group may be understated
        assert list(r.understated_groups["group_id"]) == ["G"]


def test_bad_provision_ccf_and_collateral_take_the_larger_exposure():
    # provision "x" -> 0; collateral -5 -> 0; ccf "nan" -> the policy's commitment CCF 0.4:
    # 100 + 0.4 * 50 = 120.
    r = collect(make_book(["A"], facilities=[{"obligor_id": "A", "product": "commitment",
                                              "drawn": 100.0, "undrawn": 50.0, "provision": "x",
                                              "ccf": "nan", "collateral_value": -5.0}]))
    assert row(r.entities, "entity_id", "A")["own_net"] == pytest.approx(120.0)
    assert counts(r, "facilities") == [1, 1, 0, 1]
    msgs = set(r.issues["message"])
    assert any(m.endswith("provision read as 0 (nothing deducted)") for m in msgs)
    assert any(m.endswith("collateral read as 0 (nothing deducted)") for m in msgs)
    assert any(m.endswith("the policy's CCF for the product is used") for m in msgs)


def test_unreadable_amount_drops_the_facility_and_names_the_group():
    # S's 50 cannot be read: the facility is left out, P's group (P controls S) may be understated.
    book = make_book(["P", "S"], ownership=[("P", "S", 0.6)],
                     facilities=[{"obligor_id": "P", "drawn": 10.0},
                                 {"obligor_id": "S", "drawn": "fifty", "undrawn": 0.0}])
    r = collect(book)
    assert counts(r, "facilities") == [2, 1, 1, 0]
    assert list(r.understated_groups["group_id"]) == ["P"]
    text = r.summary()
    assert "issues: 1 errors (1 rows dropped)" in text
    assert "rows dropped: 1 (facilities 1); rows used despite an error: 0" in text
    assert "left out: 1 facility, 0 CNY of nominal (and 1 of unknown amount)" in text
    assert "figures may be understated for 1 group: P" in text
    assert issue_of(r, "understated_group")["key"] == "group_id=P"


def test_kind_and_gsib_typos_take_the_stricter_reading():
    # "Sovereign" is read as corporate (never exempt): 300 counts, breach. "maybe" as G-SIB: with a
    # G-SIB bank the 15% rule applies to B's group: 200 = 20% > 15%.
    book = make_book([{"entity_id": "A", "kind": "Sovereign"},
                      {"entity_id": "B", "kind": " corporate", "is_gsib": "maybe"},
                      {"entity_id": "C"}], ownership=[("B", "C", 0.9)],
                     facilities=[{"obligor_id": "A", "drawn": 300.0},
                                 {"obligor_id": "C", "drawn": 200.0}], is_gsib=True)
    r = collect(book)
    assert row(r.entities, "entity_id", "A")["kind"] == "corporate"
    assert row(r.groups, "group_id", "A")["status"] == "breach"
    b = row(r.groups, "group_id", "B")
    assert b["limit"] == pytest.approx(0.15) and b["status"] == "breach"
    assert counts(r, "entities") == [3, 3, 0, 2]
    assert any(m.endswith("kind read as corporate (never exempt)") for m in r.issues["message"])
    assert any(m.endswith("is_gsib read as true") for m in r.issues["message"])


@pytest.mark.parametrize(("given", "ccf", "net"), [
    ("Loan", None, 100.0 + 0.4 * 10),       # read as loan: the undrawn part as a commitment
    (" loan ", None, 104.0),
    ("credit line", None, 110.0),            # unknown: the policy's highest CCF (1.0)
])
def test_product_in_the_wrong_case_or_unknown(given, ccf, net):
    r = collect(make_book(["A"], facilities=[{"obligor_id": "A", "product": given,
                                              "drawn": 100.0, "undrawn": 10.0}]))
    assert row(r.entities, "entity_id", "A")["own_net"] == pytest.approx(net)
    assert r.facilities["product"].tolist() == ["loan"]


def test_unknown_product_under_cn_group_credit_counts_the_nominal():
    # cn_group_credit ignores a row's CCF: an unknown product with an undrawn part is read as the
    # product of its highest factor (1.0): 100 + 10.
    r = collect(make_book(["A"], facilities=[{"obligor_id": "A", "product": "保函X",
                                              "drawn": 100.0, "undrawn": 10.0}]),
                policy="cn_group_credit")
    assert row(r.entities, "entity_id", "A")["own_net"] == pytest.approx(110.0)


def test_repeated_fx_currency():
    book = make_book(["A"], facilities=[{"obligor_id": "A", "drawn": 10.0, "currency": "USD"},
                                        {"obligor_id": "A", "drawn": 10.0, "currency": "EUR"}],
                     fx={"USD": 7.0, "EUR": 7.5})
    fx = pd.DataFrame({"currency": ["USD", "USD", "EUR", "EUR"], "rate": [7.0, 7.0, 7.5, 8.0]})
    book = gx.Portfolio.from_frames(entities=book.entities, facilities=book.facilities, fx=fx,
                                    capital=book.capital or {})
    # same rate: a warning in both modes; different rates: an error, collect uses the higher
    with pytest.raises(gx.ValidationError) as info:
        gx.analyze(book, policy="eu_crr")
    p = info.value.problems
    assert set(p.loc[p["severity"] == "error", "table"]) == {"fx"}
    assert "currency USD is given more than once with the same rate 7.0; one is used" in set(
        p["message"])
    for policy in ("basel", "eu_crr"):  # eu_crr needs the EUR rate: no KeyError
        r = collect(book, policy=policy)
        assert row(r.entities, "entity_id", "A")["own_net"] == pytest.approx(70.0 + 80.0)
        assert r.fx["EUR"] == 8.0
        assert counts(r, "fx") == [4, 4, 0, 2]


def test_closed_ownership_cycle_is_kept_as_one_unit():
    # A and B own each other wholly: control makes them one unit (group A, 2 members); look-through
    # stays finite: A's is its own 100 plus all of B's 50.
    book = make_book(["A", "B"], ownership=[("A", "B", 1.0), ("B", "A", 1.0)],
                     facilities=[{"obligor_id": "A", "drawn": 100.0},
                                 {"obligor_id": "B", "drawn": 50.0}])
    r = collect(book)
    a = row(r.groups, "group_id", "A")
    assert a["n_members"] == 2 and a["exposure"] == pytest.approx(150.0)
    assert row(r.entities, "entity_id", "A")["lookthrough_net"] == pytest.approx(150.0, rel=1e-6)
    assert counts(r, "ownership") == [2, 2, 0, 1]  # the ring is reported once, on its first row
    assert "(A → B → A)" in issue_of(r, "closed_cycle")["message"]


def test_duplicated_entity_rows_are_read_as_one():
    # A twice (corporate and sovereign): one entity, corporate (never exempt); its facility stays.
    book = make_book([{"entity_id": "A"}, {"entity_id": "A", "kind": "sovereign"}],
                     facilities=[{"obligor_id": "A", "drawn": 260.0}])
    r = collect(book)
    assert row(r.entities, "entity_id", "A")["kind"] == "corporate"
    assert row(r.groups, "group_id", "A")["status"] == "breach"
    assert counts(r, "entities") == [2, 2, 0, 2]


def test_the_cli_summary_counts_rows(tmp_path, capsys):
    from groupexposure.cli import main
    from tests.conftest import write_files

    d = write_files(tmp_path / "b", {
        "entities.csv": "entity_id\nA\nB\n", "ownership.csv": "owner_id,owned_id,share\n",
        "facilities.csv": "facility_id,obligor_id,drawn\nF1,A,5\nF2,Z,3\nF3,Z,4\nF4,B,x\n",
        "capital.json": '{"tier1": 100}'})
    assert main(["analyze", str(d), "--out", str(tmp_path / "o"), "--on-error", "collect",
                 "--report", "never"]) == 0
    out = capsys.readouterr().out
    assert "issues: 3 errors (3 rows dropped)" in out
    assert "rows dropped: 3 (facilities 3)" in out
    assert "figures may be understated for 1 group: B" in out


def _without_bad(book: gx.Portfolio, table: str, drop: int) -> gx.Portfolio:
    frames = {t: getattr(book, t) for t in ("entities", "ownership", "connections", "facilities",
                                            "fx")}
    frames[table] = frames[table].drop(index=frames[table].index[drop])
    return gx.Portfolio.from_frames(capital=book.capital or {}, **frames)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(book=portfolios(max_entities=6), data=st.data())
def test_collect_is_never_below_the_book_without_its_bad_rows(book, data):
    """Spoil one ownership or facility row conservatively-readable ways; collect's group exposures
    are never below those of the book with that row removed (SPEC §7)."""
    table = data.draw(st.sampled_from([t for t in ("ownership", "facilities")
                                       if len(getattr(book, t))] or ["facilities"]))
    frame = getattr(book, table).astype(object).copy()
    if frame.empty:
        return
    i = data.draw(st.integers(0, len(frame) - 1))
    if table == "ownership":
        col, junk = data.draw(st.sampled_from([("control", "maybe"), ("voting", 7.0)]))
        frame.iloc[i, frame.columns.get_loc(col) if col in frame else 0] = junk
        frame = pd.concat([frame, frame.iloc[[i]]], ignore_index=True)  # and a duplicate pair
    else:
        col, junk = data.draw(st.sampled_from([("provision", "x"), ("ccf", "inf"),
                                               ("collateral_value", -1), ("product", "Loan"),
                                               ("facility_id", None)]))
        frame[col] = frame.get(col, None)
        frame.iloc[i, frame.columns.get_loc(col)] = junk
    frames = {t: getattr(book, t) for t in ("entities", "ownership", "connections", "facilities",
                                            "fx")}
    frames[table] = frame
    spoilt = gx.Portfolio.from_frames(capital=book.capital or {}, **frames)
    r = collect(spoilt)
    base = gx.analyze(_without_bad(book, table, i), on_error="collect")
    mine = r.groups.set_index("group_id")["exposure"]
    theirs = base.groups.set_index("group_id")["exposure"]
    # every client's largest group exposure is at least what it was without the row
    per_entity = r.members.assign(e=r.members["group_id"].map(mine)).groupby("entity_id")["e"].max()
    before = base.members.assign(e=base.members["group_id"].map(theirs)).groupby(
        "entity_id")["e"].max()
    assert (per_entity.reindex(before.index) >= before * (1 - 1e-12) - 1e-9).all()
