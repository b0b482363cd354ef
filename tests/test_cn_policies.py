"""The two Chinese policies as reviewed against their texts (docs/policies.md)."""

from __future__ import annotations

import pytest

import groupexposure as gx
from tests.conftest import make_book

CN = ("cn_cbirc_2018", "cn_group_credit")


def test_a_corporate_or_guarantee_company_is_not_an_eligible_guarantor_under_cbirc_2018() -> None:
    # 大额风险暴露管理办法: mitigation as the capital rules' weighting approach accepts it; a
    # 融资担保公司 (kind corporate) is not an eligible protection provider, a bank is.
    # B borrows 100, guaranteed 60 by G (a guarantee company) and, on a second loan of 100, 60 by
    # bank K; Tier 1 = total capital = 1000.
    book = make_book(["B", {"entity_id": "G", "name": "宁夏圣融担保公司"},
                      {"entity_id": "K", "kind": "bank"}],
                     facilities=[{"facility_id": "F1", "obligor_id": "B", "drawn": 100.0,
                                  "guarantor_id": "G", "guaranteed_amount": 60.0},
                                 {"facility_id": "F2", "obligor_id": "B", "drawn": 100.0,
                                  "guarantor_id": "K", "guaranteed_amount": 60.0}])
    r = gx.analyze(book, policy="cn_cbirc_2018")
    e = r.entities.set_index("entity_id")
    assert e.loc["B", "own_net"] == 100.0 + 40.0  # F1 whole, F2 less the bank's 60
    assert e.loc["K", "substituted_in"] == 60.0 and e.loc["G", "substituted_in"] == 0.0
    (msg,) = r.issues.loc[r.issues["code"] == "ineligible_guarantor", "key"]
    assert msg == "facility_id=F1"
    # Basel's policy still accepts a corporate guarantor (its own rules, not China's)
    assert gx.analyze(book).entities.set_index("entity_id").loc["G", "substituted_in"] == 60.0


def test_eligible_guarantor_kinds() -> None:
    kinds = {k.value for k in gx.policies.cn_cbirc_2018.eligible_guarantor_kinds}
    assert kinds == {"sovereign", "public_sector", "bank"}
    assert gx.policies.cn_group_credit.eligible_guarantor_kinds == frozenset()


@pytest.mark.parametrize("policy", CN)
def test_the_loans_10_percent_does_not_apply_to_an_interbank_placement(policy: str) -> None:
    # A placement with bank K of 150 (entered as a loan) on total capital 1000: 15% would breach a
    # 10% loans rule; an interbank placement is not a 贷款 under 商业银行法 Art. 39(3), and the 2018
    # measures put the 10% on non-interbank clients only (Art. 7). Under cn_cbirc_2018 the bank is
    # held at 25% of Tier 1 (Art. 9): 15% is "ok" (warning from 80% x 25% = 20%).
    book = make_book([{"entity_id": "K", "kind": "bank"}, "C"],
                     facilities=[{"obligor_id": "K", "drawn": 150.0},
                                 {"obligor_id": "C", "drawn": 150.0}])
    e = gx.analyze(book, policy=policy).entities.set_index("entity_id")
    assert e.loc["C", "status"] == "breach" and e.loc["C", "limit"] == 0.10
    if policy == "cn_cbirc_2018":
        assert e.loc["K", "status"] == "ok" and e.loc["K", "limit"] == 0.25
    else:
        # no single-client rule of this policy covers a bank: nothing to measure, nothing breached
        assert e.loc["K", "status"] == "ok" and e.loc["K", "rule"] == ""


def test_every_chinese_rule_cites_its_article() -> None:
    for name in CN:
        for rule in gx.get_policy(name).rules:
            assert "Art." in rule.source, rule.name
    sources = {r.name: r.source for r in gx.policies.cn_cbirc_2018.rules}
    assert "Art. 7" in sources["CBIRC non-bank single 15% of Tier 1"]
    assert "Art. 8" in sources["CBIRC non-bank group 20% of Tier 1"]
    assert "Art. 9" in sources["CBIRC bank group 25% of Tier 1"]
    assert "Art. 10" in sources["CBIRC G-SIB group 15% of Tier 1"]
    assert "Art. 4" in gx.policies.cn_cbirc_2018.description  # the 2.5% line


def test_ningxia_under_cbirc_2018_keeps_tm_loans_on_tm() -> None:
    # TM-L1: 166m to TM, 60m guaranteed by 宁夏圣融担保公司 (ZY-GUAR, a guarantee company):
    # ignored under cn_cbirc_2018, so TM's own net exposure is the whole 166m, and NX-WOOL's 30m
    # guaranteed by TM (a corporate) stays on NX-WOOL. Basel substitutes both: 166 - 60 + 30 = 136m.
    cn = gx.analyze(gx.datasets.ningxia(), policy="cn_cbirc_2018").entities.set_index("entity_id")
    basel = gx.analyze(gx.datasets.ningxia()).entities.set_index("entity_id")
    assert cn.loc["TM", "own_net"] == 166e6 and basel.loc["TM", "own_net"] == 136e6
