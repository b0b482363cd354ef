"""The few lines an analysis prints on a terminal (``result.summary()``), in English or Chinese.

Bank, data date, policy and grouping first; then totals; then breaches and warnings with each
group's name beside its id; then guarantee circles and issues. Amounts carry thousands separators
(optionally in 万元 or 亿元); every id and name is printed with control characters escaped, so that a
name cannot move the cursor over the word BREACH.

>>> import groupexposure as gx
>>> r = gx.analyze(gx.datasets.ningxia(), policy="cn_cbirc_2018")
>>> print(summary_text(r, lang="zh", display_unit="万元").splitlines()[0])
中国农业发展银行宁夏回族自治区分行，数据日期 2012-06-30
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._text import named, printable
from .labels import Labels

if TYPE_CHECKING:
    from ..result import AnalysisResult

__all__ = ["header_lines", "summary_text"]


def header_lines(result: AnalysisResult, lab: Labels) -> list[tuple[str, str]]:
    """``(label, value)`` for the bank, the data date, the policy, the grouping, the currency."""
    cap = result.capital
    date = cap.as_of.isoformat() if cap.as_of else lab["unknown"]
    rows = []
    if cap.bank_name:
        rows.append((lab["bank"], printable(cap.bank_name)))
    rows += [(lab["data_date"], date), (lab["policy"], printable(result.policy.name)),
             (lab["grouping"], lab.word(result.grouping)),
             (lab["unit"], lab.unit_label(cap.currency))]
    return rows


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_text(result: AnalysisResult, top: int = 10, *, lang: str = "en",
                 display_unit: str | None = None) -> str:
    """The summary (see the module's docstring)."""
    lab = Labels(lang, display_unit)
    cap = result.capital
    cur = lab.unit_label(cap.currency) if display_unit else printable(cap.currency)
    g = result.groups
    counts = g["status"].value_counts()
    n_multi, n_large = int((g["n_members"] > 1).sum()), int(g["large_exposure"].sum())
    date = cap.as_of.isoformat() if cap.as_of else lab["unknown"]
    book = lab.amount(result.entities["own_net"].sum())
    total = "" if cap.total_capital is None else (
        f"；资本净额 {lab.amount(cap.total_capital)} {cur}" if lab.zh
        else f"; total capital {lab.amount(cap.total_capital)} {cur}")
    bank = printable(cap.bank_name) if cap.bank_name else ""
    if lab.zh:
        lines = [f"{bank + '，' if bank else ''}数据日期 {date}",
                 f"监管口径 {printable(result.policy.name)}，{lab.word(result.grouping)}：客户"
                 f"{len(result.entities)}户，授信{len(result.facilities)}笔，集团客户{len(g)}个"
                 f"（两户及以上{n_multi}个）",
                 f"一级资本净额 {lab.amount(cap.tier1)} {cur}{total}；全部客户风险暴露 {book} {cur}",
                 f"超限 {counts.get('breach', 0)} 个，预警 {counts.get('warning', 0)} 个，"
                 f"大额风险暴露 {n_large} 个"]
    else:
        lines = [f"{bank + ', ' if bank else ''}data date {date}",
                 f"policy {printable(result.policy.name)}, grouping {result.grouping}: "
                 f"{len(result.entities)} entities, {len(result.facilities)} facilities, "
                 f"{len(g)} groups ({n_multi} with 2+ members)",
                 f"Tier 1 {lab.amount(cap.tier1)} {cur}{total}; book net exposure {book} {cur}",
                 f"breaches {counts.get('breach', 0)}, warnings {counts.get('warning', 0)}, "
                 f"large exposures {n_large}"]
    for _, row in result.breaches.head(top).iterrows():
        lines.append(_group_line(row, lab, result, cur))
    circles = result.guarantee_circles
    if len(circles):
        lines.append(f"担保圈 {len(circles)} 个：" if lab.zh else f"guarantee circles {len(circles)}:")
        for _, c in circles.head(top).iterrows():
            cycle = printable(c.get("cycle_named", c["cycle"]))
            if lab.zh:
                lines.append(f"  {cycle}：{c['n_members']}户，涉及集团客户 {printable(c['groups'])}，"
                             f"风险暴露 {lab.amount(c['member_exposure'])} {cur}，圈内互保 "
                             f"{lab.amount(c['guaranteed_inside'])} {cur}")
            else:
                lines.append(f"  {cycle}: {_plural(int(c['n_members']), 'member')} in groups "
                             f"{printable(c['groups'])}, exposure {lab.amount(c['member_exposure'])}"
                             f" {cur}, guaranteed inside {lab.amount(c['guaranteed_inside'])} {cur}")
    sev = result.issues["severity"].value_counts()
    row_counts = result.row_counts
    dropped = int(row_counts["dropped"].sum()) if "dropped" in row_counts else 0
    if lab.zh:
        lines.append(f"数据问题：错误 {sev.get('error', 0)} 条（剔除 {dropped} 行），警告 "
                     f"{sev.get('warning', 0)} 条，提示 {sev.get('info', 0)} 条")
    else:
        lines.append(f"issues: {sev.get('error', 0)} errors ({dropped} rows dropped), "
                     f"{sev.get('warning', 0)} warnings, {sev.get('info', 0)} info")
    return "\n".join(lines)


def _group_line(r: Any, lab: Labels, result: AnalysisResult, cur: str) -> str:
    who = named(r["group_id"], r["root_name"], width=40)
    n = int(r["n_members"])
    rule = printable(lab.rule_name(r["rule"], result.policy))
    base = lab.base(r["capital_base_name"])
    value = lab.amount(r["measure_value"])
    ratio, limit = float(r["ratio"]), float(r["limit"])
    status = lab.status(r["status"])
    if lab.zh:
        measure = lab.measure(str(r["measure"]), result.policy)
        return (f"  {status} {who}：{n}户，{measure} {value} {cur}，占{base} {ratio:.2%}"
                f"（限额 {limit:.2%}，{rule}）")
    return (f"  {status.upper():7} {who}: {_plural(n, 'member')}, {value} {cur} = {ratio:.2%} of "
            f"{base} (limit {limit:.2%}, {rule})")
