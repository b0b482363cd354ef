"""The structural rules of SPEC §1 and §7 on Spark, as anti-joins and counts.

Covered, with the single-machine codes and messages: ``unknown_entity`` (every id column),
``duplicate`` (entity ids, ownership pairs, facility ids, fx currencies), ``self_reference``
(ownership, connections, guarantors), ``out_of_range`` (a share or voting above 1, with the
percentage hint), ``sum_above_one`` (shares and votes per owned entity) and ``missing_fx_rate``
(facilities, and a currency the policy states a limit in). Only the offending rows are collected
to the driver. With ``on_error="collect"`` the rows no reading can use are dropped (unknown
entities, self references, a currency without a rate, a share out of range); rows with a
duplicate key, and holdings above one, all count (SPEC §7: never less conservative).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ...model.issues import ValidationError, close_matches, issue, issues_frame
from ...model.policy import Policy
from ...validate.rules import KEYS, SUM_TOLERANCE
from ._read import Tables

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

__all__ = ["validate_tables"]

REFERENCES = [("ownership", "owner_id"), ("ownership", "owned_id"),
              ("connections", "dependent_id"), ("connections", "depends_on_id"),
              ("facilities", "obligor_id"), ("facilities", "guarantor_id")]


def _g(v: float) -> str:
    return "" if v != v else f"{v:.15g}"


def _key(table: str) -> Column:
    """The row key as text, ``owner_id=A, owned_id=B`` (SPEC §7)."""
    from pyspark.sql import functions as F
    parts: list[Column] = []
    for c in KEYS[table]:
        parts += [F.lit(("" if not parts else ", ") + c + "="), F.coalesce(F.col(c), F.lit(""))]
    return F.concat(*parts)


def _neighbours(entities: DataFrame, value: str, width: int = 100) -> list[str]:
    from pyspark.sql import functions as F
    ids = entities.select("entity_id").where(F.col("entity_id").isNotNull())
    below = ids.where(F.col("entity_id") < value).orderBy(F.desc("entity_id")).limit(width)
    above = ids.where(F.col("entity_id") >= value).orderBy("entity_id").limit(width)
    return sorted(r[0] for r in below.union(above).collect())


def _problem(code: str, table: str, column: str, value: Column, frame: DataFrame,
             extra: Column | None = None, number: Column | None = None,
             rows: Column | None = None) -> DataFrame:
    """Problem rows of one rule in one shape, so that every rule is collected in one job:
    (code, table, column, value, row, key, extra, number, rows)."""
    from pyspark.sql import functions as F
    return frame.select(
        F.lit(code).alias("code"), F.lit(table).alias("table"), F.lit(column).alias("column"),
        value.cast("string").alias("value"), F.col("_row").alias("row"), _key(table).alias("key"),
        (extra if extra is not None else F.lit(None)).cast("string").alias("extra"),
        (number if number is not None else F.lit(None)).cast("double").alias("number"),
        (rows if rows is not None else F.lit(None)).cast("array<long>").alias("rows"))


def _rules(t: Tables, reporting: str, known_ccy: list[str]) -> DataFrame:
    """Every structural rule's failing rows, as one frame (three shuffles: one anti-join for
    every id column, one window for every duplicate key, one for the sums per owned entity)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    ids = t.entities.select(F.col("entity_id").alias("_id")).where("_id is not null")
    refs = [_problem("unknown_entity", table, col, F.col(col), t.frame(table).where(
        F.col(col).isNotNull())) for table, col in REFERENCES]
    parts = [_union(refs).join(ids, F.col("value") == F.col("_id"), "left_anti")]
    keyed = []
    for table, cols in (("entities", ["entity_id"]), ("ownership", ["owner_id", "owned_id"]),
                        ("facilities", ["facility_id"]), ("fx", ["currency"])):
        frame = t.frame(table).where(" and ".join(f"{c} is not null" for c in cols))
        value = F.col(cols[0]) if len(cols) == 1 else F.concat(cols[0], F.lit(" → "), cols[1])
        keyed.append(_problem("duplicate", table, cols[-1] if len(cols) == 1 else cols[0], value,
                              frame))
    w = Window.partitionBy("table", "key")  # the key text names every key column's value
    dups = (_union(keyed).withColumn("_n", F.count(F.lit(1)).over(w))
            .withColumn("rows", F.array_sort(F.collect_list("row").over(w))).where("_n > 1"))
    parts.append(dups.drop("_n"))
    for table, a, b in (("ownership", "owner_id", "owned_id"),
                        ("connections", "dependent_id", "depends_on_id"),
                        ("facilities", "obligor_id", "guarantor_id")):
        bad = t.frame(table).where(F.col(a).isNotNull() & (F.col(a) == F.col(b)))
        parts.append(_problem("self_reference", table, b, F.col(b), bad, extra=F.col(a)))
    own = t.ownership
    in_range = {"share": "share >= 0 and share <= 1", "voting": "voting >= 0 and voting <= 1"}
    by_owned = Window.partitionBy("owned_id")
    summed = own.where("owned_id is not null").withColumns({
        f"_t_{c}": F.sum(F.when(F.expr(rule), F.col(c))).over(by_owned)
        for c, rule in in_range.items()})
    for col, low in (("share", ">"), ("voting", ">=")):
        given = "_voting_given" if col == "voting" else "true"
        bad = own.where(f"{given} and {col} is not null and not ({col} {low} 0 and {col} <= 1)")
        parts.append(_problem("out_of_range", "ownership", col, F.col(col), bad,
                              number=F.col(col)))
        over = summed.where(F.expr(in_range[col]) & (F.col(f"_t_{col}") > 1 + SUM_TOLERANCE))
        parts.append(_problem("sum_above_one", "ownership", col, F.col(col), over,
                              extra=F.concat("owned_id", F.lit("\t"), "owner_id"),
                              number=F.col(col)))
    fac = t.facilities.withColumn("currency", F.coalesce("currency", F.lit(reporting)))
    parts.append(_problem("missing_fx_rate", "facilities", "currency", F.col("currency"),
                          fac.where(~F.col("currency").isin(*known_ccy))))
    return _union(parts)


