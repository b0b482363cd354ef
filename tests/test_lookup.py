"""The index's table of ids (issue 19.2, SPEC §6): a whole column of ids looked up through it gives
exactly what arrow's ``pc.index_in`` gives (the code of each id in the book, none for a null or an
unknown id), whatever the ids: any text, any length, sliced or in chunks, and even when every hash
collides. ``check_many`` answers the same with the table as without it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import groupexposure as gx
from groupexposure.decide import _lookup
from groupexposure.decide._lookup import MAX_WIDTH, IdLookup

# ids as banks write them and as they should not: Chinese, spaces, NULs, empty, up to 80 bytes
_IDS = st.text(alphabet=st.sampled_from(list("AB01- \0中国集团")), max_size=30)


def _arrow(ids: list[str], values: pa.Array) -> np.ndarray:
    """What ``pc.index_in`` says: the code, -1 where null or not in ``ids``."""
    found = pc.index_in(values, value_set=pa.array(ids, type=pa.string()))
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


@settings(max_examples=300, deadline=None)
@given(ids=st.lists(_IDS, unique=True, max_size=40), others=st.lists(st.none() | _IDS, max_size=20),
       picks=st.lists(st.integers(0, 10**6), max_size=40))
def test_a_column_looked_up_gives_what_arrow_gives(ids, others, picks):
    lookup = IdLookup.of(pa.array(ids, type=pa.string()))
    too_long = any(len(i.encode()) > MAX_WIDTH for i in ids)
    assert (lookup is None) == too_long
    if lookup is None:
        return
    values = [ids[k % len(ids)] for k in picks] if ids else []
    values += others
    column = pa.array(values, type=pa.string())
    expected = _arrow(ids, column)
    assert lookup.codes(column).tolist() == expected.tolist()
    # a slice of a longer column, and the same column in chunks
    longer = pa.array(["before", *values, "after"], type=pa.string()).slice(1, len(values))
    assert lookup.codes(longer).tolist() == expected.tolist()
    chunks = pa.chunked_array([column.slice(0, len(values) // 2),
                               column.slice(len(values) // 2)], type=pa.string())
    assert lookup.codes(chunks).tolist() == expected.tolist()


def test_ids_of_one_width_are_read_in_place_and_of_many_widths_padded():
    same = [f"E{i:07d}" for i in range(1000)]
    lookup = IdLookup.of(pa.array(same))
    assert lookup is not None and lookup.width == 8
    query = pa.array(["E0000999", "E0000000", "E000099", "E00009999", None, "E0000500"])
    assert lookup.codes(query).tolist() == [999, 0, -1, -1, -1, 500]
    mixed = IdLookup.of(pa.array(["TM", "RC-SPIN", "国电集团有限公司"]))  # 24 bytes of UTF-8
    assert mixed is not None and mixed.width == 24
    assert mixed.codes(pa.array(["国电集团有限公司", "TM", "T"])).tolist() == [2, 0, -1]


def test_every_hash_colliding_costs_probes_not_answers(monkeypatch):
    monkeypatch.setattr(_lookup, "_hash", lambda keys: np.zeros(len(keys), np.uint64))
    ids = [f"id-{i}" for i in range(300)]
    lookup = IdLookup.of(pa.array(ids))
    assert lookup is not None
    query = pa.array([*reversed(ids), "id-300", "id-", None])
    assert lookup.codes(query).tolist() == [*range(299, -1, -1), -1, -1, -1]


def test_an_id_and_the_same_with_nuls_after_it_are_two_ids():
    lookup = IdLookup.of(pa.array(["A", "A\0", "A\0\0"]))  # the same padded rows, three lengths
    assert lookup is not None
    assert lookup.codes(pa.array(["A\0\0", "A", "A\0", "A\0\0\0"])).tolist() == [2, 0, 1, -1]


def test_a_book_with_too_long_an_id_has_no_table():
    assert IdLookup.of(pa.array(["A", "B" * (MAX_WIDTH + 1)])) is None  # too long a row
    assert IdLookup.of(pa.array(["A", "B" * MAX_WIDTH])) is not None
    empty = IdLookup.of(pa.array([], type=pa.string()))
    assert empty is not None and empty.codes(pa.array(["A", None])).tolist() == [-1, -1]


def test_check_many_answers_the_same_without_the_table():
    result = gx.analyze(gx.datasets.ningxia())
    rng = np.random.default_rng(3)
    ids = result.entities["entity_id"].to_numpy(dtype=object)
    frame = pd.DataFrame({
        "entity_id": ids[rng.integers(0, ids.size, 400)],
        "amount": np.round(rng.exponential(0.1, 400) * result.capital.tier1, 0),
        "guarantor_id": np.where(rng.random(400) < 0.3, ids[rng.integers(0, ids.size, 400)],
                                 None)})
    frame["guarantor_id"] = frame["guarantor_id"].where(frame["guarantor_id"] != frame["entity_id"])
    ix = result._check_index
    assert ix.id_lookup is not None
    with_table = result.check_many(frame)
    ix.__dict__["id_lookup"] = None  # as for a book the table cannot hold: arrow's look-up
    pd.testing.assert_frame_equal(result.check_many(frame), with_table, check_exact=True)


@pytest.mark.parametrize(("value", "message"), [
    ("nobody", "unknown entity 'nobody': not in entities.csv"),
    ("TM\0", "unknown entity 'TM\\x00': not in entities.csv; did you mean TM?")])
def test_an_unknown_id_in_a_column_is_named_with_its_row(value, message):
    result = gx.analyze(gx.datasets.ningxia())
    with pytest.raises(ValueError) as err:
        result.check_many(pd.DataFrame({"entity_id": ["TM", value], "amount": [1.0, 2.0]}))
    assert str(err.value) == f"invalid proposals:\n  proposal 2 (entity_id={value}): {message}"
