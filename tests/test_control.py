"""SPEC §2: direct control, aggregated control as a fixed point, immediate controller, ultimate
parent, control cycles and multiple controllers. Every expected value is worked out by hand."""

from __future__ import annotations

import pandas as pd

import groupexposure as gx
from tests.conftest import make_book, row


def ent(result: gx.AnalysisResult, eid: str) -> dict[str, object]:
    return dict(row(result.entities, "entity_id", eid))


def test_aggregated_control_example_of_spec():
    # §2.2: P holds 60% of T; P 30% and T 25% of S. P controls T directly (60% > 50%) and S by
    # aggregation (30% + 25% = 55% > 50%); T alone (25%) does not control S.
    r = gx.analyze(make_book(["P", "S", "T"], ownership=[("P", "T", 0.6), ("P", "S", 0.3),
                                                         ("T", "S", 0.25)]))
    assert ent(r, "T")["immediate_controller_id"] == "P"
    assert ent(r, "S")["immediate_controller_id"] == "P"
    assert {ent(r, x)["ultimate_parent_id"] for x in "PST"} == {"P"}
    members = r.members[r.members.group_id == "P"]
    assert sorted(members.entity_id) == ["P", "S", "T"]
    assert set(r.groups.group_id) == {"P"}  # T and S are not roots
    path = row(members, "entity_id", "S")["path"]
    assert path == "P →60%→ T →55% (with P)→ S"


def test_lowest_controller_is_immediate():
    # §2.3: if T held 55% of S, T is S's immediate controller and P controls S through T.
    r = gx.analyze(make_book(["P", "S", "T"], ownership=[("P", "T", 0.6), ("T", "S", 0.55)]))
    assert ent(r, "S")["immediate_controller_id"] == "T"
    assert ent(r, "S")["ultimate_parent_id"] == "P"
    assert ent(r, "T")["immediate_controller_id"] == "P"


def test_exactly_half_is_not_control_and_flag_is():
    # §2.1: control needs votes strictly above 50%, or the control flag.
    r = gx.analyze(make_book(["A", "B", "C"], ownership=[("A", "B", 0.5), ("A", "C", 0.1, 0.1,
                                                                                 True)]))
    assert pd.isna(ent(r, "B")["immediate_controller_id"])
    assert ent(r, "B")["ultimate_parent_id"] == "B"
    assert ent(r, "C")["immediate_controller_id"] == "A"


def test_voting_decides_not_share():
    # 40% of the shares with 60% of the votes gives control; 60% of shares with 40% votes does not.
    r = gx.analyze(make_book(["A", "B", "C"], ownership=[("A", "B", 0.4, 0.6), ("A", "C", 0.6, 0.4)]))
    assert ent(r, "B")["immediate_controller_id"] == "A"
    assert pd.isna(ent(r, "C")["immediate_controller_id"])


def test_aggregation_needs_a_fixed_point():
    # P 60% of A. A 30% of B, P 25% of B -> P controls B (55%). B 30% of C, A 26% of C -> P controls
    # C (56%), found only after B joined C(P). A controls neither B nor C on its own.
    r = gx.analyze(make_book(["A", "B", "C", "P"], ownership=[
        ("P", "A", 0.6), ("A", "B", 0.3), ("P", "B", 0.25), ("B", "C", 0.3), ("A", "C", 0.26)]))
    assert ent(r, "C")["ultimate_parent_id"] == "P"
    assert ent(r, "C")["immediate_controller_id"] == "P"
    assert ent(r, "B")["immediate_controller_id"] == "P"
    assert set(r.members.query("group_id == 'P'").entity_id) == {"A", "B", "C", "P"}


def test_transitive_control_and_chain_net():
    # §2.5 and §4: chain_net(x) sums own_net over C(x). A→B 60%, B→C 70%; loans 10, 20, 40.
    r = gx.analyze(make_book(["A", "B", "C"], ownership=[("A", "B", 0.6), ("B", "C", 0.7)],
                             facilities=[{"obligor_id": "A", "drawn": 10.0},
                                         {"obligor_id": "B", "drawn": 20.0},
                                         {"obligor_id": "C", "drawn": 40.0}]))
    assert ent(r, "A")["chain_net"] == 70.0
    assert ent(r, "B")["chain_net"] == 60.0
    assert ent(r, "C")["chain_net"] == 40.0
    assert ent(r, "C")["ultimate_parent_id"] == "A"


def test_control_cycle_is_one_unit_rooted_at_smallest_id():
    # §2.6: A 60% of B and B 60% of A: a cycle; its root is A, B's immediate controller is A.
    r = gx.analyze(make_book(["A", "B", "C"], ownership=[("A", "B", 0.6), ("B", "A", 0.6),
                                                         ("B", "C", 0.7)]))
    cyc = r.issues[r.issues.code == "control_cycle"]
    assert len(cyc) == 1 and "A → B → A" in cyc.iloc[0]["message"]
    assert ent(r, "A")["ultimate_parent_id"] == "A"
    assert pd.isna(ent(r, "A")["immediate_controller_id"])
    assert ent(r, "B")["immediate_controller_id"] == "A"
    assert ent(r, "C")["ultimate_parent_id"] == "A"
    assert set(r.groups.group_id) == {"A"}
    assert set(r.members.entity_id) == {"A", "B", "C"}


def test_multiple_controllers_reported_and_in_both_trees():
    # §2.6: X and Y both hold control flags over S; neither controls the other.
    r = gx.analyze(make_book(["S", "T", "X", "Y"], ownership=[
        ("X", "S", 0.1, 0.1, True), ("Y", "S", 0.1, 0.1, True), ("S", "T", 0.9)]))
    issue = r.issues[r.issues.code == "multiple_controllers"]
    assert len(issue) == 1 and issue.iloc[0]["key"] == "entity_id=S"
    for root in ("X", "Y"):
        assert set(r.members.query("group_id == @root").entity_id) == {root, "S", "T"}
    # §8: several ultimate parents or immediate controllers -> the smallest id
    assert ent(r, "S")["immediate_controller_id"] == "X"
    assert ent(r, "T")["ultimate_parent_id"] == "X"
    assert ent(r, "T")["groups"] == "X;Y"


def test_lower_of_two_nested_controllers_is_immediate():
    # P holds 51% of S directly and T (controlled by P) has a control flag over S: both control S,
    # T is the lower, so S's immediate controller is T, and there is no multiple-controller issue.
    r = gx.analyze(make_book(["P", "S", "T"], ownership=[
        ("P", "T", 0.8), ("P", "S", 0.51), ("T", "S", 0.05, 0.05, True)]))
    assert ent(r, "S")["immediate_controller_id"] == "T"
    assert not (r.issues.code == "multiple_controllers").any()
