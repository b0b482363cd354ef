"""Concentration measures against published and hand-worked values."""

from __future__ import annotations

import math

import pytest

import groupexposure as gx
from groupexposure.measures.concentration import gini, hhi_measures
from tests.conftest import make_book


def test_hhi_published_value():
    # shares 0.8, 0.1, 0.1: H = 0.64 + 0.01 + 0.01 = 0.66 = 6,600 points; 1/H = 1.5152;
    # normalised (0.66 - 1/3) / (1 - 1/3) = 0.49
    m = hhi_measures([0.8, 0.1, 0.1])
    assert m["hhi_points"] == pytest.approx(6600)
    assert m["numbers_equivalent"] == pytest.approx(1 / 0.66)
    assert m["hhi_normalised"] == pytest.approx(0.49)
    # ten equal groups: 1,000 points, numbers-equivalent 10, normalised 0
    m = hhi_measures([5.0] * 10)
    assert (m["hhi_points"], m["numbers_equivalent"]) == (pytest.approx(1000), pytest.approx(10))
    assert m["hhi_normalised"] == pytest.approx(0.0)
    assert math.isnan(hhi_measures([])["hhi"])


def test_gini_values():
    assert gini([3.0, 3.0, 3.0]) == pytest.approx(0.0)
    assert gini([0.0, 0.0, 0.0, 1.0]) == pytest.approx(0.75)  # (N-1)/N
    # 1, 2, 3: sum((2i - 4) x_i) = -2 + 0 + 6 = 4; / (3 * 6) = 0.2222
    assert gini([3.0, 1.0, 2.0]) == pytest.approx(4 / 18)


def test_result_concentration_by_group_sector_country():
    # groups A (80), B (10), C (10); sectors: A steel, B and C textiles; Tier 1 1000.
    book = make_book([{"entity_id": "A", "sector": "steel", "country": "CN"},
                      {"entity_id": "B", "sector": "textiles", "country": "CN"},
                      {"entity_id": "C", "sector": "textiles", "country": "HK"},
                      {"entity_id": "S", "kind": "sovereign", "country": "CN"}],
                     facilities=[{"obligor_id": "A", "drawn": 80.0},
                                 {"obligor_id": "B", "drawn": 10.0},
                                 {"obligor_id": "C", "drawn": 10.0},
                                 {"obligor_id": "S", "drawn": 500.0}])
    c = gx.analyze(book).concentration
    assert c.hhi_points == pytest.approx(6600)  # the sovereign's exposure is exempt: 0
    assert c.top10_share == pytest.approx(1.0)
    sector = c.by_sector.set_index("sector")
    assert sector.loc["textiles", "exposure"] == 20.0
    assert sector.loc["textiles", "of_tier1"] == pytest.approx(0.02)
    country = c.by_country.set_index("country")
    assert country.loc["CN", "exposure"] == 90.0 and country.loc["HK", "share"] == 0.1
    assert "hhi_points" in c.summary().index and "<table" in c._repr_html_()
