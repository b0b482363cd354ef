"""Regulatory large-exposure returns (SPEC §11) from an analysis: ``result.returns(template)``.

Templates: ``basel_lex20`` (BCBS LEX20.4), ``eu_corep_le`` (COREP C 26.00-C 29.00) and ``cn_g14``
(1104 G14 大额风险暴露统计表). Each gives a :class:`Returns`: a dict of DataFrames with ``labels`` and
``issues``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._common import Returns

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["TEMPLATES", "Returns", "build_returns"]

TEMPLATES = ("basel_lex20", "eu_corep_le", "cn_g14")
"""The templates :func:`build_returns` knows."""


def build_returns(result: AnalysisResult, template: str) -> Returns:
    """The return ``template`` from ``result``.

    >>> import groupexposure as gx
    >>> build_returns(gx.analyze(gx.datasets.ningxia()), "lex")
    Traceback (most recent call last):
    ...
    ValueError: unknown return template 'lex'; valid: basel_lex20, eu_corep_le, cn_g14
    """
    if template == "basel_lex20":
        from .basel import basel_lex20

        return basel_lex20(result)
    if template == "eu_corep_le":
        from .corep import eu_corep_le

        return eu_corep_le(result)
    if template == "cn_g14":
        from .g14 import cn_g14

        return cn_g14(result)
    raise ValueError(f"unknown return template {template!r}; valid: {', '.join(TEMPLATES)}")
