"""Hypothesis strategies: small random portfolios that satisfy SPEC §1."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

import groupexposure as gx

KINDS = ["corporate", "corporate", "corporate", "bank", "sovereign", "individual"]
PRODUCTS = ["loan", "overdraft", "commitment", "guarantee_issued", "trade_lc", "bond"]


@st.composite
def portfolios(draw: st.DrawFn, max_entities: int = 9) -> gx.Portfolio:
    n = draw(st.integers(2, max_entities))
    ids = [f"E{i:02d}" for i in range(n)]
    kinds = [draw(st.sampled_from(KINDS)) for _ in ids]
    gsib = [draw(st.booleans()) if k == "bank" else False for k in kinds]
    entities = pd.DataFrame({"entity_id": ids, "kind": kinds, "is_gsib": gsib})
    own_rows: list[dict[str, Any]] = []
    for owned in ids:
        owners = draw(st.lists(st.sampled_from([i for i in ids if i != owned]), max_size=3,
                               unique=True))
        if not owners:
            continue
        weights = [draw(st.integers(1, 100)) for _ in owners]
        total = draw(st.integers(30, 100)) / 100
        for o, w in zip(owners, weights, strict=True):
            share = round(total * w / sum(weights), 4) or 0.01
            voting = draw(st.one_of(st.none(), st.just(share)))
            flag = draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans())
            own_rows.append({"owner_id": o, "owned_id": owned, "share": share,
                             "voting": voting, "control": flag})
    own = pd.DataFrame(own_rows, columns=["owner_id", "owned_id", "share", "voting", "control"])
    # keep sums within 1 after rounding
    if len(own):
        sums = own.groupby("owned_id")["share"].transform("sum")
        own["share"] = np.floor(own["share"] / sums.clip(lower=1.0) * 1e6) / 1e6
        own["voting"] = own["voting"].where(own["voting"].isna(), own["share"])
    # avoid closed cycles (every member wholly owned inside): cap shares below 1
    own["share"] = own["share"].clip(upper=0.99)
    own["voting"] = own["voting"].where(own["voting"].isna(), own["share"])
    con_rows = []
    for _ in range(draw(st.integers(0, 3))):
        d, x = draw(st.lists(st.sampled_from(ids), min_size=2, max_size=2, unique=True))
        con_rows.append({"dependent_id": d, "depends_on_id": x,
                         "kind": draw(st.sampled_from(["economic_dependence", "guarantee"])),
                         "mutual": draw(st.booleans())})
    con = pd.DataFrame(con_rows, columns=["dependent_id", "depends_on_id", "kind", "mutual"])
    fac = pd.DataFrame([facility(draw, ids, i) for i in range(draw(st.integers(1, 12)))])
    capital = {"tier1": float(draw(st.integers(100, 2000))), "total_capital": 1500.0,
               "currency": "CNY", "is_gsib": draw(st.booleans())}
    fx = pd.DataFrame({"currency": ["USD", "EUR"], "rate": [7.0, 8.0]})
    return gx.Portfolio.from_frames(entities=entities, ownership=own, connections=con,
                                    facilities=fac, fx=fx, capital=capital)


def facility(draw: st.DrawFn, ids: list[str], i: int, prefix: str = "F") -> dict[str, Any]:
    obligor = draw(st.sampled_from(ids))
    guarantor = draw(st.one_of(st.none(), st.sampled_from([x for x in ids if x != obligor])))
    return {
        "facility_id": f"{prefix}{i:03d}",
        "obligor_id": obligor,
        "product": draw(st.sampled_from(PRODUCTS)),
        "drawn": float(draw(st.integers(0, 300))),
        "undrawn": float(draw(st.integers(0, 100))),
        "provision": float(draw(st.integers(0, 20))),
        "currency": draw(st.sampled_from(["CNY", "USD", "EUR"])),
        "guarantor_id": guarantor,
        "guaranteed_amount": float(draw(st.integers(0, 200))) if guarantor else None,
        "collateral_value": float(draw(st.integers(0, 50))),
    }


def shuffled(book: gx.Portfolio, seed: int) -> gx.Portfolio:
    """The same book with the rows of every table in another order."""
    def mix(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)

    return gx.Portfolio.from_frames(
        entities=mix(book.entities), ownership=mix(book.ownership),
        connections=mix(book.connections), facilities=mix(book.facilities),
        fx=mix(book.fx), capital=book.capital or {})
