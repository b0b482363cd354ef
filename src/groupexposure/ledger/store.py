"""The files of a snapshot directory: the manifest, verified arrays and Parquet tables.

A snapshot is one directory::

    manifest.json          format and library version, as_of, policy, grouping, capital, fx,
                           the content hash of the inputs, and the size and sha256 of every file
    groups.parquet ...     the four tables of SPEC §8 (and the facility ids, for carry-over)
    index/*.npy            the check index: plain arrays, memory-mapped, read a few pages at a time
    journal.sqlite         the reservations (see :mod:`.journal`); the one file that changes

Every ``index/*.npy`` file is hashed in blocks of :data:`BLOCK` bytes: a check that reads a few
positions verifies only the blocks it touches, so a damaged index gives an error, never a wrong
answer, without hashing a whole million-entity index on every fresh process.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BLOCK", "FORMAT", "MANIFEST", "SnapshotError", "Store", "file_sha256", "write_array"]

FORMAT = 1
"""The layout version of a snapshot directory; a reader refuses any other."""
MANIFEST = "manifest.json"
BLOCK = 1 << 16
"""Bytes per hashed block of an index array."""


class SnapshotError(ValueError):
    """A snapshot that cannot be used: missing, damaged, of another version, or not writable."""


def file_sha256(path: Path) -> str:
    """The sha256 of a whole file (hex)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_array(directory: Path, name: str, values: np.ndarray) -> dict[str, Any]:
    """Write ``values`` as ``index/NAME.npy`` with its block hashes; returns its manifest entry."""
    path = directory / "index" / f"{name}.npy"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.ascontiguousarray(values), allow_pickle=False)
    arr = np.load(path, mmap_mode="r", allow_pickle=False)
    offset = int(arr.offset)
    raw = path.read_bytes()
    data = raw[offset:]
    blocks = b"".join(hashlib.sha256(data[i:i + BLOCK]).digest()
                      for i in range(0, len(data), BLOCK))
    (directory / "index" / f"{name}.blocks").write_bytes(blocks)
    return {"offset": offset, "bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest(),
            "blocks_sha256": hashlib.sha256(blocks).hexdigest()}


