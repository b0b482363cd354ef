"""The pre-approval check (SPEC §6): may we lend X more to this company?

A proposed facility changes the measures of every subject it touches: every group the obligor is
in, the obligor's own single rules, and, where the guarantee is substituted, the guarantor's groups
and single rules. The check re-evaluates only those, without re-running the analysis, from the
result's :class:`~groupexposure.decide._index.CheckIndex` (built once).

``amount`` is the nominal of the product: drawn for ``loan``, ``overdraft`` and ``bond``; the
off-balance nominal for every other product, weighed at its CCF. ``max_amount`` is the largest
nominal of that product still approved (exact: see :mod:`._solver`); ``reason`` says why
(``within_limits``, ``would_breach``, ``already_breached``, ``adds_nothing``); ``binding_rule`` is
the rule that caps ``max_amount``. ``check_many`` judges a whole table at once with the same
arithmetic and the same validation.

Examples
--------
>>> import groupexposure as gx
>>> result = gx.analyze(gx.datasets.ningxia())
>>> d = result.check("RC-SPIN", 100_000_000)
>>> d.approved, round(d.max_amount / 1e6, 2), d.reason
(True, 414.0, 'within_limits')
>>> print(d)
APPROVED RC-SPIN loan 100,000,000 CNY: binding LEX 25% of Tier 1 (group RC-GRP) 12.06% → 15.19% of
limit 25.00%; max 414,000,000 CNY (within_limits). Every rule it touches stays within its limit.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from ..safe import escape
from . import _parts
from . import proposals as _proposals
from ._fast import judge_one, rule_values
from ._frame_fast import clean
from ._parts import Answers, in_parts
from ._solver import REASONS, judge

if TYPE_CHECKING:
    from ..result import AnalysisResult
    from ._index import CheckIndex

__all__ = ["Decision", "RuleCheck", "check", "check_many"]

_REASON_TEXT = {
    "within_limits": "every rule it touches stays within its limit",
    "adds_nothing": "it adds nothing to the rules already over their limit",
    "already_breached": "it adds to a rule already over its limit before it",
    "would_breach": "it would take a rule over its limit",
}


class RuleCheck(BaseModel):
    """One rule of one subject, before and after the proposed facility."""

    model_config = ConfigDict(frozen=True)

    scope: str
    group_id: str | None
    entity_id: str | None
    rule: str
    measure: str
    capital_base: float
    limit: float
    ratio_before: float
    status_before: str
    ratio_after: float
    status_after: str
    headroom_after: float


class Decision(BaseModel):
    """The answer to "may we lend this?": approved, why, the largest amount, every rule touched.

    ``amount`` and ``max_amount`` are nominals of ``product`` in ``currency`` (drawn for loans,
    overdrafts and bonds; off-balance for the others); ``drawn`` and ``undrawn`` the facility as
    judged.
    """

    model_config = ConfigDict(frozen=True)

    entity_id: str
    amount: float
    product: str
    currency: str
    drawn: float
    undrawn: float
    approved: bool
    reason: str
    max_amount: float
    binding_rule: str | None
    binding_subject: str | None
    rules: tuple[RuleCheck, ...]
    reservation_id: str | None = None

    @property
    def table(self) -> pd.DataFrame:
        """The before/after table of every rule touched."""
        return pd.DataFrame([r.model_dump() for r in self.rules],
                            columns=list(RuleCheck.model_fields))

    @property
    def breached_before(self) -> list[RuleCheck]:
        """The touched rules already over their limit before the facility."""
        return [r for r in self.rules if r.status_before == "breach"]

    def __str__(self) -> str:
        verdict = "APPROVED" if self.approved else "DECLINED"
        head = f"{verdict} {self.entity_id} {self.product} {self.amount:,.0f} {self.currency}"
        cap = "unlimited" if math.isinf(self.max_amount) else f"{self.max_amount:,.0f} {self.currency}"
        if self.binding_rule is None:
            text = f"{head}: no limit applies; max {cap} ({self.reason})"
        else:
            b = next(r for r in self.rules
                     if r.rule == self.binding_rule and _subject(r) == self.binding_subject)
            text = (f"{head}: binding {self.binding_rule} ({self.binding_subject}) "
                    f"{b.ratio_before:.2%} → {b.ratio_after:.2%} of limit {b.limit:.2%}; "
                    f"max {cap} ({self.reason})")
        over = self.breached_before
        if over:
            names = "; ".join(f"{_subject(r)} was already over its limit ({r.rule}: "
                              f"{r.ratio_before:.2%} of {r.limit:.2%})" for r in over)
            text += f". Before this facility, {names}"
        return text + f". {_REASON_TEXT[self.reason][0].upper()}{_REASON_TEXT[self.reason][1:]}."

    def _repr_html_(self) -> str:
        return f"<p>{escape(str(self))}</p>" + self.table.to_html(index=False, escape=True)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for audit logs (an unlimited ``max_amount`` is ``None``)."""
        data = self.model_dump()
        if math.isinf(self.max_amount):
            data["max_amount"] = None
        return data

    def to_json(self) -> str:
        """JSON for audit logs."""
        return json.dumps(self.to_dict(), ensure_ascii=False, default=str)


