"""The check's arithmetic over many proposals at once (SPEC §6), column-wise.

Each proposal touches a few *rows*: (proposal, subject) for every group of the obligor (and of an
eligible guarantor) and, where the policy has single rules, the obligor's and guarantor's own entity.
Every measure is a non-decreasing piecewise-linear function of the amount (collateral, then the
guarantee, absorb the first parts), so each rule of each row has a *cap*, the largest amount it
allows: the amount at which the measure meets the limit, or, for a rule breached before the
facility, the largest amount that adds nothing to it. Where no rule's applicability depends on the
amount, ``max_amount`` is the smallest cap of the rules that apply, once it is verified; otherwise
(the CRR relief ends when the non-bank members' exposure passes its bound) every cap and relief
bound is a candidate and the largest that passes is taken. :mod:`._fast` does the same for one
proposal in plain Python, step for step, so that both give the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._arrays import csr, expand
from ..core.exposures import split
from ..core.limits import breached, relief_applies
from ._index import CheckIndex, ScopeRules
from .proposals import Proposals

__all__ = ["REASONS", "Verdict", "judge"]

REASONS = np.array(["within_limits", "adds_nothing", "already_breached", "would_breach"],
                   dtype=object)


@dataclass(frozen=True)
class Eval:
    """Rules x rows at some amounts."""

    applies: np.ndarray
    ratio: np.ndarray
    measure: np.ndarray
    delta: np.ndarray
    breach: np.ndarray


@dataclass(frozen=True)
class Amounts:
    """What the rows' arithmetic reads of their proposals (see :class:`.proposals.Proposals`)."""

    fixed: np.ndarray
    w: np.ndarray
    loan_w: np.ndarray
    collateral: np.ndarray
    guarantee: np.ndarray
    eligible: np.ndarray

    @staticmethod
    def of(p: Proposals, pos: np.ndarray) -> Amounts:
        """Those of proposals ``pos``."""
        return Amounts(p.fixed[pos], p.w[pos], p.loan_w[pos], p.collateral[pos],
                       p.guarantee[pos], p.eligible[pos])

    def take(self, pos: np.ndarray) -> Amounts:
        """Those of rows ``pos``."""
        return Amounts(*(v[pos] for v in vars(self).values()))


@dataclass(frozen=True)
class Scope:
    """The rows of one scope with their flags, base values and the standing before."""

    sr: ScopeRules
    prop: np.ndarray
    subject: np.ndarray
    starts: np.ndarray  # where each proposal's run of rows starts (rows are by proposal)
    pp: Amounts
    e_o: np.ndarray
    e_g: np.ndarray
    nb_o: np.ndarray
    nb_g: np.ndarray
    exp: np.ndarray
    loans: np.ndarray
    nb: np.ndarray
    static: np.ndarray
    before: Eval | None = None

    def take(self, pos: np.ndarray) -> Scope:
        """The scope restricted to rows ``pos``."""
        b = self.before
        assert b is not None
        prop = self.prop[pos]
        return Scope(self.sr, prop, self.subject[pos], _starts(prop),
                     self.pp.take(pos), self.e_o[pos], self.e_g[pos], self.nb_o[pos],
                     self.nb_g[pos], self.exp[pos], self.loans[pos], self.nb[pos],
                     self.static[:, pos], Eval(*(getattr(b, f)[:, pos] for f in vars(b))))


