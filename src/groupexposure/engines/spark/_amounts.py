"""Exposure values (SPEC §4) on Spark: the one §4 implementation, ``core.exposures
.facility_values``, runs inside ``mapInPandas``; sums are taken in one canonical order (facilities
in facility_id order, members in entity id order) by :func:`ordered_sums`; look-through peels the
acyclic part of the holdings level by level and solves what is left (the ownership cycles and
everything above them) on the driver with ``core.lookthrough``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...core.exposures import facility_values
from ...core.lookthrough import lookthrough_values
from ...model.issues import ValidationError, issues_frame
from ...model.policy import Policy
from ...validate._collect import PROBLEM_FIELDS, Collector, collect_wording
from ...validate._readings import lookthrough_shares
from ...validate.rules import closed_cycles
from ._loop import Checkpoints, count_of, iterate

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["chain_net", "entity_sums", "facility_frame", "lookthrough", "ordered_sums"]

FACILITY_SCHEMA = ("facility_id string, obligor_id string, guarantor_id string, original double, "
                   "net double, guaranteed double, loans double, ineligible boolean")


def facility_frame(facilities: DataFrame, entities: DataFrame, policy: Policy,
                   fx: dict[str, float]) -> DataFrame:
    """Per facility: original, net, guaranteed, loans, and whether its guarantor is ineligible."""
    from pyspark.sql import functions as F
    kinds = entities.select(F.col("entity_id").alias("guarantor_id"), F.col("kind").alias("_gk"))
    fac = facilities.join(kinds, "guarantor_id", "left")

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for b in batches:
            g_codes, g_kinds = pd.factorize(b["_gk"].fillna("corporate"))
            guarantor = np.where(b["guarantor_id"].notna(), g_codes, -1)
            v = facility_values(b, obligor=np.zeros(len(b), np.int64), guarantor=guarantor,
                                kinds=np.asarray(g_kinds, dtype=object), policy=policy, fx=fx)
            yield pd.DataFrame({
                "facility_id": b["facility_id"].to_numpy(), "obligor_id": b["obligor_id"].to_numpy(),
                "guarantor_id": b["guarantor_id"].to_numpy(),
                "original": v["original"].to_numpy(), "net": v["net"].to_numpy(),
                "guaranteed": v["guaranteed"].to_numpy(), "loans": v["loans"].to_numpy(),
                "ineligible": v["ineligible_guarantee"].to_numpy()})

    return fac.mapInPandas(run, FACILITY_SCHEMA)


def ordered_sums(frame: DataFrame, key: str, order: str, columns: list[str]) -> DataFrame:
    """``(key, *columns)``: each column summed per key in ``order`` order, one addition after
    another (what ``numpy.bincount`` does over rows sorted that way), whatever the partitions."""
    out_schema = f"{key} string, " + ", ".join(f"{c} double" for c in columns)
    parts = int(frame.sparkSession.conf.get("spark.sql.shuffle.partitions", "4") or "4")
    ready = frame.select(key, order, *columns).repartition(parts, key).sortWithinPartitions(
        key, order)

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        chunks = list(batches)  # a key may span two Arrow batches: sum the whole partition
        if not chunks:
            return
        b = pd.concat(chunks, ignore_index=True)
        codes, keys = pd.factorize(b[key])
        out = {key: np.asarray(keys, dtype=object)}
        for c in columns:
            out[c] = np.bincount(codes, weights=b[c].to_numpy(np.float64), minlength=keys.size)
        yield pd.DataFrame(out)

    return ready.mapInPandas(run, out_schema)


def entity_sums(values: DataFrame, entities: DataFrame) -> DataFrame:
    """Per entity: own_original, own_net (net + what is substituted in), substituted_in, loans."""
    from pyspark.sql import functions as F
    own = ordered_sums(values, "obligor_id", "facility_id", ["original", "net", "loans"])
    sub = ordered_sums(values.where("guarantor_id is not null"), "guarantor_id", "facility_id",
                       ["guaranteed"])
    ids = entities.select("entity_id")
    return (ids.join(own.withColumnRenamed("obligor_id", "entity_id"), "entity_id", "left")
            .join(sub.withColumnRenamed("guarantor_id", "entity_id"), "entity_id", "left")
            .select("entity_id",
                    F.coalesce("original", F.lit(0.0)).alias("own_original"),
                    (F.coalesce("net", F.lit(0.0)) + F.coalesce("guaranteed", F.lit(0.0)))
                    .alias("own_net"),
                    F.coalesce("guaranteed", F.lit(0.0)).alias("substituted_in"),
                    F.coalesce("loans", F.lit(0.0)).alias("loans")))


def chain_net(amounts: DataFrame, pairs: DataFrame) -> DataFrame:
    """(entity_id, chain_net): own_net over C(x), the controlled summed in id order."""
    from pyspark.sql import functions as F
    below = pairs.join(amounts.select(F.col("entity_id").alias("s"), "own_net"), "s")
    sums = ordered_sums(below, "a", "s", ["own_net"]).withColumnRenamed("own_net", "_c")
    return (amounts.join(sums.withColumnRenamed("a", "entity_id"), "entity_id", "left")
            .select("entity_id", (F.col("own_net") + F.coalesce("_c", F.lit(0.0)))
                    .alias("chain_net")))


def lookthrough(cp: Checkpoints, amounts: DataFrame, ownership: DataFrame, on_error: str
                ) -> tuple[DataFrame, pd.DataFrame]:
    """(entity_id, lookthrough_net) of SPEC §4: peel, then solve the rest on the driver (with
    ``lookthrough_share`` where collect mode gave one); also the issues of the closed ownership
    cycles found there (raised in raise mode)."""
    from pyspark.sql import functions as F
    share = "lookthrough_share" if "lookthrough_share" in ownership.columns else "share"
    row = F.col("_row") if "_row" in ownership.columns else F.lit(None).cast("long")
    edges = ownership.select(F.col("owner_id").alias("o"), F.col("owned_id").alias("s"),
                             F.coalesce(F.nanvl(share, F.lit(0.0)), F.lit(0.0)).alias("w"),
                             F.col("share").alias("q"), row.alias("_row"))
    edges = cp.save(edges, "lookthrough_edges")
    degree = edges.groupBy("o").agg(F.count(F.lit(1)).alias("deg"))
    own = amounts.select("entity_id", "own_net")
    leaves = own.join(degree.withColumnRenamed("o", "entity_id"), "entity_id", "left_anti")
    start = leaves.select("entity_id", F.col("own_net").alias("v"))

    def step(st: dict[str, DataFrame]) -> dict[str, DataFrame]:
        done = st["done"]
        hit = edges.join(done.select(F.col("entity_id").alias("s"), "v"), "s")
        ready = (hit.groupBy("o").agg(F.count(F.lit(1)).alias("n")).join(degree, "o")
                 .where("n = deg").select("o")
                 .join(done.withColumnRenamed("entity_id", "o"), "o", "left_anti"))
        part = hit.join(ready, "o").withColumn("p", F.col("w") * F.col("v"))
        sums = ordered_sums(part, "o", "s", ["p"])
        new = (sums.join(own.withColumnRenamed("entity_id", "o"), "o")
               .select(F.col("o").alias("entity_id"), (F.col("own_net") + F.col("p")).alias("v")))
        return {"done": done.unionByName(new)}

    done = iterate(cp, "lookthrough", {"done": start}, step, count_of("done"))["done"]
    rest = own.join(done, "entity_id", "left_anti")
    solved, issues = _solve_rest(cp, rest, edges, done, on_error)
    return done.withColumnRenamed("v", "lookthrough_net").unionByName(solved), issues


def _closed_rings(inner: pd.DataFrame, o: np.ndarray, s: np.ndarray, on_error: str
                  ) -> tuple[np.ndarray, pd.DataFrame]:
    """The look-through shares of the cyclic core, and the ``closed_cycle`` issues of the rings
    that keep all their equity inside (found by the single-machine rule, which needs the cycles:
    they are all in the core). Raise mode raises them; collect mode scales the rings' shares just
    below 1, as one machine does."""
    frame = pd.DataFrame({"owner_id": inner["o"], "owned_id": inner["s"], "share": inner["q"],
                          "_row": inner["_row"]})
    found = Collector()
    closed_cycles(frame, o, s, found)
    problems = found.raw()
    w = inner["w"].to_numpy(np.float64)
    if problems.empty:
        return w, issues_frame([])
    if on_error == "raise":
        raise ValidationError(issues_frame(problems[PROBLEM_FIELDS]))
    ring = frame.assign(share=w)
    lookthrough_shares(ring)
    if "lookthrough_share" in ring:
        w = ring["lookthrough_share"].to_numpy(np.float64)
    worded = collect_wording(problems, np.zeros(len(problems), dtype=bool))
    return w, issues_frame(worded[PROBLEM_FIELDS])


def _solve_rest(cp: Checkpoints, rest: DataFrame, edges: DataFrame, done: DataFrame,
                on_error: str) -> tuple[DataFrame, pd.DataFrame]:
    """The ownership cycles and everything that holds into them, on the driver (the one place
    where the Spark engine collects a part of the graph)."""
    from pyspark.sql import functions as F
    spark = cp.spark
    known = (edges.join(done.select(F.col("entity_id").alias("s"), "v"), "s")
             .withColumn("p", F.col("w") * F.col("v")))
    inputs = (rest.join(ordered_sums(known, "o", "s", ["p"]).withColumnRenamed("o", "entity_id"),
                        "entity_id", "left")
              .select("entity_id", (F.col("own_net") + F.coalesce("p", F.lit(0.0))).alias("b"))
              .toPandas().sort_values("entity_id", kind="stable"))
    if inputs.empty:
        return (spark.createDataFrame([], "entity_id string, lookthrough_net double"),
                issues_frame([]))
    inner = (edges.join(rest.select(F.col("entity_id").alias("o")), "o")
             .join(rest.select(F.col("entity_id").alias("s")), "s").toPandas()
             .sort_values(["_row", "o", "s"], kind="stable").reset_index(drop=True))  # row order
    ids = inputs["entity_id"].to_numpy(dtype=object)
    code = pd.Series(np.arange(ids.size), index=ids)
    o, s = code[inner["o"]].to_numpy(), code[inner["s"]].to_numpy()
    w, issues = _closed_rings(inner, o, s, on_error)
    values = lookthrough_values(ids.size, o, s, w, inputs["b"].to_numpy(np.float64))
    cp.rounds["lookthrough_core_entities"] = int(ids.size)
    solved = spark.createDataFrame(pd.DataFrame({"entity_id": ids, "lookthrough_net": values}))
    return solved, issues
