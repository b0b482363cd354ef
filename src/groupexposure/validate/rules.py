"""Validation at the boundary: every rule of SPEC §1, every failure reported at once (SPEC §7).

Each table is typed column by column (:mod:`.columns`), then the rules that span rows are checked
here: references to entities, duplicates, self-references, shares adding up to more than 1, closed
ownership cycles, currencies and their rates. Every failing cell becomes one row of the problems
table (table, row, key, column, value, what would be valid).

``on_error="raise"`` turns any error into one :class:`~groupexposure.model.issues.ValidationError`.
``on_error="collect"`` is never less conservative than the data (:mod:`._readings`): a row is left
out only when no reading of it can be used, every other row is used with the reading that gives the
larger exposure or group, and every row left out or used despite a problem is listed, so that
rows read = rows used + rows dropped for every table.

Structural problems (a missing or unreadable file, a missing or repeated column, an invalid capital
record) stop the analysis in both modes: no row of such a table can be trusted.

Row numbers count data rows from 1 (row 1 is the first line under the CSV header).
"""

from __future__ import annotations

import unicodedata
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ValidationError as PydanticValidationError

from ..core.ids import encode
from ..model.issues import ValidationError, close_matches, issues_frame
from ..model.policy import Policy
from ..model.portfolio import Portfolio
from ..model.schema import TABLES, Capital, columns
from ._collect import KEYS, PROBLEM_FIELDS, Collector, external_rows, text
from ._readings import ValidPortfolio, collect_tables
from .columns import convert

__all__ = ["KEYS", "READINGS", "OnError", "ValidPortfolio", "closed_cycles", "external_rows",
           "fx_rules", "validate"]

OnError = Literal["raise", "collect"]
FATAL_CODES = frozenset({"missing_file", "unreadable_file", "missing_column", "missing_dependency",
                         "invalid_capital", "duplicate_column", "ambiguous_table"})
SUM_TOLERANCE = 1e-9


#: The reading collect mode uses for a row-spanning problem it keeps (SPEC §7), by code and table
#: (a problem not named here leaves its row out); the Spark engine words its problems from it.
READINGS: dict[tuple[str, str], str] = {
    ("unknown_entity", "facilities"): "the guarantee is ignored: the exposure stays with the "
                                      "obligor",  # an unknown guarantor; an obligor drops the row
    ("self_reference", "facilities"): "the guarantee is ignored: the exposure stays with the "
                                      "obligor",
    ("duplicate", "entities"): "the rows are read as one entity: kind corporate where they "
                               "disagree, G-SIB where any says so",
    ("duplicate", "ownership"): "every row counts (the holdings are added: more control, never "
                                "less)",
    ("duplicate", "facilities"): "every row is counted",
    ("duplicate", "fx"): "the highest of its rates is used (the larger exposure)",
    ("sum_above_one", "ownership"): "every holding counts (more control, never less)",
}


def _check_columns(table: str, raw: pd.DataFrame, source: str, out: Collector) -> None:
    names = [str(c) for c in raw.columns]
    repeated = sorted({c for c in names if names.count(c) > 1})
    for name in repeated:
        out.add_one("duplicate_column", table, name, name,
                    f"{source} has {names.count(name)} columns named {name}; each column must "
                    "appear once (which one holds the data is ambiguous)")
    required = [c.name for c in columns(table) if c.required]
    missing = [c for c in required if c not in names]
    if missing:
        found = ", ".join(names) or "no columns"
        out.add_one("missing_column", table, ", ".join(missing), "",
                    f"{source} lacks required column{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(missing)}; found: {found}")


def _all_distinct(frame: pd.DataFrame, cols: list[str], keys: np.ndarray | None) -> bool:
    """A quick proof that no two rows share ``cols`` (then the hashing below is skipped): integer
    ``keys`` (-1 where unknown) that are distinct, or one text column that is strictly increasing
    or has as many distinct values as values."""
    if keys is not None:
        present = frame[cols].notna().all(axis=1).to_numpy()
        if (keys[present] < 0).any():
            return False
        k = np.sort(keys[present])
        return not bool((k[1:] == k[:-1]).any())
    if len(cols) != 1 or len(frame) < 2:
        return len(frame) < 2
    col = pa.array(frame[cols[0]])
    col = col.drop_null()
    if len(col) < 2:
        return True
    if pc.all(pc.greater(col[1:], col[:-1])).as_py():
        return True
    return bool(pc.count_distinct(col).as_py() == len(col))


