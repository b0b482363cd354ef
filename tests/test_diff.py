"""gx.diff on two hand-made books whose changes are worked out by hand (SPEC §10)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import groupexposure as gx
from groupexposure.ledger.diff import Diff

from .conftest import make_book

SRC = str(Path(gx.__file__).resolve().parents[1])

# Tier 1 1000; basel: groups held to 25% (warning from 20%), large exposures from 10% = 100 (SPEC §5).
#   old: P {P, A, B} 100 + 80 + 30 = 210 (warning, large); Q {Q, R} 200 + 10 = 210 (warning, large);
#        S {S} 5; U {U, V} 80 + 30 = 110 (large); X {X} 300 (breach, large); Y {Y} 60.
#   new: B sold by P to Q; S has left the book; U sold V; X bought Y; W is a new client:
#        P {P, A} 180 (ok, large); Q {Q, R, B} 240 (warning, large); U {U} 80; V {V} 30;
#        X {X, Y} 360 (breach, large); W {W} 150 (large).
AMOUNTS = {"P": 100, "A": 80, "B": 30, "Q": 200, "R": 10, "S": 5, "U": 80, "V": 30, "X": 300,
           "Y": 60, "W": 150}


def _book(entities: list[str], ownership: list[tuple[str, str, float]]) -> gx.Portfolio:
    return make_book(entities, ownership=ownership,
                     facilities=[{"obligor_id": e, "product": "loan", "drawn": float(AMOUNTS[e])}
                                 for e in entities])


OLD = _book(["P", "A", "B", "Q", "R", "S", "U", "V", "X", "Y"],
            [("P", "A", 0.6), ("P", "B", 0.6), ("Q", "R", 0.7), ("U", "V", 0.9)])
NEW = _book(["P", "A", "B", "Q", "R", "U", "V", "X", "Y", "W"],
            [("P", "A", 0.6), ("Q", "B", 0.6), ("Q", "R", 0.7), ("U", "V", 0.2), ("X", "Y", 1.0)])


@pytest.fixture(scope="module")
def d() -> Diff:
    return gx.diff(gx.analyze(OLD), gx.analyze(NEW))


def test_groups_are_matched_by_members(d: Diff) -> None:
    changes = d.changes
    assert changes.values.tolist() == [
        ["appeared", "", "W"],
        ["continued", "P", "P"],
        ["continued", "Q", "Q"],
        ["disappeared", "S", ""],
        ["merged", "X;Y", "X"],
        ["split", "U", "U;V"],
    ]


def test_members_joined_and_left_with_their_basis(d: Diff) -> None:
    m = d.members
    assert m[["change", "group_id", "entity_id", "movement", "basis"]].values.tolist() == [
        ["continued", "P", "B", "left", "control"],
        ["continued", "Q", "B", "joined", "control"],
    ]
    assert m["path"].str.contains("Q").iloc[1]


def test_exposure_ratio_status_and_large_exposures(d: Diff) -> None:
    g = d.groups.set_index(["old_group_id", "new_group_id"])
    p = g.loc[("P", "P")]
    assert (p["exposure_old"], p["exposure_new"], p["exposure_change"]) == (210.0, 180.0, -30.0)
    assert p["ratio_change"] == pytest.approx(-0.03)
    assert g.loc[("Y", "X"), "exposure_change"] == 300.0 and g.loc[("Y", "X"), "change"] == "merged"
    status = d.status
    assert status.values.tolist() == [["P", "P", "warning", "ok"], ["Y", "X", "ok", "breach"]]
    large = d.large
    assert large.values.tolist() == [["W", "began", 150.0], ["U", "ended", 110.0]]


def test_diff_of_a_book_with_itself_finds_nothing() -> None:
    r = gx.analyze(gx.datasets.ningxia())
    same = gx.diff(r, r)
    assert set(same.changes["change"]) == {"continued"}
    assert same.members.empty and same.status.empty and same.large.empty
    assert (same.groups["exposure_change"] == 0).all()


def test_diff_of_snapshots_on_the_command_line(tmp_path: Path) -> None:
    old = gx.analyze(OLD).save(tmp_path / "old")
    new = gx.analyze(NEW).save(tmp_path / "new")
    pd.testing.assert_frame_equal(gx.diff(gx.open_snapshot(old), gx.open_snapshot(new)).groups,
                                  gx.diff(gx.analyze(OLD), gx.analyze(NEW)).groups)
    out = subprocess.run([sys.executable, "-m", "groupexposure", "diff", str(old), str(new),
                          "--out", str(tmp_path / "d")], capture_output=True, text=True,
                         env={"PYTHONPATH": SRC}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert ("groups: 2 continued, 0 renamed, 1 merged, 1 split, 0 regrouped, 1 appeared, "
            "1 disappeared") in out.stdout
    assert "members: 1 joined, 1 left" in out.stdout
    assert "large exposures: 1 began, 1 ended" in out.stdout
    assert "  P: warning -> ok" in out.stdout
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [
        "diff_changes.csv", "diff_groups.csv", "diff_large.csv", "diff_members.csv",
        "diff_status.csv"]
