"""The input columns as Markdown tables, read off the schema (for docs/input.md).

``python -m groupexposure.model.columns_doc docs/input.md`` rewrites the generated parts of the
document (between ``<!-- generated:NAME -->`` and ``<!-- /generated -->``); a test checks that the
document matches what this module generates, so the docs cannot drift from the code.

>>> print(column_table("fx"))
| column | type | required | default | valid values | meaning |
|---|---|---|---|---|---|
| currency | identifier | yes | | a non-empty identifier | ISO 4217 code of a currency the facilities use |
| rate | number | yes | | a number > 0 | units of the reporting currency per one unit of `currency` |
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from .policy import DEFAULT_CCF, POLICIES
from .schema import TABLES, Capital, Product, columns

__all__ = ["MEANINGS", "capital_table", "ccf_table", "column_table", "generated", "policy_table",
           "rewrite"]

MEANINGS: dict[str, dict[str, str]] = {
    "entities": {
        "entity_id": "the client's identifier, unique (text: `007` stays `007`)",
        "name": "the client's name (shown on reports and trees)",
        "kind": "counterparty kind; decides exemptions, eligible guarantors and bank/non-bank rules",
        "country": "ISO 3166 alpha-2 country code",
        "sector": "industry code or label (concentration by sector)",
        "is_gsib": "the client is a global systemically important bank",
        "lei": "Legal Entity Identifier, to match GLEIF or BODS ownership files",
        "national_id": "national identifier; a 统一社会信用代码 (18 characters) has its check "
                       "character verified (a warning if it fails)",
        "counterparty_sector": "the sector of the regulatory returns (COREP C 27.00 column 0050)",
        "nace": "NACE code of the activity, e.g. `K64` (COREP C 27.00 column 0060)",
        "is_institution": "a CRR institution (the EUR 150m relief, interbank parts of the returns); "
                          "blank: kind `bank`",
        "is_shadow_bank": "a shadow-banking entity (CRR Art. 394(2): the 10 largest are reported)",
        "exempt": "exempt from the limits for this entity alone (an exemption list); blank: the "
                  "policy's exempt kinds decide",
    },
    "ownership": {
        "owner_id": "the entity that holds the shares",
        "owned_id": "the entity whose shares are held (not the owner)",
        "share": "fraction of equity held, in (0, 1]; 60 or 60% is refused with a hint (0.6)",
        "voting": "fraction of voting rights; blank: the same as `share`",
        "control": "the owner controls by other means (board majority, agreement, 一致行动)",
    },
    "connections": {
        "dependent_id": "the client that would likely fail if the other failed",
        "depends_on_id": "the client it depends on (not the same entity)",
        "kind": "why the two are one risk",
        "mutual": "the dependence runs both ways (互保: mutual guarantees)",
    },
    "facilities": {
        "facility_id": "the facility's identifier, unique",
        "obligor_id": "the borrower (an entity)",
        "product": "the credit product; decides the conversion factor of `undrawn`",
        "drawn": "on-balance-sheet amount outstanding (贷款余额)",
        "undrawn": "off-balance-sheet nominal: unused commitment, guarantee or LC amount",
        "ccf": "this row's credit conversion factor, instead of the policy's (floors still apply)",
        "provision": "specific provisions (减值准备), deducted from the exposure",
        "currency": "ISO 4217 code; blank: the reporting currency",
        "guarantor_id": "an entity guaranteeing the facility (not the obligor)",
        "guaranteed_amount": "the amount guaranteed; blank: all that is left after collateral",
        "collateral_value": "eligible financial collateral after haircuts (保证金, 存单, 国债)",
        "book": "`banking` or `trading` book (the returns' non-trading-book columns)",
        "defaulted": "the facility is in default (returns: of which defaulted, 不良)",
    },
    "fx": {
        "currency": "ISO 4217 code of a currency the facilities use",
        "rate": "units of the reporting currency per one unit of `currency`",
    },
}
"""One line per column: what it means. Every schema column must have one (a test checks)."""

CAPITAL_MEANINGS = {
    "tier1": "Tier 1 capital (一级资本净额), in the reporting currency",
    "total_capital": "total capital (资本净额); needed by policies measuring against it",
    "currency": "the reporting currency",
    "is_gsib": "the reporting bank is a G-SIB (the G-SIB to G-SIB limits)",
    "as_of": "the data date (数据日期), YYYY-MM-DD",
}
_TYPES = {"id": "identifier", "str": "text", "float": "number", "bool": "true/false", "enum": "one of"}
_MARK = re.compile(r"(<!-- generated:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /generated -->)", re.S)


def column_table(table: str) -> str:
    """The Markdown table of one input table's columns."""
    lines = ["| column | type | required | default | valid values | meaning |",
             "|---|---|---|---|---|---|"]
    for c in columns(table):
        default = "" if c.default is None else str(c.default).lower()
        valid = (", ".join(f"`{v}`" for v in c.choices) if c.kind == "enum" else c.describe())
        kind = "enum" if c.kind == "enum" else _TYPES[c.kind]
        lines.append(f"| {c.name} | {kind} | {'yes' if c.required else 'no'} | {default} | "
                     f"{valid} | {MEANINGS[table][c.name]} |")
    return "\n".join(lines)


