"""The selection rules of each return, with their sources (the figures live here, not in the code
that applies them). The large-exposure thresholds themselves are the built-in policies' (LEX20.3,
CRR Art. 392, 商业银行大额风险暴露管理办法 Art. 2)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ..model.policy import Policy, basel, cn_cbirc_2018, eu_crr

__all__ = ["BASEL_LEX20", "CN_G14", "EU_COREP_LE", "Selection"]


class Selection(BaseModel):
    """Who a return lists, beyond its large exposures."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    large: Policy
    """The policy whose large-exposure threshold (and ``>=`` or ``>``) selects the large exposures."""
    largest: int = 0
    """The N largest counterparties listed whatever their size."""
    absolute_floor: float = 0.0
    """Also every exposure of at least this amount, in ``floor_currency`` (0: no such rule)."""
    floor_currency: str = "EUR"
    largest_institutions: int = 0
    largest_shadow_banks: int = 0
    source: str = ""


BASEL_LEX20 = Selection(
    large=basel, largest=20,
    source="BCBS LEX20.4: all exposures >= 10% of Tier 1 after CRM; all >= 10% before CRM; exempted "
    "exposures >= 10%; the 20 largest exposures whatever their value")
EU_COREP_LE = Selection(
    large=eu_crr, absolute_floor=300_000_000.0, floor_currency="EUR", largest_institutions=10,
    largest_shadow_banks=10,
    source="CRR Art. 392 and 394(1): every large exposure (>= 10% of Tier 1 before exemptions and "
    "CRM) and every exposure of at least EUR 300m; Art. 394(2): the 10 largest exposures to "
    "institutions and the 10 largest to shadow banking entities")
CN_G14 = Selection(
    large=cn_cbirc_2018, largest=100,
    source="1104 G14 大额风险暴露统计表: 大额风险暴露 above 2.5% of 一级资本净额 "
    "(商业银行大额风险暴露管理办法 Art. 2); parts III and V list the 100 largest single clients")
