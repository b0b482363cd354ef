"""Properties that hold for every portfolio (STYLE rule 10, SPEC §7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groupexposure as gx
from tests.strategies import facility, portfolios, shuffled

POLICIES = ["basel", "eu_crr", "cn_cbirc_2018", "cn_group_credit"]
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(book=portfolios(), seed=st.integers(0, 10_000), policy=st.sampled_from(POLICIES),
       grouping=st.sampled_from(["overlapping", "partition"]))
def test_row_order_never_changes_any_output(book, seed, policy, grouping):
    a = gx.analyze(book, policy=policy, grouping=grouping)
    b = gx.analyze(shuffled(book, seed), policy=policy, grouping=grouping)
    for name in ("groups", "entities", "members"):
        pd.testing.assert_frame_equal(a.frame(name), b.frame(name), check_exact=False,
                                      rtol=1e-9, atol=1e-6)
    cols = ["severity", "code", "table", "key", "column", "message"]
    key = cols
    pd.testing.assert_frame_equal(a.issues[cols].sort_values(key).reset_index(drop=True),
                                  b.issues[cols].sort_values(key).reset_index(drop=True))


@SETTINGS
@given(book=portfolios(), data=st.data(), policy=st.sampled_from(POLICIES),
       grouping=st.sampled_from(["overlapping", "partition"]))
def test_adding_a_facility_never_lowers_any_group_exposure(book, data, policy, grouping):
    before = gx.analyze(book, policy=policy, grouping=grouping).groups.set_index("group_id")
    ids = list(book.entities["entity_id"])
    extra = pd.DataFrame([facility(data.draw, ids, 0, prefix="NEW")])
    bigger = gx.Portfolio.from_frames(
        entities=book.entities, ownership=book.ownership, connections=book.connections,
        facilities=pd.concat([book.facilities, extra], ignore_index=True), fx=book.fx,
        capital=book.capital or {})
    after = gx.analyze(bigger, policy=policy, grouping=grouping).groups.set_index("group_id")
    assert list(after.index) == list(before.index)
    for col in ("original_exposure", "net_exposure", "exposure"):
        assert (after[col] >= before[col] - 1e-9).all(), col


@SETTINGS
@given(book=portfolios(), policy=st.sampled_from(POLICIES))
def test_partition_group_exposures_add_up_to_the_book(book, policy):
    r = gx.analyze(book, policy=policy, grouping="partition")
    assert r.members["entity_id"].is_unique
    assert set(r.members["entity_id"]) == set(book.entities["entity_id"])
    assert r.groups["net_exposure"].sum() == pytest.approx(r.entities["own_net"].sum())
    assert r.groups["original_exposure"].sum() == pytest.approx(r.entities["own_original"].sum())
    # the book's net total equals the facilities' net total (substitution moves, never creates)
    fv = r.facility_values
    assert r.entities["own_net"].sum() == pytest.approx(fv["net"].sum() + fv["guaranteed"].sum())


@SETTINGS
@given(book=portfolios())
def test_integrated_ownership_is_at_most_one(book):
    own = book.ownership
    for x in book.entities["entity_id"]:
        io = gx.integrated_ownership(own, x) if len(own) else pd.Series(dtype=float)
        assert (io <= 1 + 1e-9).all()
        assert np.isfinite(io).all()


@SETTINGS
@given(book=portfolios())
def test_every_root_has_a_group_and_every_entity_a_group(book):
    r = gx.analyze(book)
    e = r.entities
    roots = set(e.loc[e["ultimate_parent_id"] == e["entity_id"], "entity_id"])
    assert roots <= set(r.groups["group_id"]) | set(
        x for m in r.groups["merged_roots"] for x in str(m).split(";") if x)
    assert set(r.members["entity_id"]) == set(e["entity_id"])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 30), max_size=6000), st.lists(st.integers(0, 10**12), max_size=30))
def test_array_helpers_agree_with_numpy(keys: list[int], table: list[int]) -> None:
    from groupexposure._arrays import csr, isin_sorted, unique, unique_inverse

    key = np.asarray(keys, dtype=np.int64)
    ptr, order = csr(31, key)
    assert (order == np.argsort(key, kind="stable")).all()  # stable: positions keep their order
    assert (np.diff(ptr) == np.bincount(key, minlength=31)).all()
    values, inverse = unique_inverse(key)
    assert (values == np.unique(key)).all() and (values[inverse] == key).all()
    big = np.concatenate([key * 10**6, np.asarray(table, np.int64)])  # past the sorting cut-off
    tab = unique(np.asarray(table, np.int64))
    assert (isin_sorted(big, tab) == np.isin(big, tab)).all()


def test_csr_counting_sort_path_is_stable_on_large_inputs() -> None:
    from groupexposure._arrays import COUNTING_SORT_ABOVE, csr

    key = np.random.default_rng(7).integers(0, 1000, COUNTING_SORT_ABOVE * 2)
    ptr, order = csr(1000, key)
    assert (order == np.argsort(key, kind="stable")).all()
    assert (np.diff(ptr) == np.bincount(key, minlength=1000)).all()
