"""Read Open Ownership's Beneficial Ownership Data Standard (BODS 0.4, JSON).

A BODS file is a list of statements about *records* (entities, persons, relationships); a record
changes over time (``recordStatus`` new, updated, closed). The picture on a date ``as_of`` is built
from each record's latest statement dated on or before it (a closed record is gone) and, within a
relationship, the interests that have started and not ended (``startDate <= as_of < endDate``).
Without ``as_of`` the latest statement of every record counts and interests ended by today are out.

What each part becomes:

- persons: ``individual`` entities; entities by ``entityType``: registeredEntity/legalEntity
  ``corporate``, state ``sovereign``, stateBody ``public_sector``, arrangement, anonymous and unknown
  entities ``other``. The id is the LEI (identifier scheme ``XI-LEI``) where there is one, else the
  record id. Anonymous and unknown parties, and interested parties the file leaves unspecified
  (``{"reason": ...}``), are kept as entities and listed in the notes.
- direct interests (``directOrIndirect`` direct or unknown) of one relationship make one link:
  ``shareholding`` gives ``share``, ``votingRights`` gives ``voting`` (percent in the file, fractions
  here), ``appointmentOfBoard``, ``otherInfluenceOrControl``, ``controlViaCompanyRulesOrArticles`` and
  ``controlByLegalFramework`` give ``control``. Other interests (board member, trustee, nominee, ...)
  are kept in ``interests`` and give no control.
- a share given as a range keeps both bounds: ``share``/``voting`` hold the lower bound (control is
  decided on it), ``share_max``/``voting_max`` the upper one; :func:`groupexposure.analyze` warns of
  *possible control* where only the upper bound passes the threshold. An exclusive minimum ("more
  than 50%") is read as the next number above it (``numpy.nextafter``), so it passes a 50% threshold.
- indirect interests are declarations, not links: ``indirect_share`` (with its bounds) or
  ``indirect_control``, compared by :func:`groupexposure.analyze` with what it computes.

Examples
--------
Two people hold half each on 2019-12-31; one of them all of it from 2022-01-21 (as in the BODS
example ``fermcat.json``):

>>> def st(sid, day, rid, rtype, status="new", **details):
...     return {"statementId": sid, "statementDate": day, "recordId": rid, "recordType": rtype,
...             "recordStatus": status, "recordDetails": details}
>>> def holding(pct, start, end=None):
...     out = {"type": "shareholding", "directOrIndirect": "direct", "share": {"exact": pct},
...            "startDate": start}
...     return out | ({"endDate": end} if end else {})
>>> statements = [
...     st("s1", "2019-09-11", "co", "entity", name="Fermcat Ltd",
...        entityType={"type": "registeredEntity"}),
...     st("s2", "2019-09-11", "pa", "person", names=[{"fullName": "Patrick"}]),
...     st("s3", "2019-09-11", "ri", "person", names=[{"fullName": "Riyadh"}]),
...     st("s4", "2019-09-11", "r1", "relationship", subject="co", interestedParty="pa",
...        interests=[holding(50, "2019-09-11")]),
...     st("s5", "2019-09-11", "r2", "relationship", subject="co", interestedParty="ri",
...        interests=[holding(50, "2019-09-11")]),
...     st("s6", "2022-01-21", "r1", "relationship", "updated", subject="co",
...        interestedParty="pa", interests=[holding(100, "2019-09-11")]),
...     st("s7", "2022-01-21", "r2", "relationship", "closed", subject="co",
...        interestedParty="ri", interests=[holding(50, "2019-09-11", "2022-01-21")]),
... ]
>>> read_bods(statements, as_of="2019-12-31").ownership[["owner_id", "owned_id", "share"]]
  owner_id owned_id  share
0       pa       co    0.5
1       ri       co    0.5
>>> read_bods(statements).ownership[["owner_id", "share"]].to_dict("records")
[{'owner_id': 'pa', 'share': 1.0}]
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..model.issues import Problem, issues_frame
from .external import ExternalOwnership, as_date

__all__ = ["CONTROL_INTERESTS", "read_bods"]

CONTROL_INTERESTS = frozenset({"appointmentOfBoard", "otherInfluenceOrControl",
                               "controlViaCompanyRulesOrArticles", "controlByLegalFramework"})
"""BODS interest types read as control by other means (SPEC §1 ``control``)."""
_ENTITY_KINDS = {"registeredEntity": "corporate", "legalEntity": "corporate", "state": "sovereign",
                 "stateBody": "public_sector", "arrangement": "other", "anonymousEntity": "other",
                 "unknownEntity": "other"}
_UNKNOWN_PARTY = frozenset({"anonymousEntity", "unknownEntity", "anonymousPerson", "unknownPerson"})


def _date(text: Any) -> dt.date | None:
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _bounds(share: dict[str, Any] | None) -> tuple[float, float]:
    """(lower, upper) fraction of a BODS share object; NaN where the file gives none."""
    if not share:
        return np.nan, np.nan
    if "exact" in share:
        v = float(share["exact"]) / 100
        return v, v
    low = np.nan
    if "minimum" in share:
        low = float(share["minimum"]) / 100
    elif "exclusiveMinimum" in share:
        low = float(np.nextafter(float(share["exclusiveMinimum"]) / 100, np.inf))
    high = share.get("maximum", share.get("exclusiveMaximum"))
    return low, (float(high) / 100 if high is not None else np.nan)


def _latest(statements: list[dict[str, Any]], as_of: dt.date | None) -> dict[str, dict[str, Any]]:
    """Each record's latest statement on or before ``as_of`` (file order breaks ties)."""
    latest: dict[str, tuple[dt.date, int, dict[str, Any]]] = {}
    for pos, st in enumerate(statements):
        rid, when = st.get("recordId"), _date(st.get("statementDate")) or dt.date.min
        if rid is None or (as_of is not None and when > as_of):
            continue
        if rid not in latest or (when, pos) >= latest[rid][:2]:
            latest[rid] = (when, pos, st)
    return {rid: st for rid, (_, _, st) in latest.items()}


