"""The records of a portfolio (SPEC §1) as pydantic models, and the column rules derived from them.

Each table row is described by one pydantic model. Single objects (a proposed facility, the capital
record) are validated by the model itself; whole tables are validated column-wise by
:mod:`groupexposure.validate` from :func:`columns`, which reads the same field definitions, so the
rules live in one place.

Examples
--------
>>> from groupexposure.model.schema import Facility, columns
>>> Facility(facility_id="F1", obligor_id="E1", drawn=100.0).product
<Product.loan: 'loan'>
>>> [c.name for c in columns("ownership")]
['owner_id', 'owned_id', 'share', 'voting', 'control']
>>> columns("ownership")[2].lower, columns("ownership")[2].lower_inclusive
(0.0, False)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

__all__ = [
    "TABLES",
    "Book",
    "Capital",
    "ColumnSpec",
    "Connection",
    "ConnectionKind",
    "CounterpartySector",
    "Entity",
    "EntityKind",
    "Facility",
    "FxRate",
    "Ownership",
    "Product",
    "columns",
]


class EntityKind(StrEnum):
    """Kinds of counterparty (SPEC §1, entities.csv ``kind``)."""

    corporate = "corporate"
    individual = "individual"
    bank = "bank"
    sovereign = "sovereign"
    public_sector = "public_sector"
    fund = "fund"
    other = "other"


class ConnectionKind(StrEnum):
    """Kinds of non-ownership link that make two clients one risk (connections.csv ``kind``)."""

    economic_dependence = "economic_dependence"
    guarantee = "guarantee"
    common_management = "common_management"
    family = "family"
    funding = "funding"
    other = "other"


class Product(StrEnum):
    """Credit products (facilities.csv ``product``)."""

    loan = "loan"
    overdraft = "overdraft"
    bond = "bond"
    commitment = "commitment"
    commitment_uncond_cancellable = "commitment_uncond_cancellable"
    guarantee_issued = "guarantee_issued"
    standby_lc = "standby_lc"
    performance_bond = "performance_bond"
    trade_lc = "trade_lc"
    bankers_acceptance = "bankers_acceptance"
    interbank_placement = "interbank_placement"
    interbank_deposit = "interbank_deposit"
    other = "other"


class CounterpartySector(StrEnum):
    """Institutional sector of a counterparty (entities.csv ``counterparty_sector``; the sectors of
    the EU returns, e.g. COREP C 27.00 column 0050)."""

    central_bank = "central_bank"
    general_government = "general_government"
    credit_institution = "credit_institution"
    other_financial = "other_financial"
    non_financial_corporation = "non_financial_corporation"
    household = "household"


class Book(StrEnum):
    """Regulatory book of a facility (facilities.csv ``book``)."""

    banking = "banking"
    trading = "trading"



def _not_bool(value: Any) -> Any:
    """A bool is not a number (pydantic would read ``True`` as 1.0)."""
    if isinstance(value, bool):
        raise ValueError(f"a number is needed, not {str(value).lower()}")
    return value


NotBool = BeforeValidator(_not_bool)
Id = Annotated[str, Field(min_length=1)]
Fraction01 = Annotated[float, NotBool, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Amount = Annotated[float, NotBool, Field(ge=0.0, allow_inf_nan=False)]
Positive = Annotated[float, NotBool, Field(gt=0.0, allow_inf_nan=False)]
"""Every number of a record is finite, and never a bool (SPEC §7)."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, use_enum_values=False)


class Entity(_Record):
    """One counterparty (entities.csv)."""

    entity_id: Id
    name: str | None = None
    kind: EntityKind = EntityKind.corporate
    country: str | None = None
    sector: str | None = None
    is_gsib: bool = False
    lei: str | None = None
    national_id: str | None = None
    """A national identifier; in China the 统一社会信用代码 (USCC, GB 32100-2015), whose check
    character is verified (:mod:`groupexposure.validate.national_id`)."""
    counterparty_sector: CounterpartySector | None = None
    nace: str | None = None
    is_institution: bool | None = None
    """CRR institution; blank: ``kind == "bank"``."""
    is_shadow_bank: bool = False
    exempt: bool | None = None
    """Exempt from the limits whatever the policy's exempt kinds say; blank: the policy decides."""