def _rows(ix: CheckIndex, p: Proposals) -> list[Scope]:
    """The touched rows of every proposal, per scope (group rows by group position, then the
    obligor's and the guarantor's own entity)."""
    n_p = p.obligor.size
    single = bool(ix.single.rules)
    has_g = np.flatnonzero(p.eligible & (p.guarantor >= 0))
    # each proposal's obligor and guarantor flags, read once from the book (at random), then
    # per row from these (in order); the same for each subject's values, a row at a time
    ob_flags, gu_flags = ix.flags[p.obligor], ix.flags[np.maximum(p.guarantor, 0)]
    out = []
    for sr, is_group in ((ix.group, True), (ix.single, False)):
        if not sr.rules:
            continue
        if is_group:
            rp, subj, ob_in, gu_in = _group_rows(ix, p, has_g, single)
        else:
            rp = np.concatenate([np.arange(n_p), has_g]).astype(np.int64)
            subj = np.concatenate([p.obligor, p.guarantor[has_g]]).astype(np.int64)
            o = np.argsort(rp, kind="stable")
            rp, subj = rp[o], subj[o]
            ob_in = subj == p.obligor[rp]
            gu_in = (subj == p.guarantor[rp]) & p.eligible[rp] & (p.guarantor[rp] >= 0)
        if not rp.size:
            continue
        fo, fg = ob_flags[rp], gu_flags[rp]
        e_o = ob_in & ((fo & 1) == 0)  # not exempt
        e_g = gu_in & ((fg & 1) == 0)
        values = np.take(sr.values, subj, axis=0)  # a third of the time of sr.values[subj]
        out.append(Scope(sr, rp, subj, _starts(rp), Amounts.of(p, rp), e_o, e_g,
                         e_o & ((fo & 2) == 0), e_g & ((fg & 2) == 0),  # and not a bank
                         values[:, 0], values[:, 1], values[:, 2],
                         np.take(sr.static_rows, subj, axis=0).T))
    return out


def _group_rows(ix: CheckIndex, p: Proposals, has_g: np.ndarray, single: bool
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(proposal, group, obligor in it, guarantor in it) for every group of the obligor and of an
    eligible guarantor, by proposal then group; one sort, the membership read off the origin."""
    ob_i, ob_g = ix.groups_of(p.obligor)
    gi, gg = ix.groups_of(p.guarantor[has_g])
    prop = np.concatenate([ob_i, has_g[gi]]).astype(np.int64)
    grp = np.concatenate([ob_g, gg]).astype(np.int64)
    origin = np.concatenate([np.zeros(ob_i.size, dtype=np.int64), np.ones(gi.size, dtype=np.int64)])
    if single:  # a group of one is held to the single rules: its entity row covers it
        keep = ix.sizes[grp] > 1
        prop, grp, origin = prop[keep], grp[keep], origin[keep]
    # the obligors' rows, then the guarantors', each already by (proposal, group): two sorted runs,
    # which a stable sort (timsort) merges in linear time
    tagged = np.sort((prop * ix.k + grp) * 2 + origin, kind="stable")
    key, by_g = tagged >> 1, (tagged & 1).astype(bool)
    first = np.ones(key.size, dtype=bool)
    np.not_equal(key[1:], key[:-1], out=first[1:])
    seg = np.cumsum(first) - 1
    n_rows = int(seg[-1]) + 1 if seg.size else 0
    ob_in = np.zeros(n_rows, dtype=bool)
    gu_in = np.zeros(n_rows, dtype=bool)
    ob_in[seg[~by_g]] = True
    gu_in[seg[by_g]] = True
    rp, subj = np.divmod(key[first], ix.k)
    return rp, subj, ob_in, gu_in


def _deltas(sc: Scope, a: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """What amount ``a`` adds to each row's exposure, non-bank exposure and loans (the last two
    only where a rule of the scope reads them: a relief, a rule on loans; else None)."""
    pp, sr = sc.pp, sc.sr
    d_nb = d_loans = None
    with np.errstate(invalid="ignore"):
        orig = pp.fixed + np.where(pp.w == 0, 0.0, pp.w * a)
        _, _, g, net = split(orig, pp.collateral, pp.guarantee, pp.eligible)
        net = np.where(np.isnan(net), 0.0, net)  # a whole guarantee of an unbounded amount
        if any(sr.loans):
            d_loans = np.where(sc.e_o, np.where(pp.loan_w == 0, 0.0, pp.loan_w * a), 0.0)
    d_exp = np.where(sc.e_o, net, 0.0) + np.where(sc.e_g, g, 0.0)
    if sr.has_relief:
        d_nb = np.where(sc.nb_o, net, 0.0) + np.where(sc.nb_g, g, 0.0)
    return d_exp, d_nb, d_loans


def _eval(sc: Scope, a: np.ndarray | None, tier1: float) -> Eval:
    """The rules of every row with the proposal at amounts ``a`` (None: before it)."""
    sr = sc.sr
    m = sc.prop.size
    d_exp: np.ndarray
    d_nb: np.ndarray | None
    d_loans: np.ndarray | None
    if a is None:
        d_exp = d_nb = d_loans = np.zeros(m)
    else:
        d_exp, d_nb, d_loans = _deltas(sc, a)
    r = len(sr.rules)
    measure = np.empty((r, m))
    delta = np.empty((r, m))
    applies = sc.static.copy()
    exp = loans = None
    for i, rule in enumerate(sr.rules):
        if sr.loans[i]:
            assert d_loans is not None
            loans = sc.loans + d_loans if loans is None else loans
            measure[i], delta[i] = loans, d_loans
        else:
            exp = sc.exp + d_exp if exp is None else exp
            measure[i], delta[i] = exp, d_exp
        if sr.relief[i] is not None:
            assert d_nb is not None
            applies[i] &= relief_applies(rule, sc.nb + d_nb, tier1)
    for i, j in sr.replaces:
        applies[j] &= ~applies[i]
    ratio = measure / sr.base[:, None]
    return Eval(applies, ratio, measure, delta, breached(ratio, sr.limit[:, None]))


def _fails(sc: Scope, ev: Eval) -> np.ndarray:
    """Rules x rows: breached after, unless breached before and the facility adds nothing."""
    b = sc.before
    assert b is not None
    return np.asarray(ev.applies & ev.breach & ~((ev.delta == 0) & b.applies & b.breach))


@dataclass(frozen=True)
class _Terms:
    """What :func:`_inverse` reads of the proposals of a scope's rows, whatever ``h``."""

    g_cap: np.ndarray  # the guarantee's bound after collateral (inf: the whole; 0: none)
    pos: np.ndarray  # the varied amount weighs on the exposure
    w: np.ndarray  # its weight where positive, else 1
    least: np.ndarray  # the exposure at a zero amount where it does not, after collateral


