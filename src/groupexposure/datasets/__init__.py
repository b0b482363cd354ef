"""Example portfolios bundled with the package.

>>> import groupexposure as gx
>>> book = gx.datasets.ningxia()
>>> len(book.entities), len(book.facilities)
(25, 10)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..io.files import load_portfolio
from ..model.portfolio import Portfolio
from .synthetic import synthetic, write_portfolio

__all__ = ["ningxia", "ningxia_path", "synthetic", "write_portfolio"]


def ningxia_path() -> Path:
    """The directory of the bundled Ningxia example (see its README.md)."""
    return Path(str(resources.files(__package__) / "ningxia"))


def ningxia() -> Portfolio:
    """The Ningxia bank's four group clients on 2012-06-30 (balances illustrative, total 1.916bn)."""
    return load_portfolio(ningxia_path())