def _duplicates(table: str, frame: pd.DataFrame, cols: list[str], out: Collector, *,
                keys: np.ndarray | None = None, distinct: bool | None = None,
                reading: str = "") -> pd.Series:
    """Rows sharing ``cols``: reported (kept with ``reading``); returns the mask."""
    none = pd.Series(False, index=frame.index)
    if distinct if distinct is not None else _all_distinct(frame, cols, keys):
        return none
    present = frame[cols].notna().all(axis=1)
    dup = frame[cols].duplicated(keep=False) & present
    if dup.any():
        grouped = frame.loc[dup].groupby(cols, sort=False)["_row"]
        first = grouped.transform("min")
        rows = grouped.transform(lambda r: ", ".join(map(str, sorted(r))))
        what = " and ".join(cols)
        msg = pd.Series("", index=frame.index, dtype=object)
        msg[dup] = (f"{what} must be unique; the same value is in rows " + rows.astype(str)
                    + " (first at row " + first.astype(str) + ")")
        out.add(table, frame, dup, "duplicate", cols[-1] if len(cols) == 1 else cols[0], msg,
                value=frame[cols[0]] if len(cols) == 1 else
                frame[cols[0]].astype(str) + " → " + frame[cols[1]].astype(str),
                fate="keep", reading=reading)
    return dup


