"""The pre-approval check (SPEC §6): may we lend X more to this company?

A proposed facility changes the measures of every subject it touches: every group the obligor is
in, the obligor's own single rules, and, where the guarantee is substituted, the guarantor's groups
and single rules. The check re-evaluates only those subjects, without re-running the analysis.

``max_amount`` is exact: each measure is a non-decreasing piecewise-linear function of the amount
(collateral, then the guarantee, absorb the first parts), so the largest approved amount is one of
a few candidates: the amount at which some rule's measure meets its limit, or at which the CRR
institution relief stops applying. Every candidate is tested and the largest that passes is taken.
Proposals are judged column-wise, so ``check_many`` handles a whole table at once.

Examples
--------
>>> import groupexposure as gx
>>> result = gx.analyze(gx.datasets.ningxia())
>>> d = result.check("RC-SPIN", 100_000_000)
>>> d.approved, round(d.max_amount / 1e6, 2)
(True, 414.0)
>>> print(d)
APPROVED RC-SPIN loan 100,000,000 CNY: ... max 414,000,000 CNY
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from .._arrays import csr, expand, unique, unique_inverse
from ..core.limits import TOLERANCE, RuleMatrix, Subjects, rule_matrix, subjects_of
from ..model.issues import close_matches
from ..model.schema import EntityKind, Facility, Product
from ..safe import escape

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["Decision", "RuleCheck", "check", "check_many"]

PROPOSAL_COLUMNS = ["entity_id", "amount", "product", "undrawn", "ccf", "currency", "guarantor_id",
                    "guaranteed_amount", "collateral_value"]


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
    """The answer to "may we lend this?": approved, the largest amount, and every rule touched."""

    model_config = ConfigDict(frozen=True)

    entity_id: str
    amount: float
    product: str
    currency: str
    approved: bool
    max_amount: float
    binding_rule: str | None
    binding_subject: str | None
    rules: tuple[RuleCheck, ...]

    @property
    def table(self) -> pd.DataFrame:
        """The before/after table of every rule touched."""
        return pd.DataFrame([r.model_dump() for r in self.rules],
                            columns=list(RuleCheck.model_fields))

    def __str__(self) -> str:
        verdict = "APPROVED" if self.approved else "DECLINED"
        head = f"{verdict} {self.entity_id} {self.product} {self.amount:,.0f} {self.currency}"
        cap = "unlimited" if np.isinf(self.max_amount) else f"{self.max_amount:,.0f} {self.currency}"
        if self.binding_rule is None:
            return f"{head}: no limit applies; max {cap}"
        b = next(r for r in self.rules
                 if r.rule == self.binding_rule and _subject(r) == self.binding_subject)
        return (f"{head}: binding {self.binding_rule} ({self.binding_subject}) "
                f"{b.ratio_before:.2%} → {b.ratio_after:.2%} of limit {b.limit:.2%}; max {cap}")

    def _repr_html_(self) -> str:
        return f"<p>{escape(str(self))}</p>" + self.table.to_html(index=False, escape=True)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for audit logs (an unlimited ``max_amount`` is ``None``)."""
        data = self.model_dump()
        if np.isinf(self.max_amount):
            data["max_amount"] = None
        return data

    def to_json(self) -> str:
        """JSON for audit logs."""
        return json.dumps(self.to_dict(), ensure_ascii=False, default=str)


def _subject(r: RuleCheck) -> str:
    return f"group {r.group_id}" if r.scope == "group" else f"entity {r.entity_id}"


@dataclass(frozen=True)
class _Proposals:
    """Proposed facilities as arrays, amounts in the reporting currency."""

    obligor: np.ndarray
    guarantor: np.ndarray
    amount: np.ndarray
    off: np.ndarray  # ccf * undrawn
    collateral: np.ndarray
    guarantee: np.ndarray  # inf where the whole exposure after collateral is guaranteed
    eligible: np.ndarray
    is_loan: np.ndarray
    rate: np.ndarray