class _Reader:
    def __init__(self, source: str, as_of: dt.date | None) -> None:
        self.source, self.as_of = source, as_of
        self.today = as_of or dt.date.today()
        self.entities: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self.declarations: list[dict[str, Any]] = []
        self.notes: list[Problem] = []
        self.ids: dict[str, str] = {}

    def note(self, severity: str, code: str, key: str, value: str, message: str) -> None:
        self.notes.append(Problem(severity, code, "ownership", None, key,  # type: ignore[arg-type]
                                  "", value, f"{self.source}: {message}"))

    def party(self, st: dict[str, Any]) -> None:
        rid, details = st["recordId"], st.get("recordDetails", {})
        if st["recordType"] == "person":
            kind, party_type = "individual", details.get("personType", "knownPerson")
            names = details.get("names") or []
            name = names[0].get("fullName") if names else None
            country = next((n.get("code") for n in details.get("nationalities") or []), None)
            unspecified = details.get("unspecifiedPersonDetails")
        else:
            party_type = (details.get("entityType") or {}).get("type", "registeredEntity")
            kind, name = _ENTITY_KINDS.get(party_type, "other"), details.get("name")
            country = (details.get("jurisdiction") or {}).get("code")
            unspecified = details.get("unspecifiedEntityDetails")
        lei = next((i.get("id") for i in details.get("identifiers") or []
                    if i.get("scheme") == "XI-LEI" and i.get("id")), None)
        self.ids[rid] = lei or rid
        if party_type in _UNKNOWN_PARTY:
            why = (unspecified or {}).get("reason", "no reason given")
            desc = (unspecified or {}).get("description")
            name = name or f"({party_type}: {why})"
            self.note("info", "unknown_party", f"record {rid}", party_type,
                      f"record {rid} is an {party_type} ({why}{': ' + desc if desc else ''}); "
                      "kept as an entity")
        self.entities.append({"entity_id": lei or rid, "name": name, "kind": kind,
                              "country": country, "lei": lei, "record_id": rid,
                              "party_type": party_type})

    def interested_party(self, rel: dict[str, Any], rid: str) -> str:
        party = rel.get("interestedParty")
        if isinstance(party, str):
            if party not in self.ids:
                self.ids[party] = party
                self.entities.append({"entity_id": party, "name": None, "kind": "other",
                                      "country": None, "lei": None, "record_id": party,
                                      "party_type": "undescribed"})
                self.note("warning", "unknown_party", f"record {party}", party,
                          f"relationship {rid} names interested party {party}, which the file "
                          "does not describe (on this date); kept as an entity of kind other")
            return self.ids[party]
        why = (party or {}).get("reason", "unspecified")
        pid = f"{rid}:interestedParty"
        self.ids[pid] = pid
        self.entities.append({"entity_id": pid, "name": f"(unspecified: {why})", "kind": "other",
                              "country": None, "lei": None, "record_id": rid,
                              "party_type": "unspecified"})
        desc = (party or {}).get("description")
        self.note("info", "unknown_party", f"record {rid}", why,
                  f"relationship {rid} leaves its interested party unspecified ({why}"
                  f"{': ' + desc if desc else ''}); kept as entity {pid}")
        return pid

    def active(self, interest: dict[str, Any]) -> bool:
        start, end = _date(interest.get("startDate")), _date(interest.get("endDate"))
        if self.as_of is not None and start is not None and start > self.as_of:
            return False
        return end is None or end > self.today

    def relationship(self, st: dict[str, Any]) -> None:
        rid, rel = st["recordId"], st.get("recordDetails", {})
        subject = rel.get("subject")
        subject_id = self.ids.get(subject, subject) if isinstance(subject, str) else None
        if subject_id is None:
            self.note("warning", "unknown_party", f"record {rid}", str(subject),
                      f"relationship {rid} has no subject entity; left out")
            return
        owner = self.interested_party(rel, rid)
        interests = [i for i in rel.get("interests") or [] if self.active(i)]
        direct = [i for i in interests if i.get("directOrIndirect") != "indirect"]
        for i in interests:
            if i.get("directOrIndirect") == "indirect":
                self.declare(i, subject_id, owner, rid)
        share = [_bounds(i.get("share")) for i in direct if i.get("type") == "shareholding"]
        voting = [_bounds(i.get("share")) for i in direct if i.get("type") == "votingRights"]
        control = any(i.get("type") in CONTROL_INTERESTS for i in direct)
        if not direct and interests:
            return  # only indirect interests: declarations, not a link
        if not interests and rel.get("interests"):
            return  # every interest has ended or not yet begun on this date
        low, high = _sum(share)
        vlow, vhigh = _sum(voting)
        self.links.append({
            "owner_id": owner, "owned_id": subject_id, "share": low, "voting": vlow,
            "control": control, "share_max": high, "voting_max": vhigh,
            "interests": ";".join(sorted({str(i.get("type", "unknown")) for i in direct}))
            or "unknown",
            "start_date": min((d for i in direct if (d := _date(i.get("startDate")))),
                              default=None),
            "end_date": min((d for i in direct if (d := _date(i.get("endDate")))), default=None),
            "record_id": rid})

    def declare(self, interest: dict[str, Any], subject: str, party: str, rid: str) -> None:
        low, high = _bounds(interest.get("share"))
        kind = interest.get("type")
        if kind == "shareholding" and not np.isnan(low):
            self.declarations.append({"kind": "indirect_share", "subject_id": subject,
                                      "party_id": party, "share": low, "share_max": high,
                                      "record_id": rid})
        elif kind in CONTROL_INTERESTS or (kind == "votingRights" and not np.isnan(low)):
            self.declarations.append({"kind": "indirect_control", "subject_id": subject,
                                      "party_id": party, "share": low, "share_max": high,
                                      "record_id": rid})
        else:
            self.note("info", "declaration_kept", f"record {rid}", str(kind),
                      f"relationship {rid} declares an indirect {kind} interest of {party} in "
                      f"{subject} without a share; nothing to compare it with")


