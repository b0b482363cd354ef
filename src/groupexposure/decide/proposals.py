"""Proposed facilities for the pre-approval check (SPEC §6): one path for ``check`` and ``check_many``.

A proposal is judged only after the column rules of facilities.csv (SPEC §1) have accepted it, through
the same column conversion as the input tables (:func:`groupexposure.validate.columns.convert`), then
the rules that need the book: the obligor and guarantor must be entities (and differ), the currency
must have an FX rate. ``check`` and ``check_many`` therefore accept and refuse exactly the same
proposals, with the same messages. A single ``check`` first tries a plain-Python test that accepts
only what the column rules accept (the fast path); anything it does not accept goes through the
table path, which gives the message.

What ``amount`` is: the nominal of the product, drawn for ``loan``, ``overdraft`` and ``bond``, the
off-balance (undrawn) nominal for every other product. ``drawn=`` and ``undrawn=`` may be given
instead, or beside ``amount`` for the other part of a mixed facility (a loan with an unused line);
the part in the product's own terms is the one ``max_amount`` varies, the other is held fixed.

>>> import groupexposure as gx
>>> r = gx.analyze(gx.datasets.ningxia())
>>> r.check("TM", -5.0)
Traceback (most recent call last):
...
groupexposure.decide.proposals.ProposalError: amount must be a number >= 0; got -5
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..core.exposures import LOAN_PRODUCTS, ON_BALANCE_PRODUCTS, ccf_used
from ..model.schema import Product
from ..validate.columns import convert
from ._fast import Proposal, _absent, read
from ._frame_fast import clean

if TYPE_CHECKING:
    from ._index import CheckIndex

__all__ = ["FIELDS", "Proposal", "ProposalError", "Proposals", "assemble", "by_column_rules",
           "from_frame", "one"]

FIELDS = ("entity_id", "amount", "product", "drawn", "undrawn", "ccf", "currency", "guarantor_id",
          "guaranteed_amount", "collateral_value")
"""The columns of a proposal (the arguments of ``check``)."""

# the facilities.csv column whose rule checks each proposal field (the proposal has no provision:
# its column carries the amount, which obeys the same rule, a number >= 0)
_AS_FACILITY = {"entity_id": "obligor_id", "amount": "provision"}
_MAX_HINTS = 50  # unknown ids that get "did you mean" hints (each is a search over every id)


class ProposalError(ValueError):
    """A proposal the check refuses: ``problems`` lists (proposal position, message)."""

    def __init__(self, problems: list[tuple[int, str]], labels: list[str]) -> None:
        self.problems = problems
        if len(labels) == 1:
            text = "; ".join(m for _, m in problems)
        else:
            text = "invalid proposals:\n" + "\n".join(
                f"  proposal {i + 1} ({labels[i]}): {m}" for i, m in problems)
        super().__init__(text)


@dataclass(frozen=True)
class Proposals:
    """Proposed facilities as columns, amounts in the reporting currency.

    As a function of the varied amount ``a`` (the nominal in the product's terms):
    ``original = fixed + w * a`` and ``loans = loan_w * a`` (a loan's or overdraft's drawn
    amount is always the varied one).
    """

    obligor: np.ndarray
    guarantor: np.ndarray  # -1: none
    drawn: np.ndarray
    undrawn: np.ndarray
    amount: np.ndarray
    w: np.ndarray
    fixed: np.ndarray
    loan_w: np.ndarray
    collateral: np.ndarray
    guarantee: np.ndarray  # NaN: the whole exposure after collateral
    eligible: np.ndarray
    rate: np.ndarray

    def take(self, idx: np.ndarray) -> Proposals:
        """The proposals at positions ``idx``."""
        return Proposals(**{k: v[idx] for k, v in vars(self).items()})

    def part(self, start: int, stop: int) -> Proposals:
        """The proposals from ``start`` up to ``stop`` (views, no copy)."""
        return Proposals(**{k: v[start:stop] for k, v in vars(self).items()})


def one(ix: CheckIndex, entity_id: Any, amount: Any, product: Any, *, drawn: Any = None,
        undrawn: Any = None, ccf: Any = None, currency: Any = None, guarantor_id: Any = None,
        guaranteed_amount: Any = None, collateral_value: Any = 0.0) -> Proposal:
    """One proposal, validated: plain Python where the column rules surely accept it
    (:func:`._fast.read`), else the table path (which raises :class:`ProposalError`, or accepts
    what only it can read)."""
    p = read(ix, entity_id, amount, product, drawn, undrawn, ccf, currency, guarantor_id,
             guaranteed_amount, collateral_value)
    if p is not None:
        return p
    row = {"entity_id": entity_id, "amount": amount, "product": product, "drawn": drawn,
           "undrawn": undrawn, "ccf": ccf, "currency": currency, "guarantor_id": guarantor_id,
           "guaranteed_amount": guaranteed_amount, "collateral_value": collateral_value}
    frame = pd.DataFrame({k: pd.Series([v], dtype=object) for k, v in row.items()})
    return _scalar(from_frame(ix, frame), frame, ix)


def _scalar(p: Proposals, frame: pd.DataFrame, ix: CheckIndex) -> Proposal:
    """A one-row :class:`Proposals` (read by the table path) as a :class:`Proposal`."""
    ccy = frame["currency"].iloc[0]
    prod = frame["product"].iloc[0]
    rate = float(p.rate[0])
    return Proposal(
        entity_id=str(ix.ids[int(p.obligor[0])]),
        product="loan" if _absent(prod) or str(prod).strip() == "" else str(prod),
        currency=ix.currency if _absent(ccy) or str(ccy).strip() == "" else str(ccy),
        drawn=float(p.drawn[0]) / rate, undrawn=float(p.undrawn[0]) / rate,
        obligor=int(p.obligor[0]), guarantor=int(p.guarantor[0]), amount=float(p.amount[0]),
        w=float(p.w[0]), fixed=float(p.fixed[0]), loan_w=float(p.loan_w[0]),
        collateral=float(p.collateral[0]), guarantee=float(p.guarantee[0]),
        eligible=bool(p.eligible[0]), rate=rate)


def _missing(col: pd.Series) -> np.ndarray:
    """Cells left empty (None, NaN or blank text)."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return np.asarray(col.isna().to_numpy(), dtype=bool)
    obj = col.astype(object)
    return np.asarray((obj.isna() | (obj.astype(str).str.strip() == "")).to_numpy(), dtype=bool)


def _labels(frame: pd.DataFrame) -> list[str]:
    return ["entity_id=" + ("" if _absent(e) else str(e)) for e in frame["entity_id"].tolist()]


def from_frame(ix: CheckIndex, frame: pd.DataFrame) -> Proposals:
    """Proposals from a table with the columns of :data:`FIELDS` (``entity_id`` and ``amount`` or
    ``drawn``/``undrawn`` required), checked by the column rules; every problem of every row is
    raised together as one :class:`ProposalError`.

    A table that is surely clean is read column-wise (:func:`._frame_fast.clean`); any other goes
    through the column rules, which give the messages (:func:`by_column_rules`)."""
    fast = clean(ix, frame)
    return fast if fast is not None else by_column_rules(ix, frame)


def by_column_rules(ix: CheckIndex, frame: pd.DataFrame) -> Proposals:
    """:func:`from_frame` through the column rules alone, cell by cell (for a table the
    column-wise reader has already doubted)."""
    n = len(frame)
    cols = {c: (frame[c].reset_index(drop=True) if c in frame
                else pd.Series([None] * n, dtype=object)) for c in FIELDS}
    raw = pd.DataFrame({_AS_FACILITY.get(c, c): v for c, v in cols.items()})
    raw.insert(0, "facility_id", raw["obligor_id"])  # a key for the column rules only
    fac, found = convert("facilities", raw)
    problems = [(int(r) - 1, _user_message(str(c), str(m)))
                for r, c, m, sev in zip(found["row"], found["column"], found["message"],
                                        found["severity"], strict=True)
                if sev == "error" and c != "facility_id"]
    product = fac["product"].fillna(Product.loan.value).astype(str).to_numpy()
    on = np.isin(product, list(ON_BALANCE_PRODUCTS))
    has_amount = ~_missing(cols["amount"])
    side = np.where(on, fac["drawn"].to_numpy(np.float64), fac["undrawn"].to_numpy(np.float64))
    side_given = np.where(on, ~_missing(cols["drawn"]), ~_missing(cols["undrawn"])) & (side != 0)
    for i in np.flatnonzero(has_amount & side_given):
        problems.append((int(i), f"give the amount or {'drawn' if on[i] else 'undrawn'}=, not "
                                 f"both (amount is the {'drawn' if on[i] else 'undrawn'} nominal "
                                 f"of a {product[i]})"))
    for i in np.flatnonzero(~has_amount & _missing(cols["drawn"]) & _missing(cols["undrawn"])):
        problems.append((int(i), "amount is required: a number >= 0; got an empty cell"))
    amounts = {c: fac[_AS_FACILITY.get(c, c)].to_numpy(np.float64)
               for c in ("amount", "drawn", "undrawn", "collateral_value", "guaranteed_amount")}
    for c, v in amounts.items():
        for i in np.flatnonzero(np.isinf(v)):
            problems.append((int(i), f"{c} must be a finite number >= 0; got {v[i]:g}"))
    obligor, guarantor, currency = _book_rules(ix, fac, problems)
    if problems:
        problems.sort(key=lambda x: x[0])
        raise ProposalError(problems, _labels(frame))
    return _columns(ix, fac, product, on, obligor, guarantor, currency, amounts, has_amount)


def _user_message(column: str, message: str) -> str:
    """A column rule's message in the proposal's own names (``provision`` carries ``amount``)."""
    user = {v: k for k, v in _AS_FACILITY.items()}.get(column)
    if user is not None and message.startswith(column):
        return user + message[len(column):]
    return message


def _book_rules(ix: CheckIndex, fac: pd.DataFrame, problems: list[tuple[int, str]]
                ) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Obligor and guarantor codes and currencies, with the rules that need the book."""
    obligor_ids = fac["obligor_id"]
    obligor = ix.index.get_indexer(obligor_ids.fillna("").astype(str))
    hints = 0
    for i in np.flatnonzero((obligor < 0) & obligor_ids.notna().to_numpy()):
        hints += 1
        problems.append((int(i), ix.unknown(str(obligor_ids.iloc[i]), "entity",
                                            hint=hints <= _MAX_HINTS)))
    g_ids = fac["guarantor_id"]
    has_g = g_ids.notna().to_numpy()
    guarantor = np.full(len(fac), -1, dtype=np.int64)
    guarantor[has_g] = ix.index.get_indexer(g_ids[has_g].astype(str))
    for i in np.flatnonzero(has_g & (guarantor < 0)):
        hints += 1
        problems.append((int(i), ix.unknown(str(g_ids.iloc[i]), "guarantor",
                                            hint=hints <= _MAX_HINTS)))
    for i in np.flatnonzero(has_g & (guarantor >= 0) & (guarantor == obligor)):
        problems.append((int(i), "the guarantor must differ from the obligor"))
    currency = fac["currency"].fillna(ix.currency).astype(str)
    known = currency.isin(list(ix.fx)).to_numpy()
    for i in np.flatnonzero(~known):
        problems.append((int(i), f"no FX rate for {currency.iloc[i]}; rates are given for "
                                 f"{', '.join(sorted(ix.fx))}"))
    return obligor.astype(np.int64), guarantor, currency


def _columns(ix: CheckIndex, fac: pd.DataFrame, product: np.ndarray, on: np.ndarray,
             obligor: np.ndarray, guarantor: np.ndarray, currency: pd.Series,
             amounts: dict[str, np.ndarray], has_amount: np.ndarray) -> Proposals:
    """The validated table as :class:`Proposals` (reporting currency)."""
    codes, uniq = pd.factorize(currency)
    rate = np.array([ix.fx[c] for c in uniq], dtype=np.float64)[codes]
    p_codes, p_uniq = pd.factorize(pd.Series(product))
    default = np.array([ix.ccf[str(p)] for p in p_uniq], dtype=np.float64)[p_codes]
    return assemble(ix, on=on, is_loan=np.isin(product, list(LOAN_PRODUCTS)), default_ccf=default,
                    rate=rate, row_ccf=fac["ccf"].to_numpy(np.float64), obligor=obligor,
                    guarantor=guarantor, amounts=amounts, has_amount=has_amount)


def assemble(ix: CheckIndex, *, on: np.ndarray, is_loan: np.ndarray, default_ccf: np.ndarray,
             rate: np.ndarray, row_ccf: np.ndarray, obligor: np.ndarray, guarantor: np.ndarray,
             amounts: dict[str, np.ndarray], has_amount: np.ndarray) -> Proposals:
    """Validated columns as :class:`Proposals` (reporting currency): the one arithmetic of both
    validation paths. ``amounts`` hold ``amount``, ``drawn``, ``undrawn``, ``collateral_value``
    (blanks at 0) and ``guaranteed_amount`` (NaN: not given) in the proposals' currencies."""
    factor = ccf_used(default_ccf, row_ccf, ix.policy)
    amount = amounts["amount"]
    d = np.where(has_amount & on, amount, amounts["drawn"]) * rate
    u = np.where(has_amount & ~on, amount, amounts["undrawn"]) * rate
    eligible = (guarantor >= 0) & ix.eligible[np.maximum(guarantor, 0)]
    return Proposals(
        obligor=obligor, guarantor=guarantor, drawn=d, undrawn=u, amount=np.where(on, d, u),
        w=np.where(on, 1.0, factor), fixed=np.where(on, factor * u, d),
        loan_w=is_loan.astype(np.float64),
        collateral=amounts["collateral_value"] * rate,
        guarantee=amounts["guaranteed_amount"] * rate, eligible=eligible, rate=rate)
