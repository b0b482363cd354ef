"""The check of one proposal in plain Python: :mod:`._solver` step for step, on floats.

A single ``check`` touches a handful of rows and rules; numpy's cost per call would dominate, so the
same arithmetic (the same operations in the same order, hence the same answers) runs on floats
here. A test holds the two to agree on random books and proposals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..core.exposures import split
from ..core.limits import breached, relief_applies
from ._index import CheckIndex, ScopeRules
from .proposals import Proposal

__all__ = ["Row", "judge_one"]

INF = math.inf


@dataclass
class Row:
    """One touched subject of one scope, with its rules before and after (at the amount asked)."""

    sr: ScopeRules
    subject: int
    e_o: bool
    e_g: bool
    nb_o: bool
    nb_g: bool
    exp: float
    loans: float
    nb: float
    static: list[bool]
    before: tuple[list[bool], list[float], list[float], list[float], list[bool]] | None = None
    after: tuple[list[bool], list[float], list[float], list[float], list[bool]] | None = None
    caps: list[float] | None = None
    relief_caps: list[float] | None = None


@dataclass(frozen=True)
class OneVerdict:
    """As :class:`._solver.Verdict`, for one proposal; ``binding`` is (row, rule) or None."""

    approved: bool
    max_amount: float
    reason: str
    binding: tuple[int, int] | None
    rows: list[Row]


def _rows(ix: CheckIndex, p: Proposal) -> list[Row]:
    ob, gu = p.obligor, p.guarantor
    has_g = p.eligible and gu >= 0
    ob_groups = ix.groups_of_one(ob)
    gu_groups = ix.groups_of_one(gu) if has_g else []
    out: list[Row] = []
    ex_o = not ix.exempt[ob]
    ex_g = has_g and not ix.exempt[gu]
    bank_o = bool(ix.bank[ob])
    bank_g = has_g and bool(ix.bank[gu])
    sr = ix.group
    if sr.rules:
        grp = sorted(set(ob_groups) | set(gu_groups))
        if ix.single.rules:
            grp = [g for g in grp if ix.sizes[g] > 1]
        ob_set, gu_set = set(ob_groups), set(gu_groups)
        for g in grp:
            e_o = g in ob_set and ex_o
            e_g = g in gu_set and ex_g
            out.append(_row(sr, g, e_o, e_g, e_o and not bank_o, e_g and not bank_g))
    sr = ix.single
    if sr.rules:
        out.append(_row(sr, ob, ex_o, False, ex_o and not bank_o, False))
        if has_g:
            out.append(_row(sr, gu, False, ex_g, False, ex_g and not bank_g))
    return out


def _row(sr: ScopeRules, s: int, e_o: bool, e_g: bool, nb_o: bool, nb_g: bool) -> Row:
    sub = sr.subjects
    return Row(sr, s, e_o, e_g, nb_o, nb_g, float(sub.exposure[s]), float(sub.loans[s]),
               float(sub.non_bank_exposure[s]), sr.static[:, s].tolist())


def _deltas(p: Proposal, a: float | None) -> tuple[float, float, float]:
    """(net, guaranteed, loans) that amount ``a`` adds (None: nothing)."""
    if a is None:
        return 0.0, 0.0, 0.0
    orig = p.fixed + (0.0 if p.w == 0 else p.w * a)
    _, _, g, net = split(orig, p.collateral, p.guarantee, p.eligible)
    if net != net:
        net = 0.0
    return net, g, (0.0 if p.loan_w == 0 else p.loan_w * a)


def _eval(row: Row, d: tuple[float, float, float], tier1: float
          ) -> tuple[list[bool], list[float], list[float], list[float], list[bool]]:
    net, g, ln = d
    d_exp = (net if row.e_o else 0.0) + (g if row.e_g else 0.0)
    d_loans = ln if row.e_o else 0.0
    sr = row.sr
    applies = list(row.static)
    exp, loans = row.exp + d_exp, row.loans + d_loans
    measure = [loans if is_loans else exp for is_loans in sr.loans]
    delta = [d_loans if is_loans else d_exp for is_loans in sr.loans]
    if sr.has_relief:
        d_nb = (net if row.nb_o else 0.0) + (g if row.nb_g else 0.0)
        for i, rule in enumerate(sr.rules):
            if sr.relief[i] is not None:
                applies[i] = applies[i] and bool(relief_applies(rule, row.nb + d_nb, tier1))
    for i, j in sr.replaces:
        applies[j] = applies[j] and not applies[i]
    ratio = [m / b for m, b in zip(measure, sr.base_list, strict=True)]
    breach = [breached(r, lim) for r, lim in zip(ratio, sr.limit_list, strict=True)]
    return applies, ratio, measure, delta, breach


def _fails(row: Row, ev: tuple[list[bool], list[float], list[float], list[float], list[bool]]
           ) -> list[bool]:
    assert row.before is not None
    ab, _, _, _, bb = row.before
    applies, _, _, delta, breach = ev
    return [applies[i] and breach[i] and not (delta[i] == 0 and ab[i] and bb[i])
            for i in range(len(applies))]


def _ok(rows: list[Row], p: Proposal, a: float, tier1: float) -> bool:
    d = _deltas(p, a)
    return not any(any(_fails(r, _eval(r, d, tier1))) for r in rows)


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


def _caps(row: Row, p: Proposal) -> None:
    assert row.before is not None
    applies, _, measure, _, breach = row.before
    sr = row.sr
    caps, relief = [], []
    for i in range(len(sr.rules)):
        room = sr.limit_list[i] * sr.base_list[i] - measure[i]
        h = 0.0 if applies[i] and breach[i] else room
        if sr.loans[i]:
            caps.append(-1.0 if h < 0 else (h if row.e_o and p.loan_w > 0 else INF))
        else:
            caps.append(_inverse(h, row.e_o, row.e_g, p))
        bound = sr.relief[i]
        if bound is not None:
            relief.append(_inverse(bound - row.nb, row.nb_o, row.nb_g, p))
    row.caps, row.relief_caps = caps, relief


def judge_one(ix: CheckIndex, p: Proposal) -> OneVerdict:
    """:func:`._solver.judge` of one proposal."""
    tier1 = ix.tier1
    rows = _rows(ix, p)
    fast_max = INF
    full = False
    for r in rows:
        r.before = _eval(r, (0.0, 0.0, 0.0), tier1)
        _caps(r, p)
        assert r.caps is not None
        for i, c in enumerate(r.caps):
            if r.before[0][i] and c < fast_max:
                fast_max = c
        full = full or any(r.static[i] for i, b in enumerate(r.sr.relief) if b is not None)
    d_req = _deltas(p, p.amount)
    fails_req = []
    for r in rows:
        r.after = _eval(r, d_req, tier1)
        fails_req.append(_fails(r, r.after))
    approved = not any(any(f) for f in fails_req)
    ok_fast = _ok(rows, p, fast_max, tier1)
    best = fast_max if ok_fast else 0.0
    if approved and p.amount > best:
        best = p.amount
    full = full or not ok_fast
    nxt = math.nan
    if full:
        best, nxt = _search(rows, p, tier1)
    return OneVerdict(approved, best, _reason(rows, fails_req, approved),
                      _binding(rows, p, best, fast_max, full, nxt, tier1), rows)


def _search(rows: list[Row], p: Proposal, tier1: float) -> tuple[float, float]:
    cands = {0.0, p.amount, INF}
    for r in rows:
        assert r.caps is not None and r.relief_caps is not None
        cands.update(r.caps)
        cands.update(r.relief_caps)
    ordered = sorted(c for c in cands if c >= 0)
    for k in range(len(ordered) - 1, -1, -1):
        if _ok(rows, p, ordered[k], tier1):
            return ordered[k], (ordered[k + 1] if k + 1 < len(ordered) else math.nan)
    return 0.0, math.nan


def _reason(rows: list[Row], fails_req: list[list[bool]], approved: bool) -> str:
    if approved:
        assert all(r.after is not None for r in rows)
        over = any(a and b for r in rows for a, b in zip(r.after[0], r.after[4], strict=True))  # type: ignore[index]
        return "adds_nothing" if over else "within_limits"
    for r, f in zip(rows, fails_req, strict=True):
        assert r.before is not None
        if any(fi and ab and bb for fi, ab, bb in zip(f, r.before[0], r.before[4], strict=True)):
            return "already_breached"
    return "would_breach"


def _binding(rows: list[Row], p: Proposal, best: float, fast_max: float, full: bool, nxt: float,
             tier1: float) -> tuple[int, int] | None:
    above = best * 2 + 1 if nxt != nxt else (best + nxt) / 2
    d_above = _deltas(p, above) if full and math.isfinite(best) else None
    pick: tuple[bool, float] | None = None
    where = None
    for k, r in enumerate(rows):
        assert r.before is not None and r.after is not None and r.caps is not None
        applies, ratio = r.after[0], r.after[1]
        if d_above is not None:
            tiers = _fails(r, _eval(r, d_above, tier1))
        elif full:
            tiers = [False] * len(applies)
        else:
            finite = math.isfinite(best)
            tiers = [r.before[0][i] and r.caps[i] == fast_max and finite
                     for i in range(len(applies))]
        for i in range(len(applies)):
            util = ratio[i] / r.sr.limit_list[i] if applies[i] else -INF
            key = (tiers[i], util)
            if pick is None or key > pick:
                pick, where = key, (k, i)
    if pick is None or not (pick[0] or math.isfinite(pick[1])):
        return None
    return where
