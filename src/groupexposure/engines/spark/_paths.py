"""Readable paths (SPEC §3) on Spark, the same texts as ``core.paths``: each entity's control path
is built a level of the holding chains per round; percentages are formatted by the library's own
``core.paths._pct_array`` in a pandas UDF."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ...core.paths import _pct_array
from ._control import SparkControl
from ._loop import Checkpoints, NoFixedPointError, count_of, iterate

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

__all__ = ["control_paths", "membership_paths"]


def _pct(col: Column | str) -> Column:
    from pyspark.sql import functions as F

    @F.pandas_udf("string")  # type: ignore[attr-defined,untyped-decorator]
    def pct(x: pd.Series) -> pd.Series:
        return pd.Series(_pct_array(x.to_numpy("float64", na_value=float("nan"))), index=x.index)

    return pct(F.col(col) if isinstance(col, str) else col)  # type: ignore[no-any-return]


def _labels(ctl: SparkControl, ownership: DataFrame) -> DataFrame:
    """(x, via, label): the step into each controlled entity from the one above it."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    ent = ctl.entities.where("immediate is not null").select(
        F.col("entity_id").alias("x"), F.col("immediate").alias("c"), "unit")
    # repeated (owner, owned) rows, kept by collect mode, are one holding: the rows added
    ownership = ownership.groupBy("owner_id", "owned_id").agg(
        F.sum("share").alias("share"), F.sum("voting").alias("voting"),
        F.bool_or("control").alias("control"))
    link = ownership.select(F.col("owner_id").alias("c"), F.col("owned_id").alias("x"),
                            "share", "voting", F.col("control").alias("flag"))
    d = ent.join(link, ["c", "x"], "left")
    differs = ~(F.abs(F.col("voting") - F.col("share"))
                <= 1e-8 + 1e-5 * F.abs(F.col("share"))) & F.col("share").isNotNull()
    direct = F.concat(_pct("share"), F.when(differs, F.concat(F.lit(" (votes "), _pct("voting"),
                                                               F.lit(")"))).otherwise(F.lit("")),
                      F.when(F.col("flag"), F.lit(" (control)")).otherwise(F.lit("")))
    label = (F.when(F.col("flag").isNotNull(), direct)
             .when(F.col("unit") != F.col("x"), F.lit("control cycle"))
             .otherwise(F.lit("control")))
    base = d.select("x", "c", F.col("c").alias("via"), label.alias("label"))
    agg = ctl.links.where("aggregated").select(F.col("a").alias("c"), F.col("s").alias("x"),
                                               "votes")
    ax = base.join(agg, ["c", "x"]).select("x", "c", "votes")
    depth = ctl.entities.select(F.col("entity_id").alias("h"), F.col("depth").alias("dh"))
    holders = (ownership.where("voting > 0").select(F.col("owner_id").alias("h"),
                                                     F.col("owned_id").alias("x"), "voting")
               .join(ax, "x"))
    pairs = ctl.pairs
    inside = holders.join(pairs.select(F.col("a").alias("c"), F.col("s").alias("h"),
                                       F.lit(True).alias("_in")), ["c", "h"], "left")
    below = inside.join(pairs.select(F.col("a").alias("x"), F.col("s").alias("h"),
                                     F.lit(True).alias("_below")), ["x", "h"], "left")
    contrib = (below.where((F.col("h") == F.col("c")) | F.col("_in").isNotNull())
               .where(F.col("_below").isNull()).join(depth, "h"))
    w = Window.partitionBy("x").orderBy(F.desc("dh"), F.desc("voting"), F.asc("h"))
    ranked = contrib.withColumn("_r", F.row_number().over(w))
    best = ranked.where("_r = 1").select("x", F.col("h").alias("best"), "votes")
    others = (ranked.where("_r > 1").groupBy("x")
              .agg(F.array_join(F.array_sort(F.collect_list("h")), ", ").alias("with_")))
    agg_label = (best.join(others, "x", "left").select(
        "x", "best", F.concat(_pct("votes"), F.when(F.col("with_").isNotNull(), F.concat(
            F.lit(" (with "), F.col("with_"), F.lit(")"))).otherwise(F.lit("")))
        .alias("agg_label")))
    return (base.join(agg_label, "x", "left")
            .select("x", "c", F.coalesce("best", "via").alias("via"),
                    F.coalesce("agg_label", "label").alias("label")))


def control_paths(cp: Checkpoints, ctl: SparkControl, ownership: DataFrame) -> DataFrame:
    """(entity_id, path): each entity's chain of holdings from its ultimate parent."""
    from pyspark.sql import functions as F
    steps = cp.save(_labels(ctl, ownership), "path_steps")
    roots = ctl.entities.where("immediate is null").select(
        "entity_id", F.col("entity_id").alias("path"))

    def step(st: dict[str, DataFrame]) -> dict[str, DataFrame]:
        done, todo = st["done"], st["todo"]
        up = done.select(F.col("entity_id").alias("via"), F.col("path").alias("_up"))
        ready = todo.join(up, "via")
        new = ready.select(F.col("x").alias("entity_id"),
                           F.concat("_up", F.lit(" →"), "label", F.lit("→ "), "x").alias("path"))
        rest = todo.join(ready.select("x"), "x", "left_anti")
        return {"done": done.unionByName(new), "todo": rest}

    state = {"done": roots, "todo": steps}
    for _ in range(cp.max_rounds):
        state = iterate(cp, "paths", state, step, count_of("done"))
        if state["todo"].isEmpty():
            return state["done"]
        # a loop of via links (not reached with consistent data): use the immediate controllers
        todo = state["todo"].select("x", "c", F.col("c").alias("via"),
                                    F.lit("control").alias("label"))
        state = {"done": state["done"], "todo": todo}
    raise NoFixedPointError("spark stage 'paths' kept finding loops of holdings")


def membership_paths(members: DataFrame, paths: DataFrame) -> DataFrame:
    """Members with their ``basis`` and ``path`` (the connection first, for dependence)."""
    from pyspark.sql import functions as F
    m = members.join(paths, "entity_id", "left")
    dep = ~F.col("by_control") & F.col("via_d").isNotNull()
    text = F.concat("via_x", F.lit(" ←"), "via_k", F.lit("— "), "via_d")
    path = (F.when(dep & (F.col("entity_id") != F.col("via_d")),
                   F.concat(text, F.lit("; "), F.col("path")))
            .when(dep, text).otherwise(F.col("path")))
    return m.select("group_id", "entity_id",
                    F.when(F.col("by_control"), "control").otherwise("dependence").alias("basis"),
                    path.alias("path"))