class _Book:
    """What the checks need, computed once per result."""

    def __init__(self, result: AnalysisResult) -> None:

        self.result = result
        c, m = result.coded, result.membership
        self.n = c.ids.size
        self.gids, gpos = unique_inverse(m.group)
        self.k = self.gids.size
        self.sizes = np.bincount(gpos, minlength=self.k)
        self.group_subjects = subjects_of(c, result.exposure, gpos, m.member, self.gids, self.k)
        codes = np.arange(self.n)
        self.entity_subjects = subjects_of(c, result.exposure, codes, codes, codes, self.n)
        order = np.argsort(m.member, kind="stable")
        self.member_ptr = np.concatenate([[0], np.cumsum(np.bincount(m.member, minlength=self.n))])
        self.member_groups = gpos[order]
        self.member_keys = np.sort(gpos.astype(np.int64) * self.n + m.member)
        self.exempt = c.exempt
        self.bank = c.kind == EntityKind.bank.value
        pol = result.policy
        self.single_rules = pol.rules_for("single")
        self.group_rules = pol.rules_for("group")
        self.eligible_kinds = {k.value for k in pol.eligible_guarantor_kinds}
        self.index = pd.Index(c.ids)

    def code(self, entity_id: str) -> int:
        try:
            return int(self.index.get_loc(entity_id))
        except KeyError:
            near = close_matches(entity_id, self.result.ids.tolist())
            hint = f"; did you mean {' or '.join(near)}?" if near else ""
            raise ValueError(f"unknown entity {entity_id!r}: not in entities.csv{hint}") from None

    def groups_of(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in ``codes``, group position) for every group each code is in."""
        idx, pos = expand(self.member_ptr, codes)
        return idx, self.member_groups[pos]

    def in_group(self, g: np.ndarray, codes: np.ndarray) -> np.ndarray:
        keys = g.astype(np.int64) * self.n + codes
        pos = np.minimum(np.searchsorted(self.member_keys, keys), self.member_keys.size - 1)
        return np.asarray((codes >= 0) & (self.member_keys[pos] == keys))



def _after_collateral(p: _Proposals, a: np.ndarray) -> np.ndarray:
    return np.asarray(np.maximum(a + p.off - p.collateral, 0.0))


def _split(p: _Proposals, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(net, guaranteed) of amount ``a`` (SPEC §4)."""
    after = _after_collateral(p, a)
    g = np.where(p.eligible, np.minimum(p.guarantee, after), 0.0)
    whole = p.eligible & np.isinf(p.guarantee)  # a blank guaranteed_amount covers everything
    with np.errstate(invalid="ignore"):
        return np.where(whole, 0.0, after - g), g


def _inverse(h: np.ndarray, e_o: np.ndarray, e_g: np.ndarray, p: _Proposals) -> np.ndarray:
    """The largest amount whose exposure delta ``e_o * net + e_g * guaranteed`` is at most h;
    -1 where even a zero amount exceeds h; inf where the delta never reaches h."""
    g_cap = np.where(p.eligible, p.guarantee, 0.0)
    with np.errstate(invalid="ignore"):
        within = e_g & (h < g_cap)
        rest = h - np.where(e_g, g_cap, 0.0)
        t = np.where(within, h, np.where(e_o, g_cap + rest, np.inf))
        a = t - p.off + p.collateral
    return np.where((h < 0) | (a < 0), -1.0, a)


@dataclass(frozen=True)
class _Pairs:
    """Each (proposal, subject) touched, with how the proposal moves the subject's measures."""

    prop: np.ndarray
    scope: np.ndarray  # True: group subject; False: entity (single rules)
    subject: np.ndarray  # group position or entity code
    e_o: np.ndarray
    e_g: np.ndarray
    nb_o: np.ndarray
    nb_g: np.ndarray


