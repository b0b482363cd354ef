"""What every return shares: the :class:`Returns` container, the facility-level figures in the
reporting currency, sums per entity and per group, and the list of cells the data cannot fill.

The facility-level figures are those of SPEC §4 from :func:`groupexposure.core.exposures.facility_values`
(the analysis's own, with the policy's CCFs, or computed again with every CCF at 1.0 for a return that
counts off-balance-sheet items at their nominal amount); nothing here re-implements §4.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.exposures import facility_values
from ..model.issues import Problem, issue, issues_frame
from ..model.schema import Product

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["Facilities", "Returns", "Unavailable", "facilities_of", "group_sums", "ranked"]


class Returns(dict[str, pd.DataFrame]):
    """The tables of one return, keyed by table code, in the form's order.

    ``labels[table][column]`` is the label of each column code; ``issues`` lists, once each, the cells
    the data cannot fill (code ``return_cell_unavailable``) and anything else worth saying.
    """

    def __init__(self, template: str, tables: dict[str, pd.DataFrame],
                 labels: dict[str, dict[str, str]], issues: pd.DataFrame) -> None:
        super().__init__(tables)
        self.template = template
        self.labels = labels
        self.issues = issues

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}: {len(v)} rows" for k, v in self.items())
        return f"<Returns {self.template}: {sizes}; {len(self.issues)} issues>"


class Unavailable:
    """Collects the cells a return leaves empty because the input cannot fill them: one info issue
    per (table, column), however many rows are affected."""

    def __init__(self, template: str) -> None:
        self.template = template
        self._seen: dict[tuple[str, str], tuple[str, int, str]] = {}
        self._other: list[Problem] = []

    def add(self, table: str, column: str, label: str, reason: str, rows: int,
            instead: str = "") -> None:
        """Record that ``rows`` cells of ``column`` are empty (or hold ``instead``), and why; nothing
        if ``rows`` is 0."""
        if rows <= 0:
            return
        key = (table, column)
        if key in self._seen:
            old_reason, old_rows, old_instead = self._seen[key]
            self._seen[key] = (old_reason, old_rows + rows, old_instead)
        else:
            self._seen[key] = (f"{label}: {reason}", rows, instead)

    def note(self, code: str, table: str, message: str, key: str = "") -> None:
        """Any other issue of the return (a registered code)."""
        self._other.append(issue(code, "returns", key=key, column=table, message=message))

    def frame(self) -> pd.DataFrame:
        """The issues, as ``result.issues`` lays them out."""
        rows = [issue("return_cell_unavailable", "returns", key=f"{self.template} {table}",
                      column=column, value=n,
                      message=f"{self.template} {table} column {column} ({text}); "
                      f"{'given as ' + instead if instead else 'left empty'} in "
                      f"{n} row{'s' if n != 1 else ''}")
                for (table, column), (text, n, instead) in self._seen.items()]
        return issues_frame([*rows, *self._other])


@dataclass(frozen=True)
class Facilities:
    """Per facility (rows of ``result.facilities``), amounts in the reporting currency."""

    obligor: np.ndarray
    guarantor: np.ndarray  # -1: none
    product_code: np.ndarray
    products: tuple[str, ...]
    trading: np.ndarray
    defaulted: np.ndarray
    drawn: np.ndarray
    undrawn: np.ndarray
    values: pd.DataFrame  # facility_values(): on_balance, off_balance, original, collateral, ...

    def is_product(self, *names: str) -> np.ndarray:
        """Whether each facility's product is one of ``names``."""
        wanted = [i for i, p in enumerate(self.products) if p in names]
        return np.isin(self.product_code, wanted)


def facilities_of(result: AnalysisResult, *, nominal: bool) -> Facilities:
    """The facility-level figures of SPEC §4: the analysis's own (``nominal=False``), or with every
    off-balance-sheet item at its nominal amount (CCF 1.0, no floor, a row's ``ccf`` ignored)."""
    fac = result.facilities
    own = result.facility_values
    if nominal:
        pol = result.policy.model_copy(update={
            "ccf": {p: 1.0 for p in Product}, "ccf_floor": 0.0, "ignore_row_ccf": True})
        values = facility_values(fac, obligor=own["obligor"].to_numpy(),
                                 guarantor=own["guarantor"].to_numpy(), kinds=result.coded.kind,
                                 policy=pol, fx=result.fx)
    else:
        values = own
    rate = fac["currency"].map(result.fx).to_numpy(np.float64)
    codes, names = pd.factorize(fac["product"])
    return Facilities(
        obligor=own["obligor"].to_numpy(np.int64),
        guarantor=own["guarantor"].to_numpy(np.int64),
        product_code=np.asarray(codes, dtype=np.int64), products=tuple(map(str, names)),
        trading=(fac["book"].astype(str) == "trading").to_numpy() if "book" in fac
        else np.zeros(len(fac), dtype=bool),
        defaulted=fac["defaulted"].to_numpy(dtype=bool) if "defaulted" in fac
        else np.zeros(len(fac), dtype=bool),
        drawn=fac["drawn"].to_numpy(np.float64) * rate,
        undrawn=fac["undrawn"].to_numpy(np.float64) * rate,
        values=values,
    )