def _terms(pp: Amounts) -> _Terms:
    with np.errstate(invalid="ignore"):
        g_cap = np.where(pp.eligible, np.where(np.isnan(pp.guarantee), np.inf, pp.guarantee), 0.0)
        pos = pp.w > 0
        return _Terms(g_cap, pos, np.where(pos, pp.w, 1.0), np.maximum(pp.fixed - pp.collateral,
                                                                          0.0))


def _inverse(h: np.ndarray, e_o: np.ndarray, e_g: np.ndarray, pp: Amounts, tm: _Terms
             ) -> np.ndarray:
    """The largest amount whose exposure added, ``e_o * net + e_g * guaranteed``, is at most h;
    -1 where even a zero amount adds more; inf where it never reaches h."""
    g_cap, pos = tm.g_cap, tm.pos
    with np.errstate(invalid="ignore"):
        within = e_g & (h < g_cap)
        rest = h - np.where(e_g, g_cap, 0.0)
        t = np.where(within, h, np.where(e_o, g_cap + rest, np.inf))  # after collateral
        a = np.where(pos, (t + pp.collateral - pp.fixed) / tm.w,
                     np.where(tm.least <= t, np.inf, -1.0))
        over = pos & np.isfinite(a) & (pp.fixed + pp.w * a - pp.collateral > t)
        if over.any():  # rounding: stay at or under h
            a[over] = np.nextafter(a[over], -np.inf)
    return np.where((h < 0) | (a < 0), -1.0, a)