def _norm_arrow(values: pd.Series) -> tuple[pa.Array, pa.Array]:
    """The ids as one arrow array, and without surrounding spaces in Unicode normal form NFC."""
    try:
        arr = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = pa.array(values.astype(str).to_numpy(dtype=object), type=pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr, pc.utf8_trim_whitespace(pc.utf8_normalize(arr, "NFC"))


def _norm(values: pd.Series) -> pd.Series:
    """Ids without surrounding spaces, in Unicode normal form NFC."""
    _, norm = _norm_arrow(values)
    return pd.Series(norm.to_numpy(zero_copy_only=False), index=values.index, dtype=object)


def _references(table: str, frame: pd.DataFrame, column: str, codes: np.ndarray,
                known: np.ndarray, out: Collector) -> None:
    """Ids in ``column`` that are not entities (``codes`` from :func:`ids.encode`: -1)."""
    vals = frame[column]
    unknown = (vals.notna() & (codes < 0)).to_numpy()
    if not unknown.any():
        return
    hints: dict[str, str] = {}
    normal = dict(zip(_norm(pd.Series(known)), known, strict=True)) if known.size < 10**6 else {}
    for v in pd.unique(vals[unknown])[:200]:
        same = normal.get(unicodedata.normalize("NFC", str(v).strip()))
        if same is not None:
            hints[v] = (f" — did you mean {same!r}? they differ only by surrounding spaces or "
                        "Unicode normalisation")
            continue
        near = close_matches(str(v), _neighbours(str(v), known))
        hints[v] = f" — did you mean {' or '.join(near)}?" if near else ""
    msg = pd.Series("", index=frame.index, dtype=object)
    msg[unknown] = (column + " " + vals[unknown].astype(str) + " is not in entities.csv"
                    + vals[unknown].map(lambda v: hints.get(v, "")))
    guarantee = table == "facilities" and column == "guarantor_id"
    out.add(table, frame, unknown, "unknown_entity", column, msg,
            fate="keep" if guarantee else "drop",
            reading=READINGS["unknown_entity", "facilities"] if guarantee else "")
    if guarantee:
        frame.loc[unknown, "guarantor_id"] = None


def _neighbours(value: str, sorted_known: np.ndarray, width: int = 100) -> list[str]:
    if len(sorted_known) <= 2 * width:
        return list(sorted_known)
    pos = int(np.searchsorted(sorted_known, value))
    return list(sorted_known[max(0, pos - width): pos + width])


def _similar_ids(ent: pd.DataFrame, out: Collector) -> None:
    """Entity ids that differ only by surrounding spaces or Unicode normalisation (a warning)."""
    ids = ent["entity_id"].dropna()
    arr, norm = _norm_arrow(ids)
    if len(arr) == 0 or pc.all(pc.equal(arr, norm)).as_py():  # no id changes: no two can meet
        return
    key = pd.Series(norm.to_numpy(zero_copy_only=False), index=ids.index, dtype=object)
    sub = ent.loc[ids.index]
    distinct = sub.groupby(key)["entity_id"].transform("nunique")
    hit = (distinct > 1).reindex(ent.index, fill_value=False)
    if hit.any():
        names = sub.groupby(key)["entity_id"].agg(lambda v: " and ".join(
            repr(x) for x in sorted(set(v))))
        msg = pd.Series("", index=ent.index, dtype=object)
        msg[hit] = ("entity ids " + key[hit[ids.index]].map(names) + " differ only by surrounding "
                    "spaces or Unicode normalisation; they are read as different entities")
        out.add("entities", ent, hit, "similar_ids", "entity_id", msg)


def _id_codes(col: pd.Series, codes: np.ndarray, n: int) -> np.ndarray:
    """Integer codes of an id column: the entity code where known, ``n + k`` for the k-th distinct
    unknown id, -1 where empty."""
    unknown = (codes < 0) & col.notna().to_numpy()
    if not unknown.any():
        return codes
    extra, _ = pd.factorize(col[unknown])
    out = codes.copy()
    out[unknown] = n + extra
    return out


def _ownership_sums(frame: pd.DataFrame, owned: np.ndarray, out: Collector) -> None:
    """Each owned entity's shares, and its voting rights, add up to at most 1 (rows whose own value
    is already invalid are left out of the sum: they are reported on their own)."""
    for col in ("share", "voting"):
        vals = frame[col] if col == "share" else frame["voting"].fillna(frame["share"])
        valid = (vals.between(0, 1) & frame["owned_id"].notna()).to_numpy()
        sums = np.bincount(owned[valid], weights=vals.to_numpy()[valid],
                           minlength=max(int(owned.max(initial=-1)) + 1, 1))
        total = pd.Series(np.where(valid, sums[np.maximum(owned, 0)], 0.0), index=frame.index)
        over = (total > 1 + SUM_TOLERANCE) & valid
        if not over.any():
            continue
        sub = frame.loc[over].assign(_v=vals[over])
        listing = sub.groupby("owned_id")[["owner_id", "_v"]].apply(
            lambda g: ", ".join(f"{o} {v:.4g}" for o, v in sorted(zip(g["owner_id"], g["_v"],
                                                                       strict=True))))
        msg = pd.Series("", index=frame.index, dtype=object)
        msg[over] = ("the " + ("shares" if col == "share" else "voting rights") + " held in "
                     + sub["owned_id"].astype(str) + " add up to "
                     + total[over].map(lambda v: f"{v:.6g}") + ", above 1 ("
                     + sub["owned_id"].map(listing).astype(str) + ")")
        out.add("ownership", frame, over, "sum_above_one", col, msg, value=vals, fate="keep",
                reading=READINGS["sum_above_one", "ownership"])


def closed_cycles(frame: pd.DataFrame, o: np.ndarray, s: np.ndarray, out: Collector) -> None:
    """Ownership cycles that keep all equity inside: (I - A) would be singular (SPEC §4)."""
    if frame.empty:
        return
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = int(max(o.max(), s.max())) + 1
    graph = coo_matrix((np.ones(len(o)), (o, s)), shape=(n, n)).tocsr()
    n_comp, label = connected_components(graph, directed=True, connection="strong")
    size = np.bincount(label, minlength=n_comp)
    inside = (label[o] == label[s]) & (size[label[o]] > 1)
    if not inside.any():
        return
    held_inside = np.bincount(s[inside], weights=frame["share"].to_numpy()[inside], minlength=n)
    members = np.flatnonzero(size[label] > 1)
    comp_min = pd.Series(held_inside[members]).groupby(label[members]).min()
    closed = comp_min.index[comp_min >= 1 - SUM_TOLERANCE]
    if closed.empty:
        return
    owners = frame["owner_id"].to_numpy(dtype=object)
    shown = 6  # a cycle of 100,000 is named by its first members, once
    for comp in closed:
        rows = np.flatnonzero(inside & (label[o] == comp))
        names = np.unique(owners[rows].astype(str))  # every member holds one inside the cycle
        more = names.size - shown
        listed = " → ".join(names[:shown].tolist())
        cycle = (f"{listed} → {names[0]}" if more <= 0
                 else f"{listed} → … ({more:,} more) → {names[0]}")
        mask = np.zeros(len(frame), dtype=bool)
        mask[rows[np.argmin(owners[rows].astype(str))]] = True  # reported once, on one row
        out.add("ownership", frame, mask, "closed_cycle", "share",
                f"an ownership cycle of {names.size:,} entities keeps all equity inside it "
                f"({cycle}) through {rows.size:,} links: every member is wholly owned by the others, so "
                "integrated ownership is undefined",
                fate="keep", reading="the holdings count for control (the ring is one unit); for "
                "look-through the shares inside the ring are scaled just below 1")


def _capital(portfolio: Portfolio, policy: Policy, out: Collector) -> Capital | None:
    data = portfolio.capital
    if data is None:
        return None
    try:
        capital = Capital.model_validate(data)
    except PydanticValidationError as exc:
        for err in exc.errors():
            where = ".".join(map(str, err["loc"]))
            got = err.get("input", "")
            rule = " (tier1 and total_capital must be finite numbers > 0)" if where in (
                "tier1", "total_capital") else ""
            out.add_one("invalid_capital", "capital", where, got,
                        f"{where}: {err['msg']}; got {got!r}{rule}")
        return None
    if policy.needs_total_capital and capital.total_capital is None:
        out.add_one("invalid_capital", "capital", "total_capital", "",
                    f"policy {policy.name} measures against total_capital (资本净额); "
                    "capital.json has none")
        return None
    return capital


def _structure(portfolio: Portfolio, policy: Policy, out: Collector) -> Capital:
    """Files, columns and capital: anything wrong here stops the analysis in both modes."""
    if portfolio.problems:
        out.extend(pd.DataFrame([vars(p) for p in portfolio.problems])[PROBLEM_FIELDS])
    for table in TABLES:
        source = portfolio.sources.get(table, f"{table}.csv")
        _check_columns(table, getattr(portfolio, table), source, out)
    capital = _capital(portfolio, policy, out)
    structural = out.frame()
    if structural["code"].isin(list(FATAL_CODES)).any() or capital is None:
        raise ValidationError(structural)
    return capital


def _typed(portfolio: Portfolio, policy: Policy, out: Collector, pool: ThreadPoolExecutor
           ) -> dict[str, pd.DataFrame]:
    """Every table typed column by column; the largest alongside the others."""
    biggest = max(TABLES, key=lambda t: len(getattr(portfolio, t)))
    pending = pool.submit(convert, biggest, getattr(portfolio, biggest), policy=policy)
    done = {t: convert(t, getattr(portfolio, t), policy=policy) for t in TABLES if t != biggest}
    done[biggest] = pending.result()
    for t in TABLES:
        out.extend(done[t][1])
    return {t: done[t][0] for t in TABLES}


def fx_rules(fx: pd.DataFrame, fac: pd.DataFrame, reporting: str, policy: Policy,
              out: Collector) -> None:
    """Rates: one per currency (the higher of two different ones is used), the reporting
    currency at 1, and a rate for every facility's currency."""
    ok = fx["currency"].notna() & fx["rate"].notna()
    grouped = fx[ok].groupby("currency")["rate"]
    n_rates = grouped.transform("nunique").reindex(fx.index, fill_value=0)
    n_rows = grouped.transform("size").reindex(fx.index, fill_value=0)
    same = (n_rows > 1) & (n_rates == 1)
    if same.any():
        out.rule("fx", fx, same, "repeated_rate", "currency",
                 "currency {currency} is given more than once with the same rate {rate}; one is used")
    _duplicates("fx", fx[~same.to_numpy()].copy(), ["currency"], out,
                reading=READINGS["duplicate", "fx"])
    fx_bad = fx["currency"].eq(reporting) & fx["rate"].notna() & fx["rate"].ne(1.0)
    out.add("fx", fx, fx_bad, "out_of_range", "rate",
            f"the rate of the reporting currency {reporting} must be 1; got "
            + text(fx["rate"][fx_bad]), fate="keep", reading="read as 1")
    fx.loc[fx_bad.to_numpy(), "rate"] = 1.0
    fac["currency"] = fac["currency"].where(fac["currency"].notna(), reporting)
    known_ccy = set(fx.loc[ok & (fx["rate"] > 0), "currency"]) | {reporting}
    no_rate = ~fac["currency"].isin(list(known_ccy))
    out.rule("facilities", fac, no_rate, "missing_fx_rate", "currency",
             "currency {currency} has no rate in fx.csv; rates are given for "
             + ", ".join(sorted(known_ccy)).replace("{", "{{").replace("}", "}}")
             + " (never treated as 1)")
    for ccy in sorted(policy.currencies_needed - known_ccy):
        out.add_one("missing_fx_rate", "fx", "currency", ccy,
                    f"policy {policy.name} states a limit in {ccy}; fx.csv needs a {ccy} rate "
                    f"(reporting currency {reporting})")


def _cross_rules(frames: dict[str, pd.DataFrame], capital: Capital, policy: Policy,
                 out: Collector, fac_distinct: Future[bool]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The rules spanning rows; returns the encoded ids (:func:`ids.encode`)."""
    ent, own, con, fac, fx = (frames[t] for t in TABLES)
    refs = [("ownership", "owner_id"), ("ownership", "owned_id"), ("connections", "dependent_id"),
            ("connections", "depends_on_id"), ("facilities", "obligor_id"),
            ("facilities", "guarantor_id")]
    known, (entity_codes, *codes) = encode(ent["entity_id"].dropna(), ent["entity_id"],
                                           *(frames[t][c] for t, c in refs))
    for (table, col), code in zip(refs, codes, strict=True):
        _references(table, frames[table], col, code, known, out)
    _duplicates("entities", ent, ["entity_id"], out, keys=entity_codes,
                reading=READINGS["duplicate", "entities"])
    _similar_ids(ent, out)
    n_ids = known.size
    own_o, own_s = codes[0], codes[1]
    pair = np.where((own_o >= 0) & (own_s >= 0), own_o * max(n_ids, 1) + own_s, -1)
    _duplicates("ownership", own, ["owner_id", "owned_id"], out, keys=pair,
                reading=READINGS["duplicate", "ownership"])
    out.rule("ownership", own, own["owner_id"].notna() & (own["owner_id"] == own["owned_id"]),
             "self_reference", "owned_id",
             "an entity cannot own itself (owner_id = owned_id = {owner_id})")
    own["voting"] = own["voting"].fillna(own["share"])
    own_o = _id_codes(own["owner_id"], own_o, n_ids)
    own_s = _id_codes(own["owned_id"], own_s, n_ids)
    _ownership_sums(own, own_s, out)
    ok_share = own["share"].between(0, 1, inclusive="right") & own["owner_id"].ne(own["owned_id"])
    in_cycles = (ok_share & own["owner_id"].notna() & own["owned_id"].notna()).to_numpy()
    closed_cycles(own.loc[in_cycles], own_o[in_cycles], own_s[in_cycles], out)
    out.rule("connections", con, con["dependent_id"].notna()
             & (con["dependent_id"] == con["depends_on_id"]), "self_reference", "depends_on_id",
             "a connection must join two different entities; got {dependent_id} on both ends")
    _duplicates("facilities", fac, ["facility_id"], out, distinct=fac_distinct.result(),
                reading=READINGS["duplicate", "facilities"])
    same = (fac["guarantor_id"].notna() & (fac["guarantor_id"] == fac["obligor_id"])).to_numpy()
    out.rule("facilities", fac, same, "self_reference", "guarantor_id",
             "the guarantor must differ from the obligor; got {obligor_id} as both", fate="keep",
             reading=READINGS["self_reference", "facilities"])
    fac.loc[same, "guarantor_id"] = None
    fx_rules(fx, fac, capital.currency, policy, out)
    return known, [entity_codes, *codes]


def validate(portfolio: Portfolio, policy: Policy, *, on_error: OnError = "raise") -> ValidPortfolio:
    """Check every rule of SPEC §1 at once and return the trusted tables.

    Raises :class:`~groupexposure.model.issues.ValidationError` listing every problem when
    ``on_error="raise"`` and any error was found, or when a structural problem makes the input
    unusable; with ``on_error="collect"`` only rows that cannot be used are dropped, every other
    row is used with its conservative reading, and both are listed in ``issues``.
    """
    if on_error not in ("raise", "collect"):
        raise ValueError(f"on_error must be 'raise' or 'collect'; got {on_error!r}")
    out = Collector()
    capital = _structure(portfolio, policy, out)
    with ThreadPoolExecutor(max_workers=1) as pool:  # the largest job alongside the others
        frames = _typed(portfolio, policy, out, pool)
        fac_distinct = pool.submit(_all_distinct, frames["facilities"], ["facility_id"], None)
        encoded = _cross_rules(frames, capital, policy, out, fac_distinct)
    problems = out.raw()
    errors = problems["severity"] == "error"
    if errors.any() and (on_error == "raise" or problems.loc[errors, "row"].isna().any()):
        raise ValidationError(issues_frame(problems[PROBLEM_FIELDS]))
    read = {t: len(getattr(portfolio, t)) for t in TABLES}
    return collect_tables(frames, problems, read, capital, policy,
                          encoded=None if errors.any() else encoded)
