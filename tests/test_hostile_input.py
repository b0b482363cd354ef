"""Issue 13 (1, 4): no non-finite number ever enters; tables as they really come (SPEC §1, §7)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import groupexposure as gx
from groupexposure.core.limits import status
from tests.conftest import make_book, write_files

BASE = {"entities.csv": "entity_id\nA\nB\n", "ownership.csv": "owner_id,owned_id,share\n",
        "capital.json": json.dumps({"tier1": 1000})}


def problems_of(source: gx.Portfolio | Path, policy: str = "basel") -> pd.DataFrame:
    with pytest.raises(gx.ValidationError) as info:
        gx.analyze(source, policy=policy)
    return info.value.problems


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "Infinity", "-inf", "1e309"])
@pytest.mark.parametrize("column", ["drawn", "undrawn", "provision", "collateral_value", "ccf",
                                    "guaranteed_amount"])
def test_csv_amounts_must_be_finite(tmp_path, text, column):
    d = write_files(tmp_path / "b", {**BASE, "facilities.csv":
                                     f"facility_id,obligor_id,guarantor_id,{column}\n"
                                     f"F1,A,B,{text}\nF2,A,,1\n"})
    p = problems_of(d)
    bad = p[p["code"] == "non_finite"].iloc[0]
    assert (bad["table"], bad["row"], bad["column"]) == ("facilities", 1, column)
    assert bad["key"] == "facility_id=F1"
    assert bad["message"].startswith(f"{column} must be a finite number")
    assert "(nan, inf and numbers too large to hold, such as 1e309, are refused)" in bad["message"]


def test_fx_rate_and_share_must_be_finite(tmp_path):
    d = write_files(tmp_path / "b", {
        **BASE, "ownership.csv": "owner_id,owned_id,share\nA,B,inf\n",
        "facilities.csv": "facility_id,obligor_id,drawn,currency\nF1,A,5,USD\n",
        "fx.csv": "currency,rate\nUSD,inf\n"})
    p = problems_of(d)
    assert set(p.loc[p["code"] == "non_finite", "table"]) == {"ownership", "fx"}
    assert "currency USD has no rate in fx.csv" in " ".join(p["message"])


@pytest.mark.parametrize("value", [np.inf, -np.inf, True, "nan", "Infinity"])
def test_frames_refuse_non_finite_and_bools(value):
    book = make_book(["A"], facilities=[{"obligor_id": "A", "drawn": 1.0}])
    fac = book.facilities.astype(object)
    fac.loc[0, "drawn"] = value
    p = problems_of(gx.Portfolio.from_frames(entities=book.entities, facilities=fac,
                                             capital=book.capital or {}))
    assert p.iloc[0]["code"] in {"non_finite", "not_a_number"} and p.iloc[0]["column"] == "drawn"


def test_frame_nan_is_a_blank_cell():
    # in a DataFrame NaN is pandas' missing value: drawn blank -> 0 (SPEC §1 default)
    fac = pd.DataFrame({"facility_id": ["F1"], "obligor_id": ["A"], "drawn": [np.nan]})
    r = gx.analyze(gx.Portfolio.from_frames(entities=pd.DataFrame({"entity_id": ["A"]}),
                                            facilities=fac, capital={"tier1": 10.0}))
    assert r.entities["own_net"].tolist() == [0.0]


def test_parquet_and_excel_refuse_nan(tmp_path):
    d = write_files(tmp_path / "p", BASE)
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"facility_id": ["F1", "F2"], "obligor_id": ["A", "A"],  # NaN, null
                             "drawn": pa.array([float("nan"), None], type=pa.float64())}),
                   d / "facilities.parquet")
    p = problems_of(d)
    assert p.loc[p["code"] == "non_finite", "row"].tolist() == [1]
    pytest.importorskip("openpyxl")
    e = write_files(tmp_path / "x", BASE)
    pd.DataFrame({"facility_id": ["F1"], "obligor_id": ["A"], "drawn": ["inf"]}).to_excel(
        e / "facilities.xlsx", index=False)
    assert "non_finite" in set(problems_of(e)["code"])


@pytest.mark.parametrize("tier1", ['"inf"', "Infinity", "1e309", "true", "NaN"])
def test_capital_must_be_finite(tmp_path, tier1):
    d = write_files(tmp_path / "b", {**BASE, "facilities.csv": "facility_id,obligor_id\nF1,A\n",
                                     "capital.json": '{"tier1": ' + tier1 + "}"})
    rule = r"tier1: .*\(tier1 and total_capital must be finite numbers > 0\)"
    with pytest.raises(gx.ValidationError, match=rule):
        gx.analyze(d)


def test_check_and_check_many_refuse_non_finite():
    """A non-finite or boolean amount is refused by both paths, naming the value (one proposal path)."""
    r = gx.analyze(make_book(["A"], facilities=[{"obligor_id": "A", "drawn": 1.0}]))
    with pytest.raises(ValueError, match="got inf"):
        r.check("A", float("inf"))
    with pytest.raises(ValueError, match="got True"):
        r.check("A", True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"proposal 2 \(entity_id=A\): .*got inf"):
        r.check_many(pd.DataFrame({"entity_id": ["A", "A"], "amount": [1.0, np.inf]}))
    with pytest.raises(ValueError, match=r"collateral_value.*got True"):
        r.check_many(pd.DataFrame({"entity_id": ["A"], "amount": [1.0],
                                   "collateral_value": [True]}))


def test_nan_ratio_where_a_limit_applies_is_an_internal_error():
    assert status(np.array([np.nan]), np.array([np.nan]), 0.8).tolist() == ["ok"]
    with pytest.raises(FloatingPointError, match="internal error: 1 ratio"):
        status(np.array([0.1, np.nan]), np.array([0.25, 0.25]), 0.8)


def test_duplicate_column_names_are_an_error(tmp_path):
    d = write_files(tmp_path / "b", {**BASE, "facilities.csv":
                                     "facility_id,obligor_id,drawn,drawn\nF1,A,5,500\n"})
    with pytest.raises(gx.ValidationError,
                       match=r"facilities\.csv has 2 columns named drawn; each column must appear once"):
        gx.analyze(d)
    fac = pd.DataFrame([["F1", "A", 5.0, 500.0]], columns=["facility_id", "obligor_id", "drawn",
                                                            "drawn"])
    with pytest.raises(gx.ValidationError, match="facilities frame has 2 columns named drawn"):
        gx.analyze(gx.Portfolio.from_frames(entities=pd.DataFrame({"entity_id": ["A"]}),
                                            facilities=fac, capital={"tier1": 10.0}),
                   on_error="collect")


def test_from_frames_with_a_non_unique_index():
    ent = pd.DataFrame({"entity_id": ["A", "B"]}, index=[0, 0])
    fac = pd.DataFrame({"facility_id": ["F1", "F2", "F3"], "obligor_id": ["A", "B", "Q"],
                        "drawn": [1.0, 2.0, -3.0]}, index=[7, 7, 7])
    book = gx.Portfolio.from_frames(entities=ent, facilities=fac, capital={"tier1": 10.0})
    p = problems_of(book)
    assert p[["row", "code"]].values.tolist() == [[3, "negative_amount"], [3, "unknown_entity"]]
    r = gx.analyze(book, on_error="collect")
    assert r.entities["own_net"].tolist() == [1.0, 2.0]


def test_zero_byte_optional_file_is_an_empty_table(tmp_path):
    d = write_files(tmp_path / "b", {**BASE, "facilities.csv": "facility_id,obligor_id,drawn\n"
                                     "F1,A,5\n", "connections.csv": "", "fx.csv": ""})
    r = gx.analyze(d)
    w = r.issues[r.issues["code"] == "empty_file"]
    assert set(w["severity"]) == {"warning"}
    assert "connections.csv is empty (0 bytes); read as an empty connections table" in set(
        w["message"])
    (d / "facilities.csv").write_text("")
    with pytest.raises(gx.ValidationError, match=r"facilities\.csv is empty"):
        gx.analyze(d)


def test_capital_json_with_a_byte_order_mark(tmp_path):
    d = write_files(tmp_path / "b", {**BASE, "facilities.csv": "facility_id,obligor_id\nF1,A\n"})
    (d / "capital.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"tier1": 50}).encode())
    assert gx.analyze(d).capital.tier1 == 50.0


def test_two_files_for_one_table_is_an_error(tmp_path):
    d = write_files(tmp_path / "b", {**BASE, "facilities.csv": "facility_id,obligor_id\nF1,A\n"})
    pd.DataFrame({"entity_id": ["A"]}).to_parquet(d / "entities.parquet")
    with pytest.raises(gx.ValidationError,
                       match=r"entities\.csv and entities\.parquet both hold the entities table"):
        gx.analyze(d, on_error="collect")


def test_ids_that_differ_only_by_spaces_or_normal_form_are_warned():
    nfc, nfd = "Caf\u00e9", "Cafe\u0301"
    r = gx.analyze(make_book(["P", "P ", nfc, nfd]))
    w = r.issues[r.issues["code"] == "similar_ids"]
    assert set(w["severity"]) == {"warning"} and len(w) == 4
    assert ("entity ids 'P' and 'P ' differ only by surrounding spaces or Unicode normalisation; "
            "they are read as different entities") in set(w["message"])
    assert any(nfc in m and nfd in m for m in w["message"])
    p = problems_of(make_book(["P"], facilities=[{"obligor_id": " P"}]))
    assert "did you mean 'P'? they differ only by surrounding spaces" in p.iloc[0]["message"]
