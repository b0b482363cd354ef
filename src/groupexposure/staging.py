"""Output folders that are never left half-written (the command line's ``--out``).

Files are written into a fresh temporary folder beside the target and moved into place only when the run
has finished, so that an interrupted run (Ctrl-C, SIGTERM, a crash) leaves the earlier results untouched and
never new files beside old ones. Files of an earlier run that this run did not write again (say a
``report.html`` from a run with reports, now run with ``--report never``) are removed; the marker file
``.groupexposure-output`` tells a folder this library wrote.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> with staged_output(root / "out", inputs=[root / "data"]) as stage:
...     _ = (stage / "groups.csv").write_text("group_id\\n")
>>> sorted(p.name for p in (root / "out").iterdir())
['.groupexposure-output', 'groups.csv']
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

__all__ = ["OutputError", "check_output_dir", "staged_output"]

OUR_SUFFIXES = (".csv", ".parquet", ".xlsx", ".html", ".json")
"""What a run of this library writes into an output folder; other files there are never touched."""
MARKER = ".groupexposure-output"
"""A file in every output folder this library wrote: only such a folder's old results are replaced."""


class OutputError(ValueError):
    """The output folder cannot be used: it is a file, not writable, or inside an input folder."""


def check_output_dir(out: Path, inputs: Iterable[Path] = ()) -> Path:
    """``out`` resolved, or an :class:`OutputError` saying why it cannot hold results."""
    target = out.expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise OutputError(f"--out {out}: is a file, not a folder; give a folder for the results")
    for given in inputs:
        source = given.expanduser().resolve()
        if not source.is_dir():  # a workbook: only its own path is off limits (a file, caught above)
            continue
        if target == source or source in target.parents:
            raise OutputError(f"--out {out}: is the input folder {given} or inside it; write the results "
                              "elsewhere, so that a later run does not read them as input")
    parent = target if target.exists() else next(p for p in target.parents if p.exists())
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"--out {out}: {parent} is not writable")
    return target


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def staged_output(out: Path, *, inputs: Iterable[Path] = ()) -> Iterator[Path]:
    """A temporary folder to write into; its files replace ``out``'s when the block ends without error.

    On any exception (KeyboardInterrupt and SIGTERM included) the temporary folder is removed and ``out``
    is left as it was. The replaced files of an earlier run are those with the library's suffixes in a
    folder the library wrote (it leaves a marker file); anything else in ``out`` is kept.
    """
    target = check_output_dir(out, inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    previous = signal.getsignal(signal.SIGTERM)
    main_thread = _can_set_signals()
    if main_thread:
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield stage
        _move_into_place(stage, target)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(stage, ignore_errors=True)


def _can_set_signals() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _move_into_place(stage: Path, target: Path) -> list[str]:
    """Move every staged file into ``target``; remove this library's files there that were not rewritten."""
    target.mkdir(parents=True, exist_ok=True)
    written = {p.name for p in stage.iterdir()}
    removed: list[str] = []
    if (target / MARKER).exists():
        for old in target.iterdir():
            if old.is_file() and old.suffix in OUR_SUFFIXES and old.name not in written:
                old.unlink()
                removed.append(old.name)
    (stage / MARKER).write_text("written by groupexposure; files here are replaced by the next run\n",
                                encoding="utf-8")
    for p in sorted(stage.iterdir()):
        if p.is_dir():
            shutil.rmtree(target / p.name, ignore_errors=True)
        os.replace(p, target / p.name)
    return removed
