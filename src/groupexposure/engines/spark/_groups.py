"""Groups of connected clients (SPEC §3) on Spark.

``overlapping``: from C(r) of every root r, connections bring in C(dependent) round by round (one
connection per new member: the smallest (dependent, depends_on, kind), as on one machine); groups
with the same members are merged under the smallest root. ``partition``: every entity is first
mapped onto the top of its immediate-controller chain (the graph shrinks to the roots), then the
connected components of the remaining links are found by alternating large-star and small-star
rounds (Kiveris et al., "Connected components in MapReduce and beyond", SoCC 2014); a component's
id is its root with the largest control tree (ties: the smallest id), as on one machine.

Memberships are frames ``(group_id, entity_id, via_d, via_x, via_k)``: ``via_*`` null for a member
by control, else the connection that brought it in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._control import SparkControl
from ._loop import Checkpoints, count_of, iterate

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["overlapping", "partition"]


def _directed(connections: DataFrame) -> DataFrame:
    """(d, x, k): each connection, and each mutual one also the other way round."""
    from pyspark.sql import functions as F
    c = connections.select(F.col("dependent_id").alias("d"), F.col("depends_on_id").alias("x"),
                           F.col("kind").alias("k"), "mutual")
    back = c.where("mutual").select(F.col("x").alias("d"), F.col("d").alias("x"), "k")
    return c.select("d", "x", "k").unionByName(back)


def _controlled(ctl: SparkControl) -> DataFrame:
    """(a, y): y in C(a) for every entity a."""
    from pyspark.sql import functions as F
    ids = ctl.entities.select(F.col("entity_id").alias("a"), F.col("entity_id").alias("y"))
    return ids.unionByName(ctl.pairs.select("a", F.col("s").alias("y")))


def overlapping(cp: Checkpoints, ctl: SparkControl, connections: DataFrame) -> DataFrame:
    """The overlapping groups of SPEC §3."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    roots = ctl.entities.where("immediate is null").select(F.col("entity_id").alias("g"))
    cset = _controlled(ctl)
    start = (roots.join(cset.withColumnRenamed("a", "g"), "g")
             .select("g", F.col("y").alias("m"), *(F.lit(None).cast("string").alias(c)
                                                   for c in ("via_d", "via_x", "via_k"))))
    conns = _directed(connections)

    def step(st: dict[str, DataFrame]) -> dict[str, DataFrame]:
        members, front = st["members"], st["delta"]
        reach = (front.select("g", F.col("m").alias("x")).join(conns, "x")
                 .join(cset.withColumnRenamed("a", "d"), "d")
                 .select("g", F.col("y").alias("m"), F.col("d").alias("via_d"),
                         F.col("x").alias("via_x"), F.col("k").alias("via_k")))
        fresh = reach.join(members.select("g", "m"), ["g", "m"], "left_anti")
        w = Window.partitionBy("g", "m").orderBy("via_d", "via_x", "via_k")
        new = (fresh.withColumn("_r", F.row_number().over(w)).where("_r = 1").drop("_r"))
        return {"members": members.unionByName(new), "delta": new}

    members = iterate(cp, "groups", {"members": start, "delta": start}, step,
                      count_of("members"))["members"]
    sig = members.groupBy("g").agg(F.array_sort(F.collect_list("m")).alias("sig"))
    rep = sig.withColumn("rep", F.min("g").over(Window.partitionBy("sig")))
    keep = rep.where("g = rep").select("g")
    members = cp.save(members.join(keep, "g").select(
        "g", "m", F.col("via_d").isNull().alias("by_control")), "overlapping_members")
    via = _via(cp, ctl, members, conns)
    return (members.join(via, ["g", "m"], "left").select(
        F.col("g").alias("group_id"), F.col("m").alias("entity_id"), "via_d", "via_x", "via_k",
        "by_control"))