def _inverse_loans(h: np.ndarray, e_o: np.ndarray, pp: Amounts) -> np.ndarray:
    """The largest amount whose loans added, ``e_o * loan_w * a``, is at most h."""
    a = np.where(e_o & (pp.loan_w > 0), h, np.inf)
    return np.where(h < 0, -1.0, a)


def _caps(sc: Scope) -> tuple[np.ndarray, list[np.ndarray]]:
    """Rules x rows: each rule's cap; and the amount at which each relief ends."""
    b = sc.before
    assert b is not None
    sr = sc.sr
    caps = np.empty(b.measure.shape)
    relief = []
    tm = _terms(sc.pp)
    for i in range(len(sr.rules)):
        room = sr.limit[i] * sr.base[i] - b.measure[i]
        h = np.where(b.applies[i] & b.breach[i], 0.0, room)
        caps[i] = _inverse_loans(h, sc.e_o, sc.pp) if sr.loans[i] else _inverse(
            h, sc.e_o, sc.e_g, sc.pp, tm)
        bound = sr.relief[i]
        if bound is not None:
            relief.append(_inverse(bound - sc.nb, sc.nb_o, sc.nb_g, sc.pp, tm))
    return caps, relief


@dataclass(frozen=True)
class Verdict:
    """Per proposal: approved, the largest approved amount (reporting currency), the reason, and
    the binding row and rule (scope position, row, rule; -1 where no rule is touched)."""

    approved: np.ndarray
    max_amount: np.ndarray
    reason_code: np.ndarray  # position in REASONS
    binding_scope: np.ndarray
    binding_row: np.ndarray
    binding_rule: np.ndarray
    scopes: list[Scope]

    @property
    def reason(self) -> np.ndarray:
        """The reason of every proposal (text)."""
        return np.asarray(REASONS[self.reason_code])


def _any(n_p: int, scopes: list[Scope], masks: list[np.ndarray]) -> np.ndarray:
    """Per proposal: is any rule of any of its rows set in ``masks`` (one per scope)? The rows
    of a scope are by proposal: an OR over each proposal's run of rows."""
    out = np.zeros(n_p, dtype=bool)
    for sc, m in zip(scopes, masks, strict=True):
        if not sc.prop.size:
            continue
        out[sc.prop[sc.starts]] |= np.logical_or.reduceat(m.any(axis=0), sc.starts)
    return out


def _starts(prop: np.ndarray) -> np.ndarray:
    """Where each run of equal proposals starts (``prop`` sorted)."""
    if not prop.size:
        return np.zeros(0, dtype=np.intp)
    start = np.ones(prop.size, dtype=bool)
    np.not_equal(prop[1:], prop[:-1], out=start[1:])
    return np.flatnonzero(start)


def _ok_at(n_p: int, scopes: list[Scope], a: np.ndarray, tier1: float) -> np.ndarray:
    """Per proposal: is amount ``a[proposal]`` approved?"""
    return ~_any(n_p, scopes, [_fails(sc, _eval(sc, a[sc.prop], tier1)) for sc in scopes])


