"""Collect mode: the tables that can be used, read conservatively (SPEC §7).

A row is left out only when no reading of it can be used: an unknown entity, an unreadable required
amount, a currency without a rate, and every row that depends on one left out (a facility in a
currency whose only rate was unreadable). Every other row is used with the reading that gives the
larger exposure or the larger group (:mod:`.columns` for single cells, :mod:`.rules` for rules that
span rows); rows with the same entity_id are read as one entity (kind ``corporate`` where they
disagree, G-SIB where any says so); of two rates for one currency the higher is used; the shares of
an ownership ring that keeps all its equity inside, or of an entity held more than 100%, are scaled
just below 1 for look-through only, so that integrated ownership stays defined.

``left_out`` lists what was left out that can only lower a figure (a facility, a holding, a
connection, a guarantee), with the known entities it touches, so that the analysis can name the
groups whose figures may be understated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..model.issues import ValidationError, issues_frame
from ..model.policy import Policy
from ..model.schema import TABLES, Capital
from ._collect import PROBLEM_FIELDS, Collector, collected
from .columns import CONSERVATIVE_FLAGS

__all__ = ["LEFT_OUT_COLUMNS", "ValidPortfolio", "collect_tables", "highest_rates",
           "left_out_rows", "lookthrough_shares"]

LEFT_OUT_COLUMNS = ["table", "row", "entity_id", "amount", "what"]
_SCALE = 1 - 1e-9


@dataclass
class ValidPortfolio:
    """Typed, checked tables; every row here is trusted by the rest of the library."""

    entities: pd.DataFrame
    ownership: pd.DataFrame
    connections: pd.DataFrame
    facilities: pd.DataFrame
    fx: dict[str, float]
    capital: Capital
    issues: pd.DataFrame
    encoded: tuple[np.ndarray, list[np.ndarray]] | None = None
    """The entity ids and the codes of entities, owners, owned, dependents, depends-on, obligors
    and guarantors (:func:`ids.encode`), where no row was dropped or read differently."""
    row_counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Per table: rows ``read``, ``used``, ``dropped`` (read = used + dropped) and
    ``used_with_error`` (of the used rows, those read conservatively despite an error)."""
    left_out: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LEFT_OUT_COLUMNS))
    """What collect mode left out that can only lower a figure, one row per (row, entity touched):
    ``table, row, entity_id, amount`` (the readable nominal in the reporting currency, NaN where
    unknown) and ``what``."""

    @property
    def currency(self) -> str:
        """The reporting currency (capital.json ``currency``)."""
        return self.capital.currency


def highest_rates(fx: pd.DataFrame, reporting: str) -> dict[str, float]:
    """One rate per currency: the highest where several are given (the larger exposure)."""
    ok = fx[fx["currency"].notna() & fx["rate"].notna() & (fx["rate"] > 0)]
    best = ok.groupby("currency")["rate"].max()
    rates = {str(c): float(r) for c, r in best.items()}
    rates[reporting] = 1.0
    return rates


def _counts(read: dict[str, int], dropped: dict[str, set[int]], kept_err: dict[str, set[int]]
            ) -> pd.DataFrame:
    return pd.DataFrame({
        "table": list(TABLES),
        "read": [read[t] for t in TABLES],
        "used": [read[t] - len(dropped[t]) for t in TABLES],
        "dropped": [len(dropped[t]) for t in TABLES],
        "used_with_error": [len(kept_err[t] - dropped[t]) for t in TABLES],
    })


def _flag_reading(want: bool) -> object:
    """How repeated rows' flag values merge: blank where every row is blank (a tri-state flag stays
    "not given"), else true if any row says so when true is the conservative reading (all otherwise)."""
    def merge(v: pd.Series) -> object:
        given = v.dropna()
        if given.empty:
            return None
        flags = given.astype(bool)
        return bool(flags.any()) if want else bool(flags.all())
    return merge


def _merge_entities(ent: pd.DataFrame) -> pd.DataFrame:
    """Rows with the same entity_id as one entity, read conservatively."""
    dup = ent["entity_id"].notna() & ent["entity_id"].duplicated(keep=False)
    if not dup.any():
        return ent
    d = ent[dup]
    agg: dict[str, object] = {}
    for col in d.columns:
        if col == "entity_id":
            continue
        if col == "kind":
            agg[col] = lambda v: v.iloc[0] if v.nunique(dropna=False) == 1 else "corporate"
        elif ("entities", col) in CONSERVATIVE_FLAGS:
            agg[col] = _flag_reading(CONSERVATIVE_FLAGS[("entities", col)])
        elif col == "_row":
            agg[col] = "min"
        else:
            agg[col] = lambda v: min(map(str, v.dropna())) if v.notna().any() else None
    merged = d.groupby("entity_id", sort=False).agg(agg).reset_index()  # type: ignore[arg-type]
    return pd.concat([ent[~dup], merged[ent.columns]], ignore_index=True)


