"""Limits and flags (SPEC §5): which rules apply to whom, ratios, the binding rule and statuses.

Rules are evaluated column-wise over all subjects (groups or entities) at once: one array of
utilisations per rule, then the highest applicable one is reported.

Comparisons with a limit or threshold allow a relative tolerance of 1e-13, so that a sum of amounts
exactly at a boundary counts as at it (being exactly at a limit is compliant).

Examples
--------
>>> import numpy as np
>>> status(np.array([0.25, 0.2500001, 0.2, 0.19]), np.array([0.25] * 4), 0.8).tolist()
['warning', 'breach', 'warning', 'ok']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ..model.policy import LimitRule, Policy
from ..model.schema import Capital, EntityKind

if TYPE_CHECKING:
    from .coded import Coded
    from .exposures import EntityExposure

__all__ = [
    "TOLERANCE",
    "RuleMatrix",
    "Standing",
    "Subjects",
    "breached",
    "evaluate",
    "is_large",
    "relief_applies",
    "rule_base",
    "rule_limit",
    "rule_matrix",
    "static_applies",
    "status",
    "status_levels",
    "status_of",
    "subjects_of",
    "warned",
]

TOLERANCE = 1e-13


Num = TypeVar("Num", float, np.ndarray)


def breached(ratio: Num, limit: Num) -> Any:
    """The one breach test (SPEC §5): ``ratio > limit`` (being exactly at the limit is compliant),
    on floats or arrays."""
    return ratio > limit * (1 + TOLERANCE)


def warned(ratio: Num, limit: Num, warning_level: float) -> Any:
    """``ratio >= warning_level * limit``, on floats or arrays."""
    return ratio >= warning_level * limit * (1 - TOLERANCE)


def status_of(ratio: float, limit: float, warning_level: float) -> str:
    """:func:`status` of one ratio.

    >>> status_of(0.25, 0.25, 0.8), status_of(0.26, 0.25, 0.8)
    ('warning', 'breach')
    """
    if breached(ratio, limit):
        return "breach"
    return "warning" if warned(ratio, limit, warning_level) else "ok"


def status_levels(limit: float, warning_level: float) -> tuple[float, float]:
    """The ratios of :func:`breached` and :func:`warned` for one limit: breached above the first,
    warned from the second (the same products, so ``ratio > levels[0]`` is ``breached``).

    >>> b, w = status_levels(0.25, 0.8)
    >>> (0.26 > b, 0.2 >= w) == (breached(0.26, 0.25), warned(0.2, 0.25, 0.8))
    True
    """
    return limit * (1 + TOLERANCE), warning_level * limit * (1 - TOLERANCE)


def status(ratio: np.ndarray, limit: np.ndarray, warning_level: float) -> np.ndarray:
    """``breach`` above the limit, ``warning`` from ``warning_level * limit``, else ``ok``."""
    ratio = np.asarray(ratio, dtype=np.float64)
    limit = np.asarray(limit, dtype=np.float64)
    unknown = np.isnan(ratio) & ~np.isnan(limit)
    if unknown.any():  # validation lets no non-finite number in: a NaN here is a bug, never an ok
        raise FloatingPointError(
            f"internal error: {int(unknown.sum())} ratio(s) are NaN where a limit applies "
            f"(first at position {int(np.flatnonzero(unknown)[0])}); no status can be given")
    with np.errstate(invalid="ignore"):
        breach = breached(ratio, limit)
        warning = warned(ratio, limit, warning_level)
    return np.where(breach, "breach", np.where(warning, "warning", "ok")).astype(object)


def is_large(exposure: np.ndarray, tier1: float, policy: Policy) -> np.ndarray:
    """SPEC §5: ``exposure >= threshold * tier1`` (or ``>`` where the policy says so)."""
    bound = policy.large_exposure_threshold * tier1
    exposure = np.asarray(exposure, dtype=np.float64)
    if policy.large_exposure_inclusive:
        return exposure >= bound * (1 - TOLERANCE)
    return exposure > bound * (1 + TOLERANCE)


@dataclass(frozen=True)
class Subjects:
    """What the rules need to know of each subject (a group, or an entity on its own).

    ``kind`` is the entity's kind (single rules) or the root's kind (group rules); ``any_gsib`` and
    ``any_bank`` are over the members; ``non_bank_exposure`` is the exposure to non-bank members.
    """

    exposure: np.ndarray
    loans: np.ndarray
    kind: np.ndarray
    any_gsib: np.ndarray
    any_bank: np.ndarray
    non_bank_exposure: np.ndarray
    all_exempt: np.ndarray

    def take(self, idx: np.ndarray) -> Subjects:
        """The subjects at positions (or mask) ``idx``."""
        return Subjects(**{k: v[idx] for k, v in vars(self).items()})


@dataclass(frozen=True)
class Standing:
    """The reported rule of each subject: the applicable rule with the highest utilisation."""

    rule: np.ndarray
    measure: np.ndarray
    measure_value: np.ndarray
    capital_base_name: np.ndarray
    capital_base: np.ndarray
    ratio: np.ndarray
    limit: np.ndarray
    utilisation: np.ndarray
    status: np.ndarray


def _base(rule: LimitRule, capital: Capital) -> float:
    value = capital.tier1 if rule.capital_base == "tier1" else capital.total_capital
    assert value is not None  # validation requires total capital where a rule uses it
    return float(value)


def static_applies(rule: LimitRule, s: Subjects, capital: Capital) -> np.ndarray:
    """Where ``rule`` applies by what no new facility changes (exemption, kind, G-SIB, a bank
    member for the CRR relief); the relief's own test on amounts is :func:`relief_applies`."""
    ok = ~s.all_exempt.copy()
    is_bank = s.kind == EntityKind.bank.value
    if rule.counterparty_kind == "bank":
        ok &= is_bank
    elif rule.counterparty_kind == "non_bank":
        ok &= ~is_bank
    if rule.gsib_to_gsib:
        ok &= s.any_gsib & capital.is_gsib
    if rule.relief is not None:
        ok &= s.any_bank
    return np.asarray(ok)


