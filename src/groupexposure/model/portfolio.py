"""The portfolio as given: five tables and the capital record, not yet validated (SPEC §1).

>>> import pandas as pd, groupexposure as gx
>>> book = gx.Portfolio.from_frames(
...     entities=pd.DataFrame({"entity_id": ["P", "S"]}),
...     ownership=pd.DataFrame({"owner_id": ["P"], "owned_id": ["S"], "share": [0.6]}),
...     facilities=pd.DataFrame({"facility_id": ["F1"], "obligor_id": ["S"], "drawn": [100.0]}),
...     capital={"tier1": 1000.0, "currency": "CNY"},
... )
>>> book
Portfolio(2 entities, 1 ownership links, 0 connections, 1 facilities, 0 fx rates; capital tier1=1000 CNY)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .issues import Problem
from .schema import Capital, columns

__all__ = ["Portfolio", "empty_table"]


def empty_table(table: str) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype=object) for c in columns(table)})


@dataclass(frozen=True)
class Portfolio:
    """Five tables and the capital record as read, before validation.

    Build one with :func:`load_portfolio` (a directory) or :meth:`from_frames` (DataFrames).
    ``sources`` names where each table came from (for messages); ``problems`` holds what went wrong
    while reading files; :func:`groupexposure.analyze` reports them with every other problem.
    """

    entities: pd.DataFrame
    ownership: pd.DataFrame
    connections: pd.DataFrame
    facilities: pd.DataFrame
    fx: pd.DataFrame
    capital: dict[str, Any] | None
    sources: dict[str, str] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    declarations: pd.DataFrame | None = None
    """What external files declare (ultimate parents, indirect interests), checked against what the
    analysis computes; set by :func:`groupexposure.merge_ownership`."""

    @classmethod
    def from_frames(
        cls,
        *,
        entities: pd.DataFrame,
        facilities: pd.DataFrame,
        capital: Capital | dict[str, Any],
        ownership: pd.DataFrame | None = None,
        connections: pd.DataFrame | None = None,
        fx: pd.DataFrame | None = None,
    ) -> Portfolio:
        """A portfolio from in-memory tables; ``ownership``, ``connections`` and ``fx`` may be omitted."""
        cap = capital.model_dump() if isinstance(capital, Capital) else dict(capital)
        given = {"entities": entities, "ownership": ownership, "connections": connections,
                 "facilities": facilities, "fx": fx}
        frames = {k: (v.copy() if v is not None else empty_table(k)) for k, v in given.items()}
        return cls(**frames, capital=cap, sources={k: f"{k} frame" for k in given})  # type: ignore[arg-type]

    def __repr__(self) -> str:
        cap = self.capital or {}
        return (
            f"Portfolio({len(self.entities)} entities, {len(self.ownership)} ownership links, "
            f"{len(self.connections)} connections, {len(self.facilities)} facilities, "
            f"{len(self.fx)} fx rates; capital tier1={cap.get('tier1', '?'):g} "
            f"{cap.get('currency', 'CNY')})"
            if isinstance(cap.get("tier1"), int | float)
            else f"Portfolio({len(self.entities)} entities; capital missing or invalid)"
        )
