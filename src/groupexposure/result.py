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

from .decide.check import Decision, check, check_many
from .model.policy import Policy
from .model.schema import Capital
from .safe import escape, neutralise, write_csv
from .validate.summary import summary_lines

if TYPE_CHECKING:
    import networkx as nx

    from .core.coded import Coded
    from .core.control import Control
    from .core.exposures import EntityExposure
    from .core.groups import Groups
    from .decide._index import CheckIndex
    from .decide.explain import Explanation
    from .measures.concentration import Concentration
    from .returns import Returns

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
class AnalysisResult:
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
    """Per input table: rows ``read``, ``used`` and ``dropped`` (every dropped row is in ``issues``),
    and ``used_with_error``: used rows read conservatively despite an error (collect mode)."""
    timings: dict[str, float] = field(default_factory=dict)
    left_out: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Collect mode: what was left out that can only lower a figure (table, row, entity, amount)."""
    understated_groups: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Collect mode: the groups whose figures may be understated because a row touching one of
    their members was left out (``group_id, rows_left_out, amount_left_out, entities, what``)."""

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

    def summary(self, top: int = 10, *, lang: str = "en", display_unit: str | None = None
                ) -> str:
        """A few lines for a terminal: bank, data date, totals, then breaches and warnings first
        (``lang="zh"`` in Chinese; ``display_unit`` "万元" or "亿元" scales the amounts); then what
        collect mode dropped or used despite an error, and the groups it may understate."""
        from .report.summary import summary_text

        lines = [summary_text(self, top, lang=lang, display_unit=display_unit)]
        lines.extend(summary_lines(self.row_counts, self.left_out, self.understated_groups,
                                   self.capital.currency, top=top))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<AnalysisResult {self.summary(top=3)}>"

    def _repr_html_(self) -> str:
        body = "<br>".join(escape(line) for line in self.summary().splitlines())
        from .report.html import table_html  # amounts with separators, ratios as percentages

        return f"<div><p>{body}</p>{table_html(self.breaches[COLUMNS['groups']], self, 20)}</div>"

    # --- output ----------------------------------------------------------------------------------
    def to_csv(self, out_dir: str | Path, *, bom: bool = True) -> dict[str, Path]:
        """Write groups.csv, entities.csv, members.csv and issues.csv (UTF-8, header row; with a
        byte-order mark unless ``bom=False``, so that Excel opens Chinese text)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = {name: out / f"{name}.csv" for name in ("entities", "members", "groups", "issues")}

        def write(name: str) -> None:
            write_csv(neutralise(getattr(self, name)), written[name], bom=bom)

        with ThreadPoolExecutor(max_workers=2) as pool:  # pyarrow writes without the GIL
            list(pool.map(write, written))
        return {name: written[name] for name in ("groups", "entities", "members", "issues")}

    def to_parquet(self, out_dir: str | Path) -> dict[str, Path]:
        """Write groups, entities, members and issues as Parquet files, for data teams: the same
        columns and rows as :meth:`to_csv`, typed (numbers as float64, flags as booleans), text as it is
        (a Parquet reader runs no formulas, so nothing is neutralised)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = {name: out / f"{name}.parquet" for name in ("groups", "entities", "members", "issues")}
        for name, path in written.items():
            pq.write_table(pa.Table.from_pandas(getattr(self, name), preserve_index=False), path)
        return written

    def save(self, path: str | Path, carry: str | Path | None = None) -> Path:
        """Write a snapshot for approval scripts (SPEC §10); ``carry``: a previous snapshot whose
        open reservations it takes over. See :func:`groupexposure.open_snapshot`."""
        from .ledger.save import save

        return save(self, path, carry=carry)

    def to_excel(self, path: str | Path, *, lang: str = "en", display_unit: str | None = None
                 ) -> Path:
        """The committee workbook (Summary, Groups, Breaches and warnings, Large exposures,
        Members, Entities, Headroom, Guarantee circles, Issues); needs ``groupexposure[report]``.
        ``lang="zh"`` labels it in Chinese; ``display_unit`` ("万元", "亿元") scales amounts."""
        from .report.excel import write_excel

        return write_excel(self, path, lang=lang, display_unit=display_unit)

    def to_html(self, path: str | Path, *, lang: str = "en", display_unit: str | None = None
                ) -> Path:
        """The self-contained HTML report (``lang``, ``display_unit`` as for ``to_excel``);
        needs ``groupexposure[report]``."""
        from .report.html import write_html

        return write_html(self, path, lang=lang, display_unit=display_unit)

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
    def check(self, entity_id: str, amount: float | None = None, product: str = "loan", *,
              drawn: float | None = None, undrawn: float | None = None,
              ccf: float | None = None, currency: str | None = None,
              guarantor_id: str | None = None, guaranteed_amount: float | None = None,
              collateral_value: float = 0.0) -> Decision:
        """Would one more facility keep every rule it touches? See :func:`decide.check.check`."""
        return check(self, entity_id, amount, product, drawn=drawn, undrawn=undrawn, ccf=ccf,
                     currency=currency, guarantor_id=guarantor_id,
                     guaranteed_amount=guaranteed_amount, collateral_value=collateral_value)

    def check_many(self, proposals: pd.DataFrame) -> pd.DataFrame:
        """Judge a table of proposed facilities, each on its own. See :func:`decisions.check_many`."""
        return check_many(self, proposals)

    @cached_property
    def _check_index(self) -> CheckIndex:
        """What checks and explanations read, built once (:mod:`decide._index`)."""
        from .decide._index import CheckIndex

        return CheckIndex(self)

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

    def returns(self, template: str) -> Returns:
        """A regulatory large-exposure return (SPEC §11): ``basel_lex20``, ``eu_corep_le`` or
        ``cn_g14``, as a dict of DataFrames with ``labels`` and ``issues``."""
        from .returns import build_returns

        return build_returns(self, template)

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
