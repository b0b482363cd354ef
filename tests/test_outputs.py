"""SPEC §8 and §9: the four tables, their columns and order, the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import groupexposure as gx
from groupexposure.cli import main
from groupexposure.result import COLUMNS
from tests.conftest import make_book, write_files


def test_tables_start_with_the_spec_columns_and_are_sorted():
    r = gx.analyze(gx.datasets.ningxia())
    for name, cols in COLUMNS.items():
        frame = r.frame(name)
        assert list(frame.columns[: len(cols)]) == cols, name
    assert r.groups["group_id"].is_monotonic_increasing
    assert r.entities["entity_id"].is_monotonic_increasing
    keys = list(zip(r.members.group_id, r.members.entity_id, strict=True))
    assert keys == sorted(keys)


def test_ningxia_example_numbers():
    # README of the example: Yipin 800m drawn + 40% of 100m unused = 840m = 26.25% of 3.2bn: breach.
    # Zhongyin: 650m + USD 5m trade LC * 6.3 * 20% = 6.3m + 60m guarantee substituted = 716.3m.
    r = gx.analyze(gx.datasets.ningxia())
    g = r.groups.set_index("group_id")
    assert g.loc["YP-OWNER", "exposure"] == 840e6 and g.loc["YP-OWNER", "status"] == "breach"
    assert g.loc["ZY-INTL", "exposure"] == pytest.approx(716.3e6)
    assert g.loc["ZY-INTL", "status"] == "warning"
    assert g.loc["RC-GRP", "exposure"] == pytest.approx(386e6)  # 250m + TM 106m + 30m substituted
    loans = r.facilities[r.facilities["product"] == "loan"]
    four = loans[loans["obligor_id"].isin(["YP-BIO", "ZY-CASH", "RC-GRP", "TM"])]
    assert four["drawn"].sum() == 1_916_000_000
    assert r.entities.set_index("entity_id").loc["TM", "groups"] == "RC-GRP;TM"


def test_identifiers_stay_strings(tmp_path: Path):
    d = write_files(tmp_path / "book", {
        "entities.csv": "entity_id,name\n007,Bond\n7,Seven\n",
        "ownership.csv": "owner_id,owned_id,share\n007,7,0.6\n",
        "facilities.csv": "facility_id,obligor_id,drawn\n001,7,10\n",
        "capital.json": '{"tier1": 100}'})
    r = gx.analyze(d)
    assert list(r.entities["entity_id"]) == ["007", "7"]
    assert r.entities.set_index("entity_id").loc["7", "ultimate_parent_id"] == "007"


def test_parquet_and_excel_inputs(tmp_path: Path):
    src = gx.datasets.ningxia_path()
    for suffix in ("parquet", "xlsx"):
        d = tmp_path / suffix
        d.mkdir()
        for name in ("entities", "ownership", "connections", "facilities", "fx"):
            frame = pd.read_csv(src / f"{name}.csv", dtype=str)
            if suffix == "parquet":
                frame.to_parquet(d / f"{name}.parquet")
            else:
                frame.to_excel(d / f"{name}.xlsx", index=False)
        (d / "capital.json").write_text((src / "capital.json").read_text())
        r = gx.analyze(d)
        base = gx.analyze(src)
        pd.testing.assert_frame_equal(r.groups, base.groups)


def test_cli_analyze_writes_the_four_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "out"
    code = main(["analyze", str(gx.datasets.ningxia_path()), "--out", str(out),
                 "--policy", "cn_cbirc_2018", "--grouping", "partition"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "BREACH" in printed and printed.index("BREACH") < printed.index("issues:")
    for name, cols in COLUMNS.items():
        frame = pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)
        assert list(frame.columns[: len(cols)]) == cols


def test_cli_invalid_input_exits_2_without_traceback(tmp_path: Path):
    d = write_files(tmp_path / "bad", {
        "entities.csv": "entity_id\nA\n",
        "ownership.csv": "owner_id,owned_id,share\nA,B,60\n",
        "facilities.csv": "facility_id,obligor_id,drawn\nF1,A,-5\n",
        "capital.json": '{"tier1": 100}'})
    proc = subprocess.run([sys.executable, "-m", "groupexposure", "analyze", str(d), "--out",
                           str(tmp_path / "o")], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "ownership.csv row 1 (owner_id=A, owned_id=B): owned_id B is not in entities.csv" \
        in proc.stderr
    assert "did you mean 0.6?" in proc.stderr
    assert "facilities.csv row 1 (facility_id=F1): drawn must be a number >= 0; got -5" \
        in proc.stderr


def test_demo_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Ningxia example" in out and str(tmp_path.resolve()) in out
    assert (tmp_path / "groups.csv").is_file() and (tmp_path / "report.xlsx").is_file()


def test_formula_cells_are_neutralised(tmp_path: Path):
    book = make_book([{"entity_id": "A", "name": "=cmd|' /C calc'!A0"}, {"entity_id": "B",
                                                                         "name": "@SUM(1)"}])
    r = gx.analyze(book)
    r.to_csv(tmp_path)
    text = (tmp_path / "entities.csv").read_text()
    assert "'=cmd" in text and "'@SUM" in text
    assert r.entities.loc[0, "name"].startswith("=")  # the DataFrame itself is untouched


def test_result_graph_is_networkx_with_attributes():
    r = gx.analyze(gx.datasets.ningxia())
    g = r.graph
    assert g.number_of_nodes() == len(r.entities)
    e = g.edges["ZY-RE", "ZY-CASH"]
    assert e["share"] == 0.15 and e["controls"] is False
    assert g.edges["ZY-INTL", "ZY-CASH"]["controls"] is True
    assert g.nodes["YP-BIO"]["own_net"] == 840e6


def test_progress_shows_on_a_terminal_only():
    import io

    from groupexposure.cli import _Progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    _Progress(tty)("control", 1.5)
    _Progress(pipe)("control", 1.5)
    assert "control" in tty.getvalue() and "1.50s" in tty.getvalue()
    assert pipe.getvalue() == ""


def test_synthetic_is_reproducible_and_realistic(tmp_path: Path):
    from groupexposure.cli import main

    a = gx.datasets.synthetic(3_000, seed=5)
    b = gx.datasets.synthetic(3_000, seed=5)
    for name in ("entities", "ownership", "connections", "facilities"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    r = gx.analyze(a)
    assert r.control.edge_aggregated.any()  # aggregated control
    assert (r.ownership["control"]).any() and r.control.depth.max() >= 5
    assert (r.groups["status"] == "breach").any()
    assert set(r.facilities["currency"]) == {"CNY", "USD", "EUR"}
    assert (r.entities["kind"] == "individual").any()
    assert main(["synthetic", "500", str(tmp_path / "s"), "--seed", "2"]) == 0
    assert len(gx.analyze(tmp_path / "s").entities) == 500


def test_cli_report_option(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    import groupexposure.cli as cli

    data = str(gx.datasets.ningxia_path())
    assert main(["analyze", data, "--out", str(tmp_path / "never"), "--report", "never"]) == 0
    assert not (tmp_path / "never" / "report.xlsx").exists()
    assert (tmp_path / "never" / "groups.csv").exists()
    monkeypatch.setattr(cli, "REPORT_AUTO_MAX_ENTITIES", 5)  # the example book has more
    capsys.readouterr()
    assert main(["analyze", data, "--out", str(tmp_path / "auto")]) == 0
    n = len(gx.load_portfolio(data).entities)
    assert (f"report.xlsx and report.html not written: {n:,} entities is more than 5 "
            "(--report always writes them)") in capsys.readouterr().out
    assert not (tmp_path / "auto" / "report.html").exists()
    assert main(["analyze", data, "--out", str(tmp_path / "always"), "--report", "always"]) == 0
    assert (tmp_path / "always" / "report.xlsx").exists()
    assert (tmp_path / "always" / "report.html").exists()


def test_parquet_output_holds_the_same_tables_as_the_csv(tmp_path: Path) -> None:
    """``analyze --format parquet``: the §8 tables, typed, row for row as in the result."""
    from groupexposure.datasets import ningxia_path

    assert main(["analyze", str(ningxia_path()), "--out", str(tmp_path), "--format", "parquet",
                 "--report", "never"]) == 0
    result = gx.analyze(gx.datasets.ningxia())
    for name in ("groups", "entities", "members", "issues"):
        back = pd.read_parquet(tmp_path / f"{name}.parquet")
        expected = getattr(result, name).reset_index(drop=True)
        assert back.columns.tolist() == expected.columns.tolist()
        pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    assert not list(tmp_path.glob("*.csv"))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet="=+-@\t\r'a中 ", max_size=6)), max_size=12),
       st.booleans())
def test_neutralise_guards_exactly_the_risky_cells(cells: list[str | None], mixed: bool):
    """The column-at-once guard (Arrow's regular expressions) changes exactly the text cells the
    rule of groupexposure.safe names, and restore() undoes it, in all-text and mixed columns."""
    from groupexposure.safe import _FORMULA, neutralise, restore

    values: list[object] = [*cells, 7.5] if mixed else list(cells)
    frame = pd.DataFrame({"c": pd.Series(values, dtype=object)})
    got = neutralise(frame)["c"].tolist()
    want = ["'" + v if isinstance(v, str) and _FORMULA.match(v) else v for v in values]
    assert got == want
    assert [restore(v) for v in got] == values
