"""The rules: what each finds, the clause it cites, what its subject is.

Each rule's checks live with the source of facts they read
(``rules_recordings``, ``rules_activities``, ``rules_devices``,
``rules_evidence``); this module is the table the pages, the API and the
filters read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from jilu.oversight.spotcheck_checklist import ITEMS as SPOT_ITEMS


@dataclass(frozen=True)
class RuleInfo:
    code: str
    clauses: tuple[str, ...]
    subject: str
    label: Promise
    text: Promise

    @property
    def clause(self) -> str:
        """The clause a finding is counted under (its first)."""
        return self.clauses[0]


_RULES = [
    RuleInfo(
        "no_recorder",
        ("C1.1",),
        "officer",
        _("一线执法队员未配发记录仪"),
        _("在岗一线执法队员名下没有在用的执法记录仪。"),
    ),
    RuleInfo(
        "no_workstation",
        ("C1.2",),
        "unit",
        _("中队或独立驻点大队没有采集工作站"),
        _("每个中队和独立驻点大队至少要有一台在用的数据采集工作站。"),
    ),
    RuleInfo(
        "user_no_mismatch",
        ("C1.3",),
        "recorder",
        _("文件名中的警号与当时的持有人不符"),
        _("记录仪文件名中的警号与持有记录中当时的责任持有人不一致，或当时没有持有人。"),
    ),
    RuleInfo(
        "low_battery",
        ("C1.4",),
        "recorder",
        _("对接时电量过低"),
        _("记录仪在采集工作站对接时报告的电量低于阈值。"),
    ),
    RuleInfo(
        "low_storage",
        ("C1.4",),
        "recorder",
        _("对接时剩余存储过少"),
        _("记录仪在采集工作站对接时报告的剩余存储低于阈值。"),
    ),
    RuleInfo(
        "not_checked",
        ("C1.4",),
        "recorder",
        _("记录仪长期未检查"),
        _("在用记录仪在规定天数内没有任何电量、存储或时钟检查（含对接时的自动检查）。"),
    ),
    RuleInfo(
        "no_recording",
        ("C2.1", "C6.5.1"),
        "activity",
        _("执法活动没有声像记录"),
        _("执法活动结束后没有任何声像记录，执勤日志中也没有已确认的无法记录说明。"),
    ),
    RuleInfo(
        "off_duty_recording",
        ("C2.2", "C6.5.8"),
        "officer",
        _("非执勤时间录制且无执法活动（疑似非公务使用，待核实）"),
        _(
            "记录仪在执勤时间以外录制，且该录像没有标注到执法活动、也不在本人任何执法活动"
            "的时段内。仅为线索，须核实后认定。"
        ),
    ),
    RuleInfo(
        "clock_drift",
        ("C3.2",),
        "recorder",
        _("对接时记录仪时钟偏差超限"),
        _("对接时记录仪时钟与工作站时钟之差超过阈值：出勤前未校准时钟。"),
    ),
    RuleInfo(
        "unrecorded_time",
        ("C4.3",),
        "activity",
        _("执法活动中有未录制且未说明的时段"),
        _("执法活动时段内有录像未覆盖的时段，执勤日志中没有已确认的说明。"),
    ),
    RuleInfo(
        "late_collection",
        ("C5.1",),
        "officer",
        _("超过24小时采集"),
        _("声像记录在结束后超过24小时才导入采集工作站。"),
    ),
    RuleInfo(
        "late_annotation",
        ("C5.2",),
        "officer",
        _("超过48小时标注或仍未标注"),
        _("声像记录在采集后48小时内没有完成信息关联或标注。"),
    ),
    RuleInfo(
        "fixity_failure",
        ("C6.5.3",),
        "recording",
        _("原始文件被改动（固定性校验不一致）"),
        _("定期固定性校验发现原始文件的哈希或大小与入库时不一致。"),
    ),
    RuleInfo(
        "object_missing",
        ("C6.5.4",),
        "recording",
        _("原始文件缺失"),
        _("定期固定性校验在存储中找不到原始文件。"),
    ),
    RuleInfo(
        "recorder_damaged",
        ("C6.5.5",),
        "recorder",
        _("记录仪损坏"),
        _("记录仪登记了损坏事件。"),
    ),
    RuleInfo(
        "recorder_lost",
        ("C6.5.6",),
        "recorder",
        _("记录仪遗失"),
        _("记录仪登记了遗失事件。"),
    ),
    RuleInfo(
        "refused_access",
        ("C6.5.7",),
        "officer",
        _("一天内多次越权访问声像记录被拒绝"),
        _("同一人一天内访问超出权限范围的声像记录被拒绝的次数达到阈值。"),
    ),
    RuleInfo(
        "download_without_request",
        ("C6.5.7",),
        "officer",
        _("没有已批准的调用单而复制原始文件"),
        _("没有已批准的调用单而下载（复制）原始文件，或尝试这样做而被拒绝。"),
    ),
]

# Spot checks (C6.4): each checklist item an inspector marks as failed is a
# finding of its own rule, citing the item's clauses (``spotcheck_checklist``).
# The finding is named by the item's breach ("抽检不符合：未口述开场内容"), not
# by the checklist's passing words, and its text gives the requirement missed.
SPOT_TEXT = _("督察抽检时判定这一项不符合。要求：")
_RULES += [
    RuleInfo(
        item.rule, item.clauses, "officer", item.breach, format_lazy("{}{}", SPOT_TEXT, item.text)
    )
    for item in SPOT_ITEMS.values()
]

RULES: dict[str, RuleInfo] = {r.code: r for r in _RULES}
CODES = tuple(RULES)
# Every clause some rule cites, in the notice's order.
CLAUSES = tuple(
    sorted(
        dict.fromkeys(c for r in _RULES for c in r.clauses),
        key=lambda c: (c[0] != "C", [int(p) for p in c[1:].split(".")]),
    )
)


def rules_citing(clause: str) -> list[str]:
    return [r.code for r in _RULES if clause in r.clauses]


def label(code: str) -> str:
    info = RULES.get(code)
    return str(info.label) if info else code
