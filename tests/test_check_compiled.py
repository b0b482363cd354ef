"""The compiled check (issue 19.2): the wheel carries ``decide/_fast.py`` compiled by mypyc
(``hatch_build.py``); its source, run by the interpreter, is the fallback where no compiler is at
hand. Both must give the same answers to the last bit, and the source must stay compilable.

Where the installed module is the interpreted one (an editable install, a machine without a
compiler), the agreement test compares the source with itself; ``.ci/run`` sets
``GROUPEXPOSURE_EXPECT_COMPILED=1`` so that CI fails if its wheel came out pure."""

from __future__ import annotations

import importlib.util
import math
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groupexposure as gx
from groupexposure.decide import _fast
from tests.strategies import portfolios

SOURCE = Path(_fast.__file__).with_name("_fast.py")
COMPILED = not _fast.__file__.endswith(".py")


def _interpreted() -> ModuleType:
    """``_fast.py`` loaded from its source, whatever the installed module is."""
    spec = importlib.util.spec_from_file_location("groupexposure.decide._fast_source", SOURCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while they are made
    spec.loader.exec_module(module)
    return module


INTERPRETED = _interpreted()


def test_the_installed_check_is_compiled_where_ci_expects_it():
    if os.environ.get("GROUPEXPOSURE_EXPECT_COMPILED") != "1":
        pytest.skip("GROUPEXPOSURE_EXPECT_COMPILED is not set: either build is acceptable")
    assert COMPILED, f"expected the mypyc build of decide/_fast.py, found {_fast.__file__}"


def test_the_source_is_shipped_beside_the_compiled_module():
    assert SOURCE.is_file()
    assert INTERPRETED.__file__ == str(SOURCE)


def _verdict(module: ModuleType, ix, args: dict[str, object]) -> str:
    """A proposal read and judged by ``module``, as text: the repr of every amount, ratio and cap
    (floats print the shortest text that reads back to the same bits; NaN prints as nan)."""
    p = module.read(ix, args["entity_id"], args["amount"], args["product"], None, None,
                    args["ccf"], None, args["guarantor_id"], args["guaranteed_amount"],
                    args["collateral_value"])
    if p is None:
        return "refused by the fast reader"
    v = module.judge_one(ix, p)
    rows = tuple((r.subject, tuple(r.rb), tuple(r.ra), tuple(r.caps), tuple(r.relief_caps),
                  tuple(r.fails)) for r in v.rows)
    return repr((p.amount, p.w, p.fixed, p.guarantee, v.approved, v.max_amount, v.reason,
                 v.binding, rows, module.rule_values(ix, v)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(book=portfolios(), data=st.data(),
       policy=st.sampled_from(["basel", "eu_crr", "cn_cbirc_2018", "cn_group_credit"]))
def test_the_compiled_and_the_interpreted_check_agree(book, data, policy):
    ix = gx.analyze(book, policy=policy)._check_index
    ids = list(book.entities["entity_id"])
    for _ in range(data.draw(st.integers(1, 6))):
        obligor = data.draw(st.sampled_from(ids))
        args = {
            "entity_id": obligor,
            "amount": data.draw(st.one_of(st.integers(0, 800), st.floats(0, 800))),
            "product": data.draw(st.sampled_from(["loan", "overdraft", "bond", "commitment",
                                                  "guarantee_issued", "trade_lc", "other"])),
            "ccf": data.draw(st.one_of(st.none(), st.sampled_from([0.0, 0.05, 0.5, 1]))),
            "guarantor_id": data.draw(st.one_of(
                st.none(), st.sampled_from([i for i in ids if i != obligor]))),
            "guaranteed_amount": data.draw(st.one_of(st.none(), st.integers(0, 300))),
            "collateral_value": data.draw(st.one_of(st.integers(0, 100), st.floats(0, 100))),
        }
        assert _verdict(_fast, ix, args) == _verdict(INTERPRETED, ix, args)


def test_the_compiled_check_reads_what_the_interpreter_reads():
    # an int where a float is annotated, numpy scalars, text that is no id: mypyc checks the
    # types it was told, so the reading of odd arguments must not differ between the two
    import numpy as np

    ix = gx.analyze(gx.datasets.ningxia())._check_index
    odd = (5, 5.0, np.float64(5.0), np.float64("nan"), np.int64(5), True, "5", None, math.nan,
           -1, 10**400)
    for amount in odd:
        for entity in ("TM", np.str_("TM"), 7, None):
            for ccf in (None, 0.5, np.float64(0.5), 1, 2, np.float64("nan")):
                for product in ("commitment", "loan"):
                    args = (ix, entity, amount, product, None, None, ccf, None, None, amount, 0)
                    a, b = _fast.read(*args), INTERPRETED.read(*args)
                    assert (a is None) == (b is None), (entity, amount, ccf)
                    if a is not None:
                        assert repr(vars_of(a)) == repr(vars_of(b))


def vars_of(p: object) -> tuple[object, ...]:
    return tuple(getattr(p, f) for f in ("amount", "w", "fixed", "guarantee", "rate", "drawn",
                                         "undrawn", "obligor", "eligible"))
