"""The §1 tables as Spark DataFrames, typed and with their defaults (SPEC §1).

A source is a directory (Parquet files ``entities.parquet`` ... as files or Spark directories; any
other format is read by the single-machine reader and handed to Spark), a
:class:`~groupexposure.Portfolio`, or a mapping of table name to a Spark DataFrame, a table name
in the catalog or a Parquet path. Cells are cast from whatever type they arrive in (text from a
CSV file, numbers from Parquet) to the types of SPEC §1; blank identifiers are missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ...io.files import load_portfolio
from ...model.portfolio import Portfolio
from ...model.schema import TABLES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["Tables", "read_source"]

#: column -> (Spark type, default) for every column the engine reads; ``None``: stays missing.
COLUMNS: dict[str, dict[str, tuple[str, Any]]] = {
    "entities": {"entity_id": ("id", None), "name": ("string", None),
                 "kind": ("string", "corporate"), "is_gsib": ("boolean", False)},
    "ownership": {"owner_id": ("id", None), "owned_id": ("id", None), "share": ("double", None),
                  "voting": ("double", None), "control": ("boolean", False)},
    "connections": {"dependent_id": ("id", None), "depends_on_id": ("id", None),
                    "kind": ("string", "economic_dependence"), "mutual": ("boolean", False)},
    "facilities": {"facility_id": ("id", None), "obligor_id": ("id", None),
                   "product": ("string", "loan"), "drawn": ("double", 0.0),
                   "undrawn": ("double", 0.0), "ccf": ("double", None),
                   "provision": ("double", 0.0), "currency": ("id", None),
                   "guarantor_id": ("id", None), "guaranteed_amount": ("double", None),
                   "collateral_value": ("double", 0.0)},
    "fx": {"currency": ("id", None), "rate": ("double", None)},
}
REQUIRED = ("entities", "ownership", "facilities")


@dataclass(frozen=True)
class Tables:
    """The five typed tables and the capital record (a dict as in capital.json)."""

    entities: DataFrame
    ownership: DataFrame
    connections: DataFrame
    facilities: DataFrame
    fx: DataFrame
    capital: dict[str, Any]

    def frame(self, name: str) -> DataFrame:
        """The table called ``name``."""
        return getattr(self, name)  # type: ignore[no-any-return]


def _from_pandas(spark: SparkSession, table: str, frame: pd.DataFrame) -> DataFrame:
    """A pandas table as a Spark one of text cells (as a CSV file reads), row numbers kept."""
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    cols = [c for c in frame.columns if c in COLUMNS[table]]
    text = [[None if v is None or (isinstance(v, float) and v != v) or v is pd.NA else str(v)
             for v in frame[c].astype(object)] for c in cols]
    schema = StructType([*(StructField(c, StringType()) for c in cols),
                         StructField("_row", LongType())])
    records = list(zip(*text, range(1, len(frame) + 1), strict=True)) if cols else []
    return spark.createDataFrame(records, schema)


def _typed(table: str, df: DataFrame) -> DataFrame:
    """Every column of the table, cast to its type, defaults filled, extra columns left out."""
    from pyspark.sql import functions as F

    out = []
    for name, (kind, default) in COLUMNS[table].items():
        col = F.col(name) if name in df.columns else F.lit(None)
        if kind == "id":
            col = F.trim(col.cast("string"))
            col = F.when(col == "", None).otherwise(col)
        elif kind == "boolean":
            col = F.when(F.trim(col.cast("string")) == "", None).otherwise(col).cast("boolean")
        else:
            col = col.cast(kind)
        if kind == "string" and default is not None:
            col = F.when(F.trim(col) == "", None).otherwise(F.lower(F.trim(col)))
        if default is not None:
            col = F.coalesce(col, F.lit(default))
        out.append(col.alias(name))
    row = F.col("_row") if "_row" in df.columns else F.lit(None).cast("long")
    typed = df.select(*out, row.alias("_row"))
    if table == "ownership":
        # votes not given are the share (SPEC §1); only votes given are checked for their range
        typed = typed.withColumns({"_voting_given": F.col("voting").isNotNull(),
                                   "voting": F.coalesce("voting", "share")})
    return typed


def _read_dir(spark: SparkSession, directory: Path) -> tuple[dict[str, DataFrame], dict[str, Any]]:
    frames: dict[str, DataFrame] = {}
    parquet = {t: directory / f"{t}.parquet" for t in TABLES}
    if all(parquet[t].exists() for t in REQUIRED):
        for t, p in parquet.items():
            if p.exists():
                frames[t] = spark.read.parquet(str(p))
        capital_path = directory / "capital.json"
        if not capital_path.exists():
            raise FileNotFoundError(f"{capital_path} is required beside the Parquet tables")
        return frames, dict(json.loads(capital_path.read_text(encoding="utf-8")))
    return _read_portfolio(spark, load_portfolio(directory))


def _read_portfolio(spark: SparkSession, book: Portfolio
                    ) -> tuple[dict[str, DataFrame], dict[str, Any]]:
    if book.problems:
        from ...model.issues import ValidationError, issues_frame
        raise ValidationError(issues_frame(list(book.problems)))
    frames = {t: _from_pandas(spark, t, getattr(book, t)) for t in TABLES}
    return frames, dict(book.capital or {})


def read_source(spark: SparkSession, source: Any, capital: Mapping[str, Any] | None = None
                ) -> Tables:
    """The typed tables of ``source`` (see the module docstring)."""
    from pyspark.sql import DataFrame as SparkFrame

    if isinstance(source, Portfolio):
        frames, cap = _read_portfolio(spark, source)
    elif isinstance(source, str | Path):
        if not Path(source).is_dir():
            raise FileNotFoundError(f"{source} is not a directory holding the portfolio's tables")
        frames, cap = _read_dir(spark, Path(source))
    elif isinstance(source, Mapping):
        frames = {}
        cap = dict(source.get("capital") or {})
        for t in TABLES:
            v = source.get(t)
            if v is None:
                continue
            if isinstance(v, SparkFrame):
                frames[t] = v
            elif isinstance(v, str) and ("/" in v or v.endswith(".parquet")):
                frames[t] = spark.read.parquet(v)
            elif isinstance(v, str):
                frames[t] = spark.table(v)
            else:
                raise TypeError(f"source[{t!r}] must be a Spark DataFrame, a table name or a "
                                f"Parquet path; got {type(v).__name__}")
    else:
        raise TypeError("source must be a directory, a Portfolio or a mapping of table names to "
                        f"Spark DataFrames, table names or Parquet paths; got {type(source).__name__}")
    if capital is not None:
        cap = dict(capital)
    missing = [t for t in REQUIRED if t not in frames]
    if missing:
        raise ValueError(f"the tables {', '.join(missing)} are required; got {sorted(frames)}")
    if not cap:
        raise ValueError("a capital record is required (capital.json beside the tables, "
                         "source['capital'] or capital=)")
    typed = {}
    for t in TABLES:
        df = frames.get(t)
        if df is None:
            df = spark.createDataFrame([], "entity_id string").limit(0)
        typed[t] = _typed(t, df)
    return Tables(**typed, capital=cap)
