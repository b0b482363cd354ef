"""Ownership read from outside the bank (BODS, GLEIF), and merging it into a portfolio.

:func:`groupexposure.read_bods` and :func:`groupexposure.read_gleif` return an
:class:`ExternalOwnership`: the entities, links and declarations a file describes, with the file's
own ids. :func:`merge_ownership` joins it to the bank's tables: a file entity whose ``lei`` (or id)
the bank knows takes the bank's ``entity_id``; the others are added with the file's names and kinds
(id: the LEI where there is one, else the file's record id). Nothing is dropped silently: what the
merge leaves out is listed in the portfolio's problems as ``info``.

Links from a file may lack a share (a GLEIF consolidation without a percentage, a BODS "other
influence or control"): they carry control, and add nothing to look-through (SPEC §4). Such rows have
a ``source``; a blank ``share`` is an error only where ``source`` is blank (the bank's own rows).

Examples
--------
>>> import pandas as pd, groupexposure as gx
>>> ext = ExternalOwnership(
...     entities=pd.DataFrame({"entity_id": ["LEI-P", "LEI-S"], "name": ["Parent", "Sub"],
...                            "kind": ["corporate", "corporate"], "lei": ["LEI-P", "LEI-S"]}),
...     ownership=pd.DataFrame({"owner_id": ["LEI-P"], "owned_id": ["LEI-S"], "share": [None],
...                             "control": [True]}),
...     source="example")
>>> book = gx.Portfolio.from_frames(
...     entities=pd.DataFrame({"entity_id": ["S1"], "lei": ["LEI-S"]}),
...     facilities=pd.DataFrame({"facility_id": ["F1"], "obligor_id": ["S1"], "drawn": [10.0]}),
...     capital={"tier1": 100.0})
>>> merged = merge_ownership(book, ext)
>>> merged.ownership[["owner_id", "owned_id", "control", "source"]].to_dict("records")
[{'owner_id': 'LEI-P', 'owned_id': 'S1', 'control': True, 'source': 'example'}]
>>> sorted(merged.entities["entity_id"])
['LEI-P', 'S1']
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..model.issues import Problem, issues_frame
from ..model.portfolio import Portfolio

__all__ = [
    "DECLARATION_COLUMNS",
    "ENTITY_COLUMNS",
    "LINK_COLUMNS",
    "ExternalOwnership",
    "as_date",
    "merge_ownership",
    "read_ownership",
]

ENTITY_COLUMNS = ["entity_id", "name", "kind", "country", "lei", "record_id", "party_type", "source"]
LINK_COLUMNS = ["owner_id", "owned_id", "share", "voting", "control", "share_max", "voting_max",
                "interests", "start_date", "end_date", "record_id", "source"]
CONNECTION_COLUMNS = ["dependent_id", "depends_on_id", "kind", "mutual", "record_id", "source"]
DECLARATION_COLUMNS = ["kind", "subject_id", "party_id", "share", "share_max", "record_id",
                       "source"]
"""``kind``: ``ultimate_parent`` (party is the subject's declared ultimate parent),
``indirect_share`` (party holds share..share_max of the subject through others), or
``indirect_control`` (party controls the subject through others)."""


def _frame(data: pd.DataFrame | None, cols: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(columns=cols) if data is None else data.copy()
    for col in cols:
        if col not in frame:
            frame[col] = None
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class ExternalOwnership:
    """Entities, links and declarations from one external file, with the file's own ids.

    ``entities`` (:data:`ENTITY_COLUMNS`), ``ownership`` (:data:`LINK_COLUMNS`: the bounds of a range
    in ``share``..``share_max``, control decided on the lower bound), ``connections`` (feeder funds),
    ``declarations`` (:data:`DECLARATION_COLUMNS`: what the file states but the library computes
    itself, checked by :func:`groupexposure.analyze`), ``exceptions`` (GLEIF reporting exceptions:
    ``entity_id, category, reason``) and ``notes``: the issues table of what was read, left out or
    recorded (unknown parties, closed records, inactive relationships).
    """

    entities: pd.DataFrame
    ownership: pd.DataFrame
    source: str
    connections: pd.DataFrame = field(default_factory=lambda: _frame(None, CONNECTION_COLUMNS))
    declarations: pd.DataFrame = field(default_factory=lambda: _frame(None, DECLARATION_COLUMNS))
    exceptions: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["entity_id", "category", "reason"]))
    notes: pd.DataFrame = field(default_factory=lambda: issues_frame([]))

    def __post_init__(self) -> None:
        for name, cols in (("entities", ENTITY_COLUMNS), ("ownership", LINK_COLUMNS),
                           ("connections", CONNECTION_COLUMNS),
                           ("declarations", DECLARATION_COLUMNS)):
            object.__setattr__(self, name, _frame(getattr(self, name), cols))
        for name in ("ownership", "connections", "declarations"):
            frame = getattr(self, name)
            frame["source"] = frame["source"].fillna(self.source)

    def __repr__(self) -> str:
        return (f"ExternalOwnership({self.source}: {len(self.entities)} entities, "
                f"{len(self.ownership)} links, {len(self.connections)} connections, "
                f"{len(self.declarations)} declarations, {len(self.exceptions)} exceptions, "
                f"{len(self.notes)} notes)")


def as_date(value: str | dt.date | None) -> dt.date | None:
    """``as_of`` as a date; a text that is not ``YYYY-MM-DD`` is refused with what was given."""
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"as_of must be a date written YYYY-MM-DD; got {value!r}") from None


def read_ownership(path: str | Path, *, as_of: str | None = None,
                   include_funds: bool = False) -> ExternalOwnership:
    """A BODS JSON file or a GLEIF relationship file (CSV or XML), told apart by content."""
    from .bods import read_bods
    from .gleif import read_gleif

    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(4096).lstrip()
    if head.startswith((b"[", b"{")):
        return read_bods(path, as_of=as_of)
    return read_gleif(path, include_funds=include_funds, as_of=as_of)


def _id_map(bank: pd.DataFrame, file_entities: pd.DataFrame) -> pd.Series:
    """File entity id -> bank entity id (by lei first, then by id), or the file's own id."""
    ids = file_entities["entity_id"].astype(str)
    out = pd.Series(ids.to_numpy(), index=ids.to_numpy())
    if "lei" in bank and bank["lei"].notna().any():
        by_lei = bank.dropna(subset=["lei"]).drop_duplicates("lei").set_index(
            bank.dropna(subset=["lei"]).drop_duplicates("lei")["lei"].astype(str))["entity_id"]
        leis = file_entities["lei"].astype(object)
        hit = leis.notna() & leis.astype(str).isin(by_lei.index)
        out[hit.to_numpy()] = by_lei.reindex(leis[hit].astype(str)).astype(str).to_numpy()
    return out


def merge_ownership(portfolio: Portfolio, *sources: ExternalOwnership) -> Portfolio:
    """The portfolio with the entities, links and declarations of ``sources`` joined in.

    File entities are matched to the bank's by ``lei``, else by ``entity_id``; unmatched ones are
    added. A link the bank's ownership table already has (same owner and owned) keeps the bank's row;
    the file's is listed as ``info``. An ownership table the directory lacks is then not required:
    the files stand in for it.
    """
    entities = portfolio.entities.copy()
    ownership = portfolio.ownership.copy()
    connections = portfolio.connections.copy()
    declarations = [portfolio.declarations] if portfolio.declarations is not None else []
    problems = [p for p in portfolio.problems
                if not (p.code == "missing_file" and p.table == "ownership")]
    notes = []
    for ext in sources:
        ids = _id_map(entities, ext.entities)
        mapped = ext.entities.assign(entity_id=ext.entities["entity_id"].map(ids))
        known = set(entities["entity_id"].dropna().astype(str))
        new = mapped[~mapped["entity_id"].isin(known)].drop_duplicates("entity_id")
        entities = pd.concat([entities, new[["entity_id", "name", "kind", "country", "lei"]]
                              .assign(source=ext.source)], ignore_index=True)

        def _map(col: pd.Series, ids: pd.Series = ids) -> pd.Series:
            return col.map(lambda v: ids.get(v, v) if isinstance(v, str) else v)

        links = ext.ownership.assign(owner_id=_map(ext.ownership["owner_id"]),
                                     owned_id=_map(ext.ownership["owned_id"]))
        have = pd.MultiIndex.from_frame(ownership[["owner_id", "owned_id"]].astype(str))
        dup = pd.MultiIndex.from_frame(links[["owner_id", "owned_id"]].astype(str)).isin(have)
        for rec in links[dup].to_dict("records"):
            notes.append(Problem(
                "info", "link_already_given", "ownership", None,
                f"owner_id={rec['owner_id']}, owned_id={rec['owned_id']}", "share",
                _num(rec["share"]),
                f"the bank's ownership table already has {rec['owner_id']} → {rec['owned_id']}; "
                f"the link in {ext.source} (record {rec['record_id']}) is left out"))
        ownership = pd.concat([ownership, links[~dup]], ignore_index=True)
        connections = pd.concat([connections, ext.connections.assign(
            dependent_id=_map(ext.connections["dependent_id"]),
            depends_on_id=_map(ext.connections["depends_on_id"]))], ignore_index=True)
        declarations.append(ext.declarations.assign(subject_id=_map(ext.declarations["subject_id"]),
                                                    party_id=_map(ext.declarations["party_id"])))
        notes.extend(_problems(ext.notes))
    decl = (pd.concat(declarations, ignore_index=True) if declarations
            else _frame(None, DECLARATION_COLUMNS))
    sources_text = ", ".join(ext.source for ext in sources)
    names = dict(portfolio.sources)
    for table in ("entities", "ownership"):
        names[table] = f"{names.get(table, table + '.csv')} + {sources_text}"
    return dataclasses.replace(
        portfolio, entities=entities.reset_index(drop=True), ownership=ownership,
        connections=connections, declarations=decl, sources=names,
        problems=tuple(problems + notes))


def _num(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:g}"


def _problems(frame: pd.DataFrame) -> list[Problem]:
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [Problem(r["severity"], r["code"], r["table"], None if r["row"] is None else int(r["row"]),
                    r["key"] or "", r["column"] or "", r["value"] or "", r["message"])
            for r in rows]
