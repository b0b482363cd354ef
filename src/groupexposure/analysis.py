"""The pipeline: validate → control → groups → exposures → limits → tables (SPEC §1-5, §8).

>>> import groupexposure as gx
>>> result = gx.analyze(gx.datasets.ningxia(), policy="basel")
>>> result.groups.columns[:5].tolist()
['group_id', 'root_id', 'root_name', 'n_members', 'original_exposure']
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._arrays import unique_inverse
from .core.coded import Coded, exempt_flags
from .core.control import NONE, Control, compute_control
from .core.declarations import declaration_issues, possible_control
from .core.exposures import EntityExposure, canonical_order, entity_exposures, facility_values
from .core.groups import Connections, Groups, overlapping_groups, partition_groups
from .core.ids import encode
from .core.limits import Standing, evaluate, is_large, subjects_of
from .core.lookthrough import lookthrough_values
from .core.paths import Paths, control_paths, joined_ids, membership_paths
from .io.columns import ColumnMap
from .io.files import load_portfolio
from .io.units import Unit, unit_sanity
from .model.issues import issue, issues_frame
from .model.policy import Policy, get_policy
from .model.portfolio import Portfolio
from .result import AnalysisResult
from .validate.national_id import national_id_problems
from .validate.rules import OnError, ValidPortfolio, validate
from .validate.summary import collect_report

__all__ = ["Grouping", "analyze"]

Grouping = Literal["overlapping", "partition"]
log = logging.getLogger(__name__)
Progress = Callable[[str, float], None]


def _text_column(values: pa.Array, codes: np.ndarray, null: np.ndarray | None = None) -> pd.Series:
    """``values[codes]`` as a pandas string column, without Python string objects (pandas keeps
    pyarrow ``large_string`` as it is: no copy beyond the take)."""
    whole = len(codes) == len(values) and bool((codes == np.arange(len(codes))).all())
    taken = values if whole else values.take(pa.array(codes))
    if null is not None:
        taken = pc.if_else(pa.array(null), pa.scalar(None, type=taken.type), taken)
    return pd.Series(pd.array(taken, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))


def _arrow_text(column: pd.Series) -> pa.Array:
    """A pandas string column as one pyarrow large_string array (no Python objects)."""
    arr = pa.array(column)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return arr.cast(pa.large_string())


def _code(valid: ValidPortfolio, policy: Policy) -> tuple[Coded, np.ndarray, np.ndarray]:
    """Integer codes for every identifier; also the facilities' obligor and guarantor codes."""
    own, con, fac = valid.ownership, valid.connections, valid.facilities
    ids, (row, owner, owned, dep, on, obligor, guarantor) = valid.encoded or encode(
        valid.entities["entity_id"], valid.entities["entity_id"], own["owner_id"],
        own["owned_id"], con["dependent_id"], con["depends_on_id"], fac["obligor_id"],
        fac["guarantor_id"])
    in_order = bool((row == np.arange(row.size)).all())  # entities.csv already sorted by id
    ent = valid.entities if in_order else valid.entities.iloc[np.argsort(row)].reset_index(drop=True)
    kind = ent["kind"].to_numpy(dtype=object)
    exempt_kinds = {k.value for k in policy.exempt_kinds}
    coded = Coded(
        ids=ids,
        id_text=_arrow_text(ent["entity_id"]) if in_order else pa.array(ids, type=pa.large_string()),
        entities=ent,
        kind=kind,
        gsib=ent["is_gsib"].to_numpy(dtype=bool),
        exempt=exempt_flags(ent, kind, exempt_kinds),
        owner=owner,
        owned=owned,
        connections=Connections(dependent=dep, depends_on=on,
                                kind=con["kind"].to_numpy(dtype=object),
                                mutual=con["mutual"].to_numpy(dtype=bool)),
    )
    return coded, obligor, guarantor