def _cascade(kept: dict[str, pd.DataFrame], all_ids: set[str], rates: dict[str, float],
             out: Collector) -> None:
    """Rows that refer to an entity or a rate left out: dropped too (a guarantee: ignored)."""
    gone = pd.Index(sorted(all_ids - set(kept["entities"]["entity_id"].dropna())))
    for table, cols in (("ownership", ["owner_id", "owned_id"]),
                        ("connections", ["dependent_id", "depends_on_id"]),
                        ("facilities", ["obligor_id", "guarantor_id"])):
        frame = kept[table]
        for col in cols:
            if gone.empty:
                break
            hit = frame[col].isin(gone).to_numpy()
            if col == "guarantor_id":
                out.rule(table, frame, hit, "dropped_dependency", col,
                         "guarantor_id {guarantor_id} was dropped from entities.csv",
                         fate="keep", reading="the guarantee is ignored: the exposure stays "
                         "with the obligor")
                frame.loc[hit, "guarantor_id"] = None
            else:
                out.rule(table, frame, hit, "dropped_dependency", col,
                         col + " {" + col + "} was dropped from entities.csv, so this row is "
                         "dropped too")
        kept[table] = frame
    fac = kept["facilities"]
    lost = ~fac["currency"].isin(list(rates))
    out.rule("facilities", fac, lost.to_numpy(), "dropped_dependency", "currency",
             "the rate of currency {currency} was dropped from fx.csv, so this row is dropped too")


