"""Random corruption of valid portfolios (issue: bad input). The library either raises a
ValidationError naming the corrupted row, or accounts for every row; it never fails otherwise."""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groupexposure as gx
from tests.strategies import portfolios

JUNK: list[Any] = ["", None, "x", -1, -0.5, 150, "60%", 1e20, "007", "TRUE", "maybe", float("nan"),
                   "=1+1", "Loan", " E00"]
TABLES = ["entities", "ownership", "connections", "facilities", "fx"]
REFERRED_FROM = {"entities": {"ownership", "connections", "facilities"}, "fx": {"facilities"},
                 "ownership": set(), "connections": set(), "facilities": set()}


@st.composite
def corrupted(draw: st.DrawFn) -> tuple[gx.Portfolio, str, int | None]:
    book = draw(portfolios(max_entities=6))
    frames = {t: getattr(book, t).copy() for t in TABLES}
    table = draw(st.sampled_from([t for t in TABLES if len(frames[t])]))
    frame = frames[table].astype(object)
    how = draw(st.sampled_from(["cell", "cell", "cell", "duplicate", "shuffle_columns"]))
    row: int | None = None
    if how == "cell":
        row = draw(st.integers(0, len(frame) - 1))
        col = draw(st.sampled_from(list(frame.columns)))
        frame.iloc[row, frame.columns.get_loc(col)] = draw(st.sampled_from(JUNK))
    elif how == "duplicate":
        copied = draw(st.integers(0, len(frame) - 1))
        frame = pd.concat([frame, frame.iloc[[copied]]], ignore_index=True)
        row = len(frame) - 1  # the copy is the last row
    else:
        frame = frame[list(reversed(frame.columns))]
    frames[table] = frame
    bad = gx.Portfolio.from_frames(capital=book.capital or {}, **frames)
    return bad, table, None if row is None else row + 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=corrupted(), collect=st.booleans())
def test_corruption_is_reported_or_accounted_for(case, collect):
    book, table, row = case
    try:
        r = gx.analyze(book, on_error="collect" if collect else "raise")
    except gx.ValidationError as err:
        p = err.problems
        errors = p[p["severity"] == "error"]
        assert len(errors) > 0
        if row is not None and not collect:
            structural = errors["row"].isna().any()
            named = ((errors["table"] == table) & (errors["row"] == row)).any()
            # a changed id or currency shows up in the rows that refer to it
            elsewhere = errors["table"].isin(REFERRED_FROM[table]).any()
            assert structural or named or elsewhere, errors[["table", "row", "message"]]
        return
    counts = r.row_counts.set_index("table")
    assert (counts["read"] == counts["used"] + counts["dropped"]).all()
    dropped_rows = r.issues[(r.issues["severity"] == "error")]
    for t in TABLES:
        listed = set(dropped_rows.loc[dropped_rows["table"] == t, "row"].dropna().astype(int))
        assert len(listed) == counts.loc[t, "dropped"]
