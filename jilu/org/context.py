"""Navigation by role, for the base layout."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from jilu.org.roles import Role

# (label, url name, roles that see it; empty = everyone signed in)
NAV = [
    ("工作台", "home", ()),
    ("我的记录仪", "devices:my_recorders", (Role.OFFICER,)),
    ("单位", "org:unit_list", (Role.ADMIN, Role.INSPECTOR, Role.BRIGADE_LEADER, Role.SQUAD_LEADER)),
    (
        "人员",
        "org:person_list",
        (Role.ADMIN, Role.INSPECTOR, Role.BRIGADE_LEADER, Role.SQUAD_LEADER, Role.ARCHIVIST),
    ),
    (
        "记录仪",
        "devices:recorder_list",
        (Role.ADMIN, Role.INSPECTOR, Role.BRIGADE_LEADER, Role.SQUAD_LEADER, Role.ARCHIVIST),
    ),
    ("采集工作站", "devices:workstation_list", (Role.ADMIN, Role.INSPECTOR, Role.BRIGADE_LEADER)),
    (
        "配备缺口",
        "devices:gaps",
        (Role.ADMIN, Role.INSPECTOR, Role.BRIGADE_LEADER, Role.SQUAD_LEADER),
    ),
    ("审计日志", "audit:log", (Role.ADMIN, Role.INSPECTOR)),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    path = request.path
    items = []
    for label, name, roles in NAV:
        if roles and not user.has_role(*roles):
            continue
        url = reverse(name)
        active = path == url if url == "/" else path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    return {"nav": items}