def _subject(r: RuleCheck) -> str:
    return f"group {r.group_id}" if r.scope == "group" else f"entity {r.entity_id}"


def _build(cls: type[BaseModel], values: dict[str, Any], given: set[str]) -> Any:
    """A frozen model from ``values`` computed here, every field given (what ``model_construct``
    does, without its per-field walk: the check's hot path builds several per call).

    ``given`` (the fields "set", as pydantic counts them) is one set shared by every model built
    with it: a frozen model never changes it, and pydantic copies it before any ``model_copy``
    updates it. Sharing it spares one set, and one object for the garbage collector to trace, per
    model: about a sixth of a check's time where the decisions are kept (issue 19.2).
    """
    obj = object.__new__(cls)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", given)
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


_RULE_FIELDS = set(RuleCheck.model_fields)
_DECISION_FIELDS = set(Decision.model_fields) - {"reservation_id"}  # set by a reservation only


def _index(result: AnalysisResult) -> CheckIndex:
    return result._check_index


def check(result: AnalysisResult, entity_id: str, amount: float | None = None,
          product: str = "loan", *, drawn: float | None = None, undrawn: float | None = None,
          ccf: float | None = None, currency: str | None = None, guarantor_id: str | None = None,
          guaranteed_amount: float | None = None, collateral_value: float = 0.0) -> Decision:
    """Would one more facility keep every rule it touches? (SPEC §6).

    ``amount`` is the nominal of ``product`` (drawn for loan, overdraft, bond; undrawn for the
    others); or give ``drawn=`` and ``undrawn=`` for a facility that is both. An invalid proposal
    raises :class:`~groupexposure.decide.proposals.ProposalError` (a ``ValueError``) with the
    message ``check_many`` gives for the same row.
    """
    ix = _index(result)
    p = _proposals.one(ix, entity_id, amount, product, drawn=drawn, undrawn=undrawn, ccf=ccf,
                       currency=currency, guarantor_id=guarantor_id,
                       guaranteed_amount=guaranteed_amount, collateral_value=collateral_value)
    v = judge_one(ix, p)
    rows = tuple([_build(RuleCheck, values, _RULE_FIELDS) for values in rule_values(ix, v)])
    binding = None
    if v.binding is not None:
        row = v.rows[v.binding[0]]
        binding = (row.sr.rules[v.binding[1]].name, ix.subject_label(row.sr.is_group, row.subject))
    return _build(Decision, {  # type: ignore[no-any-return]
        "entity_id": p.entity_id, "amount": p.amount / p.rate, "product": p.product,
        "currency": p.currency, "drawn": p.drawn, "undrawn": p.undrawn, "approved": v.approved,
        "reason": v.reason, "max_amount": v.max_amount / p.rate,
        "binding_rule": binding[0] if binding else None,
        "binding_subject": binding[1] if binding else None, "rules": rows,
        "reservation_id": None}, _DECISION_FIELDS)