def capital_table() -> str:
    """The keys of capital.json (or of a workbook's capital sheet)."""
    lines = ["| key | required | default | meaning |", "|---|---|---|---|"]
    for name, field in Capital.model_fields.items():
        default = "" if field.is_required() else str(field.get_default()).lower().replace("none", "")
        lines.append(f"| {name} | {'yes' if field.is_required() else 'no'} | {default} | "
                     f"{CAPITAL_MEANINGS.get(name, '')} |")
    return "\n".join(lines)


def ccf_table() -> str:
    """The credit conversion factor of ``undrawn`` by product, for the default and each policy."""
    names = list(POLICIES)
    lines = ["| product | default | " + " | ".join(names) + " |",
             "|---|---|" + "---|" * len(names)]
    for product in Product:
        cells = [f"{POLICIES[n].ccf.get(product, DEFAULT_CCF[product]):.2f}" for n in names]
        lines.append(f"| {product.value} | {DEFAULT_CCF[product]:.2f} | " + " | ".join(cells) + " |")
    floors = [f"{POLICIES[n].ccf_floor:.2f}" + (" (own)" if POLICIES[n].ignore_row_ccf else "")
              for n in names]
    lines.append("| *floor on a row's own `ccf`* | | " + " | ".join(floors) + " |")
    return "\n".join(lines)


def policy_table() -> str:
    """What each built-in policy exempts, accepts as guarantor and calls large."""
    lines = ["| policy | control above | large exposure | exempt kinds | eligible guarantors |",
             "|---|---|---|---|---|"]
    for name, p in POLICIES.items():
        large = f"{'>=' if p.large_exposure_inclusive else '>'} {p.large_exposure_threshold:.1%} of Tier 1"
        lines.append(f"| {name} | {p.control_threshold:.0%} of votes | {large} | "
                     f"{', '.join(sorted(k.value for k in p.exempt_kinds)) or 'none'} | "
                     f"{', '.join(sorted(k.value for k in p.eligible_guarantor_kinds)) or 'none'} |")
    return "\n".join(lines)


def generated() -> dict[str, str]:
    """Every generated part of docs/input.md, by name."""
    parts = {table: column_table(table) for table in TABLES}
    parts.update({"capital": capital_table(), "ccf": ccf_table(), "policies": policy_table()})
    return parts


def rewrite(text: str) -> str:
    """``text`` with every generated part replaced by what the schema says now."""
    parts = generated()

    def fill(m: re.Match[str]) -> str:
        return m.group(1) + parts[m.group("name")] + "\n" + m.group(4)

    return _MARK.sub(fill, text)


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/input.md")
    target.write_text(rewrite(target.read_text(encoding="utf-8")), encoding="utf-8")
