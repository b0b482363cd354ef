"""Fonts for the charts: an installed CJK font for Chinese names, or ids and one warning.

matplotlib's default font (DejaVu Sans) has no Chinese glyphs: drawn with it, every Chinese
character is a box and a "Glyph missing from font" warning. :func:`cjk_font` looks for an
installed font that has them (Noto Sans CJK, Source Han Sans, WenQuanYi, SimHei, Microsoft YaHei,
PingFang, ...), first among the fonts matplotlib knows, then among the system's font files (a font
installed after matplotlib built its font cache is otherwise not seen). Where none is found, the
charts draw ids instead of names, and one warning says so (logged once per process, and written
once at the top of report.html). Install one with ``apt-get install fonts-noto-cjk`` (Debian,
Ubuntu), ``dnf install google-noto-sans-cjk-fonts`` (Fedora); Windows and macOS ship one.

Every chart is drawn inside :func:`chart_style`: the CJK font first, DejaVu Sans behind it, and
``text.parse_math`` off so that a ``$`` in a name is a dollar sign, never mathtext.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

__all__ = ["CJK_FONTS", "can_draw", "chart_style", "cjk_font", "fallback_note"]

LOG = logging.getLogger("groupexposure")

CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "Noto Sans CJK JP", "Noto Sans CJK TC", "Source Han Sans", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "STHeiti",
    "Hiragino Sans GB", "Noto Serif CJK SC", "Source Han Serif SC", "SimSun", "AR PL UMing CN",
    "AR PL UKai CN", "Droid Sans Fallback",
)
"""Fonts with Chinese glyphs, most preferred first."""

_FILE_HINT = re.compile(r"(cjk|sourcehan|source-han|wqy|wenquanyi|simhei|simsun|msyh|yahei|"
                        r"pingfang|heiti|hiragino|uming|ukai|droidsansfallback)", re.I)
_warned = False


def _known() -> dict[str, str]:
    from matplotlib import font_manager

    return {f.name: f.fname for f in font_manager.fontManager.ttflist}


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The name of the installed font used for Chinese text, or ``None``."""
    known = _known()
    for name in CJK_FONTS:
        if name in known:
            return name
    from matplotlib import font_manager

    for path in font_manager.findSystemFonts():  # installed after matplotlib's cache was built
        if _FILE_HINT.search(path):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # a file FreeType cannot read
                continue
    known = _known()
    return next((name for name in CJK_FONTS if name in known), None)


@lru_cache(maxsize=4)
def _charmap(name: str | None) -> frozenset[int]:
    from matplotlib import font_manager

    fonts = ["DejaVu Sans"] + ([name] if name else [])
    codes: set[int] = set()
    for family in fonts:
        path = font_manager.findfont(font_manager.FontProperties(family=family),
                                     fallback_to_default=True)
        codes.update(font_manager.get_font(path).get_charmap())
    return frozenset(codes)


def can_draw(text: str) -> bool:
    """Whether every character of ``text`` has a glyph in the chart fonts."""
    codes = _charmap(cjk_font())
    return all(ord(ch) in codes or ch in "\n " for ch in text)


def fallback_note() -> str | None:
    """One sentence for a report when names cannot be drawn; ``None`` when a CJK font is found."""
    if cjk_font() is not None:
        return None
    return ("No font with Chinese characters was found (tried " + ", ".join(CJK_FONTS[:6])
            + ", ...): the charts show ids where a name cannot be drawn. Install one, e.g. "
            "`apt-get install fonts-noto-cjk`.")


def _warn_once() -> None:
    global _warned
    note = fallback_note()
    if note and not _warned:
        _warned = True
        LOG.warning(note)


@contextlib.contextmanager
def chart_style() -> Iterator[None]:
    """Draw inside this: the CJK font (where there is one), no mathtext, text kept as text in SVG;
    a glyph still missing is reported once in the log, never once per character."""
    import matplotlib as mpl

    name = cjk_font()
    _warn_once()
    rc: dict[str, Any] = {"text.parse_math": False, "svg.fonttype": "none"}
    if name:
        rc["font.family"] = [name, "DejaVu Sans"]
    with mpl.rc_context(rc), warnings.catch_warnings(record=True) as caught:  # type: ignore[arg-type]
        warnings.simplefilter("always")
        yield
    missing = [w for w in caught if "missing from" in str(w.message)]
    for w in caught:
        if w not in missing:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if missing:
        LOG.warning("%d characters could not be drawn by the chart font %s", len(missing),
                    name or "DejaVu Sans")
