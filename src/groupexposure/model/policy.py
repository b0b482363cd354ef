"""Regulatory policies: control threshold, conversion factors, eligible guarantors, limits (SPEC §5).

A :class:`Policy` is a frozen pydantic model. The four built-in ones are in :data:`POLICIES`; to change
any figure, copy one:

>>> import groupexposure as gx
>>> strict = gx.policies.basel.model_copy(update={"name": "basel_strict", "warning_level": 0.7})
>>> strict.warning_level, gx.policies.basel.warning_level
(0.7, 0.8)
>>> [r.limit for r in gx.policies.basel.rules]
[0.25, 0.15]

Every regulatory figure lives here with its source; no module of the library holds one as a constant.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .schema import EntityKind, Product

__all__ = [
    "DEFAULT_CCF",
    "POLICIES",
    "InstitutionRelief",
    "LimitRule",
    "Policy",
    "basel",
    "cn_cbirc_2018",
    "cn_group_credit",
    "eu_crr",
    "get_policy",
]

Ratio = Annotated[float, Field(gt=0.0)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]

DEFAULT_CCF: dict[Product, float] = {
    Product.loan: 0.40,
    Product.overdraft: 0.40,
    Product.bond: 0.40,
    Product.commitment: 0.40,
    Product.commitment_uncond_cancellable: 0.10,
    Product.guarantee_issued: 1.00,
    Product.standby_lc: 1.00,
    Product.performance_bond: 0.50,
    Product.trade_lc: 0.20,
    Product.bankers_acceptance: 1.00,
    Product.interbank_placement: 0.40,
    Product.interbank_deposit: 0.40,
    Product.other: 0.40,
}
"""Credit conversion factors applied to ``undrawn`` (SPEC §5). An unused line on a loan or overdraft
is a commitment (0.40). Figures follow the Basel standardised approach (CRE20.93-20.101) as the spec
tabulates them. ``bankers_acceptance`` (银行承兑汇票, an acceptance the bank has given: a direct credit
substitute) 1.00: Basel CRE20.100 ("direct credit substitutes ... and acceptances") and
商业银行资本管理办法 (2023) 附件 表外项目信用转换系数 (银行承兑汇票 100%). ``interbank_placement`` (拆放同业)
and ``interbank_deposit`` (存放同业) are on-balance-sheet (``drawn``); an unused interbank line is a
commitment (0.40)."""


class InstitutionRelief(BaseModel):
    """The CRR relief for groups that contain an institution (CRR Art. 395(1), second subparagraph).

    Where the rule's group includes a bank and the exposure to its non-bank members is at most
    ``non_institution_limit`` of Tier 1, the limit becomes
    ``min(max(rule.limit, absolute_floor / Tier 1), cap)``, ``absolute_floor`` in ``floor_currency``.
    """

    model_config = ConfigDict(frozen=True)

    absolute_floor: Annotated[float, Field(gt=0.0)] = 150_000_000.0
    floor_currency: str = "EUR"
    cap: Ratio = 1.0
    non_institution_limit: Ratio = 0.25


class LimitRule(BaseModel):
    """One limit: ``measure / capital_base`` must not exceed ``limit`` for the counterparties it covers.

    ``scope="single"`` holds each entity on its own (exempt kinds excluded); ``scope="group"`` holds each
    group of two or more members. ``counterparty_kind`` restricts the rule to banks or non-banks: for a
    single rule, the entity's kind; for a group rule, the kind of the group's root. ``gsib_to_gsib`` makes
    the rule apply only where the reporting bank is a G-SIB and the counterparty (single) or a member
    (group) is a G-SIB. A rule with ``replaces`` takes the place of the named rules wherever it applies.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    scope: Literal["single", "group"]
    limit: Ratio
    measure: Literal["exposure", "loans"] = "exposure"
    capital_base: Literal["tier1", "total_capital"] = "tier1"
    counterparty_kind: Literal["any", "bank", "non_bank"] = "any"
    gsib_to_gsib: bool = False
    relief: InstitutionRelief | None = None
    replaces: tuple[str, ...] = ()
    source: str = ""