def _pairs(book: _Book, p: _Proposals) -> _Pairs:
    n_p = p.obligor.size
    parts = []
    ob_i, ob_g = book.groups_of(p.obligor)
    parts.append((ob_i, ob_g))
    has_g = np.flatnonzero(p.eligible & (p.guarantor >= 0))
    if has_g.size:
        gi, gg = book.groups_of(p.guarantor[has_g])
        parts.append((has_g[gi], gg))
    prop = np.concatenate([x[0] for x in parts])
    grp = np.concatenate([x[1] for x in parts])
    if book.single_rules:  # a group of one is held to the single rules: its entity row covers it
        keep = book.sizes[grp] > 1
        prop, grp = prop[keep], grp[keep]
    key = unique(prop.astype(np.int64) * book.k + grp)
    prop, grp = np.divmod(key, book.k)
    ep = np.empty(0, np.int64)
    ee = np.empty(0, np.int64)
    if book.single_rules:
        ep = np.concatenate([np.arange(n_p), has_g])
        ee = np.concatenate([p.obligor, p.guarantor[has_g]])
    prop_all = np.concatenate([prop, ep]).astype(np.int64)
    scope = np.concatenate([np.ones(prop.size, bool), np.zeros(ep.size, bool)])
    subj = np.concatenate([grp, ee]).astype(np.int64)
    ob, gu = p.obligor[prop_all], p.guarantor[prop_all]
    ob_in = np.where(scope, book.in_group(subj, ob), subj == ob)
    gu_in = np.where(scope, book.in_group(subj, gu), subj == gu) & p.eligible[prop_all] & (gu >= 0)
    e_o = ob_in & ~book.exempt[ob]
    e_g = gu_in & ~book.exempt[np.maximum(gu, 0)]
    return _Pairs(prop=prop_all, scope=scope, subject=subj, e_o=e_o, e_g=e_g,
                  nb_o=e_o & ~book.bank[ob], nb_g=e_g & ~book.bank[np.maximum(gu, 0)])


def _sub(p: _Proposals, idx: np.ndarray) -> _Proposals:
    return _Proposals(**{k: v[idx] for k, v in vars(p).items()})


@dataclass(frozen=True)
class _Scope:
    """One scope (group or single rules): its pair rows, base subjects and rules."""

    is_group: bool
    rows: np.ndarray
    base: Subjects
    rules: tuple[Any, ...]
    before: RuleMatrix


def _scopes(book: _Book, pairs: _Pairs) -> list[_Scope]:
    res = book.result
    out = []
    for is_group, rules, subjects in ((True, book.group_rules, book.group_subjects),
                                      (False, book.single_rules, book.entity_subjects)):
        rows = np.flatnonzero(pairs.scope == is_group)
        if rows.size and rules:
            base = subjects.take(pairs.subject[rows])
            out.append(_Scope(is_group, rows, base, rules,
                              rule_matrix(base, rules, res.capital, res.fx)))
    return out


def _after(book: _Book, pairs: _Pairs, p: _Proposals, sc: _Scope, pos: np.ndarray,
           amount: np.ndarray) -> RuleMatrix:
    """The scope's rule matrix with the proposal at ``amount``, for positions ``pos`` of its rows."""
    res = book.result
    r = sc.rows[pos]
    pp = _sub(p, pairs.prop[r])
    net, g = _split(pp, amount)
    eo, eg = pairs.e_o[r], pairs.e_g[r]
    b = sc.base.take(pos)
    subj = Subjects(
        exposure=b.exposure + np.where(eo, net, 0.0) + np.where(eg, g, 0.0),
        loans=b.loans + np.where(eo & pp.is_loan, amount, 0.0),
        kind=b.kind, any_gsib=b.any_gsib, any_bank=b.any_bank,
        non_bank_exposure=b.non_bank_exposure + np.where(pairs.nb_o[r], net, 0.0)
        + np.where(pairs.nb_g[r], g, 0.0),
        all_exempt=b.all_exempt)
    return rule_matrix(subj, sc.rules, res.capital, res.fx)


def _breach(m: RuleMatrix, warning_level: float) -> np.ndarray:
    """Per subject: is any applicable rule breached (the test of :func:`limits.status`)."""
    return np.asarray(((m.ratio > m.limit[:, None] * (1 + TOLERANCE)) & m.applies).any(axis=0))


