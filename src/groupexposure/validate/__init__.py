"""The one validation pass (SPEC §7): column casting from the schema, then cross-row rules."""

from .rules import OnError, ValidPortfolio, validate

__all__ = ["OnError", "ValidPortfolio", "validate"]
