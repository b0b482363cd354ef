"""The Spark engine gives the same four tables as the single-machine path (SPEC §12).

One local[2] Spark session for the whole module; skipped with the reason where Java or pyspark is
missing (CI installs both). Amounts are compared to the cent; ids, statuses, paths and issue
messages exactly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import groupexposure as gx
from groupexposure.engines.spark._load import sorted_table
from groupexposure.result import COLUMNS
from tests.conftest import make_book
from tests.strategies import portfolios
from tests.test_corruption import corrupted

if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("the Spark engine's tests need Java (apt install openjdk-17-jre-headless)",
                allow_module_level=True)
pytest.importorskip("pyspark", reason="the Spark engine's tests need pyspark (the spark extra)")


TABLES = ("groups", "entities", "members", "issues")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local[2] session, two shuffle partitions (small books, few tasks)."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = gx.spark.local_session(cores=2, partitions=2)
    yield session
    session.stop()


def same_tables(spark: Any, book: gx.Portfolio, tmp: Path, *, grouping: str, policy: str,
                on_error: str = "raise") -> gx.spark.SparkResult:
    """Assert the Spark engine's four tables equal the single-machine ones; return its result."""
    got = gx.spark.analyze(spark, book, policy=policy, grouping=grouping, on_error=on_error,
                           checkpoint_dir=tmp / "checkpoints")
    tables = got.to_pandas()
    one = gx.analyze(book, policy=policy, grouping=grouping, on_error=on_error)
    for name in TABLES:
        expected = sorted_table(name, getattr(one, name))
        pd.testing.assert_frame_equal(tables[name], expected, check_dtype=False, atol=0.005,
                                      rtol=0, obj=f"{name} ({grouping}, {policy})")
    return got


def spec_book() -> gx.Portfolio:
    """SPEC §2's aggregated control (P 60% of T; P 30% and T 25% of S: P controls S with 55%),
    a control cycle X ⇄ Y, a connection X → S, a sovereign guarantee and a G-SIB bank."""
    return make_book(
        ["P", "S", "T", "X", "Y", {"entity_id": "G", "kind": "sovereign"},
         {"entity_id": "B", "kind": "bank", "is_gsib": True}, "Z", "LONE"],
        ownership=[("P", "T", 0.6), ("P", "S", 0.3), ("T", "S", 0.25), ("X", "Y", 0.9),
                   ("Y", "X", 0.8), ("B", "Z", 0.4, 0.7)],
        facilities=[{"obligor_id": "S", "drawn": 100.0},
                    {"obligor_id": "T", "drawn": 50.0, "guarantor_id": "G"},
                    {"obligor_id": "X", "drawn": 10.0, "undrawn": 20.0, "product": "commitment"},
                    {"obligor_id": "Z", "drawn": 300.0, "collateral_value": 40.0},
                    {"obligor_id": "B", "drawn": 120.0, "product": "overdraft"}],
        connections=[("X", "S")])


def test_spec_book_by_hand(spark: Any, tmp_path: Path) -> None:
    # SPEC §2/§4 by hand: P controls T (60%) and S (30% + 25% = 55%); C(P) = {P, S, T}.
    # own_net: S 100; T 0 (its 50 is substituted onto the sovereign G); X 10 + 0.4 * 20 = 18.
    # Overlapping group P: P, S, T by control; X depends on S, so C(X) = {X, Y} comes in by
    # dependence: net 100 + 18 = 118 over 5 members.
    got = same_tables(spark, spec_book(), tmp_path, grouping="overlapping", policy="basel")
    g = got.groups.toPandas().set_index("group_id")
    assert g.loc["P", "net_exposure"] == pytest.approx(118.0)
    assert g.loc["P", "n_members"] == 5
    members = got.members.toPandas()
    path = members.query("group_id == 'P' and entity_id == 'S'")["path"].item()
    assert path == "P →60%→ T →55% (with P)→ S"  # through the deepest holder (SPEC §3)
    e = got.entities.toPandas().set_index("entity_id")
    assert e.loc["S", "immediate_controller_id"] == "P"
    assert e.loc["Y", "ultimate_parent_id"] == "X"  # the cycle's root is its smallest id
    codes = set(got.issues.toPandas()["code"])
    assert {"control_cycle", "unused_entity"} <= codes
    assert got.rounds["control"] >= 2  # the aggregated link needs a second outer round


