"""national_id: the 统一社会信用代码 check character (GB 32100-2015), SPEC §1 entities.csv."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import groupexposure as gx
from groupexposure.model.schema import columns
from groupexposure.validate.national_id import (
    USCC_ALPHABET,
    is_resident_id,
    national_id_problems,
    uscc_check_char,
)
from tests.conftest import make_book

# 91350100M000100Y43 is the example most often printed with the standard; the others were built
# here in the real format (9 = enterprise registered with market regulation, 1 = company, 5 2 =
# social organisation; region 640000 宁夏, 640100 银川, 640300 吴忠) with their check characters.
VALID = ["91350100M000100Y43", "91640000710601234F", "91640300MA76A8XK2F", "916401002276935517",
         "52640000MJX04217XQ"]


def test_the_worked_check_digit() -> None:
    # 9 1 3 5 0 1 0 0 M 0 0 0 1 0 0 Y 4 with M = 21, Y = 30 and weights 1, 3, 9, 27, 19, 26, 16,
    # 17, 20, 29, 25, 13, 8, 24, 10, 30, 28:
    # 9 + 3 + 27 + 135 + 0 + 26 + 0 + 0 + 420 + 0 + 0 + 0 + 8 + 0 + 0 + 900 + 112 = 1640;
    # 1640 mod 31 = 28; 31 - 28 = 3 -> check character "3".
    values = [USCC_ALPHABET.index(c) for c in "91350100M000100Y4"]
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    assert sum(v * w for v, w in zip(values, weights, strict=True)) == 1640
    assert uscc_check_char("91350100M000100Y4") == "3"


@pytest.mark.parametrize("code", VALID)
def test_valid_codes_pass(code: str) -> None:
    assert uscc_check_char(code[:17]) == code[17]
    frame = pd.DataFrame({"entity_id": ["A"], "national_id": [code]})
    assert national_id_problems(frame) == []


def test_a_wrong_check_character_names_the_expected_one() -> None:
    frame = pd.DataFrame({"entity_id": ["ZY-INTL", "TM"],
                          "national_id": ["91640000710601234G", "91640300MA76A8XK2F"],
                          "_row": [3, 7]})
    (p,) = national_id_problems(frame)
    assert (p.severity, p.code, p.row, p.key, p.column) == (
        "warning", "invalid_national_id", 3, "entity_id=ZY-INTL", "national_id")
    assert p.message == ("national_id 91640000710601234G fails the 统一社会信用代码 check: the 18th "
                         "(check) character should be F, not G (GB 32100-2015); a digit or a letter "
                         "may have been mistyped; the entity is used all the same")


def test_letters_a_uscc_never_uses() -> None:
    frame = pd.DataFrame({"entity_id": ["A"], "national_id": ["9164O000710601234F"]})
    (p,) = national_id_problems(frame)
    assert "it holds O at position 5, which a 统一社会信用代码 never uses (no I, O, S, V or Z)" in p.message
    assert "O for 0" in p.message


def test_what_is_not_checked() -> None:
    # shorter or longer ids, foreign registry numbers, blanks, and a valid resident id card number
    frame = pd.DataFrame({"entity_id": list("ABCDE"),
                          "national_id": ["HRB 12345", "007", None, "11010519491231002X",
                                          "9164000071060123"]})
    assert national_id_problems(frame) == []
    assert is_resident_id("11010519491231002X") and not is_resident_id("110105194912310021")


def test_lower_case_codes_are_checked_as_upper_case() -> None:
    frame = pd.DataFrame({"entity_id": ["A", "B"],
                          "national_id": ["91640300ma76a8xk2f", "91640300ma76a8xk2g"]})
    (p,) = national_id_problems(frame)
    assert p.key == "entity_id=B" and "should be F, not g" in p.message


@settings(deadline=None)
@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_the_computed_check_character_always_passes(first17: str) -> None:
    code = first17 + uscc_check_char(first17)
    assert national_id_problems(pd.DataFrame({"entity_id": ["A"], "national_id": [code]})) == []
    wrong = first17 + next(c for c in USCC_ALPHABET if c != code[17])
    if is_resident_id(wrong):  # 18 digits may be a valid 居民身份证号码 instead
        return
    assert len(national_id_problems(pd.DataFrame({"entity_id": ["A"], "national_id": [wrong]}))) == 1


def test_in_the_analysis_ids_stay_text_and_the_entity_counts(tmp_path: Path) -> None:
    book = make_book([{"entity_id": "007", "national_id": "91640000710601234G"},
                      {"entity_id": "P", "national_id": "916401002276935517"}],
                     ownership=[("P", "007", 0.6)],
                     facilities=[{"obligor_id": "007", "drawn": 100.0}])
    result = gx.analyze(book)  # a warning, not an error: on_error="raise" goes on
    issues = result.issues[result.issues["code"] == "invalid_national_id"]
    assert issues["key"].tolist() == ["entity_id=007"]
    assert issues["value"].tolist() == ["91640000710601234G"]
    assert result.groups.set_index("group_id").loc["P", "exposure"] == 100.0


def test_national_id_is_a_schema_column() -> None:
    spec = {c.name: c for c in columns("entities")}
    assert spec["national_id"].kind == "id" and not spec["national_id"].required