class Ownership(_Record):
    """One direct holding: ``owner_id`` holds ``share`` of ``owned_id`` (ownership.csv)."""

    owner_id: Id
    owned_id: Id
    share: Annotated[float, NotBool, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
    voting: Fraction01 | None = None
    control: bool = False


class Connection(_Record):
    """A link other than ownership: ``dependent_id`` would likely fail if ``depends_on_id`` failed."""

    dependent_id: Id
    depends_on_id: Id
    kind: ConnectionKind = ConnectionKind.economic_dependence
    mutual: bool = False


class Facility(_Record):
    """One credit facility (facilities.csv). Amounts are in ``currency``."""

    facility_id: Id
    obligor_id: Id
    product: Product = Product.loan
    drawn: Amount = 0.0
    undrawn: Amount = 0.0
    ccf: Fraction01 | None = None
    provision: Amount = 0.0
    currency: str | None = None
    guarantor_id: str | None = None
    guaranteed_amount: Amount | None = None
    collateral_value: Amount = 0.0
    book: Book = Book.banking
    defaulted: bool = False


class FxRate(_Record):
    """Units of the reporting currency per one unit of ``currency`` (fx.csv)."""

    currency: Id
    rate: Positive


class Capital(_Record):
    """The reporting bank's capital (capital.json)."""

    tier1: Positive
    total_capital: Positive | None = None
    currency: str = "CNY"
    is_gsib: bool = False
    as_of: dt.date | None = None
    bank_name: str | None = None
    """The reporting bank's name, shown on every report (optional)."""


TABLES: dict[str, type[_Record]] = {
    "entities": Entity,
    "ownership": Ownership,
    "connections": Connection,
    "facilities": Facility,
    "fx": FxRate,
}
"""The five tables of a portfolio, by base file name, with the model of one row."""

Kind = Literal["id", "str", "float", "bool", "enum"]


@dataclass(frozen=True)
class ColumnSpec:
    """What one column must hold, read off a record model's field."""

    name: str
    kind: Kind
    required: bool
    default: Any = None
    lower: float | None = None
    lower_inclusive: bool = True
    upper: float | None = None
    upper_inclusive: bool = True
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        """Say in words what a valid value looks like: ``a number in (0, 1]``."""
        if self.kind == "enum":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "id":
            return "a non-empty identifier"
        if self.kind == "float":
            if self.lower is not None and self.upper is not None:
                left = "[" if self.lower_inclusive else "("
                right = "]" if self.upper_inclusive else ")"
                return f"a number in {left}{_num(self.lower)}, {_num(self.upper)}{right}"
            if self.lower is not None:
                return f"a number {'>=' if self.lower_inclusive else '>'} {_num(self.lower)}"
            return "a number"
        return "text"


def _num(x: float) -> str:
    return f"{x:g}"


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """Strip ``Annotated`` and ``| None`` from an annotation; return the base type and metadata."""
    metadata: list[Any] = []
    while True:
        if get_origin(annotation) is Annotated:
            base, *meta = get_args(annotation)
            metadata.extend(meta)
            annotation = base
            continue
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(get_args(annotation)) == 2:
            annotation = args[0]
            continue
        return annotation, metadata


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in metadata:
        items = m.metadata if hasattr(m, "metadata") else [m]
        for c in items:
            if isinstance(c, at.Ge):
                out.update(lower=float(c.ge), lower_inclusive=True)  # type: ignore[arg-type]
            elif isinstance(c, at.Gt):
                out.update(lower=float(c.gt), lower_inclusive=False)  # type: ignore[arg-type]
            elif isinstance(c, at.Le):
                out.update(upper=float(c.le), upper_inclusive=True)  # type: ignore[arg-type]
            elif isinstance(c, at.Lt):
                out.update(upper=float(c.lt), upper_inclusive=False)  # type: ignore[arg-type]
    return out


def columns(table: str) -> list[ColumnSpec]:
    """The column rules of one table, in the order of SPEC §1, read off its record model."""
    model = TABLES[table]
    specs: list[ColumnSpec] = []
    for name, field in model.model_fields.items():
        base, metadata = _unwrap(field.annotation)
        metadata = [*metadata, *field.metadata]
        required = field.is_required()
        default = None if required else field.get_default()
        if isinstance(base, type) and issubclass(base, StrEnum):
            kind: Kind = "enum"
            choices = tuple(m.value for m in base)
            default = default.value if default is not None else None
            specs.append(ColumnSpec(name, kind, required, default, choices=choices))
            continue
        if base is bool:
            kind = "bool"
        elif base is float:
            kind = "float"
        elif name.endswith("_id") or (required and base is str):
            kind = "id"
        else:
            kind = "str"
        specs.append(ColumnSpec(name, kind, required, default, **_bounds(metadata)))
    return specs