def test_spec_book_partition(spark: Any, tmp_path: Path) -> None:
    same_tables(spark, spec_book(), tmp_path, grouping="partition", policy="cn_group_credit")


def test_multiple_controllers_and_cycles(spark: Any, tmp_path: Path) -> None:
    # SPEC §2.6: A and B both hold S with a control flag, neither controls the other; V and W
    # hold each other (an ownership cycle: look-through solved on the driver).
    book = make_book(["A", "B", "S", "T", "U", "V", "W"],
                     ownership=[("A", "S", 0.2, 0.2, True), ("B", "S", 0.2, 0.2, True),
                                ("S", "T", 0.9), ("U", "V", 0.3), ("V", "W", 0.6),
                                ("W", "V", 0.4)],
                     facilities=[{"obligor_id": "T", "drawn": 80.0},
                                 {"obligor_id": "W", "drawn": 30.0, "currency": "EUR"}],
                     connections=[("U", "T", "guarantee", True)], fx={"EUR": 7.5})
    got = same_tables(spark, book, tmp_path, grouping="partition", policy="eu_crr")
    assert "multiple_controllers" in set(got.issues.toPandas()["code"])


@pytest.mark.parametrize(("seed", "grouping", "policy"), [(1, "partition", "basel"),
                                                           (2, "overlapping", "cn_cbirc_2018")])
def test_synthetic_books(spark: Any, tmp_path: Path, seed: int, grouping: str,
                         policy: str) -> None:
    same_tables(spark, gx.datasets.synthetic(120, seed=seed), tmp_path, grouping=grouping,
                policy=policy)