def relief_applies(rule: LimitRule, non_bank_exposure: Num, tier1: float) -> Any:
    """The relief's test on amounts: the non-bank members' exposure is at most its share of Tier 1
    (true for a rule without relief); on floats or arrays."""
    if rule.relief is None:
        return True
    return non_bank_exposure <= rule.relief.non_institution_limit * tier1 * (1 + TOLERANCE)


def _applies(rule: LimitRule, s: Subjects, capital: Capital, tier1: float, rates: dict[str, float]
             ) -> np.ndarray:
    ok = static_applies(rule, s, capital)
    if rule.relief is not None:
        ok &= relief_applies(rule, s.non_bank_exposure, tier1)
    return ok


def rule_limit(rule: LimitRule, capital: Capital, rates: dict[str, float]) -> float:
    """The rule's limit ratio (the relief's floor and cap resolved)."""
    return _limit(rule, capital, rates)


def rule_base(rule: LimitRule, capital: Capital) -> float:
    """The rule's capital base amount."""
    return _base(rule, capital)


def _limit(rule: LimitRule, capital: Capital, rates: dict[str, float]) -> float:
    if rule.relief is None:
        return rule.limit
    base = _base(rule, capital)
    floor = rule.relief.absolute_floor * rates[rule.relief.floor_currency] / base
    return min(max(rule.limit, floor), rule.relief.cap)


@dataclass(frozen=True)
class RuleMatrix:
    """Every rule against every subject: ``applies`` and ``ratio`` are (rules, subjects)."""

    applies: np.ndarray
    ratio: np.ndarray
    limit: np.ndarray
    base: np.ndarray
    measure: np.ndarray

    @property
    def utilisation(self) -> np.ndarray:
        """ratio / limit where the rule applies, -inf elsewhere."""
        return np.where(self.applies, self.ratio / self.limit[:, None], -np.inf)


