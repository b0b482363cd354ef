"""What the pre-approval check needs, built once from a result (SPEC §6).

The index holds, for every group and every entity, the inputs of the limit rules (the same
:func:`groupexposure.core.limits.subjects_of` the analysis uses), which rules apply whatever a new
facility adds, who is in which group, and the sorted control relation that explanations search.
It reads the result's arrays and never calls back into the pipeline. ``result._check_index``
builds it on first use and keeps it.

>>> import groupexposure as gx
>>> ix = gx.analyze(gx.datasets.ningxia())._check_index
>>> ix.code_of("TM") >= 0, ix.code_of("nobody")
(True, -1)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._arrays import expand, isin_sorted, unique_inverse
from ..core.limits import (
    Subjects,
    rule_base,
    rule_limit,
    static_applies,
    status_levels,
    subjects_of,
)
from ..model.issues import close_matches
from ..model.policy import LimitRule
from ..model.schema import EntityKind
from ._lookup import IdLookup

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["CheckIndex", "ScopeRules"]


@dataclass(frozen=True)
class ScopeRules:
    """The rules of one scope (group or single) and what of them is fixed before any facility."""

    is_group: bool
    rules: tuple[LimitRule, ...]
    limit: np.ndarray  # per rule
    base: np.ndarray  # capital base amount per rule
    loans: tuple[bool, ...]  # the rule measures loans (else exposure)
    relief: tuple[float | None, ...]  # the relief's bound on non-bank exposure (an amount)
    replaces: tuple[tuple[int, int], ...]  # (i, j): rule i, where it applies, takes j's place
    subjects: Subjects
    static: np.ndarray  # (rules, subjects): applies whatever a facility adds
    # the same, a row per subject, as ``check_many`` gathers them (one look at memory per row):
    # (subjects, 3) exposure, loans, non-bank exposure; (subjects, rules) ``static``
    values: np.ndarray
    static_rows: np.ndarray
    limit_list: list[float]  # the same as Python floats (the one-proposal path)
    base_list: list[float]
    has_relief: bool  # some rule's applicability depends on amounts (the CRR relief)
    plain: bool  # no relief and no replaced rule: what applies is ``static``
    # per rule, for the one-proposal path: (measures loans, capital base, ratio above which it
    # is breached, the limit as an amount), and (name, measure, ratio from which it is warned)
    spec: tuple[tuple[bool, float, float, float], ...]
    shown: tuple[tuple[str, str, float], ...]


def _scope(is_group: bool, rules: tuple[LimitRule, ...], subjects: Subjects,
           result: AnalysisResult) -> ScopeRules:
    cap, fx = result.capital, result.fx
    tier1 = float(cap.tier1)
    names = [r.name for r in rules]
    static = np.zeros((len(rules), len(subjects.exposure)), dtype=bool)
    for i, rule in enumerate(rules):
        static[i] = static_applies(rule, subjects, cap)
    limit = np.array([rule_limit(r, cap, fx) for r in rules], dtype=np.float64)
    base = np.array([rule_base(r, cap) for r in rules], dtype=np.float64)
    wl = result.policy.warning_level
    levels = [status_levels(lim, wl) for lim in limit.tolist()]
    has_relief = any(r.relief is not None for r in rules)
    replaces = tuple((i, names.index(j)) for i, r in enumerate(rules) for j in r.replaces)
    return ScopeRules(
        is_group=is_group, rules=rules, limit=limit, base=base,
        limit_list=limit.tolist(), base_list=base.tolist(),
        loans=tuple(r.measure == "loans" for r in rules),
        relief=tuple(None if r.relief is None else r.relief.non_institution_limit * tier1
                     for r in rules),
        replaces=replaces, subjects=subjects, static=static, has_relief=has_relief,
        values=np.column_stack([subjects.exposure, subjects.loans, subjects.non_bank_exposure]
                               ).astype(np.float64),
        static_rows=np.ascontiguousarray(static.T),
        plain=not (has_relief or replaces),
        spec=tuple((r.measure == "loans", b, lv[0], lim * b) for r, b, lv, lim
                   in zip(rules, base.tolist(), levels, limit.tolist(), strict=True)),
        shown=tuple((r.name, r.measure, lv[1]) for r, lv in zip(rules, levels, strict=True)))


class CheckIndex:
    """The result's facts that every check reads, computed once."""

    def __init__(self, result: AnalysisResult) -> None:
        c, m = result.coded, result.membership
        pol = result.policy
        self.policy = pol
        self.capital = result.capital
        self.fx = dict(result.fx)
        self.currency = result.capital.currency
        self.tier1 = float(result.capital.tier1)
        self.ccf = {p.value: float(f) for p, f in pol.ccf.items()}
        self.ids = result.ids
        self.index = pd.Index(c.ids)
        self.n = int(c.ids.size)
        self.gids, gpos = unique_inverse(m.group)
        self.k = int(self.gids.size)
        self.sizes = np.bincount(gpos, minlength=self.k)
        order = np.lexsort((gpos, m.member))  # by member, each member's groups ascending
        self.member_ptr = np.concatenate([[0], np.cumsum(np.bincount(m.member, minlength=self.n))])
        self.member_groups = gpos[order]
        self.member_keys = np.sort(gpos.astype(np.int64) * self.n + m.member)
        self.exempt = np.asarray(c.exempt, dtype=bool)
        self.bank = np.asarray(c.kind == EntityKind.bank.value, dtype=bool)
        self.flags = self.exempt.astype(np.uint8) | (self.bank.astype(np.uint8) << 1)
        """Per entity, ``exempt`` (bit 1) and ``bank`` (bit 2): one look-up for both."""
        eligible_kinds = {k.value for k in pol.eligible_guarantor_kinds}
        self.eligible = pd.Series(c.kind).isin(eligible_kinds).to_numpy()
        codes = np.arange(self.n)
        group_subjects = subjects_of(c, result.exposure, gpos, m.member, self.gids, self.k)
        entity_subjects = subjects_of(c, result.exposure, codes, codes, codes, self.n)
        self.group = _scope(True, pol.rules_for("group"), group_subjects, result)
        self.single = _scope(False, pol.rules_for("single"), entity_subjects, result)
        self.rule_names = [r.name for r in (*self.group.rules, *self.single.rules)]
        """Every rule's name, group rules first (the codes of ``check_many``'s binding rule)."""
        self._control = result.control  # asked only by explanations, never materialised here
        # the tables of check_many, made here so that no check_many pays for them (0.2 to 0.3 s
        # at 1M entities, where a million proposals take 0.4 s)
        _ = self.id_lookup, self.labels_arrow

    @cached_property
    def ids_arrow(self) -> pa.Array:
        """The entity ids as an arrow text array (code order), for column-wise look-ups."""
        return pa.array(self.ids, type=pa.string())

    @cached_property
    def labels_arrow(self) -> pa.Array:
        """Every subject's label as ``check_many`` shows it: ``group G`` for each group position,
        then ``entity E`` for each entity code (at ``k + code``)."""
        groups = pc.binary_join_element_wise("group ", self.ids_arrow.take(pa.array(self.gids)), "")
        entities = pc.binary_join_element_wise("entity ", self.ids_arrow, "")
        return pa.concat_arrays([groups, entities])

    @cached_property
    def id_lookup(self) -> IdLookup | None:
        """The ids' hash table for whole columns (None where the ids do not fit one)."""
        return IdLookup.of(self.ids_arrow)

    @cached_property
    def codes(self) -> dict[str, int]:
        """Entity id → code, for one look-up at a time (a dict: a few µs less per check than
        the index, which serves whole columns)."""
        return dict(zip(self.ids.tolist(), range(self.n), strict=True))

    def code_of(self, entity_id: str) -> int:
        """The entity's code, -1 where it is not in the book."""
        try:
            return self.codes.get(entity_id, -1)
        except TypeError:  # an unhashable value is no id
            return -1

    def code(self, entity_id: str) -> int:
        """The entity's code; an unknown id raises ``ValueError`` with close matches."""
        x = self.code_of(entity_id)
        if x < 0:
            raise ValueError(self.unknown(entity_id, "entity"))
        return x

    def unknown(self, value: str, what: str, *, hint: bool = True) -> str:
        """The message for an id that is not in entities.csv (with close matches)."""
        near = close_matches(value, self.ids.tolist()) if hint else []
        tail = f"; did you mean {' or '.join(near)}?" if near else ""
        return f"unknown {what} {value!r}: not in entities.csv{tail}"

    def groups_of(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in ``codes``, group position) for every group each code is in."""
        idx, pos = expand(self.member_ptr, codes)
        return idx, self.member_groups[pos]

    def groups_of_one(self, code: int) -> list[int]:
        """The group positions of one entity, ascending."""
        ptr = self.member_ptr
        groups: list[int] = self.member_groups[ptr[code]:ptr[code + 1]].tolist()
        return groups

    def in_group(self, g: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Element-wise: is entity ``codes`` a member of group position ``g``?"""
        keys = g.astype(np.int64) * self.n + codes
        return np.asarray((codes >= 0) & isin_sorted(keys, self.member_keys))

    def controls(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Element-wise: does ``a`` control ``b`` (directly or through others)?"""
        return np.asarray(self._control.controls(np.asarray(a, np.int64), np.asarray(b, np.int64)),
                          dtype=bool)

    def subject_label(self, is_group: bool, subject: int) -> str:
        """``group G`` or ``entity E``."""
        if is_group:
            return f"group {self.ids[self.gids[subject]]}"
        return f"entity {self.ids[subject]}"
