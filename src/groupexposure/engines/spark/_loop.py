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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["Checkpoints", "NoFixedPointError", "iterate"]

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

    def save(self, frame: DataFrame, name: str) -> DataFrame:
        """``frame`` written to Parquet and read back (its lineage cut, its size known)."""
        path = f"{self.directory.rstrip('/')}/{name}-{next(self._serial)}"
        frame.write.mode("overwrite").parquet(path)
        return self.spark.read.schema(frame.schema).parquet(path)  # no job to read the footers


def iterate(
    cp: Checkpoints,
    stage: str,
    state: dict[str, DataFrame],
    step: Callable[[dict[str, DataFrame]], dict[str, DataFrame]],
    *,
    max_rounds: int | None = None,
) -> dict[str, DataFrame]:
    """Run ``step`` until it reports no change; return the last state.

    ``step(state)`` returns the next state, whose ``delta`` frame holds the rows that changed in
    the round (none: the fixed point is reached). Every frame of the new state is checkpointed
    through Parquet before it is counted and before the next round. Raises
    :class:`NoFixedPointError` after ``max_rounds`` rounds (default ``cp.max_rounds``).
    """
    limit = cp.max_rounds if max_rounds is None else max_rounds
    for r in range(1, limit + 1):
        state = {k: cp.save(v, f"{stage}-{k}") for k, v in step(state).items()}
        changed = state["delta"].count()
        cp.rounds[stage] = r
        log.info("spark %s round %d: %d rows changed", stage, r, changed)
        if changed == 0:
            return state
    raise NoFixedPointError(
        f"spark stage {stage!r} did not reach its fixed point within {limit} rounds; the holding "
        "chains may be deeper than expected: raise max_rounds= (each round is one level of "
        "the chains, or a doubling of them)")
