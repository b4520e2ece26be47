"""A finding's facts in words, each with the page it links to (when the viewer
may open that page)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from jilu.org.roles import Role
from jilu.oversight.finding_models import Finding, FindingFact
from jilu.oversight.periods import local
from jilu.oversight.spotcheck_models import SpotCheck


def _time(value: str | None) -> str:
    if not value:
        return "—"
    return local(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")


def _text(fact: FindingFact, finding: Finding) -> str:
    d = fact.detail or {}
    kind = fact.kind
    if kind == "recording":
        if finding.rule == "late_collection":
            return _("结束后 %(h)s 小时才采集") % {"h": d.get("hours")}
        if finding.rule == "late_annotation":
            if d.get("state") == "late":
                return _("采集后 %(h)s 小时才标注") % {"h": d.get("hours")}
            return _("采集后超过 48 小时仍未标注")
        if finding.rule == "user_no_mismatch":
            return _("文件名警号 %(name)s，当时持有人警号 %(holder)s") % {
                "name": d.get("user_no_in_name") or "—",
                "holder": d.get("holder_user_no") or _("（无持有人）"),
            }
        if finding.rule == "off_duty_recording":
            return _("北京时间 %(t)s 开始录制，未关联执法活动") % {"t": d.get("local")}
        if finding.rule.startswith("spot_"):
            return _("抽检中检查的声像记录")
        return _("声像记录")
    if kind == "activity":
        return _("活动时段 %(start)s — %(end)s") % {
            "start": _time(d.get("start")),
            "end": _time(d.get("end")),
        }
    if kind == "gap":
        return _("%(start)s — %(end)s 未录制（%(m)s 分钟）") % {
            "start": _time(d.get("start")),
            "end": _time(d.get("end")),
            "m": round((d.get("seconds") or 0) / 60),
        }
    if kind == "docking":
        if "offset" in d:
            return _("对接时时钟偏差 %(s)s 秒") % {"s": d["offset"]}
        if "battery_pct" in d:
            return _("对接时电量 %(p)s%%") % {"p": d["battery_pct"]}
        if "free_pct" in d:
            return _("对接时剩余存储 %(p)s%%") % {"p": d["free_pct"]}
        return _("对接会话")
    if kind == "device_event":
        return d.get("note") or _("记录仪事件")
    if kind == "recorder":
        last = d.get("last_check")
        return _("最近一次检查：%(t)s") % {"t": _time(last)} if last else _("从未检查")
    if kind == "alarm":
        return d.get("problem") or _("固定性告警")
    if kind == "audit":
        if d.get("wanted") == "download":
            return _("复制原始文件（%(obj)s）") % {"obj": d.get("object", "")}
        return _("访问被拒绝（%(obj)s）") % {"obj": d.get("object", "")}
    if kind == "person":
        return _("%(day)s 仍未配发在用记录仪") % {"day": d.get("day", "")}
    if kind == "unit":
        return _("%(day)s 仍没有在用的采集工作站") % {"day": d.get("day", "")}
    if kind == "spot_item":
        text = _("抽检 #%(spot)s 第 %(n)s 项检查不符合") % {
            "spot": d.get("spot_check"),
            "n": d.get("position"),
        }
        return f"{text}：{d['note']}" if d.get("note") else text
    return fact.object_id


def _url(fact: FindingFact, finding: Finding, user: Any) -> str:
    kind, ident = fact.kind, fact.object_id
    if kind == "recording":
        return reverse("evidence:recording_detail", args=[int(ident)])
    if kind == "activity":
        return reverse("casework:activity_detail", args=[int(ident)])
    if kind == "gap":
        return reverse("casework:activity_detail", args=[int(ident.split("@")[0])])
    if kind == "docking":
        return reverse("ingest:docking", args=[int(ident)])
    if kind in ("device_event", "recorder") and finding.subject_kind == "recorder":
        return reverse("devices:recorder_detail", args=[finding.subject_label])
    if kind == "alarm" and user.has_role(Role.ADMIN, Role.INSPECTOR):
        return reverse("evidence:alarm_list")
    if kind == "audit" and user.has_role(Role.ADMIN, Role.INSPECTOR):
        return reverse("audit:log") + "?object=" + str((fact.detail or {}).get("object", ""))
    if kind in ("person", "unit") and user.has_role(
        Role.ADMIN, Role.INSPECTOR, Role.SQUAD_LEADER, Role.BRIGADE_LEADER
    ):
        return reverse("devices:gaps")
    if kind == "spot_item" and (fact.detail or {}).get("spot_check"):
        spot = fact.detail["spot_check"]
        if not SpotCheck.objects.restrict(user, "view").filter(pk=spot).exists():
            return ""  # officers read their findings, not the inspectors' spot checks
        url = reverse("oversight:spotcheck_detail", args=[spot])
        return f"{url}#item-{fact.detail.get('position', '')}"
    return ""


def described(finding: Finding, user: Any) -> list[dict[str, Any]]:
    return [
        {
            "fact": fact,
            "kind": fact.get_kind_display(),
            "text": _text(fact, finding),
            "url": _url(fact, finding, user),
        }
        for fact in finding.facts.all()
    ]
