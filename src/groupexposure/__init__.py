"""groupexposure: exposure to groups of connected clients, held against large-exposure limits.

>>> import groupexposure as gx
>>> result = gx.analyze(gx.datasets.ningxia(), policy="basel")
>>> sorted(result.groups["status"].unique())
['breach', 'ok', 'warning']
"""

from __future__ import annotations

import logging

from . import datasets
from .analysis import analyze
from .core.lookthrough import integrated_ownership
from .io.bods import read_bods
from .io.external import ExternalOwnership, merge_ownership, read_ownership
from .io.files import load_portfolio
from .io.gleif import read_gleif
from .model import policy as policies
from .model.issues import ValidationError
from .model.policy import InstitutionRelief, LimitRule, Policy, get_policy
from .model.portfolio import Portfolio
from .model.schema import Capital, Connection, Entity, EntityKind, Facility, Ownership, Product
from .report import plots
from .report.plots import plot_group
from .result import AnalysisResult

__all__ = [
    "AnalysisResult",
    "Capital",
    "Connection",
    "Entity",
    "EntityKind",
    "ExternalOwnership",
    "Facility",
    "InstitutionRelief",
    "LimitRule",
    "Ownership",
    "Policy",
    "Portfolio",
    "Product",
    "ValidationError",
    "analyze",
    "datasets",
    "get_policy",
    "integrated_ownership",
    "load_portfolio",
    "merge_ownership",
    "plot_group",
    "plots",
    "policies",
    "read_bods",
    "read_gleif",
    "read_ownership",
]
__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str) -> object:
    """``gx.spark``: the Spark engine, imported on first use (pyspark loads only then)."""
    if name == "spark":
        from .engines import spark
        return spark
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
