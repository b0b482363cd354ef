"""The book's ids looked up a whole column at a time, through a hash table kept with the index.

``check_many`` turns every proposal's obligor and guarantor into an entity code. Arrow's
``pc.index_in`` builds a hash table of the book's ids at every call: at 1M ids that is three
quarters of the look-up of 500,000 proposals (124 of 162 ms, ``benchmarks/README.md``), and every
part of a parallel ``check_many`` builds its own. pandas keeps its table with an ``Index``, but
reads a column through Python objects (280 ms). :class:`IdLookup` is built once, with the check's
index, and a look-up is a few numpy gathers (about 55 ms for the same column and its guarantors).

Each id is its UTF-8 bytes, padded with NULs to ``width`` bytes, a multiple of 8: a row of 64-bit
words. A hash mixes the words and the byte length. The table is open addressing with linear
probing, at most half full; each slot holds the hash and the code side by side (one gather a
probe). A hit is confirmed on the whole row and the length, so a hash collision costs a probe,
never an answer (and ``A`` is not ``A`` followed by a NUL: their lengths differ). A book with an id
longer than :data:`MAX_WIDTH` bytes has no such table: :meth:`IdLookup.of` gives ``None`` and the
caller uses ``pc.index_in``.

>>> import pyarrow as pa
>>> lookup = IdLookup.of(pa.array(["TM", "中国平安", "RC-SPIN"]))
>>> lookup.codes(pa.array(["RC-SPIN", "TM ", None, "中国平安", "x"])).tolist()
[2, -1, -1, 1, -1]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["MAX_WIDTH", "IdLookup"]

MAX_WIDTH = 64
"""The longest id, in UTF-8 bytes, the table keeps (a row of the table is as wide as the longest)."""

_SEED = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)
_S = np.uint64(33)


def _rows(values: pa.Array | pa.ChunkedArray, width: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(words: one row of ``width // 8`` uint64 per value, byte length, usable: not null and at
    most ``width`` bytes); an unusable value's row is all zeros."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    raw = values.cast(pa.binary())
    n = len(raw)
    length = np.asarray(pc.binary_length(raw).fill_null(width + 1).to_numpy(
        zero_copy_only=False), dtype=np.int64)
    usable = length <= width
    if n == 0:
        return np.zeros((0, width // 8), dtype=np.uint64), length, usable
    if not raw.null_count and bool((length == width).all()):
        return _words(raw, n, width), length, usable  # every value is exactly ``width`` bytes
    short = pc.if_else(pa.array(usable), raw, pa.scalar(b"", pa.binary()))
    pad = pc.binary_repeat(pa.scalar(b"\0", pa.binary()),
                           pa.array(np.where(usable, width - length, width)))
    padded = pc.binary_join_element_wise(short, pad, pa.scalar(b"", pa.binary()))
    return _words(padded, n, width), length, usable


def _words(values: pa.BinaryArray, n: int, width: int) -> np.ndarray:
    """The data of ``n`` values of ``width`` bytes each, as rows of uint64 words (no copy)."""
    _, offsets, data = values.buffers()
    start = int(np.frombuffer(offsets, dtype=np.int32)[values.offset])
    return np.frombuffer(data, dtype=np.uint8)[start:start + n * width].view(np.uint64).reshape(
        n, width // 8)


def _keys(values: pa.Array | pa.ChunkedArray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(keys: per value a row of uint64, its byte length then its padded bytes as words; usable:
    not null and at most ``width`` bytes)."""
    words, length, usable = _rows(values, width)
    return np.column_stack([length.astype(np.uint64), words]), usable


def _hash(keys: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row of ``keys``: each word folded in with MurmurHash3's finaliser,
    whose every output bit depends on every input bit (the table's slot is the low bits, and ids
    differ most in their last bytes, the high bits of a word)."""
    h = np.full(len(keys), _SEED, dtype=np.uint64)
    for j in range(keys.shape[1]):
        h ^= keys[:, j]
        h ^= h >> _S
        h *= _M1
        h ^= h >> _S
        h *= _M2
        h ^= h >> _S
    return h


@dataclass(frozen=True)
class IdLookup:
    """Id → code (its position in the book's ids), for whole columns; see the module's text."""

    width: int
    keys: np.ndarray  # (ids, 1 + width // 8): each id's length, then its padded bytes
    slots: np.ndarray  # (slots, 2): the hash and 1 + the code of the id there; (0, 0) where empty

    @staticmethod
    def of(ids: pa.Array) -> IdLookup | None:
        """The table of ``ids`` (distinct, not null: the codes of a book); None where an id is
        too long for it."""
        n = len(ids)
        longest = int(pc.max(pc.binary_length(ids.cast(pa.binary()))).as_py() or 0) if n else 0
        if longest > MAX_WIDTH:
            return None
        width = max(8, -(-longest // 8) * 8)
        keys, _ = _keys(ids, width)
        hashes = _hash(keys)
        size = 1 << max(4, (2 * n - 1).bit_length())  # at least twice the ids
        slots = np.zeros((size, 2), dtype=np.uint64)
        claim = np.empty(size, dtype=np.int64)
        pending = np.arange(n, dtype=np.int64)
        slot = (hashes & np.uint64(size - 1)).astype(np.int64)
        while pending.size:  # each round, one pending id takes each free slot; the rest move on
            free = np.flatnonzero(slots[slot, 1] == 0)
            claim[slot[free]] = free  # of ids claiming the same slot, one claim stays: it wins
            won = free[claim[slot[free]] == free]
            slots[slot[won], 0] = hashes[pending[won]]
            slots[slot[won], 1] = pending[won].astype(np.uint64) + np.uint64(1)
            lost = np.ones(pending.size, dtype=bool)
            lost[won] = False
            pending, slot = pending[lost], (slot[lost] + 1) & (size - 1)
        return IdLookup(width, keys, slots)

    def codes(self, values: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Each value's code (int64), -1 where it is null or not an id of the book."""
        keys, usable = _keys(values, self.width)
        h = _hash(keys)
        out = np.full(len(keys), -1, dtype=np.int64)
        if not len(self.keys):
            return out
        mask = len(self.slots) - 1
        active = np.flatnonzero(usable)
        slot = (h[active] & np.uint64(mask)).astype(np.int64)
        while active.size:  # probe on from each value's slot until its id or an empty slot
            there = np.take(self.slots, slot, axis=0)  # hash and code together: one gather
            full = there[:, 1] != 0
            at = np.flatnonzero(full & (there[:, 0] == h[active]))
            code = there[at, 1].astype(np.int64) - 1
            q = active[at]
            mine = np.take(self.keys, code, axis=0)
            equal = mine[:, 0] == keys[q, 0]
            for j in range(1, keys.shape[1]):
                equal &= mine[:, j] == keys[q, j]
            out[q[equal]] = code[equal]
            full[at[equal]] = False
            active, slot = active[full], (slot[full] + 1) & mask
        return out
