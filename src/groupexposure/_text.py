"""Text a person reads: names beside ids, shortened to fit, control characters shown escaped.

Ids and names come from the bank's files and are shown as they are, with two exceptions made for
the reader's safety: control characters (a carriage return, an ANSI escape, a NUL) are shown as
their Python escape, so that a name cannot move the cursor or recolour a terminal (a name
``"\\r  OK"`` must not overwrite the word BREACH); and a long name is shortened with an ellipsis,
counting a Chinese character as two columns.

>>> printable("ACME\\r  OK")
'ACME\\\\r  OK'
>>> printable("\\x1b[32mgreen")
'\\\\x1b[32mgreen'
>>> named("ZY-INTL", "宁夏中银绒业国际集团有限公司", width=16)
'宁夏中银绒业国… (ZY-INTL)'
>>> named("A", None), named("A", "A")
('A', 'A')
>>> shorten("Wool trading company (illustrative)", 20)
'Wool trading compan…'
>>> amount(2478300000.0), amount(-5e7), amount(float("nan")), amount(float("inf"))
('2,478,300,000', '-50,000,000', '—', 'unlimited')
"""

from __future__ import annotations

import math
import re
import unicodedata

__all__ = ["amount", "display_width", "named", "pct", "printable", "shorten"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    """``text`` with every control character (C0, C1, DEL, line and paragraph separators, the
    bidirectional overrides) replaced by its escape: safe to print on a terminal."""
    s = "" if text is None else str(text)
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), s)


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal or a chart: wide (Chinese) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def shorten(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` columns, an ellipsis marking the cut."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = display_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def named(entity_id: object, name: object, *, width: int | None = None) -> str:
    """``name (id)`` for a person; the id alone where there is no name or the name is the id.
    ``width`` shortens the name (never the id). Control characters are escaped."""
    eid = printable(entity_id)
    if not isinstance(name, str) or not name.strip() or name == entity_id:
        return eid
    text = printable(name)
    if width is not None:
        text = shorten(text, width)
    return f"{text} ({eid})"


def amount(value: object, *, unit: float = 1.0, decimals: int = 0) -> str:
    """An amount with thousands separators (never ``2.4783e+09``); ``unit`` divides it first
    (``1e4`` for 万元). Missing is ``—``; infinite is ``unlimited``."""
    if value is None:
        return "—"
    x = float(value)  # type: ignore[arg-type]
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "unlimited" if x > 0 else "-unlimited"
    return f"{x / unit:,.{decimals}f}"


def pct(x: float) -> str:
    """A fraction as a short percentage.

    >>> pct(0.3), pct(0.12345)
    ('30%', '12.35%')
    """
    return f"{round(100 * float(x), 2):g}%"