def lookthrough_shares(own: pd.DataFrame) -> None:
    """Shares for look-through only (control keeps the shares and votes as given), so that
    integrated ownership stays defined (SPEC §4): an entity held more than 100% is read as held in
    proportion to the stated shares, and the shares inside an ownership ring that keeps all of a
    member's equity inside are scaled just below 1. Written to ``lookthrough_share`` if any changes."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if own.empty:
        return
    codes, _ = pd.factorize(pd.concat([own["owner_id"], own["owned_id"]], ignore_index=True))
    o, s = codes[: len(own)], codes[len(own):]
    n = int(codes.max()) + 1
    share = np.nan_to_num(own["share"].to_numpy(np.float64))
    total = np.bincount(s, weights=share, minlength=n)
    scale = np.where(total[s] > 1.0, 1.0 / np.maximum(total[s], 1.0), 1.0)
    graph = coo_matrix((np.ones(len(o)), (o, s)), shape=(n, n)).tocsr()
    n_comp, label = connected_components(graph, directed=True, connection="strong")
    size = np.bincount(label, minlength=n_comp)
    inside = (label[o] == label[s]) & (size[label[o]] > 1)
    held = np.bincount(s[inside], weights=(share * scale)[inside], minlength=n)
    ring = np.where(held >= _SCALE, _SCALE / np.maximum(held, _SCALE), 1.0)
    scale = np.where(inside, scale * ring[s], scale)
    if (scale < 1).any():
        own["lookthrough_share"] = own["share"].to_numpy(np.float64) * scale


def left_out_rows(frames: dict[str, pd.DataFrame], dropped: dict[str, set[int]], present: set[str],
              rates: dict[str, float], self_refs: dict[str, set[int]]) -> pd.DataFrame:
    """What was left out that can only lower a figure, with the known entities it touches
    (``present``); ``dropped`` gives each table's rows left out (by ``_row``), ``self_refs`` those
    of them that referred to themselves (they lower nothing)."""
    parts = []
    fac = frames["facilities"]
    lost = fac[fac["_row"].isin(list(dropped["facilities"]))]
    if len(lost):
        rate = lost["currency"].map(rates).astype("float64")
        nominal = (lost["drawn"] + lost["undrawn"]) * rate  # NaN: an amount unreadable
        for col in ("obligor_id", "guarantor_id"):
            parts.append(pd.DataFrame({"table": "facilities", "row": lost["_row"],
                                       "entity_id": lost[col], "amount": nominal,
                                       "what": f"facility left out ({col})"}))
    if "_guarantor_given" in fac:
        ign = fac[fac["_guarantor_given"].notna() & ~fac["_row"].isin(list(dropped["facilities"]))]
        parts.append(pd.DataFrame({"table": "facilities", "row": ign["_row"],
                                   "entity_id": ign["_guarantor_given"], "amount": np.nan,
                                   "what": "guarantee ignored (guaranteed_amount unreadable)"}))
    for table, cols in (("ownership", ["owner_id", "owned_id"]),
                        ("connections", ["dependent_id", "depends_on_id"])):
        frame = frames[table]
        rows = dropped[table] - self_refs.get(table, set())
        sub = frame[frame["_row"].isin(list(rows))]
        for col in cols:
            parts.append(pd.DataFrame({"table": table, "row": sub["_row"], "entity_id": sub[col],
                                       "amount": np.nan, "what": f"{table} row left out"}))
    frame = pd.concat([p for p in parts if len(p)] or [pd.DataFrame(columns=LEFT_OUT_COLUMNS)],
                      ignore_index=True)
    frame = frame[frame["entity_id"].isin(list(present)) | (frame["what"].str.endswith(
        "(obligor_id)") & frame["entity_id"].notna())]
    return frame[LEFT_OUT_COLUMNS].sort_values(["table", "row", "entity_id"]).reset_index(drop=True)


def _rows_with(problems: pd.DataFrame, severity: str, fate: str) -> dict[str, set[int]]:
    hit = problems[(problems["severity"] == severity) & (problems["fate"] == fate)
                   & problems["row"].notna()]
    return {t: set(hit.loc[hit["table"] == t, "row"].astype(int)) for t in TABLES}


def collect_tables(frames: dict[str, pd.DataFrame], problems: pd.DataFrame, read: dict[str, int],
                   capital: Capital, policy: Policy, *,
                   encoded: tuple[np.ndarray, list[np.ndarray]] | None) -> ValidPortfolio:
    """The tables collect mode uses (all of them when nothing is wrong), with the row counts."""
    reporting = capital.currency
    if not (problems["severity"] == "error").any():  # nothing to drop or read differently
        none: dict[str, set[int]] = {t: set() for t in TABLES}
        return ValidPortfolio(
            encoded=encoded, **{t: frames[t].reset_index(drop=True) for t in TABLES if t != "fx"},
            fx=highest_rates(frames["fx"], reporting), capital=capital,
            issues=issues_frame(problems[PROBLEM_FIELDS]), row_counts=_counts(read, none, none))
    dropped = _rows_with(problems, "error", "drop")
    out = Collector()
    kept = {t: f[~f["_row"].isin(list(dropped[t]))].copy() for t, f in frames.items()}
    kept["entities"] = _merge_entities(kept["entities"])
    rates = highest_rates(kept["fx"], reporting)
    _cascade(kept, set(frames["entities"]["entity_id"].dropna()), rates, out)
    cascade = out.raw()
    for t, rows in _rows_with(cascade, "error", "drop").items():
        dropped[t] |= rows
        kept[t] = kept[t][~kept[t]["_row"].isin(list(rows))]
    kept_err = _rows_with(pd.concat([problems, cascade], ignore_index=True), "error", "keep")
    missing = sorted(policy.currencies_needed - set(rates))
    if missing:
        raise ValidationError(issues_frame(problems[PROBLEM_FIELDS]))
    if any(kept_err.values()) and kept["ownership"]["share"].notna().any():
        lookthrough_shares(kept["ownership"])
    self_refs = _rows_with(problems[problems["code"] == "self_reference"], "error", "drop")
    present = set(kept["entities"]["entity_id"].dropna())
    left = left_out_rows(frames, dropped, present, rates, self_refs)
    issues = collected(pd.concat([problems, cascade], ignore_index=True), dropped)
    for t in ("facilities",):
        kept[t] = kept[t].drop(columns=["_guarantor_given"], errors="ignore")
    return ValidPortfolio(
        encoded=encoded,
        entities=kept["entities"].reset_index(drop=True),
        ownership=kept["ownership"].reset_index(drop=True),
        connections=kept["connections"].reset_index(drop=True),
        facilities=kept["facilities"].reset_index(drop=True),
        fx=rates,
        capital=capital,
        issues=issues,
        row_counts=_counts(read, dropped, kept_err),
        left_out=left,
    )
