"""What a person reads: names beside ids, Chinese labels, fonts, trees, safe text (#12, #13, #14)."""

from __future__ import annotations

import io
import logging
import re
import sys
import warnings
from contextlib import redirect_stderr
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

import groupexposure as gx
from groupexposure.cli import main
from groupexposure.report import fonts
from groupexposure.report.labels import Labels
from groupexposure.safe import restore
from tests.conftest import make_book

matplotlib.use("Agg")
NINGXIA = gx.analyze(gx.datasets.ningxia(), policy="cn_cbirc_2018")
HAS_CJK = fonts.cjk_font() is not None


def _mutual_book() -> gx.Portfolio:
    # #12.8: P owns 100% of K; K and C guarantee each other (mutual, written from K's side);
    # C owns 85% of D; P holds 30% of F with a control flag. Group P = {P, K, F} + C(C) = {C, D}
    # (SPEC §3: a mutual connection is followed from either end).
    return make_book([{"entity_id": "P", "name": "控股集团"}, "K", "C", "D", "F"],
                     ownership=[("P", "K", 1.0), ("C", "D", 0.85), ("P", "F", 0.3, 0.3, True)],
                     connections=[("K", "C", "guarantee", True)],
                     facilities=[{"obligor_id": "D", "drawn": 300.0}], tier1=1000.0)


def test_every_member_hangs_on_the_tree_by_the_link_that_brought_it_in():
    r = gx.analyze(_mutual_book())
    assert set(r.members.loc[r.members["group_id"] == "P", "entity_id"]) == {"P", "K", "C", "D",
                                                                            "F"}
    tree = gx.plots.holding_tree(r, "P")
    into = {v: (u, label, dashed) for u, v, label, dashed in tree.edges}
    assert into == {"K": ("P", "100%", False), "F": ("P", "30% (control)", False),
                    "C": ("K", "mutual guarantee", True), "D": ("C", "85%", False)}
    assert tree.unlinked == () and tree.pos["C"][1] == 2 and tree.pos["D"][1] == 3
    ax = gx.plot_group(r, "P")
    texts = [t.get_text() for t in ax.texts]
    assert "30% (control)" in texts and "mutual guarantee" in texts
    assert any(t.startswith("控股集团\nP\n") for t in texts) == HAS_CJK


@pytest.mark.parametrize("grouping", ["overlapping", "partition"])
def test_every_member_of_every_group_has_an_edge(grouping: str):
    for book in (gx.datasets.ningxia(), gx.datasets.synthetic(400, seed=3), _mutual_book()):
        r = gx.analyze(book, grouping=grouping)
        for gid, n in zip(r.groups["group_id"], r.groups["n_members"], strict=True):
            tree = gx.plots.holding_tree(r, gid, max_nodes=10_000)
            children = [v for _, v, _, _ in tree.edges]
            assert len(children) == len(set(children)) == n - 1, gid
            assert tree.unlinked == ()


def test_votes_and_flags_are_labelled_on_the_links():
    tree = gx.plots.holding_tree(NINGXIA, "YP-OWNER")
    assert ("YP-INV", "YP-BIO", "45% (votes 52%)", False) in tree.edges


