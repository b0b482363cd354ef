"""The analysis on Apache Spark (SPEC §12): the same four tables as :func:`groupexposure.analyze`.

``gx.spark.analyze(spark, source, policy=, grouping=, checkpoint_dir=)`` takes a directory of the
§1 tables (Parquet, or any format the single-machine reader reads), a
:class:`~groupexposure.Portfolio`, or a mapping of table names to Spark DataFrames, catalog tables
or Parquet paths, and returns a :class:`SparkResult` of Spark DataFrames with exactly the §8
columns. Only the DataFrame API and pandas UDFs are used (it runs under Spark Connect); every loop
checkpoints through Parquet (see :mod:`._loop`). pyspark is imported inside the functions:
``import groupexposure`` never loads it.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...model.policy import Policy, get_policy
from ._loop import Checkpoints, NoFixedPointError
from ._result import SparkResult, load_result

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["NoFixedPointError", "SparkResult", "analyze", "load_result", "local_session"]

log = logging.getLogger("groupexposure.spark")


def local_session(cores: int = 2, partitions: int = 4) -> SparkSession:
    """A local Spark session for one machine (``local[cores]``, few shuffle partitions)."""
    import os
    import sys

    from pyspark.sql import SparkSession
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (SparkSession.builder.master(f"local[{cores}]").appName("groupexposure")
            .config("spark.sql.shuffle.partitions", str(partitions))
            .config("spark.default.parallelism", str(partitions))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.adaptive.enabled", "false")  # tiny stages: re-planning costs more
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session


def analyze(
    spark: SparkSession,
    source: Any,
    *,
    policy: str | Policy = "basel",
    grouping: str = "overlapping",
    on_error: str = "raise",
    checkpoint_dir: str | Path | None = None,
    capital: dict[str, Any] | None = None,
    max_rounds: int = 200,
) -> SparkResult:
    """Groups, consolidated exposures and limit flags, computed by Spark.

    Parameters
    ----------
    spark
        The Spark session (local, a cluster's, or a Spark Connect one).
    source
        A directory, a Portfolio, or a mapping of table names to DataFrames / table names / Parquet
        paths (with ``capital`` in it or given as ``capital=``).
    policy, grouping, on_error
        As in :func:`groupexposure.analyze`.
    checkpoint_dir
        Where each round is written as Parquet (a path every executor can read on a cluster: HDFS,
        S3, DBFS); a temporary directory by default.
    max_rounds
        The most rounds any loop may take before :class:`NoFixedPointError` is raised.
    """
    from ._pipeline import run
    if grouping not in ("overlapping", "partition"):
        raise ValueError(f"grouping must be 'overlapping' or 'partition'; got {grouping!r}")
    pol = get_policy(policy)
    directory = str(checkpoint_dir) if checkpoint_dir is not None else tempfile.mkdtemp(
        prefix="groupexposure-spark-")
    cp = Checkpoints(spark, directory, max_rounds=max_rounds)
    return run(cp, source, pol, grouping, on_error, capital)



