"""National identifiers: the 统一社会信用代码 (unified social credit code, USCC) check (SPEC §1).

A USCC (GB 32100-2015) has 18 characters from ``0-9 A-H J-N P-R T-U W-Y`` (31 characters: no I, O,
S, V, Z). The 18th is a check character: with the first 17 characters' values ``c_i`` (their position
in that alphabet) and the weights ``3^i mod 31`` (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8,
24, 10, 30, 28), the check value is ``31 - (sum c_i * w_i mod 31)``, and 31 is written 0.

A natural person's 居民身份证号码 (GB 11643-1999: 17 digits and a check digit or ``X``, ISO 7064
MOD 11-2) is also 18 characters long; an id that passes that check is accepted as one.

Only ids that look like either (18 letters and digits) are checked; other national ids (a foreign
registry number) are left alone. An id that fails is a warning, never an error: the entity and its
facilities still count (SPEC §7: a bad optional value never lowers an exposure). Ids stay text.

>>> uscc_check_char("91350100M000100Y4")
'3'
>>> print(national_id_problems(pd.DataFrame({"entity_id": ["A"], "national_id": ["91350100M000100Y40"]
...                                          }))[0].message)  # doctest: +NORMALIZE_WHITESPACE
national_id 91350100M000100Y40 fails the 统一社会信用代码 check: the 18th (check) character should
be 3, not 0 (GB 32100-2015); a digit or a letter may have been mistyped; the entity is used all the
same
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.issues import Problem, issue

__all__ = ["USCC_ALPHABET", "USCC_WEIGHTS", "is_resident_id", "national_id_problems",
           "uscc_check_char"]

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_MAX_LISTED = 1000


def uscc_check_char(first17: str) -> str:
    """The check character of a USCC whose first 17 characters are ``first17``."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_resident_id(value: str) -> bool:
    """True for an 18-character 居民身份证号码 whose check digit is right (GB 11643-1999).

    >>> is_resident_id("11010519491231002X"), is_resident_id("110105194912310021")
    (True, False)
    """
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


def _problem(value: str) -> str | None:
    """What is wrong with an 18-character id, or None when it is a valid USCC or resident id."""
    code = value.upper()
    bad = [(i + 1, c) for i, c in enumerate(code) if c not in _VALUE]
    if not bad:
        expected = uscc_check_char(code[:17])
        if code[17] == expected:
            return None
        if is_resident_id(code):
            return None
        return (f"the 18th (check) character should be {expected}, not {value[17]} "
                "(GB 32100-2015); a digit or a letter may have been mistyped")
    if is_resident_id(code):
        return None
    where = ", ".join(f"{c} at position {i}" for i, c in bad[:3])
    return (f"it holds {where}, which a 统一社会信用代码 never uses (no I, O, S, V or Z); "
            "a letter may stand for a digit (O for 0, I for 1, S for 5, Z for 2)")


_LOOKUP = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate(USCC_ALPHABET):
    _LOOKUP[ord(_c)] = _i


def _valid_uscc(codes: pd.Series) -> np.ndarray:
    """Vectorised: which of these 18-character ASCII codes (any case) are valid USCCs."""
    raw = np.frombuffer("".join(codes.str.upper()).encode("ascii"), dtype=np.uint8)
    values = _LOOKUP[raw.reshape(-1, 18)]
    known = (values >= 0).all(axis=1)
    total = (np.maximum(values[:, :17], 0) * np.asarray(USCC_WEIGHTS)).sum(axis=1)
    check = (31 - total % 31) % 31
    return np.asarray(known & (values[:, 17] == check))


def national_id_problems(entities: pd.DataFrame) -> list[Problem]:
    """A warning for each ``national_id`` that looks like a 统一社会信用代码 (18 letters and digits)
    and fails its check (or its character set); the entity is used all the same."""
    if "national_id" not in entities or entities.empty:
        return []
    ids = entities["national_id"]
    text = ids.astype(object).where(ids.notna(), "").astype(str).str.strip()
    looks = (text.str.len() == 18) & text.str.fullmatch(r"[0-9A-Za-z]{18}").fillna(False).astype(bool)
    positions = np.flatnonzero(looks.to_numpy(dtype=bool))
    if positions.size:
        positions = positions[~_valid_uscc(text.iloc[positions])]
    rows = entities["_row"].to_numpy() if "_row" in entities else np.arange(1, len(entities) + 1)
    out: list[Problem] = []
    for pos in positions:
        value = text.iloc[pos]
        what = _problem(value)
        if what is None:
            continue
        out.append(issue(
            "invalid_national_id", "entities", row=int(rows[pos]),
            key=f"entity_id={entities['entity_id'].iloc[pos]}", column="national_id", value=value,
            message=f"national_id {value} fails the 统一社会信用代码 check: {what}; the entity is "
            "used all the same"))
        if len(out) >= _MAX_LISTED:
            break
    return out