@settings(max_examples=2, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(book=portfolios(max_entities=7))
def test_random_books(spark: Any, tmp_path: Path, book: gx.Portfolio) -> None:
    same_tables(spark, book, tmp_path, grouping="partition", policy="cn_cbirc_2018")


def test_validation_same_messages(spark: Any, tmp_path: Path) -> None:
    bad = make_book(["A", "B", "B", "C"],
                    ownership=[("A", "B", 0.7), ("C", "B", 0.6), ("A", "Q", 60.0), ("C", "C", 0.2)],
                    facilities=[{"facility_id": "F1", "obligor_id": "A", "drawn": 5.0},
                                {"facility_id": "F1", "obligor_id": "Bx", "drawn": 5.0},
                                {"facility_id": "F2", "obligor_id": "C", "drawn": 1.0,
                                 "currency": "USD"}])
    with pytest.raises(gx.ValidationError) as spark_err:
        gx.spark.analyze(spark, bad, checkpoint_dir=tmp_path / "cp")
    with pytest.raises(gx.ValidationError) as one_err:
        gx.analyze(bad)
    mine = spark_err.value.problems
    theirs = one_err.value.problems
    codes = {"unknown_entity", "duplicate", "self_reference", "sum_above_one", "missing_fx_rate",
             "out_of_range"}
    assert set(mine["code"]) == codes
    cols = ["severity", "code", "table", "row", "key", "column", "message"]
    expected = theirs[theirs["code"].isin(codes)][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine[cols].reset_index(drop=True), expected, check_dtype=False)
    assert "did you mean B?" in " ".join(mine["message"])


def test_collect_mode(spark: Any, tmp_path: Path) -> None:
    # an unknown obligor drops its facility; an unknown guarantor leaves the exposure on A
    book = make_book(["A", "B"], ownership=[("A", "B", 0.8)],
                     facilities=[{"obligor_id": "A", "drawn": 10.0, "guarantor_id": "NOPE"},
                                 {"obligor_id": "GHOST", "drawn": 99.0}])
    got = gx.spark.analyze(spark, book, on_error="collect", checkpoint_dir=tmp_path / "cp")
    e = got.entities.toPandas().set_index("entity_id")
    assert e.loc["A", "own_net"] == 10.0
    assert e.loc["A", "chain_net"] == 10.0
    assert "unknown_entity" in set(got.issues.toPandas()["code"])


def bad_cells() -> gx.Portfolio:
    """One of every bad cell of SPEC §7, each with its reading (a number as text with its unit,
    inf, a negative amount, an unreadable flag, an unknown product or kind, a percentage,
    votes above 1, an unreadable guarantee amount, a blank facility_id) and a sovereign that the
    entities table says is not exempt."""
    return make_book(
        ["A", "B", "C", {"entity_id": "G", "kind": "Sovereign "},
         {"entity_id": "H", "kind": "sovereign", "exempt": False},
         {"entity_id": "D", "is_gsib": "maybe"}],
        ownership=[("A", "B", 0.7), ("A", "C", "60%"), ("B", "C", 0.3, 1.2), ("C", "D", "abc"),
                   ("A", "D", 0.2, "x", "sometimes")],
        facilities=[{"facility_id": "F1", "obligor_id": "A", "drawn": "3亿元"},
                    {"facility_id": "F2", "obligor_id": "B", "drawn": "inf"},
                    {"facility_id": "F3", "obligor_id": "C", "drawn": -5.0, "undrawn": 10,
                     "product": "Widget"},
                    {"facility_id": "F4", "obligor_id": "C", "drawn": 7, "provision": "n/a",
                     "guarantor_id": "G", "guaranteed_amount": "lots"},
                    {"facility_id": "F5", "obligor_id": "H", "drawn": 9,
                     "collateral_value": "1e309", "product": " LOAN"},
                    {"facility_id": "", "obligor_id": "A", "drawn": 2}],
        connections=[("A", "G", "Guarantee", "perhaps")])


def bad_rows() -> gx.Portfolio:
    """Rows that break rules across rows: unknown entities, self references, an entity given
    twice with different kinds, repeated ownership rows that add up to control, shares above
    100% (B: 130%, with a facility of its own), a facility id used twice, fx rates given twice, the
    reporting currency at 1.2 and an unreadable rate."""
    book = make_book(
        ["A", "B", "C", "D", {"entity_id": "G", "kind": "sovereign"},
         {"entity_id": "D", "kind": "sovereign", "is_gsib": True}, "E"],
        ownership=[("A", "B", 0.7), ("C", "B", 0.6), ("A", "Q", 0.6), ("C", "C", 0.2),
                   ("A", "C", 0.3), ("A", "C", 0.25), ("D", "E", 0.9)],
        facilities=[{"facility_id": "F1", "obligor_id": "A", "drawn": 5.0,
                     "guarantor_id": "NOPE"},
                    {"facility_id": "F1", "obligor_id": "Bx", "drawn": 5.0},
                    {"facility_id": "F2", "obligor_id": "C", "drawn": 1.0, "currency": "USD"},
                    {"facility_id": "F3", "obligor_id": "D", "drawn": 3.0, "guarantor_id": "D"},
                    {"facility_id": "F4", "obligor_id": "E", "drawn": 4.0, "currency": "EUR",
                     "guarantor_id": "G"},
                    {"facility_id": "F5", "obligor_id": "E", "drawn": 4.0, "currency": "GBP"},
                    {"facility_id": "F6", "obligor_id": "B", "drawn": 13.0}],
        connections=[("B", "B"), ("B", "ZZ"), ("E", "A")])
    fx = pd.DataFrame({"currency": ["EUR", "EUR", "CNY", "GBP"], "rate": [7.5, 7.9, 1.2, "bad"]})
    return gx.Portfolio.from_frames(entities=book.entities, ownership=book.ownership,
                                    connections=book.connections, facilities=book.facilities,
                                    fx=fx, capital=book.capital)


def same_errors(spark: Any, book: gx.Portfolio, tmp: Path) -> None:
    """Raise mode: both engines refuse the book with the same issue rows (SPEC §7)."""
    with pytest.raises(gx.ValidationError) as spark_err:
        gx.spark.analyze(spark, book, checkpoint_dir=tmp / "raise")
    with pytest.raises(gx.ValidationError) as one_err:
        gx.analyze(book)
    cols = ["severity", "code", "table", "row", "key", "column", "value", "message"]
    mine, theirs = (e.value.problems[cols].astype(str).sort_values(cols).reset_index(drop=True)
                    for e in (spark_err, one_err))
    pd.testing.assert_frame_equal(mine, theirs)


def test_bad_cells_are_read_as_on_one_machine(spark: Any, tmp_path: Path) -> None:
    # Every cell-level code of SPEC §7 with the same row, value and message; in collect mode the
    # same conservative readings give the same four tables (issues worded as collect mode does).
    book = bad_cells()
    same_errors(spark, book, tmp_path)
    got = same_tables(spark, book, tmp_path, grouping="partition", policy="basel",
                      on_error="collect")
    codes = set(got.issues.toPandas()["code"])
    assert {"not_a_number", "non_finite", "negative_amount", "invalid_bool", "unknown_value",
            "out_of_range", "missing_value", "understated_group"} <= codes
    g = got.groups.toPandas().set_index("group_id")
    # H is a sovereign the entities table says is not exempt: its 9 counts (never exempt by kind)
    assert g.loc["H", "exposure"] == pytest.approx(9.0)
    e = got.entities.toPandas().set_index("entity_id")
    # F2's drawn is inf: the facility is left out, so B's own exposure is 0 and its group is named
    assert e.loc["B", "own_original"] == 0.0


def test_bad_rows_are_read_as_on_one_machine(spark: Any, tmp_path: Path) -> None:
    # The row-spanning rules: unknown ids, self references, repeated keys and rates, the
    # reporting currency's rate; collect mode reads D as one corporate G-SIB entity, adds A's two
    # rows in C (55%: control) and uses the higher EUR rate 7.9.
    book = bad_rows()
    same_errors(spark, book, tmp_path)
    got = same_tables(spark, book, tmp_path, grouping="overlapping", policy="basel",
                      on_error="collect")
    e = got.entities.toPandas().set_index("entity_id")
    assert e.loc["C", "ultimate_parent_id"] == "A"
    assert e.loc["E", "own_original"] == pytest.approx(4.0 * 7.9)
    # look-through reads B's holders in proportion (0.7 / 1.3 to A): never more than B's 13
    assert e.loc["B", "lookthrough_net"] == pytest.approx(13.0)


def test_parquet_rows_are_numbered_and_exempt_is_read(spark: Any, tmp_path: Path) -> None:
    # A single Parquet file numbers its rows as a CSV file does; typed cells are checked too.
    book = make_book(["A", {"entity_id": "S", "kind": "sovereign", "exempt": False}, "B"],
                     ownership=[("A", "B", 0.6)],
                     facilities=[{"facility_id": "F1", "obligor_id": "A", "drawn": 10.0},
                                 {"facility_id": "F2", "obligor_id": "B", "drawn": -3.0},
                                 {"facility_id": "F3", "obligor_id": "S", "drawn": 400.0}])
    data = tmp_path / "book"
    data.mkdir()
    for name in ("entities", "ownership", "connections", "facilities", "fx"):
        getattr(book, name).to_parquet(data / f"{name}.parquet", index=False)
    (data / "capital.json").write_text(json.dumps(book.capital), encoding="utf-8")
    with pytest.raises(gx.ValidationError) as err:
        gx.spark.analyze(spark, data, checkpoint_dir=tmp_path / "cp")
    bad = err.value.problems
    assert bad[["code", "table", "row", "column"]].values.tolist() == [
        ["negative_amount", "facilities", 2, "drawn"]]
    ok = make_book(book.entities.to_dict("records"), ownership=[("A", "B", 0.6)],
                   facilities=[{"facility_id": "F3", "obligor_id": "S", "drawn": 400.0}])
    got = same_tables(spark, ok, tmp_path, grouping="partition", policy="basel")
    # SPEC §1: exempt = false overrides the policy's exempt kinds: 400 of 1000 breaches 25%
    assert got.groups.toPandas().set_index("group_id").loc["S", "status"] == "breach"


def test_a_closed_ownership_ring_is_found_in_the_cyclic_core(spark: Any, tmp_path: Path) -> None:
    # SPEC §4/§7: A and B own each other wholly (and A 60% of C): raise mode refuses the book
    # with one machine's closed_cycle row; collect mode scales the ring's shares just below 1
    # for look-through, so A's look-through stays finite: its 100, B's 50 and 60% of C's 10.
    book = make_book(["A", "B", "C"], ownership=[("A", "B", 1.0), ("B", "A", 1.0),
                                                 ("A", "C", 0.6)],
                     facilities=[{"obligor_id": "A", "drawn": 100.0},
                                 {"obligor_id": "B", "drawn": 50.0},
                                 {"obligor_id": "C", "drawn": 10.0}])
    same_errors(spark, book, tmp_path)
    got = same_tables(spark, book, tmp_path, grouping="partition", policy="basel",
                      on_error="collect")
    e = got.entities.toPandas().set_index("entity_id")
    assert e.loc["A", "lookthrough_net"] == pytest.approx(156.0, rel=1e-6)
    assert "closed_cycle" in set(got.issues.toPandas()["code"])


@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=corrupted())
def test_corrupted_books(spark: Any, tmp_path: Path, case: tuple[gx.Portfolio, str, Any]
                         ) -> None:
    book = case[0]
    try:
        gx.analyze(book)
    except gx.ValidationError:
        same_errors(spark, book, tmp_path)
    else:
        same_tables(spark, book, tmp_path, grouping="partition", policy="basel")
    same_tables(spark, book, tmp_path, grouping="partition", policy="basel", on_error="collect")