def _candidates(book: _Book, pairs: _Pairs, p: _Proposals, scopes: list[_Scope]
                ) -> tuple[np.ndarray, np.ndarray]:
    """(proposal, amount) candidates for the largest approved amount, sorted and unique."""
    n_p = p.obligor.size
    props = [np.arange(n_p)] * 3
    amts = [np.zeros(n_p), p.amount, np.full(n_p, np.inf)]
    tier1 = book.result.capital.tier1
    for sc in scopes:
        r = sc.rows
        pp = _sub(p, pairs.prop[r])
        m = sc.before
        for i, rule in enumerate(sc.rules):
            room = m.limit[i] * m.base[i] - m.measure[i]
            if rule.measure == "exposure":
                a = _inverse(room, pairs.e_o[r], pairs.e_g[r], pp)
            else:
                a = np.where(room < 0, -1.0, np.where(pairs.e_o[r] & pp.is_loan, room, np.inf))
            props.append(pairs.prop[r])
            amts.append(a)
            if rule.relief is not None:
                room_nb = rule.relief.non_institution_limit * tier1 - sc.base.non_bank_exposure
                props.append(pairs.prop[r])
                amts.append(_inverse(room_nb, pairs.nb_o[r], pairs.nb_g[r], pp))
    prop = np.concatenate(props)
    amt = np.concatenate(amts)
    keep = amt >= 0
    prop, amt = prop[keep], amt[keep]
    order = np.lexsort((amt, prop))
    prop, amt = prop[order], amt[order]
    first = np.ones(prop.size, dtype=bool)
    first[1:] = (prop[1:] != prop[:-1]) | (amt[1:] != amt[:-1])
    return prop[first].astype(np.int64), amt[first]


@dataclass(frozen=True)
class _Verdict:
    approved: np.ndarray
    max_amount: np.ndarray  # reporting currency
    pairs: _Pairs
    scopes: list[_Scope]
    requested: list[tuple[np.ndarray, RuleMatrix]]  # per scope: (positions, matrix at the amount)


def _judge(book: _Book, p: _Proposals) -> _Verdict:
    """Approved and the largest approved amount for every proposal."""
    wl = book.result.policy.warning_level
    pairs = _pairs(book, p)
    scopes = _scopes(book, pairs)
    n_p = p.obligor.size
    cand_p, cand_a = _candidates(book, pairs, p, scopes)
    cand_bad = np.zeros(cand_p.size, dtype=bool)
    bad_before = np.zeros(n_p, dtype=bool)
    requested = []
    is_req = cand_a == p.amount[cand_p]
    for sc in scopes:
        np.logical_or.at(bad_before, pairs.prop[sc.rows], _breach(sc.before, wl))
        # every candidate of a proposal against every row of the scope for that proposal
        ptr, order = csr(n_p, pairs.prop[sc.rows])
        ci, at = expand(ptr, cand_p)
        pos = order[at]
        m = _after(book, pairs, p, sc, pos, cand_a[ci])
        np.logical_or.at(cand_bad, ci, _breach(m, wl))
        at_req = is_req[ci]
        requested.append((pos[at_req], _columns(m, at_req)))
    ok = ~cand_bad & ~bad_before[cand_p]
    best = np.zeros(n_p)
    np.maximum.at(best, cand_p[ok], cand_a[ok])
    approved = np.ones(n_p, dtype=bool)
    np.logical_and.at(approved, cand_p[is_req], ok[is_req])
    return _Verdict(approved, best, pairs, scopes, requested)


def _columns(m: RuleMatrix, cols: np.ndarray) -> RuleMatrix:
    return RuleMatrix(applies=m.applies[:, cols], ratio=m.ratio[:, cols], limit=m.limit,
                      base=m.base, measure=m.measure[:, cols])


def _proposals(book: _Book, frame: pd.DataFrame) -> _Proposals:
    res = book.result
    pol = res.policy
    n = len(frame)
    product = frame["product"].fillna(Product.loan.value).astype(str).to_numpy()
    currency = frame["currency"].fillna(res.capital.currency).astype(str)
    unknown_ccy = sorted(set(currency) - set(res.fx))
    if unknown_ccy:
        raise ValueError(f"no FX rate for {', '.join(unknown_ccy)}; rates are given for "
                         f"{', '.join(sorted(res.fx))}")
    rate = currency.map(res.fx).to_numpy(np.float64)
    default_ccf = pd.Series(product).map({p.value: f for p, f in pol.ccf.items()}).to_numpy(float)
    row_ccf = frame["ccf"].to_numpy(np.float64)
    ccf = default_ccf if pol.ignore_row_ccf else np.maximum(
        np.where(np.isnan(row_ccf), default_ccf, row_ccf), pol.ccf_floor)
    obligor = book.index.get_indexer(frame["entity_id"].astype(str))
    g_ids = frame["guarantor_id"]
    guarantor = np.full(n, -1, dtype=np.int64)
    has = g_ids.notna().to_numpy()
    guarantor[has] = book.index.get_indexer(g_ids[has].astype(str))
    kinds = res.coded.kind
    eligible = (guarantor >= 0) & pd.Series(kinds[np.maximum(guarantor, 0)]).isin(
        book.eligible_kinds).to_numpy()
    g_amt = frame["guaranteed_amount"].to_numpy(np.float64)
    return _Proposals(
        obligor=obligor.astype(np.int64), guarantor=guarantor,
        amount=frame["amount"].to_numpy(np.float64) * rate,
        off=ccf * frame["undrawn"].fillna(0.0).to_numpy(np.float64) * rate,
        collateral=frame["collateral_value"].fillna(0.0).to_numpy(np.float64) * rate,
        guarantee=np.where(np.isnan(g_amt), np.inf, g_amt * rate), eligible=eligible,
        is_loan=np.isin(product, [Product.loan.value, Product.overdraft.value]), rate=rate)