def analyze(
    portfolio: Portfolio | str | Path,
    *,
    policy: str | Policy = "basel",
    grouping: Grouping = "overlapping",
    on_error: OnError = "raise",
    progress: Progress | None = None,
    encoding: str | None = None,
    columns: ColumnMap | str | Path | None = None,
    amount_unit: Unit = None,
    capital_unit: Unit = None,
) -> AnalysisResult:
    """Groups, consolidated exposures and limit flags for a portfolio.

    Parameters
    ----------
    portfolio
        A :class:`Portfolio` or a directory to load with :func:`load_portfolio`.
    policy
        A built-in policy name (``basel``, ``eu_crr``, ``cn_cbirc_2018``, ``cn_group_credit``) or a
        :class:`Policy`.
    grouping
        ``overlapping`` (default; a client may be in several groups) or ``partition``.
    on_error
        ``raise`` (default): any invalid row raises one ValidationError listing every problem.
        ``collect``: invalid rows are dropped and listed in ``result.issues``.
    progress
        Called as ``progress(stage, seconds)`` after each stage (the command line shows it).
    encoding, columns, amount_unit, capital_unit
        Where ``portfolio`` is a path: how to read the bank's files (:func:`load_portfolio`).
    """
    if grouping not in ("overlapping", "partition"):
        raise ValueError(f"grouping must be 'overlapping' or 'partition'; got {grouping!r}")
    pol = get_policy(policy)
    clock = _Clock(progress)
    reading = {"encoding": encoding, "columns": columns, "amount_unit": amount_unit,
               "capital_unit": capital_unit}
    if isinstance(portfolio, Portfolio):
        given = [k for k, v in reading.items() if v is not None]
        if given:
            raise ValueError(f"{', '.join(given)} apply when reading files; this portfolio is "
                             "already read (pass them to load_portfolio)")
        book = portfolio
    else:
        book = load_portfolio(portfolio, **reading)  # type: ignore[arg-type]
    clock.lap("read")
    valid = validate(book, pol, on_error=on_error)
    coded, obligor, guarantor = _code(valid, pol)
    clock.lap("validate")
    n = coded.ids.size
    own = valid.ownership
    fac = valid.facilities

    def amounts() -> tuple[pd.DataFrame, EntityExposure, np.ndarray]:
        """Exposure values and look-through: they need no control, so they run alongside it."""
        values = facility_values(fac, obligor=obligor, guarantor=guarantor, kinds=coded.kind,
                                 policy=pol, fx=valid.fx)
        exposure = entity_exposures(values, n, canonical_order(fac["facility_id"], values))
        share = own["lookthrough_share"] if "lookthrough_share" in own else own["share"]
        look = lookthrough_values(n, coded.owner, coded.owned, _known(share), exposure.own_net)
        return values, exposure, look

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(amounts)
        control = compute_control(
            n, owner=coded.owner, owned=coded.owned, voting=_known(own["voting"]),
            flag=own["control"].to_numpy(bool), threshold=pol.control_threshold)
        clock.lap("control")
        paths = pool.submit(control_paths, control, coded.ids, coded.owner, coded.owned,
                            own["share"].to_numpy(np.float64), own["voting"].to_numpy(np.float64),
                            own["control"].to_numpy(bool), id_text=coded.id_text)
        build = overlapping_groups if grouping == "overlapping" else partition_groups
        groups = build(control, coded.connections)
        clock.lap("groups")
        values, exposure, look = pending.result()
        chain = control.chain_sums(exposure.own_net)
        clock.lap("exposures")
        entity_frame = _entity_table(coded, control, groups, exposure, chain, look, pol, valid)
        group_frame, member_frame = _group_tables(coded, control, groups, exposure, pol, valid,
                                                  paths.result())
    checked = [
        declaration_issues(book.declarations, coded.ids, control, coded.owner, coded.owned,
                           own["share"].to_numpy(np.float64), pol.control_threshold),
        possible_control(own, coded.ids, control, coded.owner, coded.owned, pol.control_threshold),
    ] if book.declarations is not None or "voting_max" in own else []
    checked.append(_reading_issues(valid, exposure))

    understated, understated_issues = collect_report(valid.left_out, member_frame)
    issues = issues_frame(pd.concat([valid.issues, _analysis_issues(coded, control, values, fac,
                                                                    exposure, valid), *checked,
                                     understated_issues]))
    clock.lap("limits")
    log.info("analysed %d entities, %d facilities, %d groups (%s, %s)", n, len(fac),
             len(group_frame), pol.name, grouping)
    return AnalysisResult(
        groups=group_frame, entities=entity_frame, members=member_frame, issues=issues,
        policy=pol, grouping=grouping, capital=valid.capital, fx=valid.fx, ids=coded.ids,
        coded=coded, control=control, membership=groups, exposure=exposure,
        facility_values=values, facilities=fac, ownership=own, connections=valid.connections,
        row_counts=valid.row_counts, timings=clock.timings,
        left_out=valid.left_out, understated_groups=understated,
    )


