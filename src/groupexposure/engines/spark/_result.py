"""What the Spark engine returns, how it is written as Parquet, and how one machine reads it back."""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...model.policy import Policy
from ...model.schema import Capital
from ...result import COLUMNS as _COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from ...result import AnalysisResult

__all__ = ["COLUMNS", "SparkResult", "load_result"]

COLUMNS: dict[str, list[str]] = {k: list(v) for k, v in _COLUMNS.items()}
TABLE_NAMES = ("groups", "entities", "members", "issues")


@dataclass(eq=False)
class SparkResult:
    """The four §8 tables as Spark DataFrames, with the policy, the rounds each loop took and the
    intermediate frames :func:`load_result` needs (``state``)."""

    groups: DataFrame
    entities: DataFrame
    members: DataFrame
    issues: DataFrame
    policy: Policy
    grouping: str
    capital: Capital
    fx: dict[str, float]
    rounds: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    state: dict[str, DataFrame] = field(default_factory=dict)

    def manifest(self) -> dict[str, Any]:
        """Versions, policy, grouping, row counts and round counts."""
        import pyspark

        from ... import __version__
        return {
            "engine": "spark",
            "versions": {"groupexposure": __version__, "pyspark": pyspark.__version__,
                         "python": platform.python_version()},
            "policy": self.policy.name, "policy_definition": self.policy.model_dump(mode="json"),
            "grouping": self.grouping, "capital": self.capital.model_dump(mode="json"),
            "fx": self.fx,
            "row_counts": {t: getattr(self, t).count() for t in TABLE_NAMES},
            "rounds": self.rounds, "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def write(self, directory: str | Path) -> Path:
        """``groups.parquet`` ... ``issues.parquet``, the state for one-machine reading
        (``state/``) and ``manifest.json`` in ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for t in TABLE_NAMES:
            getattr(self, t).write.mode("overwrite").parquet(str(out / f"{t}.parquet"))
        for name, frame in self.state.items():
            frame.write.mode("overwrite").parquet(str(out / "state" / f"{name}.parquet"))
        (out / "manifest.json").write_text(json.dumps(self.manifest(), indent=2, default=str),
                                           encoding="utf-8")
        return out

    def to_pandas(self) -> dict[str, Any]:
        """The four tables as pandas DataFrames sorted by their keys (as one machine gives them)."""
        from ._load import sorted_table
        return {t: sorted_table(t, getattr(self, t).toPandas()) for t in TABLE_NAMES}


def load_result(directory: str | Path) -> AnalysisResult:
    """The Spark engine's Parquet output as an :class:`~groupexposure.AnalysisResult` on one
    machine (no Spark needed): ``check``, ``explain`` and the reports work on it."""
    from ._load import load
    return load(Path(directory))
