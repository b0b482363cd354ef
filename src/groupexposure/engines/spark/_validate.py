"""The rules of SPEC §1 and §7 on Spark: the cells checked where they are read, the rules that
span rows as anti-joins and window counts, the fx table on the driver.

Cells (a number, a flag, an enum value, a range, a required value) are read by the
single-machine reader in a pandas UDF (:func:`._read.read_source`); the rows' problems come here
with their fates. Across rows, with the single-machine codes and messages: ``unknown_entity``
(every id column, with the "did you mean" hint), ``duplicate`` (entity ids, ownership pairs,
facility ids), ``self_reference`` (ownership, connections, guarantors), ``sum_above_one``
(shares and votes per owned entity) and ``missing_fx_rate``; the fx table by
:func:`~groupexposure.validate.rules.fx_rules` itself (a rate table is small). Only the offending
rows are collected to the driver. With ``on_error="collect"`` every problem gets the fate and
reading it has on one machine (:data:`~groupexposure.validate.rules.READINGS`): the rows no
reading can use are left out, every other row is used with its conservative reading (SPEC §7:
never less conservative), and what was left out names the groups that may be understated.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from ...model.issues import ISSUE_CODES, ValidationError, close_matches, issues_frame
from ...model.policy import Policy
from ...validate._collect import PROBLEM_FIELDS, Collector, collect_wording
from ...validate._readings import LEFT_OUT_COLUMNS, highest_rates, left_out_rows
from ...validate.rules import KEYS, READINGS, SUM_TOLERANCE, fx_rules
from ._read import BOOKKEEPING, Tables

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
    (code, table, column, value, row, rid, key, extra, number, rows)."""
    from pyspark.sql import functions as F
    return frame.select(
        F.lit(code).alias("code"), F.lit(table).alias("table"), F.lit(column).alias("column"),
        value.cast("string").alias("value"), F.col("_row").alias("row"), F.col("_rid").alias("rid"),
        _key(table).alias("key"),
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
                        ("facilities", ["facility_id"])):  # fx: fx_rules, on the driver
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
    for col in ("share", "voting"):  # a share or vote out of range is convert's, per cell
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


def _messages(rows: list[dict[str, Any]], hint: Any, known: list[str]) -> list[dict[str, Any]]:
    """The problem records of the structural rules, with the single-machine engine's messages,
    fates and readings (:data:`~groupexposure.validate.rules.READINGS`)."""
    out: list[dict[str, Any]] = []
    sums: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def add(r: dict[str, Any], value: Any, msg: str) -> None:
        code, table, col = r["code"], r["table"], r["column"]
        kept = (code, table) in READINGS and not (code == "unknown_entity"
                                                  and col != "guarantor_id")
        out.append({"severity": ISSUE_CODES[code].severity, "code": code, "table": table,
                    "row": r["row"], "key": r["key"], "column": col, "value": value,
                    "message": msg, "fate": "keep" if kept else "drop",
                    "reading": READINGS[code, table] if kept else "", "rid": r["rid"]})

    for r in rows:
        code, table, col, v = r["code"], r["table"], r["column"], r["value"]
        if code == "unknown_entity":
            add(r, v, f"{col} {v} is not in entities.csv{hint(v)}")
        elif code == "duplicate":
            rws = [x for x in (r["rows"] or []) if x is not None]
            what = " and ".join(KEYS[table])
            add(r, v, f"{what} must be unique; the same value is in rows "
                f"{', '.join(map(str, rws))} (first at row {min(rws) if rws else ''})")
        elif code == "self_reference":
            add(r, v, {"ownership": "an entity cannot own itself (owner_id = owned_id = {0})",
                       "connections": "a connection must join two different entities; got {0} "
                       "on both ends",
                       "facilities": "the guarantor must differ from the obligor; got {0} as both"
                       }[table].format(r["extra"]))
        elif code == "sum_above_one":
            owned, _ = str(r["extra"]).split("\t", 1)
            sums.setdefault((col, owned), []).append(r)
        else:
            add(r, v, f"currency {v} has no rate in fx.csv; rates are given for "
                f"{', '.join(known)} (never treated as 1)")
    for (col, owned), recs in sums.items():
        pairs = sorted((str(r["extra"]).split("\t", 1)[1], float(r["number"])) for r in recs)
        listing = ", ".join(f"{o} {v:.4g}" for o, v in pairs)
        total = 0.0
        for rec in sorted(recs, key=lambda rec: rec["row"] or 0):
            total += float(rec["number"])
        what = "shares" if col == "share" else "voting rights"
        for rec in recs:
            add(rec, _g(float(rec["number"])),
                f"the {what} held in {owned} add up to {total:.6g}, above 1 ({listing})")
    return out


