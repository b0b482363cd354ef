"""The command line's Spark parts: ``analyze DATA --engine spark`` on a local session, and
``check`` / ``explain`` on a directory the Spark engine wrote (one machine, no Spark)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ...result import AnalysisResult

__all__ = ["is_spark_output", "run_analyze", "spark_output"]


def is_spark_output(directory: Path) -> bool:
    """Whether ``directory`` holds the Parquet output of the Spark engine (its manifest says so)."""
    manifest = directory / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        return bool(json.loads(manifest.read_text(encoding="utf-8")).get("engine") == "spark")
    except ValueError:
        return False


def spark_output(directory: Path) -> AnalysisResult:
    """The Spark engine's output read on one machine (see :func:`load_result`)."""
    from ._load import load
    return load(directory)


def _require_spark() -> None:
    """A clear error (not a trace) where pyspark or a Java runtime is missing."""
    import importlib.util
    import os
    import shutil

    try:
        found = importlib.util.find_spec("pyspark") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ValueError("--engine spark needs pyspark: pip install 'groupexposure[spark]' "
                         "(and a Java 17 runtime)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise ValueError("--engine spark needs a Java runtime (Java 17: apt install "
                         "openjdk-17-jre-headless, or set JAVA_HOME)")


def run_analyze(data_dir: Path, args: argparse.Namespace, out: TextIO) -> int:
    """``analyze DATA --engine spark``: a local[2] session; the Parquet output (with its manifest)
    in ``OUT/parquet``, the CSV files of SPEC §8 in ``OUT`` as the single-machine engine writes."""
    _require_spark()
    from . import analyze, local_session
    if getattr(args, "ownership", None):
        raise ValueError("--ownership files are not read by --engine spark; merge them first "
                         "(groupexposure analyze ... --ownership writes the merged ownership)")
    spark = local_session()
    result = analyze(spark, data_dir, policy=args.policy, grouping=args.grouping,
                     on_error=args.on_error, checkpoint_dir=str(args.out / "spark-checkpoints"))
    parquet = result.write(args.out / "parquet")
    one = spark_output(parquet)
    written = one.to_csv(args.out)
    rounds = ", ".join(f"{k} {v}" for k, v in result.rounds.items())
    print(f"spark rounds: {rounds}", file=sys.stderr)
    print(one.summary(), file=out)
    print(f"wrote {', '.join(p.name for p in written.values())} and parquet/ to "
          f"{args.out.resolve()}", file=out)
    return 0
