"""groupexposure: exposure to groups of connected clients, held against large-exposure limits.

>>> import groupexposure as gx
>>> result = gx.analyze(gx.datasets.ningxia(), policy="basel")
>>> sorted(result.groups["status"].unique())
['breach', 'ok', 'warning']
"""

from __future__ import annotations

import logging

from . import datasets
from . import policy as policies
from .analysis import analyze
from .bods import read_bods
from .external import ExternalOwnership, merge_ownership, read_ownership
from .gleif import read_gleif
from .lookthrough import integrated_ownership
from .plots import plot_group
from .policy import InstitutionRelief, LimitRule, Policy, get_policy
from .portfolio import Portfolio, load_portfolio
from .problems import ValidationError
from .result import AnalysisResult
from .schema import Capital, Connection, Entity, EntityKind, Facility, Ownership, Product

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
