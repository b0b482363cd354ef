"""Read GLEIF Level 2 "who owns whom" data: relationship records (RR) in GLEIF's CSV and XML formats,
LEI records for names and kinds, and reporting exceptions.

A relationship record says that its *start node* (the child LEI) is related to its *end node*:

- ``IS_DIRECTLY_CONSOLIDATED_BY``: the parent consolidates the child in its accounts, which needs
  control (IFRS 10, US GAAP ASC 810): a ``control`` link parent → child. Its share is the
  ``ACCOUNTING_CONSOLIDATION`` quantifier where given, else blank (unknown, never guessed).
  Percentages are read as written when above 1 (``100.00`` → 100%); an amount of at most 1 is the
  fraction some LOUs publish (``1.00`` → 100%), noted as ``info`` each time.
- ``IS_ULTIMATELY_CONSOLIDATED_BY``: the child's *declared* ultimate parent, kept as a declaration
  and compared by :func:`groupexposure.analyze` with the top of the computed chain.
- ``IS_INTERNATIONAL_BRANCH_OF``: a branch is the head office itself in another country: a control
  link head office → branch with share 1.
- ``IS_FUND-MANAGED_BY``, ``IS_SUBFUND_OF``, ``IS_FEEDER_TO``: left out unless
  ``include_funds=True``; then the manager and the umbrella fund get a ``control`` link (blank share)
  and a feeder an ``economic_dependence`` connection on its master fund.
- Relationships with ``RelationshipStatus`` INACTIVE, or registrations ANNULLED or RETIRED, are left
  out and noted; with ``as_of``, relationships whose ``RELATIONSHIP_PERIOD`` has not begun or has
  ended are too.
- Reporting exceptions (why a child reports no parent) are kept in ``exceptions`` and noted.

Examples
--------
>>> import io
>>> csv = io.StringIO(
...     "Relationship.StartNode.NodeID,Relationship.EndNode.NodeID,Relationship.RelationshipType,"
...     "Relationship.RelationshipStatus,Relationship.Qualifiers.1.MeasurementMethod,"
...     "Relationship.Qualifiers.1.QuantifierAmount,Relationship.Qualifiers.1.QuantifierUnits\\n"
...     "CHILD,PARENT,IS_DIRECTLY_CONSOLIDATED_BY,ACTIVE,ACCOUNTING_CONSOLIDATION,100.00,PERCENTAGE\\n"
...     "CHILD,PARENT,IS_ULTIMATELY_CONSOLIDATED_BY,ACTIVE,,,\\n"
...     "FUND,MANAGER,IS_FUND-MANAGED_BY,ACTIVE,,,\\n")
>>> gl = read_gleif(csv)
>>> gl.ownership[["owner_id", "owned_id", "share", "control"]].to_dict("records")
[{'owner_id': 'PARENT', 'owned_id': 'CHILD', 'share': 1.0, 'control': True}]
>>> gl.declarations[["kind", "subject_id", "party_id"]].to_dict("records")
[{'kind': 'ultimate_parent', 'subject_id': 'CHILD', 'party_id': 'PARENT'}]
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from ..model.issues import Problem, issues_frame
from .external import ExternalOwnership, as_date

__all__ = ["read_gleif"]

Source = str | Path | IO[str] | IO[bytes]
_FUND_TYPES = ("IS_FUND-MANAGED_BY", "IS_SUBFUND_OF", "IS_FEEDER_TO")
_KINDS = {"FUND": "fund", "BRANCH": "corporate", "SOLE_PROPRIETOR": "individual",
          "RESIDENT_GOVERNMENT_ENTITY": "public_sector", "INTERNATIONAL_ORGANIZATION": "other",
          "GENERAL": "corporate"}
_RR_COLUMNS = ["child", "parent", "type", "status", "registration", "start", "end", "method",
               "amount", "units", "row"]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _open(source: Source) -> tuple[IO[bytes] | IO[str], str]:
    if isinstance(source, str | Path):
        return open(source, "rb"), Path(source).name
    return source, getattr(source, "name", "GLEIF data")


def _kind_of(source: Source) -> str:
    """``xml-rr``, ``xml-lei``, ``xml-repex``, ``csv-rr``, ``csv-lei`` or ``csv-repex``."""
    fh, _ = _open(source)
    head = fh.read(4096)
    if isinstance(source, str | Path):
        fh.close()
    else:
        fh.seek(0)
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
    if text.lstrip("\ufeff \r\n\t").startswith("<"):
        for root, kind in (("RelationshipData", "xml-rr"), ("LEIData", "xml-lei"),
                           ("ReportingExceptionData", "xml-repex")):
            if root in text:
                return kind
        raise ValueError("an XML file that is neither GLEIF relationship (RR-CDF), LEI-CDF nor "
                         "reporting-exception data")
    first = text.splitlines()[0] if text else ""
    if "Relationship.StartNode.NodeID" in first:
        return "csv-rr"
    if "ExceptionCategory" in first:
        return "csv-repex"
    if "Entity.LegalName" in first:
        return "csv-lei"
    raise ValueError(f"not a GLEIF file: its first line is {first[:120]!r}")


def _records(source: Source, record: str) -> Iterator[dict[str, Any]]:
    """Each ``record`` element as a flat dict of ``path/to/leaf`` → text (streamed)."""
    fh, _ = _open(source)
    try:
        for _event, elem in ET.iterparse(fh, events=("end",)):
            if _local(elem.tag) != record:
                continue
            flat: dict[str, Any] = {}
            _flatten(elem, "", flat)
            yield flat
            elem.clear()
    finally:
        if isinstance(source, str | Path):
            fh.close()


def _flatten(elem: ET.Element, prefix: str, out: dict[str, Any]) -> None:
    children = list(elem)
    if not children:
        out.setdefault(prefix.lstrip("/"), elem.text)
        return
    for child in children:
        name = _local(child.tag)
        if name in ("RelationshipPeriod", "RelationshipQuantifier", "RelationshipQualifier"):
            out.setdefault(name, []).append({_local(c.tag): c.text for c in child})
        else:
            _flatten(child, f"{prefix}/{name}", out)


def _rr_xml(source: Source) -> pd.DataFrame:
    rows = []
    for pos, rec in enumerate(_records(source, "RelationshipRecord"), start=1):
        period: dict[str, Any] = next((p for p in rec.get("RelationshipPeriod", [])
                       if p.get("PeriodType") == "RELATIONSHIP_PERIOD"), {})
        quant: dict[str, Any] = next((q for q in rec.get("RelationshipQuantifier", [])
                      if q.get("MeasurementMethod") == "ACCOUNTING_CONSOLIDATION"), {})
        rows.append([rec.get("Relationship/StartNode/NodeID"), rec.get("Relationship/EndNode/NodeID"),
                     rec.get("Relationship/RelationshipType"),
                     rec.get("Relationship/RelationshipStatus"),
                     rec.get("Registration/RegistrationStatus"), period.get("StartDate"),
                     period.get("EndDate"), quant.get("MeasurementMethod"),
                     quant.get("QuantifierAmount"), quant.get("QuantifierUnits"), pos])
    return pd.DataFrame(rows, columns=_RR_COLUMNS)


def _rr_csv(source: Source) -> pd.DataFrame:
    raw = pd.read_csv(source, dtype=str, keep_default_na=False, na_values=[""])
    p = "Relationship."
    out = pd.DataFrame({
        "child": raw[p + "StartNode.NodeID"], "parent": raw[p + "EndNode.NodeID"],
        "type": raw[p + "RelationshipType"], "status": raw.get(p + "RelationshipStatus"),
        "registration": raw.get("Registration.RegistrationStatus"),
    })
    start = pd.Series(None, index=raw.index, dtype=object)
    end = pd.Series(None, index=raw.index, dtype=object)
    for k in range(1, 6):
        col = f"{p}Period.{k}."
        if col + "periodType" not in raw:
            continue
        hit = (raw[col + "periodType"] == "RELATIONSHIP_PERIOD") & start.isna() & end.isna()
        start[hit] = raw.loc[hit, col + "startDate"] if col + "startDate" in raw else None
        end[hit] = raw.loc[hit, col + "endDate"] if col + "endDate" in raw else None
    method = pd.Series(None, index=raw.index, dtype=object)
    amount = pd.Series(None, index=raw.index, dtype=object)
    units = pd.Series(None, index=raw.index, dtype=object)
    for k in range(1, 6):
        col = f"{p}Qualifiers.{k}."  # GLEIF's CSV names the quantifier columns "Qualifiers"
        if col + "MeasurementMethod" not in raw:
            continue
        hit = (raw[col + "MeasurementMethod"] == "ACCOUNTING_CONSOLIDATION") & method.isna()
        method[hit] = "ACCOUNTING_CONSOLIDATION"
        amount[hit] = raw.loc[hit, col + "QuantifierAmount"]
        units[hit] = raw.loc[hit, col + "QuantifierUnits"]
    out["start"], out["end"], out["method"], out["amount"], out["units"] = (start, end, method,
                                                                           amount, units)
    out["row"] = np.arange(1, len(out) + 1)
    return out[_RR_COLUMNS]


def _dates(values: pd.Series) -> pd.Series:
    """GLEIF dates (ISO with any offset, or epoch milliseconds in older CSV) as ``datetime.date``."""
    text = values.astype(object).where(values.notna(), None)
    out = pd.Series(None, index=values.index, dtype=object)
    millis = text.str.fullmatch(r"\d{10,14}").fillna(False).astype(bool)
    if millis.any():
        out[millis] = pd.to_datetime(text[millis].astype("int64"), unit="ms", utc=True).dt.date
    iso = text.notna() & ~millis
    if iso.any():
        out[iso] = pd.to_datetime(text[iso], utc=True, format="ISO8601").dt.date
    return out


def _share(rr: pd.DataFrame, notes: list[Problem], name: str) -> pd.Series:
    amount = pd.to_numeric(rr["amount"], errors="coerce")
    fraction = amount.where(amount > 1, amount * 100) / 100
    small = amount.notna() & (amount <= 1)
    for rec in rr[small].to_dict("records"):
        notes.append(Problem(
            "info", "percentage_as_fraction", "ownership", None,
            f"owner_id={rec['parent']}, owned_id={rec['child']}", "share", str(rec["amount"]),
            f"{name} record {rec['row']}: consolidation percentage {rec['amount']} "
            f"{rec['units'] or ''} read as the fraction {float(rec['amount']):g} "
            f"({float(rec['amount']) * 100:g}%)".replace("  ", " ")))
    return fraction


def _relationships(rr: pd.DataFrame, name: str, *, include_funds: bool,
                   as_of: dt.date | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame,
                                                   list[Problem]]:
    notes: list[Problem] = []

    def note(mask: pd.Series, code: str, why: str) -> None:
        for rec in rr[mask].to_dict("records"):
            notes.append(Problem("info", code, "ownership", None,
                                 f"owner_id={rec['parent']}, owned_id={rec['child']}", "",
                                 str(rec["type"]),
                                 f"{name} record {rec['row']}: {rec['child']} {rec['type']} "
                                 f"{rec['parent']}: {why}; left out"))

    keep = pd.Series(True, index=rr.index)
    inactive = rr["status"].fillna("ACTIVE").str.upper() != "ACTIVE"
    note(inactive, "inactive_relationship", "the relationship is not ACTIVE")
    keep &= ~inactive
    void = rr["registration"].fillna("").str.upper().isin(["ANNULLED", "RETIRED"]) & keep
    note(void, "void_registration", "the registration was annulled or retired")
    keep &= ~void
    if as_of is not None:
        start, end = _dates(rr["start"]), _dates(rr["end"])
        outside = keep & ((start.notna() & (start > as_of)) | (end.notna() & (end <= as_of)))
        note(outside, "outside_period", f"its relationship period does not cover {as_of}")
        keep &= ~outside
    funds = rr["type"].isin(_FUND_TYPES) & keep
    if not include_funds:
        note(funds, "fund_relationship", "a fund relationship (read with include_funds=True)")
        keep &= ~funds
    known = rr["type"].isin(["IS_DIRECTLY_CONSOLIDATED_BY", "IS_ULTIMATELY_CONSOLIDATED_BY",
                             "IS_INTERNATIONAL_BRANCH_OF", *_FUND_TYPES])
    note(keep & ~known, "unknown_relationship", "a relationship type this reader does not know")
    keep &= known
    rr = rr[keep]
    share = _share(rr, notes, name)
    direct = rr["type"] == "IS_DIRECTLY_CONSOLIDATED_BY"
    branch = rr["type"] == "IS_INTERNATIONAL_BRANCH_OF"
    managed = rr["type"].isin(["IS_FUND-MANAGED_BY", "IS_SUBFUND_OF"])
    links = rr[direct | branch | managed]
    ownership = pd.DataFrame({
        "owner_id": links["parent"], "owned_id": links["child"],
        "share": np.where(branch[links.index], 1.0, share[links.index]),
        "control": True, "interests": links["type"],
        "start_date": _dates(links["start"]), "end_date": _dates(links["end"]),
        "record_id": "record " + links["row"].astype(str)})
    feeder = rr[rr["type"] == "IS_FEEDER_TO"]
    connections = pd.DataFrame({
        "dependent_id": feeder["child"], "depends_on_id": feeder["parent"],
        "kind": "economic_dependence", "mutual": False,
        "record_id": "record " + feeder["row"].astype(str)})
    ultimate = rr[rr["type"] == "IS_ULTIMATELY_CONSOLIDATED_BY"]
    declarations = pd.DataFrame({
        "kind": "ultimate_parent", "subject_id": ultimate["child"],
        "party_id": ultimate["parent"], "share": share[ultimate.index],
        "share_max": share[ultimate.index],
        "record_id": "record " + ultimate["row"].astype(str)})
    dup = ownership.duplicated(["owner_id", "owned_id"], keep="first")
    for rec in ownership[dup].to_dict("records"):
        notes.append(Problem("info", "duplicate_relationship", "ownership", None,
                             f"owner_id={rec['owner_id']}, owned_id={rec['owned_id']}", "",
                             rec["interests"], f"{name} {rec['record_id']} repeats a link already read "
                             "between the same entities; the first is kept"))
    return ownership[~dup], connections, declarations, notes


def _lei_records(source: Source, kind: str) -> pd.DataFrame:
    if kind == "xml-lei":
        rows = [{"lei": r.get("LEI"), "name": r.get("Entity/LegalName"),
                 "category": r.get("Entity/EntityCategory"),
                 "country": r.get("Entity/LegalAddress/Country")}
                for r in _records(source, "LEIRecord")]
        frame = pd.DataFrame(rows, columns=["lei", "name", "category", "country"])
    else:
        raw = pd.read_csv(source, dtype=str, keep_default_na=False, na_values=[""])
        frame = pd.DataFrame({"lei": raw["LEI"], "name": raw.get("Entity.LegalName"),
                              "category": raw.get("Entity.EntityCategory"),
                              "country": raw.get("Entity.LegalAddress.Country")})
    return frame.drop_duplicates("lei")


def _exceptions(source: Source, kind: str) -> pd.DataFrame:
    if kind == "xml-repex":
        rows = [{"entity_id": r.get("LEI"), "category": r.get("ExceptionCategory"),
                 "reason": r.get("ExceptionReason")} for r in _records(source, "Exception")]
        return pd.DataFrame(rows, columns=["entity_id", "category", "reason"])
    raw = pd.read_csv(source, dtype=str, keep_default_na=False, na_values=[""])
    return pd.DataFrame({"entity_id": raw["LEI"], "category": raw["ExceptionCategory"],
                         "reason": raw.get("ExceptionReason")})


def _many(given: Source | Sequence[Source]) -> list[Source]:
    if isinstance(given, str | Path) or hasattr(given, "read"):
        return [given]  # type: ignore[list-item]
    return list(given)


def read_gleif(relationships: Source | Sequence[Source], *,
               entities: Source | Sequence[Source] | None = None, include_funds: bool = False,
               as_of: str | dt.date | None = None) -> ExternalOwnership:
    """Control links, declared ultimate parents and reporting exceptions from GLEIF files.

    ``relationships``: one or more relationship files (RR CSV or RR-CDF XML); reporting-exception
    files (CSV or XML) may be given among them. ``entities``: LEI records (CSV or LEI-CDF XML) for
    names, kinds (``EntityCategory`` FUND → ``fund``) and countries; LEIs without one are added with a
    blank name. See the module notes for what each relationship type becomes.
    """
    when = as_date(as_of)
    sources = _many(relationships)
    parts, exceptions, notes, names = [], [], [], []
    for src in sources:
        kind = _kind_of(src)
        _, name = _open(src) if not isinstance(src, str | Path) else (None, Path(src).name)
        names.append(name)
        if kind.endswith("repex"):
            exceptions.append(_exceptions(src, kind))
        elif kind.endswith("rr"):
            rr = _rr_xml(src) if kind == "xml-rr" else _rr_csv(src)
            parts.append(_relationships(rr, name, include_funds=include_funds, as_of=when))
        else:
            raise ValueError(f"{name} holds LEI records; pass it as entities=")
    own = pd.concat([p[0] for p in parts], ignore_index=True) if parts else pd.DataFrame()
    con = pd.concat([p[1] for p in parts], ignore_index=True) if parts else pd.DataFrame()
    dec = pd.concat([p[2] for p in parts], ignore_index=True) if parts else pd.DataFrame()
    for p in parts:
        notes.extend(p[3])
    exc = (pd.concat(exceptions, ignore_index=True) if exceptions
           else pd.DataFrame(columns=["entity_id", "category", "reason"]))
    for rec in exc.to_dict("records"):
        notes.append(Problem("info", "reporting_exception", "entities", None,
                             f"entity_id={rec['entity_id']}", "", str(rec["reason"]),
                             f"{rec['entity_id']} reports no {str(rec['category']).lower()}: "
                             f"{rec['reason']}"))
    ent_sources = [] if entities is None else _many(entities)
    lei = pd.concat([_lei_records(s, _kind_of(s)) for s in ent_sources], ignore_index=True) \
        if ent_sources else pd.DataFrame(columns=["lei", "name", "category", "country"])
    ids = pd.unique(pd.concat([own.get("owner_id", pd.Series(dtype=str)),
                               own.get("owned_id", pd.Series(dtype=str)),
                               con.get("dependent_id", pd.Series(dtype=str)),
                               con.get("depends_on_id", pd.Series(dtype=str)),
                               dec.get("subject_id", pd.Series(dtype=str)),
                               dec.get("party_id", pd.Series(dtype=str)),
                               exc["entity_id"]]).dropna().astype(str))
    info = lei.drop_duplicates("lei").set_index("lei").reindex(ids)
    ent = pd.DataFrame({
        "entity_id": ids, "name": info["name"].to_numpy(),
        "kind": info["category"].map(lambda c: _KINDS.get(c, "corporate") if isinstance(c, str)
                                     else "corporate").to_numpy(),
        "country": info["country"].to_numpy(), "lei": ids, "record_id": ids,
        "party_type": info["category"].fillna("").to_numpy()})
    return ExternalOwnership(entities=ent, ownership=own, connections=con, declarations=dec,
                             exceptions=exc, notes=issues_frame(notes), source=" + ".join(names))