def rule_matrix(subjects: Subjects, rules: tuple[LimitRule, ...], capital: Capital,
                rates: dict[str, float]) -> RuleMatrix:
    """Which rules apply to which subjects (``replaces`` resolved) and each rule's ratio."""
    k = len(subjects.exposure)
    tier1 = float(capital.tier1)
    applies = np.zeros((len(rules), k), dtype=bool)
    for i, rule in enumerate(rules):
        applies[i] = _applies(rule, subjects, capital, tier1, rates)
    for i, rule in enumerate(rules):
        for replaced in rule.replaces:
            j = next(j for j, r in enumerate(rules) if r.name == replaced)
            applies[j] &= ~applies[i]
    ratios = np.zeros((len(rules), k))
    measure = np.zeros((len(rules), k))
    for i, rule in enumerate(rules):
        measure[i] = subjects.exposure if rule.measure == "exposure" else subjects.loans
        ratios[i] = measure[i] / _base(rule, capital)
    return RuleMatrix(
        applies=applies, ratio=ratios, measure=measure,
        limit=np.array([_limit(r, capital, rates) for r in rules], dtype=np.float64),
        base=np.array([_base(r, capital) for r in rules], dtype=np.float64),
    )


def evaluate(subjects: Subjects, rules: tuple[LimitRule, ...], policy: Policy, capital: Capital,
             rates: dict[str, float]) -> Standing:
    """The standing of every subject under ``rules`` (the applicable one most used is reported)."""
    k = len(subjects.exposure)
    if not rules:
        empty = np.full(k, np.nan)
        blank = np.full(k, "", dtype=object)
        return Standing(rule=blank, measure=blank, measure_value=empty, capital_base_name=blank,
                        capital_base=empty, ratio=np.where(subjects.all_exempt, 0.0, np.nan),
                        limit=empty, utilisation=empty,
                        status=np.full(k, "ok", dtype=object))
    m = rule_matrix(subjects, rules, capital, rates)
    util = m.utilisation
    any_rule = m.applies.any(axis=0)
    pick = util.argmax(axis=0)
    cols = np.arange(k)
    names = np.array([r.name for r in rules] + [""], dtype=object)
    measure = np.array([r.measure for r in rules] + [""], dtype=object)
    base_name = np.array([r.capital_base for r in rules] + [""], dtype=object)
    idx = np.where(any_rule, pick, len(rules))
    ratio = np.where(any_rule, m.ratio[pick, cols], np.nan)
    limit = np.where(any_rule, np.append(m.limit, np.nan)[idx], np.nan)
    st = np.where(any_rule, status(ratio, limit, policy.warning_level), "ok").astype(object)
    # a subject whose members are all exempt: ratio 0, no limit, status ok
    ratio = np.where(subjects.all_exempt, 0.0, ratio)
    return Standing(
        rule=names[idx], measure=measure[idx],
        measure_value=np.where(any_rule, m.measure[pick, cols], np.nan),
        capital_base_name=base_name[idx], capital_base=np.append(m.base, np.nan)[idx],
        ratio=ratio, limit=limit, utilisation=np.where(any_rule, ratio / limit, np.nan), status=st,
    )


def subjects_of(coded: Coded, exposure: EntityExposure, group: np.ndarray, member: np.ndarray,
              root: np.ndarray, k: int) -> Subjects:
    """Rule inputs for k subjects given memberships (subject index, member code)."""
    net = exposure.own_net[member]
    exempt = coded.exempt[member]
    counted = np.where(exempt, 0.0, net)
    is_bank = coded.kind[member] == EntityKind.bank.value
    sizes = np.bincount(group, minlength=k)
    return Subjects(
        exposure=np.bincount(group, weights=counted, minlength=k),
        loans=np.bincount(group, weights=np.where(exempt, 0.0, exposure.loans[member]),
                          minlength=k),
        kind=coded.kind[root],
        any_gsib=np.bincount(group, weights=coded.gsib[member], minlength=k) > 0,
        any_bank=np.bincount(group, weights=is_bank, minlength=k) > 0,
        non_bank_exposure=np.bincount(group, weights=np.where(is_bank, 0.0, counted),
                                      minlength=k),
        all_exempt=np.bincount(group, weights=exempt, minlength=k) == sizes,
    )