class _Verified:
    """A memory-mapped array whose blocks are checked against their hashes before use."""

    def __init__(self, path: Path, entry: dict[str, Any]) -> None:
        self.path = path
        try:
            self.array = np.load(path, mmap_mode="r", allow_pickle=False)
            blocks = (path.with_suffix(".blocks")).read_bytes()
        except (OSError, ValueError) as err:
            raise SnapshotError(f"snapshot file {path} cannot be read: {err}") from None
        if (path.stat().st_size != entry["bytes"] or int(self.array.offset) != entry["offset"]
                or hashlib.sha256(blocks).hexdigest() != entry["blocks_sha256"]):
            raise SnapshotError(f"snapshot file {path} is damaged: its size or block hashes differ "
                                "from the manifest; save the snapshot again")
        self.hashes = [blocks[i:i + 32] for i in range(0, len(blocks), 32)]
        self.raw = np.memmap(path, dtype=np.uint8, mode="r")
        self.offset = int(self.array.offset)
        self.checked = np.zeros(len(self.hashes), dtype=bool)
        self.item = self.array.dtype.itemsize * max(1, int(np.prod(self.array.shape[1:])))

    def _verify(self, first: np.ndarray, last: np.ndarray) -> None:
        """Check the blocks holding the byte ranges [first, last] (offsets in the data)."""
        b0, b1 = first // BLOCK, last // BLOCK
        need = np.unique(np.concatenate([b0, b1, *(np.arange(a + 1, b) for a, b
                                                   in zip(b0.tolist(), b1.tolist(), strict=True)
                                                   if b > a + 1)]))
        for b in need[~self.checked[need]].tolist():
            start = self.offset + b * BLOCK
            block = bytes(self.raw[start:start + BLOCK])
            if hashlib.sha256(block).digest() != self.hashes[b]:
                raise SnapshotError(f"snapshot file {self.path} is damaged (block {b} does not "
                                    "match its hash); save the snapshot again")
            self.checked[b] = True

    def take(self, idx: np.ndarray) -> np.ndarray:
        """``array[idx]`` after verifying the blocks it reads."""
        idx = np.asarray(idx, dtype=np.int64)
        if idx.size == 0:
            return np.asarray(self.array[idx])
        if idx.min() < 0 or idx.max() >= len(self.array):
            raise SnapshotError(f"snapshot file {self.path} is damaged: position out of range")
        self._verify(idx * self.item, idx * self.item + self.item - 1)
        return np.asarray(self.array[idx])

    def ranges(self, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
        """The concatenation of ``array[start[i]:stop[i]]`` after verifying the blocks read."""
        if np.any(stop < start) or (stop.size and (start.min() < 0 or stop.max() > len(self.array))):
            raise SnapshotError(f"snapshot file {self.path} is damaged: bad ranges")
        keep = stop > start
        start, stop = start[keep], stop[keep]
        if start.size == 0:
            return np.asarray(self.array[:0])
        self._verify(start * self.item, stop * self.item - 1)
        return np.concatenate([np.asarray(self.array[a:b])
                               for a, b in zip(start.tolist(), stop.tolist(), strict=True)])

    def all(self) -> np.ndarray:
        """The whole array, verified."""
        n = len(self.array)
        return self.ranges(np.array([0]), np.array([n])) if n else np.asarray(self.array)

    def __len__(self) -> int:
        return len(self.array)


class Store:
    """A snapshot directory opened for reading: the manifest checked, files verified on use."""

    def __init__(self, path: str | Path) -> None:
        from .. import __version__

        self.path = Path(path)
        manifest = self.path / MANIFEST
        if not manifest.is_file():
            raise SnapshotError(f"{self.path} is not a snapshot: no {MANIFEST} (write one with "
                                "result.save(path) or `groupexposure analyze DATA --save SNAP`)")
        try:
            self.manifest: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise SnapshotError(f"snapshot {self.path} is damaged: {MANIFEST} is not valid JSON "
                                f"({err})") from None
        fmt, version = self.manifest.get("format"), self.manifest.get("library_version")
        if fmt != FORMAT or version != __version__:
            raise SnapshotError(
                f"snapshot {self.path} was written by groupexposure {version} (snapshot format "
                f"{fmt}); this is groupexposure {__version__} (format {FORMAT}): save the analysis "
                "again with this version")
        for name, entry in self.manifest["files"].items():
            p = self.path / name
            if not p.is_file() or p.stat().st_size != entry["bytes"]:
                raise SnapshotError(f"snapshot {self.path} is damaged: {name} is missing or has "
                                    "another size than the manifest says; save the snapshot again")
        self._arrays: dict[str, _Verified] = {}

    def array(self, name: str) -> _Verified:
        """The index array NAME, memory-mapped and verified block by block on use."""
        if name not in self._arrays:
            rel = f"index/{name}.npy"
            self._arrays[name] = _Verified(self.path / rel, self.manifest["files"][rel])
        return self._arrays[name]

    def table(self, name: str, columns: list[str] | None = None) -> Any:
        """A Parquet table as a DataFrame, after checking the whole file's sha256."""
        import pyarrow.parquet as pq

        rel = f"{name}.parquet"
        path = self.path / rel
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != self.manifest["files"][rel]["sha256"]:
            raise SnapshotError(f"snapshot {self.path} is damaged: {rel} does not match its hash; "
                                "save the snapshot again")
        import pyarrow as pa

        return pq.read_table(pa.BufferReader(data), columns=columns).to_pandas()

    def writable(self) -> str | None:
        """None when the journal can be written, else why not."""
        journal = self.path / "journal.sqlite"
        if not os.access(self.path, os.W_OK):
            return f"the snapshot directory {self.path} is read-only"
        if journal.exists() and not os.access(journal, os.W_OK):
            return f"the journal {journal} is read-only"
        return None
