"""SPEC §1 and §7: every rule checked, every problem reported at once, nothing lost silently."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import groupexposure as gx
from tests.conftest import make_book, write_files

ENT = ["A", "B", "C"]


def problems(book: gx.Portfolio, policy: str = "basel") -> pd.DataFrame:
    with pytest.raises(gx.ValidationError) as info:
        gx.analyze(book, policy=policy)
    return info.value.problems


def only(frame: pd.DataFrame, code: str) -> pd.Series:
    hit = frame[frame["code"] == code]
    assert len(hit) >= 1, f"no {code} in {frame[['code', 'message']].to_dict('records')}"
    return hit.iloc[0]


def test_every_problem_is_reported_at_once_with_where_and_what():
    book = make_book(["A", "A", ""], ownership=[("A", "Bx", 60.0)],
                     facilities=[{"facility_id": "F1", "obligor_id": "A", "drawn": -1.0},
                                 {"facility_id": "F1", "obligor_id": "Q", "drawn": 1.0}])
    with pytest.raises(gx.ValidationError) as info:
        gx.analyze(book)
    p = info.value.problems
    assert isinstance(info.value, ValueError)
    assert set(p["code"]) >= {"duplicate", "missing_value", "unknown_entity", "out_of_range",
                              "negative_amount"}
    text = str(info.value)
    assert text.splitlines()[0].endswith("problems in the input:")
    assert "entities.csv row 3 (entity_id=): entity_id is required" in text
    assert "ownership.csv row 1 (owner_id=A, owned_id=Bx): share must be a number in (0, 1]; " \
           "got 60 — did you mean 0.6?" in text


def test_duplicates():
    p = problems(make_book(["A", "B", "A"], ownership=[("A", "B", 0.3), ("A", "B", 0.2)],
                           facilities=[{"facility_id": "F", "obligor_id": "A"},
                                       {"facility_id": "F", "obligor_id": "B"}],
                           fx={"USD": 7.0}))
    dup = p[p["code"] == "duplicate"]
    assert set(dup["table"]) == {"entities", "ownership", "facilities"}
    assert "entity_id must be unique; the same value is in rows 1, 3 (first at row 1)" in set(
        dup["message"])
    assert "owner_id and owned_id must be unique" in dup[dup.table == "ownership"].iloc[0]["message"]
    book = make_book(["A"])
    fx = pd.DataFrame({"currency": ["USD", "USD"], "rate": [7.0, 7.1]})
    b2 = gx.Portfolio.from_frames(entities=book.entities, facilities=book.facilities, fx=fx,
                                  capital=book.capital or {})
    assert only(problems(b2), "duplicate")["table"] == "fx"


def test_unknown_entities_suggest_close_ids():
    p = problems(make_book(["ACME01", "BETA"], facilities=[{"obligor_id": "ACME10"}],
                           connections=[("BETA", "ZZZ")]))
    msgs = set(p.loc[p.code == "unknown_entity", "message"])
    assert "obligor_id ACME10 is not in entities.csv — did you mean ACME01?" in msgs
    assert "depends_on_id ZZZ is not in entities.csv" in msgs


def test_self_references():
    p = problems(make_book(ENT, ownership=[("A", "A", 0.5)], connections=[("B", "B")],
                           facilities=[{"obligor_id": "C", "guarantor_id": "C"}]))
    msgs = set(p.loc[p.code == "self_reference", "message"])
    assert "an entity cannot own itself (owner_id = owned_id = A)" in msgs
    assert "a connection must join two different entities; got B on both ends" in msgs
    assert "the guarantor must differ from the obligor; got C as both" in msgs


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("share", 0.0, "share must be a number in (0, 1]; got 0"),
        ("share", 150.0, "share must be a number in (0, 1]; got 150"),
        ("voting", 1.5, "voting must be a number in [0, 1]; got 1.5 — did you mean 0.015?"),
        ("voting", -0.1, "voting must be a number in [0, 1]; got -0.1"),
    ],
)
def test_ownership_ranges(column, value, message):
    own = {"owner_id": "A", "owned_id": "B", "share": 0.3, column: value}
    book = make_book(ENT)
    b = gx.Portfolio.from_frames(entities=book.entities, facilities=book.facilities,
                                 ownership=pd.DataFrame([own]), capital=book.capital or {})
    assert message in set(problems(b)["message"])


def test_shares_and_votes_adding_above_one_list_the_owners():
    p = problems(make_book(ENT, ownership=[("A", "C", 0.7), ("B", "C", 0.6, 0.3)]))
    msgs = set(p.loc[p.code == "sum_above_one", "message"])
    assert "the shares held in C add up to 1.3, above 1 (A 0.7, B 0.6)" in msgs
    # votes: 0.7 (defaults to share) + 0.3 = 1.0 is fine
    assert not any("voting rights" in m for m in msgs)
    p = problems(make_book(ENT, ownership=[("A", "C", 0.4, 0.8), ("B", "C", 0.4, 0.3)]))
    assert "the voting rights held in C add up to 1.1, above 1 (A 0.8, B 0.3)" in set(p["message"])


def test_closed_ownership_cycle_is_an_error_naming_the_cycle():
    p = problems(make_book(ENT, ownership=[("A", "B", 1.0), ("B", "A", 1.0)]))
    assert "(A → B → A)" in only(p, "closed_cycle")["message"]


def test_amounts_ccf_enum_bool_and_numbers():
    fac = [{"obligor_id": "A", "drawn": -5.0},
           {"obligor_id": "A", "undrawn": 10.0, "ccf": 1.2},
           {"obligor_id": "A", "product": "Loan"},
           {"obligor_id": "A", "drawn": "12%"},
           {"obligor_id": "A", "collateral_value": -1.0, "provision": -2.0}]
    p = problems(make_book(ENT, facilities=fac))
    msgs = set(p["message"])
    assert "drawn must be a number >= 0; got -5" in msgs
    assert "ccf must be a number in [0, 1]; got 1.2 — did you mean 0.012?" in msgs
    assert ("product must be one of loan, overdraft, bond, commitment, "
            "commitment_uncond_cancellable, guarantee_issued, standby_lc, performance_bond, "
            "trade_lc, bankers_acceptance, interbank_placement, interbank_deposit, other; "
            "got Loan — did you mean loan?") in msgs
    assert "drawn must be a number >= 0; got 12% — did you mean 0.12?" in msgs
    assert {"collateral_value", "provision"} <= set(p.loc[p.code == "negative_amount", "column"])
    ent = pd.DataFrame({"entity_id": ["A"], "kind": ["company"], "is_gsib": ["maybe"]})
    b = gx.Portfolio.from_frames(entities=ent, facilities=pd.DataFrame(
        {"facility_id": ["F"], "obligor_id": ["A"]}), capital={"tier1": 1.0})
    msgs = set(problems(b)["message"])
    assert "is_gsib must be true or false (also yes/no, 1/0); got maybe" in msgs
    assert any(m.startswith("kind must be one of corporate, individual") for m in msgs)


def test_currencies_need_rates_and_reporting_rate_is_one():
    p = problems(make_book(["A"], facilities=[{"obligor_id": "A", "currency": "JPY"}],
                           fx={"USD": 7.0, "CNY": 2.0}))
    msgs = set(p["message"])
    assert ("currency JPY has no rate in fx.csv; rates are given for CNY, USD "
            "(never treated as 1)") in msgs
    assert "the rate of the reporting currency CNY must be 1; got 2" in msgs


@pytest.mark.parametrize(
    ("capital", "message"),
    [({"tier1": 0}, "tier1: Input should be greater than 0"),
     ({"tier1": -5, "currency": "CNY"}, "tier1: Input should be greater than 0"),
     ({"currency": "CNY"}, "tier1: Field required")],
)
def test_capital_is_checked(capital, message):
    book = make_book(["A"])
    b = gx.Portfolio.from_frames(entities=book.entities, facilities=book.facilities,
                                 capital=capital)
    assert any(m.startswith(message) for m in problems(b)["message"])


def test_missing_and_unreadable_files_and_columns(tmp_path: Path):
    d = write_files(tmp_path / "b", {"entities.csv": "id,name\nA,x\n",
                               "facilities.parquet": "not parquet"})
    with pytest.raises(gx.ValidationError) as info:
        gx.load_portfolio(d) and gx.analyze(gx.load_portfolio(d))
    msgs = set(info.value.problems["message"])
    assert any(m.startswith("ownership.csv (or .parquet/.xlsx) is required;") for m in msgs)
    assert any(m.startswith("cannot read facilities.parquet") for m in msgs)
    assert any(m.startswith("capital.json is required") for m in msgs)
    assert "entities.csv lacks required column entity_id; found: id, name" in msgs
    with pytest.raises(gx.ValidationError, match="is not a directory"):
        gx.analyze(tmp_path / "nowhere")
    d2 = write_files(tmp_path / "c", {"entities.csv": "entity_id\nA\n", "ownership.csv": "owner_id\n",
                                "facilities.csv": "facility_id,obligor_id\n",
                                "capital.json": "[1, 2]"})
    with pytest.raises(gx.ValidationError) as info:
        gx.analyze(d2)
    msgs = set(info.value.problems["message"])
    assert "ownership.csv lacks required columns owned_id, share; found: owner_id" in msgs
    assert any("must hold a JSON object" in m for m in msgs)


def test_numeric_ids_from_spreadsheets_are_warned_and_kept_as_text():
    ent = pd.DataFrame({"entity_id": [7, 8]})
    fac = pd.DataFrame({"facility_id": ["F"], "obligor_id": [7.0]})
    r = gx.analyze(gx.Portfolio.from_frames(entities=ent, facilities=fac, capital={"tier1": 10}))
    assert list(r.entities["entity_id"]) == ["7", "8"]
    w = r.issues[r.issues.code == "numeric_id"]
    assert len(w) == 3 and set(w["severity"]) == {"warning"}
    assert "identifiers should be text" in w.iloc[0]["message"]


def test_message_lists_fifty_then_a_count():
    book = make_book(["A"], facilities=[{"obligor_id": f"X{i}"} for i in range(60)])
    with pytest.raises(gx.ValidationError) as info:
        gx.analyze(book)
    text = str(info.value)
    assert text.splitlines()[0] == "60 problems in the input:"
    assert text.splitlines()[-1] == "  ... and 10 more (see .problems)"
    assert len(info.value.problems) == 60


def test_collect_drops_only_unusable_rows_and_accounts_for_every_row():
    # SPEC §7 (revised): A twice is read as one entity (kept despite the error), B -> C with a share
    # of 7 cannot be read (dropped), F3 with drawn -1 cannot be read (dropped); the rest counts.
    book = make_book(["A", "B", "A", "C"], ownership=[("A", "B", 0.6), ("B", "C", 7.0)],
                     facilities=[{"facility_id": "F1", "obligor_id": "A", "drawn": 10.0},
                                 {"facility_id": "F2", "obligor_id": "B", "drawn": 20.0},
                                 {"facility_id": "F3", "obligor_id": "C", "drawn": -1.0},
                                 {"facility_id": "F4", "obligor_id": "B", "drawn": 5.0,
                                  "guarantor_id": "A"}])
    r = gx.analyze(book, on_error="collect")
    assert set(r.entities["entity_id"]) == {"A", "B", "C"}
    assert list(r.facilities["facility_id"]) == ["F1", "F2", "F4"]
    counts = r.row_counts.set_index("table")
    assert (counts["read"] == counts["used"] + counts["dropped"]).all()
    assert counts.loc["facilities"].tolist() == [4, 3, 1, 0]
    assert counts.loc["entities"].tolist() == [4, 4, 0, 2]
    assert counts.loc["ownership"].tolist() == [2, 1, 1, 0]
    dup = r.issues[(r.issues.code == "duplicate") & (r.issues.table == "entities")]
    assert set(dup["severity"]) == {"warning"}
    assert dup["message"].str.contains("used despite the error: the rows are read as one").all()
    # C's facility and the holding B -> C were left out: C's group (and A's, holding B) understated
    assert set(r.understated_groups["group_id"]) == {"A", "C"}
    assert "figures may be understated for 2 groups: A, C" in r.summary()
    assert "issues: 2 errors (2 rows dropped)" in r.summary()


def test_on_error_must_be_known():
    with pytest.raises(ValueError, match="on_error must be 'raise' or 'collect'; got 'ignore'"):
        gx.analyze(make_book(["A"]), on_error="ignore")  # type: ignore[arg-type]


def test_unused_entity_is_info():
    r = gx.analyze(make_book(["A", "B"], facilities=[{"obligor_id": "A", "drawn": 1.0}]))
    i = r.issues[r.issues.code == "unused_entity"].iloc[0]
    assert i["severity"] == "info" and i["key"] == "entity_id=B"


def test_cli_collect_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from groupexposure.cli import main

    d = write_files(tmp_path / "b", {"entities.csv": "entity_id\nA\n",
                               "ownership.csv": "owner_id,owned_id,share\n",
                               "facilities.csv": "facility_id,obligor_id,drawn\nF1,A,5\nF2,Z,3\n",
                               "capital.json": json.dumps({"tier1": 100})})
    assert main(["analyze", str(d), "--out", str(tmp_path / "o"), "--on-error", "collect"]) == 0
    issues = pd.read_csv(tmp_path / "o" / "issues.csv")
    assert "obligor_id Z is not in entities.csv" in issues["message"].iloc[0]