def test_groups_chart_draws_each_group_against_its_own_rule():
    # SPEC §5: NX-WOOL is held to the loans rule (30m / total capital 3.8bn = 0.79%, limit 10%:
    # utilisation 7.89%); YP-OWNER to the group rule (840m / Tier 1 3.2bn = 26.25%, limit 20%).
    ax = NINGXIA.plot_concentration()
    at = {round(float(p.get_y() + p.get_height() / 2), 6): p.get_width() for p in ax.patches}
    bars = {t.get_text(): at[round(float(y), 6)]
            for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
    nx = next(k for k in bars if k.endswith("(NX-WOOL)"))
    yp = next(k for k in bars if k.endswith("(YP-OWNER)"))
    assert bars[nx] == pytest.approx(30e6 / 3.8e9 / 0.10)
    assert bars[yp] == pytest.approx(0.2625 / 0.20)
    texts = [t.get_text() for t in ax.texts]
    assert "loans 0.79% of total capital (limit 10%)" in texts
    assert "exposure 26.25% of Tier 1 (limit 20%)" in texts
    lines = {line.get_label(): line.get_xdata()[0] for line in ax.get_lines()}
    assert lines == {"limit": 1.0, "warning level": 0.8}


def _glyph_warnings(run: object) -> tuple[int, str]:
    err = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, redirect_stderr(err):
        warnings.simplefilter("always")
        run()  # type: ignore[operator]
    text = err.getvalue() + "\n".join(str(w.message) for w in caught)
    return text.count("Glyph"), text


@pytest.mark.skipif(not HAS_CJK, reason="no CJK font installed (apt-get install fonts-noto-cjk)")
def test_chinese_names_on_the_trees_with_no_glyph_warning(tmp_path: Path):
    count, text = _glyph_warnings(lambda: NINGXIA.to_html(tmp_path / "r.html", lang="zh"))
    assert count == 0, text
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert ">宁夏中银绒业</text>" in html  # 宁夏中银绒业股份有限公司 on a tree node: form dropped
    assert ">宁夏中银绒业国际集团</text>" in html
    assert fonts.cjk_font() in html  # the SVG text names the CJK font


def test_without_a_cjk_font_the_charts_show_ids_and_say_so_once(tmp_path: Path, monkeypatch,
                                                                caplog):
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    monkeypatch.setattr(fonts, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="groupexposure"):
        count, text = _glyph_warnings(lambda: NINGXIA.to_html(tmp_path / "r.html"))
        gx.plot_group(NINGXIA, "ZY-INTL")
    assert count == 0, text
    notes = [r for r in caplog.records if "No font with Chinese characters" in r.getMessage()]
    assert len(notes) == 1
    ax = gx.plot_group(NINGXIA, "ZY-INTL")
    assert "ZY-CASH\n650,000,000" in {t.get_text() for t in ax.texts}  # the id alone
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "apt-get install fonts-noto-cjk" in html
    ax = gx.plots.plot_breakdown(gx.analyze(make_book(
        [{"entity_id": "A", "sector": "制造业"}], facilities=[{"obligor_id": "A", "drawn": 9.0}])))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["#1"]  # the table row it stands for


def test_dollar_signs_are_text_never_mathtext(tmp_path: Path):
    # #13.6: an invalid mathtext expression in an id, a name or a sector must not stop the report
    book = make_book([{"entity_id": "A$1$", "name": r"$\frac{$ Ltd", "sector": r"$x^$"},
                      {"entity_id": "B", "name": "$$"}], ownership=[("A$1$", "B", 0.9)],
                     facilities=[{"obligor_id": "A$1$", "drawn": 900.0},
                                 {"obligor_id": "B", "drawn": 100.0}])
    r = gx.analyze(book)
    html = r.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    assert "$\\frac{$ Ltd" in html and "data-group='A$1$'" in html
    texts = [t.get_text() for t in gx.plot_group(r, "A$1$").texts]
    assert any(t.startswith("$\\frac{$ Ltd\nA$1$") for t in texts)
    png = io.BytesIO()
    gx.plot_group(r, "A$1$").figure.savefig(png, format="png")  # drawing does not parse it either
    gx.plots.plot_breakdown(r, "sector").figure.savefig(png, format="png")


def test_control_characters_are_shown_escaped_on_the_terminal(tmp_path: Path):
    # #13.6: a name "\r  OK" must not overwrite BREACH; an ANSI escape must not recolour
    book = make_book([{"entity_id": "A", "name": "\r  OK"}, {"entity_id": "B", "name": "\x1b[2J"}],
                     ownership=[("A", "B", 1.0)],
                     facilities=[{"obligor_id": "B", "drawn": 900.0}])
    r = gx.analyze(book)
    for text in (r.summary(), r.summary(lang="zh"), str(r.explain("B")),
                 str(r.explain("A"))):
        assert "\r" not in text and "\x1b" not in text
    import openpyxl

    wb = openpyxl.load_workbook(r.to_excel(tmp_path / "r.xlsx"))  # an xlsx cannot hold ESC
    assert "\\x1b[2J" in [c.value for c in wb["Entities"]["B"]]
    line = next(x for x in r.summary().splitlines() if "BREACH" in x)
    assert line.startswith("  BREACH  \\r  OK (A):")
    assert "\\x1b[2J (B)" in str(r.explain("B"))


def test_csv_guard_round_trips_ids_like_formulas(tmp_path: Path):
    # #13.6: the guard changes only text cells, and a reader gets every id back (safe.restore)
    ids = ["-A1", "=1+1", "+7", "@x", "'=y", "'plain", "007"]
    book = make_book([{"entity_id": i} for i in ids],
                     facilities=[{"obligor_id": i, "drawn": 10.0} for i in ids])
    r = gx.analyze(book)
    r.to_csv(tmp_path)
    back = pd.read_csv(tmp_path / "entities.csv", dtype=str, keep_default_na=False)
    assert sorted(restore(x) for x in back["entity_id"]) == sorted(ids)
    assert "'-A1" in set(back["entity_id"]) and "''=y" in set(back["entity_id"])
    numbers = pd.read_csv(tmp_path / "entities.csv")
    assert numbers["own_net"].dtype.kind in "if"  # amounts stay numbers


def test_chinese_html_report_with_data_date_bank_and_citations(tmp_path: Path):
    html = NINGXIA.to_html(tmp_path / "r.html", lang="zh", display_unit="万元").read_text(
        encoding="utf-8")
    for text in ("<html lang='zh'>", "集团客户风险暴露报告", "数据日期", "2012-06-30",
                 "中国农业发展银行宁夏回族自治区分行", "监管口径", "集团划分方式", "限额规则及依据",
                 "非同业集团客户风险暴露不超过一级资本净额的20%", "Art. 8",
                 "<th>集团客户编号</th>", "<th>风险暴露</th>", ">超限<", "84,000.00", "万元 (CNY)"):
        assert text in html, text
    en = NINGXIA.to_html(tmp_path / "e.html").read_text(encoding="utf-8")
    assert "data date" in en and "2012-06-30" in en and "中国农业发展银行宁夏回族自治区分行" in en
    assert "CBIRC non-bank group 20% of Tier 1" in en and "Art. 8" in en


def test_group_credit_is_labelled_credit_balance_and_total_capital():
    from groupexposure.model.policy import cn_group_credit

    lab = Labels("zh")
    assert lab.rule_name("Group credit 15% of total capital", cn_group_credit) == (
        "集团客户授信余额不超过资本净额的15%")
    r = gx.analyze(gx.datasets.ningxia(), policy="cn_group_credit")
    assert "授信余额" in r.summary(lang="zh") and "资本净额" in r.summary(lang="zh")


def test_labels_refuse_unknown_languages_and_units():
    with pytest.raises(ValueError, match="lang must be one of en, zh; got 'fr'"):
        Labels("fr")
    with pytest.raises(ValueError, match="display_unit must be one of 元, 万元, 亿元"):
        Labels("zh", "千元")


def test_summaries_format_amounts_with_separators():
    for text in (NINGXIA.summary(), NINGXIA.summary(lang="zh", display_unit="亿元")):
        assert "e+0" not in text
    assert "Tier 1 3,200,000,000 CNY" in NINGXIA.summary()
    assert "一级资本净额 32.00 亿元 (CNY)" in NINGXIA.summary(lang="zh", display_unit="亿元")
    assert "中国农业发展银行宁夏回族自治区分行, data date 2012-06-30" in NINGXIA.summary()
    assert "宁夏中银绒业国际集团有限公司 (ZY-INTL): 12 members" in NINGXIA.summary()


def test_cli_in_chinese_and_check_with_names(tmp_path: Path):
    out = io.StringIO()
    code = main(["demo", "--out", str(tmp_path), "--lang", "zh", "--display-unit", "万元",
                 "--policy", "cn_cbirc_2018"], out=out)
    text = out.getvalue()
    assert code == 0 and "数据日期 2012-06-30" in text
    assert "超限 宁夏中银绒业国际集团有限公司 (ZY-INTL)" in text
    assert re.search(r"[0-9],[0-9]{3}\.[0-9]{2} 万元", text) and "e+0" not in text
    assert "集团客户风险暴露报告" in (tmp_path / "report.html").read_text(encoding="utf-8")
    out = io.StringIO()
    code = main(["check", str(gx.datasets.ningxia_path()), "--entity", "YP-NMG",
                 "--amount", "1e9"], out=out)
    text = out.getvalue()
    assert code == 3 and text.startswith("DECLINED 内蒙古伊品生物科技有限公司 (YP-NMG) loan "
                                         "1,000,000,000 CNY")
    assert "e+0" not in text and "3,200,000,000" in text and "Individual shareholder" in text


def test_circles_name_their_members():
    c = NINGXIA.guarantee_circles.iloc[0]
    assert c["cycle"] == "NX-WOOL → TM → NX-WOOL"  # ids stay for machines
    assert "宁夏特米尔羊绒制品有限… (TM)" in c["cycle_named"]


if sys.platform == "win32":  # pragma: no cover
    pytest.skip("terminal escapes are tested on POSIX", allow_module_level=True)
