"""Navigation by role, for the base layout.

Each entry lists the roles that may open the page, matching the check the
page's view makes, so nobody is shown a link that answers 403.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import pgettext_lazy

from jilu.org.roles import Role

# (label, url name, roles that see it; empty = everyone signed in). The labels
# carry the context "nav": as menu entries they are plural ("Recorders"), while
# the same words elsewhere label one thing ("Recorder A000102").
NAV = [
    (pgettext_lazy("nav", "工作台"), "home", ()),
    (pgettext_lazy("nav", "待标注"), "casework:queue", (Role.OFFICER,)),
    (pgettext_lazy("nav", "我的记录仪"), "devices:my_recorders", (Role.OFFICER,)),
    (pgettext_lazy("nav", "声像记录"), "evidence:recording_list", ()),
    (pgettext_lazy("nav", "执法活动"), "casework:activity_list", ()),
    (pgettext_lazy("nav", "案件"), "casework:case_list", ()),
    (pgettext_lazy("nav", "调用申请"), "access:list", ()),
    (pgettext_lazy("nav", "执勤日志"), "dutylog:list", ()),
    (
        pgettext_lazy("nav", "标注督办"),
        "casework:squad_queue",
        (Role.ADMIN, Role.INSPECTOR, Role.BRIGADE_LEADER, Role.SQUAD_LEADER),
    ),
    (
        pgettext_lazy("nav", "执勤时间轴"),
        "web:unit_day",
        (Role.ADMIN, Role.INSPECTOR, Role.BRIGADE_LEADER, Role.SQUAD_LEADER),
    ),
    (
        pgettext_lazy("nav", "单位"),
        "org:unit_list",
        (Role.ADMIN, Role.INSPECTOR, Role.BRIGADE_LEADER, Role.SQUAD_LEADER, Role.ARCHIVIST),
    ),
    (
        pgettext_lazy("nav", "人员"),
        "org:person_list",
        (Role.ADMIN, Role.INSPECTOR, Role.BRIGADE_LEADER, Role.SQUAD_LEADER, Role.ARCHIVIST),
    ),
    (
        pgettext_lazy("nav", "记录仪"),
        "devices:recorder_list",
        (Role.ADMIN, Role.INSPECTOR, Role.BRIGADE_LEADER, Role.SQUAD_LEADER, Role.ARCHIVIST),
    ),
    (
        pgettext_lazy("nav", "采集工作站"),
        "devices:workstation_list",
        (Role.ADMIN, Role.INSPECTOR, Role.BRIGADE_LEADER, Role.SQUAD_LEADER),
    ),
    (
        pgettext_lazy("nav", "配备缺口"),
        "devices:gaps",
        (Role.ADMIN, Role.INSPECTOR, Role.BRIGADE_LEADER, Role.SQUAD_LEADER),
    ),
    (
        pgettext_lazy("nav", "台账"),
        "oversight:ledgers",
        (Role.ADMIN, Role.INSPECTOR, Role.BRIGADE_LEADER, Role.SQUAD_LEADER),
    ),
    (
        pgettext_lazy("nav", "通报"),
        "oversight:report_list",
        (Role.INSPECTOR, Role.BRIGADE_LEADER, Role.SQUAD_LEADER),
    ),
    (
        pgettext_lazy("nav", "督察发现"),
        "oversight:finding_list",
        (Role.OFFICER, Role.SQUAD_LEADER, Role.BRIGADE_LEADER, Role.INSPECTOR, Role.ADMIN),
    ),
    (pgettext_lazy("nav", "抽检"), "oversight:spotcheck_list", (Role.INSPECTOR,)),
    (pgettext_lazy("nav", "数据采集"), "ingest:workstation", ()),
    (pgettext_lazy("nav", "法制审核"), "transfer:review_queue", (Role.LEGAL_REVIEWER, Role.ADMIN)),
    (
        pgettext_lazy("nav", "权责清单"),
        "casework:power_list",
        (Role.ADMIN, Role.CASE_HANDLER, Role.BRIGADE_LEADER, Role.SQUAD_LEADER),
    ),
    (
        pgettext_lazy("nav", "保存与销毁"),
        "retention:disposal_list",
        (Role.ADMIN, Role.INSPECTOR, Role.BRIGADE_LEADER, Role.SQUAD_LEADER, Role.ARCHIVIST),
    ),
    (pgettext_lazy("nav", "固定性告警"), "evidence:alarm_list", (Role.ADMIN, Role.INSPECTOR)),
    (pgettext_lazy("nav", "后台任务"), "tasks:list", (Role.ADMIN, Role.INSPECTOR)),
    (pgettext_lazy("nav", "审计日志"), "audit:log", (Role.ADMIN, Role.INSPECTOR)),
]


def nav_items(user, path: str = "") -> list[dict]:
    """The navigation entries ``user`` may open, marking the one for ``path``."""
    if user is None or not user.is_authenticated:
        return []
    items = []
    for label, name, roles in NAV:
        if roles and not user.has_role(*roles):
            continue
        url = reverse(name)
        matches = path == url if url == "/" else path.startswith(url)
        items.append({"label": label, "url": url, "name": name, "active": False, "_m": matches})
    # One entry is marked: the one whose address is the longest match (the unit
    # day at /casework/day/, not also 执法活动 at /casework/).
    best = max((i for i in items if i["_m"]), key=lambda i: len(i["url"]), default=None)
    for item in items:
        item["active"] = item is best
        del item["_m"]
    return items


def navigation(request: HttpRequest) -> dict:
    return {"nav": nav_items(getattr(request, "user", None), request.path)}
