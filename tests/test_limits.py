"""SPEC §5: which rules apply, ratios, statuses, boundaries, large exposures."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import groupexposure as gx
from tests.conftest import make_book, row


def group(r: gx.AnalysisResult, gid: str) -> dict[str, object]:
    return dict(row(r.groups, "group_id", gid))


def two_member_group(exposure: float, **kw: object) -> gx.Portfolio:
    return make_book(["P", "S"], ownership=[("P", "S", 1.0)],
                     facilities=[{"obligor_id": "S", "drawn": exposure}], **kw)  # type: ignore


def test_exactly_at_the_limit_is_compliant():
    # 250 / 1000 = 25% = the basel limit: not a breach (it is at least 80% of it: a warning).
    g = group(gx.analyze(two_member_group(250.0)), "P")
    assert g["ratio"] == 0.25 and g["limit"] == 0.25 and g["status"] == "warning"
    assert group(gx.analyze(two_member_group(250.01)), "P")["status"] == "breach"
    assert group(gx.analyze(two_member_group(199.99)), "P")["status"] == "ok"
    assert group(gx.analyze(two_member_group(200.0)), "P")["status"] == "warning"  # 0.8 * 25%


def test_large_exposure_boundaries():
    # basel: exactly 10% of Tier 1 is a large exposure (>=); cn_cbirc_2018: exactly 2.5% is not (>).
    assert group(gx.analyze(two_member_group(100.0)), "P")["large_exposure"]
    assert not group(gx.analyze(two_member_group(99.99)), "P")["large_exposure"]
    assert not group(gx.analyze(two_member_group(25.0), ), "P")["large_exposure"]
    cn = gx.analyze(two_member_group(25.0), policy="cn_cbirc_2018")
    assert not group(cn, "P")["large_exposure"]
    cn = gx.analyze(two_member_group(25.01), policy="cn_cbirc_2018")
    assert group(cn, "P")["large_exposure"]


def test_gsib_to_gsib_limit_binds():
    # Reporting bank and a member both G-SIBs: 15% applies and, being the most utilised, is reported.
    book = make_book(["P", {"entity_id": "S", "kind": "bank", "is_gsib": True}],
                     ownership=[("P", "S", 1.0)],
                     facilities=[{"obligor_id": "S", "drawn": 200.0}], is_gsib=True)
    g = group(gx.analyze(book), "P")
    assert (g["limit"], g["status"], g["rule"]) == (0.15, "breach", "LEX G-SIB 15% of Tier 1")
    # the reporting bank not a G-SIB: the 25% rule, 20% is a warning
    book2 = make_book(["P", {"entity_id": "S", "kind": "bank", "is_gsib": True}],
                      ownership=[("P", "S", 1.0)],
                      facilities=[{"obligor_id": "S", "drawn": 200.0}], is_gsib=False)
    assert group(gx.analyze(book2), "P")["limit"] == 0.25


def eu_book(bank: float, corporate: float, tier1: float) -> gx.Portfolio:
    return make_book([{"entity_id": "B", "kind": "bank"}, "C"], ownership=[("B", "C", 1.0)],
                     facilities=[{"obligor_id": "B", "drawn": bank},
                                 {"obligor_id": "C", "drawn": corporate}],
                     tier1=tier1, currency="EUR")


def test_eur_150m_rule_for_groups_with_an_institution():
    # Tier 1 EUR 400m: 25% = 100m; EUR 150m = 37.5%. Non-bank exposure 20m <= 100m, so the limit
    # is min(max(25%, 37.5%), 100%) = 37.5%. Exposure 140m = 35%: compliant (a warning).
    g = group(gx.analyze(eu_book(120e6, 20e6, 400e6), policy="eu_crr"), "B")
    assert g["limit"] == pytest.approx(0.375) and g["status"] == "warning"
    assert g["rule"] == "CRR institution EUR 150m"
    # non-bank exposure 110m > 25% of Tier 1: no relief; 130m = 32.5% > 25%: breach
    g = group(gx.analyze(eu_book(20e6, 110e6, 400e6), policy="eu_crr"), "B")
    assert (g["limit"], g["status"]) == (0.25, "breach")
    # Tier 1 EUR 100m: 150m would be 150%; capped at 100% of Tier 1
    g = group(gx.analyze(eu_book(90e6, 10e6, 100e6), policy="eu_crr"), "B")
    assert g["limit"] == 1.0 and g["status"] == "warning"


def test_eur_150m_rule_converts_to_the_reporting_currency():
    # Reporting CNY, EUR at 7.8: 150m EUR = 1,170m CNY = 58.5% of a 2,000m Tier 1.
    book = make_book([{"entity_id": "B", "kind": "bank"}], tier1=2000e6,
                     facilities=[{"obligor_id": "B", "drawn": 1000e6}], fx={"EUR": 7.8})
    g = group(gx.analyze(book, policy="eu_crr"), "B")
    assert g["limit"] == pytest.approx(0.585) and g["status"] == "warning"


def test_eu_crr_needs_an_eur_rate():
    book = make_book(["A"], facilities=[{"obligor_id": "A", "drawn": 1.0}])
    with pytest.raises(gx.ValidationError, match="policy eu_crr states a limit in EUR"):
        gx.analyze(book, policy="eu_crr")


def test_group_of_one_under_single_rules_cn_cbirc():
    # cn_cbirc_2018, non-bank alone: exposure 110/1000 = 11% of Tier 1 (limit 15%, 73% used) and
    # loans 110/1000 = 11% of total capital (limit 10%, 110% used): the loans rule binds -> breach.
    book = make_book(["A"], facilities=[{"obligor_id": "A", "drawn": 110.0}])
    r = gx.analyze(book, policy="cn_cbirc_2018")
    g = group(r, "A")
    assert g["rule"] == "Commercial Bank Law loans 10% of total capital"
    assert g["ratio"] == pytest.approx(0.11) and g["limit"] == 0.10 and g["status"] == "breach"
    e = row(r.entities, "entity_id", "A")
    assert e["status"] == "breach" and e["limit"] == 0.10


def test_group_of_one_under_basel_uses_group_rule_and_entities_have_no_single_rule():
    r = gx.analyze(make_book(["A"], facilities=[{"obligor_id": "A", "drawn": 300.0}]))
    assert group(r, "A")["status"] == "breach"
    e = row(r.entities, "entity_id", "A")
    assert math.isnan(e["ratio"]) and pd.isna(e["status"])


def test_cn_cbirc_group_limits_depend_on_the_root():
    # non-bank root: 20%; 190/1000 = 19% -> warning (>= 16%). Bank root: 25%.
    r = gx.analyze(two_member_group(190.0), policy="cn_cbirc_2018")
    assert (group(r, "P")["limit"], group(r, "P")["status"]) == (0.20, "warning")
    bank = make_book([{"entity_id": "P", "kind": "bank"}, "S"], ownership=[("P", "S", 1.0)],
                     facilities=[{"obligor_id": "S", "drawn": 190.0}])
    r = gx.analyze(bank, policy="cn_cbirc_2018")
    assert (group(r, "P")["limit"], group(r, "P")["status"]) == (0.25, "ok")


def test_cn_group_credit_measures_against_total_capital():
    # 15% of total capital 2000 = 300; group credit 310 -> 15.5%: breach.
    r = gx.analyze(two_member_group(310.0, total_capital=2000.0), policy="cn_group_credit")
    g = group(r, "P")
    assert g["capital_base"] == 2000.0 and g["ratio"] == pytest.approx(0.155)
    assert g["status"] == "breach"


def test_all_exempt_group_has_ratio_zero_no_limit_ok():
    book = make_book([{"entity_id": "G", "kind": "sovereign"}],
                     facilities=[{"obligor_id": "G", "drawn": 5000.0}])
    for policy in ("basel", "cn_cbirc_2018"):
        g = group(gx.analyze(book, policy=policy), "G")
        assert g["ratio"] == 0.0 and math.isnan(g["limit"]) and g["status"] == "ok"
        assert g["exposure"] == 0.0 and not g["large_exposure"]


def test_total_capital_required_by_policy():
    book = make_book(["A"], total_capital=None)
    with pytest.raises(gx.ValidationError, match="measures against total_capital"):
        gx.analyze(book, policy="cn_group_credit")


def test_user_policy_copy_changes_a_figure():
    strict = gx.policies.basel.model_copy(update={"name": "strict", "warning_level": 0.5})
    assert group(gx.analyze(two_member_group(130.0), policy=strict), "P")["status"] == "warning"
    assert group(gx.analyze(two_member_group(130.0)), "P")["status"] == "ok"


def test_policy_validation_messages():
    with pytest.raises(ValueError, match="unknown policy 'x'; valid: basel"):
        gx.get_policy("x")
    rule = gx.LimitRule(name="r", scope="group", limit=0.2, replaces=("nope",))
    with pytest.raises(ValueError, match="replaces unknown"):
        gx.Policy(name="p", rules=(rule,))
    with pytest.raises(ValueError, match="rule names must be unique"):
        gx.Policy(name="p", rules=(gx.LimitRule(name="r", scope="group", limit=0.2),) * 2)
    with pytest.raises(ValueError, match="ccf has no factor for"):
        gx.Policy(name="p", ccf={gx.Product.loan: 0.4})


def test_builtin_policies_document_their_sources():
    for p in gx.policies.POLICIES.values():
        assert p.description
        assert all(r.source for r in p.rules)
