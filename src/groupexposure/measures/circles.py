"""Guarantee circles (担保圈 / 互保联保): companies that guarantee each other's debts fail together.

The guarantee network has an edge guarantor → guaranteed party for every facility with a guarantor
(eligible or not: the credit risk links the companies either way) and for every ``guarantee``
connection (its dependent is the guarantor: it would fail if the party it guarantees failed; a
``mutual`` one runs both ways). A circle is a strongly connected set of two or more entities; the
chain around it is every entity joined to it through guarantees in either direction.

>>> import groupexposure as gx
>>> gx.analyze(gx.datasets.ningxia()).guarantee_circles["cycle"].tolist()
['NX-WOOL → TM → NX-WOOL']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .._text import named

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["CIRCLE_COLUMNS", "guarantee_circles"]

CIRCLE_COLUMNS = ["circle_id", "n_members", "members", "cycle", "chain", "groups",
                  "member_exposure", "guaranteed_inside", "member_names", "cycle_named"]
"""``member_names`` and ``cycle_named`` repeat ``members`` and ``cycle`` with each name beside its
id, for people (``name (id)``; the id alone where there is no name)."""


def guarantee_circles(result: AnalysisResult) -> pd.DataFrame:
    """One row per circle: ``circle_id`` (smallest member), members, a cycle through them, the
    chain of entities around it, the groups the members span, the members' total net exposure, and
    the amounts guaranteed inside the circle (guarantor and obligor both members)."""
    n = result.ids.size
    fv = result.facility_values
    has = fv["guarantor"].to_numpy() >= 0
    g_src = fv["guarantor"].to_numpy()[has]
    g_dst = fv["obligor"].to_numpy()[has]
    # the nominal guarantee, whether or not the policy lets it be substituted
    after = fv["after_collateral"].to_numpy()[has]
    given = result.facilities.loc[has, ["guaranteed_amount", "currency"]]
    amount = given["guaranteed_amount"].to_numpy(np.float64) \
        * given["currency"].map(result.fx).to_numpy(np.float64)
    nominal = np.where(np.isnan(amount), after, np.minimum(amount, after))
    con = result.coded.connections
    is_g = con.kind == "guarantee"
    mutual = is_g & con.mutual
    src = np.concatenate([g_src, con.dependent[is_g], con.depends_on[mutual]]).astype(np.int64)
    dst = np.concatenate([g_dst, con.depends_on[is_g], con.dependent[mutual]]).astype(np.int64)
    if src.size == 0:
        return pd.DataFrame(columns=CIRCLE_COLUMNS)
    graph = coo_matrix((np.ones(src.size), (src, dst)), shape=(n, n)).tocsr()
    n_scc, scc = connected_components(graph, directed=True, connection="strong")
    size = np.bincount(scc, minlength=n_scc)
    circles = np.flatnonzero(size > 1)
    if circles.size == 0:
        return pd.DataFrame(columns=CIRCLE_COLUMNS)
    _, weak = connected_components(graph, directed=False)
    ids = result.ids
    own_net = result.exposure.own_net
    in_circle = np.flatnonzero(size[scc] > 1)
    in_circle = in_circle[np.argsort(scc[in_circle], kind="stable")]
    circle_members = np.split(in_circle, np.flatnonzero(np.diff(scc[in_circle])) + 1)
    # the weakly connected component of each circle, grouped the same way
    comps = np.unique(weak[in_circle])
    touched = np.flatnonzero(np.isin(weak, comps))
    touched = touched[np.argsort(weak[touched], kind="stable")]
    starts = np.searchsorted(weak[touched], comps)
    component = dict(zip(comps.tolist(), np.split(touched, starts[1:]), strict=True))
    # guarantees inside each circle, and the edges that run inside each circle
    inside_fac = (scc[g_src] == scc[g_dst]) & (size[scc[g_src]] > 1)
    guaranteed = np.bincount(scc[g_src[inside_fac]], weights=nominal[inside_fac], minlength=n_scc)
    inside = (scc[src] == scc[dst]) & (size[scc[src]] > 1)
    e_order = np.flatnonzero(inside)[np.argsort(scc[src[inside]], kind="stable")]
    e_starts = np.searchsorted(scc[src[e_order]], circles)
    edges = dict(zip(circles.tolist(), np.split(e_order, e_starts[1:]), strict=True))
    names = result.entities["name"].to_numpy()
    mem = result.members
    in_any = mem["entity_id"].isin(ids[in_circle])
    member_groups = mem[in_any].groupby("entity_id")["group_id"].agg(set)
    rows = []
    for members in circle_members:
        c = int(scc[members[0]])
        chain = np.setdiff1d(component[int(weak[members[0]])], members)
        groups = sorted(set().union(*(member_groups.get(ids[m], set()) for m in members)))
        rows.append({
            "circle_id": ids[members[0]],
            "n_members": members.size,
            "members": ";".join(ids[members]),
            "cycle": _cycle(int(members[0]), src[edges[c]], dst[edges[c]], ids),
            "chain": ";".join(ids[chain]),
            "groups": ";".join(groups),
            "member_exposure": float(own_net[members].sum()),
            "guaranteed_inside": float(guaranteed[c]),
            "member_names": "; ".join(named(ids[m], names[m], width=24) for m in members),
            "cycle_named": _cycle(int(members[0]), src[edges[c]], dst[edges[c]], ids, names),
        })
    return pd.DataFrame(rows, columns=CIRCLE_COLUMNS).sort_values("circle_id").reset_index(
        drop=True)


def _cycle(start: int, src: np.ndarray, dst: np.ndarray, ids: np.ndarray,
           names: np.ndarray | None = None) -> str:
    """A readable cycle through the circle from its smallest member: ``A → B → C → A``."""
    import networkx as nx

    g = nx.DiGraph(zip(src.tolist(), dst.tolist(), strict=True))
    cycle = nx.find_cycle(g, source=start)
    nodes = [start] + [int(v) for _, v in cycle]
    if nodes[-1] != start:  # find_cycle may return a cycle not through start: close it
        nodes = [int(u) for u, _ in cycle] + [int(cycle[0][0])]
    if names is None:
        return " → ".join(str(ids[v]) for v in nodes)
    return " → ".join(named(ids[v], names[v], width=24) for v in nodes)
