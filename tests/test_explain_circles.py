"""Headroom, explanations and guarantee circles (issue: decisions)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

import groupexposure as gx
from tests.conftest import make_book

NINGXIA = gx.analyze(gx.datasets.ningxia())
DATA = str(gx.datasets.ningxia_path())


def test_headroom_groups_and_entities():
    # basel: RC-GRP group 386m of 800m (25% of 3.2bn): room 414m to the limit, 254m to the warning
    # level (80% * 800m = 640m). MOF is exempt: unlimited.
    h = NINGXIA.headroom.set_index("group_id")
    assert h.loc["RC-GRP", "room_to_limit"] == pytest.approx(414e6)
    assert h.loc["RC-GRP", "room_to_warning"] == pytest.approx(254e6)
    assert h.loc["YP-OWNER", "room_to_limit"] == pytest.approx(-40e6)  # already 40m over
    assert math.isinf(h.loc["MOF", "room_to_limit"])
    assert set(NINGXIA.headroom["scope"]) == {"group"}  # basel has no single rules
    cn = gx.analyze(gx.datasets.ningxia(), policy="cn_cbirc_2018").headroom
    tm = cn[(cn.scope == "single") & (cn.entity_id == "TM")].iloc[0]
    # TM: loans 166m of 10% * 3.8bn = 380m -> 214m; exposure 136m of 15% * 3.2bn = 480m -> 344m
    assert tm["room_to_limit"] == pytest.approx(214e6)
    assert tm["rule"] == "Commercial Bank Law loans 10% of total capital"
    assert tm["measure_value"] == pytest.approx(166e6)


def test_explain_chain_groups_and_facilities():
    e = NINGXIA.explain("ZY-ALPHA")
    assert [(c["owner_id"], c["owned_id"]) for c in e.chain] == [("ZY-INTL", "ZY-CASH"),
                                                                 ("ZY-CASH", "ZY-ALPHA")]
    assert e.chain[1]["reason"] == "votes 100% > 50%"
    assert e.ultimate_parent_id == "ZY-INTL"
    assert e.groups[0]["path"].endswith("ZY-CASH →100%→ ZY-ALPHA")
    tm = NINGXIA.explain("TM")
    assert {g["group_id"]: g["basis"] for g in tm.groups} == {"RC-GRP": "dependence",
                                                              "TM": "control"}
    assert tm.facilities[0]["guaranteed"] == 60e6 and tm.facilities[0]["guarantor_id"] == "ZY-GUAR"
    assert tm.exposure["substituted_in"] == 30e6  # it guarantees NX-WOOL's 30m loan
    assert tm.guaranteed_for_others == [{"facility_id": "NX-W1", "obligor_id": "NX-WOOL",
                                         "guaranteed": 30e6}]
    text = str(tm)
    # names beside ids (#14.3)
    assert "宁夏荣昌绒业集团有限公司 (RC-GRP) [dependence] RC-GRP ←economic_dependence— TM" in text
    json.dumps(tm.to_dict())
    with pytest.raises(ValueError, match="unknown entity 'TMM'"):
        NINGXIA.explain("TMM")


def test_explain_flag_and_cycle_reasons():
    r = gx.analyze(make_book(["A", "B", "C"], ownership=[("A", "B", 0.1, 0.1, True),
                                                         ("B", "C", 0.6), ("C", "B", 0.6)]))
    reasons = [c["reason"] for c in r.explain("C").chain]
    assert reasons[0] == "control flag: board majority, agreement or golden share"
    assert reasons[1].startswith("control cycle")


def test_guarantee_circle_in_the_example():
    # NX-WOOL's 30m loan is guaranteed by TM; NX-WOOL guarantees TM (a guarantee connection).
    c = NINGXIA.guarantee_circles
    assert len(c) == 1
    row = c.iloc[0]
    assert row["members"] == "NX-WOOL;TM" and row["cycle"] == "NX-WOOL → TM → NX-WOOL"
    assert row["chain"] == "ZY-GUAR"  # guarantees TM's loan from outside the circle
    assert row["guaranteed_inside"] == 30e6
    # members' net: NX-WOOL 0 (its loan is substituted onto TM); TM 106m + 30m
    assert row["member_exposure"] == 136e6
    assert set(row["groups"].split(";")) == {"NX-WOOL", "RC-GRP", "TM"}
    assert "guarantee circles 1:" in NINGXIA.summary()


def test_three_company_circle_from_facilities():
    # A guarantees B's loan, B guarantees C's, C guarantees A's (ineligible guarantees count too).
    book = make_book(["A", "B", {"entity_id": "C", "kind": "individual"}, "D"], facilities=[
        {"obligor_id": "B", "drawn": 100.0, "guarantor_id": "A", "guaranteed_amount": 40.0},
        {"obligor_id": "C", "drawn": 50.0, "guarantor_id": "B"},
        {"obligor_id": "A", "drawn": 70.0, "collateral_value": 20.0, "guarantor_id": "C"},
        {"obligor_id": "D", "drawn": 5.0, "guarantor_id": "A"}])
    c = gx.analyze(book).guarantee_circles.iloc[0]
    assert c["members"] == "A;B;C" and c["cycle"] == "A → B → C → A"
    assert c["chain"] == "D"
    assert c["guaranteed_inside"] == 40.0 + 50.0 + 50.0


def test_cli_check_exit_codes_and_explain():
    run = [sys.executable, "-m", "groupexposure"]
    ok = subprocess.run([*run, "check", DATA, "--entity", "RC-SPIN", "--amount", "1e6"],
                        capture_output=True, text=True, check=False)
    first = ok.stdout.splitlines()[0]  # the name beside the id (#14.3)
    assert ok.returncode == 0 and first.startswith("APPROVED ") and "(RC-SPIN) loan 1,000,000" in first
    no = subprocess.run([*run, "check", DATA, "--entity", "YP-BIO", "--amount", "1", "--json"],
                        capture_output=True, text=True, check=False)
    assert no.returncode == 3 and json.loads(no.stdout)["approved"] is False
    bad = subprocess.run([*run, "check", DATA, "--entity", "YP-BI", "--amount", "1"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "did you mean YP-BIO" in bad.stderr
    assert "Traceback" not in bad.stderr
    ex = subprocess.run([*run, "explain", DATA, "--entity", "ZY-CASH"], capture_output=True,
                        text=True, check=False)
    assert ex.returncode == 0 and "ZY-INTL 38%, ZY-RE 15% = 53% > 50%" in ex.stdout
