"""Thresholds and grace periods of the rules, which an administrator changes.

Each change is a ``RuleSetting`` row (who, when, why); the current value of a
setting is its newest row, or the default below while it has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jilu.oversight.finding_models import RuleSetting


@dataclass(frozen=True)
class Threshold:
    key: str
    kind: str  # "int" or "time" (HH:MM, Asia/Shanghai)
    default: str
    clause: str
    label: Promise
    minimum: int = 0
    maximum: int = 0

    def parse(self, raw: str) -> int | time:
        raw = (raw or "").strip()
        if self.kind == "time":
            try:
                return time.fromisoformat(raw)
            except ValueError:
                raise ValidationError(
                    _("%(label)s：时间格式应为 HH:MM，例如 07:00") % {"label": self.label}
                ) from None
        try:
            value = int(raw)
        except ValueError:
            raise ValidationError(_("%(label)s：请填写整数") % {"label": self.label}) from None
        if not self.minimum <= value <= self.maximum:
            raise ValidationError(
                _("%(label)s：应在 %(lo)s 到 %(hi)s 之间")
                % {"label": self.label, "lo": self.minimum, "hi": self.maximum}
            )
        return value

    def text(self, value: int | time) -> str:
        return value.strftime("%H:%M") if isinstance(value, time) else str(value)


_ALL = [
    Threshold("clock_drift_seconds", "int", "60", "C3.2",
              gettext_lazy("时钟偏差阈值（秒）：超过即为发现"), 1, 86400),
    Threshold("low_battery_pct", "int", "20", "C1.4",
              gettext_lazy("对接时电量低于（%）"), 0, 100),
    Threshold("low_storage_pct", "int", "10", "C1.4",
              gettext_lazy("对接时剩余存储低于（%）"), 0, 100),
    Threshold("check_interval_days", "int", "30", "C1.4",
              gettext_lazy("记录仪检查间隔（天）：超过未检查即为发现"), 1, 366),
    Threshold("collection_grace_minutes", "int", "0", "C5.1",
              gettext_lazy("24小时采集期限的宽限（分钟）"), 0, 1440),
    Threshold("annotation_grace_minutes", "int", "0", "C5.2",
              gettext_lazy("48小时标注期限的宽限（分钟）"), 0, 1440),
    Threshold("activity_grace_hours", "int", "48", "C2.1",
              gettext_lazy("执法活动结束多少小时后判断录制情况（留给采集和填写执勤日志）"), 1, 720),
    Threshold("gap_minimum_seconds", "int", "60", "C4.3",
              gettext_lazy("未录制时段达到多少秒才算发现"), 5, 3600),
    Threshold("duty_start", "time", "07:00", "C2.2",
              gettext_lazy("执勤时间开始（北京时间）")),
    Threshold("duty_end", "time", "22:00", "C2.2",
              gettext_lazy("执勤时间结束（北京时间）")),
    Threshold("off_duty_grace_hours", "int", "48", "C2.2",
              gettext_lazy("非执勤时间录像采集后多少小时再判断（留给标注执法活动）"), 0, 720),
    Threshold("refused_per_day", "int", "3", "C6.5.7",
              gettext_lazy("一人一天内被拒绝访问达到多少次即为发现"), 1, 1000),
    # The bureau's goals, against which reports and dashboards show each rate (C6.4).
    Threshold("goal_coverage_pct", "int", "95", "C2.1",
              gettext_lazy("目标：执法活动有声像记录的比例不低于（%）"), 0, 100),
    Threshold("goal_collection_pct", "int", "95", "C5.1",
              gettext_lazy("目标：24小时内采集的比例不低于（%）"), 0, 100),
    Threshold("goal_annotation_pct", "int", "90", "C5.2",
              gettext_lazy("目标：48小时内标注的比例不低于（%）"), 0, 100),
    Threshold("goal_drift_pct", "int", "5", "C3.2",
              gettext_lazy("目标：时钟偏差超限的对接比例不高于（%）"), 0, 100),
    Threshold("dashboard_days", "int", "30", "C6.4",
              gettext_lazy("领导工作台统计最近多少天"), 1, 366),
]  # fmt: skip

THRESHOLDS: dict[str, Threshold] = {t.key: t for t in _ALL}


def current() -> dict[str, int | time]:
    """Every setting's current value (one query)."""
    values = {t.key: t.parse(t.default) for t in _ALL}
    seen: set[str] = set()
    for row in RuleSetting.objects.filter(key__in=THRESHOLDS).order_by("key", "-changed_at", "-pk"):
        if row.key in seen:
            continue
        seen.add(row.key)
        try:
            values[row.key] = THRESHOLDS[row.key].parse(row.value)
        except ValidationError:  # a value the rules of an older version allowed: keep the default
            continue
    return values


def get(key: str) -> int | time:
    return current()[key]