class Policy(BaseModel):
    """A regulatory regime: what gives control, how exposures are valued, and which limits hold.

    Attributes
    ----------
    control_threshold
        An owner controls an entity when its voting rights are strictly above this fraction (SPEC §2).
    ccf, ccf_floor, ignore_row_ccf
        Credit conversion factors for ``undrawn`` by product; the floor applies to a row's own ``ccf``
        too; ``ignore_row_ccf`` makes the policy use its own factors whatever a row says.
    eligible_guarantor_kinds
        Guarantees from these kinds are substituted onto the guarantor; others are ignored.
    exempt_kinds
        Exposures to these kinds are excluded from the limit measures.
    large_exposure_threshold, large_exposure_inclusive
        ``exposure >= threshold * tier1`` (or ``>`` when not inclusive) marks a large exposure.
    warning_level
        ``ratio >= warning_level * limit`` gives status ``warning``.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    control_threshold: Fraction = 0.5
    ccf: dict[Product, Fraction] = Field(default_factory=lambda: dict(DEFAULT_CCF))
    ccf_floor: Fraction = 0.0
    ignore_row_ccf: bool = False
    eligible_guarantor_kinds: frozenset[EntityKind] = frozenset(
        {EntityKind.sovereign, EntityKind.public_sector, EntityKind.bank, EntityKind.corporate}
    )
    exempt_kinds: frozenset[EntityKind] = frozenset({EntityKind.sovereign})
    large_exposure_threshold: Ratio = 0.10
    large_exposure_inclusive: bool = True
    warning_level: Annotated[float, Field(gt=0.0, le=1.0)] = 0.8
    rules: tuple[LimitRule, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Policy:
        missing = [p.value for p in Product if p not in self.ccf]
        if missing:
            raise ValueError(f"policy {self.name!r}: ccf has no factor for {', '.join(missing)}")
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"policy {self.name!r}: rule names must be unique; repeated {dupes}")
        for r in self.rules:
            unknown = [n for n in r.replaces if n not in names]
            if unknown:
                raise ValueError(f"policy {self.name!r}: rule {r.name!r} replaces unknown {unknown}")
        return self

    def rules_for(self, scope: Literal["single", "group"]) -> tuple[LimitRule, ...]:
        """The rules of one scope, in policy order."""
        return tuple(r for r in self.rules if r.scope == scope)

    @property
    def currencies_needed(self) -> frozenset[str]:
        """Currencies the policy's own figures are in (an FX rate is needed unless reporting in it)."""
        return frozenset(r.relief.floor_currency for r in self.rules if r.relief is not None)

    @property
    def needs_total_capital(self) -> bool:
        """Whether any rule is measured against total capital (own funds)."""
        return any(r.capital_base == "total_capital" for r in self.rules)


basel = Policy(
    name="basel",
    description=(
        "Basel Committee, Large exposures framework (LEX), as in force from 1 January 2019. "
        "Limit: 25% of Tier 1 for a counterparty or group of connected counterparties (LEX20.1); "
        "15% between G-SIBs (LEX40.2). Large exposure: >= 10% of Tier 1 (LEX20.3). "
        "Off-balance-sheet items at standardised CCFs with a floor of 10% (LEX30). "
        "Control above 50% of voting rights (LEX10.12). Exposures to sovereigns exempt (LEX30)."
    ),
    ccf_floor=0.10,
    large_exposure_threshold=0.10,
    rules=(
        LimitRule(
            name="LEX 25% of Tier 1",
            scope="group",
            limit=0.25,
            source="BCBS LEX20.1: exposures to a counterparty or group of connected counterparties",
        ),
        LimitRule(
            name="LEX G-SIB 15% of Tier 1",
            scope="group",
            limit=0.15,
            gsib_to_gsib=True,
            source="BCBS LEX40.2: a G-SIB's exposure to another G-SIB",
        ),
    ),
)
"""BCBS large exposures framework (LEX)."""