def _union(frames: list[DataFrame]) -> DataFrame:
    out = frames[0]
    for f in frames[1:]:
        out = out.unionByName(f)
    return out


def _messages(rows: list[dict[str, Any]], hint: Any) -> list[Any]:
    """The issue rows, with the single-machine engine's messages."""
    out: list[Any] = []
    sums: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        code, table, col, v = r["code"], r["table"], r["column"], r["value"]
        where = {"row": r["row"], "key": r["key"], "column": col}
        if code == "unknown_entity":
            msg = f"{col} {v} is not in entities.csv{hint(v)}"
        elif code == "duplicate":
            rws = [x for x in (r["rows"] or []) if x is not None]
            what = " and ".join(KEYS[table])
            msg = (f"{what} must be unique; the same value is in rows {', '.join(map(str, rws))} "
                   f"(first at row {min(rws) if rws else ''})")
        elif code == "self_reference":
            msg = {"ownership": "an entity cannot own itself (owner_id = owned_id = {0})",
                   "connections": "a connection must join two different entities; got {0} on "
                   "both ends",
                   "facilities": "the guarantor must differ from the obligor; got {0} as both"
                   }[table].format(r["extra"])
        elif code == "out_of_range":
            x = float(r["number"])
            v = _g(x)
            rng = "a number in (0, 1]" if col == "share" else "a number in [0, 1]"
            msg = f"{col} must be {rng}; got {v}" + (f" — did you mean {x / 100:.4g}?"
                                                      if 1 < x <= 100 else "")
        elif code == "sum_above_one":
            owned, _ = str(r["extra"]).split("\t", 1)
            sums.setdefault((col, owned), []).append(r)
            continue
        else:  # missing_fx_rate: the message is finished by the caller (it knows the rates)
            msg = ""
        out.append((code, table, where, v, msg))
    for (col, owned), recs in sums.items():
        pairs = sorted((str(r["extra"]).split("\t", 1)[1], float(r["number"])) for r in recs)
        listing = ", ".join(f"{o} {v:.4g}" for o, v in pairs)
        total = 0.0
        for rec in sorted(recs, key=lambda rec: rec["row"] or 0):
            total += float(rec["number"])
        what = "shares" if col == "share" else "voting rights"
        for rec in recs:
            out.append(("sum_above_one", "ownership", {"row": rec["row"], "key": rec["key"],
                                                       "column": col}, _g(float(rec["number"])),
                        f"the {what} held in {owned} add up to {total:.6g}, above 1 ({listing})"))
    return out


