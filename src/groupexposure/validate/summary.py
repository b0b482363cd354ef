"""What collect mode left out and used despite errors, said plainly (SPEC §7).

After the groups are known, :func:`collect_report` names the groups whose figures may be understated
(a row touching one of their members was left out: a facility, a holding, a connection, a
guarantee) and writes the summary issue rows; :func:`summary_lines` gives the lines the command line
and the reports print.

>>> import pandas as pd
>>> left = pd.DataFrame({"table": ["facilities"], "row": [3], "entity_id": ["B"],
...                      "amount": [300.0], "what": ["facility left out (obligor_id)"]})
>>> members = pd.DataFrame({"group_id": ["P", "P", "B"], "entity_id": ["P", "B", "B"]})
>>> collect_report(left, members)[0][["group_id", "rows_left_out", "amount_left_out"]].values.tolist()
[['B', 1, 300.0], ['P', 1, 300.0]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.issues import issue, issues_frame

__all__ = ["UNDERSTATED_COLUMNS", "collect_report", "summary_lines"]

UNDERSTATED_COLUMNS = ["group_id", "rows_left_out", "amount_left_out", "entities", "what"]


def collect_report(left_out: pd.DataFrame, members: pd.DataFrame
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The groups whose figures may be understated, and their issue rows.

    ``left_out`` is :attr:`ValidPortfolio.left_out`; ``members`` has ``group_id, entity_id``.
    ``amount_left_out`` sums the readable nominal (drawn + undrawn, reporting currency) of the
    facilities left out that touch the group, each facility once (NaN where none is known).
    """
    empty = pd.DataFrame(columns=UNDERSTATED_COLUMNS)
    if left_out is None or left_out.empty or members.empty:
        return empty, issues_frame([])
    hit = left_out.merge(members[["group_id", "entity_id"]].astype(str), on="entity_id")
    if hit.empty:
        return empty, issues_frame([])
    once = hit.drop_duplicates(["group_id", "table", "row"])
    fac = once[once["table"] == "facilities"]
    amount = fac.groupby("group_id")["amount"].sum(min_count=1)
    out = once.groupby("group_id").agg(
        rows_left_out=("row", "size"),
        entities=("entity_id", lambda v: ";".join(sorted(set(v)))),
        what=("what", lambda v: "; ".join(sorted(set(v)))),
    )
    out["amount_left_out"] = amount.reindex(out.index)
    out = out.reset_index()[UNDERSTATED_COLUMNS].sort_values("group_id").reset_index(drop=True)
    rows = []
    for gid, n, ents, what, amt in zip(out["group_id"].astype(str), out["rows_left_out"],
                                       out["entities"], out["what"],
                                       out["amount_left_out"].astype("float64"), strict=True):
        nominal = f", {amt:,.2f} of nominal" if amt == amt else ""
        rows.append(issue("understated_group", "groups", key=f"group_id={gid}", column="exposure",
                          value=gid, message=f"group {gid}: figures may be understated; {n} "
                          f"row{'s' if n != 1 else ''} touching {ents} "
                          f"{'were' if n != 1 else 'was'} left out ({what}){nominal}"))
    return out, issues_frame(rows)


def summary_lines(row_counts: pd.DataFrame, left_out: pd.DataFrame | None,
                  understated: pd.DataFrame | None, currency: str, *, top: int = 10) -> list[str]:
    """The collect-mode lines of a summary: rows dropped and used despite errors per table, the
    amount left out, and the groups whose figures may be understated (empty when nothing was)."""
    if row_counts is None or row_counts.empty or "used_with_error" not in row_counts:
        return []
    dropped = int(row_counts["dropped"].sum())
    kept = int(row_counts["used_with_error"].sum())
    if not dropped and not kept:
        return []

    def per_table(col: str) -> str:
        parts = [f"{t} {int(n)}" for t, n in zip(row_counts["table"], row_counts[col], strict=True)
                 if n]
        return f" ({', '.join(parts)})" if parts else ""

    lines = [f"rows dropped: {dropped}{per_table('dropped')}; rows used despite an error: "
             f"{kept}{per_table('used_with_error')}"]
    if left_out is not None and len(left_out):
        fac = left_out[left_out["table"] == "facilities"].drop_duplicates("row")
        if len(fac):
            amount = float(np.nansum(fac["amount"].to_numpy(np.float64)))
            unknown = int(fac["amount"].isna().sum())
            lines.append(f"left out: {len(fac)} facilit{'ies' if len(fac) != 1 else 'y'}, "
                         f"{amount:,.0f} {currency} of nominal"
                         + (f" (and {unknown} of unknown amount)" if unknown else ""))
    if understated is not None and len(understated):
        names = understated["group_id"].astype(str).tolist()
        shown = ", ".join(names[:top]) + (f" and {len(names) - top} more" if len(names) > top else "")
        lines.append(f"figures may be understated for {len(names)} "
                     f"group{'s' if len(names) != 1 else ''}: {shown}")
    elif dropped:
        lines.append("no group's figures are lowered by the rows dropped")
    return lines
