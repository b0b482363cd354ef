"""Helpers to write tiny literal portfolios in tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import settings

import groupexposure as gx

# CI runs the property tests on a fixed sequence of examples so that a submission's result does not
# depend on luck; locally they explore new random examples on every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


def make_book(
    entities: list[str] | list[dict[str, Any]],
    *,
    ownership: list[tuple[Any, ...]] | None = None,
    facilities: list[dict[str, Any]] | None = None,
    connections: list[tuple[Any, ...]] | None = None,
    fx: dict[str, float] | None = None,
    tier1: float = 1000.0,
    total_capital: float | None = 1000.0,
    currency: str = "CNY",
    is_gsib: bool = False,
) -> gx.Portfolio:
    """Entities as ids or dicts; ownership as (owner, owned, share[, voting[, control]]);
    connections as (dependent, depends_on[, kind[, mutual]]); facilities as dicts."""
    ent = pd.DataFrame([{"entity_id": e} if isinstance(e, str) else e for e in entities])
    own_rows = []
    for row in ownership or []:
        o, s, share, *rest = row
        rec: dict[str, Any] = {"owner_id": o, "owned_id": s, "share": share}
        if rest:
            rec["voting"] = rest[0]
        if len(rest) > 1:
            rec["control"] = rest[1]
        own_rows.append(rec)
    own = pd.DataFrame(own_rows, columns=["owner_id", "owned_id", "share", "voting", "control"])
    con_rows = []
    for row in connections or []:
        d, x, *rest = row
        con_rows.append({"dependent_id": d, "depends_on_id": x,
                         "kind": rest[0] if rest else "economic_dependence",
                         "mutual": rest[1] if len(rest) > 1 else False})
    con = pd.DataFrame(con_rows, columns=["dependent_id", "depends_on_id", "kind", "mutual"])
    fac_rows = []
    for i, f in enumerate(facilities or []):
        fac_rows.append({"facility_id": f.get("facility_id", f"F{i + 1}"), **f})
    fac = pd.DataFrame(fac_rows, columns=None if fac_rows else ["facility_id", "obligor_id"])
    fx_frame = pd.DataFrame({"currency": list((fx or {}).keys()), "rate": list((fx or {}).values())})
    capital: dict[str, Any] = {"tier1": tier1, "currency": currency, "is_gsib": is_gsib}
    if total_capital is not None:
        capital["total_capital"] = total_capital
    return gx.Portfolio.from_frames(entities=ent, ownership=own, connections=con,
                                    facilities=fac, fx=fx_frame, capital=capital)


@pytest.fixture
def book_factory() -> Any:
    return make_book


def write_files(directory: Path, files: dict[str, str]) -> Path:
    """Write a portfolio directory from file names and their text."""
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def row(frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    """The one row of ``frame`` whose ``key`` column equals ``value``."""
    hit = frame[frame[key] == value]
    assert len(hit) == 1, f"{len(hit)} rows with {key}={value}"
    return hit.iloc[0]
