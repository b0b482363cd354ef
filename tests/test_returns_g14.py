"""1104 G14 大额风险暴露统计表 parts I-VI (SPEC §11) on a book worked out by hand: amounts in 万元
with two decimals, percentages of 一级资本净额 as numbers with two decimals."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import groupexposure as gx
from groupexposure.returns import Returns
from tests.conftest import make_book

W = 10_000.0  # one 万元 in yuan
ENTS = [{"entity_id": "P", "name": "母公司", "national_id": "91640100MA7500000W"},
        {"entity_id": "S", "name": "子公司"}, {"entity_id": "Q", "name": "依存方"},
        {"entity_id": "B", "name": "同业银行", "kind": "bank"}]
FACS = [
    {"obligor_id": "P", "product": "loan", "drawn": 300 * W},
    {"obligor_id": "S", "product": "bankers_acceptance", "undrawn": 200 * W},  # CCF 1.0
    {"obligor_id": "S", "product": "loan", "drawn": 100 * W, "collateral_value": 10 * W,
     "guarantor_id": "B", "guaranteed_amount": 40 * W},
    {"obligor_id": "P", "product": "trade_lc", "undrawn": 50 * W},  # CCF 0.2: 10
    {"obligor_id": "P", "product": "bond", "drawn": 150 * W, "book": "trading"},
    {"obligor_id": "B", "product": "interbank_placement", "drawn": 200 * W},
    {"obligor_id": "P", "product": "other", "drawn": 10 * W},
    {"obligor_id": "S", "product": "loan", "drawn": 50 * W, "defaulted": True},
    {"obligor_id": "Q", "product": "loan", "drawn": 400 * W},
]


@pytest.fixture(scope="module")
def g14() -> Returns:
    # Tier 1 10,000万 (2.5% line: 250万), total capital 20,000万. P holds 60% of S; S depends on Q
    # (overlapping groups: S is in group P and in group Q).
    book = make_book(ENTS, ownership=[("P", "S", 0.6)], connections=[("S", "Q")],
                     facilities=FACS, tier1=10_000 * W, total_capital=20_000 * W)
    return gx.analyze(book, policy="cn_cbirc_2018").returns("cn_g14")


def _row(frame: pd.DataFrame, ref: str) -> pd.Series:
    hit = frame[frame["内部编号"] == ref]
    assert len(hit) == 1
    return hit.iloc[0]


def test_part_three_single_clients(g14: Returns) -> None:
    iii = g14["G14_III"]
    assert iii["内部编号"].tolist() == ["P", "Q", "S"] and iii["序号"].tolist() == [1, 2, 3]
    p = _row(iii, "P")
    # P: loan 300 (一般, 各项贷款); trade LC 50 x 0.2 = 10 (潜在, 跟单信用证); trading bond 150; other 10
    assert (p["一般风险暴露（合计）"], p["一般风险暴露（其中：各项贷款）"], p["潜在风险暴露（合计）"],
            p["潜在风险暴露（其中：跟单信用证）"], p["交易账簿风险暴露"], p["其他风险暴露"]) == (
        300.0, 300.0, 10.0, 10.0, 150.0, 10.0)
    assert (p["风险暴露总和（合计）"], p["占一级资本净额比例（合计）"], p["客户代码"]) == (
        470.0, 4.7, "91640100MA7500000W")
    s = _row(iii, "S")
    # S: acceptance 200 (潜在, 银行承兑汇票); loan 100 - collateral 10 - guaranteed by B 40 = 50;
    # defaulted loan 50: 一般 100; 风险缓释转出 10 + 40 = 50; ignoring CRM 350
    assert (s["一般风险暴露（合计）"], s["潜在风险暴露（其中：银行承兑汇票）"], s["风险暴露总和（合计）"],
            s["风险缓释转出的风险暴露（转入为负数）"], s["不考虑风险缓释作用的风险暴露总和"]) == (
        100.0, 200.0, 300.0, 50.0, 350.0)
    assert (s["各项贷款余额"], s["各项贷款余额占资本净额比例"], s["附注：不良贷款余额"]) == (
        150.0, 0.75, 50.0)
    assert s["客户代码"] == "S" and math.isnan(s["附注：逾期贷款余额"])
    assert math.isnan(s["特定风险暴露（合计）"]) and math.isnan(s["交易对手信用风险暴露"])


def test_part_five_interbank(g14: Returns) -> None:
    b = _row(g14["G14_V"], "B")
    # placement 200 (拆放同业) + 40 guaranteed for S substituted in (转入: -40)
    assert (b["客户类型"], b["一般风险暴露（合计）"], b["一般风险暴露（其中：拆放同业）"],
            b["风险暴露总和（合计）"], b["风险缓释转出的风险暴露（转入为负数）"],
            b["不考虑风险缓释作用的风险暴露总和"]) == ("同业单一客户", 240.0, 200.0, 240.0, -40.0, 200.0)
    assert math.isnan(b["一般风险暴露（其中：买入返售）"])
    assert len(g14["G14_VI"]) == 0  # B is alone and below the 2.5% line anyway


def test_part_four_groups(g14: Returns) -> None:
    iv = g14["G14_IV"]
    assert iv["内部编号"].tolist() == ["P", "Q"]
    p, q = _row(iv, "P"), _row(iv, "Q")
    assert (p["客户类型"], p["风险暴露总和（合计）"], p["一般风险暴露（合计）"], p["潜在风险暴露（合计）"],
            p["风险缓释转出的风险暴露（转入为负数）"], p["不考虑风险缓释作用的风险暴露总和"],
            p["占一级资本净额比例（合计）"]) == ("非同业集团客户", 770.0, 400.0, 210.0, 50.0, 820.0, 7.7)
    # Q's group: Q 400 and S 300 (S depends on Q): an economic-dependence group
    assert (q["客户类型"], q["风险暴露总和（合计）"]) == ("非同业经济依存客户", 700.0)


def test_part_two_each_client_once(g14: Returns) -> None:
    ii = g14["G14_II"]
    # S is in group P (770) and group Q (700): counted under P only; Q's row holds Q alone
    assert ii["内部编号"].tolist() == ["P", "Q"]
    assert ii["风险暴露总和（合计）"].tolist() == [770.0, 400.0]
    assert ii["客户类型"].tolist() == ["非同业集团客户", "非同业经济依存客户"]
    assert ii["风险暴露总和（合计）"].sum() == 470.0 + 300.0 + 400.0  # P + S + Q, each once
    assert ii["不考虑风险缓释作用的占一级资本净额比例"].tolist() == [8.2, 4.0]


def test_part_one(g14: Returns) -> None:
    i = g14["G14_I"].set_index("项目")
    assert i.loc["1 一级资本净额", "金额"] == 10_000.0
    assert i.loc["1.1 大额风险暴露标准（一级资本净额的2.5%）", "金额"] == 250.0
    assert (i.loc["2 大额风险暴露", "户数"], i.loc["2 大额风险暴露", "金额"]) == (2, 1170.0)
    assert i.loc["2.2 非同业集团客户及经济依存客户", "户数"] == 2
    assert i.loc["2.1 非同业单一客户", "户数"] == 0
    assert i.loc["3.1 最大一家非同业单一客户", "金额"] == 470.0
    assert i.loc["3.3 最大一家同业单一客户", "占一级资本净额比例（合计）"] == 2.4


def test_unavailable_cells_listed_once(g14: Returns) -> None:
    iss = g14.issues
    assert not iss.duplicated(["key", "column"]).any()
    msg = iss.set_index(["key", "column"]).loc[("cn_g14 G14_III", "客户代码"), "message"]
    assert msg.endswith("given as the LEI or the bank's own id in 2 rows")  # Q and S; P has one


def test_the_100th_and_101st_client() -> None:
    # 101 clients, C000 owes 101万 ... C100 owes 1万; C099 and C100 both 2万 would tie: the smaller
    # id wins. Part III lists exactly the 100 largest.
    ents = [f"C{i:03d}" for i in range(101)]
    fac = [{"obligor_id": e, "drawn": (101 - i) * W} for i, e in enumerate(ents)]
    fac[100]["drawn"] = 2 * W  # C100 ties C099
    book = make_book(ents, facilities=fac, tier1=1e12)
    iii = gx.analyze(book, policy="cn_cbirc_2018").returns("cn_g14")["G14_III"]
    assert len(iii) == 100 and iii["内部编号"].iloc[-1] == "C099"
    assert "C100" not in set(iii["内部编号"]) and iii["序号"].iloc[-1] == 100


def test_the_2_5_percent_line_is_exclusive() -> None:
    # Tier 1 10,000万: exactly 250万 is not above 2.5%; 250.01万 is
    fac = [{"obligor_id": "A", "drawn": 250 * W}, {"obligor_id": "B", "drawn": 250.01 * W}]
    ret = gx.analyze(make_book(["A", "B"], facilities=fac, tier1=10_000 * W),
                     policy="cn_cbirc_2018").returns("cn_g14")
    assert ret["G14_II"]["内部编号"].tolist() == ["B"]


def test_other_currency_needs_a_cny_rate() -> None:
    book = make_book(["A"], facilities=[{"obligor_id": "A", "drawn": 1.0}], currency="USD")
    r = gx.analyze(book, policy="cn_cbirc_2018")
    with pytest.raises(ValueError, match="G14 is reported in CNY: the reporting currency is USD"):
        r.returns("cn_g14")
    book = make_book(["A"], facilities=[{"obligor_id": "A", "drawn": 100 * W}], currency="USD",
                     fx={"CNY": 0.125}, tier1=1e9)
    three = gx.analyze(book, policy="cn_cbirc_2018").returns("cn_g14")["G14_III"]
    assert three["风险暴露总和（合计）"].tolist() == [800.0]  # USD 1m = CNY 8m = 800万
