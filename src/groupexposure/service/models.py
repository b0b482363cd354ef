"""Request and answer bodies of the service: the library's own models, with JSON-safe numbers.

A decision over HTTP is the library's :class:`~groupexposure.decide.check.Decision`; JSON has no
infinity, so an unlimited ``max_amount`` (and a rule's missing headroom) is ``null``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..decide.check import Decision, RuleCheck
from ..model.schema import Product

__all__ = ["CheckRequest", "DecisionOut", "ReleaseRequest", "ReloadRequest", "ReserveRequest",
           "RuleCheckOut"]

Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]
Amount = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class CheckRequest(BaseModel):
    """A proposed facility: the arguments of ``check`` (SPEC §6)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entity_id: Id
    amount: Amount
    product: Product = Product.loan
    undrawn: Amount = 0.0
    ccf: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    guarantor_id: Id | None = None
    guaranteed_amount: Amount | None = None
    collateral_value: Amount = 0.0

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``Snapshot.check``."""
        data = self.model_dump()
        data["product"] = self.product.value
        return data


class ReserveRequest(CheckRequest):
    """A proposed facility to reserve; the user is the token's, never a field of the body."""

    reference: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class ReleaseRequest(BaseModel):
    """The reservation to take back."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reservation_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]


class ReloadRequest(BaseModel):
    """The snapshot directory to switch to (on the server's machine)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    snapshot: Annotated[str, Field(min_length=1, max_length=4096)]


def _finite_or_none(data: Any, names: tuple[str, ...]) -> Any:
    if isinstance(data, dict):
        return {k: (None if k in names and isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in data.items()}
    return data


class RuleCheckOut(RuleCheck):
    """:class:`RuleCheck` with ``headroom_after`` null where the rule does not apply after."""

    headroom_after: float | None  # type: ignore[assignment]

    @model_validator(mode="before")
    @classmethod
    def _json_safe(cls, data: Any) -> Any:
        return _finite_or_none(data, ("headroom_after", "limit"))


class DecisionOut(Decision):
    """:class:`Decision` with ``max_amount`` null where no limit applies."""

    max_amount: float | None  # type: ignore[assignment]
    rules: tuple[RuleCheckOut, ...]

    @model_validator(mode="before")
    @classmethod
    def _json_safe(cls, data: Any) -> Any:
        return _finite_or_none(data, ("max_amount",))

    @classmethod
    def of(cls, d: Decision) -> DecisionOut:
        """The HTTP form of a decision."""
        return cls.model_validate(d.model_dump())
