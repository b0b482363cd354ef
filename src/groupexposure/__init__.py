"""groupexposure: exposure to groups of connected clients, held against large-exposure limits.

>>> import groupexposure as gx
>>> result = gx.analyze(gx.datasets.ningxia(), policy="basel")
>>> sorted(result.groups["status"].unique())
['breach', 'ok', 'warning']

The names below are loaded on first use (PEP 562), so that ``import groupexposure`` stays cheap:
an approval script that only opens a snapshot (``gx.open_snapshot``) never pays for the analysis.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import datasets, service
    from .analysis import analyze
    from .core.lookthrough import integrated_ownership
    from .engines import spark
    from .io.bods import read_bods
    from .io.external import ExternalOwnership, merge_ownership, read_ownership
    from .io.files import load_portfolio
    from .io.gleif import read_gleif
    from .ledger.diff import diff
    from .ledger.snapshot import Snapshot, open_snapshot
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
    "Snapshot",
    "ValidationError",
    "analyze",
    "datasets",
    "diff",
    "get_policy",
    "integrated_ownership",
    "load_portfolio",
    "merge_ownership",
    "open_snapshot",
    "plot_group",
    "plots",
    "policies",
    "read_bods",
    "read_gleif",
    "read_ownership",
    "service",
    "spark",
]
__version__ = "0.1.0"

_WHERE: dict[str, str] = {
    "AnalysisResult": ".result",
    "Capital": ".model.schema", "Connection": ".model.schema", "Entity": ".model.schema",
    "EntityKind": ".model.schema", "Facility": ".model.schema", "Ownership": ".model.schema",
    "Product": ".model.schema",
    "ExternalOwnership": ".io.external", "merge_ownership": ".io.external",
    "read_ownership": ".io.external",
    "InstitutionRelief": ".model.policy", "LimitRule": ".model.policy", "Policy": ".model.policy",
    "get_policy": ".model.policy",
    "Portfolio": ".model.portfolio",
    "Snapshot": ".ledger.snapshot", "open_snapshot": ".ledger.snapshot",
    "ValidationError": ".model.issues",
    "analyze": ".analysis",
    "diff": ".ledger.diff",
    "integrated_ownership": ".core.lookthrough",
    "load_portfolio": ".io.files",
    "plot_group": ".report.plots",
    "read_bods": ".io.bods",
    "read_gleif": ".io.gleif",
}
"""Where each public name lives (loaded on first use)."""
_MODULES: dict[str, str] = {"datasets": ".datasets", "plots": ".report.plots",
                            "policies": ".model.policy", "service": ".service",
                            "spark": ".engines.spark"}
"""Public names that are modules."""


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        value: Any = importlib.import_module(_MODULES[name], __name__)
    elif name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


logging.getLogger(__name__).addHandler(logging.NullHandler())