def judge(ix: CheckIndex, p: Proposals) -> Verdict:
    """Approved, the largest approved amount, the reason and the binding rule of every proposal."""
    n_p = p.obligor.size
    tier1 = ix.tier1
    scopes = _rows(ix, p)
    scopes = [Scope(**{**vars(sc), "before": _eval(sc, None, tier1)}) for sc in scopes]
    fast_max = np.full(n_p, np.inf)
    full = np.zeros(n_p, dtype=bool)
    caps_all = []
    for sc in scopes:
        caps, relief = _caps(sc)
        caps_all.append((caps, relief))
        row_min = np.where(sc.before.applies, caps, np.inf).min(axis=0)  # type: ignore[union-attr]
        np.minimum.at(fast_max, sc.prop, row_min)
        if relief:
            full[sc.prop[sc.static[[i for i, b in enumerate(sc.sr.relief) if b is not None]]
                         .any(axis=0)]] = True
    req = p.amount
    ev_req = [_eval(sc, req[sc.prop], tier1) for sc in scopes]
    fails_req = [_fails(sc, ev) for sc, ev in zip(scopes, ev_req, strict=True)]
    approved = ~_any(n_p, scopes, fails_req)
    ok_fast = _ok_at(n_p, scopes, fast_max, tier1)
    best = np.where(ok_fast, fast_max, 0.0)
    best = np.where(approved & (req > best), req, best)
    full |= ~ok_fast
    nxt = np.full(n_p, np.nan)
    if full.any():
        idx = np.flatnonzero(full)
        best[idx], nxt[idx] = _search(ix, scopes, caps_all, p, idx, approved)
    reason = _reasons(n_p, scopes, ev_req, fails_req, approved)
    b_scope, b_row, b_rule = _binding(n_p, scopes, caps_all, ev_req, best, fast_max, full, nxt,
                                      tier1)
    return Verdict(approved, best, reason, b_scope, b_row, b_rule, scopes)


