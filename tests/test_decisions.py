"""SPEC §6: the pre-approval check, check_many, and their agreement with re-running analyze."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groupexposure as gx
from groupexposure.decide.check import Decision
from tests.conftest import make_book
from tests.strategies import portfolios

NINGXIA = gx.analyze(gx.datasets.ningxia())


def test_check_worked_example_with_guarantee():
    # TM borrows 10m guaranteed in full by ZY-GUAR (Zhongyin group): TM keeps 0, the Zhongyin
    # group goes from 716.3m to 726.3m = 22.70% of 3.2bn (warning, approved). Its room is
    # 25% * 3.2bn - 716.3m = 83.7m, the largest such loan.
    d = NINGXIA.check("TM", 10_000_000, guarantor_id="ZY-GUAR")
    assert d.approved and d.max_amount == pytest.approx(83.7e6)
    assert d.binding_rule == "LEX 25% of Tier 1" and d.binding_subject == "group ZY-INTL"
    t = d.table.set_index("group_id")
    assert set(t.index) == {"RC-GRP", "TM", "ZY-INTL"}
    assert t.loc["ZY-INTL", "ratio_after"] == pytest.approx(726.3e6 / 3.2e9)
    assert t.loc["ZY-INTL", "headroom_after"] == pytest.approx(73.7e6)
    assert t.loc["TM", "ratio_after"] == t.loc["TM", "ratio_before"]


def test_check_declined_when_a_group_is_already_in_breach():
    d = NINGXIA.check("YP-NMG", 1.0)
    assert not d.approved and d.max_amount == 0.0
    assert str(d).startswith("DECLINED YP-NMG loan 1 CNY: binding LEX 25% of Tier 1 (group YP-OWNER)")


def test_max_amount_is_exact_and_unlimited_when_exempt():
    # RC-GRP group: 386m of 800m (25% of 3.2bn): room 414m.
    d = NINGXIA.check("RC-SPIN", 1.0)
    assert d.max_amount == pytest.approx(414e6)
    assert NINGXIA.check("RC-SPIN", d.max_amount).approved
    assert not NINGXIA.check("RC-SPIN", d.max_amount * (1 + 1e-6)).approved
    sov = NINGXIA.check("MOF", 1e12)
    assert sov.approved and math.isinf(sov.max_amount) and sov.to_dict()["max_amount"] is None


def test_collateral_and_undrawn_and_currency_in_max_amount():
    # RC-SPIN loan with an unused line: 10m undrawn at 40% = 4m off-balance; 20m collateral
    # absorbs the first 20m. In USD at 6.3: room 414m CNY -> drawn + 4m - 20m <= 414m ->
    # drawn <= 430m CNY. (SPEC §6 revised: the amount of a loan is its drawn nominal, and the
    # unused line beside it is held fixed; before, this was written as a "commitment".)
    d = NINGXIA.check("RC-SPIN", 1.0, "loan", undrawn=10e6 / 6.3, currency="USD",
                      collateral_value=20e6 / 6.3)
    assert d.max_amount == pytest.approx(430e6 / 6.3)
    assert d.currency == "USD"


def test_unknown_entity_suggests_close_ids():
    with pytest.raises(ValueError, match=r"unknown entity 'RC-SPN': not in entities\.csv; did you mean"):
        NINGXIA.check("RC-SPN", 1.0)
    with pytest.raises(ValueError, match="no FX rate for JPY"):
        NINGXIA.check("TM", 1.0, currency="JPY")
    with pytest.raises(ValueError, match="amount must be a number >= 0; got -1"):
        NINGXIA.check("TM", -1.0)
    with pytest.raises(ValueError, match="the guarantor must differ from the obligor"):
        NINGXIA.check("TM", 1.0, guarantor_id="TM")


def test_decision_outputs():
    d = NINGXIA.check("RC-SPIN", 5e6)
    data = json.loads(d.to_json())
    assert data["approved"] is True and data["rules"][0]["group_id"] == "RC-GRP"
    assert "<table" in d._repr_html_()
    with pytest.raises(Exception, match="frozen"):
        d.approved = False  # type: ignore[misc]


def test_decisions_are_models_like_any_other():
    # the hot path builds them without validation, sharing the "fields set": they must still
    # compare, copy, pickle and dump as validated models do
    import pickle

    d, e = NINGXIA.check("RC-SPIN", 5e6), NINGXIA.check("TM", 1e6)
    assert d == Decision.model_validate(d.model_dump())
    assert d.model_fields_set == set(Decision.model_fields) - {"reservation_id"}
    assert d.rules[0].model_fields_set == set(d.rules[0].model_dump())
    reserved = d.model_copy(update={"reservation_id": "R1"})
    assert reserved.reservation_id == "R1" and "reservation_id" in reserved.model_fields_set
    assert "reservation_id" not in d.model_fields_set | e.model_fields_set  # not shared back
    assert d.reservation_id is None and pickle.loads(pickle.dumps(d)) == d
    assert d.model_dump(exclude_unset=True).keys() == d.model_fields_set


def test_single_rules_and_loans_measure():
    # cn_cbirc_2018: A alone with a 50 loan; total capital 1000: loans limit 100 -> room 50;
    # exposure limit 15% of Tier 1 1000 = 150 -> room 100. max = 50 (loans binds).
    r = gx.analyze(make_book(["A"], facilities=[{"obligor_id": "A", "drawn": 50.0}]),
                   policy="cn_cbirc_2018")
    d = r.check("A", 10.0)
    assert d.max_amount == pytest.approx(50.0)
    assert set(d.table["rule"]) == {"CBIRC non-bank single 15% of Tier 1",
                                    "Commercial Bank Law loans 10% of total capital"}
    # a bond does not count as a loan: only the 15% exposure rule binds -> 100
    assert r.check("A", 10.0, "bond").max_amount == pytest.approx(100.0)


def test_eur_150m_relief_ends_when_non_bank_exposure_passes_25_percent():
    # EUR; Tier 1 400m; bank B controls corporate C. B 100m, C 50m. Relief limit 37.5% (150m).
    # Lending x to C: non-bank exposure 50m + x stays <= 100m while x <= 50m (relief, limit 150m:
    # total 150m + x <= 150m -> x <= 0 fails beyond 0?). Total before 150m = limit: x = 0 is the
    # largest with relief. Beyond relief, limit 100m < 150m: declined. So max is 0.
    book = make_book([{"entity_id": "B", "kind": "bank"}, "C"], ownership=[("B", "C", 1.0)],
                     facilities=[{"obligor_id": "B", "drawn": 100e6},
                                 {"obligor_id": "C", "drawn": 50e6}], tier1=400e6, currency="EUR")
    r = gx.analyze(book, policy="eu_crr")
    assert r.check("C", 0.0).approved
    assert r.check("C", 1.0).approved is False
    # lending to the bank B keeps the relief: 150m - 150m... B 50m total -> 100m: room 50m
    book2 = make_book([{"entity_id": "B", "kind": "bank"}, "C"], ownership=[("B", "C", 1.0)],
                      facilities=[{"obligor_id": "B", "drawn": 50e6},
                                  {"obligor_id": "C", "drawn": 50e6}], tier1=400e6,
                      currency="EUR")
    r2 = gx.analyze(book2, policy="eu_crr")
    assert r2.check("B", 1.0).max_amount == pytest.approx(50e6)
    # lending to C: relief holds while C <= 100m (x <= 50m) and total <= 150m (x <= 50m)
    assert r2.check("C", 1.0).max_amount == pytest.approx(50e6)


def test_check_many_matches_check():
    # SPEC §6 revised: the trade LC's amount is its undrawn nominal; with a drawn part beside it,
    # both are given as drawn= and undrawn= (row 6)
    proposals = pd.DataFrame({
        "entity_id": ["RC-SPIN", "TM", "YP-BIO", "MOF", "TM", "ZY-HK"],
        "amount": [1e8, 1e6, 1.0, 5e9, 9e7, np.nan],
        "product": ["loan", "loan", "loan", "bond", "loan", "trade_lc"],
        "drawn": [np.nan] * 5 + [1e6],
        "undrawn": [0, 0, 0, 0, 0, 3e6],
        "guarantor_id": [None, "ZY-GUAR", None, None, "ZY-GUAR", None],
        "currency": [None, None, None, None, None, "USD"]})
    out = NINGXIA.check_many(proposals)
    for i, p in proposals.iterrows():
        d = NINGXIA.check(p["entity_id"], p["amount"], p["product"], drawn=p["drawn"],
                          undrawn=p["undrawn"], guarantor_id=p["guarantor_id"],
                          currency=p["currency"])
        assert out.loc[i, "approved"] == d.approved
        assert out.loc[i, "max_amount"] == pytest.approx(d.max_amount)
        assert out.loc[i, "reason"] == d.reason
        b = out.loc[i, "binding_rule"]
        assert (None if pd.isna(b) else b) == d.binding_rule
    with pytest.raises(ValueError, match="check_many needs the columns amount"):
        NINGXIA.check_many(pd.DataFrame({"entity_id": ["TM"]}))
    with pytest.raises(ValueError, match=r"unknown entity 'TMX': not in entities\.csv"):
        NINGXIA.check_many(pd.DataFrame({"entity_id": ["TMX"], "amount": [1.0]}))


def _status_lookup(r: gx.AnalysisResult) -> tuple[dict[str, str], dict[str, str]]:
    g = dict(zip(r.groups["group_id"], r.groups["status"], strict=True))
    e = dict(zip(r.entities["entity_id"], r.entities["status"].fillna("ok"), strict=True))
    return g, e


ON_BALANCE = {"loan", "overdraft", "bond"}


def _measures(r: gx.AnalysisResult) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    g = dict(zip(r.groups["group_id"], r.groups["exposure"], strict=True))
    e = dict(zip(r.entities["entity_id"], zip(r.entities["own_net"], r.entities["loans"],
                                              strict=True), strict=True))
    return g, e


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(book=portfolios(), data=st.data(),
       policy=st.sampled_from(["basel", "eu_crr", "cn_cbirc_2018", "cn_group_credit"]))
def test_check_agrees_with_rerunning_analyze(book, data, policy):
    # SPEC §6 revised: approved unless a touched rule is breached after the facility and the
    # facility adds to it; adds_nothing where it is approved with a breached rule touched.
    r = gx.analyze(book, policy=policy)
    ids = list(book.entities["entity_id"])
    obligor = data.draw(st.sampled_from(ids))
    guarantor = data.draw(st.one_of(st.none(), st.sampled_from([i for i in ids if i != obligor])))
    amount = float(data.draw(st.integers(0, 600)))
    product = data.draw(st.sampled_from(["loan", "bond", "commitment", "guarantee_issued",
                                         "performance_bond"]))
    other = float(data.draw(st.integers(0, 50)))  # the other part of a mixed facility
    coll = float(data.draw(st.integers(0, 40)))
    gamt = data.draw(st.one_of(st.none(), st.integers(0, 300).map(float)))
    on = product in ON_BALANCE
    kw = dict(guarantor_id=guarantor, guaranteed_amount=gamt, collateral_value=coll,
              **({"undrawn": other} if on else {"drawn": other}))
    d = r.check(obligor, amount, product, **kw)
    drawn, undrawn = (amount, other) if on else (other, amount)
    new = pd.DataFrame([{"facility_id": "ZZ-NEW", "obligor_id": obligor, "product": product,
                         "drawn": drawn, "undrawn": undrawn, "guarantor_id": guarantor,
                         "guaranteed_amount": gamt, "collateral_value": coll}])
    bigger = gx.Portfolio.from_frames(
        entities=book.entities, ownership=book.ownership, connections=book.connections,
        facilities=pd.concat([book.facilities, new], ignore_index=True), fx=book.fx,
        capital=book.capital or {})
    r2 = gx.analyze(bigger, policy=policy)
    g_before, e_before = _status_lookup(r)
    g_after, e_after = _status_lookup(r2)
    m_before, n_before = _measures(r)
    m_after, n_after = _measures(r2)
    kind = dict(zip(r.entities["entity_id"], r.entities["kind"], strict=True))
    eligible = guarantor is not None and kind[guarantor] in {
        k.value for k in gx.get_policy(policy).eligible_guarantor_kinds}
    touched = {obligor} | ({guarantor} if eligible else set())
    groups = set(r.members.loc[r.members["entity_id"].isin(touched), "group_id"])
    single = bool(gx.get_policy(policy).rules_for("single"))
    if single:  # a group of one is held to the single rules (its entity row)
        groups = {g for g in groups if r.groups.set_index("group_id").loc[g, "n_members"] > 1}
    after = [g_after[g] for g in groups] + ([e_after[x] for x in touched] if single else [])
    new_breach = any(g_after[g] == "breach" and (g_before[g] != "breach" or m_after[g] != m_before[g])
                     for g in groups)
    unchanged = (all(m_after[g] == m_before[g] for g in groups if g_after[g] == "breach")
                 and all(n_after[x] == n_before[x] for x in touched
                         if single and e_after[x] == "breach")
                 and all(g_before[g] == "breach" for g in groups if g_after[g] == "breach")
                 and all(e_before[x] == "breach" for x in touched
                         if single and e_after[x] == "breach"))
    if "breach" not in after:
        assert d.approved and d.reason == "within_limits"
    elif new_breach:
        assert not d.approved and d.reason in ("would_breach", "already_breached")
    elif unchanged:
        assert d.approved and d.reason == "adds_nothing"
    # approving max_amount passes; a little more does not (brute force against the check itself)
    if r.check(obligor, 0.0, product, **kw).approved and np.isfinite(d.max_amount):
        assert r.check(obligor, d.max_amount, product, **kw).approved
        assert not r.check(obligor, d.max_amount * (1 + 1e-6) + 1, product, **kw).approved