def _via(cp: Checkpoints, ctl: SparkControl, members: DataFrame, conns: DataFrame) -> DataFrame:
    """(g, m, via_d, via_x, via_k) for every membership by dependence: for the top t of m's chain
    of immediate controllers inside the group, the smallest (dependent, depends_on, kind) whose
    dependent is in t's control cycle and whose depends_on is in the group (as on one machine)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    ent = ctl.entities.select(F.col("entity_id").alias("m"), "immediate", "depth", "unit")
    inside = members.select("g", F.col("m").alias("immediate"), F.lit(True).alias("in"))
    up = F.when(F.col("in").isNotNull(), F.col("immediate")).otherwise(F.col("m"))
    start = (members.where("not by_control").select("g", "m").join(ent, "m")
             .join(inside, ["g", "immediate"], "left").select("g", "m", up.alias("up")))
    depth = ent.select(F.col("m").alias("up"), F.col("depth").alias("d_up"))
    start = start.join(depth, "up")

    def step(st: dict[str, DataFrame]) -> dict[str, DataFrame]:
        e = st["e"]
        nxt = e.select("g", F.col("m").alias("up"), F.col("up").alias("up2"),
                       F.col("d_up").alias("d2"))
        return {"e": e.join(nxt, ["g", "up"], "left").select(
            "g", "m", F.coalesce("up2", "up").alias("up"), F.coalesce("d2", "d_up").alias("d_up"))}

    def total_depth(st: dict[str, DataFrame]) -> int:  # falls while any chain moves up
        return int(st["e"].agg(F.sum("d_up")).first()[0] or 0)  # type: ignore[index]

    rows = iterate(cp, "overlapping_via", {"e": start}, step, total_depth)["e"]
    unit = ent.select(F.col("m").alias("d"), F.col("unit").alias("u"))
    tops = (rows.select("g", F.col("up").alias("t")).distinct()
            .join(ent.select(F.col("m").alias("t"), F.col("unit").alias("u")), "t"))
    cand = (tops.join(conns.join(unit, "d"), "u")
            .join(members.select("g", F.col("m").alias("x")), ["g", "x"]))
    w = Window.partitionBy("g", "t").orderBy("d", "x", "k")
    first = (cand.withColumn("_r", F.row_number().over(w)).where("_r = 1")
             .select("g", F.col("t").alias("up"), F.col("d").alias("via_d"),
                     F.col("x").alias("via_x"), F.col("k").alias("via_k")))
    return rows.join(first, ["g", "up"], "left").select("g", "m", "via_d", "via_x", "via_k")


def _components(cp: Checkpoints, nodes: DataFrame, edges: DataFrame) -> DataFrame:
    """(v, label): the smallest node of each node's connected component (large/small star)."""
    from pyspark.sql import functions as F
    e = (edges.where("u <> v").select(F.greatest("u", "v").alias("u"), F.least("u", "v")
                                      .alias("v")).distinct())

    def step(st: dict[str, DataFrame]) -> dict[str, DataFrame]:
        old = st["e"]  # (u, v) with u > v
        both = old.unionByName(old.select(F.col("v").alias("u"), F.col("u").alias("v")))
        m = both.groupBy("u").agg(F.min("v").alias("m"))
        large = (both.join(m, "u").where("v > u")
                 .select(F.col("v").alias("u"), F.least("m", "u").alias("v")).distinct())
        # small star: each node and its smaller neighbours attach to the smallest of them
        ms = large.groupBy("u").agg(F.min("v").alias("m"))
        small = (large.join(ms, "u").select(F.col("v").alias("a"), "m")
                 .unionByName(ms.select(F.col("u").alias("a"), "m"))
                 .where("a <> m").select(F.col("a").alias("u"), F.col("m").alias("v")).distinct())
        return {"e": small}

    def edge_set(st: dict[str, DataFrame]) -> tuple[int, int]:  # changes until the stars settle
        row = st["e"].agg(F.count(F.lit(1)), F.sum(F.xxhash64("u", "v").cast("decimal(38,0)")))
        first = row.first()
        return (int(first[0]), int(first[1] or 0)) if first else (0, 0)

    final = iterate(cp, "partition_components", {"e": e}, step, edge_set)["e"]
    lab = final.groupBy("u").agg(F.min("v").alias("label"))
    return (nodes.join(lab.withColumnRenamed("u", "v"), "v", "left")
            .select("v", F.coalesce("label", "v").alias("label")))


