"""SPEC §6 revised: what amount means per product, reasons, binding rule, max_amount; §5 revised
(cn_group_credit credit balance). Every number is worked out by hand in the comments."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

import groupexposure as gx
from tests.conftest import make_book

# basel, Tier 1 1000: the 25% limit is 250.
#   group P = {P, S} (P owns S 100%): P 100 + S 50 = 150 (15%).
#   group Q = {Q, R} (Q owns R 100%): Q 300 = 30%: already in breach.
#   G: a corporate alone, no facilities; GOV: a sovereign (exempt).
BOOK = make_book(
    ["P", "S", "Q", "R", "G", {"entity_id": "GOV", "kind": "sovereign"}],
    ownership=[("P", "S", 1.0), ("Q", "R", 1.0)],
    facilities=[{"obligor_id": "P", "drawn": 100.0}, {"obligor_id": "S", "drawn": 50.0},
                {"obligor_id": "Q", "drawn": 300.0}])
R = gx.analyze(BOOK)


def test_within_limits():
    # S +50: group P 200 = 20% (warning, under 25%); room 250 - 150 = 100
    d = R.check("S", 50.0)
    assert d.approved and d.reason == "within_limits"
    assert d.max_amount == pytest.approx(100.0)
    assert d.binding_rule == "LEX 25% of Tier 1" and d.binding_subject == "group P"
    assert "(within_limits)" in str(d) and "within its limit" in str(d)


def test_would_breach():
    # S +150: 300 = 30% > 25%
    d = R.check("S", 150.0)
    assert not d.approved and d.reason == "would_breach"
    assert d.max_amount == pytest.approx(100.0)
    assert "already over" not in str(d)


@pytest.mark.parametrize(("product", "ccf", "expected"), [
    ("performance_bond", 0.5, 200.0),  # 0.5 * x <= 100
    ("guarantee_issued", 1.0, 100.0),
    ("commitment", 0.4, 250.0),
    ("trade_lc", 0.2, 500.0),
    ("commitment_uncond_cancellable", 0.1, 1000.0),
])
def test_amount_is_the_nominal_of_an_off_balance_product(product, ccf, expected):
    # a 150 nominal of the product weighs 150 * ccf: approved where 150 + 150 * ccf <= 250
    d = R.check("S", 150.0, product=product)
    assert d.undrawn == 150.0 and d.drawn == 0.0 and d.amount == 150.0
    assert d.approved == (150.0 * ccf <= 100.0)
    assert d.max_amount == pytest.approx(expected)
    assert R.check("S", d.max_amount, product=product).approved
    assert not R.check("S", d.max_amount * (1 + 1e-6) + 1, product=product).approved


def test_mixed_facility_with_drawn_and_undrawn():
    # a commitment 20 drawn + 100 undrawn at 40%: 20 + 40 = 60 -> 210 (approved); the varied part
    # is the undrawn nominal: 150 + 20 + 0.4 u <= 250 -> u <= 200
    d = R.check("S", product="commitment", drawn=20.0, undrawn=100.0)
    assert d.approved and d.amount == 100.0 and d.drawn == 20.0
    assert d.max_amount == pytest.approx(200.0)
    # a loan with an unused line: drawn varies, 50 undrawn at 40% = 20 held: x <= 80
    assert R.check("S", 10.0, undrawn=50.0).max_amount == pytest.approx(80.0)
    with pytest.raises(ValueError, match="give the amount or undrawn=, not both"):
        R.check("S", 10.0, "commitment", undrawn=5.0)
    with pytest.raises(ValueError, match="amount is required"):
        R.check("S")


def test_already_breached_says_so_plainly():
    # group Q is at 30% before: any amount added to it is declined; nothing is the most
    d = R.check("R", 10.0)
    assert not d.approved and d.reason == "already_breached" and d.max_amount == 0.0
    text = str(d)
    assert "Before this facility, group Q was already over its limit" in text
    assert "30.00% of 25.00%" in text
    assert json.loads(d.to_json())["reason"] == "already_breached"
    assert "already_breached" in d._repr_html_()


def test_adds_nothing_when_wholly_collateralised():
    # R 10 with 10 of collateral: net 0, group Q unchanged: approved; up to 10 adds nothing
    d = R.check("R", 10.0, collateral_value=10.0)
    assert d.approved and d.reason == "adds_nothing"
    assert d.max_amount == pytest.approx(10.0)
    assert not R.check("R", 10.5, collateral_value=10.0).approved


def test_adds_nothing_when_wholly_guaranteed():
    # guaranteed in full by corporate G (eligible): Q unchanged, G's group of one gets 40 = 4%;
    # G's room is 250: that rule caps the amount
    d = R.check("R", 40.0, guarantor_id="G")
    assert d.approved and d.reason == "adds_nothing"
    assert d.max_amount == pytest.approx(250.0)
    assert d.binding_rule == "LEX 25% of Tier 1" and d.binding_subject == "group G"
    # guaranteed by the (exempt) sovereign: adds nothing anywhere, no limit: the touched rule with
    # the highest utilisation after (group Q at 30%) is named
    s = R.check("R", 1e9, guarantor_id="GOV")
    assert s.approved and s.reason == "adds_nothing" and math.isinf(s.max_amount)
    assert s.binding_subject == "group Q"
    # a guarantee of 30 covers only 30 of 40: 10 added to Q's breach
    part = R.check("R", 40.0, guarantor_id="G", guaranteed_amount=30.0)
    assert not part.approved and part.reason == "already_breached"
    assert part.max_amount == pytest.approx(30.0)


def test_binding_rule_with_a_bank_guarantor():
    # cn_cbirc_2018, Tier 1 = total capital = 1000. D owns C 100%: group D, root not a bank:
    # 20% -> 200; D 180 (18%, utilisation 0.9). K a bank alone: bank single 25% -> 250; K 100.
    # A bond of C wholly guaranteed by K: C's group and C's own rules get nothing (a bond is no
    # loan); K's single rule gets the bond: 100 + x <= 250 -> max 150, set by K's rule although
    # group D is more used.
    book = make_book(["D", "C", {"entity_id": "K", "kind": "bank"}],
                     ownership=[("D", "C", 1.0)],
                     facilities=[{"obligor_id": "D", "drawn": 180.0},
                                 {"obligor_id": "K", "drawn": 100.0}])
    r = gx.analyze(book, policy="cn_cbirc_2018")
    d = r.check("C", 50.0, "bond", guarantor_id="K")
    assert d.approved and d.max_amount == pytest.approx(150.0)
    assert d.binding_rule == "CBIRC bank single 25% of Tier 1"
    assert d.binding_subject == "entity K"
    # as a loan, C's own loans rule (10% of total capital = 100) caps it first
    loan = r.check("C", 50.0, "loan", guarantor_id="K")
    assert loan.max_amount == pytest.approx(100.0)
    assert loan.binding_rule == "Commercial Bank Law loans 10% of total capital"
    assert loan.binding_subject == "entity C"


def test_cn_group_credit_counts_no_unused_line():
    # SPEC §5 revised: 授信余额. Total capital 1000: group rule 15% -> 150; loans 10% -> 100.
    # A alone: loan drawn 20 with 500 unused (counts 20), commitment 300 (counts 0),
    # performance bond 40 (counts 40 at nominal).
    book = make_book(["A"], facilities=[
        {"obligor_id": "A", "product": "loan", "drawn": 20.0, "undrawn": 500.0},
        {"obligor_id": "A", "product": "commitment", "undrawn": 300.0},
        {"obligor_id": "A", "product": "performance_bond", "undrawn": 40.0}])
    r = gx.analyze(book, policy="cn_group_credit")
    assert r.entities.set_index("entity_id").loc["A", "own_original"] == pytest.approx(60.0)
    # an unused line of any product adds nothing: unlimited
    assert math.isinf(r.check("A", 1e9, "commitment").max_amount)
    # an overdraft: its drawn part is a loan (20 + x <= 100), its unused line counts nothing
    over = r.check("A", 1.0, "overdraft", undrawn=1e9)
    assert over.approved and over.max_amount == pytest.approx(80.0)
    # a guarantee issued counts at nominal; A is a group of one held to the single loans rule,
    # which a guarantee does not touch: unlimited too (no exposure rule for a single client)
    g = r.check("A", 1e9, "guarantee_issued")
    assert g.approved and math.isinf(g.max_amount)
    # a loan: drawn 20 + x <= 100
    assert r.check("A", 1.0).max_amount == pytest.approx(80.0)


def test_cli_check_drawn_undrawn_and_reason():
    data = "src/groupexposure/datasets/ningxia"
    run = [sys.executable, "-m", "groupexposure", "check", data, "--entity", "RC-SPIN",
           "--product", "commitment", "--drawn", "1e6", "--undrawn", "5e6"]
    out = subprocess.run(run, capture_output=True, text=True, check=False)
    assert out.returncode == 0 and "reason: within_limits" in out.stdout
    js = subprocess.run([*run, "--json"], capture_output=True, text=True, check=False)
    d = json.loads(js.stdout)
    assert d["reason"] == "within_limits" and d["drawn"] == 1e6 and d["undrawn"] == 5e6
    bad = subprocess.run([*run[:-4], "--amount", "-5"], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 2 and "amount must be a number >= 0; got -5" in bad.stderr