def validate_tables(t: Tables, policy: Policy, on_error: str
                    ) -> tuple[Tables, pd.DataFrame, dict[str, float], pd.DataFrame]:
    """The checked tables (bad rows dropped in collect mode), the issue rows, the fx rates and
    what collect mode left out (:func:`~groupexposure.validate._readings.left_out_rows`).

    Cells are checked where they are read (:func:`._read.read_source`); here a few Spark jobs
    whatever the book: the fx table (checked on the driver by the single-machine rules), the
    entity ids when there are few (for the "did you mean" hints), every rule's failing rows at
    once, and the cell problems.
    """
    if on_error not in ("raise", "collect"):
        raise ValueError(f"on_error must be 'raise' or 'collect'; got {on_error!r}")
    reporting = str(t.capital.get("currency", "CNY"))
    found, rates = _fx(t, policy, reporting)
    known = sorted(rates)
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

    found += _cell_problems(t) + _messages(rows, hint, known)
    problems = pd.DataFrame(found, columns=[*PROBLEM_FIELDS, "fate", "reading", "rid"])
    errors = problems["severity"] == "error"
    if errors.any() and (on_error == "raise" or (errors & problems["rid"].isna()).any()):
        raise ValidationError(issues_frame(problems[PROBLEM_FIELDS]))
    if not errors.any():
        return (_with_currency(_plain(t), reporting), issues_frame(problems[PROBLEM_FIELDS]),
                rates, pd.DataFrame(columns=LEFT_OUT_COLUMNS))
    place = list(zip(problems["table"], problems["rid"], strict=True))
    lost = {p for p, fate in zip(place, problems["fate"], strict=True) if fate == "drop"}
    gone = [p in lost for p in place]
    issues = issues_frame(collect_wording(problems, pd.Series(gone).to_numpy(bool))
                          [PROBLEM_FIELDS])
    tables, left = _drop(t, reporting, known, rates)
    return tables, issues, rates, left


def _fx(t: Tables, policy: Policy, reporting: str) -> tuple[list[dict[str, Any]],
                                                            dict[str, float]]:
    """The fx table's problems and the rates used (the highest of several; SPEC §7), by the
    single-machine rules on the driver: a rate table is small."""
    fx = t.fx.select("currency", "rate", "_row", "_rid").toPandas()
    ordered = bool(fx["_row"].notna().all())
    fx = fx.drop(columns="_row").rename(columns={"_rid": "_row"})
    out = Collector()
    fx_rules(fx, pd.DataFrame({"currency": pd.Series([], dtype=object)}), reporting, policy, out)
    problems = out.raw().assign(rid=lambda p: p["row"])
    if not ordered:
        problems["row"] = None
    records = [{str(k): v for k, v in r.items()} for r in problems.to_dict("records")]
    for r in records:
        r["row"] = None if r["row"] is None or r["row"] != r["row"] else int(r["row"])
        r["rid"] = None if r["rid"] is None or r["rid"] != r["rid"] else int(r["rid"])
    return records, highest_rates(fx, reporting)


def _cell_problems(t: Tables) -> list[dict[str, Any]]:
    """The problems the per-cell reader found (``_problems``; one Spark job for all tables)."""
    from pyspark.sql import functions as F
    parts = [t.frame(name).where(F.col("_problems").isNotNull()).select("_problems")
             for name in ("entities", "ownership", "connections", "facilities", "fx")]
    out: list[dict[str, Any]] = []
    for r in _union(parts).collect():
        out.extend(json.loads(r["_problems"]))
    return out


def _plain(t: Tables) -> Tables:
    """The tables without the reader's bookkeeping columns."""
    def bare(df: DataFrame) -> DataFrame:
        return df.drop(*BOOKKEEPING)
    return Tables(entities=bare(t.entities), ownership=bare(t.ownership),
                  connections=bare(t.connections), facilities=bare(t.facilities), fx=bare(t.fx),
                  capital=t.capital)


