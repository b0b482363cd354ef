"""``check_many`` in parts and blocks (issue 19.2, SPEC §6): a table cut into one part per core, each
judged in blocks, gives exactly the answers of the table judged in one piece; a part that is not
clean sends the whole table to the column rules, whose messages number the rows of the whole.

The cuts are made small here (parts of 7 proposals, blocks of 3) so that small books have many of
them; the real sizes only change where the cuts fall.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groupexposure as gx
from groupexposure.decide import _parts
from groupexposure.decide.proposals import ProposalError
from tests.strategies import portfolios

NINGXIA = gx.analyze(gx.datasets.ningxia())
PRODUCTS = ["loan", "overdraft", "bond", "commitment", "guarantee_issued", "performance_bond",
            "trade_lc", "other"]


def _whole(result: gx.AnalysisResult, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
           ) -> pd.DataFrame:
    """``check_many`` with no cut at all."""
    with monkeypatch.context() as m:
        m.setattr(_parts, "PART_MIN", 10**12)
        m.setattr(_parts, "BLOCK", 10**12)
        return result.check_many(frame)


def _cut(monkeypatch: pytest.MonkeyPatch, cores: int = 3) -> None:
    monkeypatch.setattr(_parts, "PART_MIN", 7)
    monkeypatch.setattr(_parts, "BLOCK", 3)
    monkeypatch.setattr(_parts, "cores", lambda: cores)


def _random_table(result: gx.AnalysisResult, m: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = result.entities["entity_id"].to_numpy(dtype=object)
    obligor = ids[rng.integers(0, ids.size, m)]
    guarantor = np.where(rng.random(m) < 0.3, ids[rng.integers(0, ids.size, m)], None)
    return pd.DataFrame({
        "entity_id": obligor,
        "amount": np.round(rng.exponential(0.1, m) * result.capital.tier1, 0),
        "product": np.array(PRODUCTS)[rng.integers(0, len(PRODUCTS), m)],
        "guarantor_id": np.where(guarantor == obligor, None, guarantor),
        "collateral_value": np.where(rng.random(m) < 0.3, rng.exponential(1e8, m), 0.0),
    })


def test_a_table_in_parts_and_blocks_gives_the_answers_of_one_piece(monkeypatch):
    frame = _random_table(NINGXIA, 200, seed=7)
    whole = _whole(NINGXIA, frame, monkeypatch)
    _cut(monkeypatch)
    seen: list[int] = []
    real = _parts.ThreadPoolExecutor

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, max_workers: int) -> None:
            seen.append(max_workers)
            super().__init__(max_workers=max_workers)

    monkeypatch.setattr(_parts, "ThreadPoolExecutor", Counting)
    pd.testing.assert_frame_equal(NINGXIA.check_many(frame), whole, check_exact=True)
    assert seen == [3]  # one thread per core: the table was cut


@settings(max_examples=25, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(book=portfolios(), m=st.integers(1, 60), seed=st.integers(0, 1000),
       policy=st.sampled_from(["basel", "eu_crr", "cn_cbirc_2018", "cn_group_credit"]))
def test_cuts_never_change_an_answer(monkeypatch, book, m, seed, policy):
    r = gx.analyze(book, policy=policy)
    frame = _random_table(r, m, seed)
    whole = _whole(r, frame, monkeypatch)
    with monkeypatch.context() as mp:
        mp.setattr(_parts, "PART_MIN", 7)
        mp.setattr(_parts, "BLOCK", 3)
        mp.setattr(_parts, "cores", lambda: 2)
        pd.testing.assert_frame_equal(r.check_many(frame), whole, check_exact=True)


def test_a_refused_row_in_a_later_part_is_numbered_in_the_whole_table(monkeypatch):
    frame = _random_table(NINGXIA, 40, seed=3)
    frame.loc[33, "entity_id"] = "NOBODY"
    frame.loc[5, "amount"] = -1.0
    _cut(monkeypatch)
    with pytest.raises(ProposalError) as err:
        NINGXIA.check_many(frame)
    assert [i for i, _ in err.value.problems] == [5, 33]
    text = str(err.value)
    assert "proposal 6 (entity_id=" in text and "amount must be a number >= 0; got -1" in text
    assert "proposal 34 (entity_id=NOBODY): unknown entity 'NOBODY'" in text


def test_a_part_the_column_reader_doubts_is_read_by_the_column_rules(monkeypatch):
    # a number given as text in the last part: the column rules read "5" as 5, as check does
    frame = _random_table(NINGXIA, 30, seed=4).astype({"amount": object})
    frame.loc[29, "amount"] = "5"
    whole = _whole(NINGXIA, frame, monkeypatch)
    _cut(monkeypatch)
    out = NINGXIA.check_many(frame)
    pd.testing.assert_frame_equal(out, whole, check_exact=True)
    d = NINGXIA.check(frame.loc[29, "entity_id"], 5.0, frame.loc[29, "product"],
                      guarantor_id=frame.loc[29, "guarantor_id"],
                      collateral_value=frame.loc[29, "collateral_value"])
    assert out.loc[29, "max_amount"] == d.max_amount and out.loc[29, "reason"] == d.reason


def test_one_core_or_a_small_table_is_judged_in_one_piece(monkeypatch):
    monkeypatch.setattr(_parts, "cores", lambda: 1)
    monkeypatch.setattr(_parts, "ThreadPoolExecutor", None)  # would fail if a pool were made
    frame = _random_table(NINGXIA, 50, seed=5)
    assert len(NINGXIA.check_many(frame)) == 50
    monkeypatch.setattr(_parts, "cores", lambda: 8)
    assert len(NINGXIA.check_many(frame)) == 50  # 50 < 2 * PART_MIN: one piece
