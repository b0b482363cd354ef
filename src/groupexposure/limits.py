"""Limits and flags (SPEC §5): which rules apply to whom, ratios, the binding rule and statuses.

Rules are evaluated column-wise over all subjects (groups or entities) at once: one array of
utilisations per rule, then the highest applicable one is reported.

Comparisons with a limit or threshold allow a relative tolerance of 1e-12, so that a sum of amounts
exactly at a boundary counts as at it (being exactly at a limit is compliant).

Examples
--------
>>> import numpy as np
>>> status(np.array([0.25, 0.2500001, 0.2, 0.19]), np.array([0.25] * 4), 0.8).tolist()
['warning', 'breach', 'warning', 'ok']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .policy import LimitRule, Policy
from .schema import Capital, EntityKind

__all__ = ["Standing", "Subjects", "evaluate", "is_large", "status"]

TOLERANCE = 1e-12


def status(ratio: np.ndarray, limit: np.ndarray, warning_level: float) -> np.ndarray:
    """``breach`` above the limit, ``warning`` from ``warning_level * limit``, else ``ok``."""
    ratio = np.asarray(ratio, dtype=np.float64)
    limit = np.asarray(limit, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        breach = ratio > limit * (1 + TOLERANCE)
        warning = ratio >= warning_level * limit * (1 - TOLERANCE)
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

    def frame(self) -> pd.DataFrame:
        """The standing as columns."""
        return pd.DataFrame(vars(self))


def _base(rule: LimitRule, capital: Capital) -> float:
    value = capital.tier1 if rule.capital_base == "tier1" else capital.total_capital
    assert value is not None  # validation requires total capital where a rule uses it
    return float(value)


def _applies(rule: LimitRule, s: Subjects, capital: Capital, tier1: float, rates: dict[str, float]
             ) -> np.ndarray:
    ok = ~s.all_exempt.copy()
    is_bank = s.kind == EntityKind.bank.value
    if rule.counterparty_kind == "bank":
        ok &= is_bank
    elif rule.counterparty_kind == "non_bank":
        ok &= ~is_bank
    if rule.gsib_to_gsib:
        ok &= s.any_gsib & capital.is_gsib
    if rule.relief is not None:
        ok &= s.any_bank & (
            s.non_bank_exposure <= rule.relief.non_institution_limit * tier1 * (1 + TOLERANCE))
    return ok


def _limit(rule: LimitRule, capital: Capital, rates: dict[str, float]) -> float:
    if rule.relief is None:
        return rule.limit
    base = _base(rule, capital)
    floor = rule.relief.absolute_floor * rates[rule.relief.floor_currency] / base
    return min(max(rule.limit, floor), rule.relief.cap)


def evaluate(subjects: Subjects, rules: tuple[LimitRule, ...], policy: Policy, capital: Capital,
             rates: dict[str, float]) -> Standing:
    """The standing of every subject under ``rules`` (the applicable one most used is reported)."""
    k = len(subjects.exposure)
    tier1 = float(capital.tier1)
    applies = np.zeros((len(rules), k), dtype=bool)
    for i, rule in enumerate(rules):
        applies[i] = _applies(rule, subjects, capital, tier1, rates)
    for i, rule in enumerate(rules):
        for replaced in rule.replaces:
            j = next(j for j, r in enumerate(rules) if r.name == replaced)
            applies[j] &= ~applies[i]
    util = np.full((len(rules), k), -np.inf)
    ratios = np.zeros((len(rules), k))
    limits = np.zeros(len(rules))
    for i, rule in enumerate(rules):
        value = subjects.exposure if rule.measure == "exposure" else subjects.loans
        ratios[i] = value / _base(rule, capital)
        limits[i] = _limit(rule, capital, rates)
        util[i] = np.where(applies[i], ratios[i] / limits[i], -np.inf)
    any_rule = applies.any(axis=0) if rules else np.zeros(k, dtype=bool)
    pick = util.argmax(axis=0) if rules else np.zeros(k, dtype=np.int64)
    cols = np.arange(k)
    names = np.array([r.name for r in rules] + [""], dtype=object)
    measure = np.array([r.measure for r in rules] + [""], dtype=object)
    base_name = np.array([r.capital_base for r in rules] + [""], dtype=object)
    bases = np.array([_base(r, capital) for r in rules] + [np.nan])
    idx = np.where(any_rule, pick, len(rules))
    ratio = np.where(any_rule, ratios[pick, cols] if rules else np.nan, np.nan)
    limit = np.where(any_rule, np.append(limits, np.nan)[idx], np.nan)
    value = np.where(measure[idx] == "loans", subjects.loans, subjects.exposure)
    st = np.where(any_rule, status(ratio, limit, policy.warning_level), "ok").astype(object)
    # a subject whose members are all exempt: ratio 0, no limit, status ok
    ratio = np.where(subjects.all_exempt, 0.0, ratio)
    return Standing(
        rule=names[idx], measure=measure[idx], measure_value=np.where(any_rule, value, np.nan),
        capital_base_name=base_name[idx], capital_base=bases[idx], ratio=ratio, limit=limit,
        utilisation=np.where(any_rule, ratio / limit, np.nan), status=st,
    )
