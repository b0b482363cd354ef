"""Concentration of the book across groups, sectors and countries.

Over the groups' limit exposures ``x_i`` (``result.groups["exposure"]``) with shares
``s_i = x_i / sum(x)``:

- ``hhi``: the Herfindahl-Hirschman index ``H = sum(s_i ** 2)`` (raw, between 1/N and 1);
- ``hhi_points``: ``10,000 * H``, the scale competition authorities quote (shares 0.8, 0.1, 0.1
  give 6,600 points);
- ``numbers_equivalent``: ``1 / H``, the number of equal groups with the same concentration;
- ``hhi_normalised``: ``(H - 1/N) / (1 - 1/N)``, between 0 and 1 — the one some libraries
  return by default as "HHI"; here it always has this name;
- ``top10_share``, ``top20_share``: the largest 10 and 20 groups' share of the total;
- ``gini``: ``sum((2i - N - 1) x_(i)) / (N sum(x))`` over the exposures sorted ascending
  (0 when all are equal, (N-1)/N when one group holds everything).

With ``grouping="overlapping"`` a client in several groups counts in each: use
``grouping="partition"`` for measures over a true partition of the book. Sector and country
concentration use each entity's own net exposure (exempt kinds excluded), so nothing counts twice,
and are given against Tier 1.

>>> shares = hhi_measures([80.0, 10.0, 10.0])
>>> round(shares["hhi_points"]), round(shares["numbers_equivalent"], 4)
(6600, 1.5152)
>>> round(gini([0.0, 0.0, 0.0, 1.0]), 4)
0.75
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..safe import escape

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["Concentration", "concentration", "gini", "hhi_measures"]


def hhi_measures(exposures: Sequence[float] | np.ndarray) -> dict[str, float]:
    """HHI (raw, points, normalised) and the numbers-equivalent of positive exposures."""
    x = np.asarray(exposures, dtype=np.float64)
    x = x[x > 0]
    n = x.size
    if n == 0:
        return {"hhi": float("nan"), "hhi_points": float("nan"),
                "numbers_equivalent": float("nan"), "hhi_normalised": float("nan")}
    s = x / x.sum()
    h = float(np.sum(s * s))
    return {"hhi": h, "hhi_points": 10_000.0 * h, "numbers_equivalent": 1.0 / h,
            "hhi_normalised": (h - 1.0 / n) / (1.0 - 1.0 / n) if n > 1 else 1.0}


def gini(exposures: Sequence[float] | np.ndarray) -> float:
    """The Gini coefficient of non-negative exposures (0: all equal)."""
    x = np.sort(np.asarray(exposures, dtype=np.float64))
    n, total = x.size, x.sum()
    if n == 0 or total <= 0:
        return float("nan")
    i = np.arange(1, n + 1)
    return float(np.sum((2 * i - n - 1) * x) / (n * total))


@dataclass(frozen=True)
class Concentration:
    """Concentration measures of one analysis (see the module docstring for the formulas)."""

    n_groups: int
    total_exposure: float
    hhi: float
    hhi_points: float
    numbers_equivalent: float
    hhi_normalised: float
    top10_share: float
    top20_share: float
    gini: float
    by_sector: pd.DataFrame
    by_country: pd.DataFrame

    def summary(self) -> pd.Series:
        """The scalar measures as a Series."""
        return pd.Series({k: getattr(self, k) for k in (
            "n_groups", "total_exposure", "hhi", "hhi_points", "numbers_equivalent",
            "hhi_normalised", "top10_share", "top20_share", "gini")})

    def _repr_html_(self) -> str:
        return (self.summary().to_frame("value").to_html(escape=True)
                + "<h4>by sector</h4>" + self.by_sector.head(20).to_html(index=False, escape=True)
                + "<h4>by country</h4>" + self.by_country.head(20).to_html(index=False,
                                                                          escape=True)
                + f"<p>{escape('shares are of the groups total exposure')}</p>")


def _breakdown(result: AnalysisResult, column: str) -> pd.DataFrame:
    e = result.entities
    counted = np.where(result.coded.exempt, 0.0, e["own_net"].to_numpy())
    key = e[column].astype(object).where(e[column].notna(), "(unknown)")
    out = pd.Series(counted).groupby(key.to_numpy()).sum().rename("exposure").to_frame()
    out["share"] = out["exposure"] / max(out["exposure"].sum(), 1e-300)
    out["of_tier1"] = out["exposure"] / result.capital.tier1
    out = out.reset_index(names=column).sort_values(["exposure", column],
                                                    ascending=[False, True])
    return out.reset_index(drop=True)


def concentration(result: AnalysisResult) -> Concentration:
    """Concentration of the result's group exposures, and by sector and country."""
    x = result.groups["exposure"].to_numpy(np.float64)
    total = float(x.sum())
    top = np.sort(x)[::-1]
    m = hhi_measures(x)
    return Concentration(
        n_groups=int(x.size), total_exposure=total, **m,
        top10_share=float(top[:10].sum() / total) if total > 0 else float("nan"),
        top20_share=float(top[:20].sum() / total) if total > 0 else float("nan"),
        gini=gini(x), by_sector=_breakdown(result, "sector"),
        by_country=_breakdown(result, "country"))