def _proposal(book: _Book, fac: Facility) -> _Proposals:
    """One validated facility as proposal arrays (no pandas: this is the hot path of ``check``)."""
    res = book.result
    pol = res.policy
    ccy = fac.currency or res.capital.currency
    if ccy not in res.fx:
        raise ValueError(f"no FX rate for {ccy}; rates are given for {', '.join(sorted(res.fx))}")
    rate = res.fx[ccy]
    factor = pol.ccf[fac.product]
    if fac.ccf is not None and not pol.ignore_row_ccf:
        factor = fac.ccf
    if not pol.ignore_row_ccf:
        factor = max(factor, pol.ccf_floor)
    guarantor = book.code(fac.guarantor_id) if fac.guarantor_id is not None else -1
    eligible = guarantor >= 0 and str(res.coded.kind[guarantor]) in book.eligible_kinds
    g = np.inf if fac.guaranteed_amount is None else fac.guaranteed_amount * rate

    def arr(x: object, dtype: type = np.float64) -> np.ndarray:
        return np.array([x], dtype=dtype)

    return _Proposals(
        obligor=arr(book.code(fac.obligor_id), np.int64), guarantor=arr(guarantor, np.int64),
        amount=arr(fac.drawn * rate), off=arr(factor * fac.undrawn * rate),
        collateral=arr(fac.collateral_value * rate), guarantee=arr(g), eligible=arr(eligible, bool),
        is_loan=arr(fac.product in (Product.loan, Product.overdraft), bool), rate=arr(rate))


def book_of(result: AnalysisResult) -> _Book:
    """The check's precomputed view of a result (cached on the result)."""
    return result._decision_book


def check(result: AnalysisResult, entity_id: str, amount: float, product: str = "loan", *,
          undrawn: float = 0.0, ccf: float | None = None, currency: str | None = None,
          guarantor_id: str | None = None, guaranteed_amount: float | None = None,
          collateral_value: float = 0.0) -> Decision:
    """Would one more facility keep every rule it touches? (SPEC §6)."""
    book = book_of(result)
    book.code(entity_id)
    # values taken from a DataFrame row may be NaN where a cell is empty: treat them as not given
    ccf, guaranteed_amount = _given(ccf), _given(guaranteed_amount)
    currency = None if _given(currency) is None else currency
    guarantor_id = None if _given(guarantor_id) is None else guarantor_id
    fac = Facility(facility_id="proposed", obligor_id=entity_id, product=Product(product),
                   drawn=amount, undrawn=undrawn, ccf=ccf, currency=currency,
                   guarantor_id=guarantor_id, guaranteed_amount=guaranteed_amount,
                   collateral_value=collateral_value)
    if fac.guarantor_id == fac.obligor_id:
        raise ValueError("the guarantor must differ from the obligor")
    p = _proposal(book, fac)
    verdict = _judge(book, p)
    rows = _rule_rows(book, verdict)
    ccy = currency or result.capital.currency
    binding = max(rows, key=lambda r: (r.ratio_after / r.limit, -len(_subject(r))), default=None)
    return Decision(
        entity_id=entity_id, amount=float(amount), product=fac.product.value, currency=ccy,
        approved=bool(verdict.approved[0]), max_amount=float(verdict.max_amount[0] / p.rate[0]),
        binding_rule=binding.rule if binding else None,
        binding_subject=_subject(binding) if binding else None, rules=tuple(rows))


def _given(value: Any) -> Any:
    """None for a missing value, including NaN from an empty DataFrame cell."""
    return None if isinstance(value, float) and value != value else value


