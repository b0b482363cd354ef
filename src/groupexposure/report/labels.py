"""Every word a report shows, in English and Chinese (``lang="en"`` or ``"zh"``), in one place.

Headings, column labels, statuses, bases, measures, rule names and units for report.html,
report.xlsx and the terminal summary. The output *tables* (CSV, DataFrames) keep their English
column names and values: they are for machines; these labels are for people.

A rule's Chinese name is built from the rule itself (its scope, counterparties, measure, limit and
base), so a policy of one's own reads in Chinese too:

>>> from groupexposure.model.policy import cn_cbirc_2018
>>> Labels("zh").rule_name("CBIRC non-bank group 20% of Tier 1", cn_cbirc_2018)
'非同业集团客户风险暴露不超过一级资本净额的20%'
>>> Labels("zh").status("breach"), Labels("en").status("breach")
('超限', 'breach')
>>> Labels("zh", "万元").amount(2_478_300_000.0)
'247,830.00'
>>> Labels("en").amount(2_478_300_000.0)
'2,478,300,000'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from .._text import amount

if TYPE_CHECKING:
    from ..model.policy import LimitRule, Policy

__all__ = ["AMOUNT_COLUMNS", "LANGUAGES", "UNITS", "Labels"]

LANGUAGES = ("en", "zh")
UNITS: dict[str, float] = {"元": 1.0, "万元": 1e4, "亿元": 1e8}
"""Display units for amounts (``display_unit=``): 元 (as they are), 万元 (10^4), 亿元 (10^8)."""

AMOUNT_COLUMNS = frozenset({
    "original_exposure", "net_exposure", "exempt_exposure", "exposure", "capital_base",
    "measure_value", "own_original", "own_net", "substituted_in", "chain_net", "lookthrough_net",
    "loans", "room_to_warning", "room_to_limit", "member_exposure", "guaranteed_inside",
    "total_exposure", "headroom_after", "max_amount", "amount",
})
"""Columns that hold amounts in the reporting currency (scaled by ``display_unit``)."""

_ZH_COLUMNS = {
    "group_id": "集团客户编号", "root_id": "核心企业/实际控制人编号", "root_name": "核心企业/实际控制人",
    "n_members": "成员数", "original_exposure": "原始风险暴露", "net_exposure": "缓释后风险暴露",
    "exempt_exposure": "豁免风险暴露", "exposure": "风险暴露", "capital_base": "资本基数",
    "ratio": "占资本比例", "limit": "限额", "status": "状态", "large_exposure": "大额风险暴露",
    "rule": "限额规则", "measure": "计量口径", "measure_value": "计量金额",
    "capital_base_name": "资本口径", "utilisation": "限额使用率", "merged_roots": "合并的控制方",
    "entity_id": "客户编号", "name": "客户名称", "kind": "客户类型",
    "ultimate_parent_id": "最终控制方编号", "immediate_controller_id": "直接控制方编号",
    "own_original": "本客户原始风险暴露", "own_net": "本客户风险暴露", "substituted_in": "担保转入",
    "chain_net": "控制链风险暴露", "lookthrough_net": "穿透风险暴露", "groups": "所属集团客户",
    "country": "国家/地区", "sector": "行业", "is_gsib": "全球系统重要性银行", "loans": "贷款余额",
    "depth": "控制层级", "basis": "纳入依据", "path": "纳入路径", "severity": "级别", "code": "代码",
    "table": "数据表", "key": "记录", "column": "字段", "message": "说明", "row": "行号",
    "value": "取值", "scope": "范围", "room_to_warning": "距预警线额度", "room_to_limit": "距限额额度",
    "circle_id": "担保圈编号", "members": "成员", "cycle": "担保环", "chain": "担保链",
    "member_exposure": "成员风险暴露", "guaranteed_inside": "圈内互保金额", "share": "占比",
    "of_tier1": "占一级资本净额", "measure_name": "项目", "measure_value_text": "数值",
    "n_groups": "集团客户数", "total_exposure": "风险暴露合计", "hhi": "赫芬达尔指数（HHI）",
    "hhi_points": "HHI（点）", "numbers_equivalent": "等效客户数（1/H）",
    "hhi_normalised": "标准化HHI", "top10_share": "前十大集团客户占比",
    "top20_share": "前二十大集团客户占比", "gini": "基尼系数",
}
_ZH_WORDS = {
    # statuses, bases, measures, kinds, severities, scopes
    "breach": "超限", "warning": "预警", "ok": "正常", "tier1": "一级资本净额",
    "total_capital": "资本净额", "exposure": "风险暴露", "loans": "贷款余额", "control": "控制",
    "dependence": "依存", "error": "错误", "info": "提示", "single": "单一客户", "group": "集团客户",
    "corporate": "企业", "individual": "自然人", "bank": "银行", "sovereign": "主权",
    "public_sector": "公共部门实体", "fund": "基金", "other": "其他",
    "economic_dependence": "经济依存", "yes": "是", "no": "否", "guarantee": "担保", "mutual": "相互",
    "overlapping": "重叠分组（一个客户可属多个集团）", "partition": "划分分组（每个客户只属一个集团）",
}
_EN_WORDS = {"yes": "yes", "no": "no", "tier1": "Tier 1", "total_capital": "total capital",
             "overlapping": "overlapping (a client may belong to several groups)",
             "partition": "partition (one group per client)"}
_HEADINGS = {
    "title": ("Exposure to groups of connected clients", "集团客户风险暴露报告"),
    "summary": ("Summary", "概要"),
    "ranked": ("Groups ranked by utilisation", "集团客户限额使用率排名"),
    "concentration": ("Concentration", "集中度"),
    "by_sector": ("By sector", "按行业"),
    "by_country": ("By country", "按国家/地区"),
    "breaches": ("Breaches and warnings", "超限与预警"),
    "large": ("Large exposures", "大额风险暴露"),
    "circles": ("Guarantee circles", "担保圈"),
    "issues": ("Issues", "数据问题"),
    "members_sheet": ("Members", "集团成员"),
    "entities_sheet": ("Entities", "客户"),
    "headroom": ("Headroom", "剩余额度"),
    "groups_sheet": ("Groups", "集团客户"),
    "policy_sheet": ("Policy", "监管规则"),
    "bank": ("bank", "银行"),
    "data_date": ("data date", "数据日期"),
    "policy": ("policy", "监管口径"),
    "grouping": ("grouping", "集团划分方式"),
    "currency": ("reporting currency", "报告币种"),
    "unit": ("amounts in", "金额单位"),
    "citations": ("rules and their sources", "限额规则及依据"),
    "group": ("Group", "集团客户"),
    "members": ("members", "户"),
    "of": ("of", "占"),
    "shown": ("members shown", "户已显示"),
    "more_rows": ("more rows not shown", "行未显示"),
    "more_groups": ("more flagged groups: see the tables", "个超限或预警集团客户未绘图，见上表"),
    "limit_mark": ("limit", "限额"),
    "warning_mark": ("warning level", "预警线"),
    "utilisation_axis": ("utilisation of each group's own limit (ratio / limit)",
                         "各集团客户对其适用限额的使用率（比例/限额）"),
    "by_axis": ("exposure / Tier 1", "风险暴露/一级资本净额"),
    "exposure_by": ("exposure by", "风险暴露分布："),
    "rule": ("rule", "规则"),
    "limit": ("limit", "限额"),
    "unknown": ("not given", "未提供"),
    "no_limit": ("no limit", "无限额"),
    "value": ("value", "数值"),
    "measure": ("measure", "项目"),
    "cut": ("first {shown:,} of {total:,} rows (most relevant first); every row is in the CSV "
            "files", "仅显示前{shown:,}行（共{total:,}行，按重要性排序）；完整数据见CSV文件"),
    "sheet": ("sheet", "工作表"),
}
_SUMMARY_ROWS = {
    "entities": "客户数", "facilities": "授信笔数", "groups": "集团客户数",
    "groups with 2+ members": "两户及以上集团客户数", "breaches": "超限", "warnings": "预警",
    "large exposures": "大额风险暴露", "guarantee circles": "担保圈", "HHI (points)": "HHI（点）",
    "numbers-equivalent (1/H)": "等效客户数（1/H）", "top 10 groups' share": "前十大集团客户占比",
    "Gini": "基尼系数", "Tier 1": "一级资本净额", "total capital": "资本净额",
    "reporting currency": "报告币种", "policy": "监管口径", "grouping": "集团划分方式",
    "data date": "数据日期", "bank": "银行", "amounts in": "金额单位",
}
_MEASURE_ZH = {"cn_group_credit": "授信余额"}


class Labels:
    """The words of one language, and amounts in one display unit."""

    def __init__(self, lang: str = "en", display_unit: str | None = None) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}; got {lang!r}")
        if display_unit is not None and display_unit not in UNITS:
            raise ValueError(f"display_unit must be one of {', '.join(UNITS)} (or None for the "
                             f"amounts as they are); got {display_unit!r}")
        self.lang: Literal["en", "zh"] = "zh" if lang == "zh" else "en"
        self.unit_name = display_unit
        self.unit = UNITS[display_unit] if display_unit else 1.0
        self.decimals = 2 if self.unit > 1 else 0

    @property
    def zh(self) -> bool:
        return self.lang == "zh"

    def __getitem__(self, key: str) -> str:
        en, zh = _HEADINGS[key]
        return zh if self.zh else en

    def word(self, value: object) -> str:
        """A status, base, measure, kind, severity or grouping in this language."""
        text = "" if value is None else str(value)
        return (_ZH_WORDS if self.zh else _EN_WORDS).get(text, text)

    def status(self, value: object) -> str:
        return self.word(value)

    def column(self, name: str) -> str:
        """A column's label (the English label is the column's own name)."""
        return _ZH_COLUMNS.get(name, name) if self.zh else name

    def summary_row(self, name: str) -> str:
        return _SUMMARY_ROWS.get(name, name) if self.zh else name

    def measure(self, measure: str, policy: Policy | None = None) -> str:
        if self.zh and measure == "exposure" and policy is not None:
            return _MEASURE_ZH.get(policy.name, "风险暴露")
        return self.word(measure)

    def base(self, base: object) -> str:
        return self.word(base)

    def rule_name(self, name: object, policy: Policy) -> str:
        """A rule's name; in Chinese, said from the rule's own terms."""
        if not isinstance(name, str) or not name:
            return ""
        if not self.zh:
            return name
        rule = next((r for r in policy.rules if r.name == name), None)
        return name if rule is None else self.rule_text(rule, policy)

    def rule_text(self, rule: LimitRule, policy: Policy) -> str:
        if not self.zh:
            return rule.name
        who = {"bank": "同业", "non_bank": "非同业", "any": ""}[rule.counterparty_kind]
        if rule.gsib_to_gsib:
            who = "全球系统重要性银行之间的"
        scope = "单一客户" if rule.scope == "single" else "集团客户"
        measure = self.measure(rule.measure, policy)
        return (f"{who}{scope}{measure}不超过{self.base(rule.capital_base)}的"
                f"{round(100 * rule.limit, 2):g}%")

    def amount(self, value: object) -> str:
        """An amount in the display unit, with thousands separators."""
        text = amount(value, unit=self.unit, decimals=self.decimals)
        if self.zh and text in ("unlimited", "-unlimited"):
            return "无限制"
        return text

    def unit_label(self, currency: str) -> str:
        """``CNY`` or ``万元 (CNY)``: what the amounts are in."""
        if self.unit_name is None:
            return "元 (CNY)" if self.zh and currency == "CNY" else currency
        return f"{self.unit_name} ({currency})"
