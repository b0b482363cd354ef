"""BODS and GLEIF ownership files: reading, merging, declarations (issue #7), on the real files in
tests/data/external (see its README for where each comes from)."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import groupexposure as gx
from groupexposure.cli import main

DATA = Path(__file__).parent / "data" / "external"
BODS = DATA / "bods"
GLEIF = DATA / "gleif"


def _bare_book(entities: pd.DataFrame | None = None) -> gx.Portfolio:
    ent = entities if entities is not None else pd.DataFrame({"entity_id": pd.Series([], dtype=str)})
    return gx.Portfolio.from_frames(
        entities=ent,
        facilities=pd.DataFrame({"facility_id": pd.Series([], dtype=str),
                                 "obligor_id": pd.Series([], dtype=str)}),
        capital={"tier1": 1000.0})


def _analyze(*sources: gx.ExternalOwnership, book: gx.Portfolio | None = None) -> gx.AnalysisResult:
    return gx.analyze(gx.merge_ownership(book or _bare_book(), *sources), on_error="collect")


def _parent(result: gx.AnalysisResult, entity: str) -> str:
    row = result.entities.set_index("entity_id").loc[entity]
    return str(row["ultimate_parent_id"])


def _codes(result: gx.AnalysisResult) -> set[str]:
    return set(result.issues["code"])


# --- BODS --------------------------------------------------------------------------------------

GASGRID, KAASUVERKKO, MINISTRY, STATE = "19f1c5afe9d7", "0199c515a699", "7ff95ba3682c", "05ce06ec97b1"


def test_fi_soe_ministry_owns_all_of_gasgrid_and_the_state_controls_one_group() -> None:
    ext = gx.read_bods(BODS / "bods-package-fi-soe.json")
    # Ministry: 100% of Kaasuverkko, which holds 76.5% of Gasgrid, plus 23.5% directly:
    # I = 1.0 * 0.765 + 0.235 = 1.0 (SPEC §4)
    io_ministry = gx.integrated_ownership(ext.ownership, MINISTRY)
    assert io_ministry[GASGRID] == pytest.approx(1.0, abs=1e-12)
    assert io_ministry[KAASUVERKKO] == pytest.approx(1.0)
    result = _analyze(ext)
    # the State controls the Ministry (otherInfluenceOrControl, no share), which controls the rest
    for entity in (GASGRID, KAASUVERKKO, MINISTRY, STATE):
        assert _parent(result, entity) == STATE
    members = result.members.groupby("group_id")["entity_id"].apply(set)
    assert members[STATE] == {GASGRID, KAASUVERKKO, MINISTRY, STATE}
    assert len(result.groups) == 1
    kinds = result.ownership.set_index(["owner_id", "owned_id"])
    assert bool(kinds.loc[(STATE, MINISTRY), "control"]) and np.isnan(kinds.loc[(STATE, MINISTRY),
                                                                                "share"])
    assert "share unknown (control)" in result.members.set_index("entity_id").at[GASGRID, "path"]
    # the declared indirect 100% of the State cannot be confirmed: its link has no share
    unconfirmed = result.issues[result.issues["code"] == "declared_share_unconfirmed"]
    assert len(unconfirmed) == 1 and STATE in unconfirmed["message"].iloc[0]
    entity_kinds = ext.entities.set_index("entity_id")["kind"]
    assert entity_kinds[STATE] == "sovereign" and entity_kinds[MINISTRY] == "public_sector"


def test_joint_ownership_gives_each_person_half_and_nobody_control() -> None:
    company, arrangement = "31c55e425764", "91b4236a7d89"
    natalie, roberto = "1accb8b18b99", "f040df24d9ec"
    ext = gx.read_bods(BODS / "joint-ownership.json")
    for person in (natalie, roberto):
        # 50% of the arrangement, which holds 100%: 0.5 * 1.0
        assert gx.integrated_ownership(ext.ownership, person)[company] == pytest.approx(0.5)
    result = _analyze(ext)
    assert _parent(result, natalie) == natalie and _parent(result, roberto) == roberto
    assert _parent(result, company) == arrangement
    kinds = ext.entities.set_index("entity_id")["kind"]
    assert kinds[natalie] == "individual" and kinds[arrangement] == "other"


FERMCAT, PATRICK = "ent-93c75c87ab28f889", "per-41c0bb0cef246f7c"


@pytest.mark.parametrize(("as_of", "controller"), [
    ("2019-12-31", None),        # Riyadh and Patrick 50% each (board members: no control)
    ("2022-01-20", None),        # Declan and Patrick 50% each
    ("2022-01-21", PATRICK),     # Patrick 100%, Declan's interest closed that day
    (None, PATRICK),
])
def test_fermcat_control_changes_over_time(as_of: str | None, controller: str | None) -> None:
    result = _analyze(gx.read_bods(BODS / "fermcat.json", as_of=as_of))
    assert _parent(result, FERMCAT) == (controller or FERMCAT)


def test_fermcat_on_a_date_lists_who_held_what() -> None:
    early = gx.read_bods(BODS / "fermcat.json", as_of="2019-12-31")
    assert sorted(early.ownership["share"]) == [0.5, 0.5]
    assert set(early.ownership["owner_id"]) == {PATRICK, "per-5faa4103dee78621"}
    assert (early.ownership["interests"] == "boardMember;shareholding").all()
    later = gx.read_bods(BODS / "fermcat.json", as_of="2021-12-31")
    assert set(later.ownership["owner_id"]) == {PATRICK, "per-e334cc6258e56467"}
    assert "closed_record" in set(later.notes["code"])  # Riyadh's records closed 2021-09-11


def _st(sid: str, rid: str, rtype: str, **details: object) -> dict[str, object]:
    return {"statementId": sid, "statementDate": "2024-01-01", "recordId": rid,
            "recordType": rtype, "recordStatus": "new", "recordDetails": details}


def _company(rid: str) -> dict[str, object]:
    return _st("s-" + rid, rid, "entity", name=rid, entityType={"type": "registeredEntity"})


def _rel(rid: str, subject: str, party: str, *interests: dict[str, object]) -> dict[str, object]:
    return _st("s-" + rid, rid, "relationship", subject=subject, interestedParty=party,
               interests=list(interests))


def _holding(share: dict[str, float], kind: str = "shareholding",
             how: str = "direct") -> dict[str, object]:
    return {"type": kind, "directOrIndirect": how, "share": share}


def test_share_ranges_keep_both_bounds_and_decide_control_on_the_lower() -> None:
    statements = [
        *(_company(c) for c in ("A", "B", "C", "S", "T")),
        # "more than 50% up to 75%": the exclusive minimum passes a 50% threshold
        _rel("r1", "S", "A", _holding({"exclusiveMinimum": 50, "exclusiveMaximum": 75})),
        # "25% to 50%": neither bound passes
        _rel("r2", "T", "B", _holding({"exclusiveMinimum": 25, "maximum": 50})),
        # "25% up to 75%": only the upper bound passes: possible control
        _rel("r3", "T", "C", _holding({"minimum": 25, "maximum": 75})),
    ]
    ext = gx.read_bods(statements)
    links = ext.ownership.set_index("owner_id")
    assert links.at["A", "share"] > 0.5 and links.at["A", "share"] == np.nextafter(0.5, 1)
    assert links.at["A", "share_max"] == 0.75
    assert links.at["C", "share"] == 0.25 and links.at["C", "share_max"] == 0.75
    result = _analyze(ext)
    assert _parent(result, "S") == "A"
    assert _parent(result, "T") == "T"
    possible = result.issues[result.issues["code"] == "possible_control"]
    assert list(possible["key"]) == ["owner_id=C, owned_id=T"]
    assert "between 25% and 75%" in possible["message"].iloc[0]


def test_indirect_interests_are_declarations_checked_against_the_links() -> None:
    statements = [
        *(_company(c) for c in ("A", "B", "C", "D")),
        _rel("r1", "B", "A", _holding({"exact": 60})),
        _rel("r2", "C", "B", _holding({"exact": 50})),
        # A holds 60% * 50% = 30% of C through B; the file says 40%: a mismatch
        _rel("r3", "C", "A", _holding({"exact": 40}, how="indirect")),
        # A controls B (60%), B does not control C (50%): declared indirect control is wrong
        _rel("r4", "C", "A", {"type": "otherInfluenceOrControl", "directOrIndirect": "indirect"}),
        # and a right one: B holds all of D, so A holds 60% * 100% = 60% of D through B
        _rel("r5", "D", "B", _holding({"exact": 100})),
        _rel("r6", "D", "A", _holding({"exact": 60}, how="indirect")),
    ]
    ext = gx.read_bods(statements)
    assert len(ext.ownership) == 3  # indirect interests are not links
    assert sorted(ext.declarations["kind"]) == ["indirect_control", "indirect_share",
                                                "indirect_share"]
    result = _analyze(ext)
    issues = result.issues.set_index("code")
    assert "declared 40%" not in issues.at["declared_share_mismatch", "message"]
    assert "holds 40% of C indirectly; the links give 30%" in issues.at["declared_share_mismatch",
                                                                        "message"]
    assert "A controls C indirectly; the links give A no control of C" in issues.at[
        "declared_control_mismatch", "message"]
    assert (result.issues["code"] == "declared_share_mismatch").sum() == 1  # D's 60% agrees


def test_nomination_declared_control_is_not_in_the_links() -> None:
    result = _analyze(gx.read_bods(BODS / "nomination.json"))
    mismatch = result.issues[result.issues["code"] == "declared_control_mismatch"]
    assert list(mismatch["key"]) == ["entity_id=104AB1984C"]
    assert "101AB1984F" in mismatch["message"].iloc[0]


def test_unknown_and_anonymous_parties_are_kept() -> None:
    levent = gx.read_bods(BODS / "levent.json")
    anon = levent.entities.set_index("entity_id").loc["81337a6e"]
    assert anon["kind"] == "individual" and anon["party_type"] == "anonymousPerson"
    assert "interestedPartyExemptFromDisclosure" in levent.notes["message"].iloc[0]
    assert "81337a6e" in set(levent.ownership["owner_id"])
    listed = gx.read_bods(BODS / "listed-company-exempt-from-disclosure.json")
    pid = "fa402c4818f9:interestedParty"
    assert pid in set(listed.entities["entity_id"])
    assert listed.ownership.iloc[0][["owner_id", "owned_id"]].tolist() == [pid, "4c7ea3bfbe6c"]
    assert "subjectExemptFromDisclosure" in listed.notes["message"].iloc[0]
    # and they reach the analysis as entities of their own
    result = _analyze(listed)
    assert pid in set(result.entities["entity_id"])


def test_a_relationship_naming_an_undescribed_party_keeps_it_with_a_warning() -> None:
    ext = gx.read_bods([_company("A"), _rel("r1", "A", "ghost", _holding({"exact": 30}))])
    assert "ghost" in set(ext.entities["entity_id"])
    note = ext.notes.set_index("code").loc["unknown_party"]
    assert note["severity"] == "warning" and "does not describe" in note["message"]


def test_lei_identifiers_become_the_entity_id() -> None:
    statement = _st("s1", "rec1", "entity", name="Big Bank",
                    identifiers=[{"scheme": "XI-LEI", "id": "529900T8BM49AURSDO55"}])
    ext = gx.read_bods([statement])
    assert ext.entities[["entity_id", "lei", "record_id"]].iloc[0].tolist() == [
        "529900T8BM49AURSDO55", "529900T8BM49AURSDO55", "rec1"]


def test_bods_json_lines_and_refusals(tmp_path: Path) -> None:
    statements = json.loads((BODS / "joint-ownership.json").read_text())
    lines = tmp_path / "joint.jsonl"
    lines.write_text("\n".join(json.dumps(st) for st in statements) + "\n")
    assert len(gx.read_bods(lines).ownership) == len(gx.read_bods(BODS / "joint-ownership.json")
                                                     .ownership) == 3
    old = [{"statementID": "x", "statementType": "ownershipOrControlStatement"}]
    with pytest.raises(ValueError, match=r"1 statements use statementType \(BODS 0.2/0.3\); this "
                       "reader reads BODS 0.4"):
        gx.read_bods(old)
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    with pytest.raises(ValueError, match=r"broken\.json is neither JSON nor JSON Lines"):
        gx.read_bods(broken)
    with pytest.raises(ValueError, match="as_of must be a date written YYYY-MM-DD; got '31/12/2019'"):
        gx.read_bods(BODS / "fermcat.json", as_of="31/12/2019")


# --- GLEIF -------------------------------------------------------------------------------------

CHILD, MIDDLE, TOP = "98450051BS9C610A8T78", "2138002YAB7Z9KO21397", "984500501A1B1045PB30"
FUNDS = ["097900BEJX0000002337", "097900BEJX0000002143", "097900BEJX0000002240",
         "097900BEJX0000002434"]
MANAGER = "097900BHF50000076475"


def test_rr_updates_chain_matches_the_declared_ultimate_parent() -> None:
    ext = gx.read_gleif(GLEIF / "rr-updates-data2.xml")
    links = ext.ownership.set_index(["owner_id", "owned_id"])
    assert bool(links.loc[(MIDDLE, CHILD), "control"]) and bool(links.loc[(TOP, MIDDLE), "control"])
    # 100.00 PERCENTAGE and 1.00 PERCENTAGE both mean the whole
    assert links.loc[(TOP, MIDDLE), "share"] == 1.0
    assert links.loc[("9845002B9874D50A4531", "097900BJGO0000201513"), "share"] == 1.0
    assert np.isnan(links.loc[(MIDDLE, CHILD), "share"])  # no quantifier: unknown, not guessed
    assert "percentage_as_fraction" in set(ext.notes["code"])
    result = _analyze(ext)
    assert _parent(result, CHILD) == TOP and _parent(result, MIDDLE) == TOP
    assert "declared_parent_mismatch" not in _codes(result)
    assert "declaration_conflict" not in _codes(result)
    paths = result.members.set_index("entity_id")["path"]
    assert paths[CHILD].startswith(f"{TOP} →100% (control)→ {MIDDLE}")
    # fund-management links are left out: the funds form no group with their manager
    assert not set(FUNDS) & set(result.members["entity_id"])
    assert (ext.notes["code"] == "fund_relationship").sum() == 4


def test_fund_links_are_read_when_asked() -> None:
    ext = gx.read_gleif(GLEIF / "rr-updates-data2.xml", include_funds=True)
    result = _analyze(ext)
    group = set(result.members.loc[result.members["group_id"] == "549300JB1P61FUTPEZ75",
                                   "entity_id"])
    assert set(FUNDS) <= group and MANAGER in group


def test_the_newer_file_version_drops_a_relationship_and_keeps_the_chain() -> None:
    old = gx.read_gleif(GLEIF / "rr-updates-data2.xml")
    new = gx.read_gleif(GLEIF / "rr-updates-data2-new.xml")
    assert len(old.ownership) == 4 and len(new.ownership) == 3
    assert _parent(_analyze(new), CHILD) == TOP


def test_gleif_csv_inactive_relationships_are_left_out_and_noted() -> None:
    ext = gx.read_gleif(GLEIF / "test-gleif-relationships.csv")
    raw = pd.read_csv(GLEIF / "test-gleif-relationships.csv", dtype=str)
    inactive = raw["Relationship.RelationshipStatus"] == "INACTIVE"
    assert (ext.notes["code"] == "inactive_relationship").sum() == inactive.sum() == 13
    direct = raw["Relationship.RelationshipType"] == "IS_DIRECTLY_CONSOLIDATED_BY"
    branch = raw["Relationship.RelationshipType"] == "IS_INTERNATIONAL_BRANCH_OF"
    assert len(ext.ownership) == (~inactive & (direct | branch)).sum()
    assert len(ext.declarations) == (~inactive & ~direct & ~branch).sum()
    # the branch is joined to its head office, wholly
    b = raw[branch & ~inactive].iloc[0]
    row = ext.ownership.set_index(["owner_id", "owned_id"]).loc[
        (b["Relationship.EndNode.NodeID"], b["Relationship.StartNode.NodeID"])]
    assert row["share"] == 1.0 and bool(row["control"])


def test_gleif_csv_dates_in_epoch_milliseconds_and_iso_both_read() -> None:
    header = ("Relationship.StartNode.NodeID,Relationship.EndNode.NodeID,"
              "Relationship.RelationshipType,Relationship.RelationshipStatus,"
              "Relationship.Period.1.startDate,Relationship.Period.1.endDate,"
              "Relationship.Period.1.periodType\n")
    text = header + ("C1,P1,IS_DIRECTLY_CONSOLIDATED_BY,ACTIVE,1514764800000,,RELATIONSHIP_PERIOD\n"
                     "C2,P2,IS_DIRECTLY_CONSOLIDATED_BY,ACTIVE,2020-01-01T00:00:00.000Z,"
                     "2021-06-30T00:00:00Z,RELATIONSHIP_PERIOD\n")
    ext = gx.read_gleif(io.StringIO(text), as_of="2021-12-31")
    assert list(ext.ownership["owned_id"]) == ["C1"]  # C2's relationship ended 2021-06-30
    assert str(ext.ownership["start_date"].iloc[0]) == "2018-01-01"
    assert "outside_period" in set(ext.notes["code"])
    both = gx.read_gleif(io.StringIO(text), as_of="2019-06-01")
    assert list(both.ownership["owned_id"]) == ["C1"]  # C2's had not begun


def _rr_csv(*rows: str) -> io.StringIO:
    return io.StringIO("Relationship.StartNode.NodeID,Relationship.EndNode.NodeID,"
                       "Relationship.RelationshipType,Relationship.RelationshipStatus\n"
                       + "".join(r + ",ACTIVE\n" for r in rows))


def test_declared_ultimate_parents_that_disagree_are_reported() -> None:
    ext = gx.read_gleif(_rr_csv(
        "S,M,IS_DIRECTLY_CONSOLIDATED_BY", "M,T,IS_DIRECTLY_CONSOLIDATED_BY",
        "S,X,IS_ULTIMATELY_CONSOLIDATED_BY",   # S says X; the chain gives T
        "M,T,IS_ULTIMATELY_CONSOLIDATED_BY",   # M says T: S and M contradict each other
        "Q,M,IS_ULTIMATELY_CONSOLIDATED_BY",   # Q names M, but nothing links them
    ))
    result = _analyze(ext)
    issues = result.issues
    mismatch = issues[issues["code"] == "declared_parent_mismatch"]
    assert sorted(mismatch["key"]) == ["entity_id=Q", "entity_id=S"]
    s_msg = mismatch.set_index("key").at["entity_id=S", "message"]
    assert "declares X the ultimate parent of S; the computed ultimate parent is T" in s_msg
    conflict = issues[issues["code"] == "declaration_conflict"]
    assert list(conflict["key"]) == ["entity_id=S"]
    assert "S declares X its ultimate parent, but its immediate controller M declares T" in \
        conflict["message"].iloc[0]


def test_a_declared_parent_that_is_itself_controlled_is_reported() -> None:
    ext = gx.read_gleif(_rr_csv("S,M,IS_DIRECTLY_CONSOLIDATED_BY", "M,T,IS_DIRECTLY_CONSOLIDATED_BY",
                                "S,M,IS_ULTIMATELY_CONSOLIDATED_BY"))
    msg = _analyze(ext).issues.set_index("code").at["declared_parent_mismatch", "message"]
    assert "M is itself controlled: the chain goes up to T" in msg


def test_reporting_exceptions_and_lei_records() -> None:
    ext = gx.read_gleif([GLEIF / "rr-data.xml", GLEIF / "repex-data.xml"],
                        entities=GLEIF / "test-gleif-entities.csv")
    assert len(ext.exceptions) == 10
    first = ext.exceptions.iloc[0]
    assert first.tolist() == ["001GPB6A9XPE8XJICC14", "DIRECT_ACCOUNTING_CONSOLIDATION_PARENT",
                              "NO_KNOWN_PERSON"]
    assert (ext.notes["code"] == "reporting_exception").sum() == 10
    names = ext.entities.set_index("entity_id")
    assert names.at["001GPB6A9XPE8XJICC14", "kind"] == "fund"  # EntityCategory FUND
    assert names.at["001GPB6A9XPE8XJICC14", "name"].startswith("FIDELITY ADVISOR SERIES I")
    lei = gx.read_gleif(GLEIF / "rr-updates-data2.xml", entities=GLEIF / "lei-updates-data2.xml")
    assert lei.entities["name"].notna().any()


def test_not_a_gleif_file_is_refused_with_its_first_line(tmp_path: Path) -> None:
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a GLEIF file: its first line is 'a,b'"):
        gx.read_gleif(bad)
    with pytest.raises(ValueError, match="holds LEI records; pass it as entities="):
        gx.read_gleif(GLEIF / "test-gleif-entities.csv")
    other = tmp_path / "x.xml"
    other.write_text("<?xml version='1.0'?><Other/>")
    with pytest.raises(ValueError, match="an XML file that is neither GLEIF relationship"):
        gx.read_gleif(other)


# --- merging -----------------------------------------------------------------------------------


def test_merging_matches_the_banks_entities_by_lei_and_adds_the_rest() -> None:
    bank = pd.DataFrame({"entity_id": ["B-MID", "B-OTHER"], "name": ["Middle Ltd", "Other"],
                         "lei": [MIDDLE, None]})
    book = gx.Portfolio.from_frames(
        entities=bank,
        facilities=pd.DataFrame({"facility_id": ["F1", "F2"], "obligor_id": ["B-MID", "B-OTHER"],
                                 "drawn": [80.0, 10.0]}),
        ownership=pd.DataFrame({"owner_id": ["B-OTHER"], "owned_id": ["B-MID"], "share": [0.1]}),
        capital={"tier1": 1000.0})
    ext = gx.read_gleif(GLEIF / "rr-updates-data2.xml")
    # the file says TOP holds 100% of Middle; the bank's table gives B-OTHER 10% more: refused,
    # naming both holders and where the file's row came from
    with pytest.raises(gx.ValidationError) as err:
        gx.analyze(gx.merge_ownership(book, ext))
    assert f"add up to 1.1, above 1 ({TOP} 1, B-OTHER 0.1)" in str(err.value)
    assert "rr-updates-data2.xml record 8" in str(err.value)
    book = dataclasses.replace(book, ownership=book.ownership.iloc[:0])
    merged = gx.merge_ownership(book, ext)
    ids = set(merged.entities["entity_id"])
    assert MIDDLE not in ids and {"B-MID", TOP, CHILD} <= ids
    assert merged.entities.set_index("entity_id").at[TOP, "lei"] == TOP
    result = gx.analyze(merged)
    assert _parent(result, "B-MID") == TOP and _parent(result, CHILD) == TOP
    top = result.groups.set_index("group_id").loc[TOP]
    assert top["exposure"] == pytest.approx(80.0)  # the bank's loan to Middle counts under TOP
    assert "declared_parent_mismatch" not in _codes(result)


def test_a_link_the_bank_already_has_keeps_the_banks_row() -> None:
    book = gx.Portfolio.from_frames(
        entities=pd.DataFrame({"entity_id": ["P", "S"]}),
        ownership=pd.DataFrame({"owner_id": ["P"], "owned_id": ["S"], "share": [0.7]}),
        facilities=pd.DataFrame({"facility_id": ["F1"], "obligor_id": ["S"], "drawn": [1.0]}),
        capital={"tier1": 100.0})
    ext = gx.read_gleif(_rr_csv("S,P,IS_DIRECTLY_CONSOLIDATED_BY"))
    merged = gx.merge_ownership(book, ext)
    assert len(merged.ownership) == 1 and merged.ownership["share"].iloc[0] == 0.7
    note = [p for p in merged.problems if p.code == "link_already_given"]
    assert len(note) == 1 and "the link in" in note[0].message


def test_a_blank_share_is_still_an_error_in_the_banks_own_table() -> None:
    book = gx.Portfolio.from_frames(
        entities=pd.DataFrame({"entity_id": ["P", "S"]}),
        ownership=pd.DataFrame({"owner_id": ["P"], "owned_id": ["S"], "share": [None],
                                "control": [True]}),
        facilities=pd.DataFrame({"facility_id": ["F1"], "obligor_id": ["S"], "drawn": [1.0]}),
        capital={"tier1": 100.0})
    with pytest.raises(gx.ValidationError, match=r"share is required: .*; got an empty cell"):
        gx.analyze(book)


# --- command line ------------------------------------------------------------------------------


def _portfolio_dir(tmp_path: Path, *, with_ownership: bool) -> Path:
    d = tmp_path / "book"
    d.mkdir()
    pd.DataFrame({"entity_id": ["B-MID"], "lei": [MIDDLE]}).to_csv(d / "entities.csv", index=False)
    pd.DataFrame({"facility_id": ["F1"], "obligor_id": ["B-MID"], "drawn": [50.0]}).to_csv(
        d / "facilities.csv", index=False)
    if with_ownership:
        pd.DataFrame(columns=["owner_id", "owned_id", "share"]).to_csv(d / "ownership.csv",
                                                                       index=False)
    (d / "capital.json").write_text(json.dumps({"tier1": 100.0, "currency": "CNY"}))
    return d


def test_cli_analyze_with_a_gleif_file_in_place_of_ownership_csv(tmp_path: Path) -> None:
    d = _portfolio_dir(tmp_path, with_ownership=False)
    out = io.StringIO()
    code = main(["analyze", str(d), "--ownership", str(GLEIF / "rr-updates-data2.xml"),
                 "--out", str(tmp_path / "out")], out=out)
    assert code == 0
    entities = pd.read_csv(tmp_path / "out" / "entities.csv", dtype=str)
    assert entities.set_index("entity_id").at["B-MID", "ultimate_parent_id"] == TOP


def test_cli_analyze_bods_as_of_a_date(tmp_path: Path) -> None:
    d = _portfolio_dir(tmp_path, with_ownership=True)
    for as_of, expected in (("2019-12-31", FERMCAT), ("2022-01-21", PATRICK)):
        out_dir = tmp_path / as_of
        code = main(["analyze", str(d), "--ownership", str(BODS / "fermcat.json"), "--as-of", as_of,
                     "--out", str(out_dir)], out=io.StringIO())
        assert code == 0
        entities = pd.read_csv(out_dir / "entities.csv", dtype=str).set_index("entity_id")
        assert entities.at[FERMCAT, "ultimate_parent_id"] == expected


def test_cli_refuses_a_missing_file_and_a_date_without_a_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = _portfolio_dir(tmp_path, with_ownership=True)
    assert main(["analyze", str(d), "--ownership", str(tmp_path / "nope.json")]) == 2
    assert f"--ownership {tmp_path / 'nope.json'}: no such file" in capsys.readouterr().err
    assert main(["analyze", str(d), "--as-of", "2020-01-01"]) == 2
    assert "--as-of applies to --ownership files" in capsys.readouterr().err
    assert main(["analyze", str(d), "--ownership", str(BODS / "fermcat.json"),
                 "--as-of", "2020-13-01"]) == 2
    assert "as_of must be a date written YYYY-MM-DD; got '2020-13-01'" in capsys.readouterr().err


# --- properties --------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def _forests(draw: st.DrawFn) -> list[int]:
    """parent[i] < i (or -1): a forest of consolidation chains over entities E0..En-1."""
    n = draw(st.integers(2, 25))
    return [-1] + [draw(st.integers(-1, i - 1)) for i in range(1, n)]


def _top(parent: list[int], i: int) -> int:
    while parent[i] >= 0:
        i = parent[i]
    return i


@settings(max_examples=40, deadline=None)
@given(_forests(), st.data())
def test_true_declarations_never_raise_issues_and_a_false_one_always_does(
        parent: list[int], data: st.DataObject) -> None:
    rows = []
    for i, p in enumerate(parent):
        if p >= 0:
            rows += [f"E{i},E{p},IS_DIRECTLY_CONSOLIDATED_BY",
                     f"E{i},E{_top(parent, i)},IS_ULTIMATELY_CONSOLIDATED_BY"]
    if not rows:
        return
    truth = _analyze(gx.read_gleif(_rr_csv(*rows)))
    assert not {"declared_parent_mismatch", "declaration_conflict"} & _codes(truth)
    for i, p in enumerate(parent):
        if p >= 0:
            assert _parent(truth, f"E{i}") == f"E{_top(parent, i)}"
    # the same rows in another order give the same answer
    shuffled = data.draw(st.permutations(rows))
    again = _analyze(gx.read_gleif(_rr_csv(*shuffled)))
    pd.testing.assert_frame_equal(truth.entities, again.entities)
    # declare a wrong ultimate parent (an entity that does not control the child): one mismatch
    child = data.draw(st.sampled_from([i for i, p in enumerate(parent) if p >= 0]))
    wrong = [f"E{child},ELSEWHERE,IS_ULTIMATELY_CONSOLIDATED_BY" if r.startswith(
        f"E{child},") and r.endswith("ULTIMATELY_CONSOLIDATED_BY") else r for r in rows]
    bad = _analyze(gx.read_gleif(_rr_csv(*wrong))).issues
    assert list(bad.loc[bad["code"] == "declared_parent_mismatch", "key"]) == [f"entity_id=E{child}"]
