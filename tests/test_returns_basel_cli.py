"""basel_lex20 (LEX20.4) worked by hand; the identities of C 28.00 and G14 on random books
(hypothesis); the ``groupexposure returns`` command (CSV with a byte-order mark, the workbook)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import groupexposure as gx
from groupexposure.cli import main
from tests.conftest import make_book
from tests.strategies import portfolios


def test_basel_four_lists() -> None:
    # Tier 1 1,000 (10%: 100). A: loan 150 with 60 collateral: 150 before CRM, 90 after.
    # B: exactly 100. SOV: 200, exempt. C..W: 22 small clients of 1..22 (the 20 largest list).
    ents = ["A", "B", {"entity_id": "SOV", "kind": "sovereign"}] + [f"C{i:02d}" for i in range(22)]
    fac = [{"obligor_id": "A", "drawn": 150.0, "collateral_value": 60.0},
           {"obligor_id": "B", "drawn": 100.0}, {"obligor_id": "SOV", "drawn": 200.0}]
    fac += [{"obligor_id": f"C{i:02d}", "drawn": float(i + 1)} for i in range(22)]
    ret = gx.analyze(make_book(ents, facilities=fac, tier1=1000.0)).returns("basel_lex20")
    assert ret["after_crm"]["group_id"].tolist() == ["B"]  # exactly 10% after CRM counts
    assert ret["before_crm"]["group_id"].tolist() == ["A", "B"]
    assert ret["before_crm"]["of_tier1"].tolist() == [0.15, 0.10]
    assert ret["exempted"]["group_id"].tolist() == ["SOV"]
    assert ret["exempted"]["exempted"].tolist() == [200.0]
    top = ret["largest_20"]
    assert len(top) == 20 and top["group_id"].tolist()[:3] == ["B", "A", "C21"]
    assert top["rank"].tolist() == list(range(1, 21)) and "SOV" not in set(top["group_id"])
    assert top["after_crm"].iloc[-1] == 5.0  # C04; C00..C03 are 21st and below
    assert set(ret.labels) == set(ret) and "of_tier1" in ret.labels["after_crm"]


def test_unknown_template() -> None:
    r = gx.analyze(make_book(["A"], facilities=[{"obligor_id": "A", "drawn": 1.0}]))
    with pytest.raises(ValueError, match="unknown return template 'lex'; valid: basel_lex20"):
        r.returns("lex")


def _zeroed(t: pd.DataFrame) -> pd.DataFrame:
    return t.fillna({c: 0.0 for c in t.columns if t[c].dtype.kind == "f"})


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(portfolios())
def test_c28_identities_on_random_books(book: gx.Portfolio) -> None:
    r = gx.analyze(book, policy="eu_crr")
    ret = r.returns("eu_corep_le")
    for table, shift in (("C 28.00", 0), ("C 29.00", 10)):
        t = _zeroed(ret[table])

        def c(code: str, t: pd.DataFrame = t, shift: int = shift) -> np.ndarray:
            return t[f"{int(code) + shift:04d}"].to_numpy(np.float64)

        assert np.allclose(c("0210"), c("0040") - c("0190") - c("0200"))
        crm = np.sum([c(f"{k:04d}") for k in range(240, 320, 10)], axis=0)
        assert np.allclose(c("0330"), c("0210") - crm - c("0320"))
        parts = np.sum([c(f"{k:04d}") for k in range(60, 190, 10)], axis=0)
        assert np.allclose(c("0040"), parts)
        assert (c("0220") <= c("0210") + 1e-6).all() and (c("0340") <= c("0330") + 1e-6).all()
    # every large exposure before exemptions and CRM is reported: 0210 (nominal, with indirect
    # exposures) is at least the group's original_exposure (CCF <= 1), exempt members included
    c28 = ret["C 28.00"]
    g = r.groups
    must = set(g.loc[g["original_exposure"] >= 0.1 * r.capital.tier1, "group_id"])
    assert must <= set(c28["group_id"])
    original = dict(zip(g["group_id"].astype(str), g["original_exposure"], strict=True))
    floor = np.array([original[k] for k in c28["group_id"].astype(str)], dtype=np.float64)
    assert (c28["0210"].to_numpy(np.float64) >= floor - 1e-6).all()
    # a group's row is the sum of its clients' rows in C 29.00
    c29 = ret["C 29.00"]
    for gid, rows in c29.groupby("group_id"):
        row = c28[c28["group_id"] == gid].iloc[0]
        assert rows["0340"].sum() == pytest.approx(row["0330"], abs=1e-6)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(portfolios())
def test_g14_identities_on_random_books(book: gx.Portfolio) -> None:
    r = gx.analyze(book, policy="cn_cbirc_2018")
    ret = r.returns("cn_g14")
    comps = ["一般风险暴露", "特定风险暴露", "交易账簿风险暴露", "交易对手信用风险暴露", "潜在风险暴露",
             "其他风险暴露"]
    for part in ("G14_II", "G14_III", "G14_IV", "G14_V", "G14_VI"):
        t = _zeroed(ret[part])
        cols = [next(c for c in t.columns if c == k or c == k + "（合计）") for k in comps]
        total = t["风险暴露总和（合计）"]
        assert np.allclose(total, t[cols].sum(axis=1), atol=1e-9)
        assert np.allclose(t["不考虑风险缓释作用的风险暴露总和"],
                           total + t["风险缓释转出的风险暴露（转入为负数）"], atol=1e-9)
        assert (t["风险暴露总和（其中：不可豁免风险暴露）"] <= total + 1e-9).all()
        assert (t[cols].round(2) == t[cols]).all().all()  # two decimals
    # with at most 100 clients of each kind, parts III and V hold every entity with an exposure;
    # their totals ignoring CRM add up to the book's original exposure (万元, rounded per cell)
    listed = pd.concat([ret["G14_III"], ret["G14_V"]])
    ent = r.entities
    book_original = ent["own_original"].sum() / 1e4
    assert listed["不考虑风险缓释作用的风险暴露总和"].sum() == pytest.approx(
        book_original, abs=0.01 * len(ent) + 1e-9)
    # part II: each client once
    assert len(ret["G14_II"]["内部编号"]) == ret["G14_II"]["内部编号"].nunique()


def test_cli_writes_csv_and_workbook(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    data = gx.datasets.ningxia_path()
    out = io.StringIO()
    assert main(["returns", str(data), "--template", "cn_g14", "--out", str(tmp_path)],
                out=out) == 0
    assert "cn_g14 under policy cn_cbirc_2018" in out.getvalue()
    raw = (tmp_path / "cn_g14_G14_II.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark
    two = pd.read_csv(tmp_path / "cn_g14_G14_II.csv", encoding="utf-8-sig")
    assert two.columns[4] == "风险暴露总和（合计）"
    wb = load_workbook(tmp_path / "cn_g14.xlsx")
    assert wb.sheetnames == ["G14_I", "G14_II", "G14_III", "G14_IV", "G14_V", "G14_VI", "issues"]
    ws = wb["G14_II"]
    assert ws.cell(row=1, column=5).value == "风险暴露总和（合计）"
    cell = ws.cell(row=2, column=5)
    assert isinstance(cell.value, int | float) and cell.number_format == "0.00"  # a number
    assert cell.value == two.iloc[0, 4]


def test_cli_corep_workbook_has_labels_and_codes(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    assert main(["returns", str(gx.datasets.ningxia_path()), "--template", "eu_corep_le",
                 "--out", str(tmp_path), "--no-bom"], out=io.StringIO()) == 0
    assert not (tmp_path / "eu_corep_le_C_28_00.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    ws = load_workbook(tmp_path / "eu_corep_le.xlsx")["C 28.00"]
    heads = [ws.cell(row=2, column=j).value for j in range(1, 5)]
    assert heads == ["0010", "0020", "0030", "0040"]
    assert ws.cell(row=1, column=4).value == "Total original exposure"
    pct = next(j for j in range(1, ws.max_column + 1) if ws.cell(row=2, column=j).value == "0230")
    assert ws.cell(row=3, column=pct).number_format == "0.00%"


def test_cli_writes_the_same_files_from_a_snapshot(tmp_path: Path) -> None:
    """SPEC §9: ``returns --snapshot SNAP`` gives the return of the saved analysis, file for file
    what ``returns DATA`` gives under the same policy."""
    data = gx.datasets.ningxia_path()
    snap = tmp_path / "snap"
    assert main(["analyze", str(data), "--out", str(tmp_path / "out"), "--policy", "cn_cbirc_2018",
                 "--save", str(snap)], out=io.StringIO()) == 0
    for template in ("cn_g14", "basel_lex20", "eu_corep_le"):
        out = io.StringIO()
        assert main(["returns", "--snapshot", str(snap), "--template", template,
                     "--out", str(tmp_path / f"{template}-snap")], out=out) == 0
        assert f"{template} under policy cn_cbirc_2018 from snapshot {snap}" in out.getvalue()
        assert main(["returns", str(data), "--template", template, "--policy", "cn_cbirc_2018",
                     "--out", str(tmp_path / f"{template}-data")], out=io.StringIO()) == 0
        csvs = sorted(p.name for p in (tmp_path / f"{template}-data").glob("*.csv"))
        assert csvs == sorted(p.name for p in (tmp_path / f"{template}-snap").glob("*.csv"))
        for name in csvs:
            assert (tmp_path / f"{template}-snap" / name).read_bytes() == (
                tmp_path / f"{template}-data" / name).read_bytes(), name


@pytest.mark.parametrize(("extra", "message"), [
    (["--policy", "basel"], "was analysed under --policy cn_cbirc_2018, not basel: give DATA to "
                            "analyse it under basel, or leave --policy out"),
    (["--grouping", "partition"], "was analysed under --grouping overlapping, not partition"),
    (["--on-error", "collect"], "--on-error applies when reading DATA; a snapshot is an analysis "
                                "already made"),
    (["DATA"], "give either the portfolio directory DATA or --snapshot SNAP, not both"),
])
def test_cli_refuses_what_a_snapshot_cannot_give(tmp_path: Path, extra: list[str], message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    snap = tmp_path / "snap"
    gx.analyze(gx.datasets.ningxia(), policy="cn_cbirc_2018").save(snap)
    args = ["returns", "--snapshot", str(snap), "--template", "cn_g14", *extra]
    if extra == ["DATA"]:
        args = ["returns", str(gx.datasets.ningxia_path()), "--snapshot", str(snap),
                "--template", "cn_g14"]
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_cli_needs_data_or_a_snapshot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["returns", "--template", "cn_g14"]) == 2
    assert "give the portfolio directory DATA (or --snapshot SNAP)" in capsys.readouterr().err
