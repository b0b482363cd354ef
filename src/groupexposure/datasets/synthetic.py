"""Realistic synthetic portfolios of any size, generated column-wise (no loop per entity).

Holding structures are trees of heavy-tailed size (most groups small, a few with thousands of
members), some of them deep chains. Links are mostly majority holdings; some give control only by
aggregation (the parent holds 30%, a sibling the parent controls another 25%), some by a control
flag, some are minority stakes that give no control (associates become roots of their own);
voting rights sometimes differ from shares; a few subsidiaries hold a little of their group's top
(ownership cycles that are not control cycles); individuals own some groups. Economic dependence
and guarantee connections join groups; facilities of several products and currencies, some
guaranteed, some collateralised. Tier 1 is set so that the largest groups breach the 25% limit.
The same ``seed`` gives the same portfolio.

>>> import groupexposure as gx
>>> book = gx.datasets.synthetic(2_000, seed=1)
>>> len(book.entities), len(book.ownership) > 1_500, len(book.facilities) > 3_000
(2000, True, True)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..model.portfolio import Portfolio

__all__ = ["synthetic", "write_portfolio"]

PRODUCTS = np.array(["loan", "overdraft", "bond", "commitment", "commitment_uncond_cancellable",
                     "guarantee_issued", "standby_lc", "performance_bond", "trade_lc", "other"])
PRODUCT_P = np.array([0.45, 0.10, 0.08, 0.12, 0.05, 0.07, 0.03, 0.03, 0.05, 0.02])


def _ids(rng: np.random.Generator, n: int, prefix: str) -> np.ndarray:
    width = max(7, len(str(n)))
    return np.char.add(prefix, np.char.zfill(rng.permutation(n).astype(str), width)).astype(object)


def synthetic(n_entities: int, *, seed: int = 0) -> Portfolio:
    """A synthetic portfolio of ``n_entities`` counterparties (about as many ownership links and
    twice as many facilities)."""
    if n_entities < 2:
        raise ValueError(f"n_entities must be at least 2; got {n_entities}")
    rng = np.random.default_rng(seed)
    n = n_entities
    # --- group trees: sizes heavy-tailed, members numbered 0..size-1 within their group -----------
    sizes = np.minimum(rng.zipf(1.8, size=n), 5_000)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n)) + 1]
    sizes[-1] -= sizes.sum() - n
    sizes = sizes[sizes > 0]
    n_groups = sizes.size
    group = np.repeat(np.arange(n_groups), sizes)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    local = np.arange(n) - start[group]
    # a random recursive tree (depth about log size); 30% of groups start with a chain of up to
    # 12 levels of holding companies, so that deep chains are common
    chainy = rng.random(n_groups) < 0.3
    chain = chainy[group] & (local <= rng.integers(3, 13, n_groups)[group])
    parent_local = np.where(chain, local - 1, np.floor(rng.random(n) * np.maximum(local, 1)))
    parent = np.where(local > 0, start[group] + parent_local.astype(np.int64), -1)
    is_root = local == 0

    kind = np.full(n, "corporate", dtype=object)
    kind[is_root & (rng.random(n) < 0.3)] = "individual"
    other = ~is_root
    u = rng.random(n)
    kind[other & (u < 0.01)] = "bank"
    kind[other & (u >= 0.01) & (u < 0.015)] = "fund"
    kind[other & (u >= 0.015) & (u < 0.02)] = "public_sector"
    kind[is_root & (rng.random(n) < 0.002)] = "sovereign"
    kind[is_root & (kind == "corporate") & (rng.random(n) < 0.01)] = "bank"
    gsib = (kind == "bank") & (rng.random(n) < 0.05)
    ids = _ids(rng, n, "E")
    countries = np.array(["CN", "CN", "CN", "HK", "SG", "GB", "US", "DE"], dtype=object)
    sectors = np.array(["manufacturing", "real estate", "trade", "energy", "finance",
                        "agriculture", "textiles", "services"], dtype=object)
    entities = pd.DataFrame({
        "entity_id": ids, "name": np.char.add("Company ", ids.astype(str)).astype(object),
        "kind": kind, "country": countries[rng.integers(0, countries.size, n)],
        "sector": sectors[rng.integers(0, sectors.size, n)], "is_gsib": gsib})

    # --- ownership ------------------------------------------------------------------------------
    child = np.flatnonzero(~is_root)
    m = child.size
    kind_link = rng.choice(4, size=m, p=[0.75, 0.10, 0.05, 0.10])
    share = np.where(kind_link == 0, np.round(rng.uniform(0.51, 1.0, m), 4),
                     np.where(kind_link == 1, 0.30,
                              np.where(kind_link == 2, 0.20, np.round(rng.uniform(0.1, 0.45, m), 4))))
    voting = np.where(rng.random(m) < 0.05, np.round(np.clip(share + rng.uniform(-0.15, 0.15, m),
                                                             0.01, 1.0), 4), np.nan)
    own = [pd.DataFrame({"owner": parent[child], "owned": child, "share": share,
                         "voting": voting, "control": kind_link == 2})]
    # aggregated control: a sibling of the child, held by the same parent, holds another 25%
    agg = child[(kind_link == 1) & (local[child] >= 2)]
    helper = start[group[agg]] + np.floor(rng.random(agg.size) * local[agg]).astype(np.int64)
    ok = (helper != parent[agg]) & (helper != agg)
    own.append(pd.DataFrame({"owner": helper[ok], "owned": agg[ok], "share": 0.25,
                             "voting": np.nan, "control": False}))
    # small outside holders from other groups, within what is left of the equity
    outside = child[(rng.random(m) < 0.05) & (share <= 0.7)]
    holder = rng.integers(0, n, outside.size)
    ok = group[holder] != group[outside]
    own.append(pd.DataFrame({"owner": holder[ok], "owned": outside[ok],
                             "share": np.round(rng.uniform(0.01, 0.04, int(ok.sum())), 4),
                             "voting": np.nan, "control": False}))
    # cross-holdings: a subsidiary holds a little of its group's top entity
    deep = child[(rng.random(m) < 0.004) & (local[child] >= 1)]
    top = start[group[deep]]
    own.append(pd.DataFrame({"owner": deep, "owned": top, "share": 0.05, "voting": np.nan,
                             "control": False}))
    links = pd.concat(own, ignore_index=True).drop_duplicates(["owner", "owned"])
    links = links[links["owner"] != links["owned"]]
    # keep every entity's owners within 100% of shares and votes
    for col in ("share", "voting"):
        vals = links[col].fillna(links["share"])
        total = vals.groupby(links["owned"]).transform("sum")
        links = links[(total <= 1.0) | (links["owner"] == parent[links["owned"].to_numpy()])]
    ownership = pd.DataFrame({
        "owner_id": ids[links["owner"].to_numpy()], "owned_id": ids[links["owned"].to_numpy()],
        "share": links["share"].to_numpy(), "voting": links["voting"].to_numpy(),
        "control": links["control"].to_numpy()})

    # --- connections ----------------------------------------------------------------------------
    n_dep = max(1, int(0.015 * n))
    n_gua = max(1, int(0.005 * n))
    dep = rng.integers(0, n, n_dep + n_gua)
    on = rng.integers(0, n, n_dep + n_gua)
    ok = group[dep] != group[on]
    connections = pd.DataFrame({
        "dependent_id": ids[dep[ok]], "depends_on_id": ids[on[ok]],
        "kind": np.where(np.arange(dep.size)[ok] < n_dep, "economic_dependence", "guarantee"),
        "mutual": rng.random(int(ok.sum())) < 0.2})

    # --- facilities -----------------------------------------------------------------------------
    per = rng.poisson(np.where(kind == "individual", 0.3, 2.3))
    obligor = np.repeat(np.arange(n), per)
    f = obligor.size
    product = PRODUCTS[rng.choice(PRODUCTS.size, size=f, p=PRODUCT_P)]
    scale = np.exp(rng.normal(15.5, 1.6, f))  # median about 5m
    committed = np.isin(product, ["commitment", "commitment_uncond_cancellable",
                                  "guarantee_issued", "standby_lc", "performance_bond", "trade_lc"])
    drawn = np.round(np.where(committed, scale * rng.uniform(0, 0.5, f), scale), 2)
    undrawn = np.round(np.where(committed, scale * rng.uniform(0.2, 1.0, f),
                                np.where(rng.random(f) < 0.2, scale * 0.3, 0.0)), 2)
    currency = np.array(["CNY", "USD", "EUR"], dtype=object)[rng.choice(3, size=f,
                                                                        p=[0.8, 0.15, 0.05])]
    rate = np.select([currency == "USD", currency == "EUR"], [7.1, 7.8], 1.0)
    has_g = rng.random(f) < 0.05
    guarantor = rng.integers(0, n, f)
    has_g &= guarantor != obligor
    guarantor_id = np.full(f, None, dtype=object)
    guarantor_id[has_g] = ids[guarantor[has_g]]
    g_amount = np.where(has_g & (rng.random(f) < 0.5), np.round(drawn * 0.5, 2), np.nan)
    facilities = pd.DataFrame({
        "facility_id": _ids(rng, f, "F"), "obligor_id": ids[obligor], "product": product,
        "drawn": drawn / rate, "undrawn": undrawn / rate,
        "ccf": np.where(rng.random(f) < 0.02, 0.5, np.nan),
        "provision": np.where(rng.random(f) < 0.03, np.round(drawn * 0.1, 2), 0.0) / rate,
        "currency": currency, "guarantor_id": guarantor_id, "guaranteed_amount": g_amount / rate,
        "collateral_value": np.where(rng.random(f) < 0.2, np.round(drawn * 0.4, 2), 0.0) / rate})
    fx = pd.DataFrame({"currency": ["USD", "EUR"], "rate": [7.1, 7.8]})
    # Tier 1: the third largest holding tree's drawn amount is 30% of it, so that the largest
    # groups breach the 25% limit and a few more come near it, at any size
    # (trees cut at the minority links, which give no control: about the control groups)
    top = np.arange(n)
    controlled = np.zeros(n, dtype=bool)
    controlled[child] = kind_link != 3
    top[controlled] = parent[controlled]
    while True:
        nxt = top[top]
        if np.array_equal(nxt, top):
            break
        top = nxt
    by_tree = np.bincount(top[obligor], weights=drawn, minlength=n)
    third = np.sort(by_tree)[-min(3, n)]
    tier1 = float(np.round(max(third, 1.0) / 0.30, -3) or 1e6)
    capital = {"tier1": tier1, "total_capital": round(tier1 * 1.25, 2), "currency": "CNY",
               "is_gsib": False, "as_of": "2026-06-30"}
    return Portfolio.from_frames(entities=entities, ownership=ownership, connections=connections,
                                 facilities=facilities, fx=fx, capital=capital)


def write_portfolio(book: Portfolio, directory: str | Path) -> Path:
    """Write a portfolio as a directory of CSV files and capital.json (readable by load_portfolio)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("entities", "ownership", "connections", "facilities", "fx"):
        getattr(book, name).to_csv(out / f"{name}.csv", index=False)
    (out / "capital.json").write_text(json.dumps(book.capital, indent=2), encoding="utf-8")
    return out
