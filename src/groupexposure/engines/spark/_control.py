"""Control (SPEC §2) by joins: closure by doubling, vote sums over controlled sets, cycles as
mutual control, and pointer jumping up the immediate-controller chains.

Frames of pairs use ``a`` for the controller and ``s`` for the controlled entity. The outer fixed
point adds aggregated-control links (votes held by ``a`` and by everything ``a`` controls, summed
exactly as decimals, above the threshold) and closes the relation again, until no link is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._loop import Checkpoints, count_of, iterate

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["SparkControl", "control"]

VOTES = "decimal(38,18)"


@dataclass(frozen=True)
class SparkControl:
    """``pairs`` (a, s): a controls s, a != s; ``links`` (a, s, votes, aggregated): the links that
    give control; ``entities`` (entity_id, unit, immediate, ultimate, top, depth); ``multiple``
    (entity, controller)."""

    pairs: DataFrame
    links: DataFrame
    entities: DataFrame
    multiple: DataFrame


def _closure(cp: Checkpoints, links: DataFrame) -> DataFrame:
    """Every (a, s) with a chain of links a → ... → s (self pairs where a cycle returns)."""
    from pyspark.sql import functions as F
    start = links.select("a", "s").distinct()

    def step(st: dict[str, DataFrame]) -> dict[str, DataFrame]:
        k = st["k"]
        ext = (k.alias("x").join(k.alias("y"), F.col("x.s") == F.col("y.a"))
               .select(F.col("x.a").alias("a"), F.col("y.s").alias("s")))
        return {"k": k.unionByName(ext).distinct()}

    return iterate(cp, "control_closure", {"k": start}, step, count_of("k"))["k"]


def control(cp: Checkpoints, entities: DataFrame, ownership: DataFrame, threshold: float
            ) -> SparkControl:
    """The control relation of SPEC §2 and what is read off it."""
    from pyspark.sql import functions as F
    holds = ownership.where("voting > 0").select(
        F.col("owner_id").alias("h"), F.col("owned_id").alias("s"),
        F.col("voting").cast(VOTES).alias("v"))
    direct = ownership.where(F.col("control") | (F.col("voting") > threshold)).select(
        F.col("owner_id").alias("a"), F.col("owned_id").alias("s"),
        F.col("voting").alias("votes"), F.lit(False).alias("aggregated"))
    direct = direct.dropDuplicates(["a", "s"])
    holders = holds.select(F.col("h").alias("a")).distinct()

    def step(st: dict[str, DataFrame]) -> dict[str, DataFrame]:
        links = st["links"]
        k = _closure(cp, links)
        controlled = k.where("a <> s").select("a", F.col("s").alias("h")).unionByName(
            holders.select("a", F.col("a").alias("h")))
        votes = (controlled.join(holds, "h").groupBy("a", "s").agg(F.sum("v").alias("t"))
                 .where((F.col("t") > F.lit(threshold).cast(VOTES)) & (F.col("a") != F.col("s"))))
        new = (votes.join(k, ["a", "s"], "left_anti").join(links, ["a", "s"], "left_anti")
               .select("a", "s", F.col("t").cast("double").alias("votes"),
                       F.lit(True).alias("aggregated")))
        return {"links": links.unionByName(new), "pairs": k}

    start = {"links": direct, "pairs": direct.select("a", "s")}
    state = iterate(cp, "control", start, step, count_of("links"))
    links, k = state["links"], state["pairs"]
    return _read_off(cp, entities.select("entity_id"), links, k)


def _read_off(cp: Checkpoints, ids: DataFrame, links: DataFrame, k: DataFrame) -> SparkControl:
    """Units, immediate controllers, ultimate parents (SPEC §2.3, §2.4, §2.6)."""
    from pyspark.sql import functions as F
    mutual = (k.alias("x").join(k.alias("y"), (F.col("x.a") == F.col("y.s"))
                                & (F.col("x.s") == F.col("y.a")))
              .select(F.col("x.s").alias("entity_id"), F.col("x.a").alias("m")))
    unit = (ids.join(mutual.groupBy("entity_id").agg(F.min("m").alias("m")), "entity_id", "left")
            .select("entity_id", F.least("entity_id", F.coalesce("m", "entity_id")).alias("unit")))
    unit = cp.save(unit, "unit")
    pairs = cp.save(k.where("a <> s"), "pairs")
    u = unit.select(F.col("entity_id").alias("x"), F.col("unit").alias("ux"))
    ext = (links.select("a", "s").join(u.withColumnRenamed("x", "s").withColumnRenamed("ux", "u"),
                                       "s")
           .join(u.withColumnRenamed("x", "a").withColumnRenamed("ux", "ua"), "a")
           .where("u <> ua").select("u", F.col("a").alias("c"), "ua").distinct())
    other = ext.select("u", F.col("c").alias("o"), F.col("ua").alias("uo"))
    dominated = (ext.join(other, "u").where("ua <> uo")
                 .join(pairs, (F.col("a") == F.col("c")) & (F.col("s") == F.col("o")))
                 .select("u", "c").distinct())
    minimal = cp.save(ext.join(dominated, ["u", "c"], "left_anti"), "minimal")
    lowest = minimal.groupBy("u").agg(F.min("c").alias("imm"), F.countDistinct("ua").alias("nu"))
    multiple = (minimal.join(lowest.where("nu > 1").select("u"), "u")
                .select(F.col("u").alias("entity"), F.col("c").alias("controller")))
    ent = (unit.join(lowest.select(F.col("u").alias("entity_id"), "imm"), "entity_id", "left")
           .select("entity_id", "unit",
                   F.when(F.col("unit") != F.col("entity_id"), F.col("unit"))
                   .otherwise(F.col("imm")).alias("immediate")))
    ent = _jump(cp, ent)
    roots = ent.where("immediate is null").select(F.col("entity_id").alias("a"))
    by_root = pairs.join(roots, "a").groupBy("s").agg(F.min("a").alias("r"))
    ent = (ent.join(by_root.withColumnRenamed("s", "entity_id"), "entity_id", "left")
           .withColumn("ultimate", F.when(F.col("immediate").isNull(), F.col("entity_id"))
                       .otherwise(F.least("top", F.coalesce("r", "top")))).drop("r"))
    return SparkControl(pairs=pairs, links=cp.save(links, "links"),
                        entities=cp.save(ent, "control_entities"),
                        multiple=cp.save(multiple, "multiple"))


def _jump(cp: Checkpoints, ent: DataFrame) -> DataFrame:
    """``top`` (the end of the immediate-controller chain) and ``depth`` by pointer jumping."""
    from pyspark.sql import functions as F
    start = ent.select("entity_id", "unit", "immediate",
                       F.coalesce("immediate", "entity_id").alias("top"),
                       F.when(F.col("immediate").isNull(), 0).otherwise(1).alias("depth"))

    def step(st: dict[str, DataFrame]) -> dict[str, DataFrame]:
        e = st["e"]
        up = e.select(F.col("entity_id").alias("top"), F.col("top").alias("nxt"),
                      F.col("depth").alias("d2"))
        j = e.join(up, "top")
        moved = F.col("nxt") != F.col("top")
        nxt = j.select("entity_id", "unit", "immediate", F.col("nxt").alias("top"),
                       (F.col("depth") + F.when(moved, F.col("d2")).otherwise(0)).alias("depth"))
        return {"e": nxt}

    def total_depth(st: dict[str, DataFrame]) -> int:  # grows while any entity moves up
        return int(st["e"].agg(F.sum("depth")).first()[0] or 0)  # type: ignore[index]

    return iterate(cp, "ultimate_parents", {"e": start}, step, total_depth)["e"]