def validate_tables(t: Tables, policy: Policy, on_error: str) -> tuple[Tables, pd.DataFrame,
                                                                        dict[str, float]]:
    """The checked tables (bad rows dropped in collect mode), the issue rows and the fx rates.

    Three Spark jobs whatever the book: the rates, the entity ids when there are few (for the
    "did you mean" hints), and every rule's failing rows at once.
    """
    if on_error not in ("raise", "collect"):
        raise ValueError(f"on_error must be 'raise' or 'collect'; got {on_error!r}")
    reporting = str(t.capital.get("currency", "CNY"))
    rates = {str(r["currency"]): float(r["rate"]) for r in t.fx.where(
        "currency is not null and rate is not null and rate > 0").collect()}
    known = sorted(set(rates) | {reporting})
    rows = [r.asDict() for r in _rules(t, reporting, known).collect()]
    pool: list[str] | None = None
    if any(r["code"] == "unknown_entity" for r in rows):
        few = [r[0] for r in t.entities.select("entity_id").where("entity_id is not null")
               .distinct().limit(201).collect()]
        pool = sorted(few) if len(few) <= 200 else None
    hints: dict[str, str] = {}

    def hint(v: str) -> str:
        if v not in hints:
            near = close_matches(v, pool if pool is not None else _neighbours(t.entities, v))
            hints[v] = f" — did you mean {' or '.join(near)}?" if near else ""
        return hints[v]

    out = []
    for code, table, where, value, msg in _messages(rows, hint):
        if code == "missing_fx_rate":
            msg = (f"currency {value} has no rate in fx.csv; rates are given for "
                   f"{', '.join(known)} (never treated as 1)")
        out.append(issue(code, table, value=value, message=msg, **where))
    for ccy in sorted(policy.currencies_needed - set(known)):
        out.append(issue("missing_fx_rate", "fx", column="currency", value=ccy,
                         message=f"policy {policy.name} states a limit in {ccy}; fx.csv needs a "
                         f"{ccy} rate (reporting currency {reporting})"))
    issues = issues_frame(out)
    errors = issues["severity"] == "error"
    if errors.any() and (on_error == "raise" or (errors & issues["row"].isna()
                                                 & (issues["table"] == "fx")).any()):
        raise ValidationError(issues)
    rates[reporting] = 1.0
    if not errors.any():
        return _with_currency(t, reporting), issues, rates
    return _drop(t, reporting, known), issues, rates


def _drop(t: Tables, reporting: str, known: list[str]) -> Tables:
    """Collect mode: leave out the rows no reading can use; a guarantor that is unknown (or the
    obligor itself) is ignored, the exposure staying with the obligor (SPEC §7)."""
    from pyspark.sql import functions as F
    ids = t.entities.select(F.col("entity_id").alias("_id")).where("_id is not null").distinct()

    def known_ids(df: DataFrame, *cols: str) -> DataFrame:
        for c in cols:
            df = df.join(ids, F.col(c) == F.col("_id"), "left_semi")
        return df

    own = known_ids(t.ownership, "owner_id", "owned_id").where(
        "owner_id <> owned_id and share > 0 and share <= 1 and voting >= 0 and voting <= 1")
    con = known_ids(t.connections, "dependent_id", "depends_on_id").where(
        "dependent_id <> depends_on_id")
    fac = known_ids(_with_currency(t, reporting).facilities, "obligor_id")
    g_known = fac.join(ids, F.col("guarantor_id") == F.col("_id"), "left_semi")
    usable = g_known.where("guarantor_id <> obligor_id")
    ignored = fac.join(usable.select("facility_id", "_row"), ["facility_id", "_row"], "left_anti")
    fac = usable.unionByName(ignored.withColumn("guarantor_id", F.lit(None).cast("string")))
    fac = fac.where(F.col("currency").isin(*known))
    return Tables(entities=t.entities.where("entity_id is not null").dropDuplicates(["entity_id"]),
                  ownership=own, connections=con, facilities=fac, fx=t.fx, capital=t.capital)


def _with_currency(t: Tables, reporting: str) -> Tables:
    from pyspark.sql import functions as F
    fac = t.facilities.withColumn("currency", F.coalesce("currency", F.lit(reporting)))
    return Tables(entities=t.entities, ownership=t.ownership, connections=t.connections,
                  facilities=fac, fx=t.fx, capital=t.capital)
