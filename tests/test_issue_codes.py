"""One registry of issue codes: every code the library emits is registered, and docs/issues.md lists them."""

from __future__ import annotations

from pathlib import Path

import pytest

import groupexposure as gx
from groupexposure.model.issues import ISSUE_CODES, issue, issue_codes_markdown
from tests.conftest import make_book

DOC = Path(__file__).resolve().parents[1] / "docs" / "issues.md"


def test_docs_list_every_registered_code() -> None:
    assert DOC.read_text(encoding="utf-8") == issue_codes_markdown(), (
        "docs/issues.md is out of date: regenerate it with "
        "python -c 'from groupexposure.model.issues import issue_codes_markdown as m; print(m(), end=\"\")'"
        " > docs/issues.md")


def test_the_constructor_refuses_an_unregistered_code() -> None:
    with pytest.raises(KeyError, match="no_such_code"):
        issue("no_such_code", "entities", message="x")


def test_the_constructor_takes_the_severity_from_the_registry() -> None:
    row = issue("unused_entity", "entities", key="entity_id=E", message="E has no facility")
    assert row.severity == ISSUE_CODES["unused_entity"].severity == "info"


def test_every_code_in_an_analysis_is_registered() -> None:
    """A book with an unused entity, a facility of an unknown obligor (dropped under collect) and a
    guarantor the policy refuses: every code it produces is in the registry."""
    book = make_book(["P", "S", "U", {"entity_id": "I", "kind": "individual"}],
                     ownership=[("P", "S", 0.6)],
                     facilities=[{"facility_id": "F1", "obligor_id": "S", "drawn": 100.0,
                                  "guarantor_id": "I"},
                                 {"facility_id": "F2", "obligor_id": "X", "drawn": 5.0}])
    result = gx.analyze(book, on_error="collect")
    codes = set(result.issues["code"])
    assert {"unused_entity", "unknown_entity", "ineligible_guarantor"} <= codes
    assert codes <= set(ISSUE_CODES)
