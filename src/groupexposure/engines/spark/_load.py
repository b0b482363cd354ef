"""One machine reads the Spark engine's Parquet output back into an AnalysisResult.

The four tables are read as they are; the private state ``check`` and ``explain`` need (entity
codes, the control relation, the memberships, the entity sums) is rebuilt from the Spark engine's
own frames written under ``state/``: nothing is recomputed but the per-facility values (the §4
function on each row, needed to explain a figure facility by facility).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from ...core.coded import Coded, exempt_flags
from ...core.control import Control
from ...core.exposures import EntityExposure, facility_values
from ...core.groups import Connections, Groups
from ...model.policy import Policy
from ...model.schema import Capital
from ._result import COLUMNS

if TYPE_CHECKING:
    from ...result import AnalysisResult

__all__ = ["load", "sorted_table"]

KEYS = {"groups": ["group_id"], "entities": ["entity_id"], "members": ["group_id", "entity_id"],
        "issues": ["severity", "table", "code", "key", "column", "message"]}


def sorted_table(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A §8 table in key order with its leading columns (blank issue fields as empty text)."""
    frame = frame[COLUMNS[name]].copy()
    for c in frame.columns:  # one spelling of a missing text cell (Arrow gives NaN, pandas None)
        if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]):
            col = frame[c].astype(object)
            frame[c] = col.where(col.notna(), None)
    if name == "issues":
        frame = frame.fillna("").astype(str)
    return frame.sort_values(KEYS[name], kind="stable").reset_index(drop=True)


def _read(directory: Path, name: str) -> pd.DataFrame:
    path = directory / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: is {directory.parent} the output of "
                                "gx.spark.analyze(...).write()?")
    return pd.read_parquet(path)


def _codes(index: pd.Index, values: pd.Series) -> np.ndarray:
    return np.asarray(index.get_indexer(pd.Index(values.astype(object).where(values.notna(),
                                                                             None))),
                      dtype=np.int64)


def _control(state: Path, index: pd.Index) -> Control:
    n = len(index)
    pairs = _read(state, "pairs")
    a, s = _codes(index, pairs["a"]), _codes(index, pairs["s"])
    keys = np.unique(s * n + a)  # the pairs as the general (DAG) relation: no forest needed
    links = _read(state, "links")
    ent = _read(state, "control").set_index("entity_id").reindex(index)
    mult = _read(state, "multiple")
    return Control(
        n=n, edge_controller=_codes(index, links["a"]), edge_controlled=_codes(index, links["s"]),
        edge_votes=links["votes"].to_numpy(np.float64),
        edge_aggregated=links["aggregated"].to_numpy(bool),
        unit=_codes(index, ent["unit"]), immediate=_codes(index, ent["immediate"]),
        ultimate=_codes(index, ent["ultimate"]), depth=ent["depth"].to_numpy(np.int64),
        multiple=pd.DataFrame({"entity": _codes(index, mult["entity"]),
                               "controller": _codes(index, mult["controller"])}),
        pair_keys=keys)


def _groups(state: Path, index: pd.Index) -> Groups:
    m = _read(state, "memberships")
    g, e = _codes(index, m["group_id"]), _codes(index, m["entity_id"])
    order = np.lexsort((e, g))
    return Groups(n=len(index), group=g[order], member=e[order],
                  by_control=m["by_control"].to_numpy(bool)[order],
                  via_dependent=_codes(index, m["via_d"])[order],
                  via_depends_on=_codes(index, m["via_x"])[order],
                  via_kind=m["via_k"].fillna("").to_numpy(object)[order], merged={})


def load(directory: Path) -> AnalysisResult:
    """The AnalysisResult of a directory written by :meth:`SparkResult.write`."""
    from ...result import AnalysisResult
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    policy = Policy.model_validate(manifest["policy_definition"])
    capital = Capital.model_validate(manifest["capital"])
    tables = {t: sorted_table(t, _read(directory, t)) for t in KEYS}
    state = directory / "state"
    ent = _read(state, "entities_in").sort_values("entity_id").reset_index(drop=True)
    ids = ent["entity_id"].to_numpy(dtype=object)
    index = pd.Index(ids)
    for col in ("country", "sector"):
        ent[col] = None
    own = _read(state, "ownership_in")
    con = _read(state, "connections_in")
    fac = _read(state, "facilities_in").sort_values("facility_id").reset_index(drop=True)
    kind = ent["kind"].to_numpy(dtype=object)
    coded = Coded(
        ids=ids, id_text=pa.array(ids, type=pa.large_string()), entities=ent, kind=kind,
        gsib=ent["is_gsib"].to_numpy(bool),
        exempt=exempt_flags(ent, kind, {k.value for k in policy.exempt_kinds}),
        owner=_codes(index, own["owner_id"]), owned=_codes(index, own["owned_id"]),
        connections=Connections(
            dependent=_codes(index, con["dependent_id"]), depends_on=_codes(index,
                                                                             con["depends_on_id"]),
            kind=con["kind"].to_numpy(object), mutual=con["mutual"].to_numpy(bool)))
    amounts = _read(state, "amounts").set_index("entity_id").reindex(index)
    exposure = EntityExposure(*(amounts[c].to_numpy(np.float64) for c in (
        "own_original", "own_net", "substituted_in", "loans")))
    values = facility_values(fac, obligor=_codes(index, fac["obligor_id"]),
                             guarantor=_codes(index, fac["guarantor_id"]), kinds=kind,
                             policy=policy, fx=manifest["fx"])
    rules = _read(state, "entity_rules").set_index("entity_id")["rule"].reindex(index)
    entities = tables["entities"].assign(loans=exposure.loans, rule=rules.fillna("").to_numpy())
    extra = _read(state, "group_table").set_index("group_id")
    groups = tables["groups"]
    for col in ("measure", "measure_value", "capital_base_name", "utilisation"):
        groups[col] = extra[col].reindex(groups["group_id"]).to_numpy()
    groups["merged_roots"] = ""
    control = _control(state, index)
    return AnalysisResult(
        groups=groups, entities=entities, members=tables["members"],
        issues=tables["issues"].assign(row=pd.array([pd.NA] * len(tables["issues"]),
                                                    dtype="Int64"), value=""), policy=policy,
        grouping=manifest["grouping"], capital=capital, fx=manifest["fx"], ids=ids, coded=coded,
        control=control, membership=_groups(state, index), exposure=exposure,
        facility_values=values, facilities=fac, ownership=own, connections=con)