eu_crr = Policy(
    name="eu_crr",
    description=(
        "EU Capital Requirements Regulation (Regulation (EU) No 575/2013 as amended by CRR2, "
        "Regulation (EU) 2019/876). Large exposure: >= 10% of Tier 1 (Art. 392). "
        "Limit: 25% of Tier 1 (Art. 395(1)); 15% from a G-SII to a G-SII (Art. 395(1)); where the group "
        "includes an institution and the non-institution members' exposure is at most 25% of Tier 1, "
        "the higher of 25% of Tier 1 and EUR 150m, at most 100% of Tier 1 (Art. 395(1)). "
        "CCF floor 10% (Art. 429f, applied to large exposures by Art. 389). Sovereigns exempt (Art. 400)."
    ),
    ccf_floor=0.10,
    large_exposure_threshold=0.10,
    rules=(
        LimitRule(
            name="CRR 25% of Tier 1",
            scope="group",
            limit=0.25,
            source="CRR Art. 395(1), first subparagraph",
        ),
        LimitRule(
            name="CRR G-SII 15% of Tier 1",
            scope="group",
            limit=0.15,
            gsib_to_gsib=True,
            source="CRR Art. 395(1): G-SII to G-SII",
        ),
        LimitRule(
            name="CRR institution EUR 150m",
            scope="group",
            limit=0.25,
            relief=InstitutionRelief(),
            replaces=("CRR 25% of Tier 1",),
            source="CRR Art. 395(1), second and third subparagraphs",
        ),
    ),
)
"""EU CRR large exposures regime."""

_LOANS_10 = LimitRule(
    name="Commercial Bank Law loans 10% of total capital",
    scope="single",
    limit=0.10,
    measure="loans",
    capital_base="total_capital",
    counterparty_kind="non_bank",
    source="商业银行法 Art. 39(3): 对同一借款人的贷款余额与商业银行资本余额的比例不得超过百分之十; "
    "as 商业银行大额风险暴露管理办法 Art. 7 applies it: loans (贷款) to non-interbank clients only",
)

_LE = "商业银行大额风险暴露管理办法 (银保监会令2018年第1号)"

cn_cbirc_2018 = Policy(
    name="cn_cbirc_2018",
    description=(
        f"{_LE}. Large exposure: above 2.5% of Tier 1 (Art. 4). Non-interbank single client: loans "
        "at most 10% of total capital (资本净额) and exposure at most 15% of Tier 1 (一级资本净额) "
        "(Art. 7, after 商业银行法 Art. 39); a group of non-interbank connected clients (集团客户, "
        "经济依存客户) 20% (Art. 8); an interbank (同业) single client or group 25% (Art. 9); G-SIB "
        "to G-SIB 15% (Art. 10). Exempt: the central government and the central bank (Art. 11). "
        "Guarantees substitute only from the protection providers the capital rules' weighting "
        "approach accepts: sovereigns, public-sector entities, banks; not a general corporate, not "
        "a 融资担保公司. Control above 50% of voting rights (Annex 1). See docs/policies.md for "
        "what was and was not verified."
    ),
    eligible_guarantor_kinds=frozenset(
        {EntityKind.sovereign, EntityKind.public_sector, EntityKind.bank}
    ),
    large_exposure_threshold=0.025,
    large_exposure_inclusive=False,
    rules=(
        LimitRule(
            name="CBIRC non-bank single 15% of Tier 1",
            scope="single",
            limit=0.15,
            counterparty_kind="non_bank",
            source=f"{_LE} Art. 7: 非同业单一客户的风险暴露不得超过一级资本净额的15%",
        ),
        _LOANS_10.model_copy(update={
            "source": f"{_LE} Art. 7: 非同业单一客户的贷款余额不得超过资本净额的10% "
                      "(商业银行法 Art. 39(3))"}),
        LimitRule(
            name="CBIRC bank single 25% of Tier 1",
            scope="single",
            limit=0.25,
            counterparty_kind="bank",
            source=f"{_LE} Art. 9: 同业单一客户或集团客户 25% of Tier 1",
        ),
        LimitRule(
            name="CBIRC G-SIB single 15% of Tier 1",
            scope="single",
            limit=0.15,
            gsib_to_gsib=True,
            source=f"{_LE} Art. 10: 全球系统重要性银行对另一家全球系统重要性银行 15% of Tier 1",
        ),
        LimitRule(
            name="CBIRC non-bank group 20% of Tier 1",
            scope="group",
            limit=0.20,
            counterparty_kind="non_bank",
            source=f"{_LE} Art. 8: 一组非同业关联客户的风险暴露不得超过一级资本净额的20%",
        ),
        LimitRule(
            name="CBIRC bank group 25% of Tier 1",
            scope="group",
            limit=0.25,
            counterparty_kind="bank",
            source=f"{_LE} Art. 9: 同业单一客户或集团客户 25% of Tier 1",
        ),
        LimitRule(
            name="CBIRC G-SIB group 15% of Tier 1",
            scope="group",
            limit=0.15,
            gsib_to_gsib=True,
            source=f"{_LE} Art. 10",
        ),
    ),
)
"""China: CBIRC large exposures measures (2018)."""

