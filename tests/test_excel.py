"""The committee workbook, read back with openpyxl."""

from __future__ import annotations

from pathlib import Path

import openpyxl

import groupexposure as gx
from tests.conftest import make_book

SHEETS = ["Summary", "Groups", "Breaches and warnings", "Large exposures", "Members", "Entities",
          "Headroom", "Guarantee circles", "Issues"]


def test_workbook_sheets_formats_and_values(tmp_path: Path):
    r = gx.analyze(gx.datasets.ningxia())
    path = r.to_excel(tmp_path / "report.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEETS
    groups = wb["Groups"]
    assert groups.freeze_panes == "A2" and groups.auto_filter.ref
    header = [c.value for c in groups[1]]
    assert header[:4] == ["group_id", "root_id", "root_name", "n_members"]
    rows = {row[0].value: row for row in groups.iter_rows(min_row=2)}
    ratio = rows["YP-OWNER"][header.index("ratio")]
    assert ratio.value == 0.2625 and ratio.number_format == "0.00%"
    status = rows["YP-OWNER"][header.index("status")]
    assert status.value == "breach" and status.fill.start_color.rgb.endswith("F8CBAD")
    assert rows["YP-OWNER"][header.index("exposure")].number_format == "#,##0"
    breaches = [row[0].value for row in wb["Breaches and warnings"].iter_rows(min_row=2)]
    assert breaches == ["YP-OWNER", "ZY-INTL"]  # breaches first
    summary = {row[0].value: row[1].value for row in wb["Summary"].iter_rows(min_row=2)}
    assert summary["breaches"] == 1 and summary["guarantee circles"] == 1
    assert wb["Guarantee circles"]["D2"].value == "NX-WOOL → TM → NX-WOOL"


def test_workbook_neutralises_formulas(tmp_path: Path):
    r = gx.analyze(make_book([{"entity_id": "A", "name": "=HYPERLINK(\"x\")"}],
                             facilities=[{"obligor_id": "A", "drawn": 1.0}]))
    wb = openpyxl.load_workbook(r.to_excel(tmp_path / "r.xlsx"))
    names = [c.value for c in wb["Entities"]["B"]]
    assert names[1] == "'=HYPERLINK(\"x\")"


def test_large_sheets_keep_the_most_relevant_rows_and_say_so(tmp_path: Path, monkeypatch):
    import groupexposure.report.excel as excel

    monkeypatch.setattr(excel, "MAX_SHEET_ROWS", 3)
    result = gx.analyze(gx.datasets.ningxia(), policy="basel")
    path = result.to_excel(tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(path)
    groups = wb["Groups"]
    assert groups.max_row == 1 + 3
    header = [c.value for c in groups[1]]
    shown = [row[header.index("group_id")] for row in groups.iter_rows(min_row=2, values_only=True)]
    top3 = result.groups.sort_values("utilisation", ascending=False)["group_id"].head(3).tolist()
    assert shown == top3  # the breach first, then the warning, then the next most used
    members = wb["Members"]
    first = [row[0] for row in members.iter_rows(min_row=2, values_only=True)]
    assert set(first) == {top3[0]}  # members of the most used group come first
    summary = {row[0]: row[1] for row in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    n_groups = len(result.groups)
    assert summary["sheet Groups"] == (f"first 3 of {n_groups:,} rows (most relevant first); "
                                       "every row is in the CSV files")
    assert "sheet Breaches and warnings" not in summary  # two rows: not cut
