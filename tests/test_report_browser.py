"""The HTML report in a real headless browser (Debian's chromium; .ci/run installs it)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import groupexposure as gx

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_report_renders_in_chromium_with_the_breaching_tree(tmp_path: Path):
    report = gx.analyze(gx.datasets.ningxia()).to_html(tmp_path / "report.html")
    profile = tempfile.mkdtemp()
    proc = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=2000", "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert "Group YP-OWNER" in dom and "data-group=\"YP-OWNER\"" in dom  # the breach's tree
    assert dom.count("<svg") == 5
    # no script errors or failed loads (the page has no scripts and loads nothing)
    console = [line for line in proc.stderr.splitlines()
               if "CONSOLE" in line or "Uncaught" in line or "Failed to load" in line]
    assert console == []
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tempfile.mkdtemp()}",
                    f"--screenshot={shot}", "--window-size=1200,1600", report.as_uri()],
                   capture_output=True, timeout=120, check=False)
    assert shot.is_file() and shot.stat().st_size > 10_000


def _dom(report: Path) -> str:
    proc = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tempfile.mkdtemp()}", "--virtual-time-budget=2000",
         "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_chinese_report_shows_names_on_the_trees_labels_and_the_data_date(tmp_path: Path):
    import re

    from groupexposure.report.fonts import cjk_font

    result = gx.analyze(gx.datasets.ningxia(), policy="cn_cbirc_2018")
    dom = _dom(result.to_html(tmp_path / "report.html", lang="zh", display_unit="万元"))
    assert '<html lang="zh">' in dom
    for text in ("集团客户风险暴露报告", "数据日期", "2012-06-30", "中国农业发展银行宁夏回族自治区分行",
                 "超限与预警", "限额规则及依据", "集团客户编号", "风险暴露", "超限"):
        assert text in dom, text
    trees = re.findall(r'<h3 class="tree" data-group="([^"]+)">', dom)
    assert trees == ["YP-OWNER", "ZY-INTL"]
    tree = dom[dom.index('data-group="ZY-INTL"'):]
    svg = tree[tree.index("<svg"):tree.index("</svg>")]
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "ZY-CASH" in texts
    if cjk_font() is not None:  # names on the nodes need a CJK font (fonts-noto-cjk)
        assert "宁夏中银绒业" in texts and "宁夏中银绒业国际集团" in texts
        assert cjk_font() in svg