def per_entity(codes: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Sum ``weights`` per entity code; codes < 0 are skipped."""
    keep = codes >= 0
    return np.bincount(codes[keep], weights=weights[keep], minlength=n)


def index_of(result: AnalysisResult, values: object) -> np.ndarray:
    """Entity codes of the ids in ``values`` (-1 for an unknown id); hash look-ups, no sorting."""
    index = pd.Index(result.ids)
    return np.asarray(index.get_indexer(pd.Series(values).to_numpy(dtype=object)), dtype=np.int64)


_POSITIONS: weakref.WeakKeyDictionary[AnalysisResult, tuple[np.ndarray, np.ndarray]] = (
    weakref.WeakKeyDictionary())


def membership_positions(result: AnalysisResult) -> tuple[np.ndarray, np.ndarray]:
    """The root code of each row of ``result.groups``, and for each membership of
    ``result.membership`` the row of its group in ``result.groups`` (computed once per result)."""
    if result not in _POSITIONS:
        roots = index_of(result, result.groups["group_id"])
        row_of = np.full(result.ids.size, -1, dtype=np.int64)
        row_of[roots] = np.arange(roots.size)
        _POSITIONS[result] = (roots, row_of[result.membership.group])
    return _POSITIONS[result]


def group_sums(result: AnalysisResult, entity_frame: pd.DataFrame) -> pd.DataFrame:
    """Numeric per-entity columns (rows in entity code order) summed over each group's members;
    rows in the order of ``result.groups`` (indexed by position 0..k-1)."""
    _, gpos = membership_positions(result)
    k = len(result.groups)
    member = result.membership.member
    return pd.DataFrame({c: np.bincount(gpos, weights=entity_frame[c].to_numpy(np.float64)[member],
                                        minlength=k) for c in entity_frame.columns})


def ranked(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Positions sorted by value (largest first), ties by key (smallest first): stable ranking."""
    return np.lexsort((keys, -np.asarray(values, dtype=np.float64)))


def code_of(result: AnalysisResult) -> tuple[np.ndarray, np.ndarray]:
    """Per entity code: the reporting code (LEI, else national id, else entity_id) and its type
    (``LEI``, ``national``, or empty where only the bank's own id is known)."""
    ent = result.coded.entities
    lei = ent["lei"].astype(object).where(ent["lei"].notna(), None).to_numpy()
    nat = (ent["national_id"].astype(object).where(ent["national_id"].notna(), None).to_numpy()
           if "national_id" in ent else np.full(len(ent), None, dtype=object))
    own = result.ids.astype(object)
    has_lei = pd.notna(lei) & (pd.Series(lei).astype(str).str.strip() != "").to_numpy()
    has_nat = pd.notna(nat) & (pd.Series(nat).astype(str).str.strip() != "").to_numpy()
    code = np.where(has_lei, lei, np.where(has_nat, nat, own))
    kind = np.where(has_lei, "LEI", np.where(has_nat, "national", ""))
    return code.astype(object), kind.astype(object)


def is_institution(result: AnalysisResult) -> np.ndarray:
    """Per entity code: entities.csv ``is_institution``, blank meaning ``kind == "bank"``."""
    ent = result.coded.entities
    by_kind = result.coded.kind == "bank"
    if "is_institution" not in ent:
        return np.asarray(by_kind, dtype=bool)
    given = ent["is_institution"].reset_index(drop=True)
    return np.where(given.notna().to_numpy(), given.eq(True).to_numpy(dtype=bool), by_kind)


def flag(result: AnalysisResult, column: str) -> np.ndarray:
    """Per entity code: a boolean entities.csv column (false where absent)."""
    ent = result.coded.entities
    if column not in ent:
        return np.zeros(len(ent), dtype=bool)
    return ent[column].eq(True).to_numpy(dtype=bool)


def text(result: AnalysisResult, column: str) -> np.ndarray:
    """Per entity code: a text entities.csv column, None where blank or absent."""
    ent = result.coded.entities
    if column not in ent:
        return np.full(len(ent), None, dtype=object)
    s = ent[column].astype(object)
    blank = s.isna() | (s.astype(str).str.strip() == "")
    return s.where(~blank, None).to_numpy(dtype=object)
