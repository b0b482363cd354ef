"""Snapshots (SPEC §10): saved, opened in another process, the same decisions, refused when damaged."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groupexposure as gx
from groupexposure.ledger.journal import JournalError
from groupexposure.ledger.store import SnapshotError

from .strategies import portfolios

SRC = str(Path(gx.__file__).resolve().parents[1])


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "groupexposure", *args], capture_output=True,
                          text=True, env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"}, cwd=cwd,
                          timeout=120)


@pytest.fixture(scope="module")
def ningxia() -> gx.AnalysisResult:
    return gx.analyze(gx.datasets.ningxia())


@pytest.fixture
def snap_path(ningxia: gx.AnalysisResult, tmp_path: Path) -> Path:
    return ningxia.save(tmp_path / "snap")


def test_snapshot_gives_the_same_decisions_as_the_result(ningxia: gx.AnalysisResult,
                                                         snap_path: Path) -> None:
    snap = gx.open_snapshot(snap_path)
    guarantor = "YP-BIO"
    for entity in ningxia.entities["entity_id"]:
        for kwargs in ({}, {"collateral_value": 2e7}, {"product": "commitment"}, {"undrawn": 5e7},
                       {"product": "performance_bond"}):
            assert snap.check(entity, 8e7, **kwargs) == ningxia.check(entity, 8e7, **kwargs)
        for g in (guarantor, "MOF"):
            if entity != g:
                kw = {"guarantor_id": g, "guaranteed_amount": 3e7}
                assert snap.check(entity, 8e7, **kw) == ningxia.check(entity, 8e7, **kw)
    frame = pd.DataFrame({"entity_id": ningxia.entities["entity_id"], "amount": 1e8})
    pd.testing.assert_frame_equal(snap.check_many(frame), ningxia.check_many(frame),
                                  check_exact=True)


def test_snapshot_records_what_produced_it(ningxia: gx.AnalysisResult, snap_path: Path) -> None:
    snap = gx.open_snapshot(snap_path)
    m = json.loads((snap_path / "manifest.json").read_text())
    assert snap.as_of == "2012-06-30" and snap.grouping == "overlapping"
    assert snap.policy == ningxia.policy and snap.capital == ningxia.capital
    assert m["library_version"] == gx.__version__ and len(m["input_sha256"]) == 64
    for name in ("groups", "entities", "members", "issues"):
        pd.testing.assert_frame_equal(getattr(snap, name), getattr(ningxia, name),
                                      check_dtype=False)
    # the same inputs in another row order: the same content hash (SPEC §7: order never matters)
    book = gx.datasets.ningxia()
    shuffled = gx.Portfolio.from_frames(
        entities=book.entities.iloc[::-1], ownership=book.ownership.iloc[::-1],
        connections=book.connections, facilities=book.facilities.iloc[::-1], fx=book.fx,
        capital=book.capital or {})
    other = gx.analyze(shuffled).save(snap_path.parent / "other")
    assert json.loads((other / "manifest.json").read_text())["input_sha256"] == m["input_sha256"]


def test_save_refuses_a_directory_that_is_not_empty(ningxia: gx.AnalysisResult,
                                                   snap_path: Path) -> None:
    with pytest.raises(SnapshotError, match="already exists and is not empty"):
        ningxia.save(snap_path)


def test_unknown_entity_suggests_close_ids_and_matches_by_name(snap_path: Path) -> None:
    snap = gx.open_snapshot(snap_path)
    with pytest.raises(ValueError, match=r"unknown entity 'RC-SPIx': not in entities.csv; "
                                         r"did you mean RC-SPIN"):
        snap.check("RC-SPIx", 1e6)
    name = snap.entities.set_index("entity_id").loc["RC-SPIN", "name"]
    with pytest.raises(ValueError, match=re.escape(f"did you mean RC-SPIN (named {name})?")):
        snap.check(name, 1e6)
    with pytest.raises(ValueError, match="unknown entity 'NOPE'"):
        snap.reserve("RC-SPIN", 1e6, guarantor_id="NOPE", by="u")
    assert snap.reservations.empty  # a refused proposal is not a decision: nothing journaled


def test_bad_proposals_get_the_errors_of_check(ningxia: gx.AnalysisResult, snap_path: Path) -> None:
    snap = gx.open_snapshot(snap_path)
    for bad in ({"amount": -1.0}, {"product": "mortgage"}, {"currency": "XYZ"}):
        args = {"amount": 1e6, **bad}
        with pytest.raises(ValueError) as want:
            ningxia.check("RC-SPIN", **args)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=None) as got:
            snap.reserve("RC-SPIN", by="u", **args)  # type: ignore[arg-type]
        assert str(got.value) == str(want.value)
    with pytest.raises(ValueError, match="by must name the user"):
        snap.reserve("RC-SPIN", 1e6, by=" ")


def _flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def test_damaged_snapshots_are_refused(ningxia: gx.AnalysisResult, tmp_path: Path) -> None:
    p = ningxia.save(tmp_path / "a")
    _flip(p / "index" / "own_net.npy", -3)  # one byte of one entity's exposure
    snap = gx.open_snapshot(p)
    with pytest.raises(SnapshotError, match=r"own_net.npy is damaged \(block 0 does not match"):
        for e in ningxia.entities["entity_id"]:
            snap.check(e, 1e6)
    p = ningxia.save(tmp_path / "b")
    (p / "groups.parquet").write_bytes((p / "groups.parquet").read_bytes()[:-10])
    with pytest.raises(SnapshotError, match=r"groups\.parquet is missing or has another size"):
        gx.open_snapshot(p)
    p = ningxia.save(tmp_path / "c")
    _flip(p / "members.parquet", 100)
    with pytest.raises(SnapshotError, match=r"members\.parquet does not match its hash"):
        _ = gx.open_snapshot(p).members
    p = ningxia.save(tmp_path / "d")
    (p / "manifest.json").write_text("{not json")
    with pytest.raises(SnapshotError, match=r"manifest\.json is not valid JSON"):
        gx.open_snapshot(p)
    with pytest.raises(SnapshotError, match=r"is not a snapshot: no manifest\.json"):
        gx.open_snapshot(tmp_path)
    p = ningxia.save(tmp_path / "e")
    (p / "journal.sqlite").unlink()
    with pytest.raises(SnapshotError, match=r"journal\.sqlite is missing"):
        gx.open_snapshot(p)


def test_another_version_is_refused(ningxia: gx.AnalysisResult, tmp_path: Path) -> None:
    p = ningxia.save(tmp_path / "v")
    m = json.loads((p / "manifest.json").read_text())
    m["library_version"] = "0.0.9"
    (p / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(SnapshotError, match=r"written by groupexposure 0.0.9 \(snapshot format 1\)"
                                            r"; this is groupexposure " + gx.__version__):
        gx.open_snapshot(p)
    m["library_version"], m["format"] = gx.__version__, 99
    (p / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(SnapshotError, match="format 99"):
        gx.open_snapshot(p)


def test_journal_of_another_snapshot_is_refused(ningxia: gx.AnalysisResult, tmp_path: Path) -> None:
    a, b = ningxia.save(tmp_path / "a"), ningxia.save(tmp_path / "b")
    (a / "journal.sqlite").write_bytes((b / "journal.sqlite").read_bytes())
    with pytest.raises(JournalError, match="belongs to snapshot"):
        gx.open_snapshot(a)


def test_reservation_counts_as_the_facility_added_to_the_book(tmp_path: Path) -> None:
    """A snapshot with an open reservation decides as an analysis of the book with that facility."""
    book = gx.datasets.ningxia()
    snap = gx.open_snapshot(gx.analyze(book).save(tmp_path / "s"))
    r = snap.reserve("RC-SPIN", 1e8, by="u", reference="NEW-1", guarantor_id="MOF",
                     guaranteed_amount=4e7, collateral_value=1e7)
    assert r.approved and r.reservation_id
    fac = pd.concat([book.facilities, pd.DataFrame([{
        "facility_id": "NEW-1", "obligor_id": "RC-SPIN", "product": "loan", "drawn": 1e8,
        "undrawn": 0.0, "currency": "CNY", "guarantor_id": "MOF",
        "guaranteed_amount": 4e7, "collateral_value": 1e7}])], ignore_index=True)
    after = gx.analyze(gx.Portfolio.from_frames(
        entities=book.entities, ownership=book.ownership, connections=book.connections,
        facilities=fac, fx=book.fx, capital=book.capital or {}))
    for entity in after.entities["entity_id"]:
        a, b = snap.check(entity, 5e7), after.check(entity, 5e7)
        assert a.approved == b.approved and a.rules == b.rules
        assert np.isclose(a.max_amount, b.max_amount, rtol=1e-12)


def test_a_check_in_a_fresh_process_stays_lean(snap_path: Path) -> None:
    code = (
        "import sys\n"
        "from groupexposure.cli import main\n"
        f"rc = main(['check', '--snapshot', {str(snap_path)!r}, '--entity', 'RC-SPIN', "
        "'--amount', '1e8', '--json'])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'openpyxl', "
        "'networkx', 'fastapi', 'starlette', 'uvicorn', 'scipy', 'pyspark'})\n"
        "loaded = [m for m in ('groupexposure.analysis', 'groupexposure.report.excel') "
        "if m in sys.modules]\n"
        "print('HEAVY', heavy, loaded, rc, file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": SRC}, timeout=120)
    assert "HEAVY [] [] 0" in out.stderr, out.stderr
    assert json.loads(out.stdout)["approved"] is True


def cli_in_process(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from groupexposure.cli import main

    buf = io.StringIO()
    rc = main(list(args), out=buf)
    return rc, buf.getvalue(), capsys.readouterr().err


def test_cli_analyze_save_then_check_reserve_release(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    snap = tmp_path / "snap"
    out = run_cli("analyze", str(gx.datasets.ningxia_path()), "--out", str(tmp_path / "out"),
                  "--report", "never", "--save", str(snap))
    assert out.returncode == 0 and "saved the snapshot" in out.stdout, out.stderr
    out = run_cli("reserve", "--snapshot", str(snap), "--entity", "RC-SPIN", "--amount", "3e8",
                  "--reference", "LN-1", "--by", "wang.li", "--json")
    rid = json.loads(out.stdout)["reservation_id"]
    assert out.returncode == 0 and rid
    out = run_cli("check", "--snapshot", str(snap), "--entity", "RC-SPIN", "--amount", "2e8")
    assert out.returncode == 3 and out.stdout.startswith("DECLINED")  # the reservation counts

    def cli(*args: str) -> tuple[int, str, str]:
        return cli_in_process(*args, capsys=capsys)

    rc, text, _ = cli("reserve", "--snapshot", str(snap), "--entity", "RC-SPIN", "--amount", "3e8",
                      "--reference", "LN-2", "--by", "wang.li")
    assert rc == 3 and text.startswith("DECLINED")
    rc, text, _ = cli("release", "--snapshot", str(snap), "--reservation", rid, "--by", "wang.li")
    assert rc == 0 and text.startswith(f"released {rid}")
    rc, _, err = cli("release", "--snapshot", str(snap), "--reservation", rid, "--by", "wang.li")
    assert rc == 2 and "is released, not open" in err
    rc, text, _ = cli("check", "--snapshot", str(snap), "--entity", "RC-SPIN", "--amount", "3e8",
                      "--json")
    assert rc == 0 and json.loads(text)["max_amount"] == 414e6
    states = gx.open_snapshot(snap).reservations[["reference", "state", "reason"]]
    assert states.values.tolist() == [["LN-1", "released", "within_limits"],
                                      ["LN-2", "declined", "would_breach"]]
    props = tmp_path / "p.csv"
    props.write_text("entity_id,amount,product\nRC-SPIN,3e8,loan\nYP-BIO,1e6,\n")
    rc, text, err = cli("check", "--snapshot", str(snap), "--proposals", str(props))
    assert rc == 3, err  # YP-BIO's group is in breach already
    judged = pd.read_csv(io.StringIO(text))
    assert judged["approved"].tolist() == [True, False]
    rc, text, _ = cli("check", str(gx.datasets.ningxia_path()), "--proposals", str(props))
    assert rc == 3 and pd.read_csv(io.StringIO(text)).equals(judged)
    rc, _, err = cli("check", "--entity", "RC-SPIN", "--amount", "1")
    assert rc == 2 and "check needs DATA_DIR or --snapshot SNAP" in err
    rc, _, err = cli("check", "--snapshot", str(snap), "--entity", "RC-SPIN")
    assert rc == 2 and "check needs --entity and --amount" in err
    rc, _, err = cli("check", "--snapshot", str(tmp_path), "--entity", "RC-SPIN", "--amount", "1")
    assert rc == 2 and "is not a snapshot" in err and "Traceback" not in err


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(book=portfolios(), policy=st.sampled_from(["basel", "eu_crr", "cn_cbirc_2018",
                                                  "cn_group_credit"]),
       grouping=st.sampled_from(["overlapping", "partition"]),
       amount=st.floats(0.0, 2000.0), reserve=st.floats(0.0, 300.0))
def test_snapshot_decides_as_the_whole_book_on_any_book(book: gx.Portfolio, policy: str,
                                                        grouping: str, amount: float,
                                                        reserve: float) -> None:
    """The light result around an entity (its groups' members) gives the book's decision."""
    result = gx.analyze(book, policy=policy, grouping=grouping)
    with tempfile.TemporaryDirectory() as d:
        snap = gx.open_snapshot(result.save(Path(d) / "s"))
        ids = result.entities["entity_id"].tolist()
        for e in ids:
            # to_json: NaN (a rule that applies only before) compares equal to itself
            assert snap.check(e, amount).to_json() == result.check(e, amount).to_json()
        # one reservation counts as the facility added to the book would
        r = snap.reserve(ids[0], reserve, by="p", reference="NEW")
        if r.approved:
            fac = pd.concat([book.facilities, pd.DataFrame([{
                "facility_id": "NEW", "obligor_id": ids[0], "product": "loan",
                "drawn": reserve, "undrawn": 0.0}])], ignore_index=True)
            after = gx.analyze(gx.Portfolio.from_frames(
                entities=book.entities, ownership=book.ownership, connections=book.connections,
                facilities=fac, fx=book.fx, capital=book.capital or {}), policy=policy,
                grouping=grouping)
            for e in ids:
                a, b = snap.check(e, amount), after.check(e, amount)
                assert a.approved == b.approved
                assert np.isclose(a.max_amount, b.max_amount, rtol=1e-9, atol=1e-6) or (
                    np.isinf(a.max_amount) and np.isinf(b.max_amount))


def test_explain_and_group_from_the_saved_tables(ningxia: gx.AnalysisResult,
                                                 snap_path: Path) -> None:
    snap = gx.open_snapshot(snap_path)
    e = snap.explain("RC-SPIN")
    assert e["entity"]["entity_id"].tolist() == ["RC-SPIN"]
    want = ningxia.members[ningxia.members["entity_id"] == "RC-SPIN"]
    assert e["memberships"][["group_id", "basis", "path"]].values.tolist() == want[
        ["group_id", "basis", "path"]].values.tolist()
    assert set(e["groups"]["group_id"]) == set(want["group_id"])
    g = snap.group("RC-GRP")
    assert len(g["members"]) == int(g["group"]["n_members"].iloc[0])
    with pytest.raises(ValueError, match=r"unknown entity 'RC-SPIx'.*did you mean RC-SPIN"):
        snap.explain("RC-SPIx")
    with pytest.raises(ValueError, match="unknown group 'NOPE' in snapshot"):
        snap.group("NOPE")
