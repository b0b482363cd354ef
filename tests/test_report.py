"""The HTML report and the matplotlib charts (groupexposure[report])."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import pytest

import groupexposure as gx
from tests.conftest import make_book

matplotlib.use("Agg")
NINGXIA = gx.analyze(gx.datasets.ningxia())


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(f"{tag} {name}={value}")
        if tag in ("script", "link", "iframe"):
            self.external.append(tag)


def test_html_report_is_self_contained_and_draws_flagged_groups(tmp_path: Path):
    path = NINGXIA.to_html(tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    refs = _Refs()
    refs.feed(text)
    assert refs.external == []  # nothing to fetch: charts are inline SVG
    trees = re.findall(r"data-group='([^']+)'", text)
    assert trees == ["YP-OWNER", "ZY-INTL"]  # the breach, then the warning
    assert text.count("<svg") == 5  # utilisation, sector and country charts; the two trees
    assert "宁夏中银绒业国际集团有限公司" in text  # names in the tables, as text
    assert "NX-WOOL → TM → NX-WOOL" in text


def test_html_escapes_names(tmp_path: Path):
    book = make_book([{"entity_id": "A", "name": "<script>alert(1)</script>"}],
                     facilities=[{"obligor_id": "A", "drawn": 900.0}])
    text = gx.analyze(book).to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)" in text


def test_plot_group_layers_and_labels():
    ax = gx.plot_group(NINGXIA, "ZY-INTL")
    texts = {t.get_text() for t in ax.texts}
    assert "ZY-CASH\n650,000,000" in {t.split("\n", 1)[-1] for t in texts}
    assert "38%" in texts and "100%" in texts
    pos, _, size = gx.plots.group_tree(NINGXIA, "ZY-INTL")
    assert size == 12 and pos["ZY-INTL"][1] == 0 and pos["ZY-CASH"][1] == 1
    assert pos["ZY-ALPHA"][1] == 2
    dep = gx.plots.group_tree(NINGXIA, "RC-GRP")[1]
    assert ("RC-GRP", "TM", "economic_dependence", True) in dep  # dependence drawn dashed
    with pytest.raises(ValueError, match="unknown group 'NOPE'"):
        gx.plot_group(NINGXIA, "NOPE")


def test_large_group_keeps_the_biggest_members_and_their_chain():
    book = gx.datasets.synthetic(3_000, seed=5)
    r = gx.analyze(book)
    big = r.groups.sort_values("n_members").iloc[-1]
    pos, edges, size = gx.plots.group_tree(r, big["group_id"], max_nodes=10)
    assert size == big["n_members"] and len(pos) < size
    assert all(u in pos and v in pos for u, v, _, _ in edges)


def test_plot_concentration():
    ax = NINGXIA.plot_concentration()
    assert "HHI" in ax.get_title() and len(ax.patches) == len(NINGXIA.groups)


def test_plot_breakdown_by_sector_and_country():
    ax = gx.plots.plot_breakdown(NINGXIA, "sector")
    assert ax.get_title() == "exposure by sector" and len(ax.patches) == min(
        15, len(NINGXIA.concentration.by_sector))
    ax = gx.plots.plot_breakdown(NINGXIA, "country")
    assert {t.get_text() for t in ax.get_yticklabels()} == {"CN", "HK", "GB"}
