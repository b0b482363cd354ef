"""The Spark pipeline: read → validate → control → groups → exposures → limits → the §8 tables."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pandas as pd

from ...model.issues import issue, issues_frame
from ...model.policy import Policy
from ...model.schema import TABLES, Capital
from ...validate.summary import collect_report
from ._amounts import chain_net, entity_sums, facility_frame, lookthrough
from ._control import SparkControl, control
from ._groups import overlapping, partition
from ._limits import entity_standing, group_standing
from ._loop import Checkpoints, log
from ._paths import control_paths, membership_paths
from ._read import Tables, read_source
from ._result import COLUMNS, SparkResult
from ._validate import validate_tables

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["run"]


def run(cp: Checkpoints, source: Any, pol: Policy, grouping: str, on_error: str,
        capital: dict[str, Any] | None) -> SparkResult:
    """The whole analysis (see :func:`groupexposure.engines.spark.analyze`)."""
    from pyspark.sql import functions as F
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        timings[stage] = now - t0
        t0 = now
        log.info("spark stage %s: %.1f s", stage, timings[stage])

    raw = read_source(cp.spark, source, pol, capital)
    raw = Tables(**{t: cp.save(raw.frame(t), f"input-{t}") for t in TABLES},
                 capital=raw.capital)  # every rule below reads files, not the source again
    cap = Capital.model_validate(raw.capital)
    tables, issues, rates, left_out = validate_tables(raw, pol, on_error)
    clean = not (issues["severity"] == "error").any()  # then the tables are the saved inputs
    ent, own, con, fac = (tables.frame(t) if clean else cp.save(tables.frame(t), t)
                          for t in ("entities", "ownership", "connections", "facilities"))
    lap("validate")
    ctl = control(cp, ent, own, pol.control_threshold)
    lap("control")
    build = overlapping if grouping == "overlapping" else partition
    members = cp.save(build(cp, ctl, con), "members")
    issues = pd.concat([issues, _understated(members, left_out)], ignore_index=True)
    lap("groups")
    values = cp.save(facility_frame(fac, ent, pol, rates), "facility_values")
    amounts = cp.save(entity_sums(values, ent), "amounts")
    chain = chain_net(amounts, ctl.pairs)
    look, rings = lookthrough(cp, amounts, own, on_error)
    issues = pd.concat([issues, rings], ignore_index=True)
    lap("exposures")
    exempt = F.coalesce("exempt", F.col("kind").isin(*[k.value for k in pol.exempt_kinds]))
    info = ent.select("entity_id", "name", "kind", "is_gsib", exempt.alias("exempt")).join(
        amounts, "entity_id")  # exempt: the entities table's, else the policy's kinds (SPEC §1)
    info = cp.save(info, "entity_info")
    gtab = cp.save(group_standing(members, info, pol, cap, rates), "groups")
    etab = cp.save(entity_standing(info, pol, cap, rates), "entity_standing")
    lap("limits")
    paths = control_paths(cp, ctl, own)
    mtab = cp.save(membership_paths(members, paths), "member_table")
    lap("paths")
    joined = members.groupBy("entity_id").agg(
        F.array_join(F.array_sort(F.collect_list("group_id")), ";").alias("groups"))
    entities = (info.join(ctl.entities.select("entity_id", F.col("ultimate").alias(
        "ultimate_parent_id"), F.col("immediate").alias("immediate_controller_id")), "entity_id")
        .join(chain, "entity_id").join(look, "entity_id").join(etab, "entity_id")
        .join(joined, "entity_id").select(*COLUMNS["entities"]))
    groups = gtab.withColumn("root_id", F.col("group_id")).select(*COLUMNS["groups"])
    all_issues = _issues(cp, ctl, values, ent, own, con, issues)
    result = SparkResult(
        groups=cp.save(groups, "out_groups"), entities=cp.save(entities, "out_entities"),
        members=mtab.select(*COLUMNS["members"]), issues=all_issues, policy=pol,
        grouping=grouping, capital=cap, fx=rates, rounds=dict(cp.rounds), timings=timings,
        state={"pairs": ctl.pairs, "links": ctl.links, "control": ctl.entities,
               "multiple": ctl.multiple, "memberships": members, "amounts": amounts,
               "entities_in": ent, "ownership_in": own, "connections_in": con,
               "facilities_in": fac, "group_table": gtab,
               "entity_rules": etab.select("entity_id", "rule")})
    lap("tables")
    return result


def _understated(members: DataFrame, left_out: pd.DataFrame) -> pd.DataFrame:
    """Collect mode: the groups whose figures may be understated, by the single-machine
    :func:`~groupexposure.validate.summary.collect_report` on the memberships of the entities
    the rows left out touch (collected to the driver: few)."""
    from pyspark.sql import functions as F
    if left_out.empty:
        return issues_frame([])
    touched = left_out["entity_id"].dropna().astype(str).unique().tolist()
    hit = members.where(F.col("entity_id").isin(*touched)).select("group_id", "entity_id")
    return collect_report(left_out, hit.toPandas())[1]


def _issues(cp: Checkpoints, ctl: SparkControl, values: DataFrame, ent: DataFrame,
            own: DataFrame, con: DataFrame, validation: pd.DataFrame) -> DataFrame:
    """The issue rows: validation's, control cycles, multiple controllers, ineligible
    guarantors and unused entities (the last built in Spark: a register has many)."""
    from pyspark.sql import functions as F
    cycles = (ctl.entities.where("unit <> entity_id").groupBy("unit")
              .agg(F.array_sort(F.collect_list("entity_id")).alias("m")).collect())
    out: list[dict[str, Any]] = [{str(k): v for k, v in r.items()}
                                 for r in validation.to_dict("records")]
    for c in cycles:
        names = [c["unit"], *c["m"]]
        out.append(vars(issue("control_cycle", "ownership", key=f"entity_id={names[0]}",
                              value=";".join(names),
                              message="control cycle " + " → ".join([*names, names[0]])
                              + f"; treated as one unit whose root is {names[0]}")))
    for m in (ctl.multiple.groupBy("entity").agg(F.array_sort(F.collect_list("controller"))
                                                 .alias("c")).collect()):
        names = list(m["c"])
        out.append(vars(issue(
            "multiple_controllers", "ownership", key=f"entity_id={m['entity']}",
            column="control", value=";".join(names),
            message=f"{m['entity']} has several controllers neither of which controls the other "
            f"({', '.join(names)}); it and everything it controls belong to each of their "
            f"control trees; {names[0]} is reported as its immediate controller")))
    kinds = ent.select(F.col("entity_id").alias("guarantor_id"), F.col("kind").alias("gk"))
    for f in values.where("ineligible").join(kinds, "guarantor_id").collect():
        out.append(vars(issue(
            "ineligible_guarantor", "facilities", key=f"facility_id={f['facility_id']}",
            column="guarantor_id", value=f["guarantor_id"],
            message=f"guarantor {f['guarantor_id']} is a {f['gk']}, not an eligible guarantor "
            "kind under this policy; the guarantee is ignored and the exposure stays with the "
            "obligor")))
    cols = COLUMNS["issues"]
    frame = pd.DataFrame(out, columns=[*cols, "row", "value"])[cols].fillna("").astype(str)
    small = cp.spark.createDataFrame(frame, ", ".join(f"{c} string" for c in cols))
    touched = (own.select(F.col("owner_id").alias("e")).union(own.select("owned_id"))
               .union(con.select("dependent_id")).union(con.select("depends_on_id"))
               .union(values.select("obligor_id")).union(values.select("guarantor_id"))
               .where("e is not null").distinct())
    lonely = ent.join(touched, F.col("entity_id") == F.col("e"), "left_anti").select(
        F.lit("info").alias("severity"), F.lit("unused_entity").alias("code"),
        F.lit("entities").alias("table"), F.concat(F.lit("entity_id="), "entity_id").alias("key"),
        F.lit("entity_id").alias("column"),
        F.concat(F.lit("entity "), "entity_id",
                 F.lit(" has no facilities, guarantees, ownership links or connections"))
        .alias("message"))
    return cp.save(small.unionByName(lonely), "out_issues")