def _sum(bounds: list[tuple[float, float]]) -> tuple[float, float]:
    """Several interests of one type (share classes) add up; NaN when none gives a value."""
    if not bounds:
        return np.nan, np.nan
    lows = [b[0] for b in bounds if not np.isnan(b[0])]
    highs = [b[1] for b in bounds]
    return (min(sum(lows), 1.0) if lows else np.nan,
            np.nan if any(np.isnan(h) for h in highs) else min(sum(highs), 1.0))


def read_bods(path: str | Path | list[dict[str, Any]], *,
              as_of: str | dt.date | None = None) -> ExternalOwnership:
    """The entities, ownership links and declarations of a BODS 0.4 JSON file (see module notes).

    ``path`` is a JSON file (a list of statements) or the statements themselves. ``as_of`` (a date
    or ``YYYY-MM-DD``) gives the picture on that date; without it, the latest.
    """
    when = as_date(as_of)
    if isinstance(path, list):
        statements, name = path, "BODS statements"
    else:
        statements, name = _load(Path(path)), Path(path).name
    old = [st for st in statements if "recordType" not in st and "statementType" in st]
    if old:
        raise ValueError(
            f"{name}: {len(old)} statements use statementType (BODS 0.2/0.3); this reader reads "
            "BODS 0.4 (recordId, recordType, recordDetails)")
    reader = _Reader(name, when)
    latest = _latest(statements, when)
    closed = {rid for rid, st in latest.items() if st.get("recordStatus") == "closed"}
    for rid in sorted(closed):
        st = latest[rid]
        reader.note("info", "closed_record", f"record {rid}", str(st.get("statementDate")),
                    f"{st.get('recordType')} record {rid} was closed on "
                    f"{str(st.get('statementDate'))[:10]}; left out")
    live = [st for rid, st in latest.items() if rid not in closed]
    for st in live:
        if st.get("recordType") in ("entity", "person"):
            reader.party(st)
    for st in live:
        if st.get("recordType") == "relationship":
            reader.relationship(st)
    entities = pd.DataFrame(reader.entities)
    if len(entities):
        entities = entities.drop_duplicates("entity_id")
    links = pd.DataFrame(reader.links)
    return ExternalOwnership(entities=entities, ownership=_combine(links) if len(links) else links,
                             declarations=pd.DataFrame(reader.declarations),
                             notes=issues_frame(reader.notes), source=name)


def _load(path: Path) -> list[dict[str, Any]]:
    """Statements from a JSON array (or an object with ``statements``) or JSON Lines."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as first:
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError:
            raise ValueError(f"{path.name} is neither JSON nor JSON Lines: {first}") from None
    if isinstance(data, list):
        return data
    return list(data.get("statements", [data])) if isinstance(data, dict) else []


def _combine(links: pd.DataFrame) -> pd.DataFrame:
    """Two relationship records between the same parties make one link (shares add up)."""
    if not links.duplicated(["owner_id", "owned_id"]).any():
        return links
    agg: dict[str, Any] = {"share": lambda s: s.sum(min_count=1), "voting": lambda s: s.sum(min_count=1),
           "share_max": lambda s: s.sum(min_count=1), "voting_max": lambda s: s.sum(min_count=1),
           "control": "any", "interests": lambda s: ";".join(sorted(set(";".join(s).split(";")))),
           "start_date": "min", "end_date": "min", "record_id": ";".join}
    return links.groupby(["owner_id", "owned_id"], as_index=False, sort=False).agg(agg)
