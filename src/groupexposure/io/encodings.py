"""Which encoding a CSV file is in: UTF-8 (with or without a byte-order mark), else GB18030 (SPEC §1).

Excel on a Chinese Windows saves "CSV (逗号分隔)" in the local code page, GBK; "CSV UTF-8" adds a
byte-order mark. GB18030 is a superset of GBK (and of GB2312), so one decoder reads all three. UTF-8
is tried first: Chinese text in GBK is, in practice, never valid UTF-8, while many UTF-8 files would
decode as (wrong) GB18030. A file that is neither is refused with the encodings tried and the byte
offset (and line) of the first byte that does not fit.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "entities.csv"
>>> _ = path.write_bytes("entity_id,name\\nA,宁夏伊品\\n".encode("gbk"))
>>> detect_encoding(path)
'gb18030'
>>> _ = path.write_bytes(b"\\xef\\xbb\\xbf" + "entity_id,name\\nA,宁夏伊品\\n".encode())
>>> detect_encoding(path)
'utf-8-sig'
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path

__all__ = ["DETECTED", "EncodingError", "check_encoding", "detect_encoding", "utf8_source"]

DETECTED = ("utf-8", "gb18030")
"""The encodings tried, in order, when none is given."""
_CHUNK = 1 << 24
_UTF16 = {codecs.BOM_UTF16_LE: "UTF-16 LE", codecs.BOM_UTF16_BE: "UTF-16 BE"}


class EncodingError(ValueError):
    """A file cannot be decoded in any encoding tried; the message names them and where it failed."""


def check_encoding(encoding: str) -> str:
    """The codec's canonical name, or a ValueError naming the encodings understood.

    >>> check_encoding("GBK"), check_encoding("utf8")
    ('gbk', 'utf-8')
    """
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise ValueError(f"unknown encoding {encoding!r}: give one Python knows, such as utf-8, "
                         "utf-8-sig, gb18030 or gbk") from None


def _first_bad_byte(path: Path, encoding: str) -> tuple[int, int] | None:
    """Offset and value of the first byte that ``encoding`` cannot decode, or None if all decode."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            pending = len(decoder.getstate()[0])
            if chunk and not pending and chunk.isascii():  # ASCII is the same in both: no decoding
                offset += len(chunk)
                continue
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as err:
                start = offset - pending + err.start
                data = err.object[err.start:err.start + 1]
                return start, (data[0] if data else 0)
            if not chunk:
                return None
            offset += len(chunk)


def _line_of(path: Path, offset: int) -> int:
    with path.open("rb") as fh:
        return fh.read(offset).count(b"\n") + 1


def detect_encoding(path: str | Path, encoding: str | None = None) -> str:
    """The encoding to read ``path`` with: ``utf-8-sig`` for UTF-8 (a byte-order mark is dropped),
    else ``gb18030``; or ``encoding`` when given (checked to decode the whole file). Raises
    :class:`EncodingError` naming the encodings tried and the offset of the first bad byte."""
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(4)
    tried = [check_encoding(encoding)] if encoding else list(DETECTED)
    failures = []
    for enc in tried:
        bad = _first_bad_byte(path, enc)
        if bad is None:
            return "utf-8-sig" if enc == "utf-8" else enc
        failures.append(f"{enc} (byte 0x{bad[1]:02x} at byte offset {bad[0]:,}, line "
                        f"{_line_of(path, bad[0])})")
    utf16 = next((name for bom, name in _UTF16.items() if head.startswith(bom)), None)
    hint = (f"it looks like {utf16} (Excel's 'Unicode Text'); " if utf16 else "")
    raise EncodingError(
        f"{path.name} cannot be decoded as " + " or as ".join(failures) + f"; {hint}save it from "
        "Excel as 'CSV UTF-8', or give its encoding with encoding= (CLI --encoding)")


def utf8_source(path: Path, encoding: str) -> Path | io.BytesIO:
    """Something pandas can read as UTF-8: the file itself when it is UTF-8, else its text
    re-encoded in memory."""
    if encoding in ("utf-8-sig", "utf-8"):
        return path
    return io.BytesIO(path.read_bytes().decode(encoding).encode("utf-8"))
