"""The result of an analysis: the four tables of SPEC §8 and what produced them.

``groups``, ``entities``, ``members`` and ``issues`` are DataFrames sorted by their keys; each starts
with exactly the columns of SPEC §8 (more may follow). ``graph`` builds the networkx view on demand.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .decide.check import Decision, DecisionBookMixin, check, check_many
from .model.policy import Policy
from .model.schema import Capital
from .safe import escape, neutralise, write_csv

if TYPE_CHECKING:
    import networkx as nx

    from .core.coded import Coded
    from .core.control import Control
    from .core.exposures import EntityExposure
    from .core.groups import Groups
    from .decide.explain import Explanation
    from .measures.concentration import Concentration

__all__ = ["COLUMNS", "AnalysisResult"]

COLUMNS: dict[str, list[str]] = {
    "groups": ["group_id", "root_id", "root_name", "n_members", "original_exposure",
               "net_exposure", "exempt_exposure", "exposure", "capital_base", "ratio", "limit",
               "status", "large_exposure", "rule"],
    "entities": ["entity_id", "name", "kind", "ultimate_parent_id", "immediate_controller_id",
                 "own_original", "own_net", "substituted_in", "chain_net", "lookthrough_net",
                 "ratio", "limit", "status", "groups"],
    "members": ["group_id", "entity_id", "basis", "path"],
    "issues": ["severity", "code", "table", "key", "column", "message"],
}
"""The leading columns of each output table, in order (SPEC §8)."""

_STATUS_ORDER = {"breach": 0, "warning": 1, "ok": 2}


@dataclass(eq=False)
class AnalysisResult(DecisionBookMixin):
    """What :func:`groupexposure.analyze` returns."""

    groups: pd.DataFrame
    entities: pd.DataFrame
    members: pd.DataFrame
    issues: pd.DataFrame
    policy: Policy
    grouping: str
    capital: Capital
    fx: dict[str, float]
    ids: np.ndarray
    coded: Coded
    control: Control
    membership: Groups
    exposure: EntityExposure
    facility_values: pd.DataFrame
    facilities: pd.DataFrame
    ownership: pd.DataFrame
    connections: pd.DataFrame
    row_counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Per input table: rows ``read``, ``used`` and ``dropped`` (every dropped row is in ``issues``)."""
    timings: dict[str, float] = field(default_factory=dict)

    # --- summaries -------------------------------------------------------------------------------
    @property
    def breaches(self) -> pd.DataFrame:
        """Groups in breach or warning, breaches first, most utilised first."""
        g = self.groups[self.groups["status"].isin(["breach", "warning"])]
        order = g["status"].map(_STATUS_ORDER)
        return g.assign(_o=order).sort_values(["_o", "utilisation", "group_id"],
                                               ascending=[True, False, True]).drop(columns="_o")

    @property
    def large_exposures(self) -> pd.DataFrame:
        """Groups that are large exposures, largest first."""
        g = self.groups[self.groups["large_exposure"]]
        return g.sort_values(["exposure", "group_id"], ascending=[False, True])

    def summary(self, top: int = 10) -> str:
        """A few lines for a terminal: totals, then breaches and warnings first."""
        cur = self.capital.currency
        g = self.groups
        counts = g["status"].value_counts()
        lines = [
            f"policy {self.policy.name}, grouping {self.grouping}: {len(self.entities)} entities, "
            f"{len(self.facilities)} facilities, {len(g)} groups "
            f"({int((g['n_members'] > 1).sum())} with 2+ members)",
            f"Tier 1 {self.capital.tier1:,.0f} {cur}; book net exposure "
            f"{self.entities['own_net'].sum():,.0f} {cur}",
            f"breaches {counts.get('breach', 0)}, warnings {counts.get('warning', 0)}, "
            f"large exposures {int(g['large_exposure'].sum())}",
        ]
        flagged = self.breaches.head(top)
        for _, row in flagged.iterrows():
            name = f" {row['root_name']}" if isinstance(row["root_name"], str) else ""
            lines.append(
                f"  {row['status'].upper():7} {row['group_id']}{name}: {row['n_members']} members, "
                f"{row['measure_value']:,.0f} {cur} = {row['ratio']:.2%} of "
                f"{row['capital_base_name']} (limit {row['limit']:.2%}, {row['rule']})")
        circles = self.guarantee_circles
        if len(circles):
            lines.append(f"guarantee circles {len(circles)}:")
            for _, c in circles.head(top).iterrows():
                lines.append(f"  {c['cycle']}: {c['n_members']} members in groups {c['groups']}, "
                             f"exposure {c['member_exposure']:,.0f} {cur}, guaranteed inside "
                             f"{c['guaranteed_inside']:,.0f} {cur}")
        errors = self.issues["severity"].value_counts()
        lines.append(f"issues: {errors.get('error', 0)} errors (rows dropped), "
                     f"{errors.get('warning', 0)} warnings, {errors.get('info', 0)} info")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<AnalysisResult {self.summary(top=3)}>"

    def _repr_html_(self) -> str:
        body = "<br>".join(escape(line) for line in self.summary().splitlines())
        table = self.breaches[COLUMNS["groups"]].head(20).to_html(index=False, escape=True)
        return f"<div><p>{body}</p>{table}</div>"

    # --- output ----------------------------------------------------------------------------------
    def to_csv(self, out_dir: str | Path) -> dict[str, Path]:
        """Write groups.csv, entities.csv, members.csv and issues.csv (UTF-8, header row)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = {name: out / f"{name}.csv" for name in ("entities", "members", "groups", "issues")}

        def write(name: str) -> None:
            write_csv(neutralise(getattr(self, name)), written[name])

        with ThreadPoolExecutor(max_workers=2) as pool:  # pyarrow writes without the GIL
            list(pool.map(write, written))
        return {name: written[name] for name in ("groups", "entities", "members", "issues")}

    def to_excel(self, path: str | Path) -> Path:
        """The committee workbook (Summary, Groups, Breaches and warnings, Large exposures,
        Members, Entities, Headroom, Guarantee circles, Issues); needs ``groupexposure[report]``."""
        from .report.excel import write_excel

        return write_excel(self, path)

    def to_html(self, path: str | Path) -> Path:
        """The self-contained HTML report; needs ``groupexposure[report]``."""
        from .report.html import write_html

        return write_html(self, path)

    def plot_concentration(self, ax: Any = None, *, top: int = 20) -> Any:
        """The largest groups against Tier 1 and their limits (matplotlib Axes)."""
        from .report.plots import plot_concentration

        return plot_concentration(self, ax, top=top)

    # --- graph -----------------------------------------------------------------------------------
    @cached_property
    def graph(self) -> nx.DiGraph:
        """Ownership and control as an ``nx.DiGraph`` (built on first use).

        Nodes are entity ids with ``name, kind, own_original, own_net, chain_net, lookthrough_net,
        ultimate_parent_id``; edges ``owner → owned`` carry ``share, voting, control`` (the flag)
        and ``controls`` (the owner controls the owned entity, directly or through others).
        """
        import networkx as nx  # imported here: an analysis that never asks for it does not pay

        g: nx.DiGraph = nx.DiGraph()
        ent = self.entities
        attrs = ent[["name", "kind", "own_original", "own_net", "chain_net", "lookthrough_net",
                     "ultimate_parent_id"]].to_dict("index")
        g.add_nodes_from((eid, attrs[i]) for i, eid in enumerate(ent["entity_id"]))
        own = self.ownership
        c = self.coded
        controls = self.control.controls(c.owner, c.owned).tolist()
        g.add_edges_from(
            (o, s, {"share": sh, "voting": v, "control": f, "controls": ctl})
            for o, s, sh, v, f, ctl in zip(own["owner_id"], own["owned_id"], own["share"],
                                           own["voting"], own["control"], controls, strict=True)
        )
        return g

    # --- decisions -------------------------------------------------------------------------------
    def check(self, entity_id: str, amount: float, product: str = "loan", *, undrawn: float = 0.0,
              ccf: float | None = None, currency: str | None = None,
              guarantor_id: str | None = None, guaranteed_amount: float | None = None,
              collateral_value: float = 0.0) -> Decision:
        """Would one more facility keep every rule it touches? See :func:`decisions.check`."""
        return check(self, entity_id, amount, product, undrawn=undrawn, ccf=ccf,
                     currency=currency, guarantor_id=guarantor_id,
                     guaranteed_amount=guaranteed_amount, collateral_value=collateral_value)

    def check_many(self, proposals: pd.DataFrame) -> pd.DataFrame:
        """Judge a table of proposed facilities, each on its own. See :func:`decisions.check_many`."""
        return check_many(self, proposals)

    @cached_property
    def headroom(self) -> pd.DataFrame:
        """Room for more plain-loan exposure before the warning level and the limit."""
        from .decide.headroom import headroom

        return headroom(self)

    @cached_property
    def guarantee_circles(self) -> pd.DataFrame:
        """Circles of mutual guarantees (担保圈) and the chains around them."""
        from .measures.circles import guarantee_circles

        return guarantee_circles(self)

    @cached_property
    def concentration(self) -> Concentration:
        """HHI, numbers-equivalent, top-10/20 shares, Gini; by sector and country vs Tier 1."""
        from .measures.concentration import concentration

        return concentration(self)

    def explain(self, entity_id: str) -> Explanation:
        """Why ``entity_id`` is in each of its groups, its holding chain, exposures and rules."""
        from .decide.explain import explain

        return explain(self, entity_id)

    def frame(self, name: str) -> pd.DataFrame:
        """One of the four tables by name."""
        if name not in COLUMNS:
            raise ValueError(f"unknown table {name!r}; valid: {', '.join(COLUMNS)}")
        return getattr(self, name)  # type: ignore[no-any-return]

    def to_dict(self) -> dict[str, Any]:
        """The four tables as lists of records (for JSON)."""
        return {k: getattr(self, k).to_dict("records") for k in COLUMNS}
