"""The §1 tables as Spark DataFrames, typed and with their defaults (SPEC §1).

A source is a directory (Parquet files ``entities.parquet`` ... as files or Spark directories; any
other format is read by the single-machine reader and handed to Spark), a
:class:`~groupexposure.Portfolio`, or a mapping of table name to a Spark DataFrame, a table name
in the catalog or a Parquet path. Cells are typed from whatever type they arrive in (text from a
CSV file, numbers from Parquet) by the single-machine reader, run in a pandas UDF: the same codes,
messages and conservative readings for a bad cell as on one machine (SPEC §1, §7). A single
Parquet file's rows are numbered as a CSV file's are (from Spark's ``_metadata.row_index``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...io.files import load_portfolio
from ...model.policy import Policy
from ...model.portfolio import Portfolio
from ...model.schema import TABLES, columns
from ...validate._collect import PROBLEM_FIELDS
from ...validate.columns import convert

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

__all__ = ["BOOKKEEPING", "Tables", "read_source"]

#: The columns the reader adds for validation: ``_rid`` (the row's number, or Spark's row id where
#: the table has no order), ``_drop`` (collect mode leaves the row out), ``_problems`` (the row's
#: cell problems as JSON, null for none) and ``_guarantor_given``.
BOOKKEEPING = ("_rid", "_drop", "_problems", "_guarantor_given")

#: column -> Spark type, for every column the engine reads (typed and defaulted by ``convert``).
COLUMNS: dict[str, dict[str, str]] = {
    "entities": {"entity_id": "string", "name": "string", "kind": "string", "is_gsib": "boolean",
                 "exempt": "boolean"},
    "ownership": {"owner_id": "string", "owned_id": "string", "share": "double",
                  "voting": "double", "control": "boolean"},
    "connections": {"dependent_id": "string", "depends_on_id": "string", "kind": "string",
                    "mutual": "boolean"},
    "facilities": {"facility_id": "string", "obligor_id": "string", "product": "string",
                   "drawn": "double", "undrawn": "double", "ccf": "double",
                   "provision": "double", "currency": "string", "guarantor_id": "string",
                   "guaranteed_amount": "double", "collateral_value": "double"},
    "fx": {"currency": "string", "rate": "double"},
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

    known = {spec.name for spec in columns(table)}
    cols = [c for c in frame.columns if c in known]
    text = [[None if v is None or (isinstance(v, float) and v != v) or v is pd.NA else str(v)
             for v in frame[c].astype(object)] for c in cols]
    schema = StructType([*(StructField(c, StringType()) for c in cols),
                         StructField("_row", LongType())])
    records = list(zip(*text, range(1, len(frame) + 1), strict=True)) if cols else []
    return spark.createDataFrame(records, schema)


def _schema(table: str) -> StructType:
    """The typed table's Spark schema: the engine's columns, ``_row`` and the bookkeeping columns
    (:data:`BOOKKEEPING`; ``_guarantor_given``, the guarantor of a guarantee ignored because its
    amount was unreadable, for facilities only)."""
    from pyspark.sql import types as T
    kinds = {"string": T.StringType(), "double": T.DoubleType(), "boolean": T.BooleanType()}
    return T.StructType([*(T.StructField(c, kinds[k]) for c, k in COLUMNS[table].items()),
                         T.StructField("_row", T.LongType()), T.StructField("_rid", T.LongType()),
                         T.StructField("_drop", T.BooleanType()),
                         T.StructField("_problems", T.StringType()),
                         *([T.StructField("_guarantor_given", T.StringType())]
                           if table == "facilities" else [])])


def _typed(table: str, df: DataFrame, policy: Policy) -> DataFrame:
    """Every column of the table typed by the single-machine reader, one partition at a time.

    :func:`~groupexposure.validate.columns.convert` runs on each Arrow batch in a pandas UDF, so
    a bad cell gets the same code, message and conservative reading as on one machine (SPEC §7):
    the typed cell holds the reading, ``_drop`` marks a row no reading can use and
    ``_problems`` carries the row's problems. Extra columns are left out. A table without row
    numbers (Parquet parts, a catalog table) numbers its rows by Spark's row id inside the UDF
    (so that a blank ``facility_id`` still gets a name of its own) and reports no row.
    """
    from pyspark.sql import functions as F

    known = {spec.name for spec in columns(table)}
    given = [c for c in df.columns if c in known]
    ordered = "_row" in df.columns
    row = F.col("_row").cast("long") if ordered else F.monotonically_increasing_id() + 1
    names = list(COLUMNS[table])
    extra = ["_guarantor_given"] if table == "facilities" else []
    text = [c for c, kind in COLUMNS[table].items() if kind == "string"] + extra

    def typed_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for raw in batches:
            rows = raw.pop("_row").to_numpy(dtype="int64")
            frame, problems = convert(table, raw, policy=policy, rows=rows)
            yield _batch_out(frame, problems, names + extra, ordered, text)

    typed = df.select(*given, row.alias("_row")).mapInPandas(typed_batches, _schema(table))
    if table == "ownership":  # votes not given (or unreadable) are the share (SPEC §1)
        typed = typed.withColumn("voting", F.coalesce("voting", "share"))
    return typed


def _batch_out(frame: pd.DataFrame, problems: pd.DataFrame, names: list[str], ordered: bool,
               text: list[str]) -> pd.DataFrame:
    """One converted batch as the UDF's output: the typed columns, ``_row`` and the bookkeeping
    columns; each row's problems as JSON records (the issue fields, ``fate``, ``reading``,
    ``rid``)."""
    out = frame.reindex(columns=names)
    out["_rid"] = frame["_row"].to_numpy()
    out["_drop"] = False
    out["_problems"] = None
    if len(problems):
        at = pd.Series(np.arange(len(frame)), index=frame["_row"].to_numpy())
        rid = problems["row"].to_numpy(dtype="int64")
        pos = at.reindex(rid).to_numpy(dtype="int64")
        out.loc[np.unique(pos[(problems["fate"] == "drop").to_numpy()]), "_drop"] = True
        records: dict[int, list[dict[str, Any]]] = {}
        for i, found in enumerate(problems[[*PROBLEM_FIELDS, "fate", "reading"]]
                                  .to_dict("records")):
            rec = {str(k): v for k, v in found.items()}
            rec["rid"] = int(rid[i])
            rec["row"] = int(rid[i]) if ordered else None
            records.setdefault(int(pos[i]), []).append(rec)
        for p, recs in records.items():
            out.at[p, "_problems"] = json.dumps(recs, ensure_ascii=False)
    out["_row"] = frame["_row"].to_numpy() if ordered else None
    for c in text:  # plain objects: Arrow-backed or all-NaN columns would not convert
        col = out[c].astype(object)
        out[c] = col.where(col.notna(), None)
    return out


def _read_dir(spark: SparkSession, directory: Path) -> tuple[dict[str, DataFrame], dict[str, Any]]:
    from pyspark.sql import functions as F
    frames: dict[str, DataFrame] = {}
    parquet = {t: directory / f"{t}.parquet" for t in TABLES}
    if all(parquet[t].exists() for t in REQUIRED):
        for t, p in parquet.items():
            if p.is_file():  # one file: its rows are numbered as a CSV file's are
                frames[t] = spark.read.parquet(str(p)).withColumn(
                    "_row", F.col("_metadata.row_index") + 1)
            elif p.exists():  # a directory of parts: rows have no order
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


def read_source(spark: SparkSession, source: Any, policy: Policy,
                capital: Mapping[str, Any] | None = None) -> Tables:
    """The typed tables of ``source`` (see the module docstring); the ``policy`` gives the
    reading of an unknown product (its highest CCF)."""
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
        typed[t] = _typed(t, df, policy)
    return Tables(**typed, capital=cap)
