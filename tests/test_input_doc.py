"""docs/input.md: its column tables are the schema's, and its worked example gives its numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import groupexposure as gx
from groupexposure.model.columns_doc import MEANINGS, generated, rewrite
from groupexposure.model.schema import TABLES, columns

DOC = Path(__file__).resolve().parents[1] / "docs" / "input.md"


def test_the_doc_tables_are_the_schema() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert rewrite(text) == text, (
        "docs/input.md is out of date: python -m groupexposure.model.columns_doc docs/input.md")
    for name in generated():
        assert f"<!-- generated:{name} -->" in text


@pytest.mark.parametrize("table", list(TABLES))
def test_every_schema_column_is_described_and_listed(table: str) -> None:
    names = [c.name for c in columns(table)]
    assert set(MEANINGS[table]) == set(names)
    section = DOC.read_text(encoding="utf-8").split(f"<!-- generated:{table} -->")[1]
    section = section.split("<!-- /generated -->")[0]
    assert [line.split("|")[1].strip() for line in section.strip().splitlines()[2:]] == names


def _block(text: str, name: str) -> str:
    m = re.search(rf"`{re.escape(name)}`\n```(?:json)?\n(.*?)```", text, re.S)
    assert m, name
    return m.group(1)


def test_the_worked_example(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    d = tmp_path / "伊品"
    d.mkdir()
    for name in ("entities.csv", "ownership.csv", "facilities.csv"):
        (d / name).write_bytes(_block(text, name).encode("gbk"))
    (d / "columns.json").write_text(_block(text, "columns.json"), encoding="utf-8")
    cap = re.search(r"`capital.json`: `(\{.*?\})`", text)
    assert cap
    (d / "capital.json").write_text(json.dumps(json.loads(cap.group(1)), ensure_ascii=False),
                                    encoding="utf-8")
    result = gx.analyze(d, policy="cn_cbirc_2018", amount_unit="万元", capital_unit="亿元")
    group = result.groups.set_index("group_id").loc["YP-INV"]
    assert group["exposure"] == 680_000_000.0
    assert group["ratio"] == pytest.approx(0.2125) and group["status"] == "breach"
    assert group["n_members"] == 2 and result.capital.tier1 == 3_200_000_000.0
    bio = result.entities.set_index("entity_id").loc["YP-BIO"]
    assert bio["ratio"] == pytest.approx(5 / 38) and bio["status"] == "breach"
    assert bio["limit"] == 0.10