def check_many(result: AnalysisResult, frame: pd.DataFrame) -> pd.DataFrame:
    """Judge many proposed facilities, each on its own against the current book.

    ``frame`` has ``entity_id`` and ``amount`` (or ``drawn``/``undrawn``) and optionally the
    other arguments of :func:`check` as columns; it is validated as :func:`check` validates one
    proposal (every problem of every row raised together). Returns the proposal's columns, then
    ``approved``, ``reason``, ``max_amount`` (a nominal of the row's product in its currency; inf
    where no limit applies), ``binding_rule`` and ``binding_subject``.

    A large clean table is judged in parts on threads (:mod:`._parts`): the proposals are
    independent, so the answers are those of one pass.
    """
    ix = _index(result)
    if "entity_id" not in frame or not ({"amount", "drawn", "undrawn"} & set(frame.columns)):
        missing = [c for c in ("entity_id", "amount") if c not in frame]
        raise ValueError(f"check_many needs the columns {', '.join(missing)} (or drawn and "
                         f"undrawn for amount); found {', '.join(map(str, frame.columns))}")
    answers = in_parts(ix, frame, _clean_answers)
    if answers is None:  # the column-wise reader doubted some part: the column rules read it all
        answers = _answers(ix, _proposals.by_column_rules(ix, frame))
    out = frame.copy()
    out["approved"] = answers.approved
    out["reason"] = _column(answers.reason)
    out["max_amount"] = answers.max_amount
    out["binding_rule"] = _column(answers.binding_rule)
    out["binding_subject"] = _column(answers.binding_subject)
    return out


def _clean_answers(ix: CheckIndex, frame: pd.DataFrame) -> Answers | None:
    """The answers of a part of the table read column-wise, None if it is not surely clean."""
    p = clean(ix, frame)
    return None if p is None else _answers(ix, p)


def _answers(ix: CheckIndex, p: _proposals.Proposals) -> Answers:
    """The verdicts of proposals ``p`` as the columns ``check_many`` shows, judged in blocks of
    :data:`._parts.BLOCK` (whose columns stay in the processor's cache)."""
    n, block = p.obligor.size, _parts.BLOCK
    if n <= block:
        return _block_answers(ix, p)
    return Answers.join([_block_answers(ix, p.part(a, min(a + block, n)))
                         for a in range(0, n, block)])


def _block_answers(ix: CheckIndex, p: _proposals.Proposals) -> Answers:
    """The answers of one block: its verdicts, the binding rule and subject as text."""
    v = judge(ix, p)
    n = p.obligor.size
    rule = np.full(n, -1, dtype=np.int64)
    label = np.full(n, -1, dtype=np.int64)  # in ix.labels_arrow: groups, then entities
    for s, sc in enumerate(v.scopes):
        at = np.flatnonzero(v.binding_scope == s)
        first = 0 if sc.sr.is_group else len(ix.group.rules)
        rule[at] = first + v.binding_rule[at]
        subj = sc.subject[v.binding_row[at]]
        label[at] = subj if sc.sr.is_group else ix.k + subj
    return Answers(
        approved=v.approved, reason=_text(pa.array(v.reason_code.astype(np.int8)),
                                          REASONS.tolist()),
        max_amount=v.max_amount / p.rate,
        binding_rule=_text(pa.array(rule, mask=rule < 0), ix.rule_names),
        binding_subject=ix.labels_arrow.take(pa.array(label, mask=label < 0)))


def _text(codes: pa.Array, values: list[str]) -> pa.Array:
    """A text array from codes into ``values`` (null codes: missing), built in arrow."""
    return pa.DictionaryArray.from_arrays(codes, pa.array(values, type=pa.string())).cast(
        pa.string())


def _column(arr: pa.Array) -> Any:
    """An arrow text array as the column pandas makes of text (its default string type)."""
    return arr.to_pandas().array
