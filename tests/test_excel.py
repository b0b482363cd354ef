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


def test_workbook_writes_formula_like_text_as_text(tmp_path: Path):
    # revised (#12.7, #13.6): text cells are strings, never formulas, and read back unchanged;
    # Excel's quote prefix keeps them text when a cell is edited (no apostrophe in the value)
    r = gx.analyze(make_book([{"entity_id": "-A1", "name": "=HYPERLINK(\"x\")"}, "B"],
                             facilities=[{"obligor_id": "-A1", "drawn": 1.0}]))
    wb = openpyxl.load_workbook(r.to_excel(tmp_path / "r.xlsx"))
    ws = wb["Entities"]
    cells = {c.value: c for c in ws["B"]}
    name = cells["=HYPERLINK(\"x\")"]
    assert name.data_type == "s" and name.quotePrefix
    ids = [c for c in ws["A"] if c.value == "-A1"]
    assert len(ids) == 1 and ids[0].data_type == "s"
    import zipfile

    with zipfile.ZipFile(tmp_path / "r.xlsx") as z:
        assert "<f>" not in "".join(z.read(n).decode() for n in z.namelist() if "sheet" in n)


def test_every_amount_cell_is_a_number_with_a_format(tmp_path: Path):
    from groupexposure.report.labels import AMOUNT_COLUMNS

    r = gx.analyze(gx.datasets.ningxia(), policy="cn_cbirc_2018")
    assert (r.headroom["room_to_limit"] < 0).any()  # the breaches: negative room
    wb = openpyxl.load_workbook(r.to_excel(tmp_path / "r.xlsx"))
    checked = 0
    for ws in wb.worksheets[1:]:
        header = [c.value for c in ws[1]]
        for j, col in enumerate(header):
            if col not in AMOUNT_COLUMNS | {"ratio", "limit", "utilisation"}:
                continue
            for (cell,) in ws.iter_rows(min_row=2, min_col=j + 1, max_col=j + 1):
                if cell.value is None:
                    continue
                assert cell.data_type == "n", (ws.title, col, cell.value)
                assert cell.number_format in ("#,##0", "0.00%"), (ws.title, col)
                checked += 1
    assert checked > 100
    head = wb["Headroom"]
    header = [c.value for c in head[1]]
    rooms = [row[header.index("room_to_limit")] for row in head.iter_rows(min_row=2, values_only=True)]
    assert -50_000_000.0 in rooms or min(r for r in rooms if r is not None) < 0


def test_chinese_workbook_in_wan_yuan(tmp_path: Path):
    r = gx.analyze(gx.datasets.ningxia(), policy="cn_cbirc_2018")
    wb = openpyxl.load_workbook(r.to_excel(tmp_path / "r.xlsx", lang="zh", display_unit="万元"))
    assert wb.sheetnames == ["概要", "集团客户", "超限与预警", "大额风险暴露", "集团成员", "客户",
                             "剩余额度", "担保圈", "数据问题"]
    summary = {row[0]: row[1] for row in wb["概要"].iter_rows(min_row=2, values_only=True)}
    assert summary["数据日期"] == "2012-06-30"
    assert summary["银行"] == "中国农业发展银行宁夏回族自治区分行"
    assert summary["金额单位"] == "万元 (CNY)" and summary["一级资本净额"] == 320_000.0
    assert summary["集团划分方式"].startswith("重叠分组")
    assert any(k.startswith("规则: 非同业集团客户风险暴露不超过一级资本净额的20%") and "Art. 8" in v
               for k, v in summary.items() if isinstance(k, str) and isinstance(v, str))
    ws = wb["超限与预警"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["集团客户编号", "核心企业/实际控制人编号", "核心企业/实际控制人", "成员数"]
    row = next(ws.iter_rows(min_row=2, values_only=True))
    assert row[header.index("状态")] == "超限"
    assert row[header.index("风险暴露")] == 84_000.0  # 840m = 84,000 万元
    assert ws.cell(row=2, column=header.index("风险暴露") + 1).number_format == "#,##0.00"


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