def _search(ix: CheckIndex, scopes: list[Scope], caps_all: list[tuple[np.ndarray, list[np.ndarray]]],
            p: Proposals, idx: np.ndarray, approved: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For proposals ``idx``: the largest candidate that passes, and the next candidate above it
    (NaN where none)."""
    n_p = p.obligor.size
    props = [idx, idx, idx]
    amts = [np.zeros(idx.size), p.amount[idx], np.full(idx.size, np.inf)]
    sel = np.zeros(n_p, dtype=bool)
    sel[idx] = True
    for sc, (caps, relief) in zip(scopes, caps_all, strict=True):
        keep = sel[sc.prop]
        for arr in [*caps, *relief]:
            props.append(sc.prop[keep])
            amts.append(arr[keep])
    prop = np.concatenate(props)
    amt = np.concatenate(amts)
    good = amt >= 0
    prop, amt = prop[good], amt[good]
    order = np.lexsort((amt, prop))
    prop, amt = prop[order], amt[order]
    first = np.ones(prop.size, dtype=bool)
    first[1:] = (prop[1:] != prop[:-1]) | (amt[1:] != amt[:-1])
    prop, amt = prop[first], amt[first]
    bad = np.zeros(prop.size, dtype=bool)
    for sc in scopes:
        ptr, order = csr(n_p, sc.prop)
        ci, at = expand(ptr, prop)
        sub = sc.take(order[at])
        f = _fails(sub, _eval(sub, amt[ci], ix.tier1)).any(axis=0)
        bad |= np.bincount(ci, weights=f, minlength=prop.size) > 0
    ok_pos = np.flatnonzero(~bad)
    best = np.zeros(n_p)
    best_pos = np.full(n_p, -1)
    last = np.ones(ok_pos.size, dtype=bool)
    last[:-1] = prop[ok_pos[1:]] != prop[ok_pos[:-1]]
    best[prop[ok_pos[last]]] = amt[ok_pos[last]]
    best_pos[prop[ok_pos[last]]] = ok_pos[last]
    nxt = np.full(n_p, np.nan)
    has = best_pos >= 0
    after = np.minimum(best_pos + 1, prop.size - 1)
    more = has & (best_pos + 1 < prop.size) & (prop[after] == np.arange(n_p))
    nxt[more] = amt[after[more]]
    return best[idx], nxt[idx]


def _reasons(n_p: int, scopes: list[Scope], ev_req: list[Eval], fails_req: list[np.ndarray],
             approved: np.ndarray) -> np.ndarray:
    """Per proposal: the position of its reason in :data:`REASONS`."""
    breach_after = _any(n_p, scopes, [ev.applies & ev.breach for ev in ev_req])
    adds_to_breached = _any(n_p, scopes, [f & sc.before.applies & sc.before.breach  # type: ignore[union-attr]
                                          for sc, f in zip(scopes, fails_req, strict=True)])
    return np.where(approved, np.where(breach_after, 1, 0), np.where(adds_to_breached, 2, 3))


def _binding(n_p: int, scopes: list[Scope], caps_all: list[tuple[np.ndarray, list[np.ndarray]]],
             ev_req: list[Eval], best: np.ndarray, fast_max: np.ndarray, full: np.ndarray,
             nxt: np.ndarray, tier1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rule that sets max_amount: the first the amount would breach as it grows (ties: the
    highest utilisation after); where none limits it, the highest utilisation after. Remaining
    ties go to the first scope, row and rule."""
    above = np.where(np.isnan(nxt), best * 2 + 1, (best + nxt) / 2)
    tiers, utils = [], []
    for sc, (caps, _), ev in zip(scopes, caps_all, ev_req, strict=True):
        utils.append(np.where(ev.applies, ev.ratio / sc.sr.limit[:, None], -np.inf))
        at_cap = sc.before.applies & (caps == fast_max[sc.prop])  # type: ignore[union-attr]
        tier = np.where(full[sc.prop], False, at_cap & np.isfinite(best[sc.prop]))
        if full.any():
            rows = np.flatnonzero(full[sc.prop] & np.isfinite(best[sc.prop]))
            if rows.size:
                sub = sc.take(rows)
                tier[:, rows] = _fails(sub, _eval(sub, above[sc.prop[rows]], tier1))
        tiers.append(tier)
    return _pick(n_p, scopes, tiers, utils)


def _pick(n_p: int, scopes: list[Scope], tiers: list[np.ndarray], utils: list[np.ndarray]
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per proposal, the (scope, row, rule) of the largest (tier, utilisation), NaN above every
    number, ties to the first scope, row and rule; -1 where the largest is neither in the tier nor
    a finite utilisation. Rows are contiguous per proposal: segment maxima, no sort."""
    b_scope = np.full(n_p, -1)
    b_row = np.full(n_p, -1)
    b_rule = np.full(n_p, -1)
    cur_l = np.full(n_p, -1, dtype=np.int8)
    cur_u = np.full(n_p, -np.inf)
    for s, (sc, tier, util) in enumerate(zip(scopes, tiers, utils, strict=True)):
        r, m = tier.shape
        if not (r and m):
            continue
        nan = np.isnan(util)
        lev = tier.astype(np.int8) * 2 + nan  # the tier first, then NaN above any number
        uf = np.where(nan, 0.0, util)
        rl, ru, rr = lev[0].copy(), uf[0].copy(), np.zeros(m, dtype=np.int64)
        for i in range(1, r):  # the best rule of each row (the first of equals)
            better = (lev[i] > rl) | ((lev[i] == rl) & (uf[i] > ru))
            rl = np.where(better, lev[i], rl)
            ru = np.where(better, uf[i], ru)
            rr = np.where(better, i, rr)
        starts = sc.starts
        start = np.zeros(m, dtype=bool)
        start[starts] = True
        seg = np.cumsum(start) - 1
        sl = np.maximum.reduceat(rl, starts)
        top = rl == sl[seg]
        su = np.maximum.reduceat(np.where(top, ru, -np.inf), starts)
        top &= ru == su[seg]
        srow = np.minimum.reduceat(np.where(top, np.arange(m), m), starts)  # the first of equals
        props = sc.prop[starts]
        better = (sl > cur_l[props]) | ((sl == cur_l[props]) & (su > cur_u[props]))
        at = props[better]
        cur_l[at], cur_u[at] = sl[better], su[better]
        b_scope[at], b_row[at], b_rule[at] = s, srow[better], rr[srow[better]]
    real = (cur_l >= 2) | ((cur_l == 0) & np.isfinite(cur_u))
    for b in (b_scope, b_row, b_rule):
        b[~real] = -1
    return b_scope, b_row, b_rule