def _drop(t: Tables, reporting: str, known: list[str], rates: dict[str, float]
          ) -> tuple[Tables, pd.DataFrame]:
    """Collect mode: the rows every reading can use, and what was left out (SPEC §7).

    Left out: a row whose cells no reading can use (``_drop``), one that names an unknown entity,
    refers to itself or is in a currency without a rate. An unknown guarantor (or the obligor
    itself) is ignored, the exposure staying with the obligor. Rows with the same entity_id are
    read as one entity (kind ``corporate`` where they disagree, G-SIB where any says so). The
    shares in an entity held above 100% are read in proportion for look-through only
    (``lookthrough_share``), as on one machine; the rings of closed cycles are not scaled here.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    ent = _merged_entities(t.entities.where(~F.col("_drop") & F.col("entity_id").isNotNull()))
    ids = ent.select(F.col("entity_id").alias("_id"))

    def flagged(df: DataFrame, *cols: str) -> DataFrame:
        """``df`` with ``_k_<col>``: the id in ``col`` is a kept entity."""
        for c in cols:
            df = (df.join(ids.withColumnRenamed("_id", f"_i_{c}"), F.col(c) == F.col(f"_i_{c}"),
                          "left").withColumn(f"_k_{c}", F.col(f"_i_{c}").isNotNull())
                  .drop(f"_i_{c}"))
        return df

    own = flagged(t.ownership, "owner_id", "owned_id").withColumns({
        "_self": F.col("owner_id") == F.col("owned_id"),
        "_keep": ~F.col("_drop") & F.col("_k_owner_id") & F.col("_k_owned_id")
        & (F.col("owner_id") != F.col("owned_id"))})
    con = flagged(t.connections, "dependent_id", "depends_on_id").withColumns({
        "_self": F.col("dependent_id") == F.col("depends_on_id"),
        "_keep": ~F.col("_drop") & F.col("_k_dependent_id") & F.col("_k_depends_on_id")
        & (F.col("dependent_id") != F.col("depends_on_id"))})
    fac = flagged(_with_currency(t, reporting).facilities, "obligor_id", "guarantor_id")
    fac = fac.withColumns({
        "_self": F.lit(False),
        "_keep": ~F.col("_drop") & F.col("_k_obligor_id") & F.col("currency").isin(*known),
        "guarantor_id": F.when(F.col("_k_guarantor_id")
                               & (F.col("guarantor_id") != F.col("obligor_id")),
                               F.col("guarantor_id"))})
    left = _left_out(ids, own, con, fac, rates)
    flags = ["_self", "_keep", "_k_owner_id", "_k_owned_id", "_k_dependent_id",
             "_k_depends_on_id", "_k_obligor_id", "_k_guarantor_id"]

    def kept(df: DataFrame) -> DataFrame:
        return df.where("_keep").drop(*flags, *BOOKKEEPING)

    held = Window.partitionBy("owned_id")  # an entity held above 100%: in proportion, for
    over = F.greatest(F.sum("share").over(held), F.lit(1.0))  # look-through only (SPEC §4, §7)
    owned = kept(own).withColumn("lookthrough_share", F.col("share") / over)
    out = Tables(entities=ent, ownership=owned, connections=kept(con),
                 facilities=kept(fac), fx=t.fx.drop(*BOOKKEEPING), capital=t.capital)
    return out, left


def _merged_entities(ent: DataFrame) -> DataFrame:
    """Rows with the same entity_id as one entity, read as on one machine (kind ``corporate``
    where the rows disagree, G-SIB where any says so, exempt only where every row given says
    so; the smallest name)."""
    from pyspark.sql import functions as F
    return ent.groupBy("entity_id").agg(
        F.min("name").alias("name"),
        F.when(F.count_distinct("kind") == 1, F.first("kind")).otherwise(F.lit("corporate"))
        .alias("kind"),
        F.bool_or("is_gsib").alias("is_gsib"), F.bool_and("exempt").alias("exempt"),
        F.min("_row").alias("_row"))


def _left_out(ids: DataFrame, own: DataFrame, con: DataFrame, fac: DataFrame,
              rates: dict[str, float]) -> pd.DataFrame:
    """What was left out that can only lower a figure (the rows left out and the guarantees
    ignored), collected to the driver and listed by the single-machine
    :func:`~groupexposure.validate._readings.left_out_rows`."""
    from pyspark.sql import functions as F
    lost = {"ownership": own.where(~F.col("_keep") & ~F.col("_self"))
            .select("owner_id", "owned_id", F.col("_rid").alias("_row")),
            "connections": con.where(~F.col("_keep") & ~F.col("_self"))
            .select("dependent_id", "depends_on_id", F.col("_rid").alias("_row")),
            "facilities": fac.where(~F.col("_keep") | F.col("_guarantor_given").isNotNull())
            .select("obligor_id", "guarantor_id", "_guarantor_given", "currency", "drawn",
                    "undrawn", (~F.col("_keep")).alias("_lost"), F.col("_rid").alias("_row"))}
    frames = {name: df.toPandas() for name, df in lost.items()}
    if not any(len(f) for f in frames.values()):
        return pd.DataFrame(columns=LEFT_OUT_COLUMNS)
    f = frames["facilities"]
    lost_fac = f["_lost"].astype(bool)
    dropped = {"ownership": set(frames["ownership"]["_row"]),
               "connections": set(frames["connections"]["_row"]),
               "facilities": set(f.loc[lost_fac, "_row"])}
    touched = pd.concat([frames["ownership"]["owner_id"], frames["ownership"]["owned_id"],
                         frames["connections"]["dependent_id"],
                         frames["connections"]["depends_on_id"], f["_guarantor_given"],
                         f["guarantor_id"]]).dropna().unique().tolist()
    present = ({r[0] for r in ids.where(F.col("_id").isin(*touched)).collect()} if touched
               else set())
    return left_out_rows(frames, dropped, present, rates, {})


def _with_currency(t: Tables, reporting: str) -> Tables:
    from pyspark.sql import functions as F
    fac = t.facilities.withColumn("currency", F.coalesce("currency", F.lit(reporting)))
    return Tables(entities=t.entities, ownership=t.ownership, connections=t.connections,
                  facilities=fac, fx=t.fx, capital=t.capital)
