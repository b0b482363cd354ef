"""Files as a Chinese bank keeps them (SPEC §1): encodings, one workbook, its own headers, 万元.

Every form of the bundled Ningxia book must give the same groups and numbers as the canonical files.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import groupexposure as gx
from groupexposure.cli import main
from groupexposure.io.encodings import detect_encoding

NINGXIA = gx.datasets.ningxia_path()
TABLES = ("entities", "ownership", "connections", "facilities", "fx")
AMOUNTS = ("drawn", "undrawn", "provision", "guaranteed_amount", "collateral_value")
BANK_HEADERS = {
    "entities": {"客户编号": "entity_id", "客户名称": "name", "客户类型": "kind"},
    "ownership": {"股东编号": "owner_id", "被投资企业编号": "owned_id", "持股比例": "share"},
    "facilities": {"业务编号": "facility_id", "借款人编号": "obligor_id", "贷款余额": "drawn",
                   "保证人编号": "guarantor_id"},
    "capital": {"一级资本净额": "tier1", "资本净额": "total_capital"},
}


def canonical() -> dict[str, pd.DataFrame]:
    return {t: pd.read_csv(NINGXIA / f"{t}.csv", dtype=str, keep_default_na=False) for t in TABLES}


def capital() -> dict[str, object]:
    data: dict[str, object] = json.loads((NINGXIA / "capital.json").read_text(encoding="utf-8"))
    return data


def write_dir(directory: Path, frames: dict[str, pd.DataFrame], *, encoding: str = "utf-8",
              cap: dict[str, object] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for table, frame in frames.items():
        (directory / f"{table}.csv").write_bytes(frame.to_csv(index=False).encode(encoding))
    (directory / "capital.json").write_text(json.dumps(cap or capital(), ensure_ascii=False),
                                            encoding="utf-8")
    return directory


def same_as_canonical(result: gx.AnalysisResult) -> None:
    """Same groups, members and numbers as the canonical Ningxia files (SPEC §1)."""
    expected = gx.analyze(NINGXIA, policy="cn_cbirc_2018")
    pd.testing.assert_frame_equal(result.groups, expected.groups)
    pd.testing.assert_frame_equal(result.members, expected.members)
    pd.testing.assert_frame_equal(result.entities, expected.entities)


# --- encodings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "detected"), [
    ("gbk", "gb18030"), ("gb18030", "gb18030"), ("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8-sig"),
])
def test_each_encoding_reads_as_the_canonical_files(tmp_path: Path, encoding: str,
                                                     detected: str) -> None:
    d = write_dir(tmp_path / "宁夏分行", canonical(), encoding=encoding)
    assert detect_encoding(d / "entities.csv") == detected
    if encoding == "utf-8-sig":
        assert (d / "entities.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    book = gx.load_portfolio(d)
    assert "宁夏伊品生物科技股份有限公司" in set(book.entities["name"])
    assert book.entities.columns[0] == "entity_id"  # no BOM left on the first header
    same_as_canonical(gx.analyze(d, policy="cn_cbirc_2018"))


def test_a_gb18030_only_character_is_read(tmp_path: Path) -> None:
    # 𠀀 (U+20000) is in GB18030 (four bytes) but not in GBK.
    frames = canonical()
    frames["entities"].loc[0, "name"] = "𠀀宁夏"
    d = write_dir(tmp_path / "d", frames, encoding="gb18030")
    assert gx.load_portfolio(d).entities.loc[0, "name"] == "𠀀宁夏"


def test_forced_encoding_and_a_wrong_one(tmp_path: Path) -> None:
    d = write_dir(tmp_path / "d", canonical(), encoding="gbk")
    assert gx.load_portfolio(d, encoding="GBK").entities.loc[0, "name"] == "宁夏中银绒业国际集团有限公司"
    with pytest.raises(gx.ValidationError, match=r"entities.csv cannot be decoded as utf-8 \(byte "
                       r"0x\w\w at byte offset \d+, line 2\).*encoding="):
        gx.analyze(d, encoding="utf-8")


def test_a_file_in_neither_encoding_names_the_encodings_tried(tmp_path: Path) -> None:
    d = write_dir(tmp_path / "d", canonical())
    # Latin-1 é followed by a space: neither UTF-8 nor a GB18030 double-byte character.
    (d / "entities.csv").write_bytes(b"entity_id,name\nA,caf\xe9 noir\n")
    book = gx.load_portfolio(d)
    (p,) = [p for p in book.problems if p.code == "unreadable_file"]
    assert ("utf-8 (byte 0xe9 at byte offset 20, line 2) or as gb18030 (byte 0xe9 at byte offset "
            "20, line 2)") in p.message
    assert "save it from Excel as 'CSV UTF-8'" in p.message and "--encoding" in p.message
    with pytest.raises(gx.ValidationError, match=r"cannot be decoded as utf-8"):
        gx.analyze(book)


def test_utf16_is_named(tmp_path: Path) -> None:
    d = write_dir(tmp_path / "d", canonical())
    (d / "entities.csv").write_bytes("entity_id\tname\nA\t宁夏\n".encode("utf-16"))
    (p,) = [p for p in gx.load_portfolio(d).problems if p.code == "unreadable_file"]
    assert "looks like UTF-16 LE (Excel's 'Unicode Text')" in p.message


def test_unknown_encoding_is_refused_at_once(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown encoding 'gbx'.*gb18030"):
        gx.load_portfolio(NINGXIA, encoding="gbx")


def test_cli_encoding(tmp_path: Path) -> None:
    d = write_dir(tmp_path / "d", canonical(), encoding="gbk")
    out = io.StringIO()
    assert main(["explain", str(d), "--entity", "TM", "--encoding", "gbk"], out=out) == 0
    assert main(["explain", str(d), "--entity", "TM", "--encoding", "utf-8"], out=out) == 2


# --- one workbook ------------------------------------------------------------------------------


def write_workbook(path: Path, frames: dict[str, pd.DataFrame],
                   cap: dict[str, object] | None, *, numbers: bool = True) -> Path:
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        for table, frame in frames.items():
            out = frame.copy()
            if numbers:  # amounts as Excel numbers, as a bank's sheet holds them
                for col in (*AMOUNTS, "share", "voting", "ccf", "rate"):
                    if col in out:
                        out[col] = pd.to_numeric(out[col].replace("", None))
            out.to_excel(xl, sheet_name=table, index=False)
        if cap is not None:
            rows = pd.DataFrame({"key": list(cap), "value": list(cap.values())})
            rows.to_excel(xl, sheet_name="capital", index=False)
    return path


def test_a_workbook_reads_as_the_canonical_files(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "宁夏分行.xlsx", canonical(), capital())
    book = gx.load_portfolio(path)
    assert book.capital == {**capital(), "tier1": 3.2e9, "total_capital": 3.8e9}
    assert book.sources["entities"] == "宁夏分行.xlsx[entities]"
    same_as_canonical(gx.analyze(path, policy="cn_cbirc_2018"))


def test_a_workbook_with_capital_json_beside_it(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "book.xlsx", canonical(), None, numbers=False)
    (tmp_path / "capital.json").write_text(json.dumps(capital()), encoding="utf-8")
    same_as_canonical(gx.analyze(path, policy="cn_cbirc_2018"))
    out = io.StringIO()
    assert main(["analyze", str(path), "--policy", "cn_cbirc_2018", "--out",
                 str(tmp_path / "out"), "--report", "never"], out=out) == 0
    groups = pd.read_csv(tmp_path / "out" / "groups.csv", dtype={"group_id": str})
    assert set(groups["group_id"]) == set(gx.analyze(NINGXIA).groups["group_id"])


def test_a_workbook_with_two_capital_records_or_none(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "book.xlsx", canonical(), capital())
    (tmp_path / "capital.json").write_text(json.dumps(capital()), encoding="utf-8")
    with pytest.raises(gx.ValidationError, match=r"two capital records: the capital sheet of "
                       "book.xlsx and .*capital.json; keep one"):
        gx.analyze(path)
    (tmp_path / "capital.json").unlink()
    bare = write_workbook(tmp_path / "bare.xlsx", canonical(), None)
    with pytest.raises(gx.ValidationError, match=r"bare.xlsx has no capital sheet .* and there is "
                       "no capital.json beside it"):
        gx.analyze(bare)


def test_a_workbook_without_a_required_sheet(tmp_path: Path) -> None:
    frames = canonical()
    del frames["facilities"]
    path = write_workbook(tmp_path / "book.xlsx", frames, capital())
    with pytest.raises(gx.ValidationError, match=r"book.xlsx needs a sheet named facilities; its "
                       "sheets are: entities, ownership, connections, fx, capital"):
        gx.analyze(path)


# --- the bank's own headers --------------------------------------------------------------------


def bank_frames() -> dict[str, pd.DataFrame]:
    frames = canonical()
    for table, pairs in BANK_HEADERS.items():
        if table in frames:
            frames[table] = frames[table].rename(columns={v: k for k, v in pairs.items()})
    return frames


def bank_capital() -> dict[str, object]:
    cap = capital()
    cap["一级资本净额"], cap["资本净额"] = cap.pop("tier1"), cap.pop("total_capital")
    return cap


def test_a_column_map_given_or_beside_the_files(tmp_path: Path) -> None:
    d = write_dir(tmp_path / "bank", bank_frames(), encoding="gbk", cap=bank_capital())
    same_as_canonical(gx.analyze(d, policy="cn_cbirc_2018", columns=BANK_HEADERS))
    (d / "columns.json").write_text(json.dumps(BANK_HEADERS, ensure_ascii=False), encoding="utf-8")
    same_as_canonical(gx.analyze(d, policy="cn_cbirc_2018"))


def test_a_column_map_on_the_command_line(tmp_path: Path) -> None:
    d = write_dir(tmp_path / "bank", bank_frames(), cap=bank_capital())
    cols = tmp_path / "我行字段.json"
    cols.write_text(json.dumps(BANK_HEADERS, ensure_ascii=False), encoding="utf-8-sig")
    out = io.StringIO()
    assert main(["check", str(d), "--entity", "TM", "--amount", "1000", "--columns", str(cols),
                 "--policy", "cn_cbirc_2018"], out=out) == 0
    assert main(["check", str(d), "--entity", "TM", "--amount", "1000"], out=out) == 2


def test_a_column_map_onto_an_unknown_column_or_table() -> None:
    with pytest.raises(ValueError, match=r"entities: 客户编号 is mapped onto entity_ID, which is not "
                       "a column of entities — did you mean entity_id?"):
        gx.load_portfolio(NINGXIA, columns={"entities": {"客户编号": "entity_ID"}})
    with pytest.raises(ValueError, match=r"'entity' is not a table — did you mean entities?"):
        gx.load_portfolio(NINGXIA, columns={"entity": {"客户编号": "entity_id"}})
    with pytest.raises(ValueError, match=r"both 客户编号 and 编号 are mapped onto entity_id"):
        gx.load_portfolio(NINGXIA, columns={"entities": {"客户编号": "entity_id",
                                                         "编号": "entity_id"}})


def test_a_column_map_file_that_is_not_json(tmp_path: Path) -> None:
    bad = tmp_path / "columns.json"
    bad.write_text("{entities: 1", encoding="utf-8")
    with pytest.raises(ValueError, match=r"the column map columns.json is not valid JSON"):
        gx.load_portfolio(NINGXIA, columns=bad)


def test_a_mapped_header_the_file_lacks_or_a_clash(tmp_path: Path) -> None:
    d = write_dir(tmp_path / "bank", bank_frames(), cap=bank_capital())
    wrong = {**BANK_HEADERS, "facilities": {**BANK_HEADERS["facilities"], "担保金额": "guaranteed_amount"}}
    with pytest.raises(gx.ValidationError, match=r"the column map renames 担保金额 to "
                       "guaranteed_amount, but facilities.csv has no column 担保金额; its columns "
                       "are: 业务编号, 借款人编号, product, 贷款余额"):
        gx.analyze(d, columns=wrong)
    frames = bank_frames()
    frames["entities"]["entity_id"] = frames["entities"]["客户编号"]
    d2 = write_dir(tmp_path / "clash", frames, cap=bank_capital())
    with pytest.raises(gx.ValidationError, match=r"entities.csv has both 客户编号 \(mapped onto "
                       r"entity_id\) and entity_id; keep one"):
        gx.analyze(d2, columns=BANK_HEADERS)


# --- units and numbers as text -----------------------------------------------------------------


def in_wan(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    fac = frames["facilities"].copy()
    for col in AMOUNTS:
        num = pd.to_numeric(fac[col].replace("", None))
        fac[col] = (num / 1e4).map(lambda v: "" if v != v else f"{v:g}")
    return {**frames, "facilities": fac}


def test_amounts_in_wan_and_capital_in_yi(tmp_path: Path) -> None:
    cap = {**capital(), "tier1": 32, "total_capital": 38}  # 亿元
    d = write_dir(tmp_path / "d", in_wan(canonical()), encoding="gbk", cap=cap)
    assert gx.load_portfolio(d, amount_unit="万元").facilities["drawn"].iloc[0] == 5e8
    result = gx.analyze(d, policy="cn_cbirc_2018", amount_unit="万元", capital_unit="亿元")
    same_as_canonical(result)
    info = result.issues[result.issues["code"] == "amount_unit"]
    assert set(info["table"]) == {"facilities", "capital"}
    assert "facility amounts read in 万元 and multiplied by 10,000" in " ".join(info["message"])
    same_as_canonical(gx.analyze(d, policy="cn_cbirc_2018", amount_unit=10000, capital_unit="1e8"))
    out = io.StringIO()
    assert main(["analyze", str(d), "--policy", "cn_cbirc_2018", "--amount-unit", "万元",
                 "--capital-unit", "亿元", "--out", str(tmp_path / "o"), "--report", "never"],
                out=out) == 0
    groups = pd.read_csv(tmp_path / "o" / "groups.csv", dtype={"group_id": str})
    expected = gx.analyze(NINGXIA, policy="cn_cbirc_2018").groups
    assert groups["exposure"].tolist() == pytest.approx(expected["exposure"].tolist())


def test_wan_amounts_are_exact_to_the_fen(tmp_path: Path) -> None:
    frames = canonical()
    frames["facilities"].loc[0, "drawn"] = "12.3456"
    d = write_dir(tmp_path / "d", frames)
    assert gx.load_portfolio(d, amount_unit="万元").facilities["drawn"].iloc[0] == 123456.0


def test_an_unknown_unit_is_refused() -> None:
    with pytest.raises(ValueError, match=r"amount_unit must be 元, 万元 or 亿元 .* got '万美元'"):
        gx.load_portfolio(NINGXIA, amount_unit="万美元")
    with pytest.raises(ValueError, match=r"capital_unit must be .* got -1"):
        gx.load_portfolio(NINGXIA, capital_unit=-1)
    with pytest.raises(ValueError, match=r"amount_unit apply when reading files"):
        gx.analyze(gx.datasets.ningxia(), amount_unit="万元")


def test_units_that_differ_give_a_warning(tmp_path: Path) -> None:
    # Amounts in 万元 read as 元: the book (19,100 万 of exposure read as 191,600 元...) is far
    # below 0.1% of Tier 1 (3.2bn): a warning says the units may differ.
    d = write_dir(tmp_path / "d", in_wan(canonical()))
    issues = gx.analyze(d, policy="cn_cbirc_2018").issues
    (msg,) = issues.loc[issues["code"] == "unit_mismatch", "message"]
    assert msg.startswith("the book's total exposure (") and "% of Tier 1 (3,200,000,000 CNY)" in msg
    assert "amount_unit= and capital_unit=" in msg
    # Capital in 万元 read as 元 (tier1 320,000): the book is above 1,000 times Tier 1.
    d2 = write_dir(tmp_path / "d2", canonical(), cap={**capital(), "tier1": 320000,
                                                       "total_capital": 380000})
    issues = gx.analyze(d2, policy="cn_cbirc_2018").issues
    (msg,) = issues.loc[issues["code"] == "unit_mismatch", "message"]
    assert " times Tier 1 (320,000 CNY)" in msg
    assert not (gx.analyze(NINGXIA).issues["code"] == "unit_mismatch").any()


def test_thousands_separators_are_numbers(tmp_path: Path) -> None:
    frames = canonical()
    fac = frames["facilities"]
    fac["drawn"] = pd.to_numeric(fac["drawn"]).map(lambda v: f"{v:,.2f}")  # "500,000,000.00"
    d = write_dir(tmp_path / "d", frames, encoding="gbk")
    assert (d / "facilities.csv").read_text(encoding="gbk").count('"500,000,000.00"') == 2
    same_as_canonical(gx.analyze(d, policy="cn_cbirc_2018"))
    cap = {**capital(), "tier1": "3,200,000,000", "total_capital": "3,800,000,000.00"}
    d2 = write_dir(tmp_path / "d2", frames, cap=cap)
    same_as_canonical(gx.analyze(d2, policy="cn_cbirc_2018"))


def test_an_amount_with_its_unit_says_how_to_give_units(tmp_path: Path) -> None:
    frames = canonical()
    frames["facilities"].loc[0, "drawn"] = "5亿元"
    frames["facilities"].loc[1, "undrawn"] = "300万"
    d = write_dir(tmp_path / "d", frames)
    with pytest.raises(gx.ValidationError) as err:
        gx.analyze(d)
    text = str(err.value)
    assert ('facilities.csv row 1 (facility_id=YP-L1): drawn: got 5亿元, a number with its unit: '
            'write the number only (5) and give the unit once for the file, amount_unit="亿元" '
            '(CLI --amount-unit 亿元)') in text
    assert 'row 2 (facility_id=YP-L2): undrawn: got 300万' in text and 'amount_unit="万"' in text
    # collect: both rows are dropped and listed, never read as 0
    result = gx.analyze(d, on_error="collect")
    dropped = result.issues[result.issues["code"] == "amount_with_unit"]
    assert dropped["row"].tolist() == [1, 2]
    assert "YP-L1" not in set(result.facilities["facility_id"])


def test_capital_with_its_unit_says_how_to_give_units(tmp_path: Path) -> None:
    d = write_dir(tmp_path / "d", canonical(), cap={**capital(), "tier1": "32亿元"})
    with pytest.raises(gx.ValidationError, match=r'tier1: got 32亿元, a number with its unit: .* '
                       r'capital_unit="亿元" \(CLI --capital-unit 亿元\)'):
        gx.analyze(d)


# --- writing what they open --------------------------------------------------------------------


def test_csv_output_has_a_bom_unless_no_bom(tmp_path: Path) -> None:
    out = io.StringIO()
    assert main(["analyze", str(NINGXIA), "--out", str(tmp_path / "a"), "--report", "never"],
                out=out) == 0
    for name in ("groups", "entities", "members", "issues"):
        raw = (tmp_path / "a" / f"{name}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        assert raw.decode("utf-8-sig").startswith(('"group_id"', '"entity_id"', '"severity"'))
    assert "宁夏" in (tmp_path / "a" / "groups.csv").read_text(encoding="utf-8-sig")
    assert main(["analyze", str(NINGXIA), "--out", str(tmp_path / "b"), "--report", "never",
                 "--no-bom"], out=out) == 0
    assert not (tmp_path / "b" / "groups.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    result = gx.analyze(NINGXIA)
    result.to_csv(tmp_path / "c", bom=False)
    assert (tmp_path / "c" / "groups.csv").read_bytes()[:1] == b'"'
    # what we write we read back: the output entities.csv is a readable table (BOM stripped)
    back = pd.read_csv(tmp_path / "a" / "groups.csv", dtype={"group_id": str}, encoding="utf-8-sig")
    assert back.columns[0] == "group_id"


def test_output_written_with_a_bom_reads_back_as_input(tmp_path: Path) -> None:
    d = tmp_path / "d"
    shutil.copytree(NINGXIA, d)
    from groupexposure.safe import write_csv

    write_csv(pd.read_csv(NINGXIA / "entities.csv", dtype=str), d / "entities.csv")
    assert (d / "entities.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    same_as_canonical(gx.analyze(d, policy="cn_cbirc_2018"))