_NOMINAL_CCF = {p: 1.0 for p in Product} | {
    # an unused line counts nothing whatever product carries it (SPEC §5, credit balance)
    Product.loan: 0.0,
    Product.overdraft: 0.0,
    Product.bond: 0.0,
    Product.commitment: 0.0,
    Product.commitment_uncond_cancellable: 0.0,
}

cn_group_credit = Policy(
    name="cn_group_credit",
    description=(
        "商业银行集团客户授信业务风险管理指引 (CBRC 2010) Art. 12: credit to one group client at most "
        "15% of total capital (资本净额); 商业银行法 Art. 39(3): loans to one borrower at most 10% of "
        "total capital (loans to non-bank borrowers: an interbank placement is not a 贷款). The "
        "guideline's article number and whether the 2018 large-exposure measures superseded its "
        "15% are not verified (docs/policies.md). Measured as credit balance (授信余额): the "
        "outstanding nominal of guarantees, LCs, performance bonds and other items (CCF 1.0); an "
        "unused line counts nothing on any product (the undrawn part of a loan, overdraft or bond "
        "and every commitment: CCF 0.0); collateral deducted, no guarantor substitution."
    ),
    ccf=_NOMINAL_CCF,
    ignore_row_ccf=True,
    eligible_guarantor_kinds=frozenset(),
    large_exposure_threshold=0.025,
    large_exposure_inclusive=False,
    rules=(
        _LOANS_10,
        LimitRule(
            name="Group credit 15% of total capital",
            scope="group",
            limit=0.15,
            capital_base="total_capital",
            source="商业银行集团客户授信业务风险管理指引 Art. 12",
        ),
    ),
)
"""China: group-client credit guideline and Commercial Bank Law."""

POLICIES: dict[str, Policy] = {p.name: p for p in (basel, eu_crr, cn_cbirc_2018, cn_group_credit)}
"""The built-in policies by name."""


def get_policy(policy: str | Policy) -> Policy:
    """Return ``policy`` itself, or the built-in policy of that name.

    >>> get_policy("basel").name
    'basel'
    >>> get_policy("lex")
    Traceback (most recent call last):
    ...
    ValueError: unknown policy 'lex'; valid: basel, eu_crr, cn_cbirc_2018, cn_group_credit
    """
    if isinstance(policy, Policy):
        return policy
    try:
        return POLICIES[policy]
    except KeyError:
        raise ValueError(f"unknown policy {policy!r}; valid: {', '.join(POLICIES)}") from None
