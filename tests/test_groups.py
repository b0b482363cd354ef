"""SPEC §3: overlapping and partition groups, merging, basis and paths."""

from __future__ import annotations

import groupexposure as gx
from tests.conftest import make_book, row


def members(result: gx.AnalysisResult, gid: str) -> set[str]:
    return set(result.members.query("group_id == @gid").entity_id)


def test_client_dependent_on_two_unrelated_groups_is_in_both():
    # A controls A1; B controls B1; D depends on A1 and on B1. Overlapping: D (and what D controls,
    # D1) joins both groups; D's own group is {D, D1}.
    book = make_book(["A", "A1", "B", "B1", "D", "D1"],
                     ownership=[("A", "A1", 1.0), ("B", "B1", 1.0), ("D", "D1", 0.7)],
                     connections=[("D", "A1"), ("D", "B1")])
    r = gx.analyze(book)
    assert members(r, "A") == {"A", "A1", "D", "D1"}
    assert members(r, "B") == {"B", "B1", "D", "D1"}
    assert members(r, "D") == {"D", "D1"}
    d_in_a = r.members.query("group_id == 'A' and entity_id == 'D'").iloc[0]
    assert d_in_a["basis"] == "dependence"
    assert d_in_a["path"] == "A1 ←economic_dependence— D"
    d1_in_a = r.members.query("group_id == 'A' and entity_id == 'D1'").iloc[0]
    assert d1_in_a["path"] == "A1 ←economic_dependence— D; D →70%→ D1"
    assert row(r.entities, "entity_id", "D")["groups"] == "A;B;D"


def test_dependence_does_not_pull_in_the_dependents_parent():
    # D depends on A; D is controlled by P. A's group gets C(D) = {D}, not P.
    r = gx.analyze(make_book(["A", "D", "P"], ownership=[("P", "D", 0.9)],
                             connections=[("D", "A")]))
    assert members(r, "A") == {"A", "D"}
    assert members(r, "P") == {"P", "D"}


def test_dependence_is_transitive_until_nothing_changes():
    # C depends on B, B depends on A: A's group {A, B, C}; B's group {B, C}; C's {C}.
    r = gx.analyze(make_book(["A", "B", "C"], connections=[("B", "A"), ("C", "B")]))
    assert members(r, "A") == {"A", "B", "C"}
    assert members(r, "B") == {"B", "C"}
    assert members(r, "C") == {"C"}


def test_mutual_dependence_merges_identical_groups():
    # A and B depend on each other: both groups are {A, B} and become one group with id A.
    r = gx.analyze(make_book(["A", "B", "C"], connections=[("A", "B", "guarantee", True)]))
    assert set(r.groups.group_id) == {"A", "C"}
    assert members(r, "A") == {"A", "B"}
    assert row(r.groups, "group_id", "A")["merged_roots"] == "B"
    assert row(r.groups, "group_id", "A")["n_members"] == 2


def test_standalone_client_has_a_group_of_one():
    r = gx.analyze(make_book(["A"], facilities=[{"obligor_id": "A", "drawn": 5.0}]))
    g = row(r.groups, "group_id", "A")
    assert g["n_members"] == 1 and g["root_id"] == "A"


def test_partition_is_connected_components():
    # Same data as the two-groups test; partition puts A, B, D trees into one group with id A.
    book = make_book(["A", "A1", "B", "B1", "D", "D1", "Z"],
                     ownership=[("A", "A1", 1.0), ("B", "B1", 1.0), ("D", "D1", 0.7)],
                     connections=[("D", "A1"), ("D", "B1")])
    r = gx.analyze(book, grouping="partition")
    assert set(r.groups.group_id) == {"A", "Z"}
    assert members(r, "A") == {"A", "A1", "B", "B1", "D", "D1"}
    assert r.members.entity_id.is_unique
    basis = dict(zip(r.members.entity_id, r.members.basis, strict=True))
    assert basis["A1"] == "control" and basis["B"] == "dependence" and basis["D1"] == "dependence"


def test_minority_holding_links_nothing_in_partition():
    # A holds 30% of B: no control, no connection: two groups.
    r = gx.analyze(make_book(["A", "B"], ownership=[("A", "B", 0.3)]), grouping="partition")
    assert set(r.groups.group_id) == {"A", "B"}


def test_unknown_grouping_is_an_error():
    import pytest

    with pytest.raises(ValueError, match="grouping must be 'overlapping' or 'partition'; got 'x'"):
        gx.analyze(make_book(["A"]), grouping="x")  # type: ignore[arg-type]


def test_partition_joins_both_trees_of_an_entity_with_two_controllers():
    # X and Y both hold control flags over S (SPEC §2.6): S belongs to both control trees, so the
    # partition puts X, Y and S (and T below S) into one group, id X.
    r = gx.analyze(make_book(["S", "T", "X", "Y"], ownership=[
        ("X", "S", 0.1, 0.1, True), ("Y", "S", 0.1, 0.1, True), ("S", "T", 0.9)]),
        grouping="partition")
    assert set(r.groups.group_id) == {"X"}
    assert members(r, "X") == {"S", "T", "X", "Y"}
