"""The check of one proposal in plain Python: :mod:`._solver` step for step, on floats.

A single ``check`` touches a handful of rows and rules; numpy's cost per call would dominate, so the
same arithmetic (the same operations in the same order, hence the same answers) runs on floats
here. A test holds the two to agree on random books and proposals.

The code is laid out for the interpreter, which pays for every call, list and attribute read:

- a row's standing before the facility, each rule's cap and the rules at the amount asked (what
  ``check`` shows) are worked out once, when the row is made (:func:`_row`), in one pass over the
  rules;
- "does this amount pass?" (:func:`_fails_at`) builds no list and stops at the first failure;
- the relief and replaced rules cost nothing where a scope has none (``ScopeRules.plain``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..core.exposures import LOAN_PRODUCTS, ON_BALANCE_PRODUCTS, ccf_used, split
from ..core.limits import relief_applies
from ..model.schema import Product
from ._index import CheckIndex, ScopeRules

__all__ = ["OneVerdict", "Proposal", "Row", "judge_one", "read", "rule_values"]

INF = math.inf
_PRODUCTS = frozenset(p.value for p in Product)


@dataclass(slots=True)
class Proposal:
    """One proposed facility, as :class:`~.proposals.Proposals` in floats (the fast path of
    ``check``); read only (not frozen: a frozen dataclass costs several microseconds per proposal
    to build)."""

    entity_id: str
    product: str
    currency: str
    drawn: float  # in the proposal's currency, as given
    undrawn: float
    obligor: int
    guarantor: int
    amount: float
    w: float
    fixed: float
    loan_w: float
    collateral: float
    guarantee: float
    eligible: bool
    rate: float


def _absent(x: Any) -> bool:
    """None or NaN (``math.isnan``: a numpy float's ``x != x`` would give a numpy bool)."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def _amount_ok(x: Any) -> bool:
    """A number the column rules read as itself, finite and >= 0.

    Compared as a Python float: a numpy float is a ``float`` to the type checker, but its
    comparison gives a numpy bool, which the compiled module refuses where a bool is declared.
    """
    if isinstance(x, bool) or not isinstance(x, float | int):
        return False
    try:
        v = float(x)
    except OverflowError:  # an int beyond any float: the table path says what is wrong
        return False
    return math.isfinite(v) and v >= 0.0


def read(ix: CheckIndex, entity_id: Any, amount: Any, product: Any, drawn: Any, undrawn: Any,
         ccf: Any, currency: Any, guarantor_id: Any, guaranteed_amount: Any,
         collateral_value: Any) -> Proposal | None:
    """The proposal where the column rules surely accept it, else None (the table path then
    reads it, and gives the messages): :func:`.proposals.one`'s fast path."""
    code = ix.code_of(entity_id) if isinstance(entity_id, str) else -1
    g_code = -1
    # ``x is None or _absent(x)``: most arguments are left out, and a call costs more than a test
    no_amount = amount is None or _absent(amount)
    no_drawn = drawn is None or _absent(drawn)
    no_undrawn = undrawn is None or _absent(undrawn)
    no_ccf = ccf is None or _absent(ccf)
    no_currency = currency is None or _absent(currency)
    no_g = guarantor_id is None or _absent(guarantor_id)
    no_guarantee = guaranteed_amount is None or _absent(guaranteed_amount)
    if not (code >= 0 and isinstance(product, str) and product in _PRODUCTS
            and (no_amount or _amount_ok(amount)) and (no_drawn or _amount_ok(drawn))
            and (no_undrawn or _amount_ok(undrawn))
            and (no_guarantee or _amount_ok(guaranteed_amount))
            and _amount_ok(collateral_value)
            and (no_ccf or (_amount_ok(ccf) and ccf <= 1.0))
            and (no_currency or (isinstance(currency, str) and currency in ix.fx))):
        return None
    if not no_g:
        g_code = ix.code_of(guarantor_id) if isinstance(guarantor_id, str) else -1
        if g_code < 0 or g_code == code:
            return None
    on = product in ON_BALANCE_PRODUCTS
    no_side = no_drawn if on else no_undrawn
    if not no_amount and not (no_side or (drawn if on else undrawn) == 0):
        return None  # the amount and the same part again: the table path says what is wrong
    if no_amount and no_drawn and no_undrawn:
        return None  # no amount at all
    ccy: str = ix.currency if no_currency else currency
    rate = float(ix.fx[ccy])
    d = 0.0 if no_drawn else float(drawn)
    u = 0.0 if no_undrawn else float(undrawn)
    if not no_amount:
        if on:
            d = float(amount)
        else:
            u = float(amount)
    factor = float(ccf_used(ix.ccf[product], math.nan if no_ccf else float(ccf), ix.policy))
    is_loan = product in LOAN_PRODUCTS
    d_r, u_r = d * rate, u * rate
    eligible = g_code >= 0 and bool(ix.eligible[g_code])
    return Proposal(
        entity_id, product, ccy, d, u, code, g_code, d_r if on else u_r, 1.0 if on else factor,
        factor * u_r if on else d_r, 1.0 if is_loan else 0.0, float(collateral_value) * rate,
        math.nan if no_guarantee else float(guaranteed_amount) * rate, eligible, rate)


@dataclass(slots=True)
class Row:
    """One touched subject of one scope: its rules before the facility, their caps, and the rules
    at the amount asked. Lists run over the scope's rules."""

    sr: ScopeRules
    subject: int
    e_o: bool  # the obligor's net exposure counts here
    e_g: bool  # the guarantor's guaranteed part counts here
    nb_o: bool  # ... and in the non-bank exposure (the CRR relief)
    nb_g: bool
    exp: float
    loans: float
    nb: float
    static: list[bool]  # applies whatever the facility adds
    ab: list[bool]  # before: applies, ratio, measure, breached
    rb: list[float]
    mb: list[float]
    held: list[bool]  # applies and breached before: a facility adding nothing to it may pass
    caps: list[float]
    relief_caps: list[float]
    aa: list[bool]  # at the amount asked: applies, ratio, measure, breached, fails
    ra: list[float]
    ma: list[float]
    ba: list[bool]
    fails: list[bool]
    failing: bool = False  # some rule fails at the amount asked
    over_after: bool = False  # some rule applies and is breached at the amount asked
    adds_to_held: bool = False  # some failing rule was already breached before


@dataclass(frozen=True, slots=True)
class OneVerdict:
    """As :class:`._solver.Verdict`, for one proposal; ``binding`` is (row, rule) or None."""

    approved: bool
    max_amount: float
    reason: str
    binding: tuple[int, int] | None
    rows: list[Row]


def _rows(ix: CheckIndex, p: Proposal, d: tuple[float, float, float], tier1: float
          ) -> list[Row]:
    """Every touched row, with its rules before and at the deltas ``d`` of the amount asked."""
    ob, gu = p.obligor, p.guarantor
    has_g = p.eligible and gu >= 0
    out: list[Row] = []
    ex_o = not ix.exempt[ob]
    ex_g = has_g and not ix.exempt[gu]
    bank_o = bool(ix.bank[ob])
    bank_g = has_g and bool(ix.bank[gu])
    sr = ix.group
    if sr.rules:
        ob_groups = ix.groups_of_one(ob)
        if has_g:
            gu_groups = ix.groups_of_one(gu)
            ob_set, gu_set = set(ob_groups), set(gu_groups)
            grp = sorted(ob_set | gu_set)
        else:
            grp = ob_groups if len(ob_groups) < 2 else sorted(set(ob_groups))
        if ix.single.rules:
            sizes = ix.sizes
            grp = [g for g in grp if sizes[g] > 1]
        for g in grp:
            e_o = (not has_g or g in ob_set) and ex_o
            e_g = has_g and g in gu_set and ex_g
            out.append(_row(sr, g, e_o, e_g, e_o and not bank_o, e_g and not bank_g, p, d,
                            tier1))
    sr = ix.single
    if sr.rules:
        out.append(_row(sr, ob, ex_o, False, ex_o and not bank_o, False, p, d, tier1))
        if has_g:
            out.append(_row(sr, gu, False, ex_g, False, ex_g and not bank_g, p, d, tier1))
    return out


def _applies(sr: ScopeRules, static: list[bool], nb: float, tier1: float) -> list[bool]:
    """The rules that apply at non-bank exposure ``nb``, where a scope has relief or replaced
    rules (else ``static`` itself)."""
    applies = list(static)
    if sr.has_relief:
        for i, rule in enumerate(sr.rules):
            if sr.relief[i] is not None:
                applies[i] = applies[i] and bool(relief_applies(rule, nb, tier1))
    for i, j in sr.replaces:
        applies[j] = applies[j] and not applies[i]
    return applies


def _row(sr: ScopeRules, s: int, e_o: bool, e_g: bool, nb_o: bool, nb_g: bool, p: Proposal,
         d: tuple[float, float, float], tier1: float) -> Row:
    """The row with its rules before the facility, the cap of every rule, and its rules at the
    deltas ``d`` of the amount asked: one pass over the rules."""
    sub = sr.subjects
    exp0, loans0, nb = float(sub.exposure[s]), float(sub.loans[s]), float(sub.non_bank_exposure[s])
    static = sr.static[:, s].tolist()
    net, g, ln = d
    d_exp = (net if e_o else 0.0) + (g if e_g else 0.0)
    d_loans = ln if e_o else 0.0
    if sr.plain:
        ab = aa = static
    else:
        ab = _applies(sr, static, nb + 0.0, tier1)
        aa = _applies(sr, static, nb + ((net if nb_o else 0.0) + (g if nb_g else 0.0)), tier1)
    exp_b, loans_b = exp0 + 0.0, loans0 + 0.0  # as the table path adds a zero facility
    exp_a, loans_a = exp0 + d_exp, loans0 + d_loans
    rb: list[float] = []
    mb: list[float] = []
    held: list[bool] = []
    caps: list[float] = []
    ra: list[float] = []
    ma: list[float] = []
    ba: list[bool] = []
    fails: list[bool] = []
    loan_cap = e_o and p.loan_w > 0
    failing = over_after = adds_to_held = False
    for i, (is_loans, base, level, room_at) in enumerate(sr.spec):
        if is_loans:
            m, m_a, dm = loans_b, loans_a, d_loans
        else:
            m, m_a, dm = exp_b, exp_a, d_exp
        r = m / base
        over = ab[i] and r > level
        rb.append(r)
        mb.append(m)
        held.append(over)
        h = 0.0 if over else room_at - m
        if is_loans:
            caps.append(-1.0 if h < 0 else (h if loan_cap else INF))
        else:
            caps.append(_inverse(h, e_o, e_g, p))
        r = m_a / base
        b = r > level
        ra.append(r)
        ma.append(m_a)
        ba.append(b)
        if aa[i] and b:
            over_after = True
            if not (dm == 0 and over):
                failing = True
                adds_to_held = adds_to_held or over
                fails.append(True)
                continue
        fails.append(False)
    relief: list[float] = []
    if sr.has_relief:
        for bound in sr.relief:
            if bound is not None:
                relief.append(_inverse(bound - nb, nb_o, nb_g, p))
    return Row(sr, s, e_o, e_g, nb_o, nb_g, exp0, loans0, nb, static, ab, rb, mb, held, caps,
               relief, aa, ra, ma, ba, fails, failing, over_after, adds_to_held)


def _deltas(p: Proposal, a: float) -> tuple[float, float, float]:
    """(net, guaranteed, loans) that amount ``a`` adds."""
    orig = p.fixed + (0.0 if p.w == 0 else p.w * a)
    _, _, g, net = split(orig, p.collateral, p.guarantee, p.eligible)
    if net != net:  # a whole guarantee of an unbounded amount
        net = 0.0
    return net, g, (0.0 if p.loan_w == 0 else p.loan_w * a)


def _fails_at(row: Row, d: tuple[float, float, float], tier1: float) -> bool:
    """Does some rule of the row fail at the deltas ``d`` (breached after, unless it was
    breached before and the facility adds nothing to it)?"""
    net, g, ln = d
    e_o = row.e_o
    d_exp = (net if e_o else 0.0) + (g if row.e_g else 0.0)
    d_loans = ln if e_o else 0.0
    sr = row.sr
    applies = row.static if sr.plain else _applies(
        sr, row.static, row.nb + ((net if row.nb_o else 0.0) + (g if row.nb_g else 0.0)), tier1)
    exp, loans = row.exp + d_exp, row.loans + d_loans
    held = row.held
    for i, (is_loans, base, level, _) in enumerate(sr.spec):
        if applies[i]:
            if is_loans:
                if loans / base > level and not (d_loans == 0 and held[i]):
                    return True
            elif exp / base > level and not (d_exp == 0 and held[i]):
                return True
    return False


def _ok(rows: list[Row], p: Proposal, a: float, tier1: float) -> bool:
    d = _deltas(p, a)
    for r in rows:  # noqa: SIM110 (a loop: no generator per call)
        if _fails_at(r, d, tier1):
            return False
    return True


def _inverse(h: float, e_o: bool, e_g: bool, p: Proposal) -> float:
    g_cap = (INF if p.guarantee != p.guarantee else p.guarantee) if p.eligible else 0.0
    within = e_g and h < g_cap
    rest = h - (g_cap if e_g else 0.0)
    t = h if within else (g_cap + rest if e_o else INF)
    if p.w > 0:
        a = (t + p.collateral - p.fixed) / p.w
        if math.isfinite(a) and p.fixed + p.w * a - p.collateral > t:
            a = math.nextafter(a, -INF)
    else:
        a = INF if max(p.fixed - p.collateral, 0.0) <= t else -1.0
    return -1.0 if (h < 0 or a < 0) else a


def judge_one(ix: CheckIndex, p: Proposal) -> OneVerdict:
    """:func:`._solver.judge` of one proposal."""
    tier1 = ix.tier1
    rows = _rows(ix, p, _deltas(p, p.amount), tier1)
    fast_max = INF
    full = False
    approved = True
    for r in rows:
        for a, c in zip(r.ab, r.caps, strict=True):
            if a and c < fast_max:
                fast_max = c
        if r.sr.has_relief and not full:
            full = any(r.static[i] for i, b in enumerate(r.sr.relief) if b is not None)
        if r.failing:
            approved = False
    ok_fast = _ok(rows, p, fast_max, tier1)
    best = fast_max if ok_fast else 0.0
    if approved and p.amount > best:
        best = p.amount
    full = full or not ok_fast
    nxt = math.nan
    if full:
        best, nxt = _search(rows, p, tier1)
    return OneVerdict(approved, best, _reason(rows, approved),
                      _binding(rows, p, best, fast_max, full, nxt, tier1), rows)


def _search(rows: list[Row], p: Proposal, tier1: float) -> tuple[float, float]:
    cands = {0.0, p.amount, INF}
    for r in rows:
        cands.update(r.caps)
        cands.update(r.relief_caps)
    ordered = sorted(c for c in cands if c >= 0)
    for k in range(len(ordered) - 1, -1, -1):
        if _ok(rows, p, ordered[k], tier1):
            return ordered[k], (ordered[k + 1] if k + 1 < len(ordered) else math.nan)
    return 0.0, math.nan


def _reason(rows: list[Row], approved: bool) -> str:
    if approved:
        for r in rows:
            if r.over_after:
                return "adds_nothing"
        return "within_limits"
    for r in rows:
        if r.adds_to_held:
            return "already_breached"
    return "would_breach"


def _binding(rows: list[Row], p: Proposal, best: float, fast_max: float, full: bool, nxt: float,
             tier1: float) -> tuple[int, int] | None:
    """The (row, rule) that sets max_amount, as :func:`._solver._binding` picks it."""
    finite = math.isfinite(best)
    d_above = None
    if full and finite:
        d_above = _deltas(p, best * 2 + 1 if nxt != nxt else (best + nxt) / 2)
    pick: tuple[bool, float] | None = None
    where = None
    for k, r in enumerate(rows):
        aa, ra = r.aa, r.ra
        if d_above is not None:
            tiers = _fails_list(r, d_above, p, tier1)
        elif full:
            tiers = [False] * len(aa)
        else:
            tiers = [a and c == fast_max and finite for a, c in zip(r.ab, r.caps, strict=True)]
        for i, (tier, limit) in enumerate(zip(tiers, r.sr.limit_list, strict=True)):
            key = (tier, ra[i] / limit if aa[i] else -INF)
            if pick is None or key > pick:
                pick, where = key, (k, i)
    if pick is None or not (pick[0] or math.isfinite(pick[1])):
        return None
    return where


def _fails_list(row: Row, d: tuple[float, float, float], p: Proposal, tier1: float
                ) -> list[bool]:
    """Rule by rule, :func:`_fails_at` (on the rare relief path of ``_binding``)."""
    return _row(row.sr, row.subject, row.e_o, row.e_g, row.nb_o, row.nb_g, p, d, tier1).fails


def rule_values(ix: CheckIndex, v: OneVerdict) -> list[dict[str, Any]]:
    """The before/after values of every rule of every subject touched (the fields of
    :class:`~.check.RuleCheck`)."""
    ids, gids = ix.ids, ix.gids
    out: list[dict[str, Any]] = []
    for row in v.rows:
        sr = row.sr
        ab, rb, aa, ra, ma = row.ab, row.rb, row.aa, row.ra, row.ma
        gid: str | None = None
        eid: str | None = None
        if sr.is_group:
            scope, gid = "group", str(ids[gids[row.subject]])
        else:
            scope, eid = "single", str(ids[row.subject])
        limits = sr.limit_list
        for i, (name, measure, warn_at) in enumerate(sr.shown):
            if not (ab[i] or aa[i]):
                continue
            _, base, breach_at, limit_amount = sr.spec[i]
            out.append({
                "scope": scope, "group_id": gid, "entity_id": eid, "rule": name,
                "measure": measure, "capital_base": base, "limit": limits[i],
                "ratio_before": rb[i],
                "status_before": _status(rb[i], breach_at, warn_at) if ab[i] else "n/a",
                "ratio_after": ra[i],
                "status_after": _status(ra[i], breach_at, warn_at) if aa[i] else "n/a",
                "headroom_after": limit_amount - ma[i] if aa[i] else math.nan})
    return out


def _status(ratio: float, breach_at: float, warn_at: float) -> str:
    """:func:`~groupexposure.core.limits.status_of` from the rule's
    :func:`~groupexposure.core.limits.status_levels`."""
    if ratio > breach_at:
        return "breach"
    return "warning" if ratio >= warn_at else "ok"