def test_cli_write_load_check_explain(spark: Any, tmp_path: Path) -> None:
    """``analyze --engine spark`` writes the same CSV files and a Parquet directory that
    ``check`` and ``explain`` read on one machine (load_result), with the same answers."""
    from groupexposure.cli import main
    from groupexposure.datasets import write_portfolio
    data = write_portfolio(spec_book(), tmp_path / "book")
    out = tmp_path / "out"
    policy = ["--policy", "cn_cbirc_2018"]
    assert main(["analyze", str(data), "--engine", "spark", "--out", str(out), *policy]) == 0
    one_out = tmp_path / "one"
    assert main(["analyze", str(data), "--out", str(one_out), "--report", "never", *policy]) == 0
    for name in TABLES:
        cols = COLUMNS[name]
        mine, theirs = (pd.read_csv(d / f"{name}.csv", encoding="utf-8-sig", dtype=str,
                                    keep_default_na=False) for d in (out, one_out))
        assert list(mine.columns[:len(cols)]) == cols
        mine, theirs = (f[cols].sort_values(cols).reset_index(drop=True) for f in (mine, theirs))
        for c in cols:
            a, b = pd.to_numeric(mine[c], errors="coerce"), pd.to_numeric(theirs[c], errors="coerce")
            if a.notna().any():
                assert (a - b).abs().max() < 0.005, (name, c)
            else:
                assert mine[c].tolist() == theirs[c].tolist(), (name, c)
    manifest = json.loads((out / "parquet" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["policy"] == "cn_cbirc_2018"
    assert manifest["rounds"]["control"] >= 2
    assert set(manifest["row_counts"]) == set(TABLES)
    loaded = gx.spark.load_result(out / "parquet")
    one = gx.analyze(spec_book(), policy="cn_cbirc_2018")
    for entity, amount in (("S", 50.0), ("Z", 400.0), ("X", 1.0)):
        a, b = loaded.check(entity, amount), one.check(entity, amount)
        assert (a.approved, a.reason, a.binding_rule) == (b.approved, b.reason, b.binding_rule)
        assert a.max_amount == pytest.approx(b.max_amount, abs=0.01)
    assert loaded.explain("S").to_dict() == one.explain("S").to_dict()
    approved = one.check("S", 10.0).approved  # declined: S is at its loans-10% limit
    assert main(["check", str(out / "parquet"), "--entity", "S", "--amount", "10",
                 *policy]) == (0 if approved else 3)
    assert main(["explain", str(out / "parquet"), "--entity", "S"]) == 0


def test_round_guard(spark: Any, tmp_path: Path) -> None:
    chain = make_book([f"C{i}" for i in range(6)],
                      ownership=[(f"C{i}", f"C{i + 1}", 0.9) for i in range(5)],
                      facilities=[{"obligor_id": "C5", "drawn": 1.0}])
    with pytest.raises(gx.spark.NoFixedPointError, match="did not reach its fixed point within 1 "
                       "rounds"):
        gx.spark.analyze(spark, chain, checkpoint_dir=tmp_path / "cp", max_rounds=1)


def test_import_does_not_load_pyspark() -> None:
    code = "import sys, groupexposure; assert 'pyspark' not in sys.modules; groupexposure.spark"
    subprocess.run([sys.executable, "-c", code], check=True,
                   env={**os.environ, "PYTHONPATH": str(Path(gx.__file__).parents[1])})