def _rule_rows(book: _Book, v: _Verdict) -> list[RuleCheck]:
    """The before/after row of every rule of every subject touched (proposal 0)."""
    res = book.result
    wl = res.policy.warning_level
    ids = res.ids
    out: list[RuleCheck] = []
    for sc, (pos, after) in zip(v.scopes, v.requested, strict=True):
        before = sc.before
        for j, col in enumerate(pos):
            subj = v.pairs.subject[sc.rows[col]]
            for i, rule in enumerate(sc.rules):
                was, now = bool(before.applies[i, col]), bool(after.applies[i, j])
                if not (was or now):
                    continue
                limit = float(before.limit[i] if now or was else np.nan)
                r_b, r_a = float(before.ratio[i, col]), float(after.ratio[i, j])
                out.append(RuleCheck(
                    scope="group" if sc.is_group else "single",
                    group_id=str(ids[book.gids[subj]]) if sc.is_group else None,
                    entity_id=None if sc.is_group else str(ids[subj]),
                    rule=rule.name, measure=rule.measure, capital_base=float(before.base[i]),
                    limit=limit, ratio_before=r_b,
                    status_before=_one_status(r_b, limit, wl) if was else "n/a",
                    ratio_after=r_a,
                    status_after=_one_status(r_a, limit, wl) if now else "n/a",
                    headroom_after=float(limit * before.base[i] - after.measure[i, j])
                    if now else float("nan"),
                ))
    return out


def _one_status(ratio: float, limit: float, warning_level: float) -> str:
    """:func:`limits.status` of one ratio."""
    if ratio > limit * (1 + TOLERANCE):
        return "breach"
    return "warning" if ratio >= warning_level * limit * (1 - TOLERANCE) else "ok"


def check_many(result: AnalysisResult, frame: pd.DataFrame) -> pd.DataFrame:
    """Judge many proposed facilities, each on its own against the current book.

    ``frame`` has ``entity_id`` and ``amount`` and optionally the other arguments of
    :func:`check` as columns. Returns one row per proposal: the proposal's columns, then
    ``approved`` and ``max_amount`` (in the proposal's currency; inf where no limit applies).
    """
    book = book_of(result)
    missing = [c for c in ("entity_id", "amount") if c not in frame]
    if missing:
        raise ValueError(f"check_many needs the columns {', '.join(missing)}; found "
                         f"{', '.join(map(str, frame.columns))}")
    f = frame.copy()
    for col, default in (("product", "loan"), ("undrawn", 0.0), ("ccf", np.nan),
                         ("currency", None), ("guarantor_id", None), ("guaranteed_amount", np.nan),
                         ("collateral_value", 0.0)):
        if col not in f:
            f[col] = default
    codes = book.index.get_indexer(f["entity_id"].astype(str))
    if (codes < 0).any():
        bad = f.loc[codes < 0, "entity_id"].astype(str).unique()[:5]
        hints = [f"{b!r}" + (f" (did you mean {' or '.join(close_matches(b, result.ids.tolist()))}?)"
                             if close_matches(b, result.ids.tolist()) else "") for b in bad]
        raise ValueError(f"unknown entity ids in check_many: {', '.join(hints)}")
    bad_product = ~f["product"].fillna("loan").isin([p.value for p in Product])
    if bad_product.any():
        raise ValueError(f"unknown product {f.loc[bad_product, 'product'].iloc[0]!r}; valid: "
                         + ", ".join(p.value for p in Product))
    from ..validate.columns import require_finite  # one finite rule for tables and proposals

    require_finite(f, ["amount", "undrawn", "ccf", "collateral_value", "guaranteed_amount"],
                   table="check_many")
    for col in ("amount", "undrawn", "collateral_value", "guaranteed_amount"):
        if (pd.to_numeric(f[col], errors="coerce") < 0).any():
            raise ValueError(f"{col} must be >= 0 in every proposal")
    p = _proposals(book, f)
    verdict = _judge(book, p)
    out = frame.copy()
    out["approved"] = verdict.approved
    out["max_amount"] = verdict.max_amount / p.rate
    return out


class DecisionBookMixin:
    """Adds the cached check book to a result."""

    @cached_property
    def _decision_book(self) -> _Book:
        return _Book(self)  # type: ignore[arg-type]
