"""``check_many`` on every core: a large table judged in parts on threads, then put together.

Each proposal is judged on its own against the book, so a table cut into parts gives, part by
part, the answers of the whole. The work is numpy's and arrow's, which release the GIL on large
arrays, so threads share the cores without copying the book (a process would have to).

Only a table the column-wise reader accepts (:func:`._frame_fast.clean`) is cut: if any part is not
surely clean, :func:`in_parts` gives ``None`` and the whole table goes through the column rules,
whose messages number the rows of the whole. The table is cut into as many parts as there are
cores, but no part smaller than :data:`PART_MIN` proposals: a table of fewer than twice that, or a
machine of one core, is judged in one piece.

>>> import numpy as np, pyarrow as pa
>>> one = Answers(np.array([True]), pa.array(["within_limits"]), np.array([5.0]),
...               pa.array(["LEX"]), pa.array(["group G"]))
>>> joined = Answers.join([one, one])
>>> joined.max_amount, joined.binding_subject.to_pylist()
(array([5., 5.]), ['group G', 'group G'])
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:
    from ._index import CheckIndex

__all__ = ["BLOCK", "PART_MIN", "Answers", "in_parts"]

PART_MIN = 25_000
"""The fewest proposals worth a part of their own (below, a thread costs more than it saves). Since
the ids' table is kept with the index, a part costs no hash table of its own, and a table of
100,000 proposals is judged a third faster in two parts than in one (``benchmarks/README.md``)."""

BLOCK = 1 << 16
"""Proposals judged at a time within a part: the arrays of a block of 65,536 stay in the
processor's cache between numpy's passes (a third less time than one pass over a million, on the
machine of ``benchmarks/README.md``). Blocks of 32,768 judge one part as fast, but two parts on two
threads 7% slower: twice the numpy calls, each taking the interpreter's lock."""


@dataclass(frozen=True)
class Answers:
    """What ``check_many`` says of each proposal, as columns (``max_amount`` in the row's
    currency; the texts null where no rule binds)."""

    approved: np.ndarray
    reason: pa.Array
    max_amount: np.ndarray
    binding_rule: pa.Array
    binding_subject: pa.Array

    @staticmethod
    def join(parts: list[Answers]) -> Answers:
        """The answers of consecutive parts, in order."""
        return Answers(
            approved=np.concatenate([a.approved for a in parts]),
            reason=pa.concat_arrays([a.reason for a in parts]),
            max_amount=np.concatenate([a.max_amount for a in parts]),
            binding_rule=pa.concat_arrays([a.binding_rule for a in parts]),
            binding_subject=pa.concat_arrays([a.binding_subject for a in parts]))


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def in_parts(ix: CheckIndex, frame: pd.DataFrame,
             judge: Callable[[CheckIndex, pd.DataFrame], Answers | None]) -> Answers | None:
    """``judge`` of the whole ``frame``, in up to one part per core of at least :data:`PART_MIN`;
    ``None`` where a part is refused (then the caller judges the whole table its own way)."""
    n = min(cores(), len(frame) // PART_MIN)
    if n < 2:
        return judge(ix, frame)
    bounds = np.linspace(0, len(frame), n + 1).astype(int)
    with ThreadPoolExecutor(max_workers=n) as pool:
        parts = list(pool.map(lambda k: judge(ix, frame.iloc[bounds[k]:bounds[k + 1]]),
                              range(n)))
    if any(p is None for p in parts):
        return None
    return Answers.join([p for p in parts if p is not None])