def partition(cp: Checkpoints, ctl: SparkControl, connections: DataFrame) -> DataFrame:
    """The partition groups of SPEC §3 (contraction onto chain tops, then large/small star)."""
    from pyspark.sql import functions as F
    ent = ctl.entities
    top = ent.select(F.col("entity_id").alias("x"), "top")

    def mapped(df: DataFrame, a: str, b: str) -> DataFrame:
        t1 = top.withColumnRenamed("x", a).withColumnRenamed("top", "u")
        t2 = top.withColumnRenamed("x", b).withColumnRenamed("top", "v")
        return df.join(t1, a).join(t2, b).select("u", "v")

    edges = mapped(ent.select(F.col("entity_id").alias("p"), F.col("unit").alias("q")), "p", "q")
    edges = edges.unionByName(mapped(ctl.multiple, "entity", "controller"))
    edges = edges.unionByName(mapped(connections, "dependent_id", "depends_on_id"))
    nodes = ent.where("entity_id = top").select(F.col("entity_id").alias("v"))
    comp = _components(cp, nodes, edges)
    # the group id: the root with the largest control tree |C(r)|, ties the smallest id
    sizes = ctl.pairs.groupBy(F.col("a").alias("v")).agg(F.count(F.lit(1)).alias("n"))
    roots = (ent.where("immediate is null").select(F.col("entity_id").alias("v"))
             .join(sizes, "v", "left")
             .select("v", F.struct((-F.coalesce("n", F.lit(0))).alias("k"), F.col("v"))
                     .alias("rank")))
    gid = (comp.join(roots, "v", "left")
           .groupBy("label").agg(F.min("rank").alias("best"), F.min("v").alias("least"))
           .select("label", F.coalesce(F.col("best.v"), "least").alias("group_id")))
    member = (ent.select("entity_id", "top", "ultimate")
              .join(comp.withColumnRenamed("v", "top"), "top").join(gid, "label"))
    by_control = (member.join(ctl.pairs.select(F.col("a").alias("group_id"),
                                               F.col("s").alias("entity_id"),
                                               F.lit(True).alias("ctl")),
                              ["group_id", "entity_id"], "left")
                  .withColumn("by_control", (F.col("ultimate") == F.col("group_id"))
                              | F.col("ctl").isNotNull() | (F.col("group_id") == F.col("entity_id"))))
    conns = _directed(connections)
    ult = ent.select(F.col("entity_id").alias("e"), F.col("ultimate").alias("tree"))
    tree = (conns.join(ult.withColumnRenamed("e", "d"), "d").unionByName(
        conns.join(ult.withColumnRenamed("e", "x"), "x").select("x", "d", "k", "tree"),
        allowMissingColumns=False))
    from pyspark.sql import Window
    w = Window.partitionBy("tree").orderBy("d", "x", "k")
    first = (tree.withColumn("_r", F.row_number().over(w)).where("_r = 1")
             .select(F.col("tree").alias("ultimate"), F.col("d").alias("via_d"),
                     F.col("x").alias("via_x"), F.col("k").alias("via_k")))
    out = by_control.join(first, "ultimate", "left")
    keep = F.col("by_control")
    return out.select("group_id", "entity_id",
                      *(F.when(keep, None).otherwise(F.col(c)).alias(c)
                        for c in ("via_d", "via_x", "via_k")), "by_control")
