"""Limits and flags (SPEC §5) on Spark: the one implementation, ``core.limits.evaluate``, runs in
``mapInPandas`` over rule inputs aggregated per group (sums in entity id order)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...core.limits import Subjects, evaluate, is_large
from ...model.policy import Policy
from ...model.schema import Capital
from ._amounts import ordered_sums

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["entity_standing", "group_standing"]

STANDING = ("ratio double, limit double, status string, rule string, capital_base double, "
            "large_exposure boolean, measure string, measure_value double, "
            "capital_base_name string, utilisation double")


def _standing(frame: pd.DataFrame, policy: Policy, capital: Capital, fx: dict[str, float],
              scope: str) -> pd.DataFrame:
    subjects = Subjects(
        exposure=frame["exposure"].to_numpy(np.float64), loans=frame["loans"].to_numpy(np.float64),
        kind=frame["kind"].to_numpy(object), any_gsib=frame["any_gsib"].to_numpy(bool),
        any_bank=frame["any_bank"].to_numpy(bool),
        non_bank_exposure=frame["non_bank_exposure"].to_numpy(np.float64),
        all_exempt=frame["all_exempt"].to_numpy(bool))
    if scope == "entity":
        st = evaluate(subjects, policy.rules_for("single"), policy, capital, fx)
    else:
        st = evaluate(subjects, policy.rules_for("group"), policy, capital, fx)
        single = policy.rules_for("single")
        one = frame["n_members"].to_numpy() == 1
        if single and one.any():
            alone = evaluate(subjects.take(one), single, policy, capital, fx)
            st = type(st)(**{k: np.where(one, _spread(getattr(alone, k), one, v), v)
                             for k, v in vars(st).items()})
    return pd.DataFrame({"ratio": st.ratio, "limit": st.limit, "status": st.status,
                         "rule": st.rule, "capital_base": st.capital_base,
                         "large_exposure": is_large(subjects.exposure, capital.tier1, policy),
                         "measure": st.measure, "measure_value": st.measure_value,
                         "capital_base_name": st.capital_base_name,
                         "utilisation": st.utilisation})


def _spread(values: np.ndarray, mask: np.ndarray, like: np.ndarray) -> np.ndarray:
    out = like.copy()
    out[mask] = values
    return out


def _run(frame: DataFrame, key: str, policy: Policy, capital: Capital, fx: dict[str, float],
         scope: str) -> DataFrame:
    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for b in batches:
            st = _standing(b.reset_index(drop=True), policy, capital, fx, scope)
            st.insert(0, key, b[key].to_numpy())
            yield st

    return frame.mapInPandas(run, f"{key} string, " + STANDING)


def group_standing(members: DataFrame, entities: DataFrame, policy: Policy, capital: Capital,
                   fx: dict[str, float]) -> DataFrame:
    """Per group: the §8 sums and the standing (group rules; single rules for a group of one)."""
    from pyspark.sql import functions as F
    m = members.select("group_id", "entity_id").join(entities, "entity_id").withColumns({
        "_exempt": F.col("exempt"), "_bank": F.col("kind") == "bank"})
    m = m.withColumns({
        "exempt_part": F.when(F.col("_exempt"), F.col("own_net")).otherwise(0.0),
        "counted": F.when(F.col("_exempt"), 0.0).otherwise(F.col("own_net")),
        "loans_counted": F.when(F.col("_exempt"), 0.0).otherwise(F.col("loans"))})
    m = m.withColumn("non_bank", F.when(F.col("_bank"), 0.0).otherwise(F.col("counted")))
    sums = ordered_sums(m, "group_id", "entity_id",
                        ["own_original", "own_net", "exempt_part", "counted", "loans_counted",
                         "non_bank"])
    flags = m.groupBy("group_id").agg(
        F.count(F.lit(1)).alias("n_members"), F.max(F.col("is_gsib").cast("int")).alias("_g"),
        F.max(F.col("_bank").cast("int")).alias("_b"), F.min(F.col("_exempt").cast("int"))
        .alias("_e"))
    root = entities.select(F.col("entity_id").alias("group_id"), F.col("name").alias("root_name"),
                           "kind")
    g = (sums.join(flags, "group_id").join(root, "group_id").select(
        "group_id", "root_name", "n_members", F.col("own_original").alias("original_exposure"),
        F.col("own_net").alias("net_exposure"), F.col("exempt_part").alias("exempt_exposure"),
        F.col("counted").alias("exposure"), F.col("loans_counted").alias("loans"), "kind",
        (F.col("_g") == 1).alias("any_gsib"), (F.col("_b") == 1).alias("any_bank"),
        F.col("non_bank").alias("non_bank_exposure"), (F.col("_e") == 1).alias("all_exempt")))
    return g.join(_run(g, "group_id", policy, capital, fx, "group"), "group_id")


def entity_standing(entities: DataFrame, policy: Policy, capital: Capital, fx: dict[str, float]
                    ) -> DataFrame:
    """Per entity: ratio, limit and status under the single rules (empty where the policy has
    none, or the entity's kind is exempt)."""
    from pyspark.sql import functions as F
    if not policy.rules_for("single"):
        return entities.select("entity_id", F.lit(None).cast("double").alias("ratio"),
                               F.lit(None).cast("double").alias("limit"),
                               F.lit(None).cast("string").alias("status"), F.lit("").alias("rule"))
    exempt = F.col("exempt")
    e = entities.select(
        "entity_id", F.when(exempt, 0.0).otherwise(F.col("own_net")).alias("exposure"),
        F.when(exempt, 0.0).otherwise(F.col("loans")).alias("loans"), "kind",
        F.col("is_gsib").alias("any_gsib"), (F.col("kind") == "bank").alias("any_bank"),
        F.when(exempt | (F.col("kind") == "bank"), 0.0).otherwise(F.col("own_net"))
        .alias("non_bank_exposure"), exempt.alias("all_exempt"))
    st = _run(e, "entity_id", policy, capital, fx, "entity")
    keep = ~F.col("all_exempt")
    return e.join(st, "entity_id").select(
        "entity_id", F.when(keep, F.col("ratio")).alias("ratio"),
        F.when(keep, F.col("limit")).alias("limit"), F.when(keep, F.col("status")).alias("status"),
        F.when(keep, F.col("rule")).otherwise(F.lit("")).alias("rule"))
