"""The one loop helper: every fixed point of the Spark engine runs through :func:`iterate`.

Each round's output is written to Parquet under the checkpoint directory and read back, so that the
plan of the next round starts from files of known size (``localCheckpoint()`` and ``checkpoint()``
keep the planner's estimated sizes, which grow at each self-join until planning stalls, SPARK-52163;
``cache()`` keeps the whole lineage). A maximum number of rounds guards against a loop that does not
settle; every round is logged with its row counts and counted in :class:`Rounds`.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["Checkpoints", "NoFixedPointError", "count_of", "iterate"]

log = logging.getLogger("groupexposure.spark")


class NoFixedPointError(RuntimeError):
    """A loop of the Spark engine did not settle within its maximum number of rounds."""


@dataclass
class Checkpoints:
    """Where rounds are written (``directory``), and how many rounds each stage took."""

    spark: SparkSession
    directory: str
    max_rounds: int = 200
    rounds: dict[str, int] = field(default_factory=dict)
    _serial: itertools.count[int] = field(default_factory=itertools.count)
    _saved: set[int] = field(default_factory=set)

    def save(self, frame: DataFrame, name: str) -> DataFrame:
        """``frame`` written to Parquet and read back (its lineage cut, its size known); a frame
        this returned is not written again."""
        if id(frame) in self._saved:
            return frame
        path = f"{self.directory.rstrip('/')}/{name}-{next(self._serial)}"
        frame.write.mode("overwrite").parquet(path)
        out = self.spark.read.schema(frame.schema).parquet(path)  # no job to read the footers
        self._saved.add(id(out))
        return out


Measure = Callable[[dict[str, "DataFrame"]], Hashable]


def count_of(name: str) -> Measure:
    """The measure of a loop whose frame ``name`` grows until the fixed point: its row count."""
    return lambda state: state[name].count()


def iterate(
    cp: Checkpoints,
    stage: str,
    state: dict[str, DataFrame],
    step: Callable[[dict[str, DataFrame]], dict[str, DataFrame]],
    measure: Measure,
    *,
    max_rounds: int | None = None,
) -> dict[str, DataFrame]:
    """Run ``step`` until ``measure`` of the state no longer changes; return the last state.

    ``measure(state)`` is one small job on the checkpointed frames: a row count for a frame that
    only grows, a count and a hash sum for one that changes in place. Every frame of the new
    state is checkpointed through Parquet before it is measured and before the next round.
    Raises :class:`NoFixedPointError` after ``max_rounds`` rounds (default ``cp.max_rounds``).
    """
    limit = cp.max_rounds if max_rounds is None else max_rounds
    state = {k: cp.save(v, f"{stage}-{k}") for k, v in state.items()}
    before = measure(state)
    for r in range(1, limit + 1):
        state = {k: cp.save(v, f"{stage}-{k}") for k, v in step(state).items()}
        after = measure(state)
        cp.rounds[stage] = r
        log.info("spark %s round %d: %s (was %s)", stage, r, after, before)
        if after == before:
            return state
        before = after
    raise NoFixedPointError(
        f"spark stage {stage!r} did not reach its fixed point within {limit} rounds; the holding "
        "chains may be deeper than expected: raise max_rounds= (each round is one level of "
        "the chains, or a doubling of them)")