def _reading_issues(valid: ValidPortfolio, exposure: EntityExposure) -> pd.DataFrame:
    """The national ids that fail their check, and the warning that the book and the capital
    look like different units (SPEC §1)."""
    problems = national_id_problems(valid.entities)
    total = float(exposure.own_original.sum())
    text = unit_sanity(total, valid.capital.tier1, valid.capital.currency)
    if text is not None:
        problems.append(issue("unit_mismatch", "capital", column="tier1",
                              value=f"{valid.capital.tier1:g}", message=text))
    return issues_frame(problems)


def _known(values: pd.Series) -> np.ndarray:
    """Shares or votes as numbers; a link of unknown size (from an external file) counts 0."""
    return np.asarray(np.nan_to_num(values.to_numpy(np.float64), nan=0.0))


class _Clock:
    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}
        self.t = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = now - self.t
        self.t = now
        if self.progress is not None:
            self.progress(stage, self.timings[stage])


def _group_tables(coded: Coded, control: Control, groups: Groups, exposure: EntityExposure,
                  pol: Policy, valid: ValidPortfolio, paths: Paths
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    gids, gpos = unique_inverse(groups.group)
    k = gids.size
    m = groups.member
    subjects = subjects_of(coded, exposure, gpos, m, gids, k)
    n_members = np.bincount(gpos, minlength=k)
    standing = evaluate(subjects, pol.rules_for("group"), pol, valid.capital, valid.fx)
    single_rules = pol.rules_for("single")
    if single_rules:
        one = n_members == 1
        single = evaluate(subjects.take(one), single_rules, pol, valid.capital, valid.fx)
        standing = _merge_standing(standing, single, one)
    gframe = pd.DataFrame({
        "group_id": _text_column(coded.id_text, gids),
        "root_id": _text_column(coded.id_text, gids),
        "root_name": coded.entities["name"].iloc[gids].reset_index(drop=True),
        "n_members": n_members,
        "original_exposure": np.bincount(gpos, weights=exposure.own_original[m], minlength=k),
        "net_exposure": np.bincount(gpos, weights=exposure.own_net[m], minlength=k),
        "exempt_exposure": np.bincount(gpos, weights=np.where(coded.exempt[m],
                                                              exposure.own_net[m], 0.0),
                                       minlength=k),
    })
    gframe["exposure"] = subjects.exposure
    gframe["capital_base"] = standing.capital_base
    gframe["ratio"] = standing.ratio
    gframe["limit"] = standing.limit
    gframe["status"] = standing.status
    gframe["large_exposure"] = is_large(subjects.exposure, valid.capital.tier1, pol)
    gframe["rule"] = standing.rule
    gframe["measure"] = standing.measure
    gframe["measure_value"] = standing.measure_value
    gframe["capital_base_name"] = standing.capital_base_name
    gframe["utilisation"] = standing.utilisation
    merged = np.full(len(gframe), "", dtype=object)
    if groups.merged:
        where = np.searchsorted(gids, list(groups.merged))
        merged[where] = [";".join(coded.ids[sorted(v)]) for v in groups.merged.values()]
    gframe["merged_roots"] = merged
    mframe = pd.DataFrame({
        "group_id": _text_column(coded.id_text, groups.group),
        "entity_id": _text_column(coded.id_text, m),
        "basis": np.where(groups.by_control, "control", "dependence"),
        "path": membership_paths(groups, paths, coded.ids),
    })
    return gframe, mframe



def _merge_standing(base: Standing, single: Standing, mask: np.ndarray) -> Standing:
    out = {}
    for key, arr in vars(base).items():
        arr = arr.copy()
        arr[mask] = getattr(single, key)
        out[key] = arr
    return Standing(**out)


def _entity_table(coded: Coded, control: Control, groups: Groups, exposure: EntityExposure,
                  chain: np.ndarray, look: np.ndarray, pol: Policy, valid: ValidPortfolio
                  ) -> pd.DataFrame:
    n = coded.ids.size
    codes = np.arange(n)
    ent = coded.entities
    frame = pd.DataFrame({
        "entity_id": _text_column(coded.id_text, np.arange(n)),
        "name": ent["name"].reset_index(drop=True),
        "kind": coded.kind,
        "ultimate_parent_id": _text_column(coded.id_text, control.ultimate),
        "immediate_controller_id": _text_column(coded.id_text, np.maximum(control.immediate, 0),
                                                control.immediate == NONE),
        "own_original": exposure.own_original,
        "own_net": exposure.own_net,
        "substituted_in": exposure.substituted_in,
        "chain_net": chain,
        "lookthrough_net": look,
    })
    rules = pol.rules_for("single")
    if rules:
        subjects = subjects_of(coded, exposure, codes, codes, codes, n)
        st = evaluate(subjects, rules, pol, valid.capital, valid.fx)
        keep = ~coded.exempt
        frame["ratio"] = np.where(keep, st.ratio, np.nan)
        frame["limit"] = np.where(keep, st.limit, np.nan)
        frame["status"] = pd.Series(st.status).where(keep, None).to_numpy()
        rule = np.where(keep, st.rule, "")
    else:
        frame["ratio"] = np.nan
        frame["limit"] = np.nan
        frame["status"] = None
        rule = np.full(n, "", dtype=object)
    frame["groups"] = _joined_groups(coded.id_text, groups, n)
    frame["country"] = ent["country"].reset_index(drop=True)
    frame["sector"] = ent["sector"].reset_index(drop=True)
    frame["is_gsib"] = coded.gsib
    frame["loans"] = exposure.loans
    frame["rule"] = rule
    frame["depth"] = control.depth
    return frame


def _joined_groups(id_text: pa.Array, groups: Groups, n: int) -> pd.Series:
    """The ';'-joined ids of every group each entity is in (sorted; every entity is in one)."""
    keys, joined = joined_ids(groups.member, groups.group, id_text, ";")
    if keys.size != n:  # not reached: every entity is in its own root's group at least
        raise AssertionError(f"{n - keys.size} entities are in no group")
    return pd.Series(pd.array(joined, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))


def _analysis_issues(coded: Coded, control: Control, values: pd.DataFrame, fac: pd.DataFrame,
                     exposure: EntityExposure, valid: ValidPortfolio) -> pd.DataFrame:
    ids = coded.ids
    rows: list[dict[str, object]] = []
    for cycle in control.cycles:
        names = [str(ids[c]) for c in cycle]
        rows.append({"severity": "warning", "code": "control_cycle", "table": "ownership",
                     "key": f"entity_id={names[0]}", "column": "",
                     "value": ";".join(names),
                     "message": "control cycle " + " → ".join([*names, names[0]])
                     + f"; treated as one unit whose root is {names[0]}"})
    if len(control.multiple):
        mm = control.multiple.groupby("entity")["controller"].agg(sorted)
        for ent, ctrls in zip(mm.index.to_numpy(np.int64), mm.tolist(), strict=True):
            names = [str(ids[c]) for c in ctrls]
            rows.append({"severity": "warning", "code": "multiple_controllers",
                         "table": "ownership", "key": f"entity_id={ids[ent]}", "column": "control",
                         "value": ";".join(names),
                         "message": f"{ids[ent]} has several controllers neither of which controls "
                         f"the other ({', '.join(names)}); it and everything it controls belong to "
                         f"each of their control trees; {names[0]} is reported as its immediate "
                         "controller"})
    parts = [pd.DataFrame(rows)]
    inel = values["ineligible_guarantee"].to_numpy()
    if inel.any():
        sub = fac.loc[inel]
        gk = coded.kind[values["guarantor"].to_numpy()[inel]]
        parts.append(pd.DataFrame({
            "severity": "info", "code": "ineligible_guarantor", "table": "facilities",
            "row": sub["_row"].to_numpy(), "key": "facility_id=" + sub["facility_id"].astype(str),
            "column": "guarantor_id", "value": sub["guarantor_id"].astype(str).to_numpy(),
            "message": ("guarantor " + sub["guarantor_id"].astype(str) + " is a " + gk
                        + ", not an eligible guarantor kind under this policy; the guarantee is "
                        "ignored and the exposure stays with the obligor").to_numpy(),
        }))
    n = ids.size
    touched = np.zeros(n, dtype=bool)
    for arr in (coded.owner, coded.owned, coded.connections.dependent,
                coded.connections.depends_on, values["obligor"].to_numpy(),
                values["guarantor"].to_numpy()):
        arr = arr[arr >= 0]
        touched[arr] = True
    lonely = np.flatnonzero(~touched)
    if lonely.size:
        parts.append(pd.DataFrame({
            "severity": "info", "code": "unused_entity", "table": "entities",
            "row": coded.entities["_row"].to_numpy()[lonely],
            "key": "entity_id=" + pd.Series(ids[lonely]).astype(str),
            "column": "entity_id", "value": ids[lonely],
            "message": "entity " + pd.Series(ids[lonely]).astype(str)
            + " has no facilities, guarantees, ownership links or connections",
        }))
    return pd.concat([p for p in parts if len(p)], ignore_index=True) if any(
        len(p) for p in parts) else pd.DataFrame(columns=["severity", "code"])
